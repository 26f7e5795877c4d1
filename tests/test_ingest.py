import datetime as dt
import json

import pytest

from conftest import write
from storydesk.errors import InputError, StoreError
from storydesk.ingest import ingest
from storydesk.store import open_store

ARTICLE = (
    " date 2025-02-04 LORVEN: The council of Lorven approved the tram plan on Tuesday after a long debate.\n\n"
    "Opposition members walked out before the vote, the city's press office said.\n\n"
    "(With inputs from Greyline Wire)"
)


@pytest.fixture
def store(tmp_path):
    s = open_store(tmp_path / "t.db")
    yield s
    s.close()


def test_text_file_with_header(tmp_path, store):
    write(tmp_path / "in" / "tram.txt", ARTICLE)
    rep = ingest(store, [tmp_path / "in"])
    assert len(rep.added) == 1 and rep.ok
    a = store.get_article(rep.added[0])
    assert a.published == dt.date(2025, 2, 4)
    assert a.published_source == "header"
    assert a.source == "tram.txt"
    assert a.dateline == "LORVEN"
    assert "With inputs" not in a.text
    sents = store.sentences(a.id)
    assert [s.text for s in sents] == [
        "The council of Lorven approved the tram plan on Tuesday after a long debate.",
        "Opposition members walked out before the vote, the city's press office said.",
    ]
    assert all(a.text[s.start : s.end] == s.text for s in sents)


def test_reingest_adds_nothing(tmp_path, store):
    write(tmp_path / "in" / "tram.txt", ARTICLE)
    first = ingest(store, [tmp_path / "in"])
    again = ingest(store, [tmp_path / "in"])
    assert again.added == [] and again.skipped == first.added
    assert store.article_count() == 1


def test_jsonl_json_html_and_feed(tmp_path, store):
    rec = {
        "id": "gw-1",
        "outlet": "Greyline Wire",
        "title": "Tram plan approved",
        "published": "2025-02-04",
        "url": "https://example.org/a",
        "text": "The council approved the plan.\n\nWork starts in spring.",
    }
    write(tmp_path / "in" / "a.jsonl", json.dumps(rec) + "\n")
    write(tmp_path / "in" / "b.json", json.dumps([{**rec, "id": "gw-2", "title": "Second story"}]))
    write(
        tmp_path / "in" / "c.html",
        "<html><head><title>Tram vote</title><meta property='og:site_name' content='Lorven Post'>"
        "<meta property='article:published_time' content='2025-02-05T08:00:00Z'></head><body>"
        "<nav>Home | World</nav><article><h1>Tram vote splits council</h1>"
        + "".join(
            f"<p>Paragraph {i} of the tram story explains the vote in some detail for readers.</p>" for i in range(6)
        )
        + "</article><footer>Cookies</footer></body></html>",
    )
    write(
        tmp_path / "in" / "d.xml",
        "<?xml version='1.0'?><rss version='2.0'><channel><title>Lorven Post</title>"
        "<item><title>Tram works begin</title><link>https://example.org/t</link>"
        "<pubDate>Wed, 05 Feb 2025 09:00:00 GMT</pubDate>"
        "<description>&lt;p&gt;Work on the tram began.&lt;/p&gt;&lt;p&gt;Residents cheered.&lt;/p&gt;</description>"
        "</item></channel></rss>",
    )
    rep = ingest(store, [tmp_path / "in"])
    assert rep.ok, rep.rejected
    by_format = {a.format: a for a in store.articles()}
    assert set(by_format) == {"jsonl", "json", "html", "feed"}
    assert by_format["jsonl"].source == "gw-1" and by_format["jsonl"].outlet == "Greyline Wire"
    assert by_format["html"].title == "Tram vote splits council"
    assert by_format["html"].published == dt.date(2025, 2, 5)
    assert by_format["feed"].outlet == "Lorven Post"
    assert by_format["feed"].text == "Work on the tram began.\n\nResidents cheered."
    assert by_format["feed"].published == dt.date(2025, 2, 5)


def test_bad_inputs_are_rejected_with_reasons_and_nothing_is_lost(tmp_path, store):
    write(tmp_path / "good" / "tram.txt", ARTICLE)
    before = ingest(store, [tmp_path / "good"])
    bad = tmp_path / "bad"
    write(bad / "photo.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    write(bad / "empty.txt", "")
    write(bad / "latin1.txt", "Caf\xe9 owners in Lorven protested on Monday.".encode("latin-1"))
    write(bad / "nul.txt", b"abc\x00def" * 50)
    good = {"id": "ok-1", "title": "Tram", "text": "The council met on Tuesday.", "published": "2025-02-04"}
    lines = [
        json.dumps(good),
        '{"id": "broken", "text": "missing brace"',
        json.dumps({**good, "id": "baddate", "published": "2025-02-30"}),
        json.dumps({**good, "id": "nobody", "text": "", "title": ""}),
        json.dumps(["not", "an", "object"]),
    ]
    write(bad / "feed.jsonl", "\n".join(lines) + "\n")
    write(bad / "page.html", "<html><body><div><<<>>> </div></body></html>")
    write(bad / "huge.txt", "word " * 5000)
    rep = ingest(store, [bad], max_bytes=10_000)
    codes = {r.source: r.code for r in rep.rejected}
    assert codes == {
        "photo.txt": "binary",
        "empty.txt": "empty",
        "latin1.txt": "encoding",
        "nul.txt": "binary",
        "feed.jsonl:2": "json",
        "feed.jsonl:3": "date",
        "feed.jsonl:4": "no_text",
        "feed.jsonl:5": "fields",
        "page.html": "no_text",
        "huge.txt": "too_large",
    }
    reasons = {r.source: r.reason for r in rep.rejected}
    assert "0xe9" in reasons["latin1.txt"]
    assert "2025-02-30" in reasons["feed.jsonl:3"]
    assert len(rep.added) == 1  # the one good JSONL record
    assert store.has_article(before.added[0])
    assert store.article_count() == 2
    assert {r.source for r in store.rejections()} == set(codes)


def test_forced_encoding_reads_legacy_files(tmp_path, store):
    write(tmp_path / "latin1.txt", "Caf\xe9 owners in Lorven protested on Monday.".encode("latin-1"))
    rep = ingest(store, [tmp_path / "latin1.txt"], encoding="latin-1")
    assert rep.ok
    assert "Café" in store.get_article(rep.added[0]).text


def test_missing_path_is_an_input_error(tmp_path, store):
    with pytest.raises(InputError):
        ingest(store, [tmp_path / "nope"])


def test_failed_write_rolls_back_and_keeps_earlier_articles(tmp_path, store, monkeypatch):
    write(tmp_path / "a.txt", ARTICLE)
    ingest(store, [tmp_path / "a.txt"])
    write(tmp_path / "b.txt", ARTICLE.replace("Tuesday", "Wednesday"))
    real = store._x
    calls = []

    def failing(stmt, params=None):
        calls.append(stmt)
        if len(calls) > 2:  # the article row is written, then the disk fills up
            raise StoreError("database error: disk full")
        return real(stmt, params)

    monkeypatch.setattr(store, "_x", failing)
    with pytest.raises(StoreError, match="disk full"):
        ingest(store, [tmp_path / "b.txt"])
    monkeypatch.setattr(store, "_x", real)
    assert store.article_count() == 1
    assert store.sentences(store.article_ids()[0])
