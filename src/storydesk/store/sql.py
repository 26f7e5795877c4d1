"""The store, once, on SQLAlchemy Core: SQLite (the default) and PostgreSQL (``[postgres]`` extra).

One :class:`SQLStore` serves both databases. The schema is one set of
:class:`~sqlalchemy.Table` definitions (:data:`metadata`), the queries are Core
statements, and what the two databases do differently sits in two small
dialect classes with named hooks (:class:`_SQLite`, :class:`_Postgres`):

* **connect**: the driver connection is opened and hardened by the hook (SQLite:
  WAL, ``synchronous=NORMAL``, busy timeout, foreign keys, ``mode=ro`` for read-only
  opens; PostgreSQL: UTF8 check, ISO dates, read-only sessions, errors that never
  show the password) and handed to SQLAlchemy as its single pooled connection;
* **the writer lock** (:meth:`SQLStore.transaction`): the DBAPI connection is in
  autocommit mode and the store emits its own ``BEGIN`` (the SQLAlchemy recipe for
  pysqlite's transaction handling). SQLite takes ``BEGIN IMMEDIATE``, retried with
  backoff on "database is locked" up to the busy timeout; PostgreSQL takes
  ``pg_advisory_xact_lock`` under ``lock_timeout``. Either way a writer that waits
  too long gets :class:`~storydesk.errors.StoreBusyError`;
* **full-text search**: SQLite FTS5 as an external-content table over
  ``articles(title, text)`` kept in sync by triggers and ranked by bm25;
  PostgreSQL a generated ``tsvector`` column (English Snowball stemming without
  stop words, first :data:`SEARCH_INDEX_CHARS` characters, GIN index) queried with
  ``plainto_tsquery`` and ranked by ``ts_rank``;
* small differences: the upsert construct (each dialect's ``insert``), the
  aggregate of distinct outlets, how big the database is, where old tables are
  parked during a migration, the IN-list chunk size.

Ordering is byte-wise on both (PostgreSQL sort keys are ``COLLATE "C"``; SQLite's
default collation compares bytes), so every list comes back in the same order.

Schema versions (:data:`MIGRATIONS`) are recorded in ``storydesk_schema`` (and, on
SQLite, also in ``PRAGMA user_version``, which is where storydesk's first schema
kept it, so an older storydesk refuses a newer file). Every write transaction that
changed something bumps ``storydesk_schema.generation``, which is the
:meth:`SQLStore.change_token`.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import os
import re
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar
from urllib.parse import unquote

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect
from sqlalchemy.pool import StaticPool

from storydesk.errors import ConfigError, NotFoundError, SchemaVersionError, StoreBusyError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine, from_dict, to_dict
from storydesk.store.base import AddStatus, ArtifactRow, Stamp, Store

#: Seconds a writer waits for the writer lock before :class:`StoreBusyError`.
DEFAULT_BUSY_TIMEOUT = 30.0

#: PostgreSQL indexes this many leading characters of ``title + " " + text`` for search
#: (a tsvector is capped at 1 MB; an over-long one would make the article impossible to store).
SEARCH_INDEX_CHARS = 100_000

# --------------------------------------------------------------------------- schema

#: Sort keys compare byte-wise on both databases ("C" collation on PostgreSQL,
#: SQLite's default BINARY collation elsewhere).
Key = sa.Text().with_variant(sa.Text(collation="C"), "postgresql")
#: Integer ordering columns; on SQLite exactly ``INTEGER`` so a primary key is the rowid.
Seq = sa.BigInteger().with_variant(sa.Integer(), "sqlite")

metadata = sa.MetaData(
    naming_convention={
        "ix": "ix_%(table_name)s_%(column_0_N_name)s",
        "uq": "uq_%(table_name)s_%(column_0_N_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s",
        "pk": "pk_%(table_name)s",
    }
)

#: One row: the schema version, and the generation counter behind change_token().
storydesk_schema = sa.Table(
    "storydesk_schema",
    metadata,
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("generation", sa.BigInteger, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", Key, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

#: ``seq`` is the ingest order and the row id the FTS5 index refers to (an INTEGER
#: PRIMARY KEY is stable across VACUUM; an implicit rowid is not).
articles = sa.Table(
    "articles",
    metadata,
    sa.Column("seq", Seq, primary_key=True, autoincrement=False),
    sa.Column("id", Key, nullable=False, unique=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("format", sa.Text, nullable=False),
    sa.Column("outlet", sa.Text),
    sa.Column("title", sa.Text),
    sa.Column("published", sa.Date),
    sa.Column("published_source", sa.Text, nullable=False),
    sa.Column("url", sa.Text),
    sa.Column("dateline", sa.Text),
    sa.Column("text", sa.Text, nullable=False),
    sa.Column("raw_sha256", sa.Text, nullable=False),
    sa.Column("extra", sa.Text, nullable=False),  # JSON: subheadings, stripped lines
    sa.Column("ingested_at", sa.Text, nullable=False),
)
# Publication order: dated by day, undated last, ties in ingest order.
_PUBLICATION_ORDER = (articles.c.published.is_(None), articles.c.published, articles.c.seq)
sa.Index("ix_articles_publication", *_PUBLICATION_ORDER)

#: Offsets only: a sentence's text is ``articles.text[start:end]``.
sentences = sa.Table(
    "sentences",
    metadata,
    sa.Column("article_id", Key, sa.ForeignKey("articles.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("idx", sa.Integer, primary_key=True, autoincrement=False),
    sa.Column("start", sa.Integer, nullable=False),
    sa.Column("end", sa.Integer, nullable=False),
    sa.Column("paragraph", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)

rejections = sa.Table(
    "rejections",
    metadata,
    sa.Column("id", Seq, primary_key=True, autoincrement=True),
    sa.Column("source", sa.Text, nullable=False),
    sa.Column("code", sa.Text, nullable=False),
    sa.Column("reason", sa.Text, nullable=False),
    sa.Column("at", sa.Text, nullable=False),
    sa.UniqueConstraint("source", "code"),
)

artifacts = sa.Table(
    "artifacts",
    metadata,
    sa.Column("artifact", Key, primary_key=True),
    sa.Column("key", Key, primary_key=True),
    sa.Column("version", Key, nullable=False),
    sa.Column("fingerprint", sa.Text, nullable=False),
    sa.Column("digest", sa.Text, nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)
# Serves keys_not_at (two ranges around one version) from the index alone.
sa.Index("ix_artifacts_version", artifacts.c.artifact, artifacts.c.version, artifacts.c.key)

#: The work queue; ``id`` is the queued order.
queue = sa.Table(
    "queue",
    metadata,
    sa.Column("id", Seq, primary_key=True, autoincrement=True),
    sa.Column("scope", Key, nullable=False),
    sa.Column("key", Key, nullable=False),
    sa.UniqueConstraint("scope", "key"),
)
sa.Index("ix_queue_order", queue.c.scope, queue.c.id)

#: ``first_seq``: ingest order of the event's first article (events sort oldest first).
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", Key, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
    sa.Column("storyline", Key),
    sa.Column("start", sa.Date),
    sa.Column("end", sa.Date),
    sa.Column("first_seq", sa.BigInteger, nullable=False),
)
sa.Index("ix_events_order", events.c.first_seq, events.c.id)
sa.Index("ix_events_storyline", events.c.storyline, events.c.first_seq, events.c.id)

#: Membership: an article belongs to at most one event.
event_members = sa.Table(
    "event_members",
    metadata,
    sa.Column("article_id", Key, primary_key=True),
    sa.Column("event_id", Key, sa.ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    sa.Column("pos", sa.Integer, nullable=False),
    sqlite_with_rowid=False,
)
sa.Index("ix_event_members_event", event_members.c.event_id, event_members.c.pos)

storylines = sa.Table(
    "storylines",
    metadata,
    sa.Column("id", Key, primary_key=True),
    sa.Column("title", sa.Text, nullable=False),
)

stage_runs = sa.Table(
    "stage_runs",
    metadata,
    sa.Column("stage", Key, primary_key=True),
    sa.Column("version", sa.Text, nullable=False),
    sa.Column("finished", sa.Text, nullable=False),
    sa.Column("stats", sa.Text, nullable=False),
)

# Aliases for methods whose parameters shadow the table names.
sentences_t, events_t, storylines_t = sentences, events, storylines

#: Tables of schema version 1 (the hand-written backends), by dependency (children first).
LEGACY_V1_TABLES = (
    "sentences",
    "event_articles",
    "articles",
    "rejections",
    "records",
    "vectors",
    "events",
    "storylines",
    "stage_runs",
    "meta",
)

#: Names a database holding storydesk data would have; one of them without a version is foreign.
OWN_TABLES = frozenset(metadata.tables) | frozenset(LEGACY_V1_TABLES)


# --------------------------------------------------------------------------- migrations


@dataclass(frozen=True)
class Migration:
    """One schema version: what it is, and how the previous version becomes it.

    ``upgrade`` is None for version 1, which nothing upgrades to (it is what the
    hand-written backends created). A fresh database is created at the latest
    version directly from :data:`metadata`.
    """

    version: int
    summary: str
    upgrade: Callable[[SQLStore], None] | None


def _upgrade_to_v2(store: SQLStore) -> None:
    """Version 1 -> 2: keep the input (articles, sentences, rejections), drop what was derived from it.

    Articles keep their text, metadata, sentence offsets and ingest order;
    rejections are deduplicated per ``(source, code)`` (the oldest kept). Derived
    records, vectors, events, storylines, stage runs and meta (which only described
    derived state) are dropped, and every article is queued (scope ``article``) so
    the pipeline rebuilds everything.

    The new tables are created from :data:`metadata`, which is right while 2 is the
    latest version; a migration to 3 that changes a table must freeze the version-2
    DDL here (tests/test_store.py upgrades a version-1 file to the latest version).
    """
    d = store._dialect
    legacy = d.park_legacy(store)
    _create_tables(store)
    la = legacy(
        "articles",
        "seq",
        "id",
        "source",
        "format",
        "outlet",
        "title",
        "published",
        "published_source",
        "url",
        "dateline",
        "text",
        "raw_sha256",
        "extra",
        "ingested_at",
    )
    cols = [c.name for c in la.c]
    store._x(sa.insert(articles).from_select(cols, sa.select(*la.c).order_by(la.c.seq)))
    ls = legacy("sentences", "article_id", "idx", "start", "end", "paragraph")
    store._x(sa.insert(sentences).from_select([c.name for c in ls.c], sa.select(*ls.c)))
    lr = legacy("rejections", "id", "source", "code", "reason", "at")
    first = sa.select(sa.func.min(lr.c.id)).group_by(lr.c.source, lr.c.code)
    store._x(
        sa.insert(rejections).from_select(
            ["source", "code", "reason", "at"],
            sa.select(lr.c.source, lr.c.code, lr.c.reason, lr.c.at).where(lr.c.id.in_(first)).order_by(lr.c.id),
        )
    )
    store._x(
        sa.insert(queue).from_select(
            ["scope", "key"], sa.select(sa.literal("article"), articles.c.id).order_by(articles.c.seq)
        )
    )
    d.drop_legacy(store)
    store._dirty = True


#: Every schema version, oldest first. Never edit a released entry: append one.
MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "hand-written SQLite/PostgreSQL backends: JSON records, float32 vectors", None),
    Migration(
        2,
        "SQLAlchemy Core: artifact rows with stamps, work queue, offsets-only sentences,"
        " external-content FTS5, idempotent rejections, events by storyline column",
        _upgrade_to_v2,
    ),
)
SCHEMA_VERSION = MIGRATIONS[-1].version


def _create_tables(store: SQLStore) -> None:
    """The latest schema's tables, indexes and search structures (inside the migration transaction)."""
    metadata.create_all(store._conn, checkfirst=False)
    store._dialect.create_search(store)


