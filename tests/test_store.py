import datetime as dt
import sqlite3

import numpy as np
import pytest

from storydesk.errors import SchemaVersionError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine
from storydesk.store import SQLiteStore, open_store
from storydesk.store.sqlite import MIGRATIONS


def art(i: int, day: int | None) -> Article:
    return Article(
        id=f"{i:016x}",
        source=f"a{i}.txt",
        text=f"Body {i}.",
        title=f"T{i}",
        published=dt.date(2025, 1, day) if day else None,
        stripped=(StrippedLine("(With inputs from X)", "relay_credit", 3),),
    )


def test_articles_roundtrip_and_publication_order(tmp_path):
    with SQLiteStore(tmp_path / "s.db") as s:
        for i, day in [(1, 5), (2, None), (3, 2)]:
            a = art(i, day)
            assert s.add_article(a, [Sentence(a.id, 0, a.text, 0, len(a.text))])
        assert not s.add_article(art(1, 5), [])
        assert [a.id for a in s.articles()] == [art(3, 2).id, art(1, 5).id, art(2, None).id]
        got = s.get_article(art(1, 5).id)
        assert got == art(1, 5)
        assert s.search_articles("body") and s.search_articles("nonexistentword") == []


def test_records_vectors_events_and_wal(tmp_path):
    path = tmp_path / "s.db"
    with SQLiteStore(path) as s:
        s.put_record("k", "x", "v1", {"a": [1, 2]})
        assert s.get_record("k", "x") == ("v1", {"a": [1, 2]})
        assert s.record_versions("k") == {"x": "v1"}
        s.put_vectors("article", "m", {"x": np.arange(4, dtype=np.float32)})
        assert s.get_vectors("article", "m")["x"].tolist() == [0, 1, 2, 3]
        a = art(1, 3)
        s.add_article(a, [])
        s.put_events([Event("ev-1", (a.id,), "T", "sl-1", dt.date(2025, 1, 2), None)], "c1")
        s.put_storylines([Storyline("sl-1", ("ev-1",), "S")], "s1")
        assert s.events()[0].start == dt.date(2025, 1, 2)
        assert s.storylines()[0].events == ("ev-1",)
        s.add_rejection(Rejection("bad.txt", "binary", "binary file"))
        assert s.rejections()[0].code == "binary"
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_transaction_rolls_back_everything(tmp_path):
    with SQLiteStore(tmp_path / "s.db") as s:
        with pytest.raises(RuntimeError), s.transaction():
            s.put_record("k", "x", "v", 1)
            raise RuntimeError("boom")
        assert s.get_record("k", "x") is None


def test_refuses_newer_schema_and_foreign_files(tmp_path):
    newer = tmp_path / "newer.db"
    SQLiteStore(newer).close()
    con = sqlite3.connect(newer)
    con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    con.close()
    with pytest.raises(SchemaVersionError):
        SQLiteStore(newer)
    other = tmp_path / "other.db"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.close()
    with pytest.raises(StoreError, match="not a storydesk database"):
        SQLiteStore(other)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"this is not sqlite at all" * 100)
    with pytest.raises(StoreError):
        SQLiteStore(junk)


def test_open_store_urls(tmp_path):
    open_store(f"sqlite:///{tmp_path / 'u.db'}").close()
    assert (tmp_path / "u.db").exists()
