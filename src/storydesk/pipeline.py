"""The pipeline: article map → corpus step → event map, on every core.

1. **Article map** (:mod:`storydesk.article.analyze`): everything that depends on
   one article alone, a pure function run over batches of articles in a process
   pool (models loaded once per worker).
2. **Corpus step** (:mod:`storydesk.corpus`): near-duplicates, event assignment
   and storylines, the only stateful part, run by the driver in publication order
   over in-memory indexes that persist between builds.
3. **Event map** (:mod:`storydesk.event.analyze`): everything derived from one
   event's articles (dates, timeline, entities, quotes, claims, conflicts,
   summary), a pure function run per event in the pool; then the storyline map
   (storyline timelines).

Stages declare the typed artifacts (:mod:`storydesk.artifacts`) they require and
assign; :class:`Pipeline` checks them when it is built. Each stored output carries
a fingerprint of its inputs (stage version, settings, model identities, and the
digests of the input bytes): an output whose fingerprint no longer matches its
inputs is stale and recomputed. Work is found through the store's queue (written
in the same transaction as the change that causes it), so a build never scans the
whole store to find what an added article changed. The driver writes results in
short batched transactions, so other processes can ingest while a build runs.

Results do not depend on the number of workers: each article and each event is
computed by the same pure function whatever process runs it, and the driver
consumes results in a fixed order.
"""

from __future__ import annotations

import datetime as dt
import functools
import math
import multiprocessing
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import FIRST_COMPLETED, Executor, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar

import numpy as np

from storydesk import artifacts as A
from storydesk.article.analyze import ARTICLE_STAGES, ArticleStage, analyze_batch, closure
from storydesk.artifacts import Artifact, digest_of, fingerprint
from storydesk.config import Config
from storydesk.corpus.dedup import VERSION as DEDUP_VERSION
from storydesk.corpus.dedup import DedupIndex
from storydesk.corpus.events import VERSION as EVENTS_VERSION
from storydesk.corpus.events import EventIndex, EventState, make_signals
from storydesk.corpus.storylines import VERSION as STORYLINES_VERSION
from storydesk.corpus.storylines import StorylineIndex
from storydesk.errors import MissingInputError, PipelineError
from storydesk.event.analyze import (
    EVENT_STAGES,
    EventInput,
    EventStage,
    StorylineInput,
    StorylineTimelineStage,
    TimelineStage,
    analyze_storyline,
    event_dates,
    event_pass,
)
from storydesk.models import Article, DatedFact, Event, Sentence, Storyline, to_dict
from storydesk.nlp import Models
from storydesk.store.base import ArtifactRow, Stamp, Store

T = TypeVar("T")
R = TypeVar("R")


class Progress(Protocol):
    """Progress reporting hook: wraps an iterable with a labelled bar."""

    def __call__(self, items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]: ...


