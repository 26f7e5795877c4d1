"""The bundled demo corpus (fictional) against its answer key: events, storylines, near-duplicates."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from storydesk import artifacts as A
from storydesk.api import Storydesk
from storydesk.eval.cluster import cluster_stages

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from conftest import DEMO, DEMO_ANSWERS

    answers = json.loads(DEMO_ANSWERS.read_text(encoding="utf-8"))
    db = tmp_path_factory.mktemp("demo") / "demo.db"
    with Storydesk(db, stages=cluster_stages()) as sd:
        rep = sd.ingest([DEMO])
        assert rep.ok
        sd.build()
        key = {}
        for a in sd.store.articles():
            name = a.source if a.source in answers["articles"] else Path(a.source).name
            assert name in answers["articles"], a.source
            key[a.id] = name
        dups = {k: d["duplicate_of"] for k, d in sd.store.get(A.DUPLICATE, sd.store.article_ids()).items()}
        yield answers, key, sd.store.events(), sd.store.storylines(), dups


def test_events_match_the_answer_key(demo):
    answers, key, events, _sl, _d = demo
    got = {frozenset(key[a] for a in e.articles) for e in events}
    want = {frozenset(v["articles"]) for v in answers["events"].values()}
    assert got == want


def test_storylines_match_the_answer_key(demo):
    answers, key, events, storylines, _d = demo
    by_id = {e.id: e for e in events}
    got = {frozenset(key[a] for eid in sl.events for a in by_id[eid].articles) for sl in storylines}
    want = {
        frozenset(a for ev in sl["events"] for a in answers["events"][ev]["articles"])
        for sl in answers["storylines"].values()
    }
    assert got == want


def test_near_duplicates_match_the_answer_key(demo):
    answers, key, _e, _sl, dups = demo
    got = {key[a]: (key[o] if o else None) for a, o in dups.items()}
    want = {k: v["duplicate_of"] for k, v in answers["articles"].items()}
    assert got == want
