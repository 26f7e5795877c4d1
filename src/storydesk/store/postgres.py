"""The PostgreSQL store (``[postgres]`` extra): the same :class:`Store` on a server.

Open it with a libpq URL, ``postgresql://user[:password]@host[:port]/dbname``
(query parameters such as ``?host=/socket/dir`` or ``?sslmode=require`` pass
through to libpq). It behaves like :class:`~storydesk.store.sqlite.SQLiteStore`
method for method, so the pipeline cannot tell the two apart:

* Migrations are versioned like SQLite's: each entry of :data:`MIGRATIONS` moves
  the schema one version up and the version lives in the ``storydesk_schema``
  table. A database written by a newer storydesk is refused.
* :meth:`PostgresStore.transaction` is nested-safe with the same semantics: the
  outermost block commits or rolls back, inner blocks join it. Like SQLite's
  ``BEGIN IMMEDIATE`` it admits one writing transaction at a time per database
  (an advisory lock), so concurrent ``storydesk`` processes queue instead of
  interleaving half-finished work.
* Ordering matches SQLite's byte-wise text ordering whatever the database's
  collation (sort keys are ``COLLATE "C"``).
* Full-text search uses a stored ``tsvector`` column with English Snowball
  stemming and no stop-word list (close to SQLite's porter tokenizer), queried
  with ``plainto_tsquery`` (every word must match) and ranked by ``ts_rank``.
* Vectors are float32 bytes in a ``bytea`` column.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any
from urllib.parse import unquote

import numpy as np
import psycopg
from psycopg.conninfo import conninfo_to_dict

from storydesk.errors import SchemaVersionError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine, from_dict, to_dict
from storydesk.store.base import Store

# Each entry migrates the schema from version i to i+1 and runs in one
# transaction (PostgreSQL DDL is transactional). Never edit a released entry:
# append a new one, so existing databases upgrade in place.
MIGRATIONS: list[str] = [
    """
    CREATE TEXT SEARCH DICTIONARY storydesk_english_stem (TEMPLATE = snowball, Language = english);
    CREATE TEXT SEARCH CONFIGURATION storydesk_english (COPY = pg_catalog.english);
    ALTER TEXT SEARCH CONFIGURATION storydesk_english
        ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part
        WITH storydesk_english_stem;
    CREATE TABLE meta (key TEXT COLLATE "C" PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id TEXT COLLATE "C" PRIMARY KEY,
        seq BIGINT NOT NULL UNIQUE,
        source TEXT NOT NULL,
        format TEXT NOT NULL,
        outlet TEXT,
        title TEXT,
        published DATE,
        published_source TEXT NOT NULL,
        url TEXT,
        dateline TEXT,
        text TEXT NOT NULL,
        raw_sha256 TEXT NOT NULL,
        extra TEXT NOT NULL,
        clean_version TEXT NOT NULL,
        ingested_at TEXT NOT NULL,
        -- Only the first 100 000 characters are indexed: a tsvector is capped at 1 MB,
        -- and an over-long one would make the article impossible to store.
        search TSVECTOR GENERATED ALWAYS AS (
            to_tsvector('storydesk_english', left(coalesce(title, '') || ' ' || text, 100000))
        ) STORED
    );
    CREATE INDEX articles_order ON articles (published NULLS LAST, seq);
    CREATE INDEX articles_search ON articles USING gin (search);
    CREATE TABLE sentences (
        article_id TEXT COLLATE "C" NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        paragraph INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (article_id, idx)
    );
    CREATE TABLE rejections (
        id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        source TEXT NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE records (
        kind TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        version TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE vectors (
        kind TEXT COLLATE "C" NOT NULL,
        model TEXT COLLATE "C" NOT NULL,
        key TEXT COLLATE "C" NOT NULL,
        dim INTEGER NOT NULL,
        data BYTEA NOT NULL,
        PRIMARY KEY (kind, model, key)
    );
    CREATE TABLE events (
        id TEXT COLLATE "C" PRIMARY KEY,
        title TEXT NOT NULL,
        storyline TEXT,
        start DATE,
        "end" DATE,
        version TEXT NOT NULL,
        first_seq BIGINT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE event_articles (
        article_id TEXT COLLATE "C" PRIMARY KEY,
        event_id TEXT COLLATE "C" NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        pos INTEGER NOT NULL
    );
    CREATE INDEX event_articles_event ON event_articles (event_id, pos);
    CREATE TABLE storylines (
        id TEXT COLLATE "C" PRIMARY KEY,
        title TEXT NOT NULL,
        events TEXT NOT NULL,
        version TEXT NOT NULL
    );
    CREATE TABLE stage_runs (
        stage TEXT COLLATE "C" PRIMARY KEY,
        version TEXT NOT NULL,
        finished TEXT NOT NULL,
        stats TEXT NOT NULL
    );
    """,
]

# The tables of every schema version; a database holding one of these without a
# storydesk_schema table belongs to something else and is refused.
OWN_TABLES = frozenset(
    {
        "meta",
        "articles",
        "sentences",
        "rejections",
        "records",
        "vectors",
        "events",
        "event_articles",
        "storylines",
        "stage_runs",
    }
)

# Advisory lock keys (any 64-bit constants unique to storydesk; advisory locks
# are scoped to one database): one taken by every writing transaction, one
# around migrations.
_WRITE_LOCK = 0x5354_4F52_5944_0001
_MIGRATE_LOCK = 0x5354_4F52_5944_0002

# Search indexes this many leading characters of title + text (see the migration).
SEARCH_INDEX_CHARS = 100_000

_ARTICLE_COLUMNS = (
    "id, source, format, outlet, title, published, published_source, url, dateline, text, raw_sha256, extra"
)
_ORDER = " ORDER BY published NULLS LAST, seq"


def _now() -> str:
    """UTC timestamp for bookkeeping columns (the same format as SQLite's)."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _userinfo_password(url: str) -> str | None:
    """The password part of ``scheme://user:password@...`` (up to the last ``@``), or None."""
    rest = url.split("://", 1)[1] if "://" in url else ""
    rest = rest.split("?", 1)[0].split("#", 1)[0]
    if "@" not in rest:
        return None
    userinfo = rest.rsplit("@", 1)[0]
    return userinfo.split(":", 1)[1] if ":" in userinfo else None


def _secrets(url: str) -> list[str]:
    """Password strings in a URL (raw and percent-decoded), to scrub from messages."""
    found = [p for p in [_userinfo_password(url)] if p]
    found += re.findall(r"[?&]password=([^&#]*)", url)
    out = {s for raw in found if raw for s in (raw, unquote(raw))}
    # Longest first, so a decoded form never leaves part of the raw one behind.
    return sorted(out, key=len, reverse=True)


def redact(url: str) -> str:
    """The URL without its password, fit for messages and logs.

    Args:
        url: A ``postgresql://`` URL.

    Returns:
        ``postgresql://user@host:port/dbname`` (parts the URL leaves out are omitted).
    """
    try:
        info = conninfo_to_dict(url)
    except psycopg.Error:
        info = {}
    if not info:
        # Unparseable: mask every password string by hand.
        text = url
        for secret in _secrets(url):
            text = text.replace(secret, "***")
        return text
    user = f"{info['user']}@" if info.get("user") else ""
    host = str(info.get("host", ""))
    port = f":{info['port']}" if info.get("port") else ""
    where = f"{user}{host}{port}" if not host.startswith("/") else f"{user}{port}"
    sock = f"?host={host}" if host.startswith("/") else ""
    return f"postgresql://{where}/{info.get('dbname', '')}{sock}"


class PostgresStore(Store):
    """A :class:`Store` in a PostgreSQL database.

    Args:
        url: ``postgresql://user[:password]@host[:port]/dbname`` (or ``postgres://``);
            libpq query parameters are passed through.
        readonly: Open a read-only session (every write is refused by the server).
        connect_timeout: Seconds to wait for the server when the URL sets no
            ``connect_timeout`` of its own.

    Raises:
        StoreError: The server cannot be reached, refuses the login, the database
            does not use UTF-8, or it holds tables that are not storydesk's.
        SchemaVersionError: The database was written by a newer storydesk.
    """

    def __init__(self, url: str, readonly: bool = False, connect_timeout: int = 10) -> None:
        self._secrets = _secrets(url)
        self.url = self._scrub(redact(url))  # belt and braces for URLs too malformed to parse
        self.readonly = readonly
        self._lock = threading.RLock()
        self._depth = 0
        try:
            info = conninfo_to_dict(url)
        except psycopg.Error as e:
            why = self._scrub(e)
            if self._secrets:  # the driver quotes the part it could not parse, which may hold a piece of the password
                why = re.sub(r'"[^"]*"', '"***"', why)
            raise StoreError(f"invalid PostgreSQL URL {self.url}: {why}") from None
        kwargs: dict[str, Any] = {"autocommit": True, "client_encoding": "utf8"}
        if "connect_timeout" not in info:
            kwargs["connect_timeout"] = connect_timeout
        if "application_name" not in info:
            kwargs["application_name"] = "storydesk"
        try:
            self._db = psycopg.connect(url, **kwargs)
        except psycopg.Error as e:
            # from None: the driver's exception text may repeat the URL, password included.
            raise StoreError(f"cannot connect to PostgreSQL at {self.url}: {self._scrub(e)}") from None
        try:
            encoding = self._db.execute("SHOW server_encoding").fetchone()
            if encoding is None or encoding[0] != "UTF8":
                raise StoreError(
                    f"{self.url} uses the {encoding[0] if encoding else 'unknown'} encoding; storydesk needs a"
                    " UTF8 database (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
                )
            # Dates always travel as ISO text, whatever the server's DateStyle.
            self._db.execute("SET datestyle TO ISO, YMD")
            if readonly:
                self._db.execute("SET default_transaction_read_only TO on")
            self._migrate()
        except psycopg.Error as e:
            self._db.close()
            raise StoreError(f"cannot open the storydesk database at {self.url}: {self._scrub(e)}") from None
        except StoreError:
            self._db.close()
            raise

    # ------------------------------------------------------------------ lifecycle
    def _scrub(self, err: BaseException | str) -> str:
        """One-line error text with any password from the URL masked."""
        text = " ".join(str(err).split())
        for s in self._secrets:
            text = text.replace(s, "***")
        return text

    def _schema_version(self) -> int:
        """The stored schema version (0 for a database storydesk never touched)."""
        row = self._db.execute("SELECT to_regclass('storydesk_schema') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
        got = self._db.execute("SELECT max(version) FROM storydesk_schema").fetchone()
        return int(got[0]) if got and got[0] is not None else 0

    def _migrate(self) -> None:
        """Bring the schema up to date, refusing databases from a newer storydesk."""
        version = self._schema_version()
        if version > len(MIGRATIONS):
            raise SchemaVersionError(
                f"{self.url} has schema version {version}; this storydesk understands up to "
                f"{len(MIGRATIONS)}. Upgrade storydesk."
            )
        if version == len(MIGRATIONS):
            return
        if self.readonly:
            raise StoreError(f"{self.url} needs a schema upgrade (version {version}); open it once read-write")
        # Two processes opening a new database at once: the second waits for this
        # session lock. It is taken *before* the migration transaction begins, so that
        # transaction starts after the first one's commit and sees its tables (a
        # transaction already open while waiting could still see stale catalog entries).
        self._exec("SELECT pg_advisory_lock(%s)", (_MIGRATE_LOCK,))
        try:
            with self.transaction():
                self._migrate_locked()
        except BaseException as e:
            try:
                self._db.execute("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))
            except psycopg.Error as err:  # the connection is gone, and the server dropped the lock with it
                e.add_note(f"releasing the migration lock also failed: {self._scrub(err)}")
            raise
        self._exec("SELECT pg_advisory_unlock(%s)", (_MIGRATE_LOCK,))

    def _migrate_locked(self) -> None:
        """Apply the missing migrations (inside the migration lock and one transaction)."""
        version = self._schema_version()
        if version > len(MIGRATIONS):  # a newer storydesk got here first
            raise SchemaVersionError(
                f"{self.url} has schema version {version}; this storydesk understands up to "
                f"{len(MIGRATIONS)}. Upgrade storydesk."
            )
        if version == 0:
            clash = sorted(
                r[0]
                for r in self._exec(
                    "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
                ).fetchall()
                if r[0] in OWN_TABLES
            )
            if clash:
                raise StoreError(
                    f"{self.url} is not a storydesk database: it has tables named {', '.join(clash)} but no"
                    " storydesk_schema; use an empty database (or another schema via options=-csearch_path=...)"
                )
            self._exec("CREATE TABLE storydesk_schema (version INTEGER NOT NULL, at TEXT NOT NULL)")
        for i in range(version, len(MIGRATIONS)):
            self._exec(MIGRATIONS[i])
            self._exec("DELETE FROM storydesk_schema")
            self._exec("INSERT INTO storydesk_schema (version, at) VALUES (%s, %s)", (i + 1, _now()))

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested-safe transaction: the outermost block commits or rolls back.

        Inner blocks join the outer transaction (no savepoints), exactly as in
        :meth:`SQLiteStore.transaction`. Writing transactions take a database-wide
        advisory lock, so one runs at a time, like SQLite's ``BEGIN IMMEDIATE``.
        """
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._exec("BEGIN")
                if not self.readonly:
                    self._begin_writer()
            self._depth += 1
            try:
                yield
            except BaseException as e:
                self._depth -= 1
                if outer:
                    self._rollback(e)
                raise
            self._depth -= 1
            if outer:
                self._exec("COMMIT")

    def _begin_writer(self) -> None:
        """Take the writer lock inside a fresh transaction (rolled back if that fails)."""
        try:
            self._exec("SELECT pg_advisory_xact_lock(%s)", (_WRITE_LOCK,))
        except BaseException as e:
            self._rollback(e)
            raise

    def _rollback(self, cause: BaseException) -> None:
        """Roll back the open transaction; a failure to do so is noted on ``cause``, not raised over it."""
        try:
            self._db.execute("ROLLBACK")
        except psycopg.Error as e:
            cause.add_note(f"rollback also failed: {self._scrub(e)}")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> psycopg.Cursor[Any]:
        """Execute one statement, wrapping driver errors."""
        with self._lock:
            try:
                return self._db.execute(sql, params or None)
            except psycopg.OperationalError as e:
                raise StoreError(f"PostgreSQL at {self.url}: {self._scrub(e)}") from None
            except psycopg.Error as e:
                raise StoreError(f"database error: {self._scrub(e)}") from None

    def _execmany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Execute one statement for many rows (pipelined), wrapping driver errors."""
        batch = list(rows)
        if not batch:
            return
        with self._lock:
            try:
                with self._db.cursor() as cur:
                    cur.executemany(sql, batch)
            except psycopg.OperationalError as e:
                raise StoreError(f"PostgreSQL at {self.url}: {self._scrub(e)}") from None
            except psycopg.Error as e:
                raise StoreError(f"database error: {self._scrub(e)}") from None

    # ------------------------------------------------------------------ articles
    def add_article(self, article: Article, sentences: Sequence[Sentence], version: str = "") -> bool:
        """Store an article with its sentences; False (and no change) if its id exists."""
        _check_no_nul(article, sentences)
        extra = {
            "subheadings": list(article.subheadings),
            "stripped": [to_dict(s) for s in article.stripped],
        }
        with self.transaction():
            # The writer lock makes max(seq) + 1 safe (and gap-free, like SQLite's);
            # ON CONFLICT keeps the insert idempotent.
            row = self._exec(
                "INSERT INTO articles (id, seq, source, format, outlet, title, published, published_source, url,"
                " dateline, text, raw_sha256, extra, clean_version, ingested_at)"
                " VALUES (%s, (SELECT coalesce(max(seq), 0) + 1 FROM articles),"
                " %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (id) DO NOTHING RETURNING id",
                (
                    article.id,
                    article.source,
                    article.format,
                    article.outlet,
                    article.title,
                    article.published,
                    article.published_source,
                    article.url,
                    article.dateline,
                    article.text,
                    article.raw_sha256,
                    json.dumps(extra),
                    version,
                    _now(),
                ),
            ).fetchone()
            if row is None:
                return False
            self._execmany(
                'INSERT INTO sentences (article_id, idx, start, "end", paragraph, text)'
                " VALUES (%s, %s, %s, %s, %s, %s)",
                [(s.article_id, s.index, s.start, s.end, s.paragraph, s.text) for s in sentences],
            )
        return True

    def has_article(self, article_id: str) -> bool:
        """True if an article with this id is stored."""
        return self._exec("SELECT 1 FROM articles WHERE id = %s", (article_id,)).fetchone() is not None

    @staticmethod
    def _article(row: Sequence[Any]) -> Article:
        """Row (in ``_ARTICLE_COLUMNS`` order) -> Article."""
        (aid, source, fmt, outlet, title, published, published_source, url, dateline, text, sha, extra_s) = row
        extra = json.loads(extra_s)
        return Article(
            id=aid,
            source=source,
            text=text,
            title=title,
            outlet=outlet,
            published=published,
            published_source=published_source,
            url=url,
            dateline=dateline,
            subheadings=tuple(extra.get("subheadings", ())),
            stripped=tuple(from_dict(StrippedLine, s) for s in extra.get("stripped", ())),
            format=fmt,
            raw_sha256=sha,
        )

    def get_article(self, article_id: str) -> Article:
        """One article; raises KeyError if absent."""
        row = self._exec(f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = %s", (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return self._article(row)

    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles in publication order (undated last, then ingest order)."""
        if ids is None:
            rows = self._exec(f"SELECT {_ARTICLE_COLUMNS} FROM articles" + _ORDER).fetchall()
        else:
            q = f"SELECT {_ARTICLE_COLUMNS} FROM articles WHERE id = ANY(%s)" + _ORDER
            rows = self._exec(q, (list(ids),)).fetchall()
        return [self._article(r) for r in rows]

    def article_ids(self) -> list[str]:
        """Ids of all articles in publication order."""
        return [r[0] for r in self._exec("SELECT id FROM articles" + _ORDER).fetchall()]

    def article_count(self) -> int:
        """Number of stored articles."""
        row = self._exec("SELECT count(*) FROM articles").fetchone()
        return int(row[0]) if row else 0

    def sentences(self, article_id: str) -> list[Sentence]:
        """The stored sentence list of one article, in order."""
        rows = self._exec(
            'SELECT idx, start, "end", paragraph, text FROM sentences WHERE article_id = %s ORDER BY idx',
            (article_id,),
        ).fetchall()
        return [Sentence(article_id, r[0], r[4], r[1], r[2], r[3]) for r in rows]

    def add_rejection(self, rejection: Rejection) -> None:
        """Record an input that was refused, with its reason."""
        with self.transaction():
            self._exec(
                "INSERT INTO rejections (source, code, reason, at) VALUES (%s, %s, %s, %s)",
                (
                    _no_nul(rejection.source),
                    _no_nul(rejection.code),
                    _no_nul(rejection.reason),
                    rejection.at or _now(),
                ),
            )

    def rejections(self) -> list[Rejection]:
        """Every recorded rejection, oldest first."""
        rows = self._exec("SELECT source, code, reason, at FROM rejections ORDER BY id").fetchall()
        return [Rejection(r[0], r[1], r[2], r[3]) for r in rows]

    # ------------------------------------------------------------------ derived records
    def put_record(self, kind: str, key: str, version: str, data: Any) -> None:
        """Insert or replace the JSON record ``(kind, key)``."""
        with self.transaction():
            self._exec(
                "INSERT INTO records (kind, key, version, data, updated_at) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (kind, key) DO UPDATE"
                " SET version = excluded.version, data = excluded.data, updated_at = excluded.updated_at",
                (kind, key, version, json.dumps(to_dict(data), ensure_ascii=False), _now()),
            )

    def get_record(self, kind: str, key: str) -> tuple[str, Any] | None:
        """``(version, data)`` of a record, or None."""
        row = self._exec("SELECT version, data FROM records WHERE kind = %s AND key = %s", (kind, key)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def records(self, kind: str, keys: Iterable[str] | None = None) -> Iterator[tuple[str, str, Any]]:
        """Yield ``(key, version, data)`` for a kind (optionally only some keys), in key order."""
        if keys is None:
            cur = self._exec("SELECT key, version, data FROM records WHERE kind = %s ORDER BY key", (kind,))
        else:
            cur = self._exec(
                "SELECT key, version, data FROM records WHERE kind = %s AND key = ANY(%s) ORDER BY key",
                (kind, list(keys)),
            )
        for r in cur.fetchall():
            yield r[0], r[1], json.loads(r[2])

    def record_versions(self, kind: str) -> dict[str, str]:
        """Map key -> version for every record of a kind."""
        rows = self._exec("SELECT key, version FROM records WHERE kind = %s", (kind,)).fetchall()
        return {r[0]: r[1] for r in rows}

    def delete_records(self, kind: str, keys: Iterable[str] | None = None) -> None:
        """Delete records of a kind (all of them when ``keys`` is None)."""
        with self.transaction():
            if keys is None:
                self._exec("DELETE FROM records WHERE kind = %s", (kind,))
            else:
                self._exec("DELETE FROM records WHERE kind = %s AND key = ANY(%s)", (kind, list(keys)))

    # ------------------------------------------------------------------ vectors
    def put_vectors(self, kind: str, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Store float32 vectors keyed by id for one model."""
        with self.transaction():
            self._execmany(
                "INSERT INTO vectors (kind, model, key, dim, data) VALUES (%s, %s, %s, %s, %s)"
                " ON CONFLICT (kind, model, key) DO UPDATE SET dim = excluded.dim, data = excluded.data",
                [
                    (kind, model, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                    for k, v in vectors.items()
                ],
            )

    def get_vectors(self, kind: str, model: str, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Stored vectors of one model (all keys when ``keys`` is None)."""
        if keys is None:
            cur = self._exec("SELECT key, data FROM vectors WHERE kind = %s AND model = %s", (kind, model))
        else:
            cur = self._exec(
                "SELECT key, data FROM vectors WHERE kind = %s AND model = %s AND key = ANY(%s)",
                (kind, model, list(keys)),
            )
        return {r[0]: np.frombuffer(r[1], dtype=np.float32) for r in cur.fetchall()}

    # ------------------------------------------------------------------ events and storylines
    def put_events(self, events: Sequence[Event], version: str) -> None:
        """Insert or replace events and their membership."""
        with self.transaction():
            for ev in events:
                row = self._exec(
                    "SELECT coalesce(min(seq), 0) FROM articles WHERE id = ANY(%s)", (list(ev.articles),)
                ).fetchone()
                seq = int(row[0]) if row else 0
                self._exec("DELETE FROM event_articles WHERE event_id = %s", (ev.id,))
                self._exec(
                    'INSERT INTO events (id, title, storyline, start, "end", version, first_seq, updated_at)'
                    " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET title = excluded.title, storyline = excluded.storyline,"
                    ' start = excluded.start, "end" = excluded."end", version = excluded.version,'
                    " first_seq = excluded.first_seq, updated_at = excluded.updated_at",
                    (ev.id, ev.title, ev.storyline, ev.start, ev.end, version, seq, _now()),
                )
                # Row by row (not one multi-row INSERT) so that an article listed twice
                # ends at its last position, as with SQLite's INSERT OR REPLACE.
                self._execmany(
                    "INSERT INTO event_articles (article_id, event_id, pos) VALUES (%s, %s, %s)"
                    " ON CONFLICT (article_id) DO UPDATE SET event_id = excluded.event_id, pos = excluded.pos",
                    [(a, ev.id, i) for i, a in enumerate(ev.articles)],
                )

    def delete_events(self, event_ids: Iterable[str]) -> None:
        """Remove events (and their membership rows)."""
        ids = list(event_ids)
        with self.transaction():
            self._exec("DELETE FROM event_articles WHERE event_id = ANY(%s)", (ids,))
            self._exec("DELETE FROM events WHERE id = ANY(%s)", (ids,))

    @staticmethod
    def _event(row: Sequence[Any], members: list[str]) -> Event:
        """Row ``(id, title, storyline, start, end)`` -> Event."""
        return Event(id=row[0], articles=tuple(members), title=row[1], storyline=row[2], start=row[3], end=row[4])

    def events(self) -> list[Event]:
        """All events, oldest first."""
        members: dict[str, list[str]] = {}
        for r in self._exec("SELECT event_id, article_id FROM event_articles ORDER BY event_id, pos").fetchall():
            members.setdefault(r[0], []).append(r[1])
        rows = self._exec('SELECT id, title, storyline, start, "end" FROM events ORDER BY first_seq, id').fetchall()
        return [self._event(r, members.get(r[0], [])) for r in rows]

    def get_event(self, event_id: str) -> Event:
        """One event; raises KeyError if absent."""
        row = self._exec('SELECT id, title, storyline, start, "end" FROM events WHERE id = %s', (event_id,)).fetchone()
        if row is None:
            raise KeyError(event_id)
        ids = [
            r[0]
            for r in self._exec(
                "SELECT article_id FROM event_articles WHERE event_id = %s ORDER BY pos", (event_id,)
            ).fetchall()
        ]
        return self._event(row, ids)

    def put_storylines(self, storylines: Sequence[Storyline], version: str, replace: bool = True) -> None:
        """Store storylines (replacing all existing ones by default)."""
        with self.transaction():
            if replace:
                self._exec("DELETE FROM storylines")
            self._execmany(
                "INSERT INTO storylines (id, title, events, version) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (id) DO UPDATE SET title = excluded.title, events = excluded.events,"
                " version = excluded.version",
                [(s.id, s.title, json.dumps(list(s.events)), version) for s in storylines],
            )

    def storylines(self) -> list[Storyline]:
        """All storylines."""
        rows = self._exec("SELECT id, title, events FROM storylines ORDER BY id").fetchall()
        return [Storyline(r[0], tuple(json.loads(r[2])), r[1]) for r in rows]

    # ------------------------------------------------------------------ bookkeeping
    def record_stage_run(self, stage: str, version: str, stats: dict[str, Any]) -> None:
        """Note that a stage ran."""
        with self.transaction():
            self._exec(
                "INSERT INTO stage_runs (stage, version, finished, stats) VALUES (%s, %s, %s, %s)"
                " ON CONFLICT (stage) DO UPDATE"
                " SET version = excluded.version, finished = excluded.finished, stats = excluded.stats",
                (stage, version, _now(), json.dumps(stats)),
            )

    def stage_runs(self) -> dict[str, dict[str, Any]]:
        """Last run of each stage."""
        rows = self._exec("SELECT stage, version, finished, stats FROM stage_runs").fetchall()
        return {r[0]: {"version": r[1], "finished": r[2], "stats": json.loads(r[3])} for r in rows}

    def search_articles(self, query: str, limit: int = 50) -> list[str]:
        """Ids of articles matching a full-text query (every word must match), best first.

        Words are stemmed (English Snowball, no stop words), so ``bodies`` finds
        ``body``; quotes and operators are ignored, as in the SQLite backend.
        """
        words = " ".join(t.replace('"', "") for t in query.split() if t.strip('"'))
        if not words:
            return []
        rows = self._exec(
            "SELECT id FROM articles, plainto_tsquery('storydesk_english', %s) AS q"
            " WHERE numnode(q) > 0 AND search @@ q ORDER BY ts_rank(search, q) DESC, seq LIMIT %s",
            (_no_nul(words), limit if limit >= 0 else None),  # SQLite reads a negative LIMIT as "no limit"
        ).fetchall()
        return [r[0] for r in rows]

    # ------------------------------------------------------------------ browsing (REST API and web UI)
    def event_overview(self) -> list[dict[str, Any]]:
        """One light row per event for listing pages, in one query (see :meth:`Store.event_overview`)."""
        rows = self._exec(
            'SELECT e.id, e.title, e.storyline, e.start, e."end", e.first_seq, count(ea.article_id),'
            " min(a.published), max(a.published), array_remove(array_agg(DISTINCT a.outlet), NULL)"
            " FROM events e LEFT JOIN event_articles ea ON ea.event_id = e.id"
            " LEFT JOIN articles a ON a.id = ea.article_id"
            " GROUP BY e.id ORDER BY e.first_seq, e.id"
        ).fetchall()
        return [
            {
                "id": r[0],
                "title": r[1],
                "storyline": r[2],
                "start": _iso(r[3]),
                "end": _iso(r[4]),
                "articles": int(r[6]),
                "outlets": sorted(o for o in r[9] if o),
                "first_published": _iso(r[7]),
                "last_published": _iso(r[8]),
                "seq": int(r[5]),
            }
            for r in rows
        ]

    def events_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Map each given article id to the id of its event (articles not in an event are left out)."""
        rows = self._exec(
            "SELECT article_id, event_id FROM event_articles WHERE article_id = ANY(%s)", (list(article_ids),)
        ).fetchall()
        return {r[0]: r[1] for r in rows}

    def get_storyline(self, storyline_id: str) -> Storyline:
        """One storyline; raises KeyError if absent."""
        row = self._exec("SELECT id, title, events FROM storylines WHERE id = %s", (storyline_id,)).fetchone()
        if row is None:
            raise KeyError(storyline_id)
        return Storyline(row[0], tuple(json.loads(row[2])), row[1])

    def get_meta(self, key: str) -> str | None:
        """A store-level setting."""
        row = self._exec("SELECT value FROM meta WHERE key = %s", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting."""
        with self.transaction():
            self._exec(
                "INSERT INTO meta (key, value) VALUES (%s, %s) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (key, value),
            )


def _iso(day: dt.date | None) -> str | None:
    """ISO text of an optional date (the form SQLite stores)."""
    return day.isoformat() if day else None


def _no_nul(text: str) -> str:
    """Drop NUL characters, which PostgreSQL text cannot hold (they carry no meaning in a message or query)."""
    return text.replace("\x00", "")


def _check_no_nul(article: Article, sentences: Sequence[Sentence]) -> None:
    """Refuse an article containing NUL characters, naming it (PostgreSQL text cannot hold them)."""
    fields = [article.id, article.source, article.text, article.title, article.outlet, article.url, article.dateline]
    fields += [*article.subheadings, *(s.text for s in sentences)]
    if any(f and "\x00" in f for f in fields):
        raise StoreError(
            f"article {article.id} ({article.source}) contains NUL characters, which PostgreSQL text cannot hold;"
            " the cleaner should have removed them"
        )
