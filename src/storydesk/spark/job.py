"""The storydesk job on Spark: ingest → article map → corpus step → event map → Parquet tables.

Every phase runs the single-machine code on executors:

* **ingest**: the driver lists the input files (:func:`storydesk.ingest.discover`);
  executors read and clean them (:func:`~storydesk.ingest.read_path`,
  :func:`~storydesk.ingest.build_article`). An article's ingest order is its
  file's place in the listing and its place in the file, as on one machine.
* **article map**: ``mapInArrow`` over the articles, running the pipeline's own
  worker function (:func:`storydesk.pipeline.article_rows`) on batches; models
  load once per Python worker (:func:`models_here`), never per row.
* **corpus step**: near-duplicates, events and storylines cut into independent
  groups (:mod:`storydesk.spark.corpus`) with the connected components of
  :mod:`storydesk.spark.graph` in between.
* **event map** and **storyline map**: one group per event (per storyline),
  running :func:`storydesk.pipeline.event_rows` / ``storyline_rows``.

Results are written as Parquet tables under the output directory (see
:data:`TABLES`); ``storydesk load`` puts them into a store. Intermediate
results go to ``_work/`` there (Parquet, so no phase is computed twice) and are
deleted at the end unless ``keep_work`` is set.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from storydesk import artifacts as A
from storydesk.article.analyze import ArticleStage
from storydesk.artifacts import digest_of, fingerprint
from storydesk.models import Article, Event, Sentence, Storyline, from_dict, to_dict
from storydesk.nlp import Models
from storydesk.spark import TABLES as TABLES
from storydesk.spark import corpus as C
from storydesk.spark.arrow import Schema, group_rows, map_rows

#: The run's settings and stage keys (JSON), beside the tables.
META_FILE = "_storydesk.json"
FORMAT = "storydesk-spark-1"


@dataclass
class Options:
    """How the job cuts its work (none of it changes the per-article results).

    Attributes:
        partitions: Partitions of the article map and of shuffles (default: 4 per core).
        block_days: Days per event block.
        lead_days: Days each block replays before its own (default: four times ``event_window_days``).
        storyline_block_days: Days per storyline block.
        bucket_cap: Largest LSH bucket compared pair by pair (larger ones are linked as a star).
        driver_edges: Up to this many edges, connected components are found on the driver.
        prior_passes: Runs of the dated blocks after the first, each seeded with the idf of
            the events the previous run found before each block (as one machine weighs its
            bags); 0 runs the blocks once.
        article_batch: Articles per call of the article map (one ``nlp.pipe`` batch).
        keep_work: Keep the intermediate Parquet under ``_work/``.
    """

    partitions: int | None = None
    block_days: int = 28
    lead_days: int | None = None
    storyline_block_days: int = 90
    bucket_cap: int = 200
    driver_edges: int = 1_000_000
    article_batch: int = 8
    prior_passes: int = 2
    keep_work: bool = False


@dataclass
class RunReport:
    """What a run did."""

    out: str
    articles: int = 0
    rejections: int = 0
    duplicates: int = 0
    events: int = 0
    storylines: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        return dict(self.__dict__)


# --------------------------------------------------------------------------- the session


def session(master: str | None = None, partitions: int | None = None, app: str = "storydesk", **conf: str) -> Any:
    """A Spark session set up for storydesk (``master`` None: whatever spark-submit or the environment says).

    Executors get a fixed string hash seed and one BLAS and onnxruntime thread per
    task (as the local process pool does); the Python of the driver runs the workers unless
    ``PYSPARK_PYTHON`` says otherwise.
    """
    from pyspark.sql import SparkSession

    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    b = SparkSession.builder.appName(app)
    if master:
        b = b.master(master)
    settings = {
        "spark.executorEnv.PYTHONHASHSEED": "0",
        "spark.executorEnv.OMP_NUM_THREADS": "1",
        # numpy's OpenBLAS multiplies spaCy's matrices (nlp.use_numpy_matmul): one thread per task
        "spark.executorEnv.OPENBLAS_NUM_THREADS": "1",
        "spark.executorEnv.STORYDESK_THREADS": "1",
        "spark.python.worker.reuse": "true",
        "spark.sql.execution.arrow.maxRecordsPerBatch": "256",
        "spark.sql.adaptive.enabled": "true",
        "spark.ui.showConsoleProgress": "false",
    }
    if partitions:
        settings["spark.sql.shuffle.partitions"] = str(partitions)
    settings.update(conf)
    for k, v in settings.items():
        b = b.config(k, v)
    return b.getOrCreate()


# --------------------------------------------------------------------------- models on executors

_MODELS: dict[str, Models] = {}


def models_here(models: Models) -> Models:
    """This worker's models for these settings: the first copy shipped is kept, its models stay loaded."""
    key = fingerprint(to_dict(models.config), models.lead_id(), models.sentence_id())
    got = _MODELS.get(key)
    if got is None:
        # one task per core: a model must not start threads of its own on the other tasks' cores
        # (onnxruntime would take every core: two workers of local[2] then ran four threads on two)
        os.environ["STORYDESK_THREADS"] = "1"
        os.environ.setdefault("OMP_NUM_THREADS", "1")
        got = _MODELS[key] = models
    return got


# --------------------------------------------------------------------------- schemas

FILES = Schema([("file", "long"), ("path", "string"), ("display", "string")])
INGESTED = Schema(
    [
        ("kind", "string"),
        ("seq", "long"),
        ("id", "string"),
        ("day", "int"),
        ("record", "string"),
        ("sents", "string"),
        ("source", "string"),
        ("code", "string"),
        ("reason", "string"),
    ]
)
ARTICLE_COLS = [
    ("id", "string"),
    ("seq", "long"),
    ("order", "long"),
    ("day", "int"),
    ("record", "string"),
    ("sents", "string"),
]


