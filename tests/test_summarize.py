"""Cited summaries: the support checker, compressions, neutrality filters and the summarizer."""

from __future__ import annotations

import re

import numpy as np
import pytest

from storydesk.embed import HashingEmbedder
from storydesk.eval.summary import citation_figures, hypothesis
from storydesk.event.summarize import (
    EventText,
    candidate,
    compressions,
    grounded,
    min_sentences,
    neutral_headline,
    summarize_event,
    supports,
    target_words,
    tokens,
    word_features,
    word_probabilities,
)
from storydesk.models import Article, Citation, Claim, Sentence
from storydesk.textutil import split_sentences

# --------------------------------------------------------------------------- the checker


def test_supports_needs_half_the_content_words() -> None:
    s = "The Marrow River flooded the town of Eastwick on Tuesday."
    assert supports(s, "On Tuesday the Marrow River flooded Eastwick, a town of 4,000.")
    assert supports(s, s)
    assert not supports(s, "The mayor of Eastwick opened three shelters.")


def test_supports_needs_a_shared_name() -> None:
    s = "Floods closed the schools of Eastwick and Marlow on Tuesday."
    assert not supports(s, "Floods closed the schools on Tuesday in Redford.")
    assert supports(s, "On Tuesday floods closed the schools in Eastwick.")


def test_supports_rejects_a_different_figure() -> None:
    s = "The storm killed 12 people in the valley."
    assert supports(s, "In the valley, the storm killed 12 people and injured 30.")
    assert not supports(s, "The storm killed 14 people in the valley.")


def test_grounded_means_every_content_word_and_figure_is_cited() -> None:
    assert grounded("The storm killed 12 people.", ["A storm killed 12 people and 3 cows."])
    assert not grounded("The storm killed 12 people.", ["A storm killed 14 people."])
    assert not grounded("The storm killed 12 people in Eastwick.", ["A storm killed 12 people."])
    assert not grounded("The storm killed 12 people.", [])


# --------------------------------------------------------------------------- candidates


def _is_subsequence(short: str, long: str) -> bool:
    it = iter(re.findall(r"\w+", long.lower()))
    return all(w in it for w in re.findall(r"\w+", short.lower()))


@pytest.mark.parametrize(
    ("sentence", "expected"),
    [
        (
            "Among senior staff, 36 percent are women, according to the campaign.",
            "Among senior staff, 36 percent are women.",
        ),
        (
            "The agency (EPA) on Monday approved the plan to close the plant.",
            "The agency on Monday approved the plan to close the plant.",
        ),
        (
            "However, the council voted to keep the library open all year.",
            "The council voted to keep the library open all year.",
        ),
        (
            "Intelligence suggests the general had heart surgery, the Daily Wren reported Tuesday.",
            "Intelligence suggests the general had heart surgery.",
        ),
        (
            "Eastwick reported 1,500 new cases on Sunday, smashing the record set by any town in the valley.",
            "Eastwick reported 1,500 new cases on Sunday.",
        ),
    ],
)
def test_compressions_drop_one_kind_of_span(sentence: str, expected: str) -> None:
    forms = compressions(sentence)
    assert sentence in forms and expected in forms
    assert all(_is_subsequence(f, sentence) for f in forms)
    assert forms == sorted(forms, key=lambda f: (len(f), f))


def test_compressions_keep_at_least_six_words() -> None:
    assert compressions("Rain fell, the Daily Wren reported.") == ["Rain fell, the Daily Wren reported."]


def test_candidates_exclude_questions_first_person_and_quotes() -> None:
    assert candidate("The council voted to keep the library open all year.")
    assert not candidate("Will the council keep the library open all year?")
    assert not candidate("We have never seen the council keep a library open.")
    assert candidate('The mayor said "we will rebuild" after the council vote on Monday.')
    assert not candidate('"We will rebuild every street and every house," the mayor said.')
    assert not candidate("Too short to stand.")


def test_neutral_headline_drops_labels_and_outlet_tails() -> None:
    assert neutral_headline("Opinion: The council got it wrong") == "The council got it wrong"
    assert neutral_headline("WATCH: Flood waters rise in Eastwick | Daily Wren") == "Flood waters rise in Eastwick"
    assert neutral_headline("Eastwick floods") == "Eastwick floods"


def test_min_sentences_follows_the_material() -> None:
    assert min_sentences(30) == 3
    assert min_sentences(7) == 3
    assert min_sentences(5) == 2
    assert min_sentences(2) == 1
    assert min_sentences(0) == 0


# --------------------------------------------------------------------------- the summarizer

ARTICLES = {
    "w1": (
        "Marrow River floods Eastwick",
        "The Marrow River burst its banks on Tuesday and flooded the town of Eastwick. "
        "About 300 homes were evacuated, the fire service said. "
        "Will the town ever recover?",
    ),
    "w2": (
        "Floods force hundreds from homes in Eastwick",
        "The Marrow River flooded Eastwick on Tuesday after two days of rain. "
        "About 300 homes were evacuated overnight. "
        "The mayor opened three shelters in school halls.",
    ),
    "w3": (
        "Opinion: Eastwick was warned about the Marrow River",
        "Eastwick was flooded by the Marrow River on Tuesday. "
        "Engineers had warned the council in 2019 that the flood wall was too low. "
        '"We told them," one engineer said.',
    ),
}


