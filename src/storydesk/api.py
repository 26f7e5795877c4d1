"""The library API: everything the CLI, the REST API and the web UI do is a call here.

>>> from storydesk.api import Storydesk
>>> with Storydesk("news.db") as sd:                      # doctest: +SKIP
...     report = sd.ingest(["articles/"])
...     sd.build()
...     doc = sd.story()

The shells (``cli.py``, ``web/``) import nothing else of storydesk but this module,
:mod:`storydesk.errors`, :mod:`storydesk.config` and ``__version__``
(``tests/test_shells.py`` checks it); :data:`__all__` is the whole public surface.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from storydesk import artifacts as A
from storydesk.config import Config
from storydesk.embed import Embedder, embedder_for_model_id
from storydesk.errors import ConfigError, InputError, NotFoundError
from storydesk.ingest import MAX_FILE_BYTES, MAX_JSON_DEPTH, IngestReport, ingest, ingest_records, safe_url
from storydesk.ingest import parse_json_bytes as parse_json
from storydesk.models import Rejection, Storyline
from storydesk.nlp import Models
from storydesk.pipeline import AnyStage, Pipeline, Progress, Runner, default_stages, no_progress
from storydesk.store import Store, open_store
from storydesk.store import database_exists as _database_exists

__all__ = [
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PAGE",
    "ORDERS",
    "PHASES",
    "SEARCH_LIMIT",
    "Counts",
    "Embedder",
    "IngestReport",
    "PhaseStatus",
    "Rejection",
    "StageInfo",
    "Storydesk",
    "database_exists",
    "describe_stages",
    "load_spark_output",
    "parse_json",
    "safe_url",
    "spark_available",
    "spark_run",
]

#: The phases of a build, by stage scope, in run order (their names key the build statistics).
PHASES = {"article": "article map", "corpus": "corpus step", "event": "event map", "storyline": "storyline map"}


@dataclass(frozen=True)
class Counts:
    """How much a store holds."""

    articles: int
    events: int
    storylines: int
    rejections: int

    def as_dict(self) -> dict[str, int]:
        """JSON-ready counts."""
        return {
            "articles": self.articles,
            "events": self.events,
            "storylines": self.storylines,
            "rejections": self.rejections,
        }


@dataclass(frozen=True)
class StageInfo:
    """One pipeline stage: its phase (``scope``), name, version, and the artifacts it reads and writes."""

    scope: str
    name: str
    version: str
    requires: tuple[str, ...]
    assigns: tuple[str, ...]


@dataclass(frozen=True)
class PhaseStatus:
    """One build phase: its stages and its last run in this store.

    Attributes:
        phase: ``article map``, ``corpus step``, ``event map`` or ``storyline map``.
        scope: The scope of its stages (``article``, ``corpus``, ``event``, ``storyline``).
        stages: Its stages, in run order.
        finished: When it last finished (UTC, ISO 8601), or None if it never ran.
        stats: What that run did (as in :meth:`Storydesk.build`'s result).
    """

    phase: str
    scope: str
    stages: tuple[StageInfo, ...]
    finished: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)


def describe_stages(stages: Sequence[AnyStage] | None = None) -> list[StageInfo]:
    """The pipeline's stages in run order (the standard ones by default); needs no database."""
    return [
        StageInfo(
            scope=st.scope,
            name=st.name,
            version=st.version,
            requires=tuple(a.name for a in st.requires),
            assigns=tuple(a.name for a in st.assigns),
        )
        for st in (stages if stages is not None else default_stages())
    ]


def database_exists(db: str | Path) -> bool:
    """Whether ``db`` names an existing database, so a read-only command need not create an empty one.

    An SQLite path (or ``sqlite:///path``) exists when its file does; ``:memory:`` and
    ``postgresql://`` URLs count as existing (opening an unreachable server fails clearly).
    """
    return _database_exists(db)


def spark_available() -> bool:
    """Whether the ``[spark]`` extra (pyspark, pyarrow, pandas) is installed."""
    from storydesk import spark

    return spark.available()


def spark_run(
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    master: str = "local[*]",
    partitions: int | None = None,
    embedder: str | None = None,
    block_days: int = 28,
    encoding: str | None = None,
    keep_work: bool = False,
) -> dict[str, Any]:
    """Run the whole pipeline on Apache Spark and write its Parquet tables (the ``[spark]`` extra).

    Args:
        inputs: Files and folders (text, JSON Lines, JSON, HTML, feeds, Parquet).
        out: Output directory, one that every executor can write.
        master: Spark master: ``local[N]``, ``spark://host:7077``, ``yarn``, ``k8s://...``.
        partitions: Partitions of the article map and the shuffles (default: 4 per core).
        embedder: Title+lead embedder (default: the configured one).
        block_days: Days per event block (docs/spark.md).
        encoding: Force the text encoding of the inputs.
        keep_work: Keep the intermediate Parquet under ``out/_work``.

    Returns:
        The run's report (articles, rejections, events, storylines, seconds per phase).

    Raises:
        ConfigError: The ``[spark]`` extra is not installed.
    """
    from storydesk import spark

    if not spark.available():
        raise ConfigError("Spark is not installed: pip install 'storydesk[spark]'")
    from storydesk.spark.job import Options

    cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
    opts = Options(partitions=partitions, block_days=block_days, keep_work=keep_work)
    paths = [str(i) for i in inputs]
    report = spark.run(paths, out, master=master, models=Models(cfg), options=opts, encoding=encoding)
    result: dict[str, Any] = report.as_dict()
    return result


def load_spark_output(src: str | Path, db: str | Path) -> dict[str, int]:
    """Load the Parquet tables of :func:`spark_run` into an empty store (SQLite path or PostgreSQL URL).

    The loaded store is served, shown and exported like any other, and a later
    build with the same settings finds it up to date.

    Returns:
        Counts of ``articles``, ``events``, ``storylines``, artifact ``rows`` and ``rejections``.

    Raises:
        ConfigError: pyarrow (the ``[spark]`` extra) is not installed.
        InputError: ``src`` holds no storydesk Spark output.
        StoreError: the store already holds articles.
    """
    import importlib.util

    if importlib.util.find_spec("pyarrow") is None:
        raise ConfigError("loading Spark output needs pyarrow: pip install 'storydesk[spark]'")
    from storydesk.spark.load import load

    return load(src, db)


class Storydesk:
    """A storydesk database and the pipeline that fills it.

    Args:
        db: SQLite file path (created if missing), database URL, or an open :class:`Store` (left open by :meth:`close`).
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
        stages: Sequence[AnyStage] | None = None,
        workers: int | None = None,
        sentence_embedder: Embedder | None = None,
    ) -> None:
        self._owns_store = not isinstance(db, Store)
        self._store: Store = db if isinstance(db, Store) else open_store(db)
        self.config = config or Config()
        self.progress = progress
        self.pipeline = Pipeline(list(stages) if stages is not None else default_stages())
        # An injected embedder (tests) serves sentences too unless one is given for them.
        self.models = Models(self.config, embedder, sentence_embedder or embedder)
        self.runner = Runner(self._store, self.pipeline, self.models, workers=workers, progress=progress)

    @property
    def store(self) -> Store:
        """The underlying store: for tests and benchmarks only.

        The CLI and the web server never use it (``tests/test_shells.py`` checks): whatever
        they need is a method of this class.
        """
        return self._store

    @property
    def location(self) -> str:
        """Where the database is, safe to print: a file path, or a server URL without its password."""
        return str(getattr(self._store, "url", "") or getattr(self._store, "path", "") or "")

    def __enter__(self) -> Storydesk:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers, and close the store if this object opened it."""
        self.runner.close()
        if self._owns_store:
            self._store.close()

    # ------------------------------------------------------------------ writing
    def ingest(
        self, paths: Iterable[str | Path], encoding: str | None = None, max_bytes: int = MAX_FILE_BYTES
    ) -> IngestReport:
        """Read, clean and store articles from files and folders; see :func:`storydesk.ingest.ingest`.

        Raises:
            InputError: A path does not exist.
        """
        files = list(paths)
        return ingest(self._store, files, encoding=encoding, max_bytes=max_bytes, progress=self.progress)

    def ingest_records(self, records: Sequence[Any], source: str = "api.json") -> IngestReport:
        """Clean and store articles given as parsed JSON objects (what the REST API receives).

        Each record is validated exactly as an object of a JSON input file named ``source``
        (the same fields, id, URL, date and size checks as a JSON Lines line); a record that
        is not an article is rejected alone, as ``source[index]``, with its reason.

        Args:
            records: One parsed JSON value per article: ``{id, outlet, title, published, url, text}``.
            source: The name rejections (and the ids of records without an ``id``) derive from.
        """
        return ingest_records(self._store, list(records), source=source, progress=self.progress)

    def build(self, stages: Iterable[str] | None = None, force: bool = False) -> dict[str, dict[str, Any]]:
        """Run the pipeline (or only the named stages) over the store: article map, corpus step, event map.

        Args:
            stages: Stage names to run (``storydesk stages`` lists them); default: all.
            force: Recompute even what is up to date.

        Returns:
            Per-phase statistics.
        """
        return self.runner.build(only=stages, force=force)

    # ------------------------------------------------------------------ status
    def counts(self) -> Counts:
        """How many articles, events, storylines and rejections the store holds."""
        s = self._store
        return Counts(s.article_count(), s.event_count(), s.storyline_count(), s.rejection_count())

    def change_token(self) -> str:
        """A token that changes whenever anyone (this process or another) commits to the store."""
        return self._store.change_token()

    def stage_status(self) -> list[PhaseStatus]:
        """Each build phase, with its stages (names and versions) and its last run in this store."""
        runs = self._store.stage_runs()
        stages = describe_stages(self.pipeline.stages)
        out = []
        for scope, phase in PHASES.items():
            run = runs.get(phase) or {}
            out.append(
                PhaseStatus(
                    phase=phase,
                    scope=scope,
                    stages=tuple(st for st in stages if st.scope == scope),
                    finished=run.get("finished"),
                    stats=dict(run.get("stats") or {}),
                )
            )
        return out

    def built_with(self, config: Config | None = None) -> tuple[Embedder | None, Config]:
        """The embedder and settings that extend this store consistently: those its vectors were made with.

        A server extending a store must group new articles with the model that embedded the
        stored ones (a store built with ``--embedder hashing`` stays hashing-built).

        Args:
            config: Settings to start from (default: :class:`Config` defaults).

        Returns:
            ``(embedder, config)`` to pass to ``Storydesk(db, config=config, embedder=embedder)``:
            an embedder instance for one that is not registered by name (a hashing embedder of some
            dimension), else None with ``config.embedder`` set to the store's. A store that
            records no (or an unknown) embedder gives ``(None, config)`` unchanged.
        """
        cfg = config or Config()
        name, embedder = embedder_for_model_id(self._store.get_meta("embedder"))
        if name is not None:
            cfg = cfg.with_overrides(embedder=name)
        return embedder, cfg

    # ------------------------------------------------------------------ reading and export
    def story(self, event_ids: Sequence[str] | None = None) -> dict[str, Any]:
        """The story JSON document (see docs/story-json.md): the whole store, or some events.

        Args:
            event_ids: Only these events, with their articles and storylines (default: everything,
                with the rejections).

        Raises:
            NotFoundError: One of ``event_ids`` is not a stored event.
        """
        from storydesk.export import story

        if event_ids is None:
            return story(self._store, None)
        ids = list(dict.fromkeys(event_ids))
        doc = story(self._store, ids)
        found = {e["id"] for e in doc["events"]}
        missing = [i for i in ids if i not in found]
        if missing:
            raise NotFoundError(f"no event with id {missing[0]!r}")
        return doc

    def html_report(self, event_ids: Sequence[str] | None = None) -> str:
        """The self-contained HTML report of the store (or of some events), as one page.

        Raises:
            NotFoundError: One of ``event_ids`` is not a stored event.
        """
        from storydesk.report import render_report

        return render_report(self.story(event_ids))

    def write_json(self, path: str | Path) -> Path:
        """Write the story JSON to a file; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(json.dumps(self.story(), ensure_ascii=False, indent=2), encoding="utf-8")
        return p

    def write_html(self, path: str | Path) -> Path:
        """Write the self-contained HTML report; returns its path."""
        p = Path(path)
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(self.html_report(), encoding="utf-8")
        return p

    # ------------------------------------------------------------------ browsing (REST API and web UI)
    def list_events(
        self,
        query: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        outlet: str | None = None,
        storyline: str | None = None,
        order: str = "newest",
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Events matching filters, one page at a time.

        Args:
            query: Full-text search over article titles and texts (all words must match).
            since: Keep events that happened (or, undated, were reported) on or after this date.
            until: ... on or before this date.
            outlet: Keep events with at least one article from this outlet (case-insensitive).
            storyline: Keep the events of one storyline.
            order: ``newest``, ``oldest`` or ``biggest`` (most articles first).
            limit: Page size, 1 to 500.
            offset: Rows to skip.

        Returns:
            ``{"total", "limit", "offset", "items"}``; each item is a row of
            :meth:`Store.event_overview` plus ``date`` (the date it sorts by), ``headline`` and
            ``lead`` (first summary sentence), and ``matches`` (matching articles) when searching.
            ``outlets`` lists every outlet in the store (for filter menus).

        Raises:
            InputError: A bad date, order or page size.
        """
        _check_page(order, limit, offset)
        matched, outlets = self._filtered_events(query, since, until, outlet, storyline)
        rows = _sorted_rows(matched, order)
        page = rows[offset : offset + limit]
        self._add_teasers(page)
        return {"total": len(rows), "limit": limit, "offset": offset, "items": page, "outlets": outlets}

    def list_stories(
        self,
        query: str | None = None,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        outlet: str | None = None,
        order: str = "newest",
        limit: int = 20,
        offset: int = 0,
    ) -> dict[str, Any]:
        """Storylines whose events match the filters (see :meth:`list_events`), one page at a time.

        Returns:
            ``{"total", "limit", "offset", "items", "outlets"}``; each item has ``id, title, date, start,
            end, articles`` (total), ``outlets`` and ``events`` (its matching event rows, oldest first).
        """
        _check_page(order, limit, offset)
        rows, outlets = self._filtered_events(query, since, until, outlet, None)
        titles = self.storyline_titles()
        groups: dict[str, list[dict[str, Any]]] = {}
        for r in rows:
            groups.setdefault(r["storyline"] or r["id"], []).append(r)
        stories = []
        for sid, evs in groups.items():
            evs.sort(key=lambda r: (r["start"] or r["first_published"] or "9999", r["seq"]))
            starts = [r["start"] or r["first_published"] for r in evs if r["start"] or r["first_published"]]
            ends = [r["date"] for r in evs if r["date"]]
            stories.append(
                {
                    "id": sid,
                    "title": titles.get(sid) or max(evs, key=lambda r: r["articles"])["title"],
                    "date": max(ends) if ends else None,
                    "start": min(starts) if starts else None,
                    "end": max(ends) if ends else None,
                    "articles": sum(r["articles"] for r in evs),
                    "outlets": sorted({o for r in evs for o in r["outlets"]}),
                    "seq": max(r["seq"] for r in evs),
                    "events": evs,
                }
            )
        stories = _sorted_rows(stories, order)
        page = stories[offset : offset + limit]
        self._add_teasers([r for s in page for r in s["events"]])
        return {"total": len(stories), "limit": limit, "offset": offset, "items": page, "outlets": outlets}

    def event_document(self, event_id: str) -> dict[str, Any]:
        """The story JSON restricted to one event: its articles, the event and its storyline.

        The same shape as :meth:`story` (and valid against its schema), built without
        reading the rest of the store, so it stays fast on large databases.

        Raises:
            NotFoundError: No such event.
        """
        from storydesk.export import document

        with self._store.snapshot():
            ev = self._store.get_event(event_id)
            storylines: list[Storyline] = []
            if ev.storyline:
                try:
                    storylines = [self._store.get_storyline(ev.storyline)]
                except NotFoundError:
                    storylines = []  # storylines are regrouped after events; a stale link is not an error
            return document(self._store, [ev], storylines)

    def storyline_document(self, storyline_id: str) -> dict[str, Any]:
        """The story JSON restricted to one storyline: its events and their articles.

        Raises:
            NotFoundError: No such storyline.
        """
        from storydesk.export import document

        sl = self._store.get_storyline(storyline_id)
        return document(self._store, self._store.events(list(sl.events)), [sl])

    def article_document(self, article_id: str) -> dict[str, Any]:
        """One article as in the story JSON's ``articles[]`` (with its ``event``).

        Raises:
            NotFoundError: No such article.
        """
        from storydesk.export import document

        a = self._store.get_article(article_id)
        return dict(document(self._store, [], [], [a])["articles"][0])

    def _filtered_events(
        self,
        query: str | None,
        since: str | dt.date | None,
        until: str | dt.date | None,
        outlet: str | None,
        storyline: str | None,
    ) -> tuple[list[dict[str, Any]], list[str]]:
        """Event overview rows passing the filters (each with its sort ``date``), and all outlets."""
        lo, hi = _as_date(since, "since"), _as_date(until, "until")
        if lo and hi and lo > hi:
            raise InputError(f"'since' ({lo}) is after 'until' ({hi})")
        matches: dict[str, int] | None = None
        if query and query.strip():
            matches = {}
            hits = self._store.search_articles(query, limit=SEARCH_LIMIT)
            for eid in self._store.events_of(hits).values():
                matches[eid] = matches.get(eid, 0) + 1
        want_outlet = outlet.strip().casefold() if outlet and outlet.strip() else None
        out = []
        every_outlet: set[str] = set()
        for r in self.event_rows():
            every_outlet.update(r["outlets"])
            if storyline and r["storyline"] != storyline:
                continue
            if matches is not None:
                if r["id"] not in matches:
                    continue
                r["matches"] = matches[r["id"]]
            if want_outlet and want_outlet not in {o.casefold() for o in r["outlets"]}:
                continue
            first = r["start"] or r["first_published"]
            last = r["end"] or r["start"] or r["last_published"]
            if (lo or hi) and not (first and last):
                continue  # an undated event cannot be placed in a date range
            if lo and last and last < lo.isoformat():
                continue
            if hi and first and first > hi.isoformat():
                continue
            r["date"] = last
            out.append(r)
        return out, sorted(every_outlet, key=str.casefold)

    def event_rows(self) -> list[dict[str, Any]]:
        """The rows listings filter, one per event (:meth:`Store.event_overview`); callers may change them.

        A long-running reader (the web server) overrides this to reuse the rows until the store changes.
        """
        return self._store.event_overview()

    def event_rows_for(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """The :meth:`event_rows` of some events (ids without an event are skipped), in the order given."""
        ids = list(ids)
        by_id = {r["id"]: r for r in self._store.event_overview(ids)}
        return [by_id[i] for i in ids if i in by_id]

    def storyline_titles(self) -> dict[str, str]:
        """Storyline id -> title, for listings (overridable like :meth:`event_rows`)."""
        return {s.id: s.title for s in self._store.storylines()}

    def headlines(self, event_ids: Iterable[str]) -> dict[str, str]:
        """Event id -> its summary headline (events not summarised yet are left out)."""
        return {k: v[0] for k, v in self._store.get(A.SUMMARY, list(event_ids)).items() if v[0]}

    def nearest_events(self, event_id: str, event_ids: Sequence[str], around: int = 5) -> dict[str, Any]:
        """The events among ``event_ids`` (a storyline's) nearest in time to ``event_id``, oldest first.

        Dates come from :meth:`event_rows` (which the web server caches per change token), so
        a storyline of thousands of events costs one pass over those rows and a headline read
        for the few returned.

        Args:
            event_id: The current event (shown with its neighbours).
            event_ids: The events to choose from; ids with no event (merged away since) are skipped.
            around: Events kept on each side of the current one.

        Returns:
            ``{"total", "rows": [{id, headline, start}], "before", "after"}``: ``before`` and
            ``after`` count the events left out on each side.
        """
        rows = self.event_rows_for(dict.fromkeys(event_ids))
        rows.sort(key=lambda r: (r["start"] or r["first_published"] or "9999", r["seq"], r["id"]))
        at = next((n for n, r in enumerate(rows) if r["id"] == event_id), 0)
        lo, hi = max(0, at - around), min(len(rows), at + around + 1)
        shown = rows[lo:hi]
        heads = self.headlines([r["id"] for r in shown])
        return {
            "total": len(rows),
            "rows": [
                {
                    "id": r["id"],
                    "headline": heads.get(r["id"]) or r["title"],
                    "start": r["start"] or r["first_published"],
                }
                for r in shown
            ],
            "before": lo,
            "after": len(rows) - hi,
        }

    def events_of(self, article_ids: Iterable[str]) -> list[str]:
        """The events some articles belong to (sorted ids; articles in no event are skipped)."""
        return sorted(set(self._store.events_of(list(article_ids)).values()))

    def rejections(
        self, limit: int | None = 100, offset: int = 0, oldest_first: bool = False
    ) -> tuple[int, list[Rejection]]:
        """Recorded rejections, newest first (or oldest first), one page at a time (paged in SQL).

        Args:
            limit: Page size; None for all of them.
            offset: Rejections to skip.
            oldest_first: Oldest first, in the order they were recorded.

        Returns:
            ``(total, page)``.
        """
        total = self._store.rejection_count()
        if oldest_first:
            return total, self._store.rejections(limit=limit, offset=offset)
        size = total - offset if limit is None else limit
        start = max(0, total - offset - size)
        count = max(0, min(size, total - offset))
        page = self._store.rejections(limit=count, offset=start) if count else []
        page.reverse()
        return total, page

    def _add_teasers(self, rows: list[dict[str, Any]]) -> None:
        """Add ``headline`` and ``lead`` (first summary sentence) to event rows, in one read."""
        recs = self._store.get(A.SUMMARY, [r["id"] for r in rows])
        for r in rows:
            head, summary = recs.get(r["id"]) or ("", ())
            r["headline"] = head or r["title"]
            r["lead"] = summary[0].text if summary else None


#: Most article hits a full-text query maps to events.
SEARCH_LIMIT = 5000
#: Orders accepted by :meth:`Storydesk.list_events` and :meth:`Storydesk.list_stories`.
ORDERS = ("newest", "oldest", "biggest")
MAX_PAGE = 500


def _as_date(value: str | dt.date | None, name: str) -> dt.date | None:
    """Parse an optional ISO date filter, with a clear error."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"'{name}' must be a date like 2024-03-31, got {value!r}") from None


def _check_page(order: str, limit: int, offset: int) -> None:
    """Validate listing arguments."""
    if order not in ORDERS:
        raise InputError(f"'order' must be one of {', '.join(ORDERS)}, got {order!r}")
    if not 1 <= limit <= MAX_PAGE:
        raise InputError(f"'limit' must be between 1 and {MAX_PAGE}, got {limit}")
    if offset < 0:
        raise InputError(f"'offset' must be 0 or more, got {offset}")


def _sorted_rows(rows: list[dict[str, Any]], order: str) -> list[dict[str, Any]]:
    """Sort listing rows: newest/oldest by date (undated last), biggest by article count."""
    dated = [r for r in rows if r["date"]]
    undated = sorted((r for r in rows if not r["date"]), key=lambda r: -r["seq"])
    if order == "biggest":
        return sorted(rows, key=lambda r: (-r["articles"], _neg_date(r["date"]), -r["seq"]))
    if order == "oldest":
        return sorted(dated, key=lambda r: (r["date"], r["seq"])) + undated
    return sorted(dated, key=lambda r: (_neg_date(r["date"]), -r["seq"])) + undated


def _neg_date(d: str | None) -> int:
    """A sort key putting later ISO dates first (undated last)."""
    return -int(d.replace("-", "")) if d else 0
