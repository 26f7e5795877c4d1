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
        try:
            from storydesk.store.postgres import PostgresStore
        except ImportError as e:
            # Only a missing or broken psycopg means "install the extra"; anything else is a bug to show.
            if not (e.name or "psycopg").startswith("psycopg"):
                raise
            raise ConfigError(
                f"a postgresql:// database needs the [postgres] extra: pip install 'storydesk[postgres]' ({e})"
            ) from None
        return PostgresStore(s, readonly=readonly)
    if s.startswith("sqlite:///"):
        s = s[len("sqlite:///") :]
    return SQLiteStore(s, readonly=readonly)
