"""``storydesk load DIR --db ...``: put the Parquet tables of a Spark run into a store.

Only pyarrow is needed (no Spark). Articles go in in their ingest order (so the
store's publication order breaks ties as one machine does), then every
artifact row with its stamps, the events and storylines, the rejections, and
the stage keys of the run: a later ``storydesk build`` with the same settings
finds everything up to date, and one after new articles are ingested extends
the corpus incrementally from the loaded state.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from storydesk.article.analyze import ARTICLE_STAGES
from storydesk.artifacts import fingerprint
from storydesk.errors import InputError, StoreError
from storydesk.models import Article, Event, Rejection, Sentence, Storyline, from_dict
from storydesk.store import Store, open_store
from storydesk.store.base import ArtifactRow

META_FILE = "_storydesk.json"


def _batches(
    root: Path, table: str, columns: list[str], sort: list[tuple[str, str]] | None = None
) -> Iterator[list[dict[str, Any]]]:
    """Rows of one table in batches (sorted when asked: the table is read whole then)."""
    import pyarrow.dataset as ds

    path = root / table
    if not path.exists():
        return
    data = ds.dataset(str(path), format="parquet", partitioning=None)
    if sort:
        t = data.to_table(columns=columns).sort_by(sort)
        for b in t.to_batches(max_chunksize=1000):
            yield b.to_pylist()
        return
    for b in data.to_batches(columns=columns, batch_size=1000):
        yield b.to_pylist()


def read_meta(src: str | Path) -> dict[str, Any]:
    """The run's ``_storydesk.json``."""
    p = Path(src) / META_FILE
    if not p.is_file():
        raise InputError(f"{src} holds no storydesk Spark output ({META_FILE} is missing)")
    meta: dict[str, Any] = json.loads(p.read_text(encoding="utf-8"))
    return meta


def load(src: str | Path, db: str | Path | Store) -> dict[str, int]:
    """Load a Spark run's tables into an empty store.

    Args:
        src: The run's output directory.
        db: A database path or URL, or an open store (left open).

    Returns:
        Counts of what was loaded.

    Raises:
        InputError: ``src`` is not a run's output.
        StoreError: The store already holds articles.
    """
    root = Path(src)
    meta = read_meta(root)
    store = db if isinstance(db, Store) else open_store(db)
    try:
        return _load(root, meta, store)
    finally:
        if not isinstance(db, Store):
            store.close()


def _load(root: Path, meta: dict[str, Any], store: Store) -> dict[str, int]:
    if store.article_count():
        raise StoreError(f"{store.url} already holds articles: load a Spark run into an empty store")
    store.article_artifacts = frozenset(a.name for s in ARTICLE_STAGES for a in s.assigns if a.stored)
    counts = {"articles": 0, "rejections": 0, "rows": 0, "events": 0, "storylines": 0}
    for rows in _batches(root, "articles", ["id", "seq", "record", "sents"], [("seq", "ascending")]):
        with store.transaction():
            for r in rows:
                art = from_dict(Article, json.loads(r["record"]))
                spans = json.loads(r["sents"])
                sents = [Sentence(art.id, i, art.text[s:e], s, e, p) for i, (s, e, p) in enumerate(spans)]
                store.add_article(art, sents)
        counts["articles"] += len(rows)
    for rows in _batches(root, "rejections", ["source", "code", "reason", "order"], [("order", "ascending")]):
        with store.transaction():
            for r in rows:
                counts["rejections"] += store.add_rejection(Rejection(r["source"], r["code"], r["reason"]))
    for rows in _batches(root, "events", ["id", "title", "storyline", "start", "end", "articles"]):
        with store.transaction():
            store.put_events(
                [
                    Event(r["id"], tuple(r["articles"]), r["title"] or "", r["storyline"], r["start"], r["end"])
                    for r in rows
                ]
            )
        counts["events"] += len(rows)
    for rows in _batches(root, "storylines", ["id", "title", "events"]):
        with store.transaction():
            store.put_storylines([Storyline(r["id"], tuple(r["events"]), r["title"] or "") for r in rows])
        counts["storylines"] += len(rows)
    cols = ["artifact", "key", "version", "fingerprint", "digest", "data"]
    for rows in _batches(root, "artifacts", cols):
        by: dict[str, list[ArtifactRow]] = {}
        for r in rows:
            by.setdefault(r["artifact"], []).append(
                ArtifactRow(r["key"], r["version"], r["fingerprint"], r["digest"], r["data"])
            )
        with store.transaction():
            for name, rs in by.items():
                store.put_rows(name, rs)
        counts["rows"] += len(rows)
    with store.transaction():
        for scope in ("article", "corpus", "event", "storyline"):
            store.dequeue(scope, store.pending(scope))
        for name, key in meta["stage_keys"].items():
            store.set_meta(f"stage:{name}", key)
        done = set(filter(None, (store.get_meta("stages") or "").split(",")))
        store.set_meta("stages", ",".join(sorted(done | set(meta["stages"]))))
        store.set_meta("embedder", meta["embedder"])
        store.set_meta("corpus_token", fingerprint("spark", meta.get("finished"), counts["articles"]))
        store.record_stage_run("spark load", "", {**counts, "spark": meta.get("report", {})})
    return counts
