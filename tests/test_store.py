"""The Store contract, run against both backends of :class:`storydesk.store.sql.SQLStore`.

Every test taking ``store`` or ``db_url`` runs on SQLite and on PostgreSQL (a
throwaway embedded server, see conftest.py; skipped without the [postgres]
extra). SQLite specifics and the upgrade of a version-1 SQLite file are at the
end; PostgreSQL specifics are in test_store_postgres.py.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import pg_admin
from storydesk.errors import NotFoundError, SchemaVersionError, StoreBusyError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine
from storydesk.store import SQLStore, Store, open_store
from storydesk.store.base import ArtifactRow, Stamp, digest_of
from storydesk.store.sql import SCHEMA_VERSION


# --------------------------------------------------------------------------- helpers
@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """An open, empty store of each backend."""
    s = open_store(db_url)
    yield s
    s.close()


def art(i: int, day: int | None, text: str | None = None, title: str | None = None) -> Article:
    """A small fictional article."""
    return Article(
        id=f"{i:016x}",
        source=f"a{i}.txt",
        text=text or f"Body {i}. Second sentence {i}.",
        title=title or f"T{i}",
        outlet="Lorven Post" if i % 2 else None,
        published=dt.date(2025, 1, day) if day else None,
        published_source="header" if day else "unknown",
        url=f"https://lorven.example/{i}" if i % 2 else None,
        dateline="LORVEN" if i % 3 == 0 else None,
        subheadings=("Cross-head",) if i == 1 else (),
        stripped=(StrippedLine("(With inputs from X)", "relay_credit", 3),),
        format="text",
        raw_sha256="ab" * 32,
    )


def sents(a: Article) -> list[Sentence]:
    """Sentences split at ". " (each one a slice of the text)."""
    out, start = [], 0
    while start < len(a.text):
        end = a.text.find(". ", start)
        end = len(a.text) if end < 0 else end + 1
        out.append(Sentence(a.id, len(out), a.text[start:end], start, end, len(out) // 2))
        start = end + 1
    return out


def add(store: Store, *articles: Article) -> None:
    for a in articles:
        store.add_article(a, sents(a))


def row(key: str, version: str = "1", data: bytes = b"x") -> ArtifactRow:
    return ArtifactRow(key, version, f"fp-{key}", digest_of(data), data)


#: Keys whose byte order differs from a natural-language collation.
KEYS = ["b", "B", "a-c", "ab", "_x", "Z", "é", "e", "a b", "ä", "北京", "~"]


# --------------------------------------------------------------------------- articles
def test_articles_roundtrip_and_publication_order(store: Store):
    for i, day in [(1, 5), (2, None), (3, 2), (4, 5), (5, None), (6, 2)]:
        assert store.add_article(art(i, day), sents(art(i, day))) == "added"
    # Dated by day, ties in ingest order, undated last in ingest order.
    order = [art(i, None).id for i in (3, 6, 1, 4, 2, 5)]
    assert [a.id for a in store.articles()] == order
    assert store.article_ids() == order
    assert store.article_count() == 6
    some = [art(5, None).id, art(4, 5).id, "missing", art(3, 2).id, art(4, 5).id]
    assert [a.id for a in store.articles(some)] == [art(3, 2).id, art(4, 5).id, art(5, None).id]
    assert store.in_publication_order(some) == [art(3, 2).id, art(4, 5).id, art(5, None).id]
    assert store.articles([]) == [] and store.in_publication_order([]) == []
    for i, day in [(1, 5), (2, None), (3, 2)]:
        assert store.get_article(art(i, day).id) == art(i, day)
    assert store.has_article(art(2, None).id) and not store.has_article("nope")
    with pytest.raises(NotFoundError, match="nope"):
        store.get_article("nope")
    assert not issubclass(NotFoundError, KeyError)
    a1 = art(1, 5)
    assert store.sentences(a1.id) == sents(a1) and len(sents(a1)) == 2
    assert store.sentences("nope") == []
    got = store.sentences_of([a1.id, "nope", art(2, None).id])
    assert got == {a1.id: sents(a1), art(2, None).id: sents(art(2, None))}
    assert store.sentences_of([]) == {}


def test_article_without_sentences_and_unicode(store: Store):
    a = Article(id="u1", source="ü/ñ.txt", text="Zürich — «Ünïcødé» 北京 🚢 said. Ok.", title="Čau „x“", outlet="Ærø")
    assert store.add_article(a, sents(a)) == "added"
    assert store.get_article("u1") == a
    assert [s.text for s in store.sentences("u1")] == ["Zürich — «Ünïcødé» 北京 🚢 said.", "Ok."]
    b = Article(id="u2", source="b.txt", text="", title="Only a title")
    assert store.add_article(b, []) == "added"
    assert store.sentences_of(["u2"]) == {"u2": []}


def test_sentences_must_be_slices_of_the_text(store: Store):
    a = art(1, 2)
    with pytest.raises(StoreError, match="not the slice"):
        store.add_article(a, [Sentence(a.id, 0, "Something else.", 0, 15, 0)])
    with pytest.raises(StoreError, match="not the slice"):
        store.add_article(a, [Sentence("other", 0, a.text[:7], 0, 7, 0)])
    assert store.article_count() == 0


def test_add_update_unchanged(store: Store):
    store.article_artifacts = frozenset({"mentions", "lead_vector"})
    a, b = art(1, 5), art(2, 3)
    assert store.add_article(a, sents(a)) == "added"
    assert store.add_article(b, sents(b)) == "added"
    assert store.pending("article") == [a.id, b.id]
    store.dequeue("article", [a.id, b.id])
    store.put_rows("mentions", [row(a.id), row(b.id)])
    store.put_rows("lead_vector", [row(a.id)])
    store.put_rows("event_summary", [row(a.id)])  # same key, but not article-scope
    token = store.change_token()
    # Same id and content: nothing changes, nothing is queued, the token stays.
    assert store.add_article(a, sents(a)) == "unchanged"
    assert store.pending("article") == [] and store.change_token() == token
    # An edit: row and sentences replaced, article-scope rows of this article deleted, queued.
    edited = Article(**{**art(1, 5).__dict__, "text": "Zeppelin landed. Crowd cheered.", "title": "New"})
    assert store.add_article(edited, sents(edited)) == "updated"
    assert store.get_article(a.id) == edited
    assert store.sentences(a.id) == sents(edited)
    assert store.pending("article") == [a.id]
    assert store.get_rows("mentions", [a.id, b.id]).keys() == {b.id}
    assert store.get_rows("lead_vector", [a.id]) == {}
    assert store.get_rows("event_summary", [a.id]).keys() == {a.id}
    assert store.change_token() != token
    # The ingest order is kept (b was ingested second, so a still comes first on a tie).
    store.add_article(Article(**{**b.__dict__, "published": a.published}), sents(b))
    assert store.article_ids() == [a.id, b.id]
    # The search index follows the edit.
    assert store.search_articles("zeppelin") == [a.id] and store.search_articles("new") == [a.id]
    assert store.search_articles("T1") == [] and store.search_articles("body 1") == []
    # Metadata alone is an edit too.
    assert store.add_article(Article(**{**edited.__dict__, "outlet": "Other"}), sents(edited)) == "updated"
    assert store.article_count() == 2


def test_nul_characters_are_refused_by_field(store: Store):
    bad = Article(id="n1", source="nul.jsonl", text="before\x00after")
    with pytest.raises(StoreError, match=r"article 'n1' \(nul.jsonl\) field 'text' contains a NUL"):
        store.add_article(bad, [])
    with pytest.raises(StoreError, match="field 'title'"):
        store.add_article(Article(id="n2", source="x", text="ok", title="a\x00b"), [])
    assert store.article_count() == 0
    with pytest.raises(StoreError, match="NUL"):
        store.set_meta("k", "v\x00")
    # Rejection messages are stored without the NUL (it carries no meaning there).
    assert store.add_rejection(Rejection("x\x00.bin", "binary", "binary\x00 file"))
    assert store.rejections()[0] == Rejection("x.bin", "binary", "binary file", store.rejections()[0].at)


# --------------------------------------------------------------------------- rejections
def test_rejections_idempotent_and_paged(store: Store):
    assert store.add_rejection(Rejection("b.bin", "binary", "binary file"))
    assert store.add_rejection(Rejection("e.txt", "empty", "no text", at="2025-01-01T00:00:00+00:00"))
    token = store.change_token()
    assert not store.add_rejection(Rejection("b.bin", "binary", "other words"))  # same (source, code)
    assert store.change_token() == token
    assert store.add_rejection(Rejection("b.bin", "too_large", "too large"))  # another code
    for n in range(7):
        store.add_rejection(Rejection(f"r{n}.txt", "json", f"bad {n}"))
    assert store.rejection_count() == 10
    got = store.rejections()
    assert [(r.source, r.code, r.reason) for r in got[:3]] == [
        ("b.bin", "binary", "binary file"),
        ("e.txt", "empty", "no text"),
        ("b.bin", "too_large", "too large"),
    ]
    assert got[0].at and got[1].at == "2025-01-01T00:00:00+00:00"
    assert store.rejections(limit=4) == got[:4]
    assert store.rejections(limit=4, offset=4) == got[4:8]
    assert store.rejections(limit=4, offset=8) == got[8:]
    assert store.rejections(offset=9) == got[9:]
    assert store.rejections(limit=0) == []


# --------------------------------------------------------------------------- artifacts
def test_artifact_rows_stamps_and_keys_not_at(store: Store):
    store.put_rows("kind", [row(k, "1", k.encode()) for k in KEYS])
    store.put_rows("other", [row("b", "9", b"\x00\xff binary")])
    store.put_rows("kind", [row("b", "2", b"new"), row("ab", "0", b"old")])  # replace
    got = store.get_rows("kind", ["b", "nope", "Z"])
    assert got == {"b": row("b", "2", b"new"), "Z": row("Z", "1", b"Z")}
    assert isinstance(got["b"].data, bytes) and got["b"].stamp == Stamp("2", "fp-b", digest_of(b"new"))
    assert store.get_rows("other", ["b"])["b"].data == b"\x00\xff binary"
    assert store.get_rows("kind", []) == {} and store.get_rows("nokind", ["b"]) == {}
    byte_order = sorted(KEYS, key=lambda k: k.encode())
    assert [r.key for r in store.iter_rows("kind")] == byte_order
    assert [r.key for r in store.iter_rows("kind", batch=5)] == byte_order
    assert [r.key for r in store.iter_rows("kind", batch=len(KEYS))] == byte_order
    assert list(store.iter_rows("nokind")) == []
    stamps = store.stamps("kind")
    assert list(stamps) == byte_order and stamps["ab"] == Stamp("0", "fp-ab", digest_of(b"old"))
    assert store.stamps("kind", ["b", "nope"]) == {"b": Stamp("2", "fp-b", digest_of(b"new"))}
    assert store.keys_not_at("kind", "1") == ["ab", "b"]
    assert store.keys_not_at("kind", "2") == [k for k in byte_order if k != "b"]
    assert store.keys_not_at("other", "9") == [] and store.keys_not_at("nokind", "1") == []
    assert store.artifact_sizes() == {
        "kind": (len(KEYS), sum(len(k.encode()) for k in KEYS if k not in ("b", "ab")) + 6),
        "other": (1, 9),
    }
    store.delete_rows("kind", ["ab", "Z", "nope"])
    assert set(store.stamps("kind")) == set(KEYS) - {"ab", "Z"}
    store.delete_rows("kind")
    assert store.stamps("kind") == {} and store.get_rows("other", ["b"])
    store.put_rows("kind", [])
    store.put_rows("dup", [row("k", "1"), row("k", "2")])  # a key twice: the last row wins
    assert store.stamps("dup")["k"].version == "2"


def test_rows_of_several_artifacts_in_one_read(store: Store):
    store.put_rows("kind", [row(k, "1", k.encode()) for k in KEYS])
    store.put_rows("other", [row("b", "9", b"other b"), row("zz", "9", b"only here")])
    got = store.get_rows_of(["kind", "other", "nokind"], ["b", "zz", "nope"])
    assert got == {"kind": store.get_rows("kind", ["b"]), "other": store.get_rows("other", ["b", "zz"]), "nokind": {}}
    assert store.get_rows_of([], ["b"]) == {} and store.get_rows_of(["kind"], []) == {"kind": {}}


def test_many_keys_are_chunked(store: Store):
    keys = [f"k{n:05d}" for n in range(6000)]  # more than one IN list on either backend
    store.put_rows("big", [row(k, "1" if n % 3 else "2") for n, k in enumerate(keys)])
    assert len(store.get_rows("big", [*keys, "missing"])) == 6000
    assert len(store.stamps("big", keys)) == 6000
    assert len(store.keys_not_at("big", "1")) == 2000
    assert [r.key for r in store.iter_rows("big", batch=1000)] == keys
    store.enqueue("event", keys)
    assert store.pending("event", limit=3) == keys[:3] and store.pending_count("event") == 6000
    store.dequeue("event", keys[:5500])
    assert store.pending("event") == keys[5500:]
    store.delete_rows("big", keys[:5999])
    assert list(store.stamps("big")) == [keys[-1]]


@dataclass(frozen=True)
class JsonCodec:
    name: str = "json"

    def encode(self, value: Any) -> bytes:
        return json.dumps(value, sort_keys=True).encode()

    def decode(self, data: bytes) -> Any:
        return json.loads(data)


@dataclass(frozen=True)
class FakeArtifact:
    name: str
    codec: JsonCodec = JsonCodec()


def test_typed_put_and_get(store: Store):
    art_ = FakeArtifact("claims")
    digests = store.put(art_, {"e1": ({"text": "北京", "n": [1.5, None]}, "v1", "fp1"), "e2": ([], "v1", "fp2")})
    assert digests["e1"] == digest_of(JsonCodec().encode({"text": "北京", "n": [1.5, None]}))
    assert store.get(art_, ["e1", "e2", "e3"]) == {"e1": {"text": "北京", "n": [1.5, None]}, "e2": []}
    assert store.get_one(art_, "e1") == {"text": "北京", "n": [1.5, None]} and store.get_one(art_, "x") is None
    assert store.stamps("claims")["e2"] == Stamp("v1", "fp2", digests["e2"])


# --------------------------------------------------------------------------- queue
def test_work_queue(store: Store):
    store.enqueue("article", ["c", "a", "b", "a"])
    store.enqueue("article", ["a", "d"])  # idempotent: a keeps its place
    store.enqueue("event", ["e1"])
    assert store.pending("article") == ["c", "a", "b", "d"]
    assert store.pending("article", limit=2) == ["c", "a"]
    assert store.pending_count("article") == 4 and store.pending_count("event") == 1
    store.dequeue("article", ["a", "nope"])
    assert store.pending("article") == ["c", "b", "d"]
    store.enqueue("article", ["a"])  # queued again: now last
    assert store.pending("article") == ["c", "b", "d", "a"]
    store.dequeue("article", [])
    assert store.pending("event") == ["e1"] and store.pending("storyline") == []


# --------------------------------------------------------------------------- events and storylines
def test_events_membership_and_order(store: Store):
    arts = [art(i, d) for i, d in [(1, 9), (2, 3), (3, 6), (4, None), (5, 1)]]
    add(store, *arts)
    ids = [a.id for a in arts]
    store.put_events(
        [
            Event("ev-a", (ids[1], ids[2]), "A", "sl-1", dt.date(2025, 1, 3), dt.date(2025, 1, 6)),
            Event("ev-b", (ids[0],), "B", None, None, None),
            Event("ev-c", (ids[3],), "C", "sl-1", dt.date(2025, 2, 1), None),
            Event("ev-empty", (), "E"),
        ]
    )
    # Oldest first: by the ingest order of the first article (none: 0), then id.
    assert [e.id for e in store.events()] == ["ev-empty", "ev-b", "ev-a", "ev-c"]
    assert store.event_count() == 4
    assert store.get_event("ev-a") == Event(
        "ev-a", (ids[1], ids[2]), "A", "sl-1", dt.date(2025, 1, 3), dt.date(2025, 1, 6)
    )
    assert store.get_event("ev-empty").articles == ()
    with pytest.raises(NotFoundError):
        store.get_event("nope")
    assert [e.id for e in store.events(["ev-c", "nope", "ev-b"])] == ["ev-b", "ev-c"]
    assert store.events([]) == []
    # Replacing an event rewrites its membership; an article moves between events,
    # and the event that lost its first article sorts by the next one.
    store.put_events([Event("ev-c", (ids[3], ids[1]), "C2", None, None, None)])
    assert store.get_event("ev-c") == Event("ev-c", (ids[3], ids[1]), "C2")
    assert store.get_event("ev-a").articles == (ids[2],)
    assert [e.id for e in store.events()] == ["ev-empty", "ev-b", "ev-c", "ev-a"]
    assert store.events_of([ids[1], ids[0], "nope"]) == {ids[1]: "ev-c", ids[0]: "ev-b"}
    assert store.events_of([]) == {}
    # An article listed by two events of one call ends in the last one.
    store.put_events([Event("ev-x", (ids[4],), "X"), Event("ev-y", (ids[4], ids[0]), "Y")])
    assert store.events_of([ids[4], ids[0]]) == {ids[4]: "ev-y", ids[0]: "ev-y"}
    assert store.get_event("ev-x").articles == () and store.get_event("ev-b").articles == ()
    store.delete_events(["ev-b", "ev-empty", "ev-x", "nope"])
    assert [e.id for e in store.events()] == ["ev-y", "ev-c", "ev-a"]  # ev-y holds the first-ingested article
    assert store.events_of([ids[0]]) == {ids[0]: "ev-y"}
    store.delete_events(["ev-y"])
    assert store.events_of([ids[0], ids[4]]) == {}  # membership went with the event


def test_events_tie_on_first_article_sort_bytewise(store: Store):
    add(store, art(1, 1))
    store.put_events([Event(k, (), k) for k in KEYS])
    assert [e.id for e in store.events()] == sorted(KEYS, key=lambda k: k.encode())
    assert [r["id"] for r in store.event_overview()] == sorted(KEYS, key=lambda k: k.encode())


def test_event_overview(store: Store):
    arts = [art(1, 9), art(2, 3), art(3, None), art(4, 7)]
    add(store, *arts)
    store.put_events(
        [
            Event("ev-a", (arts[0].id, arts[1].id, arts[2].id), "A", "sl", dt.date(2025, 1, 3), dt.date(2025, 1, 9)),
            Event("ev-b", (arts[3].id,), "B"),
            Event("ev-c", (), "C"),
        ]
    )
    assert store.event_overview() == [
        {
            "id": "ev-c", "title": "C", "storyline": None, "start": None, "end": None, "articles": 0,
            "outlets": [], "first_published": None, "last_published": None, "seq": 0,
        },
        {
            "id": "ev-a", "title": "A", "storyline": "sl", "start": "2025-01-03", "end": "2025-01-09",
            "articles": 3, "outlets": ["Lorven Post"], "first_published": "2025-01-03",
            "last_published": "2025-01-09", "seq": 1,
        },
        {
            "id": "ev-b", "title": "B", "storyline": None, "start": None, "end": None, "articles": 1,
            "outlets": [], "first_published": "2025-01-07", "last_published": "2025-01-07", "seq": 4,
        },
    ]  # fmt: skip
    # some events: the same rows, oldest first, unknown ids skipped
    assert store.event_overview(["ev-b", "ev-nope", "ev-c"]) == [r for r in store.event_overview() if r["id"] != "ev-a"]
    assert store.event_overview([]) == []


def test_storylines(store: Store):
    arts = [art(i, i) for i in range(1, 5)]
    add(store, *arts)
    store.put_events([Event(f"ev-{i}", (arts[4 - i].id,), f"E{i}") for i in range(1, 5)])  # ev-4 oldest
    store.put_storylines([Storyline("sl-2", ("ev-1", "ev-3"), "Two"), Storyline("sl-1", ("ev-2",), "One")])
    # Id order (byte-wise), events oldest first whatever order they were listed in.
    assert store.storylines() == [Storyline("sl-1", ("ev-2",), "One"), Storyline("sl-2", ("ev-3", "ev-1"), "Two")]
    assert store.get_event("ev-3").storyline == "sl-2" and store.get_event("ev-4").storyline is None
    assert store.get_storyline("sl-2") == Storyline("sl-2", ("ev-3", "ev-1"), "Two")
    with pytest.raises(NotFoundError):
        store.get_storyline("nope")
    assert store.storylines(["sl-2", "nope"]) == [Storyline("sl-2", ("ev-3", "ev-1"), "Two")]
    assert store.storylines([]) == [] and store.storyline_count() == 2
    # Replacing a storyline relinks exactly its listed events; an event moves between storylines.
    store.put_storylines([Storyline("sl-2", ("ev-4", "ev-2"), "Two again")])
    assert store.storylines() == [
        Storyline("sl-1", (), "One"),
        Storyline("sl-2", ("ev-4", "ev-2"), "Two again"),
    ]
    assert store.get_event("ev-1").storyline is None
    # put_events writes the link too.
    store.put_events([Event("ev-1", (arts[3].id,), "E1", "sl-1")])
    assert store.get_storyline("sl-1").events == ("ev-1",)
    store.delete_storylines(["sl-2", "nope"])
    assert [s.id for s in store.storylines()] == ["sl-1"] and store.storyline_count() == 1
    assert store.get_event("ev-4").storyline is None
    store.put_storylines([Storyline(k, (), k) for k in KEYS])
    assert [s.id for s in store.storylines()] == sorted([*KEYS, "sl-1"], key=lambda k: k.encode())


# --------------------------------------------------------------------------- bookkeeping
def test_stage_runs_and_meta(store: Store):
    assert store.stage_runs() == {} and store.get_meta("embedder") is None
    store.record_stage_run("dedup", "1", {"articles": 3, "seconds": 0.5})
    store.record_stage_run("dedup", "2", {"articles": 1})
    store.record_stage_run("embed", "1", {})
    runs = store.stage_runs()
    assert sorted(runs) == ["dedup", "embed"]
    assert runs["dedup"]["version"] == "2" and runs["dedup"]["stats"] == {"articles": 1}
    assert dt.datetime.fromisoformat(runs["dedup"]["finished"]).tzinfo is not None
    store.set_meta("embedder", "hashing-256")
    store.set_meta("embedder", "minilm")
    assert store.get_meta("embedder") == "minilm"
    assert store.size_bytes() > 0


# --------------------------------------------------------------------------- search
def test_full_text_search(store: Store):
    texts = {
        1: ("Tram vote", "The council approved the tram line. The tram will run to the harbour, tram staff said."),
        2: ("Harbour", "Bodies of two divers were recovered near the harbour on Sunday, officials said."),
        3: ("Budget", "The council passed the budget; the tram line was not mentioned at all in it."),
        4: ("Ferries", "Ferries stayed idle at the harbour."),
    }
    for i, (title, text) in texts.items():
        add(store, art(i, i, text, title))
    ids = {i: art(i, i).id for i in texts}
    assert store.search_articles("tram")[0] == ids[1]  # three mentions rank above one
    assert set(store.search_articles("tram")) == {ids[1], ids[3]}
    assert store.search_articles("body") == [ids[2]]  # stemmed: bodies ~ body
    assert store.search_articles("recovering") == [ids[2]]
    assert store.search_articles("council harbour") == [ids[1]]  # every word must match
    assert store.search_articles('"ferries" idle') == [ids[4]]  # quotes are ignored
    assert store.search_articles("ferries OR tram") == []  # operators are words like any other
    assert store.search_articles("budget") == [ids[3]]  # title words count
    assert set(store.search_articles("the")) == set(ids.values())  # no stop words dropped
    assert len(store.search_articles("harbour", limit=2)) == 2
    assert len(store.search_articles("harbour", limit=-1)) == 3
    assert store.search_articles("harbour", limit=0) == []
    assert store.search_articles("zeppelin") == []
    assert store.search_articles("") == [] and store.search_articles('  "" ') == []
    assert store.search_articles("tram *") == store.search_articles("tram")


# --------------------------------------------------------------------------- transactions and writers
def test_transactions_commit_together_or_not_at_all(store: Store, db_url: str):
    with pytest.raises(RuntimeError), store.transaction():
        store.put_rows("k", [row("x")])
        with store.transaction():
            store.set_meta("m", "1")
        raise RuntimeError("boom")
    assert store.get_rows("k", ["x"]) == {} and store.get_meta("m") is None
    # Inner blocks join the outer one: an inner error that the caller handles
    # neither rolls back the inner writes nor ends the transaction.
    other = open_store(db_url)
    try:
        token = other.change_token()
        with store.transaction():
            store.put_rows("k", [row("a")])
            with pytest.raises(ValueError), store.transaction():
                store.put_rows("k", [row("b")])
                raise ValueError("handled")
            store.put_rows("k", [row("c")])
            assert other.stamps("k") == {}  # nothing is visible before the outermost commit
            assert other.change_token() == token
        assert sorted(store.stamps("k")) == ["a", "b", "c"]
        assert sorted(other.stamps("k")) == ["a", "b", "c"]
    finally:
        other.close()


def test_one_writer_at_a_time(db_url: str):
    first, second, reader = open_store(db_url), open_store(db_url), open_store(db_url)
    done = threading.Event()
    errors: list[BaseException] = []

    def write_meta() -> None:
        try:
            second.set_meta("who", "second")
        except BaseException as e:
            errors.append(e)
        done.set()

    try:
        with first.transaction():
            first.set_meta("who", "first")
            t = threading.Thread(target=write_meta)
            t.start()
            assert not done.wait(0.5)  # the second writer queues behind the open transaction
            assert reader.get_meta("who") is None  # readers are not blocked
        t.join(10)
        assert done.is_set() and not errors
        assert first.get_meta("who") == "second"
    finally:
        first.close()
        second.close()
        reader.close()


def test_busy_timeout_raises_store_busy_error(db_url: str):
    first = open_store(db_url)
    second = open_store(db_url, busy_timeout=0.4)
    try:
        with first.transaction():
            first.set_meta("k", "1")
            started = time.monotonic()
            with pytest.raises(StoreBusyError, match=r"is busy: another storydesk process .* try again") as e:
                second.set_meta("k", "2")
            waited = time.monotonic() - started
            assert 0.3 < waited < 5, waited
            assert str(second.url) in str(e.value)
        second.set_meta("k", "3")  # the lock is free again and the second store still works
        assert first.get_meta("k") == "3"
        second.busy_timeout = 0.2  # settable
        with first.transaction(), pytest.raises(StoreBusyError):
            second.put_rows("a", [row("x")])
    finally:
        first.close()
        second.close()


def test_change_token_sees_commits_by_others(db_url: str):
    reader, writer = open_store(db_url), open_store(db_url)
    try:
        token = reader.change_token()
        assert reader.change_token() == token  # stable while nothing is written
        writer.set_meta("k", "v")
        after = reader.change_token()
        assert after != token
        add(writer, art(1, 2))
        assert reader.change_token() not in (token, after)
        # A write transaction that changed nothing is not a change.
        quiet = reader.change_token()
        writer.delete_rows("nothing", ["x"])
        with writer.transaction():
            pass
        assert reader.change_token() == quiet
        # A rolled-back one neither.
        with pytest.raises(RuntimeError), writer.transaction():
            writer.set_meta("k", "w")
            raise RuntimeError
        assert reader.change_token() == quiet
    finally:
        reader.close()
        writer.close()


def test_reopen_and_readonly(db_url: str):
    a = art(1, 2)
    with open_store(db_url) as s:
        add(s, a)
        s.put_rows("k", [row("x")])
    with open_store(db_url) as s:  # a second open migrates nothing and keeps everything
        assert s.get_article(a.id) == a and s.get_rows("k", ["x"]) == {"x": row("x")}
    with open_store(db_url, readonly=True) as ro:
        assert ro.readonly
        assert ro.articles() == [a] and ro.search_articles("body") == [a.id]
        assert ro.sentences_of([a.id]) == {a.id: sents(a)} and ro.change_token()
        with pytest.raises(StoreError, match="read-only"):
            ro.set_meta("x", "y")
        with pytest.raises(StoreError, match="read-only"):
            ro.add_article(art(2, 3), [])
        with pytest.raises(StoreError, match="read-only"), ro.transaction():
            pass
        assert ro.article_count() == 1


def test_refuses_newer_schema(db_url: str):
    open_store(db_url).close()
    newer = SCHEMA_VERSION + 1
    if db_url.startswith("sqlite:///"):
        con = sqlite3.connect(db_url[len("sqlite:///") :])
        con.execute("UPDATE storydesk_schema SET version = ?", (newer,))
        con.commit()
        con.close()
    else:
        with pg_admin(db_url) as con:
            con.execute("UPDATE storydesk_schema SET version = %s", (newer,))
    with pytest.raises(SchemaVersionError, match=f"schema version {newer}.*Upgrade storydesk"):
        open_store(db_url)
    with pytest.raises(SchemaVersionError):
        open_store(db_url, readonly=True)


def test_store_is_usable_from_threads_one_at_a_time(store: Store):
    errors: list[BaseException] = []

    def work(n: int) -> None:
        try:
            for k in range(20):
                store.put_rows("t", [row(f"{n}-{k}")])
                store.stamps("t")
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(store.stamps("t")) == 80


# --------------------------------------------------------------------------- SQLite specifics
def test_sqlite_file_setup(tmp_path: Path):
    path = tmp_path / "sub" / "s.db"
    with open_store(path) as s:  # a plain path; the folder is created
        assert isinstance(s, SQLStore) and s.url == str(path)
        add(s, art(1, 2))
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    # External-content FTS: the text is stored once (no fts content table).
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master")}
    assert "articles_fts" in names and "articles_fts_content" not in names
    assert con.execute("SELECT count(*) FROM articles_fts WHERE articles_fts MATCH 'body'").fetchone()[0] == 1
    con.close()
    open_store(f"sqlite:///{tmp_path / 'u.db'}").close()
    assert (tmp_path / "u.db").exists()
    with open_store("sqlite:///:memory:") as mem:
        add(mem, art(1, 2))
        assert mem.search_articles("body") == [art(1, 2).id] and mem.size_bytes() > 0


def test_sqlite_refuses_foreign_files(tmp_path: Path):
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.close()
    with pytest.raises(StoreError, match="not a storydesk database"):
        open_store(other)
    ours_unversioned = tmp_path / "unversioned.db"
    con = sqlite3.connect(ours_unversioned)
    con.execute("CREATE TABLE articles (id TEXT)")
    con.close()
    with pytest.raises(StoreError, match="not a storydesk database"):
        open_store(ours_unversioned)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError, match="not a storydesk database"):
        open_store(junk)
    with pytest.raises(StoreError, match="cannot open"):
        open_store(tmp_path / "missing.db", readonly=True)
    # An older storydesk keeps its version in user_version: a newer one there is refused too.
    newer = tmp_path / "newer.db"
    open_store(newer).close()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    con.close()
    with pytest.raises(SchemaVersionError):
        open_store(newer)


def test_sqlite_busy_error_names_the_file_and_is_not_a_driver_error(tmp_path: Path):
    path = tmp_path / "busy.db"
    open_store(path).close()
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another process holding the writer lock
    try:
        with open_store(path, busy_timeout=0.2) as s:
            with pytest.raises(StoreBusyError, match=f"{path} is busy: another storydesk process") as e:
                s.set_meta("k", "v")
            assert not isinstance(e.value, sqlite3.Error)
            assert s.get_meta("k") is None  # reading still works
    finally:
        holder.execute("ROLLBACK")
        holder.close()


# --------------------------------------------------------------------------- upgrading a version-1 database
# What storydesk's hand-written backends (store/sqlite.py, store/postgres.py, schema
# version 1) created, with a little of everything in it. The articles hold text,
# metadata and ingest order; the sentences still carry their text.
V1_SQLITE_DDL = """
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, source TEXT NOT NULL, format TEXT NOT NULL, outlet TEXT, title TEXT,
    published TEXT, published_source TEXT NOT NULL, url TEXT, dateline TEXT, text TEXT NOT NULL,
    raw_sha256 TEXT NOT NULL, extra TEXT NOT NULL, clean_version TEXT NOT NULL, ingested_at TEXT NOT NULL
);
CREATE INDEX articles_order ON articles (published IS NULL, published, seq);
CREATE TABLE sentences (
    article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, paragraph INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);
