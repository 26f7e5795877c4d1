"""storydesk on Spark: the corpus step cut into groups, and the Spark job against one machine.

The first tests need no Spark: they check that the pieces the job runs per group
(LSH bands, a near-duplicate component, an event block, stitching) give what the
single-machine indexes give. The ``spark`` tests run ``local[2]`` sessions and
skip cleanly when pyspark is not installed (the ``[spark]`` extra).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from conftest import DEMO, ROOT, write
from storydesk import artifacts as A
from storydesk.config import Config
from storydesk.corpus.dedup import DedupIndex
from storydesk.corpus.events import EventIndex, make_signals
from storydesk.models import Article, ArticleSignals, to_dict
from storydesk.spark import corpus as C

HAVE_SPARK = all(__import__("importlib").util.find_spec(m) is not None for m in ("pyspark", "pyarrow", "pandas"))
needs_spark = pytest.mark.skipif(not HAVE_SPARK, reason="pyspark, pyarrow and pandas ([spark] extra) not installed")


# --------------------------------------------------------------------------- pieces (no Spark)


def _sig(rng: np.random.Generator, base: np.ndarray | None = None, keep: float = 1.0) -> np.ndarray:
    fresh = rng.integers(0, 2**32 - 1, 128, dtype=np.uint64).astype(np.uint32)
    if base is None:
        return fresh
    mask = rng.random(128) < keep
    return np.where(mask, base, fresh).astype(np.uint32)


def test_bands_are_datasketch_bands():
    """Two signatures share a band key exactly when datasketch's index makes them candidates."""
    from datasketch import LeanMinHash, MinHashLSH

    from storydesk.article.signature import NUM_PERM, SCHEME, SEED
    from storydesk.corpus.dedup import LSH_THRESHOLD

    b, r = C.lsh_bands(0.6, NUM_PERM)
    rng = np.random.default_rng(1)
    base = _sig(rng)
    sigs = [base] + [_sig(rng, base, keep) for keep in np.linspace(0.2, 0.95, 40)]
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    for i, s in enumerate(sigs[1:], 1):
        lsh.insert(str(i), LeanMinHash(seed=SEED, hashvalues=s.astype(np.uint64), scheme=SCHEME))
    found = set(lsh.query(LeanMinHash(seed=SEED, hashvalues=base.astype(np.uint64), scheme=SCHEME)))
    keys = C.band_keys(base, b, r)
    mine = {str(i) for i, s in enumerate(sigs[1:], 1) if set(C.band_keys(s, b, r)) & set(keys)}
    assert mine == found and 0 < len(found) < 40


def test_bucket_edges_verify_and_cap():
    rng = np.random.default_rng(2)
    base = _sig(rng)
    members = [(1, base), (2, base.copy()), (3, _sig(rng))]
    assert C.bucket_edges(members, 0.6, cap=10) == [(1, 2)]
    assert C.bucket_edges(members, 0.6, cap=2) == [(1, 2), (1, 3)]  # a big bucket is a star


def test_components_are_order_free():
    edges = [(5, 3), (3, 9), (1, 2), (7, 7)]
    got = C.components(edges)
    assert got == C.components(reversed(edges))
    assert got[9] == got[5] == 3 and got[2] == 1 and got[7] == 7


def _article(i: int, day: dt.date | None, outlet: str = "Wire", text: str = "") -> Article:
    return Article(id=f"a{i:03d}", source=f"s{i}", text=text or f"text {i}", outlet=outlet, published=day)


def test_dedup_component_replays_the_single_machine_index():
    rng = np.random.default_rng(3)
    base, other = _sig(rng), _sig(rng)
    day = dt.date(2024, 3, 1)
    arts = [_article(i, day + dt.timedelta(days=i % 3)) for i in range(8)]
    sigs = [_sig(rng, base if i % 2 else other, 0.9) for i in range(8)]
    ref = DedupIndex(0.6)
    by = {a.id: a for a in arts}
    for a, s in zip(arts, sigs, strict=True):
        ref.add(a, s, by.__getitem__)
    rows = [
        {"id": a.id, "order": i, "record": json.dumps(to_dict(a)), "signature": s.astype("<u4").tobytes()}
        for i, (a, s) in enumerate(zip(arts, sigs, strict=True))
    ]
    random.Random(0).shuffle(rows)
    got = {r["id"]: json.loads(r["decision"]) for r in C.dedup_component(rows, 0.6)}
    assert got == ref.decisions
    assert sum(d["duplicate_of"] is not None for d in got.values()) >= 4


