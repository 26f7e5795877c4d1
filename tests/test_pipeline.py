"""The pipeline: stage declarations checked when built, staleness by fingerprints, any number of workers."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
from pathlib import Path

import pytest

from storydesk import artifacts as A
from storydesk.api import Storydesk
from storydesk.article.analyze import ARTICLE_STAGES, AttributionsStage
from storydesk.artifacts import Artifact
from storydesk.errors import MissingInputError, PipelineError
from storydesk.pipeline import Pipeline, check_order, default_stages

X = Artifact("x", "article", int, A.PLAIN, "test")
Y = Artifact("y", "article", int, A.PLAIN, "test")


class Fake:
    scope = "article"
    version = "1"

    def __init__(self, name: str, requires: tuple[Artifact, ...], assigns: tuple[Artifact, ...]) -> None:
        self.name, self.requires, self.assigns = name, requires, assigns


def test_default_pipeline_is_consistent():
    check_order(default_stages())
    names = Pipeline().names
    assert names.index("parse") < names.index("dedup") < names.index("quotes") < names.index("storyline_timeline")


def test_missing_requirement_is_refused_when_built():
    with pytest.raises(MissingInputError, match=r"requires x"):
        Pipeline([Fake("a", (A.ARTICLE,), (Y,)), Fake("b", (X,), (Y,))])


def test_duplicate_stage_names_and_phase_order_refused():
    with pytest.raises(PipelineError, match="twice"):
        Pipeline([Fake("a", (), (X,)), Fake("a", (), (Y,))])
    stages = default_stages()
    event_stage, article_stage = stages[-2], stages[0]
    with pytest.raises(PipelineError, match="later phase"):
        check_order([event_stage, article_stage], A.ALL.values())


def test_every_stage_declares_what_the_store_keeps():
    for st in default_stages():
        assert st.assigns, st.name
        for a in (*st.requires, *st.assigns):
            assert A.ALL[a.name] is a
    stored = {a.name for st in ARTICLE_STAGES for a in st.assigns if a.stored}
    assert stored == {
        *("mentions", "timexes", "facts", "attributions", "provenance", "signature", "lead_vector", "signals")
    }


def test_unknown_stage_is_a_clear_error(tmp_path, fake_embedder):
    with Storydesk(tmp_path / "p.db", embedder=fake_embedder) as sd, pytest.raises(PipelineError, match="unknown"):
        sd.build(["nope"])


def test_partial_run_needs_stored_inputs(tmp_path, fake_embedder):
    with Storydesk(tmp_path / "p.db", embedder=fake_embedder) as sd, pytest.raises(MissingInputError):
        sd.build(["summarize"])  # nothing has made the claims yet


# --------------------------------------------------------------------------- end to end (spaCy)

DEMO = Path(__file__).resolve().parents[1] / "examples" / "demo"


def _story(sd: Storydesk) -> dict:
    doc = sd.story()
    doc["storydesk"].pop("generated")
    return doc


@pytest.mark.model
def test_results_do_not_depend_on_the_number_of_workers(tmp_path, fake_embedder):
    docs = []
    for n in (1, 2):
        with Storydesk(tmp_path / f"w{n}.db", embedder=fake_embedder, workers=n) as sd:
            sd.runner.min_tasks_per_worker = 0  # use the pool even for a small corpus
            sd.ingest([DEMO])
            sd.build()
            docs.append(json.dumps(_story(sd), sort_keys=True))
    assert docs[0] == docs[1]


@pytest.fixture
def built(tmp_path, fake_embedder):
    sd = Storydesk(tmp_path / "s.db", embedder=fake_embedder, workers=1)
    sd.ingest([DEMO])
    sd.build()
    yield sd
    sd.close()


def _stamps(sd: Storydesk, artifact: Artifact) -> dict:
    return sd.store.stamps(artifact.name)


@pytest.mark.model
def test_a_second_build_does_nothing(built):
    stats = built.build()
    assert all(p["processed"] == 0 for p in stats.values()), stats


class LoudAttributions(AttributionsStage):
    """A new version of the attributions stage: same quotes, speakers marked."""

    version = "attributions-loud"

    def compute(self, v, models):
        out = super().compute(v, models)
        out["attributions"] = tuple(
            dataclasses.replace(a, speaker=f"{a.speaker} (loud)" if a.speaker else None) for a in out["attributions"]
        )
        return out


@pytest.mark.model
def test_rerunning_attributions_refreshes_every_output_that_reads_them(built, fake_embedder):
    sd = built
    watched = (A.MENTIONS, A.ATTRIBUTIONS, A.PROVENANCE, A.QUOTES, A.CLAIMS, A.SUMMARY, A.TIMELINE)
    before = {a: _stamps(sd, a) for a in watched}
    # the same store opened with a new version of the attributions stage
    stages = [LoudAttributions() if s.name == "attributions" else s for s in default_stages()]
    with Storydesk(sd.store, embedder=fake_embedder, stages=stages, workers=1) as again:
        stats = again.build()
        after = {a: _stamps(again, a) for a in watched}
        quotes = {q.speaker for qs in again.store.get(A.QUOTES, list(after[A.QUOTES])).values() for q in qs}
        claims = again.store.get(A.CLAIMS, list(after[A.CLAIMS]))
    assert stats["article map"]["processed"] == sd.store.article_count()
    assert after[A.MENTIONS] == before[A.MENTIONS]  # upstream of attributions: untouched
    changed = {k for k in after[A.ATTRIBUTIONS] if after[A.ATTRIBUTIONS][k] != before[A.ATTRIBUTIONS][k]}
    assert changed == set(before[A.ATTRIBUTIONS])  # every article's attributions were made again
    # the same stage made the provenance again: the same content
    digests = {k: v.digest for k, v in after[A.PROVENANCE].items()}
    assert digests == {k: v.digest for k, v in before[A.PROVENANCE].items()}
    # quotes read speakers: every event with quotes has new ones
    with_quotes = {e for e, st in before[A.QUOTES].items() if st.digest != _EMPTY_DIGEST}
    assert with_quotes and all(after[A.QUOTES][e].digest != before[A.QUOTES][e].digest for e in with_quotes)
    assert quotes and all(q is None or q.endswith("(loud)") for q in quotes)
    # claims read attributions too: all made again, and those a speaker is the source of name the new speakers
    assert all(after[A.CLAIMS][e].fingerprint != before[A.CLAIMS][e].fingerprint for e in before[A.CLAIMS])
    loud = {e for e, cs in claims.items() if any(x.source.endswith("(loud)") for c in cs for x in c.attributions)}
    assert loud and all(after[A.CLAIMS][e].digest != before[A.CLAIMS][e].digest for e in loud)
    speakers = {x.source for cs in claims.values() for c in cs for x in c.attributions if x.kind != "own"}
    assert all(
        x.endswith("(loud)") or x in {m for cs in claims.values() for c in cs for y in c.attributions for m in y.via}
        for x in speakers
    )
    # summaries read claims, which changed: made again where they did, to the same summaries (the speakers
    # are not in them); timelines read neither: left alone
    assert {e: st.digest for e, st in after[A.SUMMARY].items()} == {e: st.digest for e, st in before[A.SUMMARY].items()}
    assert all(after[A.SUMMARY][e].fingerprint != before[A.SUMMARY][e].fingerprint for e in loud)
    assert after[A.TIMELINE] == before[A.TIMELINE]


_EMPTY_DIGEST = A.digest_of(A.QUOTES.codec.encode(()))


@pytest.mark.model
def test_an_edited_article_refreshes_its_event_outputs(built, tmp_path):
    sd = built
    store = sd.store
    ev = max(store.events(), key=lambda e: len(e.articles))
    aid = ev.articles[0]
    old = store.get_article(aid)
    before = {a: _stamps(sd, a).get(ev.id) for a in (A.QUOTES, A.CLAIMS, A.SUMMARY, A.TIMELINE, A.EVENT_DATES)}
    art_before = store.stamps(A.ATTRIBUTIONS.name, [aid])[aid]
    extra = "\n\nThe ministry said on Tuesday that a second inquiry would report by June, officials told reporters."
    edited = type(old)(**{**old.__dict__, "text": old.text + extra})
    from storydesk.models import Sentence
    from storydesk.textutil import split_sentences

    sents = [
        Sentence(aid, i, edited.text[s.start : s.end], s.start, s.end, s.paragraph)
        for i, s in enumerate(split_sentences(edited.text))
    ]
    assert store.add_article(edited, sents) == "updated"
    sd.build()
    assert store.stamps(A.ATTRIBUTIONS.name, [aid])[aid] != art_before
    after = {a: _stamps(sd, a).get(ev.id) for a in before}
    for a in (A.CLAIMS, A.SUMMARY, A.TIMELINE):
        assert after[a] is not None and after[a].fingerprint != before[a].fingerprint, a.name
    claims = store.get_one(A.CLAIMS, ev.id)
    assert any("second inquiry" in c.text for c in claims)


@pytest.mark.model
def test_a_new_original_refreshes_the_outputs_of_its_copies_event(built):
    sd = built
    store = sd.store
    dups = {k: d for k, d in store.get(A.DUPLICATE, store.article_ids()).items() if d["duplicate_of"]}
    copy_id, d = next(iter(sorted(dups.items())))
    original = store.get_article(d["duplicate_of"])
    ev_id = store.events_of([copy_id])[copy_id]
    before = _stamps(sd, A.CLAIMS)[ev_id]
    # a backfill: the same wire story, published a day before the current original
    earlier = type(original)(
        **{
            **original.__dict__,
            "id": "backfill" + original.id[8:],
            "source": "backfill.txt",
            "published": original.published - dt.timedelta(days=1),
        }
    )
    store.add_article(
        earlier,
        store.sentences(original.id)
        and [type(s)(earlier.id, s.index, s.text, s.start, s.end, s.paragraph) for s in store.sentences(original.id)],
    )
    sd.build()
    assert store.get_one(A.DUPLICATE, copy_id)["duplicate_of"] == earlier.id
    assert store.get_one(A.DUPLICATE, original.id)["duplicate_of"] == earlier.id
    assert _stamps(sd, A.CLAIMS)[ev_id].fingerprint != before.fingerprint


@pytest.mark.model
def test_the_article_map_is_a_pure_function_of_the_article(built, fake_embedder):
    """analyze(article) alone gives byte for byte what the pipeline stored for it."""
    from storydesk.article.analyze import analyze
    from storydesk.nlp import Models

    store = built.store
    models = Models(embedder=fake_embedder, sentence_embedder=fake_embedder)
    for aid in store.article_ids()[:5]:
        res = analyze(store.get_article(aid), store.sentences(aid), models)
        for name, value in vars(res).items():
            if name == "article_id":
                continue
            art = A.ALL[name]
            row = store.get_rows(name, [aid])[aid]
            assert A.digest_of(art.codec.encode(value)) == row.digest, (aid, name)


@pytest.mark.model
def test_the_event_map_is_a_pure_function_of_the_events_articles(built, fake_embedder):
    """event_analysis(event input) alone gives byte for byte what the pipeline stored for each event."""
    from storydesk.event.analyze import event_analysis
    from storydesk.nlp import Models

    store = built.store
    models = Models(embedder=fake_embedder, sentence_embedder=fake_embedder)
    events = sorted(store.events(), key=lambda e: -len(e.articles))[:3]
    for inp in built.runner.event_inputs(events):
        res = event_analysis(inp, models)
        for name, value in vars(res).items():
            if name == "event_id":
                continue
            row = store.get_rows(name, [inp.event.id])[inp.event.id]
            assert A.digest_of(A.ALL[name].codec.encode(value)) == row.digest, (inp.event.id, name)


@pytest.mark.model
def test_one_stage_rerun_recomputes_that_stage_only(built):
    sd = built
    summary_before = _stamps(sd, A.SUMMARY)
    stats = sd.build(["timeline"])
    assert stats["event map"]["processed"] == 0  # up to date: nothing to do
    stats = sd.build(["timeline"], force=True)
    assert stats["event map"]["processed"] == sd.store.event_count()
    assert _stamps(sd, A.SUMMARY) == summary_before  # other stages' outputs untouched
    assert all(p["processed"] == 0 for p in sd.build().values())  # and the next full build finds nothing stale


# --------------------------------------------------------------------------- scheduling


def _sleep_then(x: float) -> float:
    import time

    time.sleep(x)
    return x


def test_completed_map_yields_each_result_once_as_it_finishes():
    from concurrent.futures import ThreadPoolExecutor

    from storydesk.pipeline import completed_map

    items = [0.4, 0.0, 0.0, 0.0, 0.0]
    with ThreadPoolExecutor(2) as pool:
        got = list(completed_map(pool, _sleep_then, items, window=3))
    assert sorted(got) == sorted((x, x) for x in items)
    # the long first task does not hold back the others: they finish (and are yielded) before it
    assert got[-1] == (0.4, 0.4)
    assert list(completed_map(None, _sleep_then, [0.0, 0.0], window=1)) == [(0.0, 0.0), (0.0, 0.0)]


def test_storylines_are_packed_by_size_with_large_ones_alone():
    from storydesk.pipeline import _packed

    size = {"big": 500, "mid": 20, "a": 1, "b": 1, "c": 1}
    assert _packed(["big", "mid", "a", "b", "c"], size, 32, 2) == [["big"], ["mid", "a"], ["b", "c"]]
    assert _packed([], size, 32, 8) == []
