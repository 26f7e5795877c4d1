"""Acceptance on the five real seed articles (../shared/fixtures/seeds) with the real models."""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest

from storydesk.api import Storydesk
from storydesk.export import schema

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def story(tmp_path_factory, request) -> dict:
    from conftest import SEEDS

    if not SEEDS.is_dir():
        pytest.skip("../shared/fixtures/seeds not found")
    db = tmp_path_factory.mktemp("seeds") / "seeds.db"
    with Storydesk(db) as sd:
        rep = sd.ingest(sorted(SEEDS.glob("*.txt")))
        assert rep.ok and len(rep.added) == 5
        sd.build()
        return sd.story()


def by_name(story: dict) -> dict[str, dict]:
    return {Path(a["path"]).name: a for a in story["articles"]}


def test_story_json_is_valid(story):
    jsonschema.validate(story, schema())


def test_events_and_storyline_match_gold(story, seeds_gold):
    arts = by_name(story)
    groups: dict[str, set[str]] = {}
    for name, g in seeds_gold["articles"].items():
        groups.setdefault(g["event"], set()).add(arts[name]["id"])
    got = {frozenset(e["articles"]) for e in story["events"]}
    assert got == {frozenset(v) for v in groups.values()}
    assert len(story["storylines"]) == 1
    assert len(story["storylines"][0]["events"]) == 2


def test_published_dates_and_titles(story, seeds_gold):
    arts = by_name(story)
    for name, g in seeds_gold["articles"].items():
        assert arts[name]["published"] == g["published"], name
        if "title" in g:
            assert arts[name]["title"] == g["title"], name
        if "dateline" in g:
            assert arts[name]["dateline"] == g["dateline"], name
        if "subheadings" in g:
            assert arts[name]["subheadings"] == g["subheadings"], name


def test_no_boilerplate_survives(story, seeds_gold):
    for a in story["articles"]:
        stored = a["text"] + "\n" + (a["title"] or "") + "\n".join(s["text"] for s in a["sentences"])
        for junk in seeds_gold["boilerplate"]:
            assert junk not in stored, (a["path"], junk)


def test_provenance_matches_gold(story, seeds_gold):
    arts = by_name(story)
    for name, g in seeds_gold["articles"].items():
        assert arts[name]["primary"] == g["primary"], name
        assert arts[name]["relays"] == g["relays"], name


def test_summary_sentences_cite_existing_sentences(story):
    n_sent = {a["id"]: len(a["sentences"]) for a in story["articles"]}
    for e in story["events"]:
        assert 1 <= len(e["summary"]) <= 6
        for s in e["summary"]:
            assert s["citations"], s["text"]
            for c in s["citations"]:
                assert c["article"] in e["articles"]
                assert 0 <= c["sentence"] < n_sent[c["article"]]


def test_event_a_dates(story, seeds_gold):
    arts = by_name(story)
    a_id = arts["000_f620c78eb9a3fd32.txt"]["id"]
    ev = next(e for e in story["events"] if a_id in e["articles"])
    assert (ev["start"], ev["end"]) == (seeds_gold["events"]["A"]["start"], seeds_gold["events"]["A"]["end"])
    b_id = arts["003_635879c7b141ced4.txt"]["id"]
    evb = next(e for e in story["events"] if b_id in e["articles"])
    assert evb["start"] <= seeds_gold["events"]["B"]["contains"] <= evb["end"]


def test_rerun_is_idempotent(tmp_path, seeds_dir):
    db = tmp_path / "r.db"
    with Storydesk(db) as sd:
        sd.ingest(sorted(seeds_dir.glob("*.txt")))
        sd.build()
        first = json.dumps(sd.story()["events"], sort_keys=True)
        rep = sd.ingest(sorted(seeds_dir.glob("*.txt")))
        assert rep.added == [] and len(rep.skipped) == 5
        stats = sd.build()
        assert all(p["processed"] == 0 for p in stats.values()), stats
        assert json.dumps(sd.story()["events"], sort_keys=True) == first
    assert re.match(r"^[0-9a-f]{16}$", json.loads(first)[0]["articles"][0])


def _event_a(story: dict) -> dict:
    a_id = by_name(story)["000_f620c78eb9a3fd32.txt"]["id"]
    return next(e for e in story["events"] if a_id in e["articles"])


def _sentence_text(story: dict, article: str, index: int) -> str:
    art = next(a for a in story["articles"] if a["id"] == article)
    return art["sentences"][index]["text"]


def test_kim_claims_have_one_independent_source_kcna(story):
    """Issue 14: AP, Yonhap, AFP only relay KCNA; every claim attributed to Kim Jong Un counts one origin."""
    ev = _event_a(story)
    kim = [c for c in ev["claims"] if any(x["source"] == "Kim Jong Un" for x in c["attributions"])]
    assert len(kim) >= 10
    assert all(c["independent_sources"] == 1 and c["sources"] == ["KCNA"] for c in kim), [
        (c["text"][:50], c["sources"]) for c in kim if c["sources"] != ["KCNA"]
    ]
    boost = next(
        c for c in ev["claims"] if c["text"].startswith('North Korean leader Kim Jong-un has called for a "drastic')
    )
    assert boost["independent_sources"] == 1 and boost["sources"] == ["KCNA"]
    assert len(boost["articles"]) == 4


def test_background_and_other_speakers_are_not_credited_to_kcna(story):
    """Sources come from the claim's sentence: other speakers are their own sources, background is the outlet's."""
    ev = _event_a(story)
    found = {}
    for c in ev["claims"]:
        for x in c["attributions"]:
            found[_sentence_text(story, x["article"], x["sentence"])] = (x, c)
    own = {
        "The allies say they have no intentions": "The allies",
        "Numerous experts believe that Kim's ultimate objective": "Numerous experts",
        "Seoul’s Joint Chiefs of Staff on Monday described": "Seoul’s Joint Chiefs of Staff",
        "In recent weeks, the US government revealed": "the US government",
    }
    for opening, speaker in own.items():
        x, c = next(v for text, v in found.items() if text.startswith(opening))
        assert (x["source"], x["origin"], x["kind"] != "own") == (speaker, speaker, True), opening
        assert "KCNA" not in c["sources"] or any(y["origin"] == "KCNA" and y is not x for y in c["attributions"])
    for text, (x, _c) in found.items():
        if x["kind"] == "own":
            assert x["origin"] == x["source"] and x["origin"].startswith("own:"), text
        if x["origin"] == "KCNA":
            assert x["source"] in ("Kim Jong Un", "KCNA") or x["kind"] == "uncredited", (text, x)
    # unattributed background is the outlet's own reporting, never KCNA: the article's own (000 cites Yonhap
    # but credits no wire for its text), or the wire whose copy it carries (004: "(With inputs from AP)")
    x, _c = next(v for text, v in found.items() if text.startswith("Kim Jong-un's visit comes less than a week"))
    assert (x["source"], x["kind"]) == ("own:" + by_name(story)["000_f620c78eb9a3fd32.txt"]["id"], "own")
    x, _c = next(v for text, v in found.items() if text.startswith("The talks reportedly centered on boosting"))
    assert (x["source"], x["kind"]) == ("own:AP", "own")


def test_claim_sources_agree_with_their_attributions(story):
    for e in story["events"]:
        for c in e["claims"]:
            assert {x["article"] for x in c["attributions"]} == set(c["articles"])
            keys = {x["origin"].removeprefix("own:").lower() for x in c["attributions"]}
            assert len(keys) >= c["independent_sources"] == len(c["sources"]) >= 1
