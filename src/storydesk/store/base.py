"""The store interface: one implementation for SQLite and PostgreSQL (:mod:`storydesk.store.sql`).

The pipeline and the library API only talk to a :class:`Store`. What it keeps:

* **articles** with their sentence offsets (a sentence's text is a slice of the
  article text, so it is stored once), and a full-text index over title and text;
* **rejections**: inputs that were refused, one row per ``(source, code)``;
* **artifacts**: every derived record (mentions, attributions, lead vectors,
  claims, summaries, ...), one row per ``(artifact, key)``, holding opaque bytes
  (the codec belongs to the artifact's declaration in :mod:`storydesk.artifacts`)
  and three stamps: the ``version`` of the stage that made it, the
  ``fingerprint`` of the inputs it was made from, and the ``digest`` of the
  bytes, which downstream outputs fold into their own fingerprints;
* a **work queue** of ``(scope, key)`` pairs still to process (new or edited
  articles, events whose inputs changed), written in the same transaction as
  the change that makes the work necessary, so a crash never loses it;
* **events** (with their member articles) and **storylines**;
* store-level **meta** settings and the log of **stage runs**.

Every write method joins the caller's :meth:`transaction` when one is open, and
otherwise runs in a short transaction of its own. Writers are serialised (one
writing transaction at a time per database); a writer that cannot get the lock
within the busy timeout raises :class:`~storydesk.errors.StoreBusyError`.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from typing import Any, Literal

from storydesk.artifacts import digest_of
from storydesk.models import Article, Event, Rejection, Sentence, Storyline

#: What :meth:`Store.add_article` did.
AddStatus = Literal["added", "updated", "unchanged"]


@dataclass(frozen=True)
class Stamp:
    """How a stored artifact row was made.

    Attributes:
        version: Version of the stage that made it.
        fingerprint: Hash of everything it was computed from (stage version, input digests, settings).
        digest: Hash of the stored bytes.
    """

    version: str
    fingerprint: str
    digest: str


@dataclass(frozen=True)
class ArtifactRow:
    """One stored artifact value with its stamps."""

    key: str
    version: str
    fingerprint: str
    digest: str
    data: bytes

    @property
    def stamp(self) -> Stamp:
        """The row's stamps without its data."""
        return Stamp(self.version, self.fingerprint, self.digest)