def _event_rows(n: int, seed: int = 4) -> list[dict]:
    """Articles on a few topics over two months: vectors near a topic centre, shared names."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(5, 32))
    rows = []
    for i in range(n):
        t = i % 5
        v = centres[t] + 0.3 * rng.normal(size=32)
        v = (v / np.linalg.norm(v)).astype(np.float32)
        sig = ArticleSignals(names={f"name{t}": 2, f"x{i}": 1}, words={f"w{t}": 3, f"w{i % 7}": 1})
        day = dt.date(2024, 1, 1) + dt.timedelta(days=int(i * 60 / n))
        rows.append(
            {
                "id": f"a{i:03d}",
                "order": i,
                "day": day.toordinal(),
                "vector": A.LEAD_VECTOR.codec.encode(v),
                "signals": A.SIGNALS.codec.encode(sig),
                "original": None,
            }
        )
    return rows


def test_one_block_is_the_single_machine_index():
    cfg = Config()
    rows = _event_rows(60)
    ref = EventIndex(32, cfg)
    for r in rows:
        sv = A.SIGNALS.codec.decode(r["signals"])
        ref.assign(make_signals(r["id"], dt.date.fromordinal(r["day"]), A.LEAD_VECTOR.codec.decode(r["vector"]), sv))
    got = C.run_block(list(reversed(rows)), cfg, 32)
    assert {g["id"]: g["event"] for g in got} == ref.assigned
    # states rebuilt from the members' contributions are the index's own
    by_event: dict[str, list[dict]] = {}
    contrib = {g["id"]: g for g in got}
    for r in rows:
        by_event.setdefault(ref.assigned[r["id"]], []).append({**r, **contrib[r["id"]]})
    for eid, members in by_event.items():
        st, vsum = C.event_state(eid, members)
        assert st.as_dict() == ref.state(eid).as_dict()
        assert np.array_equal(vsum, ref.vector_sum(eid))


def test_idf_prior_weighs_bags_as_the_whole_stream_does():
    """A block seeded with the earlier events' bags weighs an article's terms as one machine does by then."""
    cfg = Config()
    rows = _event_rows(80, seed=6)
    ref = EventIndex(32, cfg)
    for r in rows:
        ref.assign(C.signals_of(r))
    states = [ref.state(e) for e in dict.fromkeys(ref.assigned.values())]
    prior = {
        "live": len(states),
        "names": dict(Counter(t for st in states for t in st.names)),
        "words": dict(Counter(t for st in states for t in st.words)),
    }
    block = C.RecordingIndex(32, cfg, prior)
    sig = C.signals_of(rows[-1])
    (bn, bw), (rn, rw) = block.bags(sig), ref.bags(sig)
    assert block.names.unit(bn) == ref.names.unit(rn) and block.words.unit(bw) == ref.words.unit(rw)
    plain = C.RecordingIndex(32, cfg)
    assert plain.words.unit(plain.bags(sig)[1]) != ref.words.unit(rw)  # without it, other weights


def test_lead_in_blocks():
    assert C.block_of(None, 28) == -1
    assert C.lead_in_blocks(27, 28, 14) == [1]
    assert C.lead_in_blocks(13, 28, 14) == []
    assert C.lead_in_blocks(55, 28, 40) == [2, 3]


def test_stitching_follows_the_majority_then_the_earliest():
    rows = [
        {"node": "2/e", "owner": "1/x", "order": 5},
        {"node": "2/e", "owner": "1/y", "order": 3},
        {"node": "2/e", "owner": "1/x", "order": 7},
    ]
    assert C.stitch_edges(rows) == [("2/e", "1/x")]
    assert C.stitch_edges(rows[:2]) == [("2/e", "1/y")]


# --------------------------------------------------------------------------- on Spark


@pytest.fixture(scope="module")
def spark():
    if not HAVE_SPARK:
        pytest.skip("pyspark, pyarrow and pandas ([spark] extra) not installed")
    from storydesk.spark.job import session

    s = session("local[2]", 2, app="storydesk-tests", **{"spark.ui.enabled": "false"})
    yield s
    s.stop()


@pytest.mark.spark
@needs_spark
def test_large_star_small_star_matches_union_find(spark):
    from storydesk.spark.graph import connected_components

    rng = random.Random(5)
    edges = [(rng.randrange(200), rng.randrange(200)) for _ in range(150)]
    df = spark.createDataFrame(edges, "a long, b long")
    ref = C.components(edges)
    ref = {k: v for k, v in ref.items() if any(k in e and e[0] != e[1] for e in edges)}
    for limit in (10**6, 0):  # on the driver, then with DataFrames
        got = {r.node: r.root for r in connected_components(df, driver_limit=limit).collect()}
        assert got == ref


@pytest.mark.spark
@pytest.mark.model
@needs_spark
def test_demo_on_spark_is_the_single_machine_run(spark, tmp_path: Path):
    """The demo corpus through local[2]: the same article rows, events, storylines and event outputs."""
    from storydesk.api import Storydesk
    from storydesk.eval.agreement import compare
    from storydesk.spark.job import Job, Options
    from storydesk.spark.load import load
    from storydesk.store import open_store

    with Storydesk(tmp_path / "single.db", workers=1) as sd:
        sd.ingest([DEMO])
        sd.build()
    out = tmp_path / "out"
    report = Job(spark, out, options=Options(partitions=3, block_days=7)).run_paths([DEMO])
    assert report.articles == 31 and report.events >= 5
    load(out, tmp_path / "spark.db")
    single, other = open_store(tmp_path / "single.db"), open_store(tmp_path / "spark.db")
    got = compare(single, other)
    assert all(same == total for same, total in got["article_rows"].values()), got["article_rows"]
    assert got["events"]["f1"] == 1.0 and got["storylines"]["f1"] == 1.0
    assert got["same_events"][0] == got["same_events"][1]
    assert all(same == total for same, total in got["event_rows"].values()), got["event_rows"]
    assert all(same == total for same, total in got["storyline_rows"].values())
    # the loaded store is up to date for the single-machine pipeline
    with Storydesk(other, workers=1) as sd:
        stats = sd.build()
    assert all(s["processed"] == 0 for s in stats.values()), stats
    import pyarrow.parquet as pq

    for table in ("articles", "sentences", "events", "storylines", "quotes", "claims", "summaries", "artifacts"):
        assert pq.read_table(out / table).num_rows > 0, table


@pytest.mark.spark
@pytest.mark.model
@needs_spark
def test_cli_run_and_load_with_rejections(tmp_path: Path):
    """`storydesk spark run` reads files on executors (rejections included); `storydesk load` stores it all."""
    day = "2024-03-0{}"
    records = [
        {
            "id": str(i),
            "outlet": "Wire",
            "published": day.format(1 + i % 3),
            "title": f"Port strike day {i}",
            "text": f"Dockworkers in Sabrel stayed out for day {i} of the strike. " * 3,
        }
        for i in range(6)
    ]
    write(tmp_path / "in" / "a.jsonl", "\n".join(json.dumps(r) for r in records) + "\n{broken\n")
    write(tmp_path / "in" / "b.txt", "date 2024-03-02\nPort talks resume\n\nNegotiators met in Sabrel on Monday.")
    write(tmp_path / "in" / "c.bin", b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    pq = pytest.importorskip("pyarrow.parquet")
    import pyarrow as pa

    pq.write_table(
        pa.Table.from_pylist(
            [
                {
                    "id": "p1",
                    "outlet": "Daily",
                    "published": dt.date(2024, 3, 3),
                    "title": "Strike ends",
                    "text": "The strike in Sabrel ended on Sunday.",
                }
            ]
        ),
        tmp_path / "in" / "d.parquet",
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + os.environ.get("PYTHONPATH", "")}
    cmd = [sys.executable, "-m", "storydesk.cli"]
    out, db = tmp_path / "out", tmp_path / "s.db"
    run = subprocess.run(
        [
            *cmd,
            "spark",
            "run",
            str(tmp_path / "in"),
            "--out",
            str(out),
            "--master",
            "local[2]",
            "--partitions",
            "2",
            "--embedder",
            "hashing",
            "-q",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    meta = json.loads((out / "_storydesk.json").read_text())
    assert meta["report"]["articles"] == 8 and meta["report"]["rejections"] == 2
    load = subprocess.run([*cmd, "load", str(out), "--db", str(db)], env=env, capture_output=True, text=True)
    assert load.returncode == 0, load.stderr
    from storydesk.store import open_store

    with open_store(db) as store:
        assert store.article_count() == 8
        assert {r.code for r in store.rejections()} == {"json", "binary"}
        assert sum(len(e.articles) for e in store.events()) == 8
        assert store.get_article(store.article_ids()[0]).published == dt.date(2024, 3, 1)
        assert any(a.format == "parquet" for a in store.articles())
    again = subprocess.run([*cmd, "load", str(out), "--db", str(db)], env=env, capture_output=True, text=True)
    assert again.returncode == 1 and "empty store" in again.stderr


def test_spark_is_optional():
    """Without the extra the package imports and says what is missing."""
    from storydesk import spark

    assert spark.available() == HAVE_SPARK
    with pytest.raises(Exception, match="no storydesk Spark output"):
        spark.read_meta(ROOT)