def _event() -> EventText:
    emb = HashingEmbedder(256)
    arts, sents = [], {}
    for aid, (title, text) in ARTICLES.items():
        arts.append(Article(id=aid, source=aid, text=text, title=title))
        sents[aid] = [
            Sentence(aid, i, text[sp.start : sp.end], sp.start, sp.end) for i, sp in enumerate(split_sentences(text))
        ]
    all_s = [s for ss in sents.values() for s in ss]
    vecs = dict(zip((f"{s.article_id}:{s.index}" for s in all_s), emb.encode([s.text for s in all_s]), strict=True))
    return EventText(articles=arts, sentences=sents, vecs=vecs)


def test_word_probabilities_favour_words_all_outlets_use() -> None:
    ev = _event()
    probs = word_probabilities(word_features(ev))
    assert probs["eastwick"][0] > probs["engineer"][0]
    assert probs["marrow"][0] > probs["shelter"][0]
    assert all(p[0] >= p[1] >= p[2] for p in probs.values())
    assert 30 <= target_words(ev) <= 160


def test_summary_sentences_are_cited_supported_and_most_corroborated_first() -> None:
    ev = _event()
    flood = Claim(
        text="flood",
        articles=("w1", "w2", "w3"),
        citations=(Citation("w1", 0), Citation("w2", 0), Citation("w3", 0)),
        independent_sources=3,
    )
    head, summary = summarize_event(ev, [flood])
    texts = {(s.article_id, s.index): s.text for ss in ev.sentences.values() for s in ss}
    assert head in {neutral_headline(t) for t, _ in ARTICLES.values()}
    assert not head.startswith("Opinion")
    assert 3 <= len(summary) <= 6
    for s in summary:
        assert s.citations
        for c in s.citations:
            assert supports(s.text, texts[(c.article, c.sentence)])
        assert grounded(s.text, [texts[(c.article, c.sentence)] for c in s.citations])
        assert candidate(s.text)
    # The flood is stated by all three outlets: it comes first and cites all of them.
    assert "Marrow River" in summary[0].text
    assert {c.article for c in summary[0].citations} == {"w1", "w2", "w3"}
    counts = [len({c.article for c in s.citations}) for s in summary]
    assert counts == sorted(counts, reverse=True)
    # No repeats: the flood and the evacuation are each said once.
    assert sum("evacuated" in s.text for s in summary) == 1
    assert sum("flooded" in s.text for s in summary) == 1


def test_summary_of_an_event_without_titles_or_candidates() -> None:
    text = "Is it over? Who knows?"
    art = Article(id="q", source="q", text=text)
    sents = {
        "q": [Sentence("q", i, text[sp.start : sp.end], sp.start, sp.end) for i, sp in enumerate(split_sentences(text))]
    }
    vecs = {f"q:{s.index}": np.ones(4) / 2 for s in sents["q"]}
    head, summary = summarize_event(EventText([art], sents, vecs))
    assert head == ""
    assert summary and all(s.citations for s in summary)


def test_hypothesis_and_citation_figures() -> None:
    ev = {
        "headline": "Eastwick floods",
        "sentences": [
            {
                "text": "The Marrow River flooded Eastwick.",
                "citations": [("a", 0)],
                "cited_texts": ["The Marrow River flooded Eastwick on Tuesday."],
            },
            {
                "text": "About 300 homes were evacuated.",
                "citations": [("a", 1), ("b", 9)],
                "cited_texts": ["About 300 homes were evacuated.", None],
            },
        ],
    }
    assert hypothesis(ev) == "Eastwick floods. The Marrow River flooded Eastwick. About 300 homes were evacuated."
    fig = citation_figures({"e": ev})
    assert fig["coverage"] == 100.0
    assert fig["citations"] == 3
    assert fig["support_rate"] == pytest.approx(100 * 2 / 3, abs=0.01)  # a citation to no stored sentence fails
    assert fig["events_under_3_sentences"] == 1


def test_tokens_fold_and_stem() -> None:
    assert tokens("Reported: the Floods’ reports") == ("report", "the", "flood", "report")


def test_centrality_is_the_mean_best_match_in_each_other_article() -> None:
    """The per-article-pair products give each sentence what the plain definition gives."""
    from storydesk.event.summarize import _centrality

    rng = np.random.default_rng(3)
    arts, sents, vecs = [], {}, {}
    for k, n in enumerate((4, 1, 7, 3)):
        aid = f"a{k}"
        arts.append(Article(id=aid, source="s", text="x", title=None))
        sents[aid] = [Sentence(aid, i, "x", 0, 1) for i in range(n)]
        for i in range(n):
            if (k, i) != (2, 5):  # one sentence without a vector
                v = rng.standard_normal(16).astype(np.float32)
                vecs[f"{aid}:{i}"] = v / np.linalg.norm(v)
    got = _centrality(EventText(arts, sents, vecs))
    assert set(got) == {(a.id, s.index) for a in arts for s in sents[a.id]}
    for a in arts:
        for s in sents[a.id]:
            v = vecs.get(f"{a.id}:{s.index}")
            if v is None:
                assert got[(a.id, s.index)] == 0.0
                continue
            best = [
                max(float(vecs[k] @ v) for i in range(len(sents[b.id])) if (k := f"{b.id}:{i}") in vecs)
                for b in arts
                if b.id != a.id
            ]
            assert got[(a.id, s.index)] == pytest.approx(sum(best) / len(best), abs=1e-6)
    # an article alone has nothing to be central to
    alone = _centrality(EventText(arts[:1], {"a0": sents["a0"]}, vecs))
    assert set(alone.values()) == {0.0}
