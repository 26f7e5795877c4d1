"""Speed and memory benchmark of the grouping stages (ingest → dedup → embed → events → storylines).

What it measures, for each corpus size N (``--sizes``, default 1,000, 10,000 and
100,000 articles), each in a fresh subprocess so that peak memory is per size:

* end to end through the library API (:class:`storydesk.api.Storydesk` on an
  SQLite file): ingest of the stream (JSON Lines files), then the stages
  ``dedup``, ``embed``, ``events`` and ``storylines`` run one after the other;
  wall and CPU seconds and articles/s of every phase and of the whole, model
  loading included (shown apart as ``load``);
* peak resident memory (``VmHWM``, else ``ru_maxrss``) after each phase, and the database size;
* incremental adds: ``--adds`` held-back articles (drawn at random from the
  same stream, so they fall inside its time span) are then added one at a
  time to the built store, each one ingested and built (``ingest`` then
  ``build()``) on the same open :class:`Storydesk`, as a long-running server
  would; the latency of each add is timed and p50/p95/p99 reported, with the
  median time of every stage. The first add after the build is reported apart.

The stream: the 9,198 NeuS title+lead snippets and the 4,328 non-empty
Timeline17 articles (``../shared/datasets``). NeuS has no dates, so each NeuS
event gets a day drawn from Timeline17's span (2005–2013) and its articles
that day or the next. Beyond the originals, the pool is replicated in rounds:
round *r* moves every date *r* × 9 years back (ingest refuses future dates),
plus a few days of jitter per event, so the number of events inside an
article's time window stays what it is in the originals however large N gets; each replica gets a new id and
perturbed text (words replaced by words drawn from the corpus, neighbours
swapped, words dropped, again until its shingle Jaccard with the original is
below 0.3; NeuS titles swapped for another title of the same event), so that
it is not a near-copy (which would take the dedup shortcut) but still groups
like its original. The N-article stream is the first N
articles of that stream, round after round and in date order within a round,
so the sizes are nested. The
JSON Lines files go to ``--workdir`` (default ``/tmp/storydesk-bench``), never
into the repository.

The load average (``uptime``) is recorded at the start of every size: on a
shared machine the figures are provisional.

Run: ``.venv/bin/python bench/cluster.py --help``; for instance
``nice .venv/bin/python bench/cluster.py --sizes 1000,10000 --embedder minilm-static``.
Results are printed as a table and written to ``<workdir>/cluster-<embedder>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import os
import platform
import random
import resource
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Timeline17 spans 2005–2013; each replica round moves the pool this many days back.
BLOCK_DAYS = 9 * 365 + 2
POOL_START = dt.date(2005, 1, 1)
#: Articles per JSON Lines file of the stream (ingest progress is reported per file).
PART_SIZE = 5000
#: Chance that a word of a replica is replaced, swapped with its neighbour or dropped.
P_REPLACE, P_SWAP, P_DROP = 0.10, 0.06, 0.04
#: Chance that a replica of a NeuS snippet takes the title of another snippet of its event.
P_TITLE_SWAP = 0.5
#: Largest shingle Jaccard of a replica with its original: short snippets are perturbed again until
#: below it, or a replica would be a near-copy joining its original's event years away.
MAX_JACCARD = 0.3
#: Changes whenever the stream written for a size would change (cached streams are not reused).
STREAM_VERSION = 3
PHASES = ("load", "ingest", "dedup", "embed", "events", "storylines")
STAGE_NAMES = ("dedup", "embed", "events", "storylines")
#: Files whose content decides the figures (their hashes are recorded with the results).
CODE_FILES = ("cluster.py", "dedup.py", "embed.py", "ingest.py", "clean.py", "store/sql.py")

T = TypeVar("T")


# --------------------------------------------------------------------------- the synthetic stream


def _datasets() -> Path:
    """The shared data set folder."""
    from storydesk.eval import datasets_dir

    return datasets_dir()


def load_pool(seed: int) -> list[dict[str, Any]]:
    """The original articles, each with a ``unit`` (NeuS event or T17 article) and a date."""
    rng = random.Random(seed)
    pool: list[dict[str, Any]] = []
    events: dict[str, dt.date] = {}
    with (_datasets() / "neus" / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            a = json.loads(line)
            ev = "neus/" + a["gold"]["event"]
            if ev not in events:
                events[ev] = POOL_START + dt.timedelta(days=rng.randrange(BLOCK_DAYS))
            day = events[ev] + dt.timedelta(days=rng.randrange(2))
            pool.append({**_record(a), "published": day.isoformat(), "unit": ev})
    with (_datasets() / "timeline17" / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            a = json.loads(line)
            if not (a.get("text") or "").strip() or not a.get("published"):
                continue
            pool.append({**_record(a), "unit": a["id"]})
    return pool


def _record(a: dict[str, Any]) -> dict[str, Any]:
    """The ingestible fields of a data set row."""
    return {k: a.get(k) for k in ("id", "outlet", "title", "published", "url", "text")}


def _vocabulary(pool: list[dict[str, Any]], rng: random.Random, n: int = 300_000) -> list[str]:
    """Words drawn from the pool's texts by frequency: what a replica's replaced words become."""
    words: list[str] = []
    for a in rng.sample(pool, min(len(pool), 3000)):
        words.extend(w for w in a["text"].split() if w.isalpha())
    return rng.sample(words, min(n, len(words)))


def perturb(text: str, rng: random.Random, vocab: list[str]) -> str:
    """Replace, swap and drop some words, so that a replica is no near-copy of its original."""
    out = text.split()
    i = 0
    kept: list[str] = []
    while i < len(out):
        r = rng.random()
        if r < P_DROP:
            i += 1
            continue
        if r < P_DROP + P_SWAP and i + 1 < len(out):
            kept.extend((out[i + 1], out[i]))
            i += 2
            continue
        w = out[i]
        if r < P_DROP + P_SWAP + P_REPLACE:
            w = rng.choice(vocab)
        kept.append(w)
        i += 1
    return " ".join(kept)


def _jaccard(title_a: str | None, text_a: str, title_b: str | None, text_b: str) -> float:
    """Jaccard of two articles' word 4-shingles, as the dedup stage sees them."""
    from storydesk.dedup import shingles

    a, b = shingles(f"{title_a or ''}\n{text_a}", 4), shingles(f"{title_b or ''}\n{text_b}", 4)
    return len(a & b) / len(a | b) if a or b else 0.0


