"""Storage backends behind one interface (:class:`~storydesk.store.base.Store`)."""

from __future__ import annotations

from pathlib import Path

from storydesk.errors import ConfigError
from storydesk.store.base import Store
from storydesk.store.sqlite import SQLiteStore

__all__ = ["SQLiteStore", "Store", "open_store"]


def open_store(url: str | Path, readonly: bool = False) -> Store:
    """Open a store from a path or URL.

    ``path/to/file.db`` or ``sqlite:///path`` opens SQLite (the default);
    ``postgresql://...`` needs the ``[postgres]`` extra.
    """
    s = str(url)
    if s.startswith(("postgresql://", "postgres://")):
        raise ConfigError("the PostgreSQL backend is not available in this version; use an SQLite file path")
    if s.startswith("sqlite:///"):
        s = s[len("sqlite:///") :]
    return SQLiteStore(s, readonly=readonly)
