"""Spark scaling benchmark: articles/s of ``local[1]`` and ``local[2]`` on the same articles, beside one machine.

Each configuration runs in a fresh subprocess, one after the other (never two
heavy runs at once on a shared machine):

* ``single``: ``storydesk run FILE --db ... --workers 1`` (the single-machine
  pipeline in one process), timed end to end;
* ``local[N]``: :func:`storydesk.spark.run` with ``--master local[N]``: the
  session start, the job's own clock per phase (ingest, article map, dedup,
  events, storylines, event map, write), and per Spark stage the UI's REST data
  (``/api/v1/applications/<app>/stages``: tasks, executor run time, input,
  output and shuffle bytes), summed per phase (the job group).

Peak memory is the largest resident set of the whole process tree (driver JVM
and Python workers included), sampled every 0.5 s, and CPU seconds are the
tree's user and system time (the largest sample), so that a run on a shared
machine can also be read per CPU-second. The load average
(``uptime``) is recorded before and after each run: on a shared machine the
figures are provisional.

The input: full-length Timeline17 articles (``../shared/datasets/timeline17``),
every ``--every``-th line, so that the sample spans every topic and date; it is
written to ``--workdir`` (default ``/tmp/storydesk-bench-spark``), never into the
repository. Results go to ``<workdir>/spark.json``.

Run: ``.venv/bin/python bench/spark.py --every 2 --runs single,local[1],local[2]``.
``--agree local[2]`` instead runs the clustering stages on one machine and on
Spark over the same input, loads the Spark tables into a store and prints how
far they agree (:func:`storydesk.eval.agreement.compare`: per-article rows,
B-cubed F1 of events and storylines); ``--full`` runs every stage.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
T17 = Path(os.environ.get("STORYDESK_SHARED", ROOT.parent / "shared")) / "datasets" / "timeline17" / "articles.jsonl"


def loadavg() -> str:
    """The 1, 5 and 15 minute load averages."""
    return " ".join(Path("/proc/loadavg").read_text().split()[:3])


def tree_usage(pid: int) -> tuple[int, float]:
    """Resident bytes and CPU seconds (own and of waited-for children) of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            fields = (d / "stat").read_text().rsplit(")", 1)[1].split()
            ppid = int(fields[1])
            pages = int((d / "statm").read_text().split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(ppid, []).append(int(d.name))
        rss[int(d.name)] = pages * os.sysconf("SC_PAGE_SIZE")
        cpu[int(d.name)] = sum(int(x) for x in fields[11:15]) / tick
    total, secs, todo = 0, 0.0, [pid]
    while todo:
        p = todo.pop()
        total += rss.get(p, 0)
        secs += cpu.get(p, 0.0)
        todo += children.get(p, [])
    return total, secs


def run_child(args: list[str]) -> dict[str, Any]:
    """Run one configuration in a subprocess, sampling the memory of its tree; returns its JSON result."""
    before = loadavg()
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    peak = [0, 0.0]

    def sample() -> None:
        while proc.poll() is None:
            rss, cpu = tree_usage(proc.pid)
            peak[0], peak[1] = max(peak[0], rss), max(peak[1], cpu)
            time.sleep(0.5)

    th = threading.Thread(target=sample, daemon=True)
    th.start()
    out, err = proc.communicate()
    th.join()
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{args} failed:\n{err[-4000:]}")
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    res: dict[str, Any] = json.loads(lines[-1]) if lines else {}
    res.update(
        {
            "wall_seconds": round(wall, 1),
            "peak_rss_mb": round(peak[0] / 2**20),
            "cpu_seconds": round(peak[1], 1),
            "load_before": before,
        }
    )
    res["load_after"] = loadavg()
    return res


def sample_input(every: int, workdir: Path) -> tuple[Path, int]:
    """Every ``every``-th Timeline17 article with a text, as JSON Lines under ``workdir``."""
    workdir.mkdir(parents=True, exist_ok=True)
    path = workdir / f"t17-every{every}.jsonl"
    n = 0
    with T17.open(encoding="utf-8") as f, path.open("w", encoding="utf-8") as out:
        for i, line in enumerate(f):
            if i % every == 0 and json.loads(line).get("text"):
                out.write(line)
                n += 1
    return path, n


# --------------------------------------------------------------------------- children


def child_single(inp: str, workdir: str) -> None:
    """``storydesk run --workers 1`` on the input."""
    db = Path(workdir) / "single.db"
    db.unlink(missing_ok=True)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "storydesk.cli", "run", inp, "--db", str(db), "--workers", "1", "-q"], check=False
    )
    secs = time.perf_counter() - t0
    from storydesk.store import open_store

    with open_store(db) as s:
        stats = {k: v["stats"] for k, v in s.stage_runs().items()}
        n = s.article_count()
    print(json.dumps({"run": "single", "articles": n, "seconds": round(secs, 1), "phases": stats}))