def stream(pool: list[dict[str, Any]], n: int, seed: int) -> list[dict[str, Any]]:
    """The first ``n`` articles of the replicated stream (round after round, each in date order)."""
    rng = random.Random(seed + 1)
    vocab = _vocabulary(pool, rng)
    titles: dict[str, list[str]] = {}
    for a in pool:
        if a["title"]:
            titles.setdefault(a["unit"], []).append(a["title"])
    base = sorted(pool, key=lambda a: (a["published"], a["id"]))
    out: list[dict[str, Any]] = []
    r = 0
    while len(out) < n:
        if r == 0:
            out.extend(dict(a) for a in base[: n - len(out)])
        else:
            if r * BLOCK_DAYS > (POOL_START - dt.date(1800, 1, 1)).days:
                raise ValueError(f"{n} articles need replica dates before 1800, which ingest refuses")
            round_rng = random.Random(f"{seed}/{r}")
            jitter = {u: round_rng.randint(-3, 3) for u in sorted({a["unit"] for a in base})}
            replicas = []
            for a in base:
                arng = random.Random(f"{seed}/{r}/{a['id']}")
                day = dt.date.fromisoformat(a["published"]) - dt.timedelta(days=r * BLOCK_DAYS - jitter[a["unit"]])
                title = a["title"]
                others = [t for t in titles.get(a["unit"], []) if t != title]
                if title and others and arng.random() < P_TITLE_SWAP:
                    title = arng.choice(others)
                new_title, text = perturb(title, arng, vocab) if title else None, perturb(a["text"], arng, vocab)
                for _ in range(5):
                    if _jaccard(a["title"], a["text"], new_title, text) < MAX_JACCARD:
                        break
                    new_title, text = perturb(new_title, arng, vocab) if new_title else None, perturb(text, arng, vocab)
                replicas.append(
                    {**a, "id": f"bench/r{r}/{a['id']}", "title": new_title, "text": text, "published": day.isoformat()}
                )
            replicas.sort(key=lambda a: (a["published"], a["id"]))
            out.extend(replicas[: n - len(out)])
        r += 1
    return out