# --------------------------------------------------------------------------- helpers


def _now() -> str:
    """UTC timestamp for bookkeeping columns."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


def _chunks(items: Sequence[str], n: int) -> Iterator[Sequence[str]]:
    """Slices of at most ``n`` items (bound parameters per statement are capped)."""
    for i in range(0, len(items), n):
        yield items[i : i + n]


def _unique(items: Iterable[str]) -> list[str]:
    """Items without repeats, first occurrence order kept."""
    return list(dict.fromkeys(items))


def _iso(day: dt.date | None) -> str | None:
    """ISO text of an optional date."""
    return day.isoformat() if day else None


def _check_nul(what: str, *values: str | None) -> None:
    """Refuse text holding NUL characters (PostgreSQL text cannot hold them; SQLite refuses them too, for parity)."""
    for v in values:
        if v and "\x00" in v:
            raise StoreError(
                f"{what} contains a NUL character (\\x00), which the store does not accept"
                " (PostgreSQL text cannot hold it); remove it before storing"
            )


#: What a statement returns: rows of any width.
Result = sa.CursorResult[*tuple[Any, ...]]


def _orig(e: sa.exc.DBAPIError) -> BaseException:
    """The driver's own exception inside SQLAlchemy's wrapper."""
    return e.orig if e.orig is not None else e


def _search_words(query: str) -> list[str]:
    """Words of a search query, quotes dropped; tokens without a letter or digit are ignored."""
    words = (t.replace('"', "").replace("\x00", "") for t in query.split())
    return [w for w in words if re.search(r"[^\W_]", w)]


# Statements used per article or per call of a hot method, built once (SQLAlchemy
# then reuses their compiled form instead of rebuilding and re-keying them).
_IDS: sa.BindParameter[Any] = sa.bindparam("ids", expanding=True)
_SELECT_ARTICLE = sa.select(articles)
_ARTICLE_BY_ID = _SELECT_ARTICLE.where(articles.c.id == sa.bindparam("b_id"))
_ARTICLES_BY_IDS = _SELECT_ARTICLE.where(articles.c.id.in_(_IDS))
_INSERT_ARTICLE = (
    sa.insert(articles)
    .values(seq=sa.select(sa.func.coalesce(sa.func.max(articles.c.seq), 0) + 1).scalar_subquery())
    .inline()  # no RETURNING of the new seq: nobody reads it
)
_UPDATE_ARTICLE = sa.update(articles).where(articles.c.id == sa.bindparam("b_id"))
_INSERT_SENTENCES = sa.insert(sentences)
_DELETE_SENTENCES = sa.delete(sentences).where(sentences.c.article_id == sa.bindparam("b_id"))
_DELETE_ARTICLE_ARTIFACTS = sa.delete(artifacts).where(
    artifacts.c.key == sa.bindparam("b_id"), artifacts.c.artifact.in_(sa.bindparam("names", expanding=True))
)
_SPANS = (
    sa.select(sentences.c.article_id, sentences.c.idx, sentences.c.start, sentences.c.end, sentences.c.paragraph)
    .where(sentences.c.article_id.in_(_IDS))
    .order_by(sentences.c.article_id, sentences.c.idx)
)
_MEMBERS = (
    sa.select(event_members.c.event_id, event_members.c.article_id)
    .where(event_members.c.event_id.in_(_IDS))
    .order_by(event_members.c.event_id, event_members.c.pos)
)
_TEXTS = sa.select(articles.c.id, articles.c.text).where(articles.c.id.in_(_IDS))
_ROWS = sa.select(artifacts.c.key, artifacts.c.version, artifacts.c.fingerprint, artifacts.c.digest, artifacts.c.data)
_ROWS_BY_KEYS = _ROWS.where(artifacts.c.artifact == sa.bindparam("a"), artifacts.c.key.in_(_IDS))
_ROWS_OF = sa.select(artifacts.c.artifact, *_ROWS.selected_columns).where(
    artifacts.c.artifact.in_(sa.bindparam("names", expanding=True)), artifacts.c.key.in_(_IDS)
)
_EVENT = sa.select(events.c.id, events.c.title, events.c.storyline, events.c.start, events.c.end)


def _article(row: sa.Row[*tuple[Any, ...]]) -> Article:
    """An ``articles`` row -> Article."""
    m = row._mapping
    extra = json.loads(m["extra"])
    return Article(
        id=m["id"],
        source=m["source"],
        text=m["text"],
        title=m["title"],
        outlet=m["outlet"],
        published=m["published"],
        published_source=m["published_source"],
        url=m["url"],
        dateline=m["dateline"],
        subheadings=tuple(extra.get("subheadings", ())),
        stripped=tuple(from_dict(StrippedLine, s) for s in extra.get("stripped", ())),
        format=m["format"],
        raw_sha256=m["raw_sha256"],
    )


def _article_values(a: Article) -> dict[str, Any]:
    """Column values of an article (without ``seq`` and ``ingested_at``)."""
    extra = {"subheadings": list(a.subheadings), "stripped": [to_dict(s) for s in a.stripped]}
    return {
        "id": a.id,
        "source": a.source,
        "format": a.format,
        "outlet": a.outlet,
        "title": a.title,
        "published": a.published,
        "published_source": a.published_source,
        "url": a.url,
        "dateline": a.dateline,
        "text": a.text,
        "raw_sha256": a.raw_sha256,
        "extra": json.dumps(extra, ensure_ascii=False),
    }


def _publication_key(published: dt.date | None, seq: int) -> tuple[bool, dt.date, int]:
    """Sort key of publication order, as the SQL ORDER BY."""
    return (published is None, published or dt.date.min, seq)


# --------------------------------------------------------------------------- dialect hooks


class _Dialect:
    """What SQLite and PostgreSQL do differently; everything else is shared Core SQL."""

    name: ClassVar[str]
    #: Keys per IN list (SQLite builds may cap bound parameters at 999).
    chunk: ClassVar[int]
    #: The dialect's INSERT construct (``on_conflict_do_update`` / ``_do_nothing``).
    insert: ClassVar[Callable[..., Any]]

    def connect(self, store: SQLStore) -> sa.Engine:
        """Open and prepare the driver connection; an engine whose one pooled connection it is."""
        raise NotImplementedError

    def begin_write(self, store: SQLStore) -> None:
        """Begin a transaction holding the database's writer lock (or raise StoreBusyError)."""
        raise NotImplementedError

    def begin_read(self, store: SQLStore) -> None:
        """Begin a transaction that reads one consistent snapshot."""
        store._raw("BEGIN")

    def is_busy(self, err: BaseException) -> bool:
        """True if a driver error means "another writer holds the lock"."""
        raise NotImplementedError

    def table_names(self, store: SQLStore) -> set[str]:
        """Tables in the store's database (or schema)."""
        raise NotImplementedError

    def stored_version(self, store: SQLStore) -> int:
        """A schema version kept outside ``storydesk_schema`` (SQLite's user_version), else 0."""
        return 0

    def stamp_version(self, store: SQLStore, version: int) -> None:
        """Record the schema version where older storydesk versions look for it."""

    def migration_lock(self, store: SQLStore) -> Any:
        """A context holding the migration lock (so concurrent first opens migrate once)."""
        return _nullcontext()

    def create_search(self, store: SQLStore) -> None:
        """Create the full-text index over ``articles(title, text)``."""
        raise NotImplementedError

    def search(self, store: SQLStore, words: list[str], limit: int) -> list[str]:
        """Article ids holding every word, best first (``limit < 0``: all)."""
        raise NotImplementedError

    def distinct_outlets(self, column: Any) -> Any:
        """Aggregate of the distinct non-null values of a column, for event_overview."""
        raise NotImplementedError

    def outlets(self, value: Any) -> list[str]:
        """That aggregate's value -> sorted outlets."""
        raise NotImplementedError

    def size_bytes(self, store: SQLStore) -> int:
        """Bytes the store takes."""
        raise NotImplementedError

    def park_legacy(self, store: SQLStore) -> Callable[..., sa.TableClause]:
        """Move version-1 tables out of the way; a factory of light tables to read them."""
        raise NotImplementedError

    def drop_legacy(self, store: SQLStore) -> None:
        """Drop what :meth:`park_legacy` kept."""
        raise NotImplementedError

    def error_text(self, store: SQLStore, err: BaseException) -> str:
        """One-line driver error text, fit for messages."""
        return " ".join(str(err).split())