def _analysed_schema(stored: Sequence[A.Artifact]) -> Schema:
    cols = [*ARTICLE_COLS, ("adigest", "string")]
    for a in stored:
        cols += [
            (f"{a.name}__v", "string"),
            (f"{a.name}__fp", "string"),
            (f"{a.name}__d", "string"),
            (f"{a.name}__data", "binary"),
        ]
    return Schema(cols)


ROWS = Schema(
    [
        ("scope", "string"),
        ("artifact", "string"),
        ("key", "string"),
        ("version", "string"),
        ("fingerprint", "string"),
        ("digest", "string"),
        ("data", "binary"),
    ]
)


# --------------------------------------------------------------------------- helpers


def article_of(row: dict[str, Any]) -> tuple[Article, list[Sentence]]:
    """The article and its sentences from an article row (``record``, ``sents``)."""
    art = from_dict(Article, json.loads(row["record"]))
    sents = [Sentence(art.id, i, art.text[s:e], s, e, p) for i, (s, e, p) in enumerate(json.loads(row["sents"]))]
    return art, sents


def _article_row(art: Article, sents: Sequence[Sentence]) -> dict[str, Any]:
    return {
        "id": art.id,
        "day": art.published.toordinal() if art.published else None,
        "record": json.dumps(to_dict(art), ensure_ascii=False, separators=(",", ":")),
        "sents": json.dumps([[s.start, s.end, s.paragraph] for s in sents]),
    }


def article_frame(spark: Any, articles: Sequence[tuple[Article, Sequence[Sentence]]]) -> Any:
    """A DataFrame of already-cleaned articles in ingest order (the evaluations build theirs on the driver)."""
    rows = [{**_article_row(a, s), "seq": i} for i, (a, s) in enumerate(articles)]
    schema = Schema([("id", "string"), ("seq", "long"), ("day", "int"), ("record", "string"), ("sents", "string")])
    return spark.createDataFrame([tuple(r[n] for n in schema.names) for r in rows], schema.ddl)


# --------------------------------------------------------------------------- ingest