def write_stream(workdir: Path, n: int, adds: int, seed: int) -> tuple[Path, list[Path], int]:
    """Write the ``n``-article stream (less ``adds`` held back) as JSON Lines parts, once.

    Returns:
        The folder of stream parts, one file per held-back article, and the number of replica rounds.
    """
    folder = workdir / f"stream-{n}-s{seed}-{adds}-v{STREAM_VERSION}"
    done = folder / "DONE"
    add_dir = workdir / f"adds-{n}-s{seed}-{adds}-v{STREAM_VERSION}"
    if done.is_file() and add_dir.is_dir():
        rounds = int(done.read_text())
        return folder / "parts", sorted(add_dir.glob("*.jsonl")), rounds
    pool = load_pool(seed)
    articles = stream(pool, n + adds, seed)
    rng = random.Random(seed + 2)
    held = set(rng.sample(range(len(articles)), adds))
    kept = [a for i, a in enumerate(articles) if i not in held]
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    add_dir.mkdir(parents=True, exist_ok=True)
    for k in range(0, len(kept), PART_SIZE):
        with (folder / "parts" / f"part-{k // PART_SIZE:04d}.jsonl").open("w", encoding="utf-8") as fh:
            for a in kept[k : k + PART_SIZE]:
                fh.write(json.dumps({f: a[f] for f in ("id", "outlet", "title", "published", "url", "text")}) + "\n")
    rng.shuffle(order := sorted(held))
    for j, i in enumerate(order):
        a = articles[i]
        (add_dir / f"add-{j:04d}.jsonl").write_text(
            json.dumps({f: a[f] for f in ("id", "outlet", "title", "published", "url", "text")}) + "\n",
            encoding="utf-8",
        )
    rounds = max(int(a["id"].split("/")[1][1:]) if a["id"].startswith("bench/") else 0 for a in articles) + 1
    done.write_text(str(rounds))
    return folder / "parts", sorted(add_dir.glob("*.jsonl")), rounds


# --------------------------------------------------------------------------- one size (child process)