class _nullcontext:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


class _SQLite(_Dialect):
    """SQLite through the standard library's sqlite3 (pysqlite)."""

    name = "sqlite"
    chunk = 900
    insert = staticmethod(sqlite_dialect.insert)

    def __init__(self, path: str) -> None:
        self.path = path

    def connect(self, store: SQLStore) -> sa.Engine:
        path = self.path
        try:
            if store.readonly:
                if path == ":memory:":
                    raise StoreError("an in-memory database cannot be opened read-only")
                target = Path(path).resolve().as_uri() + "?mode=ro"
                con = sqlite3.connect(target, uri=True, check_same_thread=False, isolation_level=None)
            else:
                if path != ":memory:":
                    Path(path).parent.mkdir(parents=True, exist_ok=True)
                con = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except (sqlite3.Error, OSError) as e:
            raise StoreError(f"cannot open database {path}: {e}") from e
        try:
            con.execute(f"PRAGMA busy_timeout = {int(store.busy_timeout * 1000)}")
            con.execute("PRAGMA foreign_keys = ON")
            if not store.readonly:
                con.execute("PRAGMA journal_mode = WAL")
                con.execute("PRAGMA synchronous = NORMAL")
            con.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError as e:
            con.close()
            if self.is_busy(e):
                raise StoreBusyError(store._busy_message()) from e
            raise StoreError(f"cannot open database {path}: {e}") from e
        except sqlite3.DatabaseError as e:
            con.close()
            raise StoreError(f"{path} is not a storydesk database: {e}") from e
        return sa.create_engine(
            "sqlite+pysqlite://",
            creator=lambda: con,
            poolclass=StaticPool,
            isolation_level="AUTOCOMMIT",
            hide_parameters=True,
        )

    def set_busy_timeout(self, store: SQLStore, seconds: float) -> None:
        """Tell SQLite's own busy handler how long to wait."""
        store._raw(f"PRAGMA busy_timeout = {int(seconds * 1000)}")

    def begin_write(self, store: SQLStore) -> None:
        # SQLite's busy handler already waits (busy_timeout); some lock conflicts skip it,
        # so "database is locked" is retried here with backoff until the deadline.
        deadline = time.monotonic() + store.busy_timeout
        delay = 0.005
        while True:
            try:
                store._conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            except sa.exc.DBAPIError as e:
                if not self.is_busy(_orig(e)):
                    raise store._error(e) from e
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreBusyError(store._busy_message()) from None
                time.sleep(min(delay, left))
                delay = min(delay * 2, 0.25)

    def is_busy(self, err: BaseException) -> bool:
        code = getattr(err, "sqlite_errorcode", None)
        if code is not None:
            return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
        text = str(err)
        return isinstance(err, sqlite3.OperationalError) and ("database is locked" in text or "is busy" in text)

    def table_names(self, store: SQLStore) -> set[str]:
        rows = store._x(sa.text("SELECT name FROM sqlite_master WHERE type = 'table'")).all()
        return {r[0] for r in rows}

    def stored_version(self, store: SQLStore) -> int:
        return int(store._x(sa.text("PRAGMA user_version")).scalar_one())

    def stamp_version(self, store: SQLStore, version: int) -> None:
        store._raw(f"PRAGMA user_version = {int(version)}")

    def create_search(self, store: SQLStore) -> None:
        # External content: the index refers to articles by seq and reads nothing twice;
        # the triggers keep it in step (a 'delete' must see the values that were indexed).
        for stmt in (
            "CREATE VIRTUAL TABLE articles_fts USING fts5("
            # detail=column: no word positions (every query word is its own one-word phrase, and
            # bm25 needs only counts), which keeps the index to about half the size
            "title, text, content='articles', content_rowid='seq', tokenize='porter unicode61', detail=column)",
            "CREATE TRIGGER articles_fts_insert AFTER INSERT ON articles BEGIN"
            " INSERT INTO articles_fts (rowid, title, text) VALUES (new.seq, new.title, new.text); END",
            "CREATE TRIGGER articles_fts_delete AFTER DELETE ON articles BEGIN"
            " INSERT INTO articles_fts (articles_fts, rowid, title, text)"
            " VALUES ('delete', old.seq, old.title, old.text); END",
            "CREATE TRIGGER articles_fts_update AFTER UPDATE OF title, text ON articles BEGIN"
            " INSERT INTO articles_fts (articles_fts, rowid, title, text)"
            " VALUES ('delete', old.seq, old.title, old.text);"
            " INSERT INTO articles_fts (rowid, title, text) VALUES (new.seq, new.title, new.text); END",
        ):
            store._raw(stmt)

    _SEARCH = sa.text(
        "SELECT a.id FROM articles_fts JOIN articles AS a ON a.seq = articles_fts.rowid"
        " WHERE articles_fts MATCH :q ORDER BY bm25(articles_fts), a.seq LIMIT :n"
    )

    def search(self, store: SQLStore, words: list[str], limit: int) -> list[str]:
        # each token the tokenizer would make, as its own quoted one-token phrase: operators are
        # inert, and no phrase has two tokens (the index keeps no positions: detail=column)
        tokens = [t for w in words for t in re.findall(r"[^\W_]+", w)]
        if not tokens:
            return []
        q = " ".join(f'"{t}"' for t in tokens)
        return [r[0] for r in store._x(self._SEARCH, {"q": q, "n": limit if limit >= 0 else -1}).all()]

    def distinct_outlets(self, column: Any) -> Any:
        return sa.func.json_group_array(sa.distinct(column))

    def outlets(self, value: Any) -> list[str]:
        return sorted(o for o in json.loads(value) if o)

    def size_bytes(self, store: SQLStore) -> int:
        if self.path == ":memory:":
            pages = store._x(sa.text("PRAGMA page_count")).scalar_one()
            return int(pages) * int(store._x(sa.text("PRAGMA page_size")).scalar_one())
        return sum(os.path.getsize(p) for p in (self.path, self.path + "-wal") if os.path.exists(p))

    def park_legacy(self, store: SQLStore) -> Callable[..., sa.TableClause]:
        # Derived tables go at once (children first); the input is renamed aside.
        present = self.table_names(store)
        store._raw("DROP TABLE IF EXISTS articles_fts")
        for name in ("event_articles", "events", "records", "vectors", "storylines", "stage_runs", "meta"):
            if name in present:
                store._raw(f'DROP TABLE "{name}"')
        for name in ("articles", "sentences", "rejections"):
            store._raw(f'ALTER TABLE "{name}" RENAME TO "legacy_v1_{name}"')
        store._raw("DROP INDEX IF EXISTS articles_order")
        return lambda name, *cols: sa.table(f"legacy_v1_{name}", *(sa.column(c) for c in cols))

    def drop_legacy(self, store: SQLStore) -> None:
        for name in ("sentences", "articles", "rejections"):
            store._raw(f'DROP TABLE "legacy_v1_{name}"')


