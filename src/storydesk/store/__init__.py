"""The store: one implementation on SQLAlchemy Core for SQLite and PostgreSQL (:mod:`storydesk.store.sql`)."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from storydesk.store.base import Store
from storydesk.store.sql import DEFAULT_BUSY_TIMEOUT, SQLStore

__all__ = ["SQLStore", "Store", "database_exists", "open_store"]


def open_store(
    url: str | Path,
    readonly: bool = False,
    *,
    busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
    article_artifacts: Iterable[str] = (),
) -> Store:
    """Open a store from a path or URL.

    ``path/to/file.db`` or ``sqlite:///path`` opens SQLite (the default);
    ``postgresql://...`` (or ``postgres://``) needs the ``[postgres]`` extra, and
    raises :class:`~storydesk.errors.ConfigError` without it.

    Args:
        url: Where the store lives.
        readonly: Open without write access.
        busy_timeout: Seconds a writer waits for another writer before StoreBusyError.
        article_artifacts: Names of the ``article``-scope artifacts (deleted for an edited article).
    """
    return SQLStore(url, readonly=readonly, busy_timeout=busy_timeout, article_artifacts=article_artifacts)


def database_exists(url: str | Path) -> bool:
    """Whether opening ``url`` would find a database rather than create an empty one.

    An SQLite file (a path or ``sqlite:///path``) exists when the file does; ``:memory:``
    and server URLs (``postgresql://``) count as existing: opening a server database that
    is missing or unreachable fails with a clear :class:`~storydesk.errors.StoreError`.
    """
    s = str(url)
    if s.startswith(("postgresql://", "postgres://")):
        return True
    if s.startswith("sqlite:///"):
        s = s[len("sqlite:///") :]
    elif s == "sqlite://":
        return True
    return s == ":memory:" or Path(s).exists()