CREATE TABLE rejections (
    id INTEGER PRIMARY KEY AUTOINCREMENT, source TEXT NOT NULL, code TEXT NOT NULL, reason TEXT NOT NULL,
    at TEXT NOT NULL
);
CREATE TABLE records (
    kind TEXT NOT NULL, key TEXT NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);
CREATE TABLE vectors (
    kind TEXT NOT NULL, model TEXT NOT NULL, key TEXT NOT NULL, dim INTEGER NOT NULL, data BLOB NOT NULL,
    PRIMARY KEY (kind, model, key)
);
CREATE TABLE events (
    id TEXT PRIMARY KEY, title TEXT NOT NULL, storyline TEXT, start TEXT, "end" TEXT, version TEXT NOT NULL,
    first_seq INTEGER NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE event_articles (
    article_id TEXT PRIMARY KEY, event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE, pos INTEGER NOT NULL
);
CREATE INDEX event_articles_event ON event_articles (event_id, pos);
CREATE TABLE storylines (id TEXT PRIMARY KEY, title TEXT NOT NULL, events TEXT NOT NULL, version TEXT NOT NULL);
CREATE TABLE stage_runs (stage TEXT PRIMARY KEY, version TEXT NOT NULL, finished TEXT NOT NULL, stats TEXT NOT NULL);
CREATE VIRTUAL TABLE articles_fts USING fts5(article_id UNINDEXED, title, text, tokenize='porter unicode61');
"""

# Ingest order differs from id order and from publication order on purpose.
V1_ARTICLES = [
    # id, seq, title, published, text, outlet, extra
    ("00b", 1, "Tram vote", "2025-01-05", "The council approved the tram.\n\nBodies of divers found.", "Lorven Post",
     {"subheadings": ["Cross-head"], "stripped": [{"text": "(With inputs)", "kind": "relay_credit", "paragraph": 1}]}),
    ("00a", 2, None, None, "Ferries idle at the harbour. Zürich 北京.", None, {"subheadings": [], "stripped": []}),
    ("00c", 3, "Budget", "2025-01-02", "The budget passed.", "Harbor Ledger", {"subheadings": [], "stripped": []}),
]  # fmt: skip


def v1_rows() -> list[tuple[str, tuple[Any, ...]]]:
    """INSERT statements (``?`` placeholders) with their values, filling every version-1 table."""
    out: list[tuple[str, tuple[Any, ...]]] = []
    for aid, seq, title, published, text, outlet, extra in V1_ARTICLES:
        out.append(
            (
                "INSERT INTO articles (id, seq, source, format, outlet, title, published, published_source, url,"
                " dateline, text, raw_sha256, extra, clean_version, ingested_at)"
                " VALUES (?, ?, ?, 'text', ?, ?, ?, ?, NULL, NULL, ?, 'ab', ?, 'c1', '2025-02-01T00:00:00+00:00')",
                (aid, seq, f"{aid}.txt", outlet, title, published, "header" if published else "unknown", text,
                 json.dumps(extra)),
            )
        )  # fmt: skip
        for idx, m in enumerate(re.finditer(r"\S[^.]*\.", text)):
            out.append(
                (
                    'INSERT INTO sentences (article_id, idx, start, "end", paragraph, text) VALUES (?, ?, ?, ?, 0, ?)',
                    (aid, idx, m.start(), m.end(), m.group()),
                )
            )
    for source, code, reason, at in [
        ("b.bin", "binary", "binary file", "2025-02-01T00:00:01+00:00"),
        ("e.txt", "empty", "no text", "2025-02-01T00:00:02+00:00"),
        ("b.bin", "binary", "binary file, again", "2025-02-01T00:00:03+00:00"),  # the old store kept repeats
        ("x.json", "json", "bad json", "2025-02-01T00:00:04+00:00"),
    ]:
        out.append(
            ("INSERT INTO rejections (source, code, reason, at) VALUES (?, ?, ?, ?)", (source, code, reason, at))
        )
    out += [
        ("INSERT INTO records VALUES ('mentions', '00a', 'v1', '{\"a\": 1}', 'x')", ()),
        ("INSERT INTO vectors VALUES ('article', 'm', '00a', 1, ?)", (b"\x00\x00\x80?",)),
        ("INSERT INTO events VALUES ('ev1', 'T', 'sl1', NULL, NULL, 'c1', 1, 'x')", ()),
        ("INSERT INTO event_articles VALUES ('00b', 'ev1', 0)", ()),
        ("INSERT INTO storylines VALUES ('sl1', 'S', '[\"ev1\"]', 's1')", ()),
        ("INSERT INTO stage_runs VALUES ('dedup', '1', 'x', '{}')", ()),
        ("INSERT INTO meta VALUES ('embedder', 'm')", ()),
    ]
    return out


def check_v1_upgraded(s: Store) -> None:
    """What a version-1 database holds after the upgrade: the input, all queued; nothing derived."""
    assert s.article_ids() == ["00c", "00b", "00a"]  # publication order, undated last
    b = s.get_article("00b")
    assert b.title == "Tram vote" and b.published == dt.date(2025, 1, 5) and b.outlet == "Lorven Post"
    assert b.subheadings == ("Cross-head",) and b.stripped == (StrippedLine("(With inputs)", "relay_credit", 1),)
    assert b.text == V1_ARTICLES[0][4] and b.raw_sha256 == "ab" and b.source == "00b.txt"
    assert s.get_article("00a").title is None and s.get_article("00a").published is None
    assert [x.text for x in s.sentences("00b")] == ["The council approved the tram.", "Bodies of divers found."]
    assert [x.text for x in s.sentences("00a")] == ["Ferries idle at the harbour.", "Zürich 北京."]
    assert s.search_articles("body") == ["00b"] and s.search_articles("budget") == ["00c"]
    # Rejections: one per (source, code), the oldest kept, in their order.
    assert [(r.source, r.code, r.reason) for r in s.rejections()] == [
        ("b.bin", "binary", "binary file"),
        ("e.txt", "empty", "no text"),
        ("x.json", "json", "bad json"),
    ]
    assert not s.add_rejection(Rejection("b.bin", "binary", "again"))
    # Every article queued, in ingest order; nothing derived survives.
    assert s.pending("article") == ["00b", "00a", "00c"]
    assert s.events() == [] and s.storylines() == [] and s.stage_runs() == {}
    assert s.get_meta("embedder") is None and s.artifact_sizes() == {}
    # New articles continue the ingest order.
    add(s, art(9, 5))
    assert s.article_ids() == ["00c", "00b", art(9, 5).id, "00a"]


def test_sqlite_upgrades_a_version_1_file(tmp_path: Path):
    path = tmp_path / "v1.db"
    con = sqlite3.connect(path)
    con.executescript(V1_SQLITE_DDL)
    for sql, params in v1_rows():
        con.execute(sql, params)
    for aid, _seq, title, _p, text, _o, _e in V1_ARTICLES:
        con.execute("INSERT INTO articles_fts (article_id, title, text) VALUES (?, ?, ?)", (aid, title or "", text))
    con.execute("PRAGMA user_version = 1")
    con.commit()
    con.close()
    with pytest.raises(StoreError, match="needs a schema upgrade"):
        open_store(path, readonly=True)
    with open_store(path) as s:
        check_v1_upgraded(s)
    con = sqlite3.connect(path)
    names = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert not names & {"records", "vectors", "event_articles", "legacy_v1_articles", "legacy_v1_sentences"}
    assert con.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert con.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    con.execute("INSERT INTO articles_fts (articles_fts) VALUES ('integrity-check')")  # raises if out of step
    con.close()
    with open_store(path, readonly=True) as ro:  # upgraded once: readers open it now
        assert ro.article_count() == 4


def test_sqlite_migrations_are_all_or_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from storydesk.store import sql

    def boom(*_a: object) -> None:
        raise RuntimeError("late failure")

    # A fresh file: a failure after the tables were created leaves no table behind.
    monkeypatch.setattr(sql._SQLite, "create_search", boom)
    fresh = tmp_path / "fresh.db"
    with pytest.raises(RuntimeError, match="late failure"):
        open_store(fresh)
    con = sqlite3.connect(fresh)
    assert con.execute("SELECT count(*) FROM sqlite_master").fetchone()[0] == 0
    con.close()
    monkeypatch.undo()
    # A version-1 file: a failure at the very end of the upgrade leaves it as it was.
    old = tmp_path / "v1.db"
    con = sqlite3.connect(old)
    con.executescript(V1_SQLITE_DDL)
    for stmt, params in v1_rows():
        con.execute(stmt, params)
    con.execute("PRAGMA user_version = 1")
    con.commit()
    before = list(con.iterdump())
    con.close()
    monkeypatch.setattr(sql._SQLite, "drop_legacy", boom)
    with pytest.raises(RuntimeError, match="late failure"):
        open_store(old)
    con = sqlite3.connect(old)
    assert list(con.iterdump()) == before and con.execute("PRAGMA user_version").fetchone()[0] == 1
    con.close()
    monkeypatch.undo()
    with open_store(old) as s:
        assert s.article_count() == 3
