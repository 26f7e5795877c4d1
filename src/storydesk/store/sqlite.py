"""The default store: one embedded SQLite file (WAL, migrations, transactions)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np

from storydesk.errors import SchemaVersionError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, StrippedLine, from_dict, to_dict
from storydesk.store.base import Store

# Each entry migrates the schema from version i to i+1. Never edit a released
# entry: append a new one, so existing databases upgrade in place.
MIGRATIONS: list[str] = [
    """
    CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
    CREATE TABLE articles (
        id TEXT PRIMARY KEY,
        seq INTEGER NOT NULL,
        source TEXT NOT NULL,
        format TEXT NOT NULL,
        outlet TEXT,
        title TEXT,
        published TEXT,
        published_source TEXT NOT NULL,
        url TEXT,
        dateline TEXT,
        text TEXT NOT NULL,
        raw_sha256 TEXT NOT NULL,
        extra TEXT NOT NULL,
        clean_version TEXT NOT NULL,
        ingested_at TEXT NOT NULL
    );
    CREATE INDEX articles_order ON articles (published IS NULL, published, seq);
    CREATE TABLE sentences (
        article_id TEXT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
        idx INTEGER NOT NULL,
        start INTEGER NOT NULL,
        "end" INTEGER NOT NULL,
        paragraph INTEGER NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (article_id, idx)
    );
    CREATE TABLE rejections (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        source TEXT NOT NULL,
        code TEXT NOT NULL,
        reason TEXT NOT NULL,
        at TEXT NOT NULL
    );
    CREATE TABLE records (
        kind TEXT NOT NULL,
        key TEXT NOT NULL,
        version TEXT NOT NULL,
        data TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (kind, key)
    );
    CREATE TABLE vectors (
        kind TEXT NOT NULL,
        model TEXT NOT NULL,
        key TEXT NOT NULL,
        dim INTEGER NOT NULL,
        data BLOB NOT NULL,
        PRIMARY KEY (kind, model, key)
    );
    CREATE TABLE events (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        storyline TEXT,
        start TEXT,
        "end" TEXT,
        version TEXT NOT NULL,
        first_seq INTEGER NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE event_articles (
        article_id TEXT PRIMARY KEY,
        event_id TEXT NOT NULL REFERENCES events(id) ON DELETE CASCADE,
        pos INTEGER NOT NULL
    );
    CREATE INDEX event_articles_event ON event_articles (event_id, pos);
    CREATE TABLE storylines (
        id TEXT PRIMARY KEY,
        title TEXT NOT NULL,
        events TEXT NOT NULL,
        version TEXT NOT NULL
    );
    CREATE TABLE stage_runs (
        stage TEXT PRIMARY KEY,
        version TEXT NOT NULL,
        finished TEXT NOT NULL,
        stats TEXT NOT NULL
    );
    CREATE VIRTUAL TABLE articles_fts USING fts5(article_id UNINDEXED, title, text, tokenize='porter unicode61');
    """,
]


def _now() -> str:
    """UTC timestamp for bookkeeping columns."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds")


