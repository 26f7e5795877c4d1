"""The library API: everything the CLI, the REST API and the web UI do is a call here.

>>> from storydesk.api import Storydesk
>>> with Storydesk("news.db") as sd:                      # doctest: +SKIP
...     report = sd.ingest(["articles/"])
...     sd.build()
...     doc = sd.story()
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from storydesk.cluster import EmbedStage, EventsStage, StorylinesStage
from storydesk.compare import CompareStage
from storydesk.config import Config
from storydesk.dates import TimelineStage, TimexStage
from storydesk.dedup import DedupStage
from storydesk.embed import Embedder
from storydesk.entities import EntitiesStage
from storydesk.ingest import MAX_FILE_BYTES, IngestReport, ingest
from storydesk.pipeline import Context, Pipeline, Progress, Stage, no_progress
from storydesk.provenance import ProvenanceStage
from storydesk.quotes import AttributionsStage, QuotesStage
from storydesk.store import Store, open_store
from storydesk.summarize import SummarizeStage


def default_stages() -> list[Stage]:
    """The standard pipeline, in run order."""
    return [
        DedupStage(),
        EmbedStage(),
        EntitiesStage(),
        TimexStage(),
        EventsStage(),
        StorylinesStage(),
        TimelineStage(),
        AttributionsStage(),
        ProvenanceStage(),
        QuotesStage(),
        CompareStage(),
        SummarizeStage(),
    ]


class Storydesk:
    """A storydesk database and the pipeline that fills it.

    Args:
        db: SQLite file path (created if missing), or an open :class:`Store`.
        config: Settings; defaults are the measured ones.
        progress: Progress hook (the CLI passes tqdm bars).
        embedder: Inject an embedder (tests use :class:`~storydesk.embed.HashingEmbedder`).
        stages: Replace the standard stages.
    """

    def __init__(
        self,
        db: str | Path | Store = "storydesk.db",
        config: Config | None = None,
        progress: Progress = no_progress,
        embedder: Embedder | None = None,
        stages: Sequence[Stage] | None = None,
    ) -> None:
        self.store: Store = db if isinstance(db, Store) else open_store(db)
        self.config = config or Config()
        self.progress = progress
        self.pipeline = Pipeline(list(stages) if stages is not None else default_stages())
        self._embedder = embedder

    def __enter__(self) -> Storydesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the store."""
        self.store.close()

    def context(self, force: bool = False) -> Context:
        """A pipeline context over this store."""
        return Context(
            store=self.store,
            config=self.config,
            progress=self.progress,
            force=force,
            _embedder=self._embedder,
        )

    def ingest(
        self, paths: Iterable[str | Path], encoding: str | None = None, max_bytes: int = MAX_FILE_BYTES
    ) -> IngestReport:
        """Read, clean and store articles; see :func:`storydesk.ingest.ingest`."""
        files = list(paths)
        return ingest(self.store, files, encoding=encoding, max_bytes=max_bytes, progress=self.progress)

    def build(self, stages: Iterable[str] | None = None, force: bool = False) -> dict[str, dict[str, Any]]:
        """Run the pipeline (or only the named stages) over the store.

        Returns:
            Per-stage statistics.
        """
        return self.pipeline.run(self.context(force), only=stages)

    def story(self, event_ids: list[str] | None = None) -> dict[str, Any]:
        """The story JSON document (see docs/story-json.md)."""
        from storydesk.export import story

        return story(self.store, event_ids)

    def write_json(self, path: str | Path) -> Path:
        """Write the story JSON to a file; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.story(), ensure_ascii=False, indent=2), encoding="utf-8")
        return p

    def write_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report; returns its path."""
        from storydesk.report import render_report

        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(render_report(self.story()), encoding="utf-8")
        return p