def _rest(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=30) as r:
        return json.loads(r.read().decode())


def child_spark(inp: str, workdir: str, master: str, partitions: int | None) -> None:
    """One Spark run with the UI's per-stage data."""
    from storydesk.spark.job import Job, Options, session

    t0 = time.perf_counter()
    spark = session(master, partitions, app=f"storydesk-bench-{master}")
    started = time.perf_counter() - t0
    out = Path(workdir) / f"out-{master.replace('[', '').replace(']', '').replace('*', 'all')}"
    opts = Options(partitions=partitions, keep_work=False)
    t1 = time.perf_counter()
    job = Job(spark, out, options=opts)
    report = job.run_paths([inp])
    secs = time.perf_counter() - t1
    sc = spark.sparkContext
    stages: list[dict[str, Any]] = []
    groups: dict[str, dict[str, Any]] = {}
    try:
        base = f"{sc.uiWebUrl}/api/v1/applications/{sc.applicationId}"
        jobs = _rest(f"{base}/jobs")
        group_of = {sid: j.get("jobGroup") or "" for j in jobs for sid in j.get("stageIds", [])}
        for st in _rest(f"{base}/stages"):
            if st.get("status") != "COMPLETE":
                continue
            row = {
                "id": st["stageId"],
                "name": st["name"][:60],
                "phase": group_of.get(st["stageId"], ""),
                "tasks": st["numTasks"],
                "run_s": round(st["executorRunTime"] / 1000, 1),
                "input_mb": round(st["inputBytes"] / 2**20, 2),
                "output_mb": round(st["outputBytes"] / 2**20, 2),
                "shuffle_read_mb": round(st["shuffleReadBytes"] / 2**20, 2),
                "shuffle_write_mb": round(st["shuffleWriteBytes"] / 2**20, 2),
            }
            stages.append(row)
            g = groups.setdefault(row["phase"], {"stages": 0, "tasks": 0, "run_s": 0.0, "shuffle_mb": 0.0})
            g["stages"] += 1
            g["tasks"] += row["tasks"]
            g["run_s"] = round(g["run_s"] + row["run_s"], 1)
            g["shuffle_mb"] = round(g["shuffle_mb"] + row["shuffle_write_mb"], 2)
    except OSError as e:  # the UI is off or unreachable: the job's own clock still stands
        groups = {"error": {"message": str(e)}}
    spark.stop()
    print(
        json.dumps(
            {
                "run": master,
                "articles": report.articles,
                "events": report.events,
                "session_start_s": round(started, 1),
                "seconds": round(secs, 1),
                "phases": report.seconds,
                "partitions": job.partitions,
                "by_job_group": groups,
                "stages": stages,
            }
        )
    )