class Store(abc.ABC):
    """A storydesk database.

    Attributes:
        url: Where the store lives, fit for messages (a PostgreSQL password is never shown).
        readonly: True when opened read-only (every write raises StoreError).
        article_artifacts: Names of the ``article``-scope artifacts (keyed by article
            id): :meth:`add_article` deletes an edited article's rows of these. Set it
            (or pass it to :func:`~storydesk.store.open_store`) before ingesting.
    """

    url: str
    readonly: bool
    article_artifacts: frozenset[str] = frozenset()

    # ------------------------------------------------------------------ lifecycle
    @abc.abstractmethod
    def close(self) -> None:
        """Close the connection."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A writing transaction: everything inside commits together or not at all.

        Nested-safe: inner blocks join the outermost one, which commits or rolls
        back. The outermost block takes the database's writer lock when it starts
        (SQLite ``BEGIN IMMEDIATE``; a PostgreSQL advisory lock), waiting up to the
        busy timeout and then raising :class:`~storydesk.errors.StoreBusyError`.
        """

    def snapshot(self) -> AbstractContextManager[None]:
        """Reads inside see one consistent state of the store (and share one transaction).

        Several reads that make one answer (an event's document) neither see a write
        land half-way nor pay a transaction each. Default: no grouping.
        """
        return nullcontext()

    @abc.abstractmethod
    def change_token(self) -> str:
        """A value that changes whenever anyone (this process or another) commits a write."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ articles
    @abc.abstractmethod
    def add_article(self, article: Article, sentences: Sequence[Sentence]) -> AddStatus:
        """Store an article with its sentences.

        An article whose id is not stored is added. An article stored with the same
        id and the same content (text, title, metadata) is left alone
        (``"unchanged"``). One stored with the same id and other content is an edit:
        its row and sentences are replaced, its ``article``-scope artifacts are
        deleted and its id is queued (``"updated"``); its ingest order (``seq``) is
        kept. Added and updated articles are queued in scope ``"article"``.
        """

    @abc.abstractmethod
    def get_article(self, article_id: str) -> Article:
        """One article; raises :class:`~storydesk.errors.NotFoundError` if absent."""

    @abc.abstractmethod
    def has_article(self, article_id: str) -> bool:
        """True if an article with this id is stored."""

    @abc.abstractmethod
    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles in publication order (dated by day, then undated; ties in ingest order); unknown ids skipped."""

    @abc.abstractmethod
    def article_ids(self) -> list[str]:
        """Ids of all articles in publication order."""

    @abc.abstractmethod
    def in_publication_order(self, ids: Iterable[str]) -> list[str]:
        """The given stored article ids sorted in publication order (unknown ids dropped)."""

    @abc.abstractmethod
    def article_count(self) -> int:
        """Number of stored articles."""

    @abc.abstractmethod
    def sentences(self, article_id: str) -> list[Sentence]:
        """The sentence list of one article, in order (empty for an unknown id)."""

    @abc.abstractmethod
    def sentences_of(self, ids: Iterable[str]) -> dict[str, list[Sentence]]:
        """Sentence lists of several articles at once (unknown ids left out)."""

    @abc.abstractmethod
    def search_articles(self, query: str, limit: int = 50) -> list[str]:
        """Ids of articles whose title or text hold every word of ``query`` (stemmed), best first.

        Quotes and operators in ``query`` are ignored; an empty query finds nothing;
        ``limit < 0`` means no limit.
        """

    # ------------------------------------------------------------------ rejections
    @abc.abstractmethod
    def add_rejection(self, rejection: Rejection) -> bool:
        """Record a refused input; False (nothing written) if ``(source, code)`` is already recorded."""

    @abc.abstractmethod
    def rejections(self, limit: int | None = None, offset: int = 0) -> list[Rejection]:
        """Recorded rejections, oldest first, one page at a time (paged in SQL)."""

    @abc.abstractmethod
    def rejection_count(self) -> int:
        """Number of recorded rejections."""

    # ------------------------------------------------------------------ artifacts (raw rows)
    @abc.abstractmethod
    def put_rows(self, artifact: str, rows: Sequence[ArtifactRow]) -> None:
        """Insert or replace rows of one artifact."""

    @abc.abstractmethod
    def get_rows(self, artifact: str, keys: Iterable[str]) -> dict[str, ArtifactRow]:
        """Stored rows of one artifact for some keys (missing keys left out)."""

    @abc.abstractmethod
    def iter_rows(self, artifact: str, batch: int = 1000) -> Iterator[ArtifactRow]:
        """Every row of one artifact, in key order (byte-wise), read in batches."""

    @abc.abstractmethod
    def stamps(self, artifact: str, keys: Iterable[str] | None = None) -> dict[str, Stamp]:
        """Stamps (no data) of one artifact's rows, for some keys or all of them."""

    @abc.abstractmethod
    def keys_not_at(self, artifact: str, version: str) -> list[str]:
        """Keys of the rows of one artifact made by another version than ``version`` (cheap: indexed)."""

    @abc.abstractmethod
    def delete_rows(self, artifact: str, keys: Iterable[str] | None = None) -> None:
        """Delete rows of one artifact (all of them when ``keys`` is None)."""

    @abc.abstractmethod
    def artifact_sizes(self) -> dict[str, tuple[int, int]]:
        """Per artifact: ``(rows, bytes of data)`` (for ``storydesk show stages`` and benchmarks)."""

    # ------------------------------------------------------------------ artifacts (typed)
    def put(self, artifact: Any, items: Mapping[str, tuple[Any, str, str]]) -> dict[str, str]:
        """Encode and store values of a declared artifact.

        Args:
            artifact: An :class:`~storydesk.artifacts.Artifact` (``name``, ``codec``).
            items: key -> ``(value, version, fingerprint)``.

        Returns:
            key -> digest of the stored bytes.
        """
        rows = []
        for key, (value, version, fingerprint) in items.items():
            data = artifact.codec.encode(value)
            rows.append(ArtifactRow(key, version, fingerprint, digest_of(data), data))
        self.put_rows(artifact.name, rows)
        return {r.key: r.digest for r in rows}

    def get(self, artifact: Any, keys: Iterable[str]) -> dict[str, Any]:
        """Decoded values of a declared artifact for some keys (missing keys left out)."""
        return {k: artifact.codec.decode(r.data) for k, r in self.get_rows(artifact.name, keys).items()}

    def get_rows_of(self, names: Sequence[str], keys: Iterable[str]) -> dict[str, dict[str, ArtifactRow]]:
        """Stored rows of several artifacts for the same keys, by artifact (one read where the backend can)."""
        ks = list(keys)
        return {n: self.get_rows(n, ks) for n in names}

    def get_many(self, arts: Sequence[Any], keys: Iterable[str]) -> dict[str, dict[str, Any]]:
        """Decoded values of several declared artifacts for the same keys, by artifact name."""
        rows = self.get_rows_of([a.name for a in arts], keys)
        return {a.name: {k: a.codec.decode(r.data) for k, r in rows[a.name].items()} for a in arts}

    def get_one(self, artifact: Any, key: str) -> Any | None:
        """The decoded value of one key, or None."""
        return self.get(artifact, [key]).get(key)

    # ------------------------------------------------------------------ work queue
    @abc.abstractmethod
    def enqueue(self, scope: str, keys: Iterable[str]) -> None:
        """Queue keys of a scope (``article``, ``corpus``, ``event``, ``storyline``) for processing (idempotent)."""

    @abc.abstractmethod
    def pending(self, scope: str, limit: int | None = None) -> list[str]:
        """Queued keys of a scope, oldest queued first."""

    @abc.abstractmethod
    def pending_count(self, scope: str) -> int:
        """Number of queued keys of a scope."""

    @abc.abstractmethod
    def dequeue(self, scope: str, keys: Iterable[str]) -> None:
        """Remove keys from a scope's queue (done)."""

    # ------------------------------------------------------------------ events and storylines
    @abc.abstractmethod
    def put_events(self, events: Sequence[Event]) -> None:
        """Insert or replace events with their membership (an article belongs to one event: it moves)."""

    @abc.abstractmethod
    def delete_events(self, event_ids: Iterable[str]) -> None:
        """Remove events and their membership rows (unknown ids ignored)."""

    @abc.abstractmethod
    def get_event(self, event_id: str) -> Event:
        """One event; raises :class:`~storydesk.errors.NotFoundError` if absent."""

    @abc.abstractmethod
    def events(self, ids: Iterable[str] | None = None) -> list[Event]:
        """Events (all, or some), oldest first: by the ingest order of their first article, then id."""

    @abc.abstractmethod
    def event_count(self) -> int:
        """Number of events."""

    @abc.abstractmethod
    def events_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Map each given article id to its event id (articles in no event left out)."""

    @abc.abstractmethod
    def event_overview(self, ids: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """One light row per event (all, or the given ids) for listing pages, in one query.

        Args:
            ids: Only these events (ids without an event are skipped); default: every event.

        Returns:
            Dicts with ``id, title, storyline, start, end, articles`` (member count),
            ``outlets`` (distinct, sorted), ``first_published, last_published`` (ISO
            dates or None) and ``seq`` (ingest order of its first article), oldest first.
        """

    @abc.abstractmethod
    def put_storylines(self, storylines: Sequence[Storyline]) -> None:
        """Insert or replace storylines: their titles, and each listed event's ``storyline`` link."""

    @abc.abstractmethod
    def delete_storylines(self, storyline_ids: Iterable[str]) -> None:
        """Remove storylines (their events' links are cleared)."""

    @abc.abstractmethod
    def get_storyline(self, storyline_id: str) -> Storyline:
        """One storyline with its events oldest first; raises NotFoundError if absent."""

    @abc.abstractmethod
    def storylines(self, ids: Iterable[str] | None = None) -> list[Storyline]:
        """Storylines (all, or some) in id order (byte-wise), each with its events oldest first."""

    @abc.abstractmethod
    def storyline_count(self) -> int:
        """Number of storylines."""

    # ------------------------------------------------------------------ bookkeeping
    @abc.abstractmethod
    def record_stage_run(self, stage: str, version: str, stats: dict[str, Any]) -> None:
        """Note that a stage ran (what it did, when)."""

    @abc.abstractmethod
    def stage_runs(self) -> dict[str, dict[str, Any]]:
        """Last run of each stage: ``{stage: {"version", "finished", "stats"}}``."""

    @abc.abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A store-level setting."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting."""

    @abc.abstractmethod
    def size_bytes(self) -> int:
        """Bytes the database takes on disk (or on the server)."""
