"""The library API the shells call: counts, stage status, rejections, JSON records, reports, tokens."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storydesk.api import Storydesk, database_exists, describe_stages, parse_json
from storydesk.config import Config
from storydesk.embed import HashingEmbedder
from storydesk.errors import InputError, NotFoundError
from storydesk.ingest import MAX_ITEM_REJECTIONS

TRAM = [
    {
        "id": "lp-1",
        "outlet": "Lorven Post",
        "title": "Lorven council approves new tram line",
        "published": "2025-02-04",
        "url": "https://example.org/tram",
        "text": "The city council of Lorven approved the new Harbour tram line on Tuesday, Mayor Edda Brun said.\n\n"
        "The line will link the harbour to the university.",
    },
    {
        "id": "hl-1",
        "outlet": "Harbor Ledger",
        "title": "Tram line wins council vote in Lorven",
        "published": "2025-02-04",
        "text": "The Lorven city council approved the Harbour tram line on Tuesday after a long debate.\n\n"
        "The tram line will link the harbour with the university.",
    },
]
#: Records every JSON input must refuse, each for its own reason.
BAD = [
    "not an object",
    {"id": "e", "text": ""},
    {"id": "d", "text": "Text.", "published": "2025-02-30"},
    {"id": {"x": 1}, "text": "Text."},
    {"id": "s", "text": "broken \ud800 text"},
    {"id": "f", "text": "Text.", "published": "2999-01-01"},
    {"text": 5},
]


def test_records_are_validated_exactly_like_a_json_file(tmp_path):
    """The REST API's records and a JSON file of the same objects give the same articles and rejections."""
    records = [TRAM[0], *BAD, {**TRAM[1], "url": "javascript:alert(1)"}, {"title": "No id, title only"}]
    src = tmp_path / "in" / "api.json"
    src.parent.mkdir()
    src.write_text(json.dumps(records), encoding="utf-8")
    with Storydesk(tmp_path / "file.db") as a, Storydesk(tmp_path / "records.db") as b:
        by_file = a.ingest([src.parent])
        by_records = b.ingest_records(records)
        assert by_records.as_dict() == by_file.as_dict()
        assert by_records.added == by_file.added and len(by_records.added) == 3
        assert [(r.source, r.code) for r in by_records.rejected] == [
            ("api.json[1]", "fields"),
            ("api.json[2]", "no_text"),
            ("api.json[3]", "date"),
            ("api.json[4]", "fields"),
            ("api.json[5]", "encoding"),
            ("api.json[6]", "date"),
            ("api.json[7]", "fields"),
        ]
        assert [x.url for x in b.store.articles()] == [x.url for x in a.store.articles()]
        assert b.ingest_records(records).skipped == by_records.added  # sending them again adds nothing
        assert b.counts().rejections == len(BAD)  # nor records the same rejections twice


def test_many_bad_records_are_grouped_like_a_files_items(tmp_path):
    bad = [{"id": f"n{i}", "text": ""} for i in range(MAX_ITEM_REJECTIONS + 5)]
    with Storydesk(tmp_path / "g.db") as sd:
        rep = sd.ingest_records([TRAM[0], *bad], source="feed.json")
    assert len(rep.added) == 1 and len(rep.rejected) == MAX_ITEM_REJECTIONS + 1
    assert rep.rejected[-1].source == "feed.json" and "5 more entries rejected (no_text)" in rep.rejected[-1].reason


def test_parse_json_says_why_a_body_cannot_be_read():
    assert parse_json(b'\xef\xbb\xbf{"a": 1}') == {"a": 1}
    for raw, why in [
        (b"{nope", "not valid JSON"),
        (b"[" * 101 + b"]" * 101, "over 100 levels"),
        (b'{"n": ' + b"9" * 5000 + b"}", "4300 digits"),
        (b'"caf\xe9"', "not UTF-8"),
    ]:
        with pytest.raises(InputError, match=why):
            parse_json(raw)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("api") / "api.db"
    with Storydesk(db, embedder=HashingEmbedder(64)) as sd:
        sd.ingest_records([*TRAM, "bad"])
        sd.build()
    return db


def test_counts_status_and_change_token(built, tmp_path):
    with Storydesk(built) as sd:
        c = sd.counts()
        assert (c.articles, c.rejections) == (2, 1) and c.events >= 1 and c.storylines >= 1
        assert c.as_dict() == {"articles": 2, "events": c.events, "storylines": c.storylines, "rejections": 1}
        phases = sd.stage_status()
        assert [p.phase for p in phases] == ["article map", "corpus step", "event map", "storyline map"]
        assert all(p.finished for p in phases) and phases[0].stats["processed"] == 2
        assert [s.name for p in phases for s in p.stages] == [s.name for s in describe_stages()]
        assert "dedup" in {s.name for s in phases[1].stages}
        token = sd.change_token()
        assert sd.change_token() == token
        with Storydesk(built) as other:  # a commit on another connection
            other.ingest_records([{"id": "late", "title": "A late note on the tram vote"}])
        assert sd.change_token() != token
        assert sd.location == str(built)


def test_rejections_page_newest_or_oldest_first(tmp_path):
    with Storydesk(tmp_path / "r.db") as sd:
        sd.ingest_records([{"id": f"r{i}", "text": ""} for i in range(5)], source="r.json")
        total, newest = sd.rejections(limit=2)
        assert total == 5 and [r.source for r in newest] == ["r.json[4]", "r.json[3]"]
        assert [r.source for r in sd.rejections(limit=2, offset=4)[1]] == ["r.json[0]"]
        assert [r.source for r in sd.rejections(limit=None, oldest_first=True)[1]] == [f"r.json[{i}]" for i in range(5)]
        assert [r.source for r in sd.rejections(limit=None)[1]] == [f"r.json[{i}]" for i in reversed(range(5))]
        assert sd.rejections(limit=10, offset=9) == (5, [])


def test_story_report_and_events_of(built):
    with Storydesk(built) as sd:
        rows = sd.list_events()["items"]
        eid = rows[0]["id"]
        doc = sd.story([eid])
        assert [e["id"] for e in doc["events"]] == [eid]
        with pytest.raises(NotFoundError, match="no event with id 'ev-nope'"):
            sd.story([eid, "ev-nope"])
        with pytest.raises(NotFoundError):
            sd.html_report(["ev-nope"])
        assert "<html" in sd.html_report([eid]) and "<html" in sd.html_report()
        members = doc["events"][0]["articles"]
        assert sd.events_of([*members, "not-an-article"]) == [eid]


def test_built_with_names_the_stores_embedder(built, tmp_path):
    with Storydesk(built) as sd:
        emb, cfg = sd.built_with(Config(summary_sentences=3))
    assert isinstance(emb, HashingEmbedder) and emb.dim == 64 and cfg.summary_sentences == 3
    with Storydesk(tmp_path / "empty.db") as sd:
        assert sd.built_with() == (None, Config())
        sd.store.set_meta("embedder", "all-MiniLM-L6-v2-static-256")
        assert sd.built_with() == (None, Config(embedder="minilm-static"))


def test_database_exists(tmp_path):
    assert not database_exists(tmp_path / "none.db")
    assert not database_exists(f"sqlite:///{tmp_path / 'none.db'}")
    (tmp_path / "there.db").write_bytes(b"")
    assert database_exists(tmp_path / "there.db") and database_exists(f"sqlite:///{tmp_path / 'there.db'}")
    assert database_exists(":memory:") and database_exists("postgresql://u@h/db")