#: Advisory lock keys (64-bit constants unique to storydesk, scoped to one database):
#: one held by every writing transaction, one around migrations. Version 1 used the same.
_WRITE_LOCK = 0x5354_4F52_5944_0001
_MIGRATE_LOCK = 0x5354_4F52_5944_0002
_LEGACY_SCHEMA = "storydesk_legacy_v1"


class _Postgres(_Dialect):
    """PostgreSQL through psycopg 3."""

    name = "postgresql"
    chunk = 5000
    insert = staticmethod(pg_dialect.insert)

    def __init__(self, url: str, connect_timeout: int) -> None:
        self.dsn = url
        self.connect_timeout = connect_timeout
        self.secrets = _secrets(url)

    def scrub(self, err: BaseException | str) -> str:
        """One-line error text with any password from the URL masked."""
        text = " ".join(str(err).split())
        for s in self.secrets:
            text = text.replace(s, "***")
        return text

    def error_text(self, store: SQLStore, err: BaseException) -> str:
        return self.scrub(err)

    def connect(self, store: SQLStore) -> sa.Engine:
        try:
            import psycopg
            from psycopg.conninfo import conninfo_to_dict
        except ImportError as e:
            raise ConfigError(
                f"a postgresql:// database needs the [postgres] extra: pip install 'storydesk[postgres]' ({e})"
            ) from None
        try:
            info = conninfo_to_dict(self.dsn)
        except psycopg.Error as e:
            why = self.scrub(e)
            if self.secrets:  # the driver quotes the part it could not parse, which may hold a piece of the password
                why = re.sub(r'"[^"]*"', '"***"', why)
            raise StoreError(f"invalid PostgreSQL URL {store.url}: {why}") from None
        kwargs: dict[str, Any] = {"autocommit": True, "client_encoding": "utf8"}
        if "connect_timeout" not in info:
            kwargs["connect_timeout"] = self.connect_timeout
        if "application_name" not in info:
            kwargs["application_name"] = "storydesk"
        try:
            con = psycopg.connect(self.dsn, **kwargs)
        except psycopg.Error as e:
            # from None: the driver's exception text may repeat the URL, password included.
            raise StoreError(f"cannot connect to PostgreSQL at {store.url}: {self.scrub(e)}") from None
        try:
            row = con.execute("SHOW server_encoding").fetchone()
            if row is None or row[0] != "UTF8":
                raise StoreError(
                    f"{store.url} uses the {row[0] if row else 'unknown'} encoding; storydesk needs a UTF8"
                    " database (CREATE DATABASE ... ENCODING 'UTF8' TEMPLATE template0)"
                )
            con.execute("SET datestyle TO ISO, YMD")  # dates travel as ISO text whatever the server's DateStyle
            if store.readonly:
                con.execute("SET default_transaction_read_only TO on")
        except psycopg.Error as e:
            con.close()
            raise StoreError(f"cannot open the storydesk database at {store.url}: {self.scrub(e)}") from None
        except BaseException:
            con.close()
            raise
        return sa.create_engine(
            "postgresql+psycopg://",
            creator=lambda: con,
            poolclass=StaticPool,
            isolation_level="AUTOCOMMIT",
            hide_parameters=True,
        )

    def begin_write(self, store: SQLStore) -> None:
        store._raw("BEGIN")
        try:
            store._raw(f"SET LOCAL lock_timeout = {max(1, int(store.busy_timeout * 1000))}")
            store._conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_WRITE_LOCK})")
            store._raw("SET LOCAL lock_timeout TO DEFAULT")
        except BaseException as e:
            store._rollback(e)
            if isinstance(e, sa.exc.DBAPIError):
                if self.is_busy(_orig(e)):
                    raise StoreBusyError(store._busy_message()) from None
                raise store._error(e) from None
            raise

    def begin_read(self, store: SQLStore) -> None:
        store._raw("BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY")

    def is_busy(self, err: BaseException) -> bool:
        return getattr(err, "sqlstate", None) == "55P03"  # lock_not_available (lock_timeout)

    def table_names(self, store: SQLStore) -> set[str]:
        rows = store._x(
            sa.text("SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()")
        ).all()
        return {r[0] for r in rows}

    @contextmanager
    def migration_lock(self, store: SQLStore) -> Iterator[None]:
        # Taken *before* the migration transaction begins, so that transaction starts after
        # a concurrent first open's commit and sees its tables.
        store._raw(f"SELECT pg_advisory_lock({_MIGRATE_LOCK})")
        try:
            yield
        finally:
            with suppress(StoreError):  # a failure means the connection is gone, and the lock with it
                store._raw(f"SELECT pg_advisory_unlock({_MIGRATE_LOCK})")

    def create_search(self, store: SQLStore) -> None:
        # Snowball English without a stop-word list (close to SQLite's porter tokenizer).
        # Version 1 already created the configuration; it is reused.
        have = store._x(
            sa.text(
                "SELECT count(*) FROM pg_ts_config c JOIN pg_namespace n ON n.oid = c.cfgnamespace"
                " WHERE c.cfgname = 'storydesk_english' AND n.nspname = current_schema()"
            )
        ).scalar_one()
        if not have:
            store._raw("CREATE TEXT SEARCH DICTIONARY storydesk_english_stem (TEMPLATE = snowball, Language = english)")
            store._raw("CREATE TEXT SEARCH CONFIGURATION storydesk_english (COPY = pg_catalog.english)")
            store._raw(
                "ALTER TEXT SEARCH CONFIGURATION storydesk_english"
                " ALTER MAPPING FOR asciiword, asciihword, hword_asciipart, word, hword, hword_part"
                " WITH storydesk_english_stem"
            )
        store._raw(
            "ALTER TABLE articles ADD COLUMN search TSVECTOR GENERATED ALWAYS AS ("
            f"to_tsvector('storydesk_english', left(coalesce(title, '') || ' ' || text, {SEARCH_INDEX_CHARS}))"
            ") STORED"
        )
        store._raw("CREATE INDEX ix_articles_search ON articles USING gin (search)")

    _SEARCH = sa.text(
        "SELECT a.id FROM articles AS a, plainto_tsquery('storydesk_english', :q) AS q"
        " WHERE numnode(q) > 0 AND a.search @@ q ORDER BY ts_rank(a.search, q) DESC, a.seq LIMIT :n"
    )

    def search(self, store: SQLStore, words: list[str], limit: int) -> list[str]:
        params = {"q": " ".join(words), "n": limit if limit >= 0 else None}  # LIMIT NULL: no limit
        return [r[0] for r in store._x(self._SEARCH, params).all()]

    def distinct_outlets(self, column: Any) -> Any:
        return sa.func.array_remove(sa.func.array_agg(sa.distinct(column)), sa.null())

    def outlets(self, value: Any) -> list[str]:
        return sorted(o for o in value or () if o)

    def size_bytes(self, store: SQLStore) -> int:
        got = store._x(
            sa.text(
                "SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = current_schema() AND c.relkind = 'r' AND c.relname IN :names"
            ).bindparams(sa.bindparam("names", expanding=True)),
            {"names": sorted(metadata.tables)},
        ).scalar_one()
        return int(got)

    def park_legacy(self, store: SQLStore) -> Callable[..., sa.TableClause]:
        # Index and constraint names are per schema: moving the old tables into a schema
        # of their own frees every name the new tables use.
        present = self.table_names(store)
        store._raw(f"CREATE SCHEMA {_LEGACY_SCHEMA}")
        for name in (*LEGACY_V1_TABLES, "storydesk_schema"):
            if name in present:
                store._raw(f'ALTER TABLE "{name}" SET SCHEMA {_LEGACY_SCHEMA}')
        return lambda name, *cols: sa.table(name, *(sa.column(c) for c in cols), schema=_LEGACY_SCHEMA)

    def drop_legacy(self, store: SQLStore) -> None:
        store._raw(f"DROP SCHEMA {_LEGACY_SCHEMA} CASCADE")


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
    """A PostgreSQL URL without its password, fit for messages and logs.

    Returns:
        ``postgresql://user@host:port/dbname`` (parts the URL leaves out are omitted).
    """
    info: dict[str, Any] = {}
    try:
        from psycopg.conninfo import conninfo_to_dict

        info = conninfo_to_dict(url)
    except Exception:  # psycopg missing, or an unparseable URL: scrub by hand below
        info = {}
    if not info:
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


# --------------------------------------------------------------------------- the store