def _maxrss_mb() -> float:
    """Peak resident memory of this process so far, in MiB.

    Linux's ``VmHWM`` when there is one: ``ru_maxrss`` survives ``exec``, so it would
    count the parent's pages that the forked child shared before exec.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _log(size: int, msg: str) -> None:
    """A progress line (the parent passes it through)."""
    print(f"[{size}] {time.strftime('%H:%M:%S')} {msg}", flush=True)


def _progress_hook(size: int) -> Any:
    """A progress hook that logs every tenth of a long loop."""

    def hook(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
        step = max((total or 0) // 10, 1)
        t0 = time.perf_counter()
        for k, item in enumerate(items, start=1):
            yield item
            if total and total >= 5000 and k % step == 0:
                _log(size, f"  {desc} {k}/{total} ({time.perf_counter() - t0:.0f} s)")

    return hook


def _percentiles(ms: list[float]) -> dict[str, float]:
    """p50/p95/p99, mean and max of latencies in ms."""
    if not ms:
        return {}
    a = np.asarray(ms)
    return {
        "p50": round(float(np.percentile(a, 50)), 1),
        "p95": round(float(np.percentile(a, 95)), 1),
        "p99": round(float(np.percentile(a, 99)), 1),
        "mean": round(float(a.mean()), 1),
        "max": round(float(a.max()), 1),
    }


def run_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    """Build a store of ``size`` articles, then time the incremental adds; the figures as a dict."""
    from storydesk.api import Storydesk
    from storydesk.cluster import EmbedStage, EventsStage, StorylinesStage
    from storydesk.config import Config
    from storydesk.dedup import DedupStage
    from storydesk.embed import get_embedder
    from storydesk.pipeline import Stage

    workdir = Path(args.workdir)
    res: dict[str, Any] = {"size": size, "embedder": args.embedder, "load_average_start": _load()}
    parts, add_files, rounds = write_stream(workdir, size, int(args.adds), args.seed)
    res["stream"] = {"replica_rounds": rounds, "held_back": len(add_files)}
    _log(size, f"stream of {rounds} round(s); load {res['load_average_start']}")
    db = workdir / f"cluster-{args.embedder}-{size}.db"
    for p in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        p.unlink(missing_ok=True)
    res["rss_mb_start"] = round(_maxrss_mb(), 1)

    phases: dict[str, dict[str, float]] = {}
    import gc

    gc_timer = GcTimer()
    gc.callbacks.append(gc_timer)

    def timed(name: str, fn: Any) -> Any:
        w, c, g = time.perf_counter(), time.process_time(), gc_timer.total
        out = fn()
        wall, cpu = time.perf_counter() - w, time.process_time() - c
        phases[name] = {
            "seconds": round(wall, 3),
            "cpu_seconds": round(cpu, 3),
            "gc_seconds": round(gc_timer.total - g, 3),
            "rss_mb_after": round(_maxrss_mb(), 1),
        }
        _log(size, f"{name}: {wall:.1f} s wall, {cpu:.1f} s CPU, peak RSS {_maxrss_mb():.0f} MB")
        return out

    config = Config().with_overrides(embedder=args.embedder)
    embedder = timed("load", lambda: get_embedder(args.embedder))
    stages: list[Stage] = [DedupStage(), EmbedStage(), EventsStage(), StorylinesStage()]
    with Storydesk(db, config=config, embedder=embedder, stages=stages, progress=_progress_hook(size)) as sd:
        report = timed("ingest", lambda: sd.ingest([parts]))
        res["ingested"] = {"added": len(report.added), "skipped": len(report.skipped), "rejected": len(report.rejected)}
        res["ingested"]["rejections"] = dict(Counter(r.code for r in report.rejected))
        if len(report.rejected) > size // 100:
            raise RuntimeError(f"{len(report.rejected)} articles of the stream were rejected: {res['ingested']}")
        stats: dict[str, Any] = {}
        for st in STAGE_NAMES:
            stats[st] = timed(st, lambda st=st: sd.build(stages=[st])[st])
        res["stage_stats"] = stats
        n = res["ingested"]["added"]
        total = sum(p["seconds"] for p in phases.values())
        res["phases"] = {
            k: {**v, "articles_per_s": round(n / v["seconds"], 1) if v["seconds"] else None} for k, v in phases.items()
        }
        res["end_to_end"] = {
            "articles": n,
            "seconds": round(total, 2),
            "cpu_seconds": round(sum(p["cpu_seconds"] for p in phases.values()), 2),
            "articles_per_s": round(n / total, 1),
            "articles_per_cpu_s": round(n / sum(p["cpu_seconds"] for p in phases.values()), 1),
            "peak_rss_mb": round(_maxrss_mb(), 1),
        }
        res["events"] = stats["events"].get("events")
        res["storylines"] = stats["storylines"].get("storylines")
        res["duplicates"] = stats["dedup"].get("duplicates")
        res["db_mb"] = round(sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6, 1)
        _log(size, f"built: {n} articles at {res['end_to_end']['articles_per_s']} articles/s")
        if args.keep_db:
            _backup(sd, db.with_name(db.stem + "-built.db"))
        gc.callbacks.remove(gc_timer)
        res["adds"] = _adds(sd, add_files[: args.max_adds], size, args.gc_freeze)
    res["peak_rss_mb"] = round(_maxrss_mb(), 1)
    res["load_average_end"] = _load()
    return res


def _backup(sd: Any, target: Path) -> None:
    """Copy the built store (for profiling the adds on it later with ``--reuse``)."""
    target.unlink(missing_ok=True)
    src = sqlite3.connect(str(sd.store.path)) if hasattr(sd.store, "path") else None
    if src is None:
        return
    with sqlite3.connect(str(target)) as dst:
        src.backup(dst)
    src.close()


class GcTimer:
    """Wall time spent in Python's cyclic garbage collector, by generation (a ``gc.callbacks`` hook)."""

    def __init__(self) -> None:
        self.seconds = [0.0, 0.0, 0.0]
        self.runs = [0, 0, 0]
        self._t0 = 0.0

    def __call__(self, phase: str, info: dict[str, Any]) -> None:
        """Called by the collector at the start and the end of every collection."""
        if phase == "start":
            self._t0 = time.perf_counter()
        else:
            self.seconds[info["generation"]] += time.perf_counter() - self._t0
            self.runs[info["generation"]] += 1

    @property
    def total(self) -> float:
        """Seconds collected so far."""
        return sum(self.seconds)