class SQLiteStore(Store):
    """A :class:`Store` in one SQLite file.

    Args:
        path: Database file (created if missing) or ``":memory:"``.
        readonly: Open without write access (the web UI's readers).
    """

    def __init__(self, path: str | Path, readonly: bool = False) -> None:
        self.path = str(path)
        self._lock = threading.RLock()
        self._depth = 0
        try:
            if readonly:
                uri = f"file:{Path(self.path).resolve()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
            else:
                if self.path != ":memory:":
                    Path(self.path).parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open database {self.path}: {e}") from e
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA foreign_keys = ON")
            self._db.execute("PRAGMA busy_timeout = 10000")
            if not readonly:
                self._db.execute("PRAGMA journal_mode = WAL")
                self._db.execute("PRAGMA synchronous = NORMAL")
            self._migrate(readonly)
        except sqlite3.DatabaseError as e:
            self._db.close()
            raise StoreError(f"{self.path} is not a storydesk database: {e}") from e

    # ------------------------------------------------------------------ lifecycle
    def _migrate(self, readonly: bool) -> None:
        """Bring the schema up to date, refusing databases from a newer storydesk."""
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version > len(MIGRATIONS):
            raise SchemaVersionError(
                f"{self.path} has schema version {version}; this storydesk understands up to "
                f"{len(MIGRATIONS)}. Upgrade storydesk."
            )
        if version == len(MIGRATIONS):
            return
        if readonly:
            raise StoreError(f"{self.path} needs a schema upgrade; open it once read-write")
        if version == 0 and self._db.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]:
            raise StoreError(f"{self.path} is an SQLite file but not a storydesk database")
        with self.transaction():
            for i in range(version, len(MIGRATIONS)):
                for stmt in _statements(MIGRATIONS[i]):
                    self._db.execute(stmt)
                self._db.execute(f"PRAGMA user_version = {i + 1}")

    def close(self) -> None:
        """Close the connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Nested-safe transaction: the outermost block commits or rolls back."""
        with self._lock:
            outer = self._depth == 0
            if outer:
                self._db.execute("BEGIN IMMEDIATE")
            self._depth += 1
            try:
                yield
            except BaseException:
                self._depth -= 1
                if outer:
                    self._db.execute("ROLLBACK")
                raise
            self._depth -= 1
            if outer:
                self._db.execute("COMMIT")

    def _exec(self, sql: str, params: Sequence[Any] = ()) -> sqlite3.Cursor:
        """Execute one statement, wrapping driver errors."""
        try:
            return self._db.execute(sql, params)
        except sqlite3.Error as e:
            raise StoreError(f"database error: {e}") from e

    def _execmany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """Execute one statement for many rows, wrapping driver errors."""
        try:
            self._db.executemany(sql, rows)
        except sqlite3.Error as e:
            raise StoreError(f"database error: {e}") from e

    # ------------------------------------------------------------------ articles
    def add_article(self, article: Article, sentences: Sequence[Sentence], version: str = "") -> bool:
        """Store an article with its sentences; False (and no change) if its id exists."""
        with self.transaction():
            if self.has_article(article.id):
                return False
            seq = self._exec("SELECT coalesce(max(seq), 0) + 1 FROM articles").fetchone()[0]
            extra = {
                "subheadings": list(article.subheadings),
                "stripped": [to_dict(s) for s in article.stripped],
            }
            self._exec(
                "INSERT INTO articles (id, seq, source, format, outlet, title, published, published_source, url,"
                " dateline, text, raw_sha256, extra, clean_version, ingested_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    article.id,
                    seq,
                    article.source,
                    article.format,
                    article.outlet,
                    article.title,
                    article.published.isoformat() if article.published else None,
                    article.published_source,
                    article.url,
                    article.dateline,
                    article.text,
                    article.raw_sha256,
                    json.dumps(extra),
                    version,
                    _now(),
                ),
            )
            self._execmany(
                'INSERT INTO sentences (article_id, idx, start, "end", paragraph, text) VALUES (?, ?, ?, ?, ?, ?)',
                [(s.article_id, s.index, s.start, s.end, s.paragraph, s.text) for s in sentences],
            )
            self._exec(
                "INSERT INTO articles_fts (article_id, title, text) VALUES (?, ?, ?)",
                (article.id, article.title or "", article.text),
            )
        return True

    def has_article(self, article_id: str) -> bool:
        """True if an article with this id is stored."""
        return self._exec("SELECT 1 FROM articles WHERE id = ?", (article_id,)).fetchone() is not None

    @staticmethod
    def _article(row: sqlite3.Row) -> Article:
        """Row -> Article."""
        extra = json.loads(row["extra"])
        return Article(
            id=row["id"],
            source=row["source"],
            text=row["text"],
            title=row["title"],
            outlet=row["outlet"],
            published=dt.date.fromisoformat(row["published"]) if row["published"] else None,
            published_source=row["published_source"],
            url=row["url"],
            dateline=row["dateline"],
            subheadings=tuple(extra.get("subheadings", ())),
            stripped=tuple(from_dict(StrippedLine, s) for s in extra.get("stripped", ())),
            format=row["format"],
            raw_sha256=row["raw_sha256"],
        )

    def get_article(self, article_id: str) -> Article:
        """One article; raises KeyError if absent."""
        row = self._exec("SELECT * FROM articles WHERE id = ?", (article_id,)).fetchone()
        if row is None:
            raise KeyError(article_id)
        return self._article(row)

    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles in publication order (undated last, then ingest order)."""
        order = " ORDER BY published IS NULL, published, seq"
        if ids is None:
            rows = self._exec("SELECT * FROM articles" + order).fetchall()
            return [self._article(r) for r in rows]
        wanted = list(ids)
        out: list[Article] = []
        for chunk in _chunks(wanted, 500):
            q = f"SELECT * FROM articles WHERE id IN ({_marks(len(chunk))})"
            out.extend(self._article(r) for r in self._exec(q + order, chunk).fetchall())
        rank = {i: n for n, i in enumerate(self.article_ids())} if len(wanted) > 500 else None
        if rank is not None:
            out.sort(key=lambda a: rank[a.id])
        return out

    def article_ids(self) -> list[str]:
        """Ids of all articles in publication order."""
        rows = self._exec("SELECT id FROM articles ORDER BY published IS NULL, published, seq").fetchall()
        return [r[0] for r in rows]

    def article_count(self) -> int:
        """Number of stored articles."""
        return int(self._exec("SELECT count(*) FROM articles").fetchone()[0])

    def sentences(self, article_id: str) -> list[Sentence]:
        """The stored sentence list of one article, in order."""
        rows = self._exec(
            'SELECT idx, start, "end", paragraph, text FROM sentences WHERE article_id = ? ORDER BY idx',
            (article_id,),
        ).fetchall()
        return [Sentence(article_id, r["idx"], r["text"], r["start"], r["end"], r["paragraph"]) for r in rows]

    def add_rejection(self, rejection: Rejection) -> None:
        """Record an input that was refused, with its reason."""
        with self.transaction():
            self._exec(
                "INSERT INTO rejections (source, code, reason, at) VALUES (?, ?, ?, ?)",
                (rejection.source, rejection.code, rejection.reason, rejection.at or _now()),
            )

    def rejections(self) -> list[Rejection]:
        """Every recorded rejection, oldest first."""
        rows = self._exec("SELECT source, code, reason, at FROM rejections ORDER BY id").fetchall()
        return [Rejection(r["source"], r["code"], r["reason"], r["at"]) for r in rows]

    # ------------------------------------------------------------------ derived records
    def put_record(self, kind: str, key: str, version: str, data: Any) -> None:
        """Insert or replace the JSON record ``(kind, key)``."""
        with self.transaction():
            self._exec(
                "INSERT OR REPLACE INTO records (kind, key, version, data, updated_at) VALUES (?, ?, ?, ?, ?)",
                (kind, key, version, json.dumps(to_dict(data), ensure_ascii=False), _now()),
            )

    def get_record(self, kind: str, key: str) -> tuple[str, Any] | None:
        """``(version, data)`` of a record, or None."""
        row = self._exec("SELECT version, data FROM records WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def records(self, kind: str, keys: Iterable[str] | None = None) -> Iterator[tuple[str, str, Any]]:
        """Yield ``(key, version, data)`` for a kind (optionally only some keys)."""
        if keys is None:
            for r in self._exec("SELECT key, version, data FROM records WHERE kind = ? ORDER BY key", (kind,)):
                yield r[0], r[1], json.loads(r[2])
            return
        for chunk in _chunks(list(keys), 500):
            q = f"SELECT key, version, data FROM records WHERE kind = ? AND key IN ({_marks(len(chunk))})"
            for r in self._exec(q, [kind, *chunk]).fetchall():
                yield r[0], r[1], json.loads(r[2])

    def record_versions(self, kind: str) -> dict[str, str]:
        """Map key -> version for every record of a kind."""
        return {r[0]: r[1] for r in self._exec("SELECT key, version FROM records WHERE kind = ?", (kind,))}

    def delete_records(self, kind: str, keys: Iterable[str] | None = None) -> None:
        """Delete records of a kind (all of them when ``keys`` is None)."""
        with self.transaction():
            if keys is None:
                self._exec("DELETE FROM records WHERE kind = ?", (kind,))
                return
            for chunk in _chunks(list(keys), 500):
                q = f"DELETE FROM records WHERE kind = ? AND key IN ({_marks(len(chunk))})"
                self._exec(q, [kind, *chunk])

    # ------------------------------------------------------------------ vectors
    def put_vectors(self, kind: str, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Store float32 vectors keyed by id for one model."""
        with self.transaction():
            self._execmany(
                "INSERT OR REPLACE INTO vectors (kind, model, key, dim, data) VALUES (?, ?, ?, ?, ?)",
                [
                    (kind, model, k, int(v.shape[0]), np.asarray(v, dtype=np.float32).tobytes())
                    for k, v in vectors.items()
                ],
            )

    def vector_keys(self, kind: str, model: str) -> set[str]:
        """Keys that have a vector of one model (without reading the vectors)."""
        return {r[0] for r in self._exec("SELECT key FROM vectors WHERE kind = ? AND model = ?", (kind, model))}

    def get_vectors(self, kind: str, model: str, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Stored vectors of one model (all keys when ``keys`` is None)."""
        out: dict[str, np.ndarray] = {}
        if keys is None:
            rows: Iterable[sqlite3.Row] = self._exec(
                "SELECT key, data FROM vectors WHERE kind = ? AND model = ?", (kind, model)
            )
            for r in rows:
                out[r[0]] = np.frombuffer(r[1], dtype=np.float32)
            return out
        for chunk in _chunks(list(keys), 500):
            q = f"SELECT key, data FROM vectors WHERE kind = ? AND model = ? AND key IN ({_marks(len(chunk))})"
            for r in self._exec(q, [kind, model, *chunk]).fetchall():
                out[r[0]] = np.frombuffer(r[1], dtype=np.float32)
        return out

    # ------------------------------------------------------------------ events and storylines
    def put_events(self, events: Sequence[Event], version: str) -> None:
        """Insert or replace events and their membership."""
        with self.transaction():
            for ev in events:
                seq = (
                    self._exec(
                        "SELECT coalesce(min(seq), 0) FROM articles WHERE id IN ({})".format(
                            ",".join("?" * len(ev.articles))
                        ),
                        ev.articles,
                    ).fetchone()[0]
                    if ev.articles
                    else 0
                )
                self._exec("DELETE FROM event_articles WHERE event_id = ?", (ev.id,))
                self._exec(
                    'INSERT OR REPLACE INTO events (id, title, storyline, start, "end", version, first_seq, updated_at)'
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    (
                        ev.id,
                        ev.title,
                        ev.storyline,
                        ev.start.isoformat() if ev.start else None,
                        ev.end.isoformat() if ev.end else None,
                        version,
                        seq,
                        _now(),
                    ),
                )
                self._execmany(
                    "INSERT OR REPLACE INTO event_articles (article_id, event_id, pos) VALUES (?, ?, ?)",
                    [(a, ev.id, i) for i, a in enumerate(ev.articles)],
                )

    def delete_events(self, event_ids: Iterable[str]) -> None:
        """Remove events (and their membership rows)."""
        with self.transaction():
            for eid in event_ids:
                self._exec("DELETE FROM event_articles WHERE event_id = ?", (eid,))
                self._exec("DELETE FROM events WHERE id = ?", (eid,))

    def _members(self) -> dict[str, list[str]]:
        """event id -> article ids in stored order."""
        members: dict[str, list[str]] = {}
        for r in self._exec("SELECT event_id, article_id FROM event_articles ORDER BY event_id, pos"):
            members.setdefault(r[0], []).append(r[1])
        return members

    @staticmethod
    def _event(row: sqlite3.Row, members: list[str]) -> Event:
        """Row -> Event."""
        return Event(
            id=row["id"],
            articles=tuple(members),
            title=row["title"],
            storyline=row["storyline"],
            start=dt.date.fromisoformat(row["start"]) if row["start"] else None,
            end=dt.date.fromisoformat(row["end"]) if row["end"] else None,
        )

    def events(self) -> list[Event]:
        """All events, oldest first."""
        members = self._members()
        rows = self._exec("SELECT * FROM events ORDER BY first_seq, id").fetchall()
        return [self._event(r, members.get(r["id"], [])) for r in rows]

    def get_event(self, event_id: str) -> Event:
        """One event; raises KeyError if absent."""
        row = self._exec("SELECT * FROM events WHERE id = ?", (event_id,)).fetchone()
        if row is None:
            raise KeyError(event_id)
        ids = [
            r[0]
            for r in self._exec("SELECT article_id FROM event_articles WHERE event_id = ? ORDER BY pos", (event_id,))
        ]
        return self._event(row, ids)

    def put_storylines(self, storylines: Sequence[Storyline], version: str, replace: bool = True) -> None:
        """Store storylines (replacing all existing ones by default)."""
        with self.transaction():
            if replace:
                self._exec("DELETE FROM storylines")
            for s in storylines:
                self._exec(
                    "INSERT OR REPLACE INTO storylines (id, title, events, version) VALUES (?, ?, ?, ?)",
                    (s.id, s.title, json.dumps(list(s.events)), version),
                )

    def storylines(self) -> list[Storyline]:
        """All storylines."""
        rows = self._exec("SELECT id, title, events FROM storylines ORDER BY id").fetchall()
        return [Storyline(r["id"], tuple(json.loads(r["events"])), r["title"]) for r in rows]

    # ------------------------------------------------------------------ bookkeeping
    def record_stage_run(self, stage: str, version: str, stats: dict[str, Any]) -> None:
        """Note that a stage ran."""
        with self.transaction():
            self._exec(
                "INSERT OR REPLACE INTO stage_runs (stage, version, finished, stats) VALUES (?, ?, ?, ?)",
                (stage, version, _now(), json.dumps(stats)),
            )

    def stage_runs(self) -> dict[str, dict[str, Any]]:
        """Last run of each stage."""
        return {
            r[0]: {"version": r[1], "finished": r[2], "stats": json.loads(r[3])}
            for r in self._exec("SELECT stage, version, finished, stats FROM stage_runs")
        }

    def search_articles(self, query: str, limit: int = 50) -> list[str]:
        """Ids of articles matching a full-text query (FTS5 syntax; plain words are ANDed)."""
        terms = " ".join('"' + t.replace('"', "") + '"' for t in query.split() if t.strip('"'))
        if not terms:
            return []
        rows = self._exec(
            "SELECT article_id FROM articles_fts WHERE articles_fts MATCH ? ORDER BY rank LIMIT ?",
            (terms, limit),
        ).fetchall()
        return [r[0] for r in rows]

    def event_overview(self) -> list[dict[str, Any]]:
        """One light row per event for listing pages, in one query (see :meth:`Store.event_overview`)."""
        rows = self._exec(
            'SELECT e.id, e.title, e.storyline, e.start, e."end", e.first_seq, count(ea.article_id) AS n,'
            " min(a.published) AS first_pub, max(a.published) AS last_pub,"
            " json_group_array(DISTINCT a.outlet) AS outlets"
            " FROM events e LEFT JOIN event_articles ea ON ea.event_id = e.id"
            " LEFT JOIN articles a ON a.id = ea.article_id"
            " GROUP BY e.id ORDER BY e.first_seq, e.id"
        ).fetchall()
        return [
            {
                "id": r["id"],
                "title": r["title"],
                "storyline": r["storyline"],
                "start": r["start"],
                "end": r["end"],
                "articles": r["n"],
                "outlets": sorted(o for o in json.loads(r["outlets"]) if o),
                "first_published": r["first_pub"],
                "last_published": r["last_pub"],
                "seq": r["first_seq"],
            }
            for r in rows
        ]

    def events_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Map each given article id to the id of its event (articles not in an event are left out)."""
        out: dict[str, str] = {}
        for chunk in _chunks(list(article_ids), 500):
            q = f"SELECT article_id, event_id FROM event_articles WHERE article_id IN ({_marks(len(chunk))})"
            out.update({r[0]: r[1] for r in self._exec(q, chunk).fetchall()})
        return out

    def get_storyline(self, storyline_id: str) -> Storyline:
        """One storyline; raises KeyError if absent."""
        row = self._exec("SELECT id, title, events FROM storylines WHERE id = ?", (storyline_id,)).fetchone()
        if row is None:
            raise KeyError(storyline_id)
        return Storyline(row["id"], tuple(json.loads(row["events"])), row["title"])

    def get_meta(self, key: str) -> str | None:
        """A store-level setting."""
        row = self._exec("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting."""
        with self.transaction():
            self._exec("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (key, value))


def _statements(script: str) -> list[str]:
    """Split a migration script into statements (no semicolons inside our DDL)."""
    return [s.strip() for s in script.split(";") if s.strip()]


def _marks(n: int) -> str:
    """``?, ?, ...`` placeholders for an IN clause."""
    return ",".join("?" * n)


def _chunks(items: list[str], n: int) -> Iterator[list[str]]:
    """Yield lists of at most ``n`` items (SQLite caps bound parameters)."""
    for i in range(0, len(items), n):
        yield items[i : i + n]
