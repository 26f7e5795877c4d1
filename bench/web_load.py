"""Load benchmark of the web UI and REST API over a 10,000-article store.

Builds (once, then reuses) a store of 10,000 articles: the 9,198 NeuS title+lead
snippets (``../shared/datasets/neus``) with synthetic publication dates (one date per
gold event, ~3 events a day) and outlets, plus perturbed syndicated copies to reach
10,000, built by the full pipeline with the hashing embedder. Then it starts
``storydesk serve`` in its own process and measures requests/s and latency
percentiles with a keep-alive HTTP client on threads:

* ``event page, cold``: every request a different event, so nothing is cached;
* ``event page, warm``: requests spread over 50 events, served from the page cache;
* ``story list``: the front page (newest first);
* ``search``: the front page with a full-text query;
* ``event JSON``: ``/api/v1/events/{id}``, every request a different event.

Run: ``.venv/bin/python bench/web_load.py`` (``--help`` for options). Results are
printed as a table and written as JSON next to the database.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import http.client
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
NEUS = Path(os.environ.get("STORYDESK_DATASETS", ROOT.parent / "shared" / "datasets")) / "neus" / "articles.jsonl"
OUTLETS = [
    "Lorven Post", "Harbor Ledger", "Northfold Wire", "Greyport Gazette", "Palisade News", "Stonebridge Observer",
    "Sextant Press", "Globe & Anchor", "Meridian Daily", "Calder Times", "Eastgate Herald", "Westmere Review",
]  # fmt: skip
RELAYS = ["Relay Wire", "Syndicate Service"]


def make_corpus(target: int, out: Path) -> int:
    """Write ``target`` articles as JSON Lines: NeuS snippets with dates and outlets, topped up with copies."""
    rows = [json.loads(line) for line in NEUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if (r.get("text") or "").strip()]
    events = sorted({r["gold"]["event"] for r in rows})
    rng = random.Random(7)
    order = events[:]
    rng.shuffle(order)
    start = dt.date(2021, 1, 1)
    day_of = {e: start + dt.timedelta(days=i // 3) for i, e in enumerate(order)}  # about three stories a day
    items = []
    for r in rows:
        h = int(hashlib.sha1(r["id"].encode()).hexdigest(), 16)
        d = day_of[r["gold"]["event"]] + dt.timedelta(days=h % 2)
        items.append(
            {
                "id": r["id"],
                "outlet": r.get("outlet") or OUTLETS[h % len(OUTLETS)],
                "title": r["title"],
                "published": d.isoformat(),
                "text": r["text"],
            }
        )
    extra = []
    for n, base in enumerate(rng.sample(items, max(0, target - len(items)))):
        relay = RELAYS[n % len(RELAYS)]
        sentences = base["text"].split(". ")
        text = f"({relay}) " + ". ".join(sentences[:-1] if len(sentences) > 2 else sentences)
        extra.append({**base, "id": f"{base['id']}/copy", "outlet": relay, "text": text})
    items = (items + extra)[:target]
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(items)


def build_store(db: Path, target: int) -> dict[str, Any]:
    """Ingest and build the benchmark store (skipped when it already holds ``target`` articles)."""
    from storydesk.api import Storydesk
    from storydesk.config import Config

    with Storydesk(db, config=Config(embedder="hashing")) as sd:
        have = sd.store.article_count()
        if have >= target and sd.store.stage_runs().get("summarize"):
            return {"reused": True, "articles": have, "events": len(sd.store.events())}
        corpus = db.with_suffix(".jsonl")
        n = make_corpus(target, corpus)
        t0 = time.perf_counter()
        rep = sd.ingest([corpus])
        t1 = time.perf_counter()
        stats = sd.build()
        t2 = time.perf_counter()
        return {
            "reused": False,
            "articles": sd.store.article_count(),
            "written": n,
            "rejected": len(rep.rejected),
            "events": len(sd.store.events()),
            "ingest_s": round(t1 - t0, 1),
            "build_s": round(t2 - t1, 1),
            "stages_s": {k: v.get("seconds") for k, v in stats.items()},
        }


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def get(conn: http.client.HTTPConnection, path: str) -> tuple[int, int]:
    """GET a path on a keep-alive connection; returns (status, body bytes)."""
    conn.request("GET", path, headers={"Accept": "text/html,application/json"})
    r = conn.getresponse()
    body = r.read()
    return r.status, len(body)


def run_load(port: int, paths: list[str], concurrency: int) -> dict[str, Any]:
    """Fetch every path once, ``concurrency`` requests in flight; latency percentiles and throughput."""
    lat: list[float] = []
    errors: list[str] = []
    sizes: list[int] = []
    lock = threading.Lock()
    it = iter(paths)

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        while True:
            with lock:
                path = next(it, None)
            if path is None:
                break
            t0 = time.perf_counter()
            try:
                status, size = get(conn, path)
            except (OSError, http.client.HTTPException) as e:
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
                with lock:
                    errors.append(f"{path}: {e}")
                continue
            dt_ms = (time.perf_counter() - t0) * 1000
            with lock:
                lat.append(dt_ms)
                sizes.append(size)
                if status != 200:
                    errors.append(f"{path}: HTTP {status}")
        conn.close()

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - t0
    lat.sort()

    def pct(p: float) -> float:
        return round(lat[min(len(lat) - 1, round(p / 100 * (len(lat) - 1)))], 1) if lat else float("nan")

    return {
        "requests": len(lat),
        "errors": len(errors),
        "error_examples": errors[:3],
        "rps": round(len(lat) / wall, 1) if wall else 0.0,
        "p50_ms": pct(50),
        "p95_ms": pct(95),
        "p99_ms": pct(99),
        "max_ms": round(lat[-1], 1) if lat else float("nan"),
        "mean_kb": round(statistics.mean(sizes) / 1024, 1) if sizes else 0,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, default=Path("/tmp/storydesk-bench/web10k.db"), help="store to build or reuse")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=1000, help="requests per scenario")
    ap.add_argument("--concurrency", type=int, default=8)
    args = ap.parse_args()
    if not NEUS.exists():
        sys.exit(f"{NEUS} not found: the benchmark corpus is built from ../shared/datasets/neus")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    print(f"store: {args.db}", flush=True)
    built = build_store(args.db, args.articles)
    print(f"store ready: {json.dumps(built)}", flush=True)

    from storydesk.api import Storydesk

    with Storydesk(args.db) as sd:
        rows = sd.store.event_overview()
    rng = random.Random(1)
    ids = [r["id"] for r in rows]
    rng.shuffle(ids)
    multi = [r["id"] for r in rows if r["articles"] >= 2]
    words = ["president", "court", "vaccine", "election", "climate", "police", "senate", "border"]

    port = free_port()
    cmd = [str(Path(sys.executable).parent / "storydesk"), "serve", "--db", str(args.db), "--port", str(port)]
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env={**os.environ})
    try:
        deadline = time.time() + 60
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                if get(c, "/api/v1/health")[0] == 200:
                    break
            except OSError:
                pass
            if time.time() > deadline or server.poll() is not None:
                sys.exit("server did not start: " + (server.stderr.read().decode() if server.stderr else ""))
            time.sleep(0.3)
        n = args.requests
        cold = ids[:n] if len(ids) >= n else (ids * (n // len(ids) + 1))[:n]
        api_ids = ids[-n:] if len(ids) >= 2 * n else cold  # different events from the cold page run (cache-free)
        warm_set = multi[:50] or ids[:50]
        scenarios = {
            "event page, cold (every request a different event)": [f"/event/{e}" for e in cold],
            "event page, warm (50 events, page cache)": [warm_set[i % len(warm_set)] for i in range(n)],
            "story list (newest first)": ["/" for _ in range(max(1, n // 5))],
            "search (front page, full-text query)": [f"/?q={words[i % len(words)]}" for i in range(max(1, n // 5))],
            "event JSON (API, every request a different event)": [f"/api/v1/events/{e}" for e in api_ids],
        }
        scenarios["event page, warm (50 events, page cache)"] = [
            f"/event/{e}" for e in scenarios["event page, warm (50 events, page cache)"]
        ]
        # one untimed pass over the warm set so its pages are cached
        run_load(port, [f"/event/{e}" for e in warm_set], 2)
        results = {}
        for name, paths in scenarios.items():
            res = run_load(port, paths, args.concurrency)
            results[name] = res
            print(
                f"{name:<55} {res['requests']:>5} req  {res['rps']:>7.1f} req/s  p50 {res['p50_ms']:>7.1f} ms  "
                f"p95 {res['p95_ms']:>7.1f} ms  p99 {res['p99_ms']:>7.1f} ms  errors {res['errors']}  "
                f"{res['mean_kb']} KB",
                flush=True,
            )
    finally:
        server.terminate()
        server.wait(30)
    sizes = sorted(r["articles"] for r in rows)
    report = {
        "store": built,
        "events": len(rows),
        "articles_per_event": {"median": sizes[len(sizes) // 2], "max": sizes[-1]},
        "concurrency": args.concurrency,
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "results": results,
    }
    out = args.db.with_suffix(".results.json")
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