def _adds(sd: Any, files: list[Path], size: int, freeze: bool = False) -> dict[str, Any]:
    """Add held-back articles one at a time (ingest + build); latency figures.

    With ``freeze``, the objects built so far are moved out of the collector's reach
    first (``gc.freeze()``, as a long-running server may do after loading its state).
    """
    if not files:
        return {}
    import gc

    if freeze:
        gc.collect()
        gc.freeze()
    timer = GcTimer()
    gc.callbacks.append(timer)
    lat: list[float] = []
    gc_ms: list[float] = []
    per_stage: dict[str, list[float]] = {s: [] for s in ("ingest", *STAGE_NAMES)}
    opened = 0
    first: dict[str, Any] = {}
    for k, f in enumerate(files):
        t0 = time.perf_counter()
        g0 = timer.total
        rep = sd.ingest([f])
        t1 = time.perf_counter()
        out = sd.build()
        ms = (time.perf_counter() - t0) * 1000
        gc_ms.append((timer.total - g0) * 1000)
        if len(rep.added) != 1:
            raise RuntimeError(f"held-back article {f} was not added: {rep.as_dict()}")
        stage_ms = {s: out[s]["seconds"] * 1000 for s in STAGE_NAMES}
        if k == 0:
            first = {"ms": round(ms, 1), "ingest_ms": round((t1 - t0) * 1000, 1)}
            first.update({f"{s}_ms": round(v, 1) for s, v in stage_ms.items()})
            continue
        lat.append(ms)
        per_stage["ingest"].append((t1 - t0) * 1000)
        for s, v in stage_ms.items():
            per_stage[s].append(v)
        opened += int(out["events"].get("opened", 0))
        if k % 50 == 0:
            _log(size, f"  add {k}/{len(files)}: median so far {np.median(lat):.0f} ms")
    gc.callbacks.remove(timer)
    res = {
        "articles": len(lat),
        "first": first,
        "latency_ms": _percentiles(lat),
        "opened_new_event": opened,
        "stage_ms": {s: _percentiles(v) for s, v in per_stage.items()},
        "gc_freeze": freeze,
        "gc_ms": _percentiles(gc_ms[1:]),
        "gc_full_collections": timer.runs[2],
    }
    _log(size, f"adds: {res['latency_ms']}")
    return res


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def _reuse_adds(args: argparse.Namespace, size: int) -> dict[str, Any]:
    """Time the adds on a copy of a store kept by an earlier ``--keep-db`` run (for profiling)."""
    import shutil

    from storydesk.api import Storydesk
    from storydesk.cluster import EmbedStage, EventsStage, StorylinesStage
    from storydesk.config import Config
    from storydesk.dedup import DedupStage
    from storydesk.pipeline import Stage

    workdir = Path(args.workdir)
    built = workdir / f"cluster-{args.embedder}-{size}-built.db"
    if not built.is_file():
        raise SystemExit(f"no kept store at {built}: run once with --keep-db")
    _parts, add_files, _rounds = write_stream(workdir, size, int(args.adds), args.seed)
    scratch = workdir / f"cluster-{args.embedder}-{size}-reuse.db"
    shutil.copyfile(built, scratch)
    config = Config().with_overrides(embedder=args.embedder)
    stages: list[Stage] = [DedupStage(), EmbedStage(), EventsStage(), StorylinesStage()]
    with Storydesk(scratch, config=config, stages=stages) as sd:
        t0 = time.perf_counter()
        sd.build()  # loads the model and the event index; nothing to do otherwise
        warm = round(time.perf_counter() - t0, 2)
        _log(size, f"reopened store, first (empty) build {warm} s")
        adds = _adds(sd, add_files[: args.max_adds], size, args.gc_freeze)
        res = {"size": size, "reopen_build_seconds": warm, "adds": adds, "peak_rss_mb": round(_maxrss_mb(), 1)}
    return res


