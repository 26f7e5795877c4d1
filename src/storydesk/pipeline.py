"""The pipeline: stages that declare what they need and what they add.

A stage names the artifacts it ``requires`` and the ones it ``assigns`` (as spaCy
components do). :class:`Pipeline` checks, when it is built, that every
requirement is met by the store's base artifacts or by an earlier stage, and
refuses to build otherwise. Running one stage alone checks the same against
what earlier runs left in the store.

Stages are incremental: each one processes only the items whose stored record is
missing or was made by another version of the stage, so re-running is cheap and
idempotent; ``force=True`` recomputes everything.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar, Protocol, TypeVar

from storydesk.config import Config
from storydesk.embed import Embedder, get_embedder
from storydesk.errors import MissingInputError, PipelineError
from storydesk.store.base import Store

#: Artifacts that exist once articles are ingested.
BASE_ARTIFACTS = frozenset({"articles", "sentences"})

T = TypeVar("T")


class Progress(Protocol):
    """Progress reporting hook: wraps an iterable with a labelled bar."""

    def __call__(self, items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]: ...


def no_progress(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress hook that shows nothing."""
    yield from items


@dataclass
class Context:
    """What every stage gets: the store, the configuration and shared helpers."""

    store: Store
    config: Config = field(default_factory=Config)
    progress: Progress = no_progress
    force: bool = False
    log: Callable[[str], None] = lambda msg: None
    _embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        """The configured embedder, built on first use (loading a model is slow)."""
        if self._embedder is None:
            self._embedder = get_embedder(self.config.embedder)
        return self._embedder


class Stage(Protocol):
    """One step of the pipeline."""

    name: ClassVar[str]
    version: ClassVar[str]
    requires: ClassVar[frozenset[str]]
    assigns: ClassVar[frozenset[str]]

    def run(self, ctx: Context) -> dict[str, Any]:
        """Do the work; return counts for the run log."""
        ...


def check_order(stages: Sequence[Stage], available: frozenset[str] = BASE_ARTIFACTS) -> None:
    """Raise :class:`MissingInputError` unless each stage's inputs exist before it runs."""
    have = set(available)
    seen: set[str] = set()
    for st in stages:
        if st.name in seen:
            raise PipelineError(f"stage {st.name!r} appears twice")
        seen.add(st.name)
        missing = st.requires - have
        if missing:
            raise MissingInputError(
                f"stage {st.name!r} requires {', '.join(sorted(missing))}, which no earlier stage assigns"
            )
        have |= st.assigns


class Pipeline:
    """An ordered, validated list of stages.

    Args:
        stages: Stages in run order; validated immediately.
    """

    def __init__(self, stages: Sequence[Stage]) -> None:
        check_order(stages)
        self.stages = list(stages)
        self._by_name = {s.name: s for s in self.stages}

    @property
    def names(self) -> list[str]:
        """Stage names in run order."""
        return [s.name for s in self.stages]

    def producers(self) -> dict[str, str]:
        """artifact -> name of the stage that assigns it."""
        return {a: s.name for s in self.stages for a in s.assigns}

    def run(self, ctx: Context, only: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
        """Run all stages, or only the named ones (whose inputs must already be stored).

        Returns:
            Per-stage stats, including seconds taken.
        """
        selected = self.stages
        if only is not None:
            names = list(only)
            unknown = [n for n in names if n not in self._by_name]
            if unknown:
                raise PipelineError(f"unknown stage(s): {', '.join(unknown)}; stages are: {', '.join(self.names)}")
            selected = [s for s in self.stages if s.name in names]
            self._check_stored_inputs(ctx, selected)
        results: dict[str, dict[str, Any]] = {}
        for st in selected:
            t0 = time.perf_counter()
            stats = st.run(ctx) or {}
            stats["seconds"] = round(time.perf_counter() - t0, 3)
            ctx.store.record_stage_run(st.name, st.version, stats)
            results[st.name] = stats
        return results

    def _check_stored_inputs(self, ctx: Context, selected: Sequence[Stage]) -> None:
        """For a partial run: every input must come from a selected stage or an earlier stored run."""
        runs = ctx.store.stage_runs()
        producers = self.producers()
        have = set(BASE_ARTIFACTS)
        for art, stage in producers.items():
            if stage in runs:
                have.add(art)
        check_order(selected, frozenset(have))