def no_progress(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
    """A progress hook that shows nothing."""
    yield from items


# --------------------------------------------------------------------------- stage declarations


@dataclass(frozen=True)
class CorpusStage:
    """A step of the corpus step (stateful; run by the driver, see :class:`Runner`)."""

    name: str
    version: str
    requires: tuple[Artifact, ...]
    assigns: tuple[Artifact, ...]
    settings: tuple[str, ...] = ()
    scope: str = "corpus"

    def identity(self, models: Models) -> list[Any]:
        """Settings its output depends on (and the lead embedder, whose vectors it compares)."""
        out: list[Any] = [getattr(models.config, s) for s in self.settings]
        if A.LEAD_VECTOR in self.requires:
            out.append(models.lead_id())
        return out


DEDUP = CorpusStage("dedup", DEDUP_VERSION, (A.ARTICLE, A.SIGNATURE), (A.DUPLICATE,), ("dedup_threshold",))
EVENTS = CorpusStage(
    "events",
    EVENTS_VERSION,
    (A.ARTICLE, A.LEAD_VECTOR, A.SIGNALS, A.DUPLICATE),
    (A.EVENTS, A.EVENT_STATE, A.EVENT_SUM),
    (
        "event_weights",
        "event_bar",
        "event_density",
        "event_window_days",
        "event_day_penalty",
        "event_date_penalty",
        "event_candidates",
        "event_merge",
        "event_merge_candidates",
    ),
)
STORYLINES = CorpusStage(
    "storylines",
    STORYLINES_VERSION,
    (A.EVENTS, A.EVENT_STATE),
    (A.STORYLINES,),
    ("storyline_threshold", "storyline_names", "storyline_window_days"),
)
CORPUS_STAGES: tuple[CorpusStage, ...] = (DEDUP, EVENTS, STORYLINES)

AnyStage = ArticleStage | CorpusStage | EventStage | StorylineTimelineStage


def default_stages() -> list[AnyStage]:
    """The standard pipeline, in run order."""
    return [*ARTICLE_STAGES, *CORPUS_STAGES, *EVENT_STAGES, StorylineTimelineStage()]


_PHASES = {"article": 0, "corpus": 1, "event": 2, "storyline": 3}


def check_order(stages: Sequence[AnyStage], available: Iterable[Artifact] = A.BASE) -> None:
    """Raise :class:`MissingInputError` unless each stage's inputs are assigned before it runs.

    Stages must also come in phase order (article map, corpus step, event map,
    storyline map), and a stage may not read an artifact of a later phase.
    """
    have = set(available)
    seen: set[str] = set()
    phase = 0
    for st in stages:
        if st.name in seen:
            raise PipelineError(f"stage {st.name!r} appears twice")
        seen.add(st.name)
        p = _PHASES[st.scope]
        if p < phase:
            raise PipelineError(f"stage {st.name!r} ({st.scope}) comes after a later phase's stage")
        phase = p
        missing = set(st.requires) - have
        if missing:
            names = ", ".join(sorted(a.name for a in missing))
            raise MissingInputError(f"stage {st.name!r} requires {names}, which no earlier stage assigns")
        have |= set(st.assigns)


class Pipeline:
    """An ordered, validated list of stages.

    Args:
        stages: Stages in run order (default: :func:`default_stages`); validated immediately.
    """

    def __init__(self, stages: Sequence[AnyStage] | None = None) -> None:
        self.stages: list[AnyStage] = list(stages) if stages is not None else default_stages()
        check_order(self.stages)
        self._by_name = {s.name: s for s in self.stages}

    @property
    def names(self) -> list[str]:
        """Stage names in run order."""
        return [s.name for s in self.stages]

    def get(self, name: str) -> AnyStage:
        """A stage by name."""
        try:
            return self._by_name[name]
        except KeyError:
            raise PipelineError(f"unknown stage {name!r}; stages are: {', '.join(self.names)}") from None

    def of_scope(self, scope: str) -> list[AnyStage]:
        """The stages of one phase, in order."""
        return [s for s in self.stages if s.scope == scope]


# --------------------------------------------------------------------------- fingerprints


def article_digest(article: Article, sentences: Sequence[Sentence]) -> str:
    """Digest of an article's stored content (text, metadata and sentence offsets)."""
    return fingerprint(to_dict(article), [(s.start, s.end, s.paragraph) for s in sentences])


def stage_fingerprint(stage: AnyStage, models: Models, inputs: Sequence[Any]) -> str:
    """The fingerprint a stage's output has when computed from inputs with these digests."""
    return fingerprint(stage.name, stage.version, stage.identity(models), list(inputs))


# --------------------------------------------------------------------------- workers

_MODELS: Models | None = None


def _init_worker(models: Models) -> None:
    """Pool initializer: keep the settings; models load on first use, once per worker."""
    global _MODELS
    _MODELS = models
    # one worker per core: a model must not start threads of its own on the others
    os.environ["STORYDESK_THREADS"] = "1"


@dataclass
class ArticleTask:
    """One article's work for the article map: what to run, with the stored inputs it reads."""

    article: Article
    sentences: list[Sentence]
    stages: tuple[str, ...]
    provided: dict[str, Any] = field(default_factory=dict)
    digests: dict[str, str] = field(default_factory=dict)


Rows = list[tuple[str, ArtifactRow]]


def _article_rows(job: tuple[tuple[ArticleStage, ...], list[ArticleTask]], models: Models | None = None) -> list[Rows]:
    """Run the article map over a batch of tasks (in a worker or in-process); returns ``(artifact, row)`` per task."""
    all_stages, tasks = job
    models = models or _MODELS or Models()
    out: list[Rows] = [[] for _ in tasks]
    # tasks wanting the same stages share one batched pass (one nlp.pipe call)
    groups: dict[tuple[str, ...], list[int]] = {}
    for i, t in enumerate(tasks):
        groups.setdefault(t.stages, []).append(i)
    by_name = {s.name: s for s in all_stages}
    for names, idx in groups.items():
        stages = closure(all_stages, names)
        items = [(tasks[i].article, tasks[i].sentences, tasks[i].provided) for i in idx]
        results = analyze_batch(items, models, stages)
        for i, res in zip(idx, results, strict=True):
            t = tasks[i]
            digests = dict(t.digests)
            base = article_digest(t.article, t.sentences)
            digests["article"] = digests["sentences"] = base
            for st in stages:
                inputs = [digests[a.name] for a in st.requires]
                fp = stage_fingerprint(by_name[st.name], models, inputs)
                for a in st.assigns:
                    if not a.stored:
                        digests[a.name] = fp
                        continue
                    data = a.codec.encode(res[a.name])
                    row = ArtifactRow(t.article.id, st.version, fp, digest_of(data), data)
                    digests[a.name] = row.digest
                    out[i].append((a.name, row))
    return out


@dataclass
class EventTask:
    """One event's work for the event map: its input, the stages to run and what their fingerprints read."""

    input: EventInput
    stages: tuple[str, ...]
    #: per input artifact of the members (``article``, ``mentions``, ...): their digests in member order
    member_digests: dict[str, list[str | None]]
    #: digests of the stored event artifacts the run reads without recomputing them
    event_digests: dict[str, str | None]


EventJob = tuple[tuple[EventStage, ...], list[EventTask]]


def event_stage_fingerprint(
    st: EventStage, models: Models, task: EventTask, event_digests: dict[str, str | None]
) -> str | None:
    """The fingerprint of an event stage's output from its inputs' digests (None while an input is unknown)."""
    parts: list[Any] = [sorted(a.id for a in task.input.articles)]
    for a in st.requires:
        if a.scope == "event":
            d = event_digests.get(a.name)
            if d is None:
                return None
            parts.append(d)
        elif a.name in task.member_digests:
            parts.append(task.member_digests[a.name])
    return stage_fingerprint(st, models, parts)


def _event_rows(job: EventJob, models: Models | None = None) -> list[Rows]:
    """Run the event map over a batch of events; returns ``(artifact, row)`` per event."""
    all_stages, tasks = job
    models = models or _MODELS or Models()
    by_name = {s.name: s for s in all_stages}
    out = []
    for task in tasks:
        stages = [by_name[n] for n in task.stages]
        res, kept = event_pass(task.input, models, stages)
        digests = dict(task.event_digests)
        rows = []
        for st in stages:
            fp = event_stage_fingerprint(st, models, task, digests)
            if fp is None:
                raise PipelineError(f"event stage {st.name!r} ran before one of its inputs")
            for a in st.assigns:
                data = a.codec.encode(res[a.name])
                row = ArtifactRow(task.input.event.id, st.version, fp, digest_of(data), data)
                digests[a.name] = row.digest
                rows.append((a.name, row))
        if kept is not None and kept.keys() != task.input.vectors.keys():
            rows.append((A.FACT_VECTORS.name, fact_vector_row(task.input.event.id, kept)))
        out.append(rows)
    return out


#: A storyline's result: its timeline row, and the fact vectors embedded for it (text -> float16).
StorylineResult = tuple[list[ArtifactRow], dict[str, np.ndarray]]


def _storyline_results(tasks: list[tuple[StorylineInput, str]], models: Models | None = None) -> list[StorylineResult]:
    """Run the storyline map over a batch of storylines."""
    models = models or _MODELS or Models()
    out: list[StorylineResult] = []
    for inp, fp in tasks:
        res = analyze_storyline(inp, models)
        data = A.STORYLINE_TIMELINE.codec.encode(res["storyline_timeline"])
        row = ArtifactRow(inp.storyline.id, StorylineTimelineStage.version, fp, digest_of(data), data)
        out.append(([row], res["new_vectors"]))
    return out


def _storyline_rows(tasks: list[tuple[StorylineInput, str]], models: Models | None = None) -> list[list[ArtifactRow]]:
    """Run the storyline map over a batch of storylines: the timeline rows only."""
    return [rows for rows, _new in _storyline_results(tasks, models)]


def _storyline_job(job: tuple[list[str], list[tuple[StorylineInput, str]]]) -> list[StorylineResult]:
    """A pool task of the storyline map: one chunk's storylines."""
    return _storyline_results(job[1])


#: Version of :data:`~storydesk.artifacts.FACT_VECTORS` rows (a cache: no fingerprint).
FACT_VECTORS_VERSION = "fact-vectors-1"


def fact_vector_row(event: str, vectors: dict[str, np.ndarray]) -> ArtifactRow:
    """An event's :data:`~storydesk.artifacts.FACT_VECTORS` row."""
    data = A.FACT_VECTORS.codec.encode(vectors)
    return ArtifactRow(event, FACT_VECTORS_VERSION, "", digest_of(data), data)


def fact_vector_rows(
    events: Sequence[str],
    facts: Sequence[Sequence[DatedFact]],
    old: dict[str, dict[str, np.ndarray]],
    new: dict[str, np.ndarray],
) -> list[ArtifactRow]:
    """The fact-vector rows of the events that gained vectors in the storyline map.

    The event map drops the vectors of texts gone from an event (it sees all of its
    facts, merged or not); this only adds.
    """
    rows = []
    for e, group in zip(events, facts, strict=True):
        add = {t: new[t] for f in group for t in (f.text, f.core or f.text) if t in new}
        if add:
            rows.append(fact_vector_row(e, old.get(e, {}) | add))
    return rows


class _Bar:
    """A progress bar over ``total`` items drawn by a :class:`Progress` hook, advanced by hand."""

    def __init__(self, progress: Progress, total: int, desc: str) -> None:
        self._it = iter(progress(range(total), total=total, desc=desc))

    def advance(self, n: int) -> None:
        """``n`` more items done."""
        for _ in range(n):
            next(self._it, None)

    def close(self) -> None:
        """The phase is over (the hook closes its bar when its iterable ends)."""
        for _ in self._it:
            pass


#: The map workers under public names: pure functions of their inputs, run by executors of other engines (Spark).
article_rows = _article_rows
event_rows = _event_rows
storyline_rows = _storyline_rows


#: Events of the storylines sent to a worker in one task (a larger storyline goes alone).
STORYLINE_EVENTS_PER_TASK = 32


def _packed(keys: Sequence[str], size: dict[str, int], budget: int, most: int) -> list[list[str]]:
    """Consecutive groups of ``keys`` of at most ``most`` keys and about ``budget`` in total ``size``."""
    out: list[list[str]] = []
    cur: list[str] = []
    used = 0
    for k in keys:
        n = max(1, size.get(k, 1))
        if cur and (len(cur) >= most or used + n > budget):
            out.append(cur)
            cur, used = [], 0
        cur.append(k)
        used += n
    if cur:
        out.append(cur)
    return out


def _chunks(items: Sequence[T], n: int) -> Iterator[list[T]]:
    """Consecutive slices of at most ``n`` items."""
    for i in range(0, len(items), n):
        yield list(items[i : i + n])


def ordered_map(pool: Executor | None, fn: Callable[[T], R], items: Iterable[T], window: int) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` in input order, at most ``window`` calls in flight (in-process when ``pool`` is None)."""
    if pool is None:
        for item in items:
            yield item, fn(item)
        return
    pending: list[tuple[T, Future[R]]] = []
    for item in items:
        pending.append((item, pool.submit(fn, item)))
        if len(pending) >= window:
            it, f = pending.pop(0)
            yield it, f.result()
    for it, f in pending:
        yield it, f.result()


def completed_map(
    pool: Executor | None, fn: Callable[[T], R], items: Iterable[T], window: int
) -> Iterator[tuple[T, R]]:
    """``(item, fn(item))`` as calls finish, at most ``window`` in flight (in-process, in order, when ``pool`` is None).

    For tasks whose results are written under their own keys, so order does not matter:
    unlike :func:`ordered_map`, one long task (a storyline of hundreds of events) does
    not hold back the results behind it while the other workers run out of work.
    """
    if pool is None:
        for item in items:
            yield item, fn(item)
        return
    running: dict[Future[R], T] = {}
    source = iter(items)
    exhausted = False
    while True:
        while not exhausted and len(running) < window:
            try:
                item = next(source)
            except StopIteration:
                exhausted = True
                break
            running[pool.submit(fn, item)] = item
        if not running:
            return
        done, _ = wait(running, return_when=FIRST_COMPLETED)
        for f in sorted(done, key=list(running).index):  # several at once: in submission order
            yield running.pop(f), f.result()


# --------------------------------------------------------------------------- corpus state


class Corpus:
    """The corpus step's in-memory state: dedup index, event index, storylines, event titles.

    Loaded from the store on first use and kept between builds; a change token in
    the store tells when another process changed it (then it is loaded again).
    """

    TOKEN = "corpus_token"

    def __init__(self, config: Config, dim: int) -> None:
        self.config = config
        self.dedup = DedupIndex(config.dedup_threshold)
        self.events = EventIndex(dim, config)
        self.storylines = StorylineIndex(config)
        self.titles: dict[str, str] = {}
        self.token = ""

    @classmethod
    def load(cls, store: Store, config: Config, dim: int) -> Corpus:
        """The corpus state as stored."""
        c = cls(config, dim)
        c.token = store.get_meta(cls.TOKEN) or ""
        dups = {r.key: A.DUPLICATE.codec.decode(r.data) for r in store.iter_rows(A.DUPLICATE.name)}
        if dups:
            order = store.in_publication_order(dups)
            sigs: dict[str, Any] = {}
            for chunk in _chunks(order, 2000):
                sigs.update(store.get(A.SIGNATURE, chunk))
                for k in chunk:
                    if k in sigs:
                        c.dedup.load(k, sigs.pop(k), dups[k])
        states = {r.key: A.EVENT_STATE.codec.decode(r.data) for r in store.iter_rows(A.EVENT_STATE.name)}
        sums = {r.key: A.EVENT_SUM.codec.decode(r.data) for r in store.iter_rows(A.EVENT_SUM.name)}
        events = {e.id: e for e in store.events()}
        # an event of one article keeps no stored sum: it is that article's vector
        alone = {ev.articles[0]: eid for eid, ev in events.items() if eid not in sums and len(ev.articles) == 1}
        for chunk in _chunks(list(alone), 2000):
            for aid, vec in store.get(A.LEAD_VECTOR, chunk).items():
                sums[alone[aid]] = vec
        for eid in sorted(states, key=lambda e: (states[e].get("rank", 0), e)):
            ev = events.get(eid)
            if ev is None or eid not in sums:
                continue
            c.events.add_event(EventState.from_dict(eid, states[eid]), sums[eid], ev.articles)
            c.titles[eid] = ev.title
        for eid in sorted(c.events.pos, key=lambda e: c.events.pos[e]):
            ev = events[eid]
            if ev.storyline:
                c.storylines.load(eid, ev.storyline, int(states[eid].get("linked", -1)))
        return c


# --------------------------------------------------------------------------- the runner


@dataclass
class BuildStats:
    """What one phase did."""

    processed: int = 0
    seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """For the run log."""
        return {"processed": self.processed, "seconds": round(self.seconds, 3), **self.extra}


class Runner:
    """Runs a :class:`Pipeline` over a store: article map → corpus step → event map.

    Args:
        store: The store.
        pipeline: The stages.
        models: Settings and (injected) models.
        workers: Processes for the maps (default: every core); 1 runs everything in-process.
        progress: Progress hook.
        article_batch: Articles per task sent to a worker.
        write_batch: Articles (or events) per write transaction.
    """

    #: Below this many tasks per worker, the maps run in-process (a pool costs seconds to start).
    MIN_TASKS_PER_WORKER = 2

    def __init__(
        self,
        store: Store,
        pipeline: Pipeline,
        models: Models,
        workers: int | None = None,
        progress: Progress = no_progress,
        article_batch: int = 8,
        write_batch: int = 256,
    ) -> None:
        self.store = store
        self.pipeline = pipeline
        self.models = models
        self.workers = max(1, workers or os.cpu_count() or 1)
        self.progress = progress
        self.article_batch = article_batch
        self.write_batch = write_batch
        self.corpus: Corpus | None = None
        self._pool: ProcessPoolExecutor | None = None
        self.min_tasks_per_worker = self.MIN_TASKS_PER_WORKER
        # an edited article's article-map rows go with its old text (the store deletes them)
        store.article_artifacts = frozenset(a.name for s in ARTICLE_STAGES for a in s.assigns if a.stored)
        self.article_stages: tuple[ArticleStage, ...] = tuple(s for s in pipeline.stages if isinstance(s, ArticleStage))
        self.event_stages: tuple[EventStage, ...] = tuple(s for s in pipeline.stages if isinstance(s, EventStage))
        #: Article and corpus artifacts the event map reads for every member.
        self.event_inputs_needed: tuple[str, ...] = tuple(
            sorted(
                {a.name for s in self.event_stages for a in s.requires if a.stored and a.scope in ("article", "corpus")}
            )
        )

    # ---------------------------------------------------------------- pool
    def _executor(self, tasks: int) -> Executor | None:
        """The process pool when the work is worth it, else None (in-process)."""
        if self.workers <= 1 or tasks < self.workers * self.min_tasks_per_worker:
            return None
        if self._pool is None:
            try:
                pickle.dumps(self.models)
            except (TypeError, pickle.PicklingError):
                return None  # an injected model that cannot travel to a worker: run in this process

            # Fixed string hashing in every worker: no result may depend on set order. One thread
            # per worker for the numeric libraries, which read these when a worker starts.
            os.environ.setdefault("PYTHONHASHSEED", "0")
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                os.environ.setdefault(var, "1")
            ctx = multiprocessing.get_context("spawn")
            self._pool = ProcessPoolExecutor(
                self.workers, mp_context=ctx, initializer=_init_worker, initargs=(self.models,)
            )
        return self._pool

    def close(self) -> None:
        """Stop the worker processes."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    # ---------------------------------------------------------------- build
    def build(self, only: Iterable[str] | None = None, force: bool = False) -> dict[str, dict[str, Any]]:
        """Bring every output up to date (or only the named stages' outputs).

        Args:
            only: Stage names to run; their inputs must exist in the store from earlier runs.
            force: Recompute even what is up to date (all of it, or the named stages).

        Returns:
            Per-phase statistics, including seconds taken.
        """
        selected = self._select(only)
        partial = only is not None
        self._schedule(selected, force, partial)
        stats: dict[str, dict[str, Any]] = {}
        try:
            scopes = {s.scope for s in selected}
            if "article" in scopes:
                stats["article map"] = self._article_map([s for s in selected if isinstance(s, ArticleStage)], partial)
            if "corpus" in scopes:
                stats["corpus step"] = self._corpus_step()
            if "event" in scopes:
                stats["event map"] = self._event_map([s for s in selected if isinstance(s, EventStage)], partial)
            if "storyline" in scopes:
                stats["storyline map"] = self._storyline_map(partial)
        finally:
            if self.workers > 1:
                self.close()
        for phase, st in stats.items():
            self.store.record_stage_run(phase, "", st)
        return stats

    def _select(self, only: Iterable[str] | None) -> list[AnyStage]:
        """The stages to run, in order (checking that inputs of a partial run are stored)."""
        if only is None:
            return list(self.pipeline.stages)
        names = list(only)
        for n in names:
            self.pipeline.get(n)
        selected = [s for s in self.pipeline.stages if s.name in names]
        have = set(A.BASE)
        runs = self.store.get_meta("stages") or ""
        done = set(runs.split(",")) if runs else set()
        for s in self.pipeline.stages:
            if s.name in done:
                have |= set(s.assigns)
        # transient inputs are recomputed inside the map that needs them
        have |= {a for s in self.pipeline.stages for a in s.assigns if not a.stored}
        try:
            check_order(selected, have)
        except MissingInputError as e:
            raise MissingInputError(f"{e} (run a full `build` first)") from None
        return selected

    def _stage_key(self, st: AnyStage) -> str:
        """What a stage's outputs depend on besides its inputs: version, settings, models."""
        return fingerprint(st.name, st.version, st.identity(self.models))

    def _schedule(self, selected: Sequence[AnyStage], force: bool, partial: bool) -> None:
        """Queue the work that stage changes (new versions, settings, models) or ``force`` make necessary."""
        store = self.store
        changed = [s for s in selected if force or store.get_meta(f"stage:{s.name}") != self._stage_key(s)]
        if store.get_meta("embedder") != self.models.lead_id() and any(A.LEAD_VECTOR in s.assigns for s in selected):
            # which vectors the store holds: exports name it, and a server extends the store with the same model
            store.set_meta("embedder", self.models.lead_id())
        if not changed:
            return
        scopes = {s.scope for s in changed}
        with store.transaction():
            if force:
                for s in changed:
                    for a in s.assigns:
                        if a.stored:
                            store.delete_rows(a.name)
            if "corpus" in scopes or (force and not partial):
                self._reset_corpus()
            if "article" in scopes:
                store.enqueue("article", store.article_ids())
            if "event" in scopes:
                store.enqueue("event", [e.id for e in store.events()])
            if "storyline" in scopes:
                store.enqueue("storyline", [s.id for s in store.storylines()])
            for s in changed:
                store.set_meta(f"stage:{s.name}", self._stage_key(s))
            done = set(filter(None, (store.get_meta("stages") or "").split(",")))
            store.set_meta("stages", ",".join(sorted(done | {s.name for s in selected})))

    def _reset_corpus(self) -> None:
        """Forget every corpus decision (dedup, events, storylines) and queue every article for the corpus step."""
        store = self.store
        for a in (A.DUPLICATE, A.EVENT_STATE, A.EVENT_SUM, *A.stored_in("event"), *A.stored_in("storyline")):
            store.delete_rows(a.name)
        store.delete_events([e.id for e in store.events()])
        store.delete_storylines([s.id for s in store.storylines()])
        store.dequeue("event", store.pending("event"))
        store.dequeue("storyline", store.pending("storyline"))
        store.enqueue("corpus", store.article_ids())
        store.set_meta(Corpus.TOKEN, "")
        self.corpus = None

    # ---------------------------------------------------------------- article map
    def _stale_article_stages(
        self, art: Article, sents: list[Sentence], stamps: dict[str, dict[str, Stamp]], stages: Sequence[ArticleStage]
    ) -> tuple[str, ...]:
        """The article stages whose stored outputs are missing or no longer match their inputs."""
        digests: dict[str, str | None] = {"article": article_digest(art, sents)}
        digests["sentences"] = digests["article"]
        stale: list[str] = []
        for st in self.article_stages:
            if any(digests.get(a.name) is None for a in st.requires):
                fp = None  # an input is recomputed in this pass: so is this stage
            else:
                fp = stage_fingerprint(st, self.models, [digests[a.name] for a in st.requires])
            selected = st in stages
            for a in st.assigns:
                if not a.stored:
                    digests[a.name] = fp
                    continue
                got = stamps.get(a.name, {}).get(art.id)
                if got is None or fp is None or got.fingerprint != fp:
                    if selected:
                        stale.append(st.name)
                    digests[a.name] = None if selected else (got.digest if got else None)
                else:
                    digests[a.name] = got.digest
        return tuple(dict.fromkeys(stale))

    def _article_map(self, stages: list[ArticleStage], partial: bool) -> dict[str, Any]:
        """Run the article map over queued articles (every article for a partial run)."""
        t0 = time.perf_counter()
        store = self.store
        keys = store.article_ids() if partial else store.in_publication_order(store.pending("article"))
        stats = BuildStats()
        if not keys:
            return stats.as_dict()
        stored = [a for st in self.article_stages for a in st.assigns if a.stored]
        pool = self._executor(math.ceil(len(keys) / self.article_batch))
        window = 2 * self.workers if pool else 1
        by_name = {s.name: s for s in self.article_stages}
        bar = _Bar(self.progress, len(keys), "articles")

        def tasks() -> Iterator[tuple[tuple[ArticleStage, ...], list[ArticleTask]]]:
            for chunk in _chunks(keys, self.article_batch):
                arts = store.articles(chunk)
                sents = store.sentences_of(chunk)
                stamps = {a.name: store.stamps(a.name, chunk) for a in stored}
                batch = []
                for art in arts:
                    ss = sents.get(art.id, [])
                    names = self._stale_article_stages(art, ss, stamps, stages)
                    run = {s.name for s in closure(self.article_stages, names)}
                    need = {
                        a.name
                        for n in run
                        for a in by_name[n].requires
                        if a.stored and not any(a in by_name[m].assigns for m in run)
                    }
                    provided = {}
                    if need:
                        for name in need:
                            provided[name] = store.get_one(A.ALL[name], art.id)
                    digests = {n: stamps[n][art.id].digest for n in need if art.id in stamps[n]}
                    batch.append(ArticleTask(art, ss, names, provided, digests))
                yield self.article_stages, batch

        done: list[str] = []
        rows: dict[str, list[ArtifactRow]] = {}
        fn = _article_rows if pool else functools.partial(_article_rows, models=self.models)
        for (_stages, batch), result in ordered_map(pool, fn, tasks(), window):
            for task, task_rows in zip(batch, result, strict=True):
                for name, r in task_rows:
                    rows.setdefault(name, []).append(r)
                done.append(task.article.id)
            bar.advance(len(batch))
            if len(done) >= self.write_batch:
                self._write_articles(rows, done, partial)
                stats.processed += len(done)
                rows, done = {}, []
        if done:
            self._write_articles(rows, done, partial)
            stats.processed += len(done)
        bar.close()
        stats.seconds = time.perf_counter() - t0
        return stats.as_dict()

    def _write_articles(self, rows: dict[str, list[ArtifactRow]], done: list[str], partial: bool) -> None:
        """Store article-map results; the articles go on to the corpus step."""
        store = self.store
        with store.transaction():
            for name, rs in rows.items():
                store.put_rows(name, rs)
            store.enqueue("corpus", done)
            if not partial:
                store.dequeue("article", done)

    # ---------------------------------------------------------------- corpus step
    def _corpus(self) -> Corpus:
        """The in-memory corpus state, (re)loaded when another process changed it."""
        token = self.store.get_meta(Corpus.TOKEN) or ""
        if self.corpus is None or self.corpus.token != token or self.corpus.config != self.models.config:
            dim = self._dim()
            self.corpus = Corpus.load(self.store, self.models.config, dim)
        return self.corpus

    def _dim(self) -> int:
        """Dimension of the stored lead vectors (from one of them; the embedder is not loaded for it)."""
        for r in self.store.iter_rows(A.LEAD_VECTOR.name, batch=1):
            return len(A.LEAD_VECTOR.codec.decode(r.data))
        return self.models.lead().dim

    def _corpus_step(self) -> dict[str, Any]:
        """Dedup, event assignment and storylines for queued articles, in publication order."""
        t0 = time.perf_counter()
        store = self.store
        keys = store.in_publication_order(store.pending("corpus"))
        stats = BuildStats(extra={"events_opened": 0, "duplicates": 0})
        if not keys:
            return stats.as_dict()
        c = self._corpus()
        bar = _Bar(self.progress, len(keys), "clustering")
        for chunk in _chunks(keys, 1000):
            self._corpus_chunk(c, chunk, stats)
            bar.advance(len(chunk))
        bar.close()
        stats.processed = len(keys)
        stats.seconds = time.perf_counter() - t0
        stats.extra["events"] = len(c.events)
        return stats.as_dict()

    def _corpus_chunk(self, c: Corpus, keys: list[str], stats: BuildStats) -> None:
        """One batch of the corpus step, written in one transaction."""
        store = self.store
        names = {s.name for s in self.pipeline.of_scope("corpus")}
        do_events, do_storylines = "events" in names, "storylines" in names
        arts = {a.id: a for a in store.articles(keys)}
        sigs = store.get(A.SIGNATURE, keys)
        vecs = store.get(A.LEAD_VECTOR, keys) if do_events else {}
        sigvals = store.get(A.SIGNALS, keys) if do_events else {}
        cache: dict[str, Article] = dict(arts)

        def lookup(aid: str) -> Article:
            if aid not in cache:
                cache[aid] = store.get_article(aid)
            return cache[aid]

        dup_rows: dict[str, dict[str, Any]] = {}
        dirty_events: set[str] = set()
        changed_events: set[str] = set()
        merged_before = set(c.events.merged)
        processed: list[str] = []
        for aid in keys:
            art = arts.get(aid)
            if art is None:
                processed.append(aid)  # no longer stored
                continue
            if aid not in sigs or (do_events and (aid not in vecs or aid not in sigvals)):
                continue  # its article map has not stored its inputs: it stays queued
            processed.append(aid)
            if aid in c.dedup:
                # re-analysed (an edit, a stage re-run): its event's outputs may be stale
                if aid in c.events.assigned:
                    dirty_events.add(c.events.assigned[aid])
                continue
            decisions = c.dedup.add(art, sigs[aid], lookup)
            for k, d in decisions.items():
                dup_rows[k] = d
                if k != aid and k in c.events.assigned:
                    dirty_events.add(c.events.assigned[k])
            original = decisions[aid]["duplicate_of"]
            stats.extra["duplicates"] += original is not None
            if not do_events:
                continue
            sig = make_signals(aid, art.published, vecs[aid], sigvals[aid])
            eid, opened = c.events.assign(sig, original)
            stats.extra["events_opened"] += opened
            changed_events.add(eid)
        gone = set(c.events.merged) - merged_before
        changed_events = {c.events.merged.get(e, e) for e in changed_events}
        dirty_events = {c.events.merged.get(e, e) for e in dirty_events}
        lost = c.storylines.drop(gone)
        sl_changed, sl_gone = c.storylines.link(c.events, changed_events) if do_storylines else (set(), set())
        sl_changed |= lost - sl_gone
        titles = self._titles(c, changed_events)
        c.titles.update(titles)
        for e in gone:
            c.titles.pop(e, None)
        events = [
            Event(
                id=e,
                articles=tuple(c.events.members[c.events.pos[e]]),
                title=c.titles.get(e, ""),
                storyline=c.storylines.of.get(e),
            )
            for e in sorted(changed_events, key=lambda e: c.events.pos[e])
        ]
        sizes = {e: c.events.state(e).n for sl in sl_changed for e in c.storylines.members.get(sl, [])}
        storylines = [
            Storyline(sl, tuple(c.storylines.members[sl]), c.storylines.title(sl, c.titles, sizes))
            for sl in sorted(sl_changed)
            if sl in c.storylines.members
        ]
        states = {}
        for e in changed_events:
            st = c.events.state(e).as_dict()
            st["rank"] = c.events.pos[e]
            st["linked"] = c.storylines.linked.get(e, -1)
            states[e] = st
        with store.transaction():
            fp = fingerprint(DEDUP.name, DEDUP.version)
            store.put(A.DUPLICATE, {k: (d, DEDUP.version, fp) for k, d in dup_rows.items()})
            if gone:
                store.delete_events(sorted(gone))
                for a in (A.EVENT_STATE, A.EVENT_SUM, *A.stored_in("event")):
                    store.delete_rows(a.name, sorted(gone))
            # dates come from the event map: keep the stored ones until it runs again
            known = {e.id: e for e in store.events([e.id for e in events])}
            store.put_events([_with_dates(e, known.get(e.id)) for e in events])
            efp = fingerprint(EVENTS.name, EVENTS.version)
            store.put(A.EVENT_STATE, {e: (s, EVENTS.version, efp) for e, s in states.items()})
            # an event of one article needs no stored sum (its article's vector is one); a bigger one does
            sums = {e: (c.events.vector_sum(e), EVENTS.version, efp) for e in changed_events if c.events.state(e).n > 1}
            store.put(A.EVENT_SUM, sums)
            if sl_gone:
                store.delete_storylines(sorted(sl_gone))
                store.delete_rows(A.STORYLINE_TIMELINE.name, sorted(sl_gone))
            store.put_storylines(storylines)
            store.dequeue("corpus", processed)
            store.enqueue("event", sorted(changed_events | dirty_events))
            store.enqueue("storyline", sorted(sl_changed))
            c.token = fingerprint(c.token, keys[0], len(keys), time.time())
            store.set_meta(Corpus.TOKEN, c.token)

    def _titles(self, c: Corpus, events: Iterable[str]) -> dict[str, str]:
        """Event titles: the headline of the member closest to the centroid (the first 50 members are enough)."""
        members = {e: list(c.events.members[c.events.pos[e]][:50]) for e in events}
        ids = [a for m in members.values() for a in m]
        if not ids:
            return {}
        vecs = self.store.get(A.LEAD_VECTOR, ids)
        arts = {a.id: a for a in self.store.articles(ids)}
        out = {}
        for e, mem in members.items():
            cent = c.events.centroid(e)
            ranked = sorted((a for a in mem if a in vecs and a in arts), key=lambda a: -float(np.dot(vecs[a], cent)))
            title = next((arts[a].title for a in ranked if arts[a].title), None)
            if title is None:
                first = arts[ranked[0]].text.split("\n\n")[0] if ranked else ""
                title = first[:120].rsplit(" ", 1)[0] + ("…" if len(first) > 120 else "")
            out[e] = title or ""
        return out

    # ---------------------------------------------------------------- event map
    def _load_members(
        self, events: Sequence[Event]
    ) -> tuple[dict[str, Article], dict[str, list[Sentence]], dict[str, dict[str, ArtifactRow]]]:
        """The member articles of some events, their sentences and their rows of the event map's inputs."""
        store = self.store
        members = sorted({a for e in events for a in e.articles})
        arts = {a.id: a for a in store.articles(members)}
        sents = store.sentences_of(members)
        rows = {name: store.get_rows(name, members) for name in self.event_inputs_needed}
        return arts, sents, rows

    def _input(
        self,
        ev: Event,
        arts: dict[str, Article],
        sents: dict[str, list[Sentence]],
        rows: dict[str, dict[str, ArtifactRow]],
        provided: dict[str, Any] | None = None,
    ) -> EventInput:
        """One event's :class:`EventInput` from loaded member data."""
        ids = [a for a in self.store.in_publication_order(ev.articles) if a in arts]
        per_article = {
            name: {i: A.ALL[name].codec.decode(rows[name][i].data) for i in ids if i in rows[name]}
            for name in self.event_inputs_needed
        }
        dups = per_article.pop(A.DUPLICATE.name, {})
        return EventInput(
            event=ev,
            articles=[arts[i] for i in ids],
            sentences={i: sents.get(i, []) for i in ids},
            per_article=per_article,
            duplicates={i: (dups.get(i) or {}).get("duplicate_of") for i in ids},
            provided=provided or {},
        )

    def event_inputs(self, events: Sequence[Event]) -> list[EventInput]:
        """What the event map reads for these events (stored or not: evaluations pass gold groupings)."""
        arts, sents, rows = self._load_members(events)
        return [self._input(ev, arts, sents, rows) for ev in events]

    def _event_inputs(self, eids: list[str], stages: Sequence[EventStage]) -> list[EventTask]:
        """The work of the stale event stages of some events (events with nothing stale are left out)."""
        store = self.store
        events = store.events(eids)
        arts, sents, rows = self._load_members(events)
        own = {a.name: store.stamps(a.name, eids) for s in self.event_stages for a in s.assigns}
        digests = {a: article_digest(art, sents.get(a, [])) for a, art in arts.items()}
        out = []
        selected = {s.name for s in stages}
        for ev in events:
            ids = sorted(a for a in ev.articles if a in arts)
            member: dict[str, list[str | None]] = {"article": [digests[i] for i in ids]}
            member["sentences"] = member["article"]
            for name in self.event_inputs_needed:
                member[name] = [rows[name][i].digest if i in rows[name] else None for i in ids]
            task = EventTask(self._input(ev, arts, sents, rows), (), member, {})
            edig: dict[str, str | None] = {}
            stale: list[str] = []
            for st in self.event_stages:
                fp = event_stage_fingerprint(st, self.models, task, edig)
                stored = [own[a.name].get(ev.id) for a in st.assigns]
                fresh = fp is not None and all(got is not None and got.fingerprint == fp for got in stored)
                if not fresh and st.name in selected:
                    stale.append(st.name)
                    for a in st.assigns:
                        edig[a.name] = None  # made again in this run
                else:  # fresh, or not run now: later stages read the stored value
                    for a, got in zip(st.assigns, stored, strict=True):
                        edig[a.name] = got.digest if got else None
            if not stale:
                continue
            made = {a.name for s in self.event_stages if s.name in stale for a in s.assigns}
            reads = {a for s in self.event_stages if s.name in stale for a in s.requires if a.scope == "event"}
            task.input.provided = {a.name: store.get_one(a, ev.id) for a in reads if a.name not in made}
            task.event_digests = {a.name: edig.get(a.name) for a in reads if a.name not in made}
            task.stages = tuple(stale)
            out.append(task)
        # the fact vectors kept from the last run, for the events whose timeline is made again
        again = [t.input.event.id for t in out if TimelineStage.name in t.stages]
        kept = store.get(A.FACT_VECTORS, again) if again else {}
        for t in out:
            t.input.vectors = kept.get(t.input.event.id) or {}
        return out

    def _event_map(self, stages: list[EventStage], partial: bool) -> dict[str, Any]:
        """Run the event map over queued events (every event for a partial run)."""
        t0 = time.perf_counter()
        store = self.store
        keys = [e.id for e in store.events()] if partial else store.pending("event")
        stats = BuildStats()
        if not keys:
            return stats.as_dict()
        pool = self._executor(math.ceil(len(keys) / 4))
        window = 2 * self.workers if pool else 1
        bar = _Bar(self.progress, len(keys), "events")

        def batches() -> Iterator[EventJob]:
            for chunk in _chunks(keys, 32):
                inputs = self._event_inputs(chunk, stages)
                for small in _chunks(inputs, 4):
                    yield self.event_stages, small
                # the chunk's events with nothing stale (or gone since they were queued) are done at once
                fresh = set(chunk) - {t.input.event.id for t in inputs}
                if fresh and not partial:
                    store.dequeue("event", sorted(fresh))

        efn = _event_rows if pool else functools.partial(_event_rows, models=self.models)
        for (_stages, batch), result in completed_map(pool, efn, batches(), window):
            self._write_events(batch, result, partial)
            stats.processed += len(batch)
            bar.advance(len(batch))
        bar.close()
        stats.seconds = time.perf_counter() - t0
        return stats.as_dict()

    def _write_events(self, batch: list[EventTask], result: list[Rows], partial: bool) -> None:
        """Store event-map results (and the event dates on the events themselves)."""
        store = self.store
        by_name: dict[str, list[ArtifactRow]] = {}
        dated: dict[str, tuple[dt.date | None, dt.date | None]] = {}
        for task, rows in zip(batch, result, strict=True):
            for name, r in rows:
                by_name.setdefault(name, []).append(r)
                if name == A.EVENT_DATES.name:
                    dated[task.input.event.id] = event_dates(A.EVENT_DATES.codec.decode(r.data))
        with store.transaction():
            for name, rs in by_name.items():
                store.put_rows(name, rs)
            if dated:
                # the corpus step may have moved on since: keep its membership, set the dates
                current = store.events(list(dated))
                changed = [e for e in current if (e.start, e.end) != dated[e.id]]
                store.put_events([Event(e.id, e.articles, e.title, e.storyline, *dated[e.id]) for e in changed])
            if not partial:
                store.dequeue("event", [t.input.event.id for t in batch])

    # ---------------------------------------------------------------- storyline map
    def _storyline_map(self, partial: bool) -> dict[str, Any]:
        """Storyline timelines of queued storylines."""
        t0 = time.perf_counter()
        store = self.store
        keys = [s.id for s in store.storylines()] if partial else store.pending("storyline")
        stats = BuildStats()
        if not keys:
            return stats.as_dict()
        stage = StorylineTimelineStage()
        bar = _Bar(self.progress, len(keys), "storylines")
        # Largest first, packed by size: a storyline of hundreds of events costs minutes
        # (its facts are judged by the transformer) and one of a single event nothing.
        queued = {sl.id: sl for sl in store.storylines(keys)}  # a queued storyline may be gone since
        size = {k: len(sl.events) for k, sl in queued.items()}
        chunks = _packed(sorted(keys, key=lambda k: (-size.get(k, 0), k)), size, STORYLINE_EVENTS_PER_TASK, 8)
        pool = self._executor(len(chunks))
        window = 2 * self.workers if pool else 1

        # per storyline in flight: its events with facts and their kept vectors (written back with new ones)
        kept: dict[str, tuple[list[str], dict[str, dict[str, np.ndarray]]]] = {}

        def jobs() -> Iterator[tuple[list[str], list[tuple[StorylineInput, str]]]]:
            for chunk in chunks:
                tasks = []
                stamps = store.stamps(A.STORYLINE_TIMELINE.name, chunk)
                for sl in (queued[k] for k in chunk if k in queued):
                    events = list(sl.events)
                    rows = store.get_rows(A.EVENT_FACTS.name, events)
                    digests = [rows[e].digest if e in rows else None for e in events]
                    fp = stage_fingerprint(stage, self.models, [events, digests])
                    got = stamps.get(sl.id)
                    if got is not None and got.fingerprint == fp:
                        continue
                    with_facts = [e for e in events if e in rows]
                    facts = [list(A.EVENT_FACTS.codec.decode(rows[e].data)) for e in with_facts]
                    old: dict[str, dict[str, np.ndarray]] = {}
                    if len(events) > 1:  # one event's facts are never judged against each other here
                        old = store.get(A.FACT_VECTORS, with_facts)
                    kept[sl.id] = (with_facts, old)
                    known = {t: v for vecs in old.values() for t, v in vecs.items()}
                    tasks.append((StorylineInput(sl, facts, known), fp))
                yield chunk, tasks

        def run(job: tuple[list[str], list[tuple[StorylineInput, str]]]) -> list[StorylineResult]:
            return _storyline_results(job[1], self.models)

        sfn = _storyline_job if pool else run
        for (chunk, tasks), result in completed_map(pool, sfn, jobs(), window):
            vector_rows = []
            for (inp, _fp), (_rows, new) in zip(tasks, result, strict=True):
                events, old = kept.pop(inp.storyline.id)
                vector_rows += fact_vector_rows(events, inp.facts, old, new)
            with store.transaction():
                store.put_rows(A.STORYLINE_TIMELINE.name, [r for rows, _new in result for r in rows])
                if vector_rows:
                    store.put_rows(A.FACT_VECTORS.name, vector_rows)
                if not partial:
                    store.dequeue("storyline", chunk)
            stats.processed += len(tasks)
            bar.advance(len(chunk))
        bar.close()
        stats.seconds = time.perf_counter() - t0
        return stats.as_dict()


def _with_dates(ev: Event, known: Event | None) -> Event:
    """``ev`` with the dates already stored for it (the event map sets them)."""
    if known is None:
        return ev
    return Event(ev.id, ev.articles, ev.title, ev.storyline, known.start, known.end)