# --------------------------------------------------------------------------- the parent


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python and library versions, and which code was measured."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    except OSError:
        pass
    try:
        import onnxruntime

        info["onnxruntime"] = onnxruntime.__version__
    except ImportError:
        pass
    try:
        info["commit"] = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        info["commit"] = None
    import storydesk

    # the package actually imported (PYTHONPATH may point at a patched copy), not the checkout's
    pkg = Path(storydesk.__file__).parent
    info["package"] = str(pkg)
    info["code_sha1"] = {
        f: hashlib.sha1((pkg / f).read_bytes()).hexdigest()[:10] for f in CODE_FILES if (pkg / f).is_file()
    }
    return info


def _uptime() -> str:
    """The ``uptime`` line."""
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


def print_table(results: list[dict[str, Any]]) -> None:
    """The figures per size: articles/s per phase and end to end, peak RSS, add latency."""
    head = f"{'articles':>8} {'load':>5} " + " ".join(f"{p:>10}" for p in PHASES[1:])
    print("\narticles/s per phase (wall); end to end includes model loading")
    print(f"{head} {'e2e/s':>7} {'e2e s':>7} {'RSS MB':>7}")
    for r in results:
        if "phases" not in r:
            continue
        ph = r["phases"]
        cells = " ".join(f"{ph[p]['articles_per_s'] or 0:>10.0f}" for p in PHASES[1:])
        e = r["end_to_end"]
        print(
            f"{e['articles']:>8} {r['load_average_start'][0]:>5.1f} {cells} "
            f"{e['articles_per_s']:>7.0f} {e['seconds']:>7.1f} {e['peak_rss_mb']:>7.0f}"
        )
    print("\nincremental add (ingest + build of one article), ms")
    print(f"{'stored':>8} {'p50':>7} {'p95':>7} {'p99':>7} {'max':>7}  median per stage")
    for r in results:
        a = r.get("adds") or {}
        if not a:
            continue
        lat = a["latency_ms"]
        stage = ", ".join(f"{s} {v['p50']:.0f}" for s, v in a["stage_ms"].items() if v)
        print(f"{r['size']:>8} {lat['p50']:>7.1f} {lat['p95']:>7.1f} {lat['p99']:>7.1f} {lat['max']:>7.1f}  {stage}")