def _read_files(encoding: str | None, max_bytes: int) -> Any:
    """Executor side of ingest: each listed file read, cleaned and split (one file per call)."""
    from storydesk.errors import RejectedInput
    from storydesk.ingest import clean_items, group_rejections, internal_rejection, read_path

    def read(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for f in rows:
            base = int(f["file"]) << 32
            path, display = Path(f["path"]), f["display"]
            rejected: list[RejectedInput] = []
            n = stored = 0
            try:
                items = (
                    _parquet_items(path, display)
                    if path.suffix.lower() == ".parquet"
                    else read_path(path, display, encoding=encoding, max_bytes=max_bytes)
                )
                for _where, built in clean_items(items):
                    if isinstance(built, RejectedInput):
                        rejected.append(built)
                        continue
                    art, sents = built
                    out.append({"kind": "article", "seq": base + n, **_article_row(art, sents)})
                    n += 1
                    stored += 1
            except Exception as e:  # a failure outside every per-item guard: the file is rejected
                rejected.append(internal_rejection(display, e))
            for i, r in enumerate(group_rejections(rejected, display, stored)):
                out.append(
                    {"kind": "rejection", "seq": base + i, "source": r.source, "code": r.code, "reason": r.reason}
                )
        return out

    return read


def _parquet_items(path: Path, display: str) -> Any:
    """Records of a Parquet file as raw items (the same fields and checks as JSON Lines records)."""
    import pyarrow.parquet as pq

    from storydesk.errors import RejectedInput
    from storydesk.ingest import _record_item

    n = 0
    for batch in pq.ParquetFile(path).iter_batches(batch_size=512):
        for obj in batch.to_pylist():
            n += 1
            src = f"{display}:{n}"
            for k, v in list(obj.items()):
                if isinstance(v, dt.date | dt.datetime):
                    obj[k] = v.isoformat()
            raw = json.dumps(obj, ensure_ascii=False, default=str).encode("utf-8")
            try:
                yield _record_item(obj, src, raw, "parquet")
            except RejectedInput as r:
                yield r


def ingest_frames(
    spark: Any, paths: Sequence[str | Path], partitions: int, encoding: str | None = None
) -> tuple[Any, Any]:
    """``(articles, rejections)`` DataFrames of the inputs: files listed here, read on executors.

    An id seen twice keeps its first ingest order and its last content, as a store does.
    """
    from pyspark.sql import functions as F

    from storydesk.ingest import MAX_FILE_BYTES, discover

    files, early = [], []
    for i, entry in enumerate(discover(paths)):
        if isinstance(entry, tuple):
            files.append((i, str(entry[0]), entry[1]))
        else:
            early.append((entry.source, entry.code, entry.reason, i << 32))
    fdf = spark.createDataFrame(files, FILES.ddl).repartition(max(1, min(partitions, len(files) or 1)), "file")
    got = fdf.mapInArrow(map_rows(_read_files(encoding, MAX_FILE_BYTES), INGESTED, chunk=1), INGESTED.ddl)
    got = got.localCheckpoint()
    arts = got.where(F.col("kind") == "article").select("id", "seq", "day", "record", "sents")
    # one row per id: the first ingest order, the last content
    arts = arts.groupBy("id").agg(
        F.min("seq").alias("seq"),
        F.max_by("day", "seq").alias("day"),
        F.max_by("record", "seq").alias("record"),
        F.max_by("sents", "seq").alias("sents"),
    )
    rej = got.where(F.col("kind") == "rejection").select("source", "code", "reason", F.col("seq").alias("order"))
    if early:
        rej = rej.union(spark.createDataFrame(early, "source string, code string, reason string, order long"))
    return arts, rej


def with_order(articles: Any) -> Any:
    """Add ``order``: each article's place in publication order (dated by day, then undated; ties: ingest order)."""
    from pyspark.sql import functions as F

    keyed = articles.orderBy(F.col("day").isNull(), "day", "seq")
    schema = keyed.schema.add("order", "long")
    return keyed.rdd.zipWithIndex().map(lambda t: (*t[0], t[1])).toDF(schema)


# --------------------------------------------------------------------------- article map


def _article_map(models: Models, stages: tuple[ArticleStage, ...], out: Schema) -> Any:
    from storydesk.pipeline import ArticleTask, article_rows

    names = tuple(s.name for s in stages)
    stored = [a for s in stages for a in s.assigns if a.stored]

    def run(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        m = models_here(models)
        tasks = []
        for r in rows:
            art, sents = article_of(r)
            tasks.append(ArticleTask(art, sents, names))
        result = article_rows((stages, tasks), m)
        from storydesk.pipeline import article_digest

        res = []
        for r, t, got in zip(rows, tasks, result, strict=True):
            row = {k: r[k] for k, _ in ARTICLE_COLS}
            row["adigest"] = article_digest(t.article, t.sentences)
            for name, ar in got:
                row[f"{name}__v"], row[f"{name}__fp"] = ar.version, ar.fingerprint
                row[f"{name}__d"], row[f"{name}__data"] = ar.digest, ar.data
            for a in stored:
                row.setdefault(f"{a.name}__data", None)
            res.append(row)
        return res

    return run


# --------------------------------------------------------------------------- the job


class Job:
    """One storydesk run on Spark.

    Args:
        spark: The session.
        out: Output directory (a path every executor can write, on a cluster a shared or distributed file system).
        models: Settings and (injected) models, shipped once per task and kept per worker.
        stages: The pipeline's stages (default: all); article and event stages may be a subset.
        options: How the work is cut.
    """

    def __init__(
        self,
        spark: Any,
        out: str | Path,
        models: Models | None = None,
        stages: Sequence[Any] | None = None,
        options: Options | None = None,
    ) -> None:
        from storydesk.event.analyze import EventStage
        from storydesk.pipeline import CORPUS_STAGES, Pipeline, default_stages

        self.spark = spark
        self.out = str(out)
        self.models = models or Models()
        self.pipeline = Pipeline(list(stages) if stages is not None else default_stages())
        self.options = options or Options()
        self.partitions = self.options.partitions or 4 * spark.sparkContext.defaultParallelism
        # groups of the maps cost seconds each however few bytes they hold: shuffles keep their
        # partitions instead of being coalesced by size (which put a whole event map in 2 tasks)
        spark.conf.set("spark.sql.shuffle.partitions", str(self.partitions))
        spark.conf.set("spark.sql.adaptive.coalescePartitions.enabled", "false")
        self.article_stages = tuple(s for s in self.pipeline.stages if isinstance(s, ArticleStage))
        self.event_stages = tuple(s for s in self.pipeline.stages if isinstance(s, EventStage))
        self.corpus_stages = [s for s in self.pipeline.stages if s in CORPUS_STAGES]
        self.stored = [a for s in self.article_stages for a in s.assigns if a.stored]
        self.report = RunReport(self.out)
        self.work = os.path.join(self.out, "_work")
        self._t = time.perf_counter()
        self._n = iter(range(1, 1_000_000))

    # ---------------------------------------------------------------- plumbing
    def _path(self, name: str) -> str:
        return os.path.join(self.out, name)

    def _save(self, df: Any, name: str, work: bool = True) -> Any:
        """Write a DataFrame as Parquet (under ``_work/`` or as an output table) and read it back."""
        path = os.path.join(self.work if work else self.out, name)
        df.write.mode("overwrite").parquet(path)
        return self.spark.read.parquet(path)

    def _phase(self, name: str) -> None:
        """Close a phase (its seconds go to the report) and name the Spark jobs of the next one."""
        now = time.perf_counter()
        self.report.seconds[name] = round(now - self._t, 2)
        self._t = now
        order = ["ingest", "article map", "dedup", "events", "storylines", "event map", "write"]
        if name in order[:-1]:
            self._group(order[order.index(name) + 1])

    def _group(self, name: str) -> None:
        """Jobs from here on belong to one phase (the UI and its REST data group them by it)."""
        self.spark.sparkContext.setJobGroup(name, f"storydesk {name}")

    # ---------------------------------------------------------------- run
    def run_paths(self, paths: Sequence[str | Path], encoding: str | None = None) -> RunReport:
        """Ingest files (text, JSON Lines, JSON, HTML, feeds, Parquet) and run everything."""
        arts, rej = ingest_frames(self.spark, paths, self.partitions, encoding)
        return self.run(arts, rej)

    def run(self, articles: Any, rejections: Any | None = None) -> RunReport:
        """Run the pipeline over an articles DataFrame (``id, seq, day, record, sents``)."""
        from pyspark.sql import functions as F

        os.makedirs(self.out, exist_ok=True)
        self._group("ingest")
        arts = self._save(with_order(articles), "ordered")
        if rejections is None:
            rejections = self.spark.createDataFrame([], "source string, code string, reason string, order long")
        self._save(rejections.orderBy("order"), "rejections", work=False)
        self._phase("ingest")
        analysed = self._article_map(arts)
        self._phase("article map")
        dups = self._dedup(analysed)
        self._phase("dedup")
        assign, states = self._events(analysed, dups)
        self._phase("events")
        events, storylines = self._storylines(states)
        self._phase("storylines")
        ev_rows = self._event_map(analysed, dups, events)
        sl_rows = self._storyline_map(storylines, ev_rows)
        self._phase("event map")
        self._write(analysed, dups, assign, events, storylines, ev_rows, sl_rows)
        self._phase("write")
        self.report.rejections = self.spark.read.parquet(self._path("rejections")).count()
        self.report.duplicates = dups.where(F.col("duplicate_of").isNotNull()).count()
        if not self.options.keep_work:
            shutil.rmtree(self.work, ignore_errors=True)
        self._write_meta()
        return self.report

    # ---------------------------------------------------------------- article map
    def _article_map(self, arts: Any) -> Any:
        schema = _analysed_schema(self.stored)
        fn = _article_map(self.models, self.article_stages, schema)
        part = arts.repartition(self.partitions, "id")
        analysed = part.mapInArrow(map_rows(fn, schema, chunk=self.options.article_batch), schema.ddl)
        analysed = self._save(analysed, "analysed")
        self.report.articles = analysed.count()
        return analysed

    # ---------------------------------------------------------------- near-duplicates
    def _dedup(self, analysed: Any) -> Any:
        """``id, duplicate_of, decision (JSON), original_at_add`` of every article."""
        from pyspark.sql import functions as F

        cfg = self.models.config
        from storydesk.article.signature import NUM_PERM

        bands, rows_per = C.lsh_bands(cfg.dedup_threshold, NUM_PERM)
        band_schema = Schema([("band", "int"), ("key", "long"), ("order", "long")])

        def explode(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for r in rows:
                sig = np.frombuffer(r["signature__data"], dtype="<u4")
                for i, k in enumerate(C.band_keys(sig, bands, rows_per)):
                    out.append({"band": i, "key": C.band_hash(k), "order": r["order"]})
            return out

        # only (band, 8-byte key, article) rows are shuffled; signatures join in for shared buckets only
        sigs = analysed.select("order", "signature__data")
        banded = sigs.mapInArrow(map_rows(explode, band_schema), band_schema.ddl)
        shared = banded.groupBy("band", "key").count().where(F.col("count") > 1).drop("count")
        threshold, cap = cfg.dedup_threshold, self.options.bucket_cap
        edge_schema = Schema([("a", "long"), ("b", "long")])

        def verify(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            members = [(r["order"], np.frombuffer(r["sig"], dtype="<u4")) for r in rows]
            return [{"a": a, "b": b} for a, b in C.bucket_edges(members, threshold, cap)]

        cands = banded.join(shared, ["band", "key"]).join(sigs.withColumnRenamed("signature__data", "sig"), "order")
        edges = cands.groupBy("band", "key").applyInArrow(group_rows(verify, edge_schema), edge_schema.ddl)
        from storydesk.spark.graph import connected_components

        comp = connected_components(edges, self.options.driver_edges)
        members = analysed.select("id", "order", "record", F.col("signature__data").alias("signature")).join(
            comp.withColumnRenamed("node", "order"), "order"
        )
        dec_schema = Schema([("id", "string"), ("decision", "string"), ("original_at_add", "string")])
        decided = members.groupBy("root").applyInArrow(
            group_rows(lambda rows: C.dedup_component(rows, threshold), dec_schema), dec_schema.ddl
        )
        alld = (
            analysed.select("id")
            .join(decided, "id", "left")
            .select(
                "id",
                F.coalesce("decision", F.lit(C.SINGLETON)).alias("decision"),
                "original_at_add",
            )
        )
        alld = alld.withColumn("duplicate_of", F.get_json_object("decision", "$.duplicate_of"))
        return self._save(alld, "duplicates")

    # ---------------------------------------------------------------- events
    def _events(self, analysed: Any, dups: Any) -> tuple[Any, Any]:
        """Final ``(assignment, event states)``: article -> event, and one row per event."""
        from pyspark.sql import functions as F

        cfg = self.models.config
        opt = self.options
        lead = opt.lead_days if opt.lead_days is not None else 4 * cfg.event_window_days
        block_days = opt.block_days
        base = analysed.select(
            "id",
            "order",
            "day",
            F.col("lead_vector__data").alias("vector"),
            F.col("signals__data").alias("signals"),
        ).join(dups.select("id", F.col("original_at_add").alias("original")), "id")
        dim = len(analysed.select("lead_vector__data").first()[0]) // 4
        in_schema = Schema(
            [
                ("block", "long"),
                ("owned", "boolean"),
                ("id", "string"),
                ("order", "long"),
                ("day", "int"),
                ("vector", "binary"),
                ("signals", "binary"),
                ("original", "string"),
            ]
        )

        def to_blocks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for r in rows:
                out.append({**r, "block": C.block_of(r["day"], block_days), "owned": True})
                for k in C.lead_in_blocks(r["day"], block_days, lead):
                    out.append({**r, "block": k, "owned": False})
            return out

        out_schema = Schema(
            [
                ("block", "long"),
                ("id", "string"),
                ("event", "string"),
                ("owned", "boolean"),
                ("outside_original", "string"),
                ("names", "string"),
                ("words", "string"),
            ]
        )

        dated = base.where(F.col("day").isNotNull())
        blocked = self._save(dated.mapInArrow(map_rows(to_blocks, in_schema), in_schema.ddl), "blocked")
        assign = self._dated_pass(blocked, base, out_schema, dim, None, "1")
        for p in range(2, 2 + (opt.prior_passes if not assign.isEmpty() else 0)):
            # each block starts from the idf of the events the previous pass found before its replay
            states = self._save(self._states(assign, analysed), f"states{p - 1}")
            assign = self._dated_pass(
                blocked, base, out_schema, dim, self._priors(states, blocked, block_days, lead), str(p)
            )

        undated = base.where(F.col("day").isNull())
        if not undated.isEmpty():
            states = self._states(assign, analysed) if not assign.isEmpty() else None
            preload = []
            if states is not None:
                preload = [
                    {"event": r.event, "state": r.state, "vsum": bytes(r.vsum), "members": list(r.members)}
                    for r in states.orderBy("rank", "event").toLocalIterator()
                ]
            pre = self.spark.sparkContext.broadcast(preload)
            u_schema = Schema(
                [
                    ("id", "string"),
                    ("event", "string"),
                    ("outside_original", "string"),
                    ("names", "string"),
                    ("words", "string"),
                ]
            )

            def undated_block(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
                got = C.run_block(rows, cfg, dim, pre.value)
                return [{k: g[k] for k in u_schema.names} for g in got]

            u = (
                undated.withColumn("g", F.lit(0))
                .groupBy("g")
                .applyInArrow(group_rows(undated_block, u_schema), u_schema.ddl)
            )
            u = self._follow_originals(u, assign)
            assign = self._save(assign.unionByName(u), "assign")
        states = self._save(self._states(assign, analysed), "states")
        return assign, states

    def _dated_pass(
        self, blocked: Any, base: Any, out_schema: Schema, dim: int, priors: tuple[Any, dict[int, int]] | None, tag: str
    ) -> Any:
        """One pass of the dated blocks, stitched: ``id, event, outside_original, names, words``."""
        import pyarrow as pa
        from pyspark.sql import functions as F

        cfg = self.models.config
        if priors is None:

            def block(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
                got = C.run_block(rows, cfg, dim)
                return [{**g, "block": rows[0]["block"]} for g in got]

            ran = blocked.groupBy("block").applyInArrow(group_rows(block, out_schema), out_schema.ddl)
        else:
            terms, live = priors

            def block_with_prior(left: pa.Table, right: pa.Table) -> pa.Table:
                rows = left.to_pylist()
                if not rows:
                    return out_schema.table([])
                k = rows[0]["block"]
                got = C.run_block(rows, cfg, dim, prior=C.prior_of(right.to_pylist(), live.get(k, 0)))
                return out_schema.table([{**g, "block": k} for g in got])

            ran = (
                blocked.groupBy("block").cogroup(terms.groupBy("block")).applyInArrow(block_with_prior, out_schema.ddl)
            )
        ran = self._save(
            ran.withColumn("node", F.concat_ws("/", F.col("block").cast("string"), "event")), f"blocks{tag}"
        )
        owned = ran.where("owned").select("id", F.col("node").alias("owner"), "outside_original", "names", "words")
        lead_in = (
            ran.where(~F.col("owned"))
            .select("id", "node")
            .join(owned.select("id", "owner"), "id")
            .join(base.select("id", "order"), "id")
        )
        edge_schema = Schema([("a", "string"), ("b", "string")])
        edges = lead_in.groupBy("node").applyInArrow(
            group_rows(lambda rows: [{"a": a, "b": b} for a, b in C.stitch_edges(rows)], edge_schema),
            edge_schema.ddl,
        )
        from storydesk.spark.graph import connected_components

        comp = connected_components(edges, self.options.driver_edges)
        assign = owned.join(comp.withColumnRenamed("node", "owner"), "owner", "left").withColumn(
            "group", F.coalesce("root", "owner")
        )
        assign = assign.join(base.select("id", "order"), "id")
        first = assign.groupBy("group").agg(F.min_by("id", "order").alias("first"))
        event_id = F.udf(lambda a: C.event_id(a), "string")
        assign = assign.join(first, "group").withColumn("event", event_id("first"))
        assign = self._follow_originals(assign.select("id", "event", "outside_original", "names", "words"))
        return self._save(assign, f"assign_dated{tag}")

    def _priors(self, states: Any, blocked: Any, block_days: int, lead: int) -> tuple[Any, dict[int, int]]:
        """Per block, the idf prior of the events that began before its replay.

        Returns ``(terms, live)``: a DataFrame ``block, kind, term, df`` for the
        terms the block's articles query, and block -> number of earlier events.
        A term's count is a running sum over the blocks in one window per term.
        """
        from pyspark.sql import Window
        from pyspark.sql import functions as F

        st = states.where(F.col("first").isNotNull()).select(
            (F.floor((F.col("first") + lead) / block_days) + 1).cast("long").alias("pos"),
            F.from_json("state", "names map<string,double>, words map<string,double>").alias("s"),
        )
        ev_terms = st.select("pos", F.lit("names").alias("kind"), F.explode(F.map_keys("s.names")).alias("term")).union(
            st.select("pos", F.lit("words").alias("kind"), F.explode(F.map_keys("s.words")).alias("term"))
        )
        q_schema = Schema([("pos", "long"), ("kind", "string"), ("term", "string")])

        def query_terms(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for r in rows:
                sv = A.SIGNALS.codec.decode(r["signals"])
                for kind, bag in (("names", sv.names), ("words", sv.words)):
                    out += [{"pos": r["block"], "kind": kind, "term": t} for t, c in bag.items() if c > 0]
            return out

        queries = (
            blocked.select("block", "signals").mapInArrow(map_rows(query_terms, q_schema), q_schema.ddl).distinct()
        )
        both = ev_terms.select("pos", "kind", "term", F.lit(0).alias("typ"), F.lit(1).alias("cnt")).union(
            queries.select("pos", "kind", "term", F.lit(1).alias("typ"), F.lit(0).alias("cnt"))
        )
        w = Window.partitionBy("kind", "term").orderBy("pos", "typ").rowsBetween(Window.unboundedPreceding, 0)
        terms = (
            both.withColumn("df", F.sum("cnt").over(w))
            .where((F.col("typ") == 1) & (F.col("df") > 0))
            .select(F.col("pos").alias("block"), "kind", "term", F.col("df").cast("long").alias("df"))
        )
        terms = self._save(terms, f"priors{next(self._n)}")
        counts = {int(r["pos"]): int(r["count"]) for r in st.groupBy("pos").count().collect()}
        blocks = sorted(int(r["block"]) for r in blocked.select("block").distinct().collect())
        live, run, keys = {}, 0, sorted(counts)
        i = 0
        for k in blocks:
            while i < len(keys) and keys[i] <= k:
                run += counts[keys[i]]
                i += 1
            live[k] = run
        return terms, live

    def _follow_originals(self, assign: Any, known: Any | None = None) -> Any:
        """A near-copy whose original was outside its block joins its original's event (as one machine decides)."""
        from pyspark.sql import functions as F

        where = (known if known is not None else assign).select(F.col("id").alias("oid"), F.col("event").alias("oev"))
        if known is not None:
            where = where.unionByName(assign.select(F.col("id").alias("oid"), F.col("event").alias("oev")))
        j = assign.join(where, F.col("outside_original") == F.col("oid"), "left")
        return j.select("id", F.coalesce("oev", "event").alias("event"), "outside_original", "names", "words")

    def _states(self, assign: Any, analysed: Any) -> Any:
        """One row per event: members in order, rebuilt state, vector sum, title, rank and span."""
        from pyspark.sql import functions as F

        m = assign.join(
            analysed.select(
                "id",
                "seq",
                "order",
                "day",
                "record",
                F.col("lead_vector__data").alias("vector"),
                F.col("signals__data").alias("signals"),
            ),
            "id",
        )
        schema = Schema(
            [
                ("event", "string"),
                ("rank", "long"),
                ("first_seq", "long"),
                ("members", "array<string>"),
                ("n", "long"),
                ("first", "int"),
                ("last", "int"),
                ("state", "string"),
                ("vsum", "binary"),
                ("title", "string"),
            ]
        )

        def build(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            rows = sorted(rows, key=lambda r: r["order"])
            eid = rows[0]["event"]
            st, vsum = C.event_state(eid, rows)
            for r in rows[:50]:
                art = json.loads(r["record"])
                r["title"], r["text"] = art.get("title"), art.get("text")
            d = st.as_dict()
            d["rank"] = rows[0]["order"]
            d["linked"] = st.n
            return [
                {
                    "event": eid,
                    "rank": rows[0]["order"],
                    "first_seq": min(r["seq"] for r in rows),
                    "members": [r["id"] for r in rows],
                    "n": st.n,
                    "first": st.first.toordinal() if st.first else None,
                    "last": st.last.toordinal() if st.last else None,
                    "state": json.dumps(d, ensure_ascii=False, separators=(",", ":")),
                    "vsum": A.EVENT_SUM.codec.encode(vsum),
                    "title": C.event_title(rows, vsum),
                }
            ]

        return m.groupBy("event").applyInArrow(group_rows(build, schema), schema.ddl)

    # ---------------------------------------------------------------- storylines
    def _storylines(self, states: Any) -> tuple[Any, Any]:
        """``(events, storylines)``: events with their storyline, and storylines with their events in age order."""
        from pyspark.sql import functions as F

        cfg = self.models.config
        self.report.events = states.count()
        longest = states.select(F.max(F.col("last") - F.col("first"))).first()[0] or 0
        reach = cfg.storyline_window_days + int(longest)
        days = self.options.storyline_block_days
        any_undated = not states.where(F.col("first").isNull()).isEmpty()
        dim = len(states.select("vsum").first()[0]) // 4
        in_schema = Schema(
            [
                ("block", "long"),
                ("core", "boolean"),
                ("event", "string"),
                ("rank", "long"),
                ("state", "string"),
                ("vsum", "binary"),
            ]
        )

        def to_blocks(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            out = []
            for r in rows:
                core, ctx = C.storyline_blocks(r["first"], r["last"], days, reach)
                base = {k: r[k] for k in ("event", "rank", "state", "vsum")}
                out.append({**base, "block": core, "core": True})
                out += [{**base, "block": k, "core": False} for k in ctx]
                if any_undated and r["first"] is not None:
                    out.append({**base, "block": -1, "core": False})
            return out

        edge_schema = Schema([("a", "string"), ("b", "string")])

        def link(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            return [{"a": a, "b": b} for a, b in C.storyline_edges(rows, cfg, dim)]

        blocks = states.select("event", "rank", "first", "last", "state", "vsum").mapInArrow(
            map_rows(to_blocks, in_schema), in_schema.ddl
        )
        edges = blocks.groupBy("block").applyInArrow(group_rows(link, edge_schema), edge_schema.ddl)
        # components over the events' age keys, so that the root is the oldest event
        keyed = states.select("event", F.format_string("%020d/%s", "rank", "event").alias("k"))
        kedges = (
            edges.join(keyed.withColumnRenamed("event", "a").withColumnRenamed("k", "ka"), "a")
            .join(keyed.withColumnRenamed("event", "b").withColumnRenamed("k", "kb"), "b")
            .select(F.col("ka").alias("a"), F.col("kb").alias("b"))
        )
        from storydesk.spark.graph import connected_components

        comp = connected_components(kedges, self.options.driver_edges)
        ev = states.join(keyed, "event").join(comp.withColumnRenamed("node", "k"), "k", "left")
        sl_id = F.udf(lambda k: C.storyline_id(k.split("/", 1)[1]), "string")
        ev = ev.withColumn("storyline", sl_id(F.coalesce("root", "k"))).drop("k", "root")
        events = self._save(ev, "events_final")
        # a store lists a storyline's events by the ingest order of their first article; the title is
        # the biggest event's, the oldest (created first) on ties
        by_age = F.sort_array(F.collect_list(F.struct("rank", "event", "n", "title")))
        listed = F.sort_array(F.collect_list(F.struct("first_seq", "event")))
        sls = events.groupBy("storyline").agg(by_age.alias("evs"), listed.alias("listed"))

        def title_of(evs: list[Any]) -> str:
            best = max(evs, key=lambda e: e["n"])  # the older one on ties (max keeps the first)
            return str(best["title"] or "")

        sl_title = F.udf(lambda evs: title_of(evs), "string")
        storylines = sls.select(
            F.col("storyline").alias("id"),
            F.col("listed.event").alias("events"),
            sl_title("evs").alias("title"),
        )
        storylines = self._save(storylines, "storylines_final")
        self.report.storylines = storylines.count()
        return events, storylines

    # ---------------------------------------------------------------- event map
    def _event_map(self, analysed: Any, dups: Any, events: Any) -> Any:
        """The event map's artifact rows (``ROWS``), one group per event, plus each event's dates."""
        from pyspark.sql import functions as F

        if not self.event_stages:
            return self.spark.createDataFrame([], ROWS.ddl)
        needed = sorted(
            {a.name for s in self.event_stages for a in s.requires if a.stored and a.scope in ("article", "corpus")}
        )
        cols = ["id", "order", "record", "sents", "adigest"]
        for n in needed:
            if n != A.DUPLICATE.name:
                cols += [f"{n}__data", f"{n}__d"]
        members = events.select("event", "title", "storyline", F.explode("members").alias("id"))
        m = members.join(analysed.select(*cols), "id").join(dups.select("id", "decision"), "id")
        models, stages = self.models, self.event_stages
        names = tuple(s.name for s in stages)

        def run(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from storydesk.event.analyze import EventInput
            from storydesk.pipeline import EventTask, event_rows

            rows = sorted(rows, key=lambda r: r["order"])
            eid = rows[0]["event"]
            arts, sents = [], {}
            for r in rows:
                a, s = article_of(r)
                arts.append(a)
                sents[a.id] = s
            per: dict[str, dict[str, Any]] = {}
            for n in needed:
                if n == A.DUPLICATE.name:
                    continue
                per[n] = {r["id"]: A.ALL[n].codec.decode(r[f"{n}__data"]) for r in rows if r[f"{n}__data"] is not None}
            dec = {r["id"]: json.loads(r["decision"]) for r in rows}
            ev = Event(eid, tuple(r["id"] for r in rows), rows[0]["title"] or "", rows[0]["storyline"])
            inp = EventInput(ev, arts, sents, per, {i: d.get("duplicate_of") for i, d in dec.items()})
            by_id = sorted(rows, key=lambda r: r["id"])
            member: dict[str, list[str | None]] = {"article": [r["adigest"] for r in by_id]}
            member["sentences"] = member["article"]
            for n in needed:
                if n == A.DUPLICATE.name:
                    member[n] = [digest_of(A.DUPLICATE.codec.encode(dec[r["id"]])) for r in by_id]
                else:
                    member[n] = [r[f"{n}__d"] for r in by_id]
            task = EventTask(inp, names, member, {})
            got = event_rows((stages, [task]), models_here(models))[0]
            return [
                {
                    "scope": "event",
                    "artifact": name,
                    "key": eid,
                    "version": ar.version,
                    "fingerprint": ar.fingerprint,
                    "digest": ar.digest,
                    "data": ar.data,
                }
                for name, ar in got
            ]

        rows = m.groupBy("event").applyInArrow(group_rows(run, ROWS), ROWS.ddl)
        return self._save(rows, "event_rows")

    def _storyline_map(self, storylines: Any, ev_rows: Any) -> Any:
        """Storyline timelines (``ROWS``), one group per storyline."""
        from pyspark.sql import functions as F

        from storydesk.event.analyze import StorylineTimelineStage

        if StorylineTimelineStage.name not in self.pipeline.names:
            return self.spark.createDataFrame([], ROWS.ddl)
        facts = ev_rows.where(F.col("artifact") == A.EVENT_FACTS.name).select(
            F.col("key").alias("event"), "digest", "data"
        )
        m = storylines.select(
            F.col("id").alias("storyline"), "title", "events", F.posexplode("events").alias("pos", "event")
        ).join(facts, "event", "left")
        models = self.models

        def run(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
            from storydesk.event.analyze import StorylineInput
            from storydesk.pipeline import stage_fingerprint, storyline_rows

            rows = sorted(rows, key=lambda r: r["pos"])
            here = models_here(models)
            events = list(rows[0]["events"])
            fp = stage_fingerprint(StorylineTimelineStage(), here, [events, [r["digest"] for r in rows]])
            facts = [list(A.EVENT_FACTS.codec.decode(r["data"])) for r in rows if r["data"] is not None]
            sl = Storyline(rows[0]["storyline"], tuple(events), rows[0]["title"] or "")
            got = storyline_rows([(StorylineInput(sl, facts), fp)], here)[0][0]
            return [
                {
                    "scope": "storyline",
                    "artifact": A.STORYLINE_TIMELINE.name,
                    "key": sl.id,
                    "version": got.version,
                    "fingerprint": got.fingerprint,
                    "digest": got.digest,
                    "data": got.data,
                }
            ]

        rows = m.groupBy("storyline").applyInArrow(group_rows(run, ROWS), ROWS.ddl)
        return self._save(rows, "storyline_rows")

    # ---------------------------------------------------------------- outputs
    def _write(
        self, analysed: Any, dups: Any, assign: Any, events: Any, storylines: Any, ev_rows: Any, sl_rows: Any
    ) -> None:
        """The output tables."""
        from pyspark.sql import functions as F

        from storydesk.corpus.dedup import VERSION as DEDUP_VERSION
        from storydesk.corpus.events import VERSION as EVENTS_VERSION
        from storydesk.pipeline import DEDUP, EVENTS

        # artifacts: the article map's rows, the corpus step's and the event and storyline maps'
        parts = []
        for a in self.stored:
            n = a.name
            parts.append(
                analysed.where(F.col(f"{n}__data").isNotNull()).select(
                    F.lit("article").alias("scope"),
                    F.lit(n).alias("artifact"),
                    F.col("id").alias("key"),
                    F.col(f"{n}__v").alias("version"),
                    F.col(f"{n}__fp").alias("fingerprint"),
                    F.col(f"{n}__d").alias("digest"),
                    F.col(f"{n}__data").alias("data"),
                )
            )
        pack = F.udf(lambda s: A.DUPLICATE.codec.encode(json.loads(s)), "binary")
        dig = F.udf(lambda b: digest_of(bytes(b)), "string")
        dfp = fingerprint(DEDUP.name, DEDUP.version)
        d = dups.select(F.col("id").alias("key"), pack("decision").alias("data"))
        parts.append(
            d.select(
                F.lit("corpus").alias("scope"),
                F.lit(A.DUPLICATE.name).alias("artifact"),
                "key",
                F.lit(DEDUP_VERSION).alias("version"),
                F.lit(dfp).alias("fingerprint"),
                dig("data").alias("digest"),
                "data",
            )
        )
        efp = fingerprint(EVENTS.name, EVENTS.version)
        st = events.select(F.col("event").alias("key"), pack("state").alias("state"), "vsum")
        for name, col in ((A.EVENT_STATE.name, "state"), (A.EVENT_SUM.name, "vsum")):
            parts.append(
                st.select(
                    F.lit("event").alias("scope"),
                    F.lit(name).alias("artifact"),
                    "key",
                    F.lit(EVENTS_VERSION).alias("version"),
                    F.lit(efp).alias("fingerprint"),
                    dig(col).alias("digest"),
                    F.col(col).alias("data"),
                )
            )
        parts += [ev_rows, sl_rows]
        allrows = parts[0]
        for p in parts[1:]:
            allrows = allrows.unionByName(p)
        self._save(allrows.repartition(self.partitions, "artifact", "key"), "artifacts", work=False)

        # articles and sentences
        meta = F.from_json(
            "record",
            "source string, title string, outlet string, published string, url string, text string, format string",
        )
        arts = (
            analysed.select("id", "seq", "order", "record", "sents", meta.alias("m"))
            .join(assign.select("id", "event"), "id", "left")
            .join(dups.select("id", "duplicate_of"), "id")
            .select(
                "id",
                "seq",
                "order",
                "m.source",
                "m.title",
                "m.outlet",
                F.to_date("m.published").alias("published"),
                "m.url",
                "m.text",
                "m.format",
                "event",
                "duplicate_of",
                "record",
                "sents",
            )
        )
        self._save(arts, "articles", work=False)
        spans = F.from_json("sents", "array<array<int>>")
        sents = analysed.select(
            "id", F.get_json_object("record", "$.text").alias("text"), F.posexplode(spans).alias("idx", "s")
        )
        self._save(
            sents.select(
                F.col("id").alias("article_id"),
                "idx",
                F.col("s")[0].alias("start"),
                F.col("s")[1].alias("end"),
                F.col("s")[2].alias("paragraph"),
                F.expr("substring(text, s[0] + 1, s[1] - s[0])").alias("text"),
            ),
            "sentences",
            work=False,
        )

        # events with their dates; storylines
        dates = ev_rows.where(F.col("artifact") == A.EVENT_DATES.name).select(F.col("key").alias("event"), "data")
        unpack = F.udf(lambda b: json.dumps(A.EVENT_DATES.codec.decode(bytes(b))), "string")
        dd = dates.select("event", F.from_json(unpack("data"), "start string, end string").alias("d"))
        ev = events.join(dd, "event", "left").select(
            F.col("event").alias("id"),
            "title",
            "storyline",
            F.to_date("d.start").alias("start"),
            F.to_date("d.end").alias("end"),
            F.col("members").alias("articles"),
            F.size("members").alias("size"),
            "rank",
        )
        self._save(ev, "events", work=False)
        self._save(storylines.select("id", "title", "events"), "storylines", work=False)

        # readable event outputs: quotes, claims, conflicts (one row each), summaries
        def explode_records(artifact: A.Artifact) -> Any:
            udf = F.udf(
                lambda b: [json.dumps(x, ensure_ascii=False) for x in to_dict(artifact.codec.decode(bytes(b)))],
                "array<string>",
            )
            return ev_rows.where(F.col("artifact") == artifact.name).select(
                F.col("key").alias("event_id"), F.posexplode(udf("data")).alias("idx", "record")
            )

        for name, art in (("quotes", A.QUOTES), ("claims", A.CLAIMS), ("conflicts", A.CONFLICTS)):
            self._save(explode_records(art), name, work=False)
        summ = F.udf(lambda b: json.dumps(to_dict(A.SUMMARY.codec.decode(bytes(b))), ensure_ascii=False), "string")
        s = ev_rows.where(F.col("artifact") == A.SUMMARY.name).select(
            F.col("key").alias("event_id"), summ("data").alias("j")
        )
        self._save(
            s.select(
                "event_id",
                F.get_json_object("j", "$[0]").alias("headline"),
                F.get_json_object("j", "$[1]").alias("sentences"),
            ),
            "summaries",
            work=False,
        )

    def _write_meta(self) -> None:
        """Settings, stage keys and the report, for ``storydesk load``."""
        from storydesk.pipeline import CORPUS_STAGES

        m = self.models
        stage_keys = {s.name: fingerprint(s.name, s.version, s.identity(m)) for s in self.pipeline.stages}
        doc = {
            "format": FORMAT,
            "config": to_dict(m.config),
            "embedder": m.lead_id(),
            "stages": [s.name for s in self.pipeline.stages],
            "stage_keys": stage_keys,
            "corpus_stages": [s.name for s in CORPUS_STAGES],
            "options": to_dict(self.options),
            "report": self.report.as_dict(),
            "finished": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        }
        Path(self.out, META_FILE).write_text(json.dumps(doc, indent=2, default=str), encoding="utf-8")


def run(
    inputs: Sequence[str | Path],
    out: str | Path,
    master: str | None = None,
    partitions: int | None = None,
    models: Models | None = None,
    stages: Sequence[Any] | None = None,
    options: Options | None = None,
    encoding: str | None = None,
    spark: Any = None,
) -> RunReport:
    """Run storydesk on Spark over input files and write the Parquet tables to ``out``.

    Args:
        inputs: Files and folders (text, JSON Lines, JSON, HTML, feeds, Parquet).
        out: Output directory.
        master: Spark master (``local[*]``, ``spark://host:7077``, ``yarn``, ``k8s://...``); None: as configured.
        partitions: Partitions of the article map and the shuffles.
        models: Settings and injected models.
        stages: Pipeline stages (default: all).
        options: Block sizes and limits.
        encoding: Force the text encoding of inputs.
        spark: An existing session (then ``master`` is ignored and the session is left running).
    """
    opts = options or Options()
    if partitions:
        opts.partitions = partitions
    own = spark is None
    spark = spark or session(master, opts.partitions)
    try:
        return Job(spark, out, models, stages, opts).run_paths(inputs, encoding)
    finally:
        if own:
            spark.stop()
