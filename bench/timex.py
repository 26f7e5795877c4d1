"""Throughput benchmark of the temporal tagger (``storydesk.timex``).

Measures sentences per second on two kinds of text:

* ``tempeval3``: the 20 TempEval-3 platinum documents, each tagged whole with
  :func:`storydesk.timex.tag` (what ``storydesk eval dates`` scores), repeated until
  ``--seconds`` have passed;
* ``timeline17``: sentences of the first ``--articles`` non-empty Timeline17
  articles (2005-2013 news), each sentence tagged with
  :func:`storydesk.timex.tag_ranges` against its article's publication date, the
  way the timex stage calls it.

For each it reports wall-clock sentences/s and sentences per CPU-second of the
process (the latter is less disturbed by other jobs on a shared machine). With
``--processes 2`` the Timeline17 sentences are split over two worker processes
as well, for the two-core figure. The load average before the run is printed:
figures measured on a loaded machine are provisional.

Run: ``.venv/bin/python bench/timex.py`` (``--help`` for options); ``--json`` prints
the results as JSON.
"""

from __future__ import annotations

import argparse
import datetime as dt
import html
import json
import multiprocessing
import os
import platform
import re
import sys
import time
from pathlib import Path
from typing import Any

from storydesk.eval import dataset_path
from storydesk.textutil import split_sentences
from storydesk.timex import sentence_spans, tag, tag_ranges

_TEXT_RE = re.compile(r"<TEXT>(.*?)</TEXT>", re.S)
_DCT_RE = re.compile(r'functionInDocument="CREATION_TIME"[^>]*value="(\d{4}-\d{2}-\d{2})')

Job = list[tuple[str, dt.date | None]]


def tempeval_docs(root: Path) -> Job:
    """The platinum documents' texts with their creation dates."""
    docs: Job = []
    for path in sorted((root / "data" / "TE3-platinum-test").glob("*.tml.TE3input")):
        raw = path.read_text(encoding="utf-8")
        text = _TEXT_RE.search(raw)
        dct = _DCT_RE.search(raw)
        if text:
            docs.append((html.unescape(text.group(1)), dt.date.fromisoformat(dct.group(1)) if dct else None))
    return docs


def t17_sentences(root: Path, n_articles: int) -> Job:
    """Sentences of the first ``n_articles`` non-empty Timeline17 articles, with publication dates."""
    out: Job = []
    seen = 0
    with (root / "articles.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            a = json.loads(line)
            text = a.get("text") or ""
            if not text.strip() or not a.get("published"):
                continue
            day = dt.date.fromisoformat(a["published"][:10])
            out.extend((text[s.start : s.end], day) for s in split_sentences(text))
            seen += 1
            if seen == n_articles:
                break
    return out


def _tag_all(job: Job) -> tuple[float, float]:
    """Tag every sentence once; wall and CPU seconds."""
    w0, c0 = time.perf_counter(), time.process_time()
    for text, day in job:
        tag_ranges(text, day)
    return time.perf_counter() - w0, time.process_time() - c0


def bench_tempeval(docs: Job, seconds: float) -> dict[str, Any]:
    """Whole-document tagging of TempEval-3, repeated for at least ``seconds``."""
    n_sent = sum(len(sentence_spans(text)) for text, _ in docs)
    reps = 0
    w0, c0 = time.perf_counter(), time.process_time()
    while True:
        for text, dct in docs:
            tag(text, dct)
        reps += 1
        wall = time.perf_counter() - w0
        if wall >= seconds:
            break
    cpu = time.process_time() - c0
    return {
        "documents": len(docs),
        "sentences": n_sent,
        "repeats": reps,
        "sentences_per_s": n_sent * reps / wall,
        "sentences_per_cpu_s": n_sent * reps / cpu,
    }


def bench_t17(sents: Job, processes: int) -> dict[str, Any]:
    """Per-sentence tagging of Timeline17 sentences, in one or more processes."""
    chars = sum(len(t) for t, _ in sents)
    if processes <= 1:
        wall, cpu = _tag_all(sents)
        return {
            "processes": 1,
            "sentences": len(sents),
            "characters": chars,
            "seconds": wall,
            "sentences_per_s": len(sents) / wall,
            "sentences_per_cpu_s": len(sents) / cpu,
        }
    chunks = [sents[i::processes] for i in range(processes)]
    ctx = multiprocessing.get_context("fork")
    w0 = time.perf_counter()
    with ctx.Pool(processes) as pool:
        times = pool.map(_tag_all, chunks)
    wall = time.perf_counter() - w0
    cpu = sum(c for _w, c in times)
    return {
        "processes": processes,
        "sentences": len(sents),
        "characters": chars,
        "seconds": wall,
        "sentences_per_s": len(sents) / wall,
        "sentences_per_cpu_s": len(sents) / cpu,
    }


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its figures."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--articles", type=int, default=500, help="Timeline17 articles to read (default 500)")
    ap.add_argument("--seconds", type=float, default=3.0, help="minimum TempEval-3 timing (default 3 s)")
    ap.add_argument("--processes", type=int, default=1, help="worker processes for Timeline17 (default 1)")
    ap.add_argument("--json", action="store_true", help="print JSON instead of a table")
    args = ap.parse_args(argv)

    load_before = os.getloadavg()
    res: dict[str, Any] = {
        "machine": {
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "load_average_before": [round(x, 2) for x in load_before],
        }
    }
    # warm the grammar (compiled at import) and the caches before timing
    tag("The talks began on Friday, August 21, 2023.", dt.date(2023, 8, 22))
    res["tempeval3"] = bench_tempeval(tempeval_docs(dataset_path("tempeval3")), args.seconds)
    sents = t17_sentences(dataset_path("timeline17"), args.articles)
    res["timeline17"] = bench_t17(sents, 1)
    if args.processes > 1:
        res[f"timeline17_{args.processes}p"] = bench_t17(sents, args.processes)
    res["machine"]["load_average_after"] = [round(x, 2) for x in os.getloadavg()]

    if args.json:
        print(json.dumps(res, indent=2))
        return 0
    m = res["machine"]
    print(f"Python {m['python']}, {m['cpus']} CPUs, load average before {m['load_average_before']}")
    print(f"{'text':<34} {'sentences':>9} {'sent/s':>8} {'sent/CPU-s':>11}")
    for key, label in (("tempeval3", "TempEval-3 platinum, whole docs"), ("timeline17", "Timeline17, per sentence")):
        r = res[key]
        print(f"{label:<34} {r['sentences']:>9} {r['sentences_per_s']:>8.0f} {r['sentences_per_cpu_s']:>11.0f}")
    if args.processes > 1:
        r = res[f"timeline17_{args.processes}p"]
        label = f"Timeline17, {args.processes} processes"
        print(f"{label:<34} {r['sentences']:>9} {r['sentences_per_s']:>8.0f} {r['sentences_per_cpu_s']:>11.0f}")
    print(f"load average after {m['load_average_after']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