def main(argv: list[str] | None = None) -> int:
    """Run every size in its own process, print the table and write the JSON."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--sizes", default="1000,10000,100000", help="comma-separated corpus sizes (default 1000,10000,100000)"
    )
    ap.add_argument("--embedder", default="minilm-static", help="embedder name (default minilm-static)")
    ap.add_argument(
        "--adds",
        default="200",
        help="held-back articles added one at a time: one number, or one per size (default 200)",
    )
    ap.add_argument("--seed", type=int, default=13, help="sampling and perturbation seed (default 13)")
    ap.add_argument("--workdir", default="/tmp/storydesk-bench", help="stream files, databases and results")
    ap.add_argument("--keep-db", action="store_true", help="keep a copy of each built store (for --reuse)")
    ap.add_argument("--reuse", action="store_true", help="only time the adds, on a copy of a kept store")
    ap.add_argument("--max-adds", type=int, default=None, help="time only the first N held-back articles")
    ap.add_argument("--gc-freeze", action="store_true", help="gc.freeze() the built state before the adds")
    ap.add_argument("--json", default=None, help="results file (default <workdir>/cluster-<embedder>.json)")
    ap.add_argument("--child", type=int, default=None, help=argparse.SUPPRESS)
    ap.add_argument("--child-out", default=None, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    workdir = Path(args.workdir)
    workdir.mkdir(parents=True, exist_ok=True)

    if args.child is not None:
        res = _reuse_adds(args, args.child) if args.reuse else run_size(args, args.child)
        Path(args.child_out).write_text(json.dumps(res, indent=2), encoding="utf-8")
        return 0

    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    adds = [int(a) for a in args.adds.split(",") if a.strip()]
    if len(adds) not in (1, len(sizes)):
        ap.error("--adds takes one number or one per size")
    adds = adds * len(sizes) if len(adds) == 1 else adds
    out_path = (
        Path(args.json) if args.json else workdir / f"cluster-{args.embedder}{'-reuse' if args.reuse else ''}.json"
    )
    doc: dict[str, Any] = {
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "date": dt.datetime.now().isoformat(timespec="seconds"),
        "machine": machine(),
        "sizes": [],
    }
    print(f"Python {doc['machine']['python']}, {doc['machine']['cpus']} CPUs; results -> {out_path}", flush=True)
    for size, n_adds in zip(sizes, adds, strict=True):
        child_out = workdir / f"child-{args.embedder}-{size}.json"
        child_out.unlink(missing_ok=True)
        # the stream is written here, so that the measuring process's peak memory is the pipeline's own
        t0 = time.perf_counter()
        write_stream(workdir, size, n_adds, args.seed)
        print(f"[{size}] stream written or found in {time.perf_counter() - t0:.0f} s", flush=True)
        up = _uptime()
        print(f"[{size}] uptime: {up}", flush=True)
        cmd = [sys.executable, str(Path(__file__).resolve()), "--child", str(size), "--child-out", str(child_out)]
        cmd += [
            "--embedder",
            args.embedder,
            "--adds",
            str(n_adds),
            "--seed",
            str(args.seed),
            "--workdir",
            str(workdir),
        ]
        cmd += ["--keep-db"] * args.keep_db + ["--reuse"] * args.reuse + ["--gc-freeze"] * args.gc_freeze
        cmd += ["--max-adds", str(args.max_adds)] if args.max_adds else []
        rc = subprocess.run(cmd, check=False).returncode
        if rc != 0 or not child_out.is_file():
            print(f"[{size}] failed with exit code {rc}", file=sys.stderr)
            return 1
        res = json.loads(child_out.read_text(encoding="utf-8"))
        res["uptime_start"] = up
        doc["sizes"].append(res)
        out_path.write_text(json.dumps(doc, indent=2), encoding="utf-8")
    print_table(doc["sizes"])
    print(f"\nresults: {out_path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
