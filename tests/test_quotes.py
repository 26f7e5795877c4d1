"""Quotes: speaker resolution, statement units, cross-outlet alignment, independence.

The unit tests use fictional articles written for them and the hashing
embedder; the seed test checks gold.json's quotes with the real models.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from storydesk.embed import HashingEmbedder
from storydesk.event.quotes import _canonical, align_quotes, is_speech_cue, quote_units
from storydesk.models import Attribution, Provenance
from storydesk.textutil import fold


def attr(aid: str, text: str, content: str, speaker: str, cue: str, via: tuple[str, ...] = ()) -> Attribution:
    """An attribution whose content is found in ``text``; the cue is located after the content."""
    start = text.index(content)
    cue_start = text.find(cue, start + len(content))
    if cue_start < 0:
        cue_start = text.index(cue)
    return Attribution(
        article_id=aid,
        sentence=0,
        content=content,
        content_start=start,
        content_end=start + len(content),
        speaker=speaker,
        speaker_text=speaker,
        cue=cue,
        cue_start=cue_start,
        cue_end=cue_start + len(cue),
        direct=content.startswith("“"),
        via=via,
    )


# Three fictional outlets relaying one agency's report of a governor's speech.
T1 = (
    "Governor Ana Vell said “the dam will be rebuilt within two years” and that funds were ready, "
    "the Ostrava News Agency reported. “We will not abandon the valley,” she said."
)
T2 = (
    "Vell promised to “rebuild the dam within two years”, according to the Ostrava News Agency. "
    "She also said the valley would never be abandoned by her government."
)
T3 = "“The dam will be rebuilt inside two years,” Vell said, the agency reported."


def fixture_attrs() -> tuple[dict[str, list[Attribution]], dict[str, str]]:
    a1 = [
        attr(
            "a1",
            T1,
            "“the dam will be rebuilt within two years” and that funds were ready",
            "Ana Vell",
            "said",
            ("ONA",),
        ),
        attr("a1", T1, "“We will not abandon the valley,”", "Ana Vell", "said", ("ONA",)),
    ]
    a2 = [
        attr("a2", T2, "to “rebuild the dam within two years”", "Ana Vell", "promised", ("ONA",)),
        attr("a2", T2, "the valley would never be abandoned by her government", "Ana Vell", "also said"),
    ]
    a3 = [attr("a3", T3, "“The dam will be rebuilt inside two years,”", "Ana Vell", "said", ("ONA",))]
    return {"a1": a1, "a2": a2, "a3": a3}, {"a1": T1, "a2": T2, "a3": T3}


def provenance_of(*ids: str, primary: str = "ONA") -> dict[str, Provenance]:
    return {i: Provenance(i, (primary,), ("Wire" + i,)) for i in ids}


def test_speech_cues() -> None:
    for cue in ("said", "has repeatedly warned", "according to", "as saying", "called for", "stressed", "told"):
        assert is_speech_cue(cue), cue
    for cue in ("sees", "showed", "inspected", "perceives", ""):
        assert not is_speech_cue(cue), cue


def test_units_take_quoted_words_once_from_innermost_attribution() -> None:
    text = "“We will win,” Vell said, adding “and soon,” the agency reported."
    inner = attr("x", text, "“We will win,”", "Ana Vell", "said", ("ONA",))
    outer = attr("x", text, "“We will win,” Vell said, adding “and soon,”", "ONA", "reported", ("ONA",))
    units = quote_units([inner, outer], text, lambda n: n == "ONA")
    assert [(u.speaker, u.text) for u in units] == [("Ana Vell", "We will win"), ("ONA", "and soon")]


def test_units_skip_non_speech_and_media_reports() -> None:
    text = "Pyongyang sees the drills as a rehearsal for war. The dam was finished in May, the agency reported."
    sees = attr("x", text, "the drills as a rehearsal for war", "Pyongyang", "sees")
    report = attr("x", text, "The dam was finished in May", "ONA", "reported", ("ONA",))
    assert quote_units([sees, report], text, lambda n: n == "ONA") == []


def test_indirect_speech_is_a_unit() -> None:
    text = "The mayor said the bridge would reopen on Friday."
    a = attr("x", text, "the bridge would reopen on Friday", "Tom Hale", "said")
    (u,) = quote_units([a], text)
    assert (u.text, u.direct) == ("the bridge would reopen on Friday", False)


def test_alignment_groups_one_statement_across_outlets() -> None:
    attrs, texts = fixture_attrs()
    quotes = align_quotes(attrs, HashingEmbedder(256), provenance_of("a1", "a2", "a3"), texts=texts)
    dam = next(q for q in quotes if "dam" in q.text)
    assert [v.article for v in dam.variants] == ["a1", "a2", "a3"]
    assert dam.speaker == "Ana Vell"
    assert dam.via == ("ONA",)
    assert dam.independent_sources == 1
    # The valley statement is a different one: it never joins the dam quote.
    valley = [q for q in quotes if any("abandon" in v.text for v in q.variants)]
    assert valley and all(q is not dam for q in valley)
    for q in quotes:
        assert len({v.article for v in q.variants}) == len(q.variants)


def test_independent_sources_count_distinct_primaries() -> None:
    attrs, texts = fixture_attrs()
    provs = provenance_of("a1", "a2")
    provs["a3"] = Provenance("a3", ("Reuters",), ())
    attrs["a3"] = [attr("a3", T3, "“The dam will be rebuilt inside two years,”", "Ana Vell", "said", ("Reuters",))]
    quotes = align_quotes(attrs, HashingEmbedder(256), provs, texts=texts)
    dam = next(q for q in quotes if "dam" in q.text and len(q.variants) == 3)
    assert dam.independent_sources == 2


def test_different_speakers_never_align() -> None:
    text_a = "“Taxes will fall next year,” Vell said."
    text_b = "“Taxes will fall next year,” Hale said."
    attrs = {
        "a": [attr("a", text_a, "“Taxes will fall next year,”", "Ana Vell", "said")],
        "b": [attr("b", text_b, "“Taxes will fall next year,”", "Tom Hale", "said")],
    }
    quotes = align_quotes(attrs, HashingEmbedder(256), {}, texts={"a": text_a, "b": text_b})
    assert sorted(len(q.variants) for q in quotes) == [1, 1]
    # No provenance: each article's own reporting is its channel.
    assert all(q.independent_sources == 1 for q in quotes)


def test_canonical_prefers_the_shared_fragment() -> None:
    texts = ["big new dam … within two years", "big new dam", "a big new dam soon"]
    assert _canonical(texts) == "big new dam"


# ------------------------------------------------------------ seeds (real models)


def _stems(text: str) -> set[str]:
    import re

    return {w[:6] for w in re.findall(r"[a-z0-9]+", fold(text)) if len(w) > 2 and w not in {"the", "and", "for"}}


@pytest.fixture(scope="module")
def seed_story(tmp_path_factory: Any) -> dict[str, Any]:
    from conftest import SEEDS
    from storydesk.api import Storydesk

    if not SEEDS.is_dir():
        pytest.skip("../shared/fixtures/seeds not found")
    with Storydesk(tmp_path_factory.mktemp("q") / "s.db") as sd:
        sd.ingest(sorted(SEEDS.glob("*.txt")))
        sd.build()
        return sd.story()


@pytest.mark.model
def test_seed_quotes_match_gold(seed_story: dict[str, Any], seeds_gold: dict[str, Any]) -> None:
    prefix = {Path(a["path"]).name[:3]: a["id"] for a in seed_story["articles"]}
    for g in seeds_gold["quotes"]:
        want = {prefix[k]: v for k, v in g["variants"].items()}
        event = next(e for e in seed_story["events"] if set(want) <= set(e["articles"]))
        found = []
        for q in event["quotes"]:
            got = {v["article"]: v["text"] for v in q["variants"]}
            if set(got) == set(want) and all(
                len(_stems(want[a]) & _stems(got[a])) >= 0.5 * len(_stems(want[a])) for a in want
            ):
                found.append(q)
        assert len(found) == 1, (g["canonical"], [q["variants"] for q in event["quotes"][:6]])
        (q,) = found
        assert q["speaker"] == g["speaker"]
        assert g["via"] in q["via"]


@pytest.mark.model
def test_seed_event_a_kim_statements_have_one_independent_source(
    seed_story: dict[str, Any], seeds_gold: dict[str, Any]
) -> None:
    prefix = {Path(a["path"]).name[:3]: a["id"] for a in seed_story["articles"]}
    a_ids = {prefix[n[:3]] for n, g in seeds_gold["articles"].items() if g["event"] == "A"}
    event = next(e for e in seed_story["events"] if set(e["articles"]) == a_ids)
    kim = [q for q in event["quotes"] if q["speaker"] == "Kim Jong Un"]
    assert len(kim) >= len(seeds_gold["quotes"])
    assert all(q["independent_sources"] == 1 for q in kim), [(q["text"], q["via"]) for q in kim]
    assert all(q["via"] == ["KCNA"] for q in kim)


@pytest.mark.model
def test_seed_entities_match_gold(seed_story: dict[str, Any], seeds_gold: dict[str, Any]) -> None:
    """The canonical entities quotes and provenance are named by (shared by every stage)."""
    found: dict[str, dict[str, Any]] = {}
    for e in seed_story["events"]:
        for ent in e["entities"]:
            found.setdefault(ent["name"], ent)
    for g in seeds_gold["entities"]:
        ent = found.get(g["name"])
        assert ent is not None, g["name"]
        assert ent["type"] == g["type"], g["name"]
        assert set(g["aliases"]) <= set(ent["aliases"]), (g["name"], ent["aliases"])


@pytest.mark.model
@pytest.mark.slow
def test_demo_corpus_quotes_against_answer_key(tmp_path: Path) -> None:
    """The fictional demo corpus (examples/demo) has an answer key of quotes: most must be found."""
    import json

    from conftest import DEMO, DEMO_ANSWERS
    from storydesk.api import Storydesk

    with Storydesk(tmp_path / "demo.db") as sd:
        sd.ingest([DEMO])
        sd.build()
        story = sd.story()
    key: dict[str, str] = {}
    for a in story["articles"]:
        key[a["path"].split("/")[-1]] = a["id"]
        if a.get("url"):
            key[a["url"]] = a["id"]
    answers = json.loads(DEMO_ANSWERS.read_text(encoding="utf-8"))["quotes"]
    found = 0
    for ans in answers:
        ids = {key[k] for k in ans["articles"]}
        for e in story["events"]:
            hit = [
                q
                for q in e["quotes"]
                if q["speaker"] == ans["speaker"]
                and ids <= {v["article"] for v in q["variants"]}
                and all(
                    len(_stems(ans["text"]) & _stems(v["text"])) >= 0.5 * len(_stems(ans["text"]))
                    for v in q["variants"]
                    if v["article"] in ids
                )
            ]
            if hit:
                found += 1
                break
    assert found >= 21, f"{found} of {len(answers)} answer-key quotes found"
    # One statement of a minister, relayed by five outlets through one state agency.
    stanek = [
        q for e in story["events"] for q in e["quotes"] if q["speaker"] == "Aurel Stanek" and len(q["variants"]) == 5
    ]
    assert len(stanek) == 1 and stanek[0]["independent_sources"] == 1 and stanek[0]["via"] == ["CSNA"]