class SQLStore(Store):
    """A :class:`Store` in SQLite or PostgreSQL.

    Args:
        url: A file path, ``sqlite:///path`` (``:memory:`` works), or a libpq URL
            ``postgresql://user[:password]@host[:port]/dbname`` (``postgres://`` too;
            query parameters pass through to libpq; needs the ``[postgres]`` extra).
        readonly: Open without write access (SQLite ``mode=ro``; a PostgreSQL
            read-only session); every write raises StoreError.
        busy_timeout: Seconds a writer waits for another writer before
            :class:`~storydesk.errors.StoreBusyError` (settable later).
        article_artifacts: Names of the ``article``-scope artifacts, whose rows of an
            article are deleted when the article is edited (settable later).
        connect_timeout: Seconds to wait for a PostgreSQL server when the URL sets
            no ``connect_timeout`` of its own.

    Raises:
        StoreError: The database cannot be opened or reached, is not a storydesk
            database, or (PostgreSQL) does not use UTF-8.
        SchemaVersionError: The database was written by a newer storydesk.
        ConfigError: A PostgreSQL URL without the ``[postgres]`` extra installed.

    One connection per instance, guarded by a lock: share an instance between
    threads only serially (the web server opens one store per thread).
    """

    def __init__(
        self,
        url: str | Path,
        readonly: bool = False,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        article_artifacts: Iterable[str] = (),
        connect_timeout: int = 10,
    ) -> None:
        s = str(url)
        self.readonly = readonly
        self.article_artifacts = frozenset(article_artifacts)
        self._busy_timeout = float(busy_timeout)
        self._lock = threading.RLock()
        self._depth = 0  # open transaction() blocks
        self._reading_depth = 0  # open _reading() blocks outside a transaction
        self._dirty = False  # the open write transaction changed something
        self._closed = False
        self.path: str | None
        self._dialect: _SQLite | _Postgres
        if s.startswith(("postgresql://", "postgres://")):
            self._dialect = _Postgres(s, connect_timeout)
            self.url = self._dialect.scrub(redact(s))  # belt and braces for URLs too malformed to parse
            self.path = None
        else:
            if s.startswith("sqlite:///"):
                s = s[len("sqlite:///") :]
            elif s == "sqlite://":
                s = ":memory:"
            self._dialect = _SQLite(s)
            self.url = self.path = s
        self._engine = self._dialect.connect(self)
        try:
            self._conn = self._engine.connect()
        except sa.exc.DBAPIError as e:
            self._engine.dispose()
            raise StoreError(f"cannot open {self.url}: {self._dialect.error_text(self, _orig(e))}") from None
        try:
            self._migrate()
        except BaseException as e:
            self.close()
            if isinstance(e, sa.exc.DBAPIError):
                raise StoreError(
                    f"cannot open the storydesk database at {self.url}: {self._dialect.error_text(self, _orig(e))}"
                ) from None
            raise

    # ------------------------------------------------------------------ plumbing
    @property
    def busy_timeout(self) -> float:
        """Seconds a writer waits for another writer before StoreBusyError."""
        return self._busy_timeout

    @busy_timeout.setter
    def busy_timeout(self, seconds: float) -> None:
        with self._lock:
            self._busy_timeout = float(seconds)
            if isinstance(self._dialect, _SQLite):
                self._dialect.set_busy_timeout(self, self._busy_timeout)

    def _busy_message(self) -> str:
        return (
            f"{self.url} is busy: another storydesk process has been writing to it for more than"
            f" {self._busy_timeout:g} s; try again when it has finished"
        )

    def _error(self, e: sa.exc.DBAPIError) -> StoreError:
        """A driver error as a StoreError (StoreBusyError when another writer holds the lock)."""
        if self._dialect.is_busy(_orig(e)):
            return StoreBusyError(self._busy_message())
        text = self._dialect.error_text(self, _orig(e))
        if self.readonly and ("readonly" in text or "read-only" in text):
            return StoreError(f"{self.url} is open read-only: {text}")
        return StoreError(f"database error on {self.url}: {text}")

    def _x(self, stmt: Any, params: Any = None) -> Result:
        """Execute one statement (a list of parameter dicts: executemany), wrapping driver errors."""
        try:
            return self._conn.execute(stmt, params)
        except sa.exc.DBAPIError as e:
            raise self._error(e) from (None if self._dialect.name == "postgresql" else e)

    def _raw(self, sql: str) -> None:
        """Execute literal SQL (transaction control, DDL), wrapping driver errors."""
        try:
            self._conn.exec_driver_sql(sql)
        except sa.exc.DBAPIError as e:
            raise self._error(e) from (None if self._dialect.name == "postgresql" else e)

    def _w(self, stmt: Any, params: Any = None) -> int:
        """Execute a write inside the open transaction; rows affected (-1 if unknown)."""
        if isinstance(params, list):
            if not params:
                return 0
            self._x(stmt, params)
            self._dirty = True
            return -1
        n = self._x(stmt, params).rowcount
        if n != 0:
            self._dirty = True
        return n

    def _rollback(self, cause: BaseException) -> None:
        """Roll back the open transaction; a failure to do so is noted on ``cause``, not raised over it."""
        try:
            self._conn.exec_driver_sql("ROLLBACK")
        except Exception as e:
            cause.add_note(f"rollback also failed: {self._dialect.error_text(self, e)}")

    @contextmanager
    def _reading(self, statements: int = 2) -> Iterator[None]:
        """Reads from one snapshot (joins an open transaction); one statement needs none."""
        with self._lock:
            if self._depth or self._reading_depth or statements < 2:
                self._reading_depth += 1
                try:
                    yield
                finally:
                    self._reading_depth -= 1
                return
            self._dialect.begin_read(self)
            self._reading_depth = 1
            try:
                yield
            finally:
                self._reading_depth = 0
                try:
                    self._conn.exec_driver_sql("COMMIT")
                except sa.exc.DBAPIError as e:
                    raise self._error(e) from None

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside share one read transaction (see :meth:`Store.snapshot`)."""
        return self._reading()

    def _in(self, ids: Iterable[str]) -> Iterator[Sequence[str]]:
        """Distinct ids in chunks fit for one IN list."""
        return _chunks(_unique(ids), self._dialect.chunk)

    # ------------------------------------------------------------------ lifecycle
    def _version(self) -> int:
        """The stored schema version (0: empty database); raises StoreError for a foreign one."""
        names = self._dialect.table_names(self)
        version = self._dialect.stored_version(self)
        if "storydesk_schema" in names:
            got = self._x(sa.select(sa.func.max(storydesk_schema.c.version))).scalar()
            version = max(version, int(got or 0))
        if version == 0 and names:
            if isinstance(self._dialect, _SQLite):
                raise StoreError(f"{self.url} is an SQLite file but not a storydesk database")
            clash = sorted(names & OWN_TABLES)
            if clash:
                raise StoreError(
                    f"{self.url} is not a storydesk database: it has tables named {', '.join(clash)} but no"
                    " storydesk_schema; use an empty database (or another schema via options=-csearch_path=...)"
                )
        return version

    def _check_version(self, version: int) -> None:
        if version > SCHEMA_VERSION:
            raise SchemaVersionError(
                f"{self.url} has schema version {version}; this storydesk understands up to "
                f"{SCHEMA_VERSION}. Upgrade storydesk."
            )

    def _migrate(self) -> None:
        """Bring the schema up to date in one transaction, refusing newer and foreign databases."""
        version = self._version()
        self._check_version(version)
        if version == SCHEMA_VERSION:
            return
        if self.readonly:
            raise StoreError(f"{self.url} needs a schema upgrade (version {version}); open it once read-write")
        with self._dialect.migration_lock(self), self.transaction():
            version = self._version()  # another process may have migrated meanwhile
            self._check_version(version)
            if version == SCHEMA_VERSION:
                return
            if version == 0:
                _create_tables(self)
                self._w(sa.insert(storydesk_schema).values(version=SCHEMA_VERSION, generation=0, at=_now()))
            else:
                for m in MIGRATIONS[version:]:
                    assert m.upgrade is not None
                    m.upgrade(self)
                self._w(sa.delete(storydesk_schema))
                self._w(sa.insert(storydesk_schema).values(version=SCHEMA_VERSION, generation=0, at=_now()))
            self._dialect.stamp_version(self, SCHEMA_VERSION)

    def close(self) -> None:
        """Close the connection (idempotent)."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            with suppress(Exception):  # a broken connection is closed anyway
                self._conn.close()
            self._engine.dispose()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """A writing transaction (see :meth:`Store.transaction`); nested blocks join the outermost."""
        if self.readonly:
            raise StoreError(f"{self.url} is open read-only")
        with self._lock:
            if self._depth:
                self._depth += 1
                try:
                    yield
                finally:
                    self._depth -= 1
                return
            if self._reading_depth:
                raise StoreError("a write cannot start inside a read snapshot")
            self._dialect.begin_write(self)
            self._depth = 1
            self._dirty = False
            try:
                yield
                if self._dirty:
                    self._x(sa.update(storydesk_schema).values(generation=storydesk_schema.c.generation + 1))
                self._raw("COMMIT")
            except BaseException as e:
                self._rollback(e)
                raise
            finally:
                self._depth = 0
                self._dirty = False

    def change_token(self) -> str:
        """The generation counter: bumped by every committed write that changed something, by anyone."""
        with self._lock:
            return str(self._x(sa.select(storydesk_schema.c.generation)).scalar_one())

    def size_bytes(self) -> int:
        """Bytes the database takes (SQLite: file and WAL; PostgreSQL: storydesk's tables with indexes)."""
        with self._lock:
            return self._dialect.size_bytes(self)

    # ------------------------------------------------------------------ articles
    def add_article(self, article: Article, sentences: Sequence[Sentence]) -> AddStatus:
        """Store an article with its sentences (see :meth:`Store.add_article`).

        Sentences are stored as offsets: each one's text must be ``article.text[start:end]``.
        """
        a = article
        for field in ("id", "source", "text", "title", "outlet", "url", "dateline", "published_source", "format"):
            _check_nul(f"article {a.id!r} ({a.source}) field {field!r}", getattr(a, field))
        _check_nul(f"article {a.id!r} ({a.source}) field 'subheadings'", *a.subheadings)
        _check_nul(f"article {a.id!r} ({a.source}) field 'stripped'", *(s.text for s in a.stripped))
        for s in sentences:
            if s.article_id != a.id or a.text[s.start : s.end] != s.text:
                raise StoreError(
                    f"sentence {s.index} of article {a.id!r} is not the slice [{s.start}:{s.end}] of its text"
                    " (the store keeps sentence offsets only)"
                )
        values = _article_values(a)
        sentence_rows = [
            {"article_id": a.id, "idx": s.index, "start": s.start, "end": s.end, "paragraph": s.paragraph}
            for s in sentences
        ]
        by_id = {"b_id": a.id}
        with self._lock:
            if not self._depth and self._stored_equal(a):
                return "unchanged"  # read outside the writer lock: re-ingest does not queue behind writers
            with self.transaction():
                row = self._x(_ARTICLE_BY_ID, by_id).first()
                if row is None:
                    self._w(_INSERT_ARTICLE, {**values, "ingested_at": _now()})
                    status: AddStatus = "added"
                else:
                    if _article(row) == a:
                        return "unchanged"
                    self._w(_UPDATE_ARTICLE, {**values, **by_id})
                    self._w(_DELETE_SENTENCES, by_id)
                    if self.article_artifacts:
                        self._w(_DELETE_ARTICLE_ARTIFACTS, {**by_id, "names": sorted(self.article_artifacts)})
                    status = "updated"
                self._w(_INSERT_SENTENCES, sentence_rows)
                self._enqueue("article", [a.id])
            return status

    def _stored_equal(self, a: Article) -> bool:
        row = self._x(_ARTICLE_BY_ID, {"b_id": a.id}).first()
        return row is not None and _article(row) == a

    def get_article(self, article_id: str) -> Article:
        """One article; raises NotFoundError if absent."""
        with self._lock:
            row = self._x(sa.select(articles).where(articles.c.id == article_id)).first()
        if row is None:
            raise NotFoundError(f"no article {article_id!r}")
        return _article(row)

    def has_article(self, article_id: str) -> bool:
        """True if an article with this id is stored."""
        with self._lock:
            return self._x(sa.select(articles.c.seq).where(articles.c.id == article_id)).first() is not None

    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles in publication order; unknown ids skipped."""
        if ids is None:
            with self._lock:
                return [_article(r) for r in self._x(_SELECT_ARTICLE.order_by(*_PUBLICATION_ORDER)).all()]
        chunks = list(self._in(ids))
        rows: list[sa.Row[*tuple[Any, ...]]] = []
        with self._reading(len(chunks)):
            for chunk in chunks:
                rows.extend(self._x(_ARTICLES_BY_IDS, {"ids": list(chunk)}).all())
        rows.sort(key=lambda r: _publication_key(r.published, r.seq))
        return [_article(r) for r in rows]

    def article_ids(self) -> list[str]:
        """Ids of all articles in publication order."""
        with self._lock:
            return list(self._x(sa.select(articles.c.id).order_by(*_PUBLICATION_ORDER)).scalars())

    def in_publication_order(self, ids: Iterable[str]) -> list[str]:
        """The given stored ids in publication order (unknown ids dropped)."""
        stmt = sa.select(articles.c.id, articles.c.published, articles.c.seq).where(
            articles.c.id.in_(sa.bindparam("ids", expanding=True))
        )
        rows: list[sa.Row[*tuple[Any, ...]]] = []
        chunks = list(self._in(ids))
        with self._reading(len(chunks)):
            for chunk in chunks:
                rows.extend(self._x(stmt, {"ids": list(chunk)}).all())
        rows.sort(key=lambda r: _publication_key(r.published, r.seq))
        return [r.id for r in rows]

    def article_count(self) -> int:
        """Number of stored articles."""
        with self._lock:
            return int(self._x(sa.select(sa.func.count()).select_from(articles)).scalar_one())

    def sentences(self, article_id: str) -> list[Sentence]:
        """The sentence list of one article, in order (empty for an unknown id)."""
        return self.sentences_of([article_id]).get(article_id, [])

    def sentences_of(self, ids: Iterable[str]) -> dict[str, list[Sentence]]:
        """Sentence lists of several articles (two queries per chunk of ids)."""
        out: dict[str, list[Sentence]] = {}
        with self._reading():
            for chunk in self._in(ids):
                params = {"ids": list(chunk)}
                texts: dict[str, str] = dict(self._x(_TEXTS, params).all())
                for aid in chunk:
                    if aid in texts:
                        out[aid] = []
                for aid, idx, start, end, para in self._x(_SPANS, params).all():
                    out[aid].append(Sentence(aid, idx, texts[aid][start:end], start, end, para))
        return out

    def search_articles(self, query: str, limit: int = 50) -> list[str]:
        """Ids of articles holding every word of ``query`` (stemmed) in title or text, best first."""
        words = _search_words(query)
        if not words or limit == 0:
            return []
        with self._lock:
            return self._dialect.search(self, words, limit)

    # ------------------------------------------------------------------ rejections
    def add_rejection(self, rejection: Rejection) -> bool:
        """Record a refused input; False if ``(source, code)`` is already recorded.

        NUL characters are dropped from the texts (they carry no meaning in a message).
        """
        r = rejection
        values = {
            "source": r.source.replace("\x00", ""),
            "code": r.code.replace("\x00", ""),
            "reason": r.reason.replace("\x00", ""),
            "at": r.at or _now(),
        }
        stmt = (
            self._dialect.insert(rejections)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["source", "code"])
            .returning(rejections.c.id)
        )
        with self.transaction():
            added = self._x(stmt).first() is not None
            self._dirty = self._dirty or added
            return added

    def rejections(self, limit: int | None = None, offset: int = 0) -> list[Rejection]:
        """Recorded rejections, oldest first, one page at a time."""
        stmt = sa.select(rejections.c.source, rejections.c.code, rejections.c.reason, rejections.c.at).order_by(
            rejections.c.id
        )
        if limit is not None:
            stmt = stmt.limit(limit)
        if offset:
            stmt = stmt.offset(offset)
        with self._lock:
            return [Rejection(*r) for r in self._x(stmt).all()]

    def rejection_count(self) -> int:
        """Number of recorded rejections."""
        with self._lock:
            return int(self._x(sa.select(sa.func.count()).select_from(rejections)).scalar_one())

    # ------------------------------------------------------------------ artifacts
    def put_rows(self, artifact: str, rows: Sequence[ArtifactRow]) -> None:
        """Insert or replace rows of one artifact (a key given twice: the last row wins)."""
        last = {r.key: r for r in rows}
        _check_nul(f"artifact {artifact!r} name or key", artifact, *last)
        params = [
            {
                "artifact": artifact,
                "key": r.key,
                "version": r.version,
                "fingerprint": r.fingerprint,
                "digest": r.digest,
                "data": r.data,
            }
            for r in last.values()
        ]
        with self.transaction():
            self._w(self._upsert_rows, params)

    @functools.cached_property
    def _upsert_rows(self) -> Any:
        ins = self._dialect.insert(artifacts)
        return ins.on_conflict_do_update(
            index_elements=["artifact", "key"],
            set_={c: ins.excluded[c] for c in ("version", "fingerprint", "digest", "data")},
        )

    def get_rows(self, artifact: str, keys: Iterable[str]) -> dict[str, ArtifactRow]:
        """Stored rows of one artifact for some keys (missing keys left out)."""
        out: dict[str, ArtifactRow] = {}
        chunks = list(self._in(keys))
        with self._reading(len(chunks)):
            for chunk in chunks:
                for k, v, f, d, data in self._x(_ROWS_BY_KEYS, {"a": artifact, "ids": list(chunk)}).all():
                    out[k] = ArtifactRow(k, v, f, d, bytes(data))
        return out

    def get_rows_of(self, names: Sequence[str], keys: Iterable[str]) -> dict[str, dict[str, ArtifactRow]]:
        """Stored rows of several artifacts for the same keys in one query per chunk of keys."""
        out: dict[str, dict[str, ArtifactRow]] = {n: {} for n in names}
        if not names:
            return out
        chunks = list(self._in(keys))
        with self._reading(len(chunks)):
            for chunk in chunks:
                params = {"names": list(names), "ids": list(chunk)}
                for a, k, v, f, d, data in self._x(_ROWS_OF, params).all():
                    out[a][k] = ArtifactRow(k, v, f, d, bytes(data))
        return out

    def iter_rows(self, artifact: str, batch: int = 1000) -> Iterator[ArtifactRow]:
        """Every row of one artifact in key order (byte-wise), read in batches by key ranges."""
        first = _ROWS.where(artifacts.c.artifact == artifact).order_by(artifacts.c.key).limit(batch)
        stmt = first
        while True:
            with self._lock:
                rows = self._x(stmt).all()
            for k, v, f, d, data in rows:
                yield ArtifactRow(k, v, f, d, bytes(data))
            if len(rows) < batch:
                return
            stmt = first.where(artifacts.c.key > rows[-1][0])

    def stamps(self, artifact: str, keys: Iterable[str] | None = None) -> dict[str, Stamp]:
        """Stamps of one artifact's rows (all, or some keys)."""
        a = artifacts
        stmt = sa.select(a.c.key, a.c.version, a.c.fingerprint, a.c.digest).where(a.c.artifact == artifact)
        chunks = [] if keys is None else list(self._in(keys))
        with self._reading(len(chunks)):
            if keys is None:
                got = self._x(stmt.order_by(a.c.key)).all()
            else:
                stmt = stmt.where(a.c.key.in_(sa.bindparam("keys", expanding=True)))
                got = [r for chunk in chunks for r in self._x(stmt, {"keys": list(chunk)}).all()]
        return {k: Stamp(v, f, d) for k, v, f, d in got}

    def keys_not_at(self, artifact: str, version: str) -> list[str]:
        """Keys made by another version (two index ranges around ``version``), in key order.

        Sorted here, not in SQL: an ORDER BY key makes SQLite walk the primary key
        over every row of the artifact instead of the two ranges of the covering index.
        """
        a = artifacts
        stmt = sa.select(a.c.key).where(a.c.artifact == artifact, sa.or_(a.c.version < version, a.c.version > version))
        with self._lock:
            return sorted(self._x(stmt).scalars())  # str order is code point order, i.e. UTF-8 byte order

    def delete_rows(self, artifact: str, keys: Iterable[str] | None = None) -> None:
        """Delete rows of one artifact (all of them when ``keys`` is None)."""
        a = artifacts
        with self.transaction():
            if keys is None:
                self._w(sa.delete(a).where(a.c.artifact == artifact))
                return
            stmt = sa.delete(a).where(a.c.artifact == artifact, a.c.key.in_(sa.bindparam("keys", expanding=True)))
            for chunk in self._in(keys):
                self._w(stmt, {"keys": list(chunk)})

    def artifact_sizes(self) -> dict[str, tuple[int, int]]:
        """Per artifact: ``(rows, bytes of data)``."""
        a = artifacts
        stmt = sa.select(a.c.artifact, sa.func.count(), sa.func.sum(sa.func.length(a.c.data))).group_by(a.c.artifact)
        with self._lock:
            return {name: (int(n), int(size or 0)) for name, n, size in self._x(stmt)}

    # ------------------------------------------------------------------ work queue
    @functools.cached_property
    def _enqueue_stmt(self) -> Any:
        return self._dialect.insert(queue).on_conflict_do_nothing(index_elements=["scope", "key"])

    def _enqueue(self, scope: str, keys: Sequence[str]) -> None:
        self._w(self._enqueue_stmt, [{"scope": scope, "key": k} for k in keys])

    def enqueue(self, scope: str, keys: Iterable[str]) -> None:
        """Queue keys of a scope (idempotent: a queued key keeps its place)."""
        keys = _unique(keys)
        _check_nul(f"queue scope {scope!r} or key", scope, *keys)
        with self.transaction():
            self._enqueue(scope, keys)

    def pending(self, scope: str, limit: int | None = None) -> list[str]:
        """Queued keys of a scope, oldest queued first."""
        stmt = sa.select(queue.c.key).where(queue.c.scope == scope).order_by(queue.c.id)
        if limit is not None:
            stmt = stmt.limit(limit)
        with self._lock:
            return list(self._x(stmt).scalars())

    def pending_count(self, scope: str) -> int:
        """Number of queued keys of a scope."""
        with self._lock:
            stmt = sa.select(sa.func.count()).select_from(queue).where(queue.c.scope == scope)
            return int(self._x(stmt).scalar_one())

    def dequeue(self, scope: str, keys: Iterable[str]) -> None:
        """Remove keys from a scope's queue."""
        stmt = sa.delete(queue).where(queue.c.scope == scope, queue.c.key.in_(sa.bindparam("keys", expanding=True)))
        with self.transaction():
            for chunk in self._in(keys):
                self._w(stmt, {"keys": list(chunk)})

    # ------------------------------------------------------------------ events
    def put_events(self, events: Sequence[Event]) -> None:
        """Insert or replace events with their membership; an article listed elsewhere moves here.

        An article listed twice ends at its last listing. ``first_seq`` (the sort key)
        is recomputed for these events and for every event that lost an article.
        """
        last = {e.id: e for e in events}
        members: dict[str, dict[str, Any]] = {}
        for ev in last.values():
            _check_nul(f"event {ev.id!r}", ev.id, ev.title, ev.storyline, *ev.articles)
            for pos, aid in enumerate(ev.articles):
                members.pop(aid, None)  # re-insert: dict order follows the last listing
                members[aid] = {"article_id": aid, "event_id": ev.id, "pos": pos}
        ids = list(last)
        m = event_members
        ins = self._dialect.insert(events_t)
        upsert = ins.on_conflict_do_update(
            index_elements=["id"], set_={c: ins.excluded[c] for c in ("title", "storyline", "start", "end")}
        )
        mins = self._dialect.insert(m)
        member_upsert = mins.on_conflict_do_update(
            index_elements=["article_id"], set_={"event_id": mins.excluded.event_id, "pos": mins.excluded.pos}
        )
        losers_q = sa.select(m.c.event_id).where(m.c.article_id.in_(sa.bindparam("ids", expanding=True))).distinct()
        with self.transaction():
            touched = set(ids)
            for chunk in self._in(members):
                touched.update(self._x(losers_q, {"ids": list(chunk)}).scalars())
            self._w(
                upsert,
                [
                    {
                        "id": e.id,
                        "title": e.title,
                        "storyline": e.storyline,
                        "start": e.start,
                        "end": e.end,
                        "first_seq": 0,
                    }
                    for e in last.values()
                ],
            )
            clear = sa.delete(m).where(m.c.event_id.in_(sa.bindparam("ids", expanding=True)))
            for chunk in self._in(ids):
                self._w(clear, {"ids": list(chunk)})
            self._w(member_upsert, list(members.values()))
            self._refresh_first_seq(sorted(touched))

    def _refresh_first_seq(self, event_ids: Sequence[str]) -> None:
        """Recompute ``first_seq`` (ingest order of the first member article, 0 if none) of some events."""
        m, a = event_members, articles
        first = (
            sa.select(sa.func.coalesce(sa.func.min(a.c.seq), 0))
            .select_from(m.join(a, a.c.id == m.c.article_id))
            .where(m.c.event_id == events.c.id)
            .scalar_subquery()
        )
        stmt = sa.update(events).where(events.c.id.in_(sa.bindparam("ids", expanding=True))).values(first_seq=first)
        for chunk in self._in(event_ids):
            self._w(stmt, {"ids": list(chunk)})

    def delete_events(self, event_ids: Iterable[str]) -> None:
        """Remove events; their membership rows go with them (ON DELETE CASCADE)."""
        stmt = sa.delete(events).where(events.c.id.in_(sa.bindparam("ids", expanding=True)))
        with self.transaction():
            for chunk in self._in(event_ids):
                self._w(stmt, {"ids": list(chunk)})

    def _events_with_members(self, rows: Sequence[tuple[Any, ...]]) -> list[Event]:
        """Event rows (in order) with their members, one query per chunk."""
        members: dict[str, list[str]] = {}
        for chunk in self._in(r[0] for r in rows):
            for eid, aid in self._x(_MEMBERS, {"ids": list(chunk)}).all():
                members.setdefault(eid, []).append(aid)
        return [Event(eid, tuple(members.get(eid, ())), title, sl, start, end) for eid, title, sl, start, end in rows]

    def get_event(self, event_id: str) -> Event:
        """One event; raises NotFoundError if absent."""
        with self._reading():
            row = self._x(_EVENT.where(events.c.id == event_id)).first()
            if row is None:
                raise NotFoundError(f"no event {event_id!r}")
            return self._events_with_members([row])[0]

    def events(self, ids: Iterable[str] | None = None) -> list[Event]:
        """Events (all, or some), oldest first: first article's ingest order, then id."""
        order = (events.c.first_seq, events.c.id)
        with self._reading():
            if ids is None:
                m = event_members
                rows = self._x(_EVENT.order_by(*order)).all()
                members: dict[str, list[str]] = {}
                for eid, aid in self._x(sa.select(m.c.event_id, m.c.article_id).order_by(m.c.event_id, m.c.pos)).all():
                    members.setdefault(eid, []).append(aid)
                return [Event(e, tuple(members.get(e, ())), t, sl, s, en) for e, t, sl, s, en in rows]
            stmt = sa.select(*_EVENT.selected_columns, events.c.first_seq).where(
                events.c.id.in_(sa.bindparam("ids", expanding=True))
            )
            got = [r for chunk in self._in(ids) for r in self._x(stmt, {"ids": list(chunk)}).all()]
            got.sort(key=lambda r: (r[5], r[0]))
            return self._events_with_members([r[:5] for r in got])

    def event_count(self) -> int:
        """Number of events."""
        with self._lock:
            return int(self._x(sa.select(sa.func.count()).select_from(events)).scalar_one())

    def events_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Map each given article id to its event id (articles in no event left out)."""
        m = event_members
        stmt = sa.select(m.c.article_id, m.c.event_id).where(m.c.article_id.in_(sa.bindparam("ids", expanding=True)))
        out: dict[str, str] = {}
        chunks = list(self._in(article_ids))
        with self._reading(len(chunks)):
            for chunk in chunks:
                out.update(self._x(stmt, {"ids": list(chunk)}).all())
        return out

    def event_overview(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """One light row per event for listing pages, in one query (see :meth:`Store.event_overview`)."""
        e, m, a = events, event_members, articles
        d = self._dialect
        stmt = (
            sa.select(
                e.c.id,
                e.c.title,
                e.c.storyline,
                e.c.start,
                e.c.end,
                e.c.first_seq,
                sa.func.count(m.c.article_id),
                sa.func.min(a.c.published),
                sa.func.max(a.c.published),
                d.distinct_outlets(a.c.outlet),
            )
            .select_from(e.outerjoin(m, m.c.event_id == e.c.id).outerjoin(a, a.c.id == m.c.article_id))
            .group_by(e.c.id)
            .order_by(e.c.first_seq, e.c.id)
        )
        ids = None if ids is None else list(ids)
        with self._reading(1 if ids is None else 2):
            if ids is None:
                rows = self._x(stmt).all()
            else:
                some = stmt.where(e.c.id.in_(sa.bindparam("ids", expanding=True)))
                rows = [r for chunk in self._in(ids) for r in self._x(some, {"ids": list(chunk)}).all()]
                rows.sort(key=lambda r: (r[5], r[0].encode()))
        return [
            {
                "id": eid,
                "title": title,
                "storyline": sl,
                "start": _iso(start),
                "end": _iso(end),
                "articles": int(n),
                "outlets": d.outlets(outlets),
                "first_published": _iso(first),
                "last_published": _iso(lastp),
                "seq": int(seq),
            }
            for eid, title, sl, start, end, seq, n, first, lastp, outlets in rows
        ]

    # ------------------------------------------------------------------ storylines
    def put_storylines(self, storylines: Sequence[Storyline]) -> None:
        """Insert or replace storylines: titles, and the ``storyline`` link of exactly the listed events."""
        last = {s.id: s for s in storylines}
        for s in last.values():
            _check_nul(f"storyline {s.id!r}", s.id, s.title, *s.events)
        ids = list(last)
        ins = self._dialect.insert(storylines_t)
        upsert = ins.on_conflict_do_update(index_elements=["id"], set_={"title": ins.excluded.title})
        unlink = (
            sa.update(events).where(events.c.storyline.in_(sa.bindparam("ids", expanding=True))).values(storyline=None)
        )
        link = sa.update(events).where(events.c.id == sa.bindparam("b_event")).values(storyline=sa.bindparam("b_sl"))
        with self.transaction():
            self._w(upsert, [{"id": s.id, "title": s.title} for s in last.values()])
            for chunk in self._in(ids):
                self._w(unlink, {"ids": list(chunk)})
            self._w(link, [{"b_event": ev, "b_sl": s.id} for s in last.values() for ev in s.events])

    def delete_storylines(self, storyline_ids: Iterable[str]) -> None:
        """Remove storylines; their events' links are cleared."""
        ids = _unique(storyline_ids)
        unlink = (
            sa.update(events).where(events.c.storyline.in_(sa.bindparam("ids", expanding=True))).values(storyline=None)
        )
        drop = sa.delete(storylines).where(storylines.c.id.in_(sa.bindparam("ids", expanding=True)))
        with self.transaction():
            for chunk in _chunks(ids, self._dialect.chunk):
                self._w(unlink, {"ids": list(chunk)})
                self._w(drop, {"ids": list(chunk)})

    def _with_events(self, rows: Sequence[tuple[str, str]]) -> list[Storyline]:
        """Storyline rows with their events oldest first."""
        e = events
        stmt = (
            sa.select(e.c.storyline, e.c.id)
            .where(e.c.storyline.in_(sa.bindparam("ids", expanding=True)))
            .order_by(e.c.storyline, e.c.first_seq, e.c.id)
        )
        linked: dict[str, list[str]] = {}
        for chunk in self._in(r[0] for r in rows):
            for sl, eid in self._x(stmt, {"ids": list(chunk)}).all():
                linked.setdefault(sl, []).append(eid)
        return [Storyline(sid, tuple(linked.get(sid, ())), title) for sid, title in rows]

    def get_storyline(self, storyline_id: str) -> Storyline:
        """One storyline with its events oldest first; raises NotFoundError if absent."""
        with self._reading():
            row = self._x(sa.select(storylines).where(storylines.c.id == storyline_id)).first()
            if row is None:
                raise NotFoundError(f"no storyline {storyline_id!r}")
            return self._with_events([row])[0]

    def storylines(self, ids: Iterable[str] | None = None) -> list[Storyline]:
        """Storylines (all, or some) in id order (byte-wise), each with its events oldest first."""
        stmt = sa.select(storylines).order_by(storylines.c.id)
        with self._reading():
            if ids is None:
                rows = self._x(stmt).all()
                e = events
                linked: dict[str, list[str]] = {}
                q = (
                    sa.select(e.c.storyline, e.c.id)
                    .where(e.c.storyline.is_not(None))
                    .order_by(e.c.storyline, e.c.first_seq, e.c.id)
                )
                for sl, eid in self._x(q).all():
                    linked.setdefault(sl, []).append(eid)
                return [Storyline(sid, tuple(linked.get(sid, ())), title) for sid, title in rows]
            some = stmt.where(storylines.c.id.in_(sa.bindparam("ids", expanding=True)))
            got = [r for chunk in self._in(ids) for r in self._x(some, {"ids": list(chunk)}).all()]
            got.sort(key=lambda r: r[0])
            return self._with_events(got)

    def storyline_count(self) -> int:
        """Number of storylines."""
        with self._lock:
            return int(self._x(sa.select(sa.func.count()).select_from(storylines)).scalar_one())

    # ------------------------------------------------------------------ bookkeeping
    def record_stage_run(self, stage: str, version: str, stats: dict[str, Any]) -> None:
        """Note that a stage ran (the last run of each stage is kept)."""
        _check_nul(f"stage {stage!r}", stage, version)
        ins = self._dialect.insert(stage_runs)
        stmt = ins.on_conflict_do_update(
            index_elements=["stage"], set_={c: ins.excluded[c] for c in ("version", "finished", "stats")}
        )
        with self.transaction():
            self._w(stmt.values(stage=stage, version=version, finished=_now(), stats=json.dumps(stats)))

    def stage_runs(self) -> dict[str, dict[str, Any]]:
        """Last run of each stage."""
        with self._lock:
            rows = self._x(sa.select(stage_runs).order_by(stage_runs.c.stage)).all()
        return {s: {"version": v, "finished": f, "stats": json.loads(st)} for s, v, f, st in rows}

    def get_meta(self, key: str) -> str | None:
        """A store-level setting."""
        with self._lock:
            return self._x(sa.select(meta.c.value).where(meta.c.key == key)).scalar()

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting."""
        _check_nul(f"meta {key!r}", key, value)
        ins = self._dialect.insert(meta)
        stmt = ins.on_conflict_do_update(index_elements=["key"], set_={"value": ins.excluded.value})
        with self.transaction():
            self._w(stmt.values(key=key, value=value))
