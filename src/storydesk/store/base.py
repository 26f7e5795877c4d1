"""The store interface every backend implements (SQLite by default, PostgreSQL later).

The pipeline and the shells only talk to a :class:`Store`. Articles, sentences
and rejections are first-class rows; events and storylines have their own
tables; every other derived record is a versioned JSON document keyed by
``(kind, key)`` and tagged with the version of the stage that made it, so a
stage can tell which of its outputs are stale.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager
from typing import Any

import numpy as np

from storydesk.models import Article, Event, Rejection, Sentence, Storyline


class Store(abc.ABC):
    """Abstract storage backend."""

    # ------------------------------------------------------------------ lifecycle
    @abc.abstractmethod
    def close(self) -> None:
        """Close the underlying connection."""

    @abc.abstractmethod
    def transaction(self) -> AbstractContextManager[None]:
        """A context manager: everything inside commits together or not at all."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ articles
    @abc.abstractmethod
    def add_article(self, article: Article, sentences: Sequence[Sentence], version: str = "") -> bool:
        """Store an article with its sentences (``version``: the cleaner's); False if its id exists."""

    @abc.abstractmethod
    def has_article(self, article_id: str) -> bool:
        """True if an article with this id is stored."""

    @abc.abstractmethod
    def get_article(self, article_id: str) -> Article:
        """One article; raises KeyError if absent."""

    @abc.abstractmethod
    def articles(self, ids: Iterable[str] | None = None) -> list[Article]:
        """Articles in publication order (undated last, then ingest order)."""

    @abc.abstractmethod
    def article_ids(self) -> list[str]:
        """Ids of all articles in publication order."""

    @abc.abstractmethod
    def article_count(self) -> int:
        """Number of stored articles."""

    @abc.abstractmethod
    def sentences(self, article_id: str) -> list[Sentence]:
        """The stored sentence list of one article, in order."""

    @abc.abstractmethod
    def add_rejection(self, rejection: Rejection) -> None:
        """Record an input that was refused, with its reason."""

    @abc.abstractmethod
    def rejections(self) -> list[Rejection]:
        """Every recorded rejection, oldest first."""

    # ------------------------------------------------------------------ derived records
    @abc.abstractmethod
    def put_record(self, kind: str, key: str, version: str, data: Any) -> None:
        """Insert or replace the JSON record ``(kind, key)``."""

    @abc.abstractmethod
    def get_record(self, kind: str, key: str) -> tuple[str, Any] | None:
        """``(version, data)`` of a record, or None."""

    @abc.abstractmethod
    def records(self, kind: str, keys: Iterable[str] | None = None) -> Iterator[tuple[str, str, Any]]:
        """Yield ``(key, version, data)`` for a kind (optionally only some keys)."""

    @abc.abstractmethod
    def record_versions(self, kind: str) -> dict[str, str]:
        """Map key -> version for every record of a kind (cheap staleness check)."""

    @abc.abstractmethod
    def delete_records(self, kind: str, keys: Iterable[str] | None = None) -> None:
        """Delete records of a kind (all of them when ``keys`` is None)."""

    # ------------------------------------------------------------------ vectors
    @abc.abstractmethod
    def put_vectors(self, kind: str, model: str, vectors: dict[str, np.ndarray]) -> None:
        """Store float32 vectors keyed by id for one model."""

    @abc.abstractmethod
    def get_vectors(self, kind: str, model: str, keys: Iterable[str] | None = None) -> dict[str, np.ndarray]:
        """Stored vectors of one model (all keys when ``keys`` is None)."""

    def vector_keys(self, kind: str, model: str) -> set[str]:
        """Keys that have a vector of one model (backends override this with a cheaper query)."""
        return set(self.get_vectors(kind, model).keys())

    # ------------------------------------------------------------------ events and storylines
    @abc.abstractmethod
    def put_events(self, events: Sequence[Event], version: str) -> None:
        """Insert or replace events and their membership."""

    @abc.abstractmethod
    def delete_events(self, event_ids: Iterable[str]) -> None:
        """Remove events (and their membership rows)."""

    @abc.abstractmethod
    def events(self) -> list[Event]:
        """All events, oldest first."""

    @abc.abstractmethod
    def get_event(self, event_id: str) -> Event:
        """One event; raises KeyError if absent."""

    @abc.abstractmethod
    def put_storylines(self, storylines: Sequence[Storyline], version: str, replace: bool = True) -> None:
        """Store storylines (replacing all existing ones by default)."""

    @abc.abstractmethod
    def storylines(self) -> list[Storyline]:
        """All storylines."""

    # ------------------------------------------------------------------ bookkeeping
    @abc.abstractmethod
    def record_stage_run(self, stage: str, version: str, stats: dict[str, Any]) -> None:
        """Note that a stage ran (what it did, when)."""

    @abc.abstractmethod
    def stage_runs(self) -> dict[str, dict[str, Any]]:
        """Last run of each stage: ``{stage: {"version", "finished", "stats"}}``."""

    @abc.abstractmethod
    def search_articles(self, query: str, limit: int = 50) -> list[str]:
        """Ids of articles matching a full-text query, best first."""

    @abc.abstractmethod
    def get_meta(self, key: str) -> str | None:
        """A store-level setting."""

    @abc.abstractmethod
    def set_meta(self, key: str, value: str) -> None:
        """Set a store-level setting."""

    # ------------------------------------------------------------------ browsing (REST API and web UI)
    def event_overview(self) -> list[dict[str, Any]]:
        """One light row per event for listing pages (no texts, no derived records).

        Returns:
            Dicts with ``id, title, storyline, start, end, articles`` (member count),
            ``outlets`` (distinct, sorted), ``first_published, last_published`` (ISO dates
            or None) and ``seq`` (ingest order of its first article), oldest first.
            Backends override this with one query; the default walks :meth:`events`.
        """
        arts = {a.id: a for a in self.articles()}
        rows = []
        for n, ev in enumerate(self.events()):
            members = [arts[a] for a in ev.articles if a in arts]
            days = sorted(a.published.isoformat() for a in members if a.published)
            rows.append(
                {
                    "id": ev.id,
                    "title": ev.title,
                    "storyline": ev.storyline,
                    "start": ev.start.isoformat() if ev.start else None,
                    "end": ev.end.isoformat() if ev.end else None,
                    "articles": len(ev.articles),
                    "outlets": sorted({a.outlet for a in members if a.outlet}),
                    "first_published": days[0] if days else None,
                    "last_published": days[-1] if days else None,
                    "seq": n,
                }
            )
        return rows

    def events_of(self, article_ids: Iterable[str]) -> dict[str, str]:
        """Map each given article id to the id of its event (articles not in an event are left out)."""
        wanted = set(article_ids)
        return {a: ev.id for ev in self.events() for a in ev.articles if a in wanted}

    def get_storyline(self, storyline_id: str) -> Storyline:
        """One storyline; raises KeyError if absent."""
        for s in self.storylines():
            if s.id == storyline_id:
                return s
        raise KeyError(storyline_id)
