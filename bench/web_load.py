"""Load benchmark of the web UI and REST API over a 10,000-article store.

Builds (once, then reuses) a store of 10,000 articles: the 9,198 NeuS title+lead
snippets (``../shared/datasets/neus``) with synthetic publication dates (one date per
gold event, ~3 events a day) and outlets, less a few held back for ``--live``, plus
perturbed syndicated copies to reach 10,000, built by the full pipeline (MiniLM by
default, so events group as they would in use; ``--embedder hashing`` for a quick
store of mostly one-article events). Then it starts ``storydesk serve`` in its own process and measures
requests/s and latency percentiles with a keep-alive HTTP client on threads:

* ``event page, cold``: every request a different event, so nothing is cached;
* ``event page, warm``: requests spread over 50 events, served from the page cache;
* ``story list``: the front page (newest first);
* ``search``: the front page with a full-text query;
* ``event JSON``: ``/api/v1/events/{id}``, every request a different event.

With ``--live`` it then POSTs held-back articles (each a third report of a stored
two-article event) to ``/api/v1/ingest``, one job after the other, and times until the
job is done and until that event's page lists it (a page open in a browser also waits
for its next poll). The first job includes loading the worker's models.

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
import sqlite3
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


#: NeuS articles kept out of the store, each one report of an event whose other reports are stored.
HOLDOUT = 10


def holdout_path(db: Path) -> Path:
    """Where the held-back articles of a benchmark store are written."""
    return db.with_suffix(".holdout.jsonl")


def make_corpus(target: int, out: Path, holdout: Path) -> int:
    """Write ``target`` articles as JSON Lines: NeuS snippets with dates and outlets, topped up with copies.

    ``HOLDOUT`` articles (the last report of as many events) go to ``holdout`` instead, with the
    ids of their stored siblings, for the live-update measurement.
    """
    rows = [json.loads(line) for line in NEUS.read_text(encoding="utf-8").splitlines() if line.strip()]
    rows = [r for r in rows if (r.get("text") or "").strip()]
    events = sorted({r["gold"]["event"] for r in rows})
    rng = random.Random(7)
    order = events[:]
    rng.shuffle(order)
    start = dt.date(2021, 1, 1)
    day_of = {e: start + dt.timedelta(days=i // 3) for i, e in enumerate(order)}  # about three stories a day
    members: dict[str, list[str]] = {}
    for r in rows:
        members.setdefault(r["gold"]["event"], []).append(r["id"])
    held_events = [e for e in order if len(members[e]) >= 3][:HOLDOUT]
    held_ids = {members[e][-1] for e in held_events}
    items, held = [], []
    for r in rows:
        h = int(hashlib.sha1(r["id"].encode()).hexdigest(), 16)
        d = day_of[r["gold"]["event"]] + dt.timedelta(days=h % 2)
        item = {
            "id": r["id"],
            "outlet": r.get("outlet") or OUTLETS[h % len(OUTLETS)],
            "title": r["title"],
            "published": d.isoformat(),
            "text": r["text"],
        }
        if r["id"] in held_ids:
            held.append({"article": item, "siblings": [m for m in members[r["gold"]["event"]] if m != r["id"]]})
        else:
            items.append(item)
    holdout.write_text("".join(json.dumps(h, ensure_ascii=False) + "\n" for h in held), encoding="utf-8")
    extra = []
    for n, base in enumerate(rng.sample(items, max(0, target - len(items)))):
        relay = RELAYS[n % len(RELAYS)]
        sentences = base["text"].split(". ")
        text = f"({relay}) " + ". ".join(sentences[:-1] if len(sentences) > 2 else sentences)
        extra.append({**base, "id": f"{base['id']}/copy", "outlet": relay, "text": text})
    items = (items + extra)[:target]
    out.write_text("".join(json.dumps(i, ensure_ascii=False) + "\n" for i in items), encoding="utf-8")
    return len(items)


def build_store(db: Path, target: int, embedder: str) -> dict[str, Any]:
    """Ingest and build the benchmark store (skipped when it already holds ``target`` articles)."""
    from storydesk.api import Storydesk
    from storydesk.config import Config

    with Storydesk(db, config=Config(embedder=embedder)) as sd:
        counts = sd.counts()
        summarised = any(p.finished for p in sd.stage_status() if p.phase == "event map")
        if counts.articles >= target and summarised:
            return {
                "reused": True,
                "articles": counts.articles,
                "events": counts.events,
                "embedder": sd.store.get_meta("embedder"),
            }
        corpus = db.with_suffix(".jsonl")
        n = make_corpus(target, corpus, holdout_path(db))
        t0 = time.perf_counter()
        rep = sd.ingest([corpus])
        t1 = time.perf_counter()
        stats = sd.build()
        t2 = time.perf_counter()
        return {
            "reused": False,
            "embedder": sd.store.get_meta("embedder"),
            "articles": sd.counts().articles,
            "written": n,
            "rejected": len(rep.rejected),
            "events": sd.counts().events,
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


LIVE_TOKEN = "bench-token"


def measure_live(port: int, db: Path) -> dict[str, Any]:
    """POST one held-back report of a stored event; time the job and until that event's page lists it."""
    from storydesk.api import Storydesk

    held = [json.loads(line) for line in holdout_path(db).read_text(encoding="utf-8").splitlines() if line]
    # Stored ids are content hashes; the JSON ``id`` an article came with is its ``source``.
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True) as con:
        stored = {src: aid for aid, src in con.execute("SELECT id, source FROM articles")}
    fresh = [h for h in held if h["article"]["id"] not in stored]
    if not fresh:
        return {"error": f"every held-back article in {holdout_path(db)} is stored already: rebuild the store"}
    pick = fresh[0]
    with Storydesk(db) as sd:
        expected = set(sd.events_of([stored[s] for s in pick["siblings"] if s in stored]))
    article = pick["article"]
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    t0 = time.perf_counter()
    conn.request(
        "POST", "/api/v1/ingest", body=json.dumps([article]).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {LIVE_TOKEN}"},
    )  # fmt: skip
    r = conn.getresponse()
    job = json.loads(r.read())
    t_accepted = time.perf_counter() - t0
    if r.status != 202:
        return {"error": job}
    url = job["url"]  # only the 202 answer carries it
    while job["status"] not in ("done", "failed"):
        time.sleep(0.1)
        conn.request("GET", url)
        job = json.loads(conn.getresponse().read())
    t_done = time.perf_counter() - t0
    landed = job.get("events") or []
    t_visible = None
    deadline = time.perf_counter() + 30
    while landed and time.perf_counter() < deadline:
        conn.request("GET", f"/event/{landed[0]}")
        if article["title"] in conn.getresponse().read().decode():
            t_visible = time.perf_counter() - t0
            break
        time.sleep(0.1)
    conn.close()
    return {
        "article": article["id"],
        "status": job["status"],
        "accepted_s": round(t_accepted, 3),
        "job_done_s": round(t_done, 2),
        "page_shows_it_s": round(t_visible, 2) if t_visible is not None else None,
        "joined_event_of_its_siblings": bool(landed) and landed[0] in expected,
        "build_seconds": {k: v.get("seconds") for k, v in (job.get("build") or {}).items()},
        "error": job.get("error"),
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--db", type=Path, help="store to build or reuse (default /tmp/storydesk-bench/web10k-EMBEDDER.db)")
    ap.add_argument("--embedder", default="minilm", choices=["minilm", "hashing"], help="embedder of a new store")
    ap.add_argument("--articles", type=int, default=10_000)
    ap.add_argument("--requests", type=int, default=1000, help="requests per scenario")
    ap.add_argument("--concurrency", type=int, default=8)
    ap.add_argument(
        "--live",
        action="store_true",
        help="also ingest one held-back article over the API and time until its event page shows it (stores it)",
    )
    ap.add_argument("--no-load", action="store_true", help="skip the request scenarios")
    args = ap.parse_args()
    args.db = args.db or Path(f"/tmp/storydesk-bench/web10k-{args.embedder}.db")
    if not NEUS.exists():
        sys.exit(f"{NEUS} not found: the benchmark corpus is built from ../shared/datasets/neus")
    args.db.parent.mkdir(parents=True, exist_ok=True)
    print(f"store: {args.db}", flush=True)
    built = build_store(args.db, args.articles, args.embedder)
    print(f"store ready: {json.dumps(built)}", flush=True)

    from storydesk.api import Storydesk

    with Storydesk(args.db) as sd:
        rows = sd.event_rows()
    rng = random.Random(1)
    ids = [r["id"] for r in rows]
    rng.shuffle(ids)
    size = {r["id"]: r["articles"] for r in rows}
    # Pages people open are mostly multi-outlet events: draw the requests from those when there are enough.
    multi = [i for i in ids if size[i] >= 2]
    pool = multi if len(multi) >= 2 * args.requests else ids
    words = ["president", "court", "vaccine", "election", "climate", "police", "senate", "border"]

    port = free_port()
    cmd = [str(Path(sys.executable).parent / "storydesk"), "serve", "--db", str(args.db), "--port", str(port)]
    env = {**os.environ, "STORYDESK_TOKEN": LIVE_TOKEN}
    server = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
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
        cold = pool[:n] if len(pool) >= n else (pool * (n // len(pool) + 1))[:n]
        api_ids = pool[-n:] if len(pool) >= 2 * n else cold  # other events than the cold page run (cache-free)
        warm_set = multi[:50] or ids[:50]
        print(
            f"events: {len(rows)}; requested events have {statistics.mean(size[i] for i in cold):.1f} articles "
            f"on average (store median {sorted(size.values())[len(size) // 2]}, max {max(size.values())})",
            flush=True,
        )
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
        results: dict[str, Any] = {}
        if args.no_load:
            scenarios = {}
        else:
            run_load(port, [f"/event/{e}" for e in warm_set], 2)  # an untimed pass caches the warm set
        for name, paths in scenarios.items():
            res = run_load(port, paths, args.concurrency)
            results[name] = res
            print(
                f"{name:<55} {res['requests']:>5} req  {res['rps']:>7.1f} req/s  p50 {res['p50_ms']:>7.1f} ms  "
                f"p95 {res['p95_ms']:>7.1f} ms  p99 {res['p99_ms']:>7.1f} ms  errors {res['errors']}  "
                f"{res['mean_kb']} KB",
                flush=True,
            )
        if args.live:
            # The first job also loads the worker's models; the second shows the steady state.
            for name in ("live update (first job: loads models)", "live update (next job)"):
                live = measure_live(port, args.db)
                results[name] = live
                print(f"{name}: {json.dumps(live)}", flush=True)
    finally:
        server.terminate()
        server.wait(30)
    sizes = sorted(r["articles"] for r in rows)
    report = {
        "store": built,
        "events": len(rows),
        "articles_per_event": {"median": sizes[len(sizes) // 2], "max": sizes[-1], "multi": len(multi)},
        "requested_event_articles_mean": round(statistics.mean(size[i] for i in cold), 2) if not args.no_load else None,
        "concurrency": args.concurrency,
        "machine": f"{os.cpu_count()} cores, Python {sys.version.split()[0]}",
        "results": results,
    }
    out = args.db.with_suffix(".results.json")
    out.write_text(json.dumps(report, indent=2), encoding="utf-8")
    print(f"results: {out}")


if __name__ == "__main__":
    main()
