"""Writers never collide: an ingest while a build runs, and a build killed mid-way, lose nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from storydesk.api import Storydesk
from storydesk.embed import HashingEmbedder

pytestmark = pytest.mark.model

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "examples" / "demo"

BUILD = """
import sys
from storydesk.api import Storydesk
from storydesk.embed import HashingEmbedder
with Storydesk(sys.argv[1], embedder=HashingEmbedder(256), workers=1) as sd:
    print("building", flush=True)
    sd.build()
print("built", flush=True)
"""


def _late(path: Path, n: int) -> Path:
    """JSON Lines of ``n`` small fictional articles."""
    rows = [
        {
            "id": f"late-{i}",
            "outlet": "Harbor Ledger",
            "title": f"Ferry timetable change {i}",
            "published": "2024-03-20",
            "text": f"The Skerrow ferry will leave at {i} o'clock from Monday, the harbour office said.",
        }
        for i in range(n)
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


def _start_build(db: Path) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    proc = subprocess.Popen(
        [sys.executable, "-c", BUILD, str(db)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )
    assert proc.stdout is not None and proc.stdout.readline().strip() == "building"
    return proc


def test_an_ingest_while_a_build_runs_waits_and_loses_nothing(tmp_path):
    db = tmp_path / "c.db"
    with Storydesk(db, embedder=HashingEmbedder(256)) as sd:
        assert sd.ingest([DEMO]).ok
    proc = _start_build(db)
    time.sleep(1.0)  # the build is under way: the article map writes in short batches
    with Storydesk(db, embedder=HashingEmbedder(256)) as other:
        rep = other.ingest([_late(tmp_path / "late.jsonl", 20)])
        assert len(rep.added) == 20 and not rep.rejected
    _out, err = proc.communicate(timeout=600)
    assert proc.returncode == 0, err[-2000:]
    with Storydesk(db, embedder=HashingEmbedder(256), workers=1) as sd:
        sd.build()  # the late articles were queued by their ingest: this build takes them in
        counts = sd.counts()
        assert counts.articles == 51
        placed = sd.store.events_of(sd.store.article_ids())
        assert len(placed) == 51  # every article, early or late, is in an event


def test_a_build_killed_mid_way_keeps_its_work_and_a_rerun_completes(tmp_path):
    db = tmp_path / "k.db"
    with Storydesk(db, embedder=HashingEmbedder(256)) as sd:
        assert sd.ingest([DEMO]).ok
    proc = _start_build(db)
    time.sleep(2.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=60)
    with Storydesk(db, embedder=HashingEmbedder(256), workers=1) as sd:
        sd.build()
        first = json.dumps(sd.story()["events"], sort_keys=True)
        assert all(p["processed"] == 0 for p in sd.build().values())
    ref = tmp_path / "ref.db"
    with Storydesk(ref, embedder=HashingEmbedder(256), workers=1) as sd:
        sd.ingest([DEMO])
        sd.build()
        assert json.dumps(sd.story()["events"], sort_keys=True) == first  # as if never interrupted