def child_agree(inp: str, workdir: str, master: str, partitions: int | None, full: bool) -> None:
    """Agreement of a Spark run with the single-machine run on the same input (clustering stages unless ``full``)."""
    from storydesk.api import Storydesk
    from storydesk.eval.agreement import compare
    from storydesk.eval.cluster import cluster_stages
    from storydesk.pipeline import default_stages
    from storydesk.spark.job import Job, Options, session
    from storydesk.spark.load import load
    from storydesk.store import open_store

    stages = default_stages() if full else cluster_stages()
    wd = Path(workdir)
    single_db, spark_db, out = wd / "agree-single.db", wd / "agree-spark.db", wd / "agree-out"
    for p in (single_db, spark_db):
        p.unlink(missing_ok=True)
    t0 = time.perf_counter()
    with Storydesk(single_db, stages=stages, workers=1) as sd:
        sd.ingest([inp])
        sd.build()
    single_s = time.perf_counter() - t0
    spark = session(master, partitions, app="storydesk-agree")
    t0 = time.perf_counter()
    Job(spark, out, stages=stages, options=Options(partitions=partitions)).run_paths([inp])
    spark_s = time.perf_counter() - t0
    spark.stop()
    load(out, spark_db)
    with open_store(single_db) as a, open_store(spark_db) as b:
        got = compare(a, b)
    print(
        json.dumps(
            {
                **got,
                "run": f"agree {master}",
                "articles_compared": got["articles"],
                "articles": got["articles"][1],
                "seconds": round(spark_s, 1),
                "single_seconds": round(single_s, 1),
                "stages": "all" if full else "clustering",
            }
        )
    )


# --------------------------------------------------------------------------- main


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--every", type=int, default=2, help="Take every N-th Timeline17 article (default 2).")
    ap.add_argument("--runs", default="single,local[1],local[2]", help="Comma-separated: single, local[N], spark://...")
    ap.add_argument("--partitions", type=int, default=None, help="Spark partitions (default: 4 per core).")
    ap.add_argument("--workdir", default="/tmp/storydesk-bench-spark")
    ap.add_argument(
        "--agree",
        metavar="MASTER",
        help="Instead: compare a Spark run on MASTER with one machine on the same input (clustering stages).",
    )
    ap.add_argument("--full", action="store_true", help="With --agree: every stage, not only the clustering ones.")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.child == "single":
        child_single(a.input, a.workdir)
        return
    if a.child and a.child.startswith("agree:"):
        child_agree(a.input, a.workdir, a.child.split(":", 1)[1], a.partitions, a.full)
        return
    if a.child:
        child_spark(a.input, a.workdir, a.child, a.partitions)
        return
    wd = Path(a.workdir)
    inp, n = sample_input(a.every, wd)
    print(f"input: {n} Timeline17 articles ({inp})", file=sys.stderr)
    results = []
    runs = [f"agree:{a.agree}"] if a.agree else a.runs.split(",")
    for r in runs:
        cmd = [sys.executable, __file__, "--child", r, "--input", str(inp), "--workdir", str(wd)]
        if a.partitions:
            cmd += ["--partitions", str(a.partitions)]
        if a.full:
            cmd += ["--full"]
        print(f"running {r} (load {loadavg()})", file=sys.stderr)
        res = run_child(cmd)
        res["rate"] = round(res["articles"] / res["seconds"], 2) if res.get("seconds") else None
        res["rate_per_cpu_s"] = round(res["articles"] / res["cpu_seconds"], 2) if res.get("cpu_seconds") else None
        results.append(res)
        print(
            f"{r}: {res['articles']} articles in {res['seconds']} s = {res['rate']} articles/s "
            f"({res['rate_per_cpu_s']} per CPU-second), "
            f"peak {res['peak_rss_mb']} MB, load {res['load_before']} -> {res['load_after']}",
            file=sys.stderr,
        )
    doc = {"input": str(inp), "articles": n, "nproc": os.cpu_count(), "results": results}
    (wd / ("agree.json" if a.agree else "spark.json")).write_text(json.dumps(doc, indent=2))
    print(json.dumps(doc, indent=2))


if __name__ == "__main__":
    main()
