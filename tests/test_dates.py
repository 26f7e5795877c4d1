"""Dates: dated facts and their clauses, event dating, timeline merging, the stages, the T17 metrics.

Every article here is fictional, written for these tests (Norland, its president
Ana Brek and the Velm dam do not exist). Similarity is the content-word overlap
or the hashing embedder: no model is needed.
"""

from __future__ import annotations

import datetime as dt
from typing import ClassVar

import pytest

from storydesk.article.timexes import (
    Fact,
    clause_of,
    dated_facts,
    is_stamp,
    lead_facts,
    span_precision,
    strip_stamp,
    tag_article,
)
from storydesk.embed import HashingEmbedder
from storydesk.event.analyze import (
    EventInput,
    StorylineInput,
    TimelineStage,
    analyze_event,
    analyze_storyline,
    event_dates,
)
from storydesk.event.timeline import date_event, day_weights, merge_facts, summarize_timeline
from storydesk.models import Article, Event, Sentence, Storyline, TimelineEntry
from storydesk.nlp import Models
from storydesk.textutil import split_sentences

D = dt.date
MON = D(2024, 3, 11)  # a Monday


def article(aid: str, text: str, published: dt.date | None = MON) -> tuple[Article, list[Sentence]]:
    """An article and its sentences."""
    art = Article(id=aid, source=f"{aid}.txt", text=text, published=published)
    sents = [
        Sentence(aid, i, text[s.start : s.end], s.start, s.end, s.paragraph)
        for i, s in enumerate(split_sentences(text))
    ]
    return art, sents


def facts_of(aid: str, text: str, published: dt.date | None = MON) -> list[Fact]:
    art, sents = article(aid, text, published)
    return dated_facts(art, sents, tag_article(art, sents))


def span(e: TimelineEntry) -> tuple[dt.date, dt.date]:
    return e.date, e.end or e.date


def cited(e: TimelineEntry) -> list[tuple[str, int]]:
    return sorted((c.article, c.sentence) for c in e.citations)


# Two outlets on one tour, one on the floods a week earlier (fictional).
A1 = (
    "Norland's president Ana Brek toured the flood defences of Velm on Friday and Saturday, "
    "the state broadcaster reported on Monday.\n\n"
    "Brek inspected the Velm dam on Saturday, after parliament approved an emergency flood budget on March 1.\n\n"
    "Engineers will begin repairing the dam on March 18. The dam was completed in 1962."
)
A2 = (
    "President Ana Brek visited the Velm flood defences over the course of Friday and Saturday, NTV said.\n\n"
    "Repairs to the damaged dam are set to begin on March 18, officials said."
)
A3 = "Heavy floods hit the town of Velm on Saturday, damaging its dam, the broadcaster said on Sunday."


# --------------------------------------------------------------------------- precision and clauses


@pytest.mark.parametrize(
    ("value", "first", "last", "expected"),
    [
        ("2024-03-08", D(2024, 3, 8), D(2024, 3, 8), "day"),
        ("2024-03-08", D(2024, 3, 8), D(2024, 3, 9), "range"),
        ("2024-W10", D(2024, 3, 4), D(2024, 3, 10), "week"),
        ("2024-02", D(2024, 2, 1), D(2024, 2, 29), "month"),
        ("2024-Q1", D(2024, 1, 1), D(2024, 3, 31), "month"),
        ("1962", D(1962, 1, 1), D(1962, 12, 31), "year"),
        ("199", D(1990, 1, 1), D(1999, 12, 31), "year"),
        ("PRESENT_REF", MON, MON, "none"),
        ("P3D", None, None, "none"),
    ],
)
def test_span_precision(value: str, first: dt.date | None, last: dt.date | None, expected: str) -> None:
    assert span_precision(value, first, last) == expected


def test_clause_of_splits_a_sentence_with_two_dates() -> None:
    s = "Brek toured the dam on Friday, after parliament approved a flood budget on March 1."
    spans = [(s.index("Friday"), s.index("Friday") + 6), (s.index("March 1"), s.index("March 1") + 7)]
    (a, b), _core = clause_of(s, spans, 0)
    assert s[a:b] == "Brek toured the dam on Friday"
    (a, b), _core = clause_of(s, spans, 1)
    assert s[a:b] == "after parliament approved a flood budget on March 1."


def test_fronted_date_keeps_the_words_after_it() -> None:
    s = "On Friday, Brek met the mayor; on Saturday, she flew to the coast."
    spans = [(3, 9), (s.index("Saturday"), s.index("Saturday") + 8)]
    (a, b), _ = clause_of(s, spans, 0)
    assert s[a:b] == "On Friday, Brek met the mayor"
    (a, b), _ = clause_of(s, spans, 1)
    assert s[a:b] == "on Saturday, she flew to the coast."


def test_single_date_sentence_is_its_own_clause_but_has_a_short_core() -> None:
    s = "Her tour comes after a giant military parade last month in the capital, where envoys watched."
    i = s.index("last month")
    (a, b), (ca, cb) = clause_of(s, [(i, i + len("last month"))], 0)
    assert (a, b) == (0, len(s))
    assert s[ca:cb] == "after a giant military parade last month in the capital"


# --------------------------------------------------------------------------- dated facts


def test_dated_facts_one_per_date_with_clause_text() -> None:
    facts = facts_of("a1", A1)
    got = [(f.first, f.last, f.precision, f.role, f.citations[0].sentence) for f in facts]
    assert got == [
        (D(2024, 3, 8), D(2024, 3, 9), "range", "event", 0),
        (MON, MON, "day", "report", 0),
        (D(2024, 3, 9), D(2024, 3, 9), "day", "event", 1),
        (D(2024, 3, 1), D(2024, 3, 1), "day", "event", 1),
        (D(2024, 3, 18), D(2024, 3, 18), "day", "event", 2),
        (D(1962, 1, 1), D(1962, 12, 31), "year", "event", 3),
    ]
    by_date = {f.first: f.text for f in facts}
    assert by_date[D(2024, 3, 9)] == "Brek inspected the Velm dam on Saturday"
    assert by_date[D(2024, 3, 1)] == "Parliament approved an emergency flood budget on March 1."
    assert (
        by_date[D(2024, 3, 8)]
        == "Norland's president Ana Brek toured the flood defences of Velm on Friday and Saturday"
    )
    assert all(f.published == [MON] for f in facts)


def test_same_day_twice_in_a_sentence_is_one_fact() -> None:
    facts = facts_of("x", "The agency reported on Monday (March 11) that the dam had been inspected.")
    assert [(f.first, f.role) for f in facts] == [(MON, "report")]


def test_durations_references_and_recurring_dates_date_nothing() -> None:
    text = (
        "The dam has stood for 60 years and is now under repair. "
        "The festival is held annually in August and was first held in 1971."
    )
    facts = facts_of("x", text)
    # "for 60 years" (a duration), "now" (a reference) and the yearly "in August" give no fact
    assert [(f.first.year, f.precision) for f in facts] == [(1971, "year")]


def test_undated_article_gives_only_explicit_dates() -> None:
    facts = facts_of("x", "Brek spoke on Friday. The dam opened on June 2, 1962.", published=None)
    assert [f.first for f in facts] == [D(1962, 6, 2)]


# --------------------------------------------------------------------------- event dating


def test_date_event_uses_the_happening_not_the_report() -> None:
    arts = [article("a1", A1), article("a2", A2)]
    tx = {a.id: tag_article(a, s) for a, s in arts}
    start, end, how = date_event([a for a, _ in arts], tx)
    assert (start, end) == (D(2024, 3, 8), D(2024, 3, 9))
    assert how == "text: 2 article(s) date it"


def test_date_event_clamps_to_publication_and_falls_back_to_it() -> None:
    art, sents = article("a", "Brek began a three-day visit to Velm starting Saturday.", D(2024, 3, 10))
    start, end, _ = date_event([art], {art.id: tag_article(art, sents)})
    assert (start, end) == (D(2024, 3, 9), D(2024, 3, 10))  # 9..11 clamped to the Sunday paper
    art, sents = article("b", "Brek gave a speech about the dam.", D(2024, 3, 10))
    start, end, how = date_event([art], {art.id: tag_article(art, sents)})
    assert (start, end) == (D(2024, 3, 10), D(2024, 3, 10)) and how.startswith("publication date")


# --------------------------------------------------------------------------- merging


def test_merge_folds_the_same_fact_across_outlets() -> None:
    entries = merge_facts(facts_of("a1", A1) + facts_of("a2", A2))
    tour = [e for e in entries if span(e) == (D(2024, 3, 8), D(2024, 3, 9))]
    assert len(tour) == 1 and cited(tour[0]) == [("a1", 0), ("a2", 0)]
    assert tour[0].precision == "day" and tour[0].end == D(2024, 3, 9)
    repairs = [e for e in entries if e.date == D(2024, 3, 18)]
    assert len(repairs) == 1 and cited(repairs[0]) == [("a1", 2), ("a2", 1)]
    # different facts of the same day stay apart: the report on Monday vs nothing else
    assert [cited(e) for e in entries if e.date == MON] == [[("a1", 0)]]


def test_merge_keeps_different_facts_on_one_day_apart() -> None:
    f1 = facts_of("p", "Farmers blocked the northern highway with tractors on Friday.")
    f2 = facts_of("q", "The central bank raised its interest rate by half a point on Friday.")
    entries = merge_facts(f1 + f2)
    assert len(entries) == 2 and {e.date for e in entries} == {D(2024, 3, 8)}


def test_coarse_mention_joins_the_precise_entry_from_another_outlet() -> None:
    f1 = facts_of(
        "p", "Brek attended a massive military parade marking the anniversary of independence on February 24."
    )
    f2 = facts_of("q", "Her tour comes after a massive parade for independence last month in the capital.")
    entries = merge_facts(f1 + f2)
    assert len(entries) == 1
    assert entries[0].date == D(2024, 2, 24) and entries[0].precision == "day"
    assert cited(entries[0]) == [("p", 0), ("q", 0)]


def test_an_outlet_does_not_restate_a_precise_date_coarsely() -> None:
    # Outlet "p" dates the visit Friday-Saturday and says "last week" about another inspection.
    f1 = facts_of(
        "p",
        "Brek visited dam workshops that build flood gates on Friday and Saturday. "
        "Last week, Brek visited dam workshops that build flood gates and pumps.",
    )
    f2 = facts_of("q", "Brek visited the dam workshops that build flood gates on Friday and Saturday.")
    entries = merge_facts(f1 + f2)
    visit = next(e for e in entries if span(e) == (D(2024, 3, 8), D(2024, 3, 9)))
    assert cited(visit) == [("p", 0), ("q", 0)]
    week = next(e for e in entries if e.precision == "week")
    assert cited(week) == [("p", 1)]


def test_background_dates_are_marked() -> None:
    entries = merge_facts(facts_of("a1", A1))
    bg = {e.date.year: e.background for e in entries}
    assert bg[1962] is True and bg[2024] is False
    # an explicit horizon moves the line
    assert all(not e.background for e in merge_facts(facts_of("a1", A1), horizon=D(1962, 6, 1)))


def test_merge_with_vectors_uses_embedding_similarity() -> None:
    f1 = facts_of("p", "Farmers blocked the northern highway with tractors on Friday.")
    f2 = facts_of("q", "Farmers blocked the northern highway with tractors on Friday.")
    f3 = facts_of("r", "The central bank raised its interest rate by half a point on Friday.")
    emb = HashingEmbedder(256)
    for f in f1 + f2 + f3:
        f.vec = f.core_vec = emb.encode([f.text])[0]
    entries = merge_facts(f1 + f2 + f3)
    assert sorted(len(e.citations) for e in entries) == [1, 2]


def _reference_candidates(facts: list[Fact], groups: list[int] | None) -> list[tuple[int, int, bool]]:
    """Candidate pairs by the plain definition, one at a time, in merging's order: ``(i, j, equal spans)``."""
    from storydesk.event import timeline as tl

    spans = list(dict.fromkeys((f.first, f.last) for f in facts))
    out = []
    for sp in spans:
        idx = [i for i, f in enumerate(facts) if (f.first, f.last) == sp]
        outers = sorted(
            o
            for o in spans
            if 1 <= (o[1] - o[0]).days <= tl.MAX_NESTING_DAYS
            and o[1] - o[0] > sp[1] - sp[0]
            and o[0] <= sp[0]
            and sp[1] <= o[1]
        )
        cands = [(i, j, True) for x, i in enumerate(idx) for j in idx[x + 1 :]]
        cands += [(i, j, False) for o in outers for i in idx for j, f in enumerate(facts) if (f.first, f.last) == o]
        out += [(i, j, eq) for i, j, eq in cands if groups is None or groups[i] != groups[j]]
    return out


def _reference_pairs(facts: list[Fact], groups: list[int] | None) -> list[tuple[float, int, int]]:
    """The pairs alike enough to merge, scored one at a time: equal spans first, each part best first."""
    from storydesk.event import timeline as tl

    same: list[tuple[float, int, int]] = []
    nested: list[tuple[float, int, int]] = []
    for i, j, equal in _reference_candidates(facts, groups):
        a, b = facts[i], facts[j]
        mode = "vec" if a.vec is not None and b.vec is not None else "words"
        # a telling date: a day or range off both facts' publication days
        telling = a.precision in ("day", "range") and not any(
            a.first <= d <= a.last for d in (*a.published, *b.published)
        )
        if not equal:
            bar = tl.NESTED_THRESHOLD[mode]
        elif telling:
            bar = tl.SPECIFIC_SPAN_THRESHOLD[mode]
        else:
            bar = tl.SAME_SPAN_THRESHOLD[mode]
        sim = tl.similarity(a, b)
        if sim >= bar:
            (same if equal else nested).append((sim, i, j))
    return sorted(same, key=lambda p: -p[0]) + sorted(nested, key=lambda p: -p[0])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_candidate_pairs_match_the_plain_definition(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pairs are made and scored in blocks (matrix products for crowded spans): the same pairs, scores and order."""
    import numpy as np

    from storydesk.event import timeline as tl
    from storydesk.models import Citation

    rng = np.random.default_rng(seed)
    monkeypatch.setattr(tl, "_CHUNK_PAIRS", 50)  # crowded spans come in several chunks
    words = ["dam", "flood", "river", "bank", "vote", "budget", "storm", "bridge", "strike", "court"]
    day = dt.timedelta(days=1)
    base = D(2024, 3, 1)
    spans = [(base, base), (base + 3 * day, base + 3 * day), (base, base + 6 * day), (base, base + 30 * day)]
    spans += [(D(2024, 1, 1), D(2024, 12, 31)), (base + 2 * day, base + 4 * day)]
    facts = []
    for n in range(160):
        first, last = spans[int(rng.integers(len(spans)))] if n % 7 else spans[0]
        precision = "day" if first == last else ("range" if (last - first).days < 7 else "month")
        text = " ".join(rng.choice(words, 3))
        published = [base + int(rng.integers(0, 5)) * day]
        f = Fact(first, last, precision, text, [Citation(f"a{n % 23}", n)], core=text.split()[0], published=published)
        if n % 5:  # the others go without vectors (judged by shared words)
            # small multiples of 1/8: every dot product is exact, whatever the order of summing
            f.vec = (rng.integers(-2, 3, 16) / 8).astype(np.float32)
            f.core_vec = (rng.integers(-2, 3, 16) / 8).astype(np.float32) if n % 3 else None
        facts.append(f)
    source = [f.citations[0].article for f in facts]
    groups = [int(g) for g in rng.integers(0, 12, len(facts))]
    for grouping in (None, groups):
        want = _reference_pairs(facts, grouping)
        assert len(want) > 300  # crowded spans: blocks of several chunks are scored
        assert tl._candidate_pairs(facts, grouping) == want
        cands = _reference_candidates(facts, grouping)
        assert tl.paired(facts, grouping) == {k for i, j, _e in cands for k in (i, j)}
        assert tl.paired(facts, grouping, source) == {k for i, j, _e in cands if source[i] != source[j] for k in (i, j)}


# --------------------------------------------------------------------------- summaries


def test_summarize_timeline_keeps_the_most_reported_days() -> None:
    facts = (
        facts_of("a", "Parliament approved the Velm flood budget on March 1.")
        + facts_of("b", "Lawmakers approved an emergency budget for Velm on March 1.")
        + facts_of("c", "The Velm flood budget passed parliament on March 1.")
        + facts_of("d", "Engineers found cracks in the Velm dam on March 4.")
        + facts_of("e", "Cracks appeared in the Velm dam on March 4, engineers said.")
        + facts_of("f", "Mayor Tomas Lind spoke to residents of Velm on March 5.")
        + facts_of("g", "Norland's parliament met for its spring session in March.")  # a month singles out no day
    )
    got = summarize_timeline(facts, n_dates=2, per_date=1)
    assert [d for d, _ in got] == [D(2024, 3, 1), D(2024, 3, 4)]
    assert all(len(es) == 1 and es[0].precision == "day" for _, es in got)
    got = summarize_timeline(facts, n_dates=2, per_date=1, start=D(2024, 3, 2))
    assert [d for d, _ in got] == [D(2024, 3, 4), D(2024, 3, 5)]
    assert summarize_timeline(facts, n_dates=0, per_date=1) == []


def test_day_weights_count_articles_and_leave_out_report_days() -> None:
    facts = (
        facts_of("a1", A1)
        + facts_of("a2", A2)
        + facts_of("a3", A3, D(2024, 3, 3))
        + facts_of("a4", "Brek opened the new Velm bridge on Monday.")
    )
    w = day_weights(facts)
    assert w[D(2024, 3, 8)] == 2.0  # "Friday and Saturday" in two articles votes for its first day
    assert w[D(2024, 3, 18)] == 2.0
    assert w[MON] == 0.5  # a4's own publication day; a1's "reported on Monday" dates the report, not a happening
    assert D(2024, 3, 3) not in w  # a3's "said on Sunday" likewise
    assert D(1962, 1, 1) not in w  # a year does not single out a day


def test_lead_facts_are_undated_openings() -> None:
    art, sents = article("x", "Brek resigned as president. She had led Norland since 2019. Talks begin on Friday.")
    leads = lead_facts(art, sents, tag_article(art, sents), n=3)
    assert [(f.first, f.role, f.citations[0].sentence) for f in leads] == [(MON, "lead", 0)]
    assert lead_facts(*article("y", "Brek resigned.", published=None), []) == []
    # a posting stamp does not date a lead, and is cut from its text
    art, sents = article("z", "Mon Mar 11, 2024 9:15 am EDT VELM (Reuters) - Brek resigned as president of Norland.")
    leads = lead_facts(art, sents, tag_article(art, sents))
    assert [f.text for f in leads] == ["Brek resigned as president of Norland."]
    assert leads[0].core == sents[0].text


def test_summarize_picks_the_told_fact_cites_its_copies_and_skips_repeats() -> None:
    facts = (
        facts_of("a", "Parliament approved the emergency flood budget for Velm on March 1.")
        + facts_of("b", "Lawmakers approved the emergency flood budget for the town of Velm on March 1.")
        + facts_of("w1", "Norland's parliament approved a flood budget for Velm on March 1.")
        + facts_of("w2", "Norland's parliament approved a flood budget for Velm on March 1.")  # a wire copy
        + facts_of("c", "A Norland minister resigned on March 1 in protest at the new dam tax.")
    )
    art, sents = article("l", "Parliament approves emergency flood budget for Velm.", D(2024, 3, 2))
    got = summarize_timeline(facts, n_dates=1, per_date=2, leads=lead_facts(art, sents, []))
    [(day, entries)] = got
    assert day == D(2024, 3, 1)
    # the budget is what most say about the day; its near-repeats are skipped and the resignation comes second
    assert "budget" in entries[0].text and "resigned" in entries[1].text
    copies = [e for e in entries if e.text.startswith("Norland's parliament")]
    assert not copies or {c.article for c in copies[0].citations} == {"w1", "w2"}
    assert [c.article for c in entries[1].citations] == ["c"]


# --------------------------------------------------------------------------- posting stamps


@pytest.mark.parametrize(
    ("sentence", "expression", "stamp"),
    [
        ("Posted by ann 2 May 2012", "2 May 2012", True),
        ("Updated: 17 July 2012", "17 July 2012", True),
        ("Last updated at 13:17 GMT on 17 July 2012", "17 July 2012", True),
        ("January 27, 2011 at 7:59 pm | Report abuse |", "January 27, 2011", True),
        ("At 12:19 26th Apr 2009, Jim wrote:", "26th Apr 2009", True),
        ("Tue Mar 5, 2024 10:16 am EST Talks resumed in Velm.", "Tue Mar 5, 2024", True),
        ("VELM, March 5 (Reuters) - Talks resumed.", "March 5", True),
        ("The company updated its forecast on Tuesday.", "Tuesday", False),
        ("The results were published on March 3, 2011.", "March 3, 2011", False),
        ("On Friday Brek wrote to the committee.", "Friday", False),
        ("In 2009, Brek wrote a letter to the council.", "2009", False),
        ("At 2:46 pm on March 11, 2011, an earthquake struck Velm.", "March 11, 2011", False),
    ],
)
def test_posting_stamps(sentence: str, expression: str, stamp: bool) -> None:
    i = sentence.index(expression)
    assert is_stamp(sentence, i, i + len(expression)) is stamp


def test_stamps_date_no_fact_and_are_cut_from_fact_text() -> None:
    text = (
        "Posted by ann 2 May 2012. Brek opened the Velm bridge on Friday.\n\n"
        "VELM | Mon Mar 11, 2024 9:15 am EDT VELM (Reuters) - Brek will visit the dam on Thursday."
    )
    facts = facts_of("s", text)
    assert [(f.first, f.text) for f in facts] == [
        (D(2024, 3, 8), "Brek opened the Velm bridge on Friday."),
        (D(2024, 3, 14), "Brek will visit the dam on Thursday."),
    ]
    assert strip_stamp("Short (AP) - text") == "Short (AP) - text"  # too little would be left


# --------------------------------------------------------------------------- stages


def _event_input(eid: str, arts: list[tuple[Article, list[Sentence]]]) -> EventInput:
    """What the event map reads for these articles (their timexes and facts computed as the article map does)."""
    timexes = {a.id: tuple(tag_article(a, ss)) for a, ss in arts}
    facts = {a.id: tuple(f.stored() for f in dated_facts(a, ss, timexes[a.id])) for a, ss in arts}
    return EventInput(
        event=Event(eid, tuple(a.id for a, _ in arts)),
        articles=[a for a, _ in arts],
        sentences={a.id: ss for a, ss in arts},
        per_article={"timexes": timexes, "facts": facts},
    )


def test_event_and_storyline_maps_date_events_and_build_timelines() -> None:
    models = Models(embedder=HashingEmbedder(256), sentence_embedder=HashingEmbedder(256))
    a1, a2, a3 = (
        article(aid, text, pub) for aid, text, pub in (("a1", A1, MON), ("a2", A2, MON), ("a3", A3, D(2024, 3, 3)))
    )
    tour = analyze_event(_event_input("ev-tour", [a1, a2]), models, [TimelineStage()])
    flood = analyze_event(_event_input("ev-flood", [a3]), models, [TimelineStage()])
    assert event_dates(tour["event_dates"]) == (D(2024, 3, 8), D(2024, 3, 9))
    assert event_dates(flood["event_dates"]) == (D(2024, 3, 2), D(2024, 3, 2))
    tl = tour["timeline"]
    assert [e.date for e in tl] == sorted(e.date for e in tl)
    facts = [list(flood["event_facts"]), list(tour["event_facts"])]
    story = analyze_storyline(StorylineInput(Storyline("sl-1", ("ev-flood", "ev-tour"), "Velm"), facts), models)[
        "storyline_timeline"
    ]
    assert {c.article for e in story for c in e.citations} == {"a1", "a2", "a3"}
    assert any(e.date == D(2024, 3, 2) and cited(e) == [("a3", 0)] for e in story)


def test_storyline_map_gives_the_same_timeline_with_kept_vectors() -> None:
    """Kept fact vectors only save the transformer's time: the timeline is the same, and nothing is embedded again."""
    from storydesk.artifacts import FACT_VECTORS

    class Counting(HashingEmbedder):
        calls = 0

        def encode(self, texts):  # type: ignore[no-untyped-def]
            Counting.calls += len(texts)
            return super().encode(texts)

    import numpy as np

    from storydesk.models import Citation, DatedFact

    models = Models(embedder=Counting(256), sentence_embedder=Counting(256))
    day, week = (D(2024, 3, 2), D(2024, 3, 2)), (D(2024, 2, 26), D(2024, 3, 3))

    def fact(span, text, art, prec="day"):  # type: ignore[no-untyped-def]
        return DatedFact(*span, prec, text, (Citation(art, 0),), text.split(",")[0], (D(2024, 3, 4),))

    facts = [  # two events telling the flood of March 2 (and the week around it) in other words
        [fact(day, "The river Velm burst its banks on Saturday, flooding the old town", "a1")],
        [
            fact(day, "On Saturday the Velm flooded the old town", "a2"),
            fact(week, "Last week the Velm rose over its banks", "a3", "week"),
        ],
    ]
    sl = Storyline("sl-1", ("ev-flood", "ev-later"), "Velm")
    Counting.calls = 0
    first = analyze_storyline(StorylineInput(sl, facts), models)
    assert first["new_vectors"] and Counting.calls == len(first["new_vectors"])
    assert all(v.dtype == np.float16 for v in first["new_vectors"].values())
    kept = FACT_VECTORS.codec.decode(FACT_VECTORS.codec.encode(first["new_vectors"]))  # as the store keeps them
    Counting.calls = 0
    again = analyze_storyline(StorylineInput(sl, facts, kept), models)
    assert again["storyline_timeline"] == first["storyline_timeline"]
    assert again["new_vectors"] == {} and Counting.calls == 0


def test_event_map_gives_the_same_timeline_with_kept_vectors() -> None:
    """The event map keeps its fact vectors: a re-run embeds only a new article's facts, and merges the same."""
    from storydesk.event.analyze import event_pass

    class Counting(HashingEmbedder):
        texts: ClassVar[list[str]] = []

        def encode(self, texts):  # type: ignore[no-untyped-def]
            Counting.texts += texts
            return super().encode(texts)

    models = Models(embedder=Counting(256), sentence_embedder=HashingEmbedder(256))
    a1, a2, a3 = (article(aid, text) for aid, text in (("a1", A1), ("a2", A2), ("a4", A1.replace("Brek", "Ana Brek"))))
    first, kept = event_pass(_event_input("ev", [a1, a2]), models, [TimelineStage()])
    assert kept and set(Counting.texts) == set(kept)  # what was embedded is kept (float16)
    # the same event again with its kept vectors: nothing embedded, the same timeline
    Counting.texts = []
    inp = _event_input("ev", [a1, a2])
    inp.vectors = kept
    again, kept_again = event_pass(inp, models, [TimelineStage()])
    assert Counting.texts == [] and again == first and kept_again is not None and kept_again.keys() == kept.keys()
    # an article joins: only its new texts are embedded, and the timeline is what a fresh run makes
    inp = _event_input("ev", [a1, a2, a3])
    inp.vectors = kept
    grown, kept_grown = event_pass(inp, models, [TimelineStage()])
    assert Counting.texts and not set(Counting.texts) & set(kept)
    Counting.texts = []
    fresh, _ = event_pass(_event_input("ev", [a1, a2, a3]), models, [TimelineStage()])
    assert grown == fresh
    # an article leaves: the vectors of its texts are dropped
    inp = _event_input("ev", [a1])
    inp.vectors = kept_grown or {}
    _values, kept_one = event_pass(inp, models, [TimelineStage()])
    assert kept_one is not None and set(kept_one) < set(kept_grown or {})


# --------------------------------------------------------------------------- seeds (real articles, real model)


@pytest.mark.model
def test_seed_timeline_holds_the_gold_entries(tmp_path, seeds_dir, seeds_gold) -> None:
    """gold.json's timeline on the seed articles, grouped into gold.json's events (MiniLM similarity)."""
    from pathlib import Path

    from storydesk.api import Storydesk
    from storydesk.export import timeline_json

    with Storydesk(tmp_path / "seeds.db") as sd:
        rep = sd.ingest(sorted(seeds_dir.glob("*.txt")))
        assert len(rep.added) == 5
        sd.build(["parse", "timex", "facts"])
        ids = {Path(a.source).name[:3]: a.id for a in sd.store.articles()}
        groups: dict[str, list[str]] = {}
        for name, g in seeds_gold["articles"].items():
            groups.setdefault(g["event"], []).append(ids[name[:3]])
        events = [Event(f"ev-{k}", tuple(v), k, "sl") for k, v in groups.items()]
        inputs = sd.runner.event_inputs(events)
        results = {i.event.id: analyze_event(i, sd.models, [TimelineStage()]) for i in inputs}
        dates = {k: event_dates(r["event_dates"]) for k, r in results.items()}
        a, b = seeds_gold["events"]["A"], seeds_gold["events"]["B"]
        assert (str(dates["ev-A"][0]), str(dates["ev-A"][1])) == (a["start"], a["end"])
        assert str(dates["ev-B"][0]) <= b["contains"] <= str(dates["ev-B"][1])
        facts = [list(r["event_facts"]) for r in results.values()]
        line = analyze_storyline(
            StorylineInput(Storyline("sl", tuple(e.id for e in events), "seeds"), facts), sd.models
        )
        timeline = timeline_json(line["storyline_timeline"])
    name_of = {v: k for k, v in ids.items()}
    for g in seeds_gold["timeline"]:
        hits = [t for t in timeline if t["date"] == g["date"] and t["end"] == g.get("end")]
        assert len(hits) >= 1, g
        cites = {name_of[c["article"]] for t in hits for c in t["citations"]}
        assert set(g["articles"]) <= cites, (g, [(t["text"], t["citations"]) for t in hits])
        if g["date"] != "2023-08-14":  # the report day holds two facts: KCNA's report and Seoul's comment
            assert len(hits) == 1, [t["text"] for t in hits]
    assert [t["background"] for t in timeline if t["date"][:4] in ("1976", "2019")] == [True, True]
    # no duplicates: one entry per (date, end, text)
    keys = [(t["date"], t["end"], t["text"]) for t in timeline]
    assert len(keys) == len(set(keys))


# --------------------------------------------------------------------------- Timeline17 metrics


def test_timeline_metrics_on_a_hand_made_timeline() -> None:
    pytest.importorskip("nltk")
    from storydesk.eval.timeline import agreement_rouge, alignment_rouge, concat_rouge, date_f1, score, tokens

    assert tokens("The protesters filled the squares") == ["protest", "fill", "squar"]
    assert tokens("Gas leaks") == ["gas", "leak"]  # ROUGE-1.5.5 stems only tokens longer than three characters
    d1, d2, d3 = D(2024, 3, 1), D(2024, 3, 2), D(2024, 3, 5)
    gold = {d1: ["Protesters occupy the square"], d3: ["Parliament votes"]}
    pred = {d2: ["Protesters occupy streets"], d3: ["Parliament votes"]}
    assert date_f1(pred, gold) == {"p": 0.5, "r": 0.5, "f": 0.5}
    # concat: {protest, occupi, street, parliament, vote} vs {protest, occupi, squar, parliament, vote}
    assert concat_rouge(pred, gold, 1)["f"] == pytest.approx(4 / 5)
    # agreement: only the shared date counts (2 of 5 unigrams on each side)
    assert agreement_rouge(pred, gold, 1)["p"] == pytest.approx(2 / 5)
    # alignment: March 2 aligns to March 1 (one day off: weight 1/2), March 5 to itself
    ar1 = alignment_rouge(pred, gold, 1)
    assert ar1["p"] == pytest.approx((0.5 * 2 + 2) / 5) and ar1["r"] == pytest.approx((0.5 * 2 + 2) / 5)
    assert alignment_rouge(pred, gold, 2)["p"] == pytest.approx((0.5 * 1 + 1) / 3)
    perfect = score(gold, gold)
    assert perfect["ar1"]["f"] == perfect["ar2"]["f"] == perfect["date"]["f"] == 1.0
    assert alignment_rouge({}, gold, 1)["f"] == 0.0


def test_rouge_reads_a_daily_summary_as_one_text() -> None:
    pytest.importorskip("nltk")
    from storydesk.eval.timeline import alignment_rouge, ngrams

    d = D(2024, 3, 1)
    # ROUGE-1.5.5 joins a summary's sentences: "dam breaks. Town floods" has the bigram (break, town)
    assert ngrams(["The dam breaks.", "Town floods."], 2) == ngrams(["The dam breaks town floods"], 2)
    gold = {d: ["The dam breaks.", "The town floods."]}
    assert alignment_rouge({d: ["Dam breaks, town floods"]}, gold, 2)["f"] == pytest.approx(1.0)


def test_alignment_content_cost_uses_the_words_as_written() -> None:
    pytest.importorskip("nltk")
    from storydesk.eval.timeline import alignment_rouge

    d1, d2, d3 = D(2024, 3, 1), D(2024, 3, 3), D(2024, 3, 5)
    gold = {d1: ["Velm dam bursts"], d3: ["Brek resigns as president"]}
    # March 3 is two days from both gold dates: the alignment goes where the words match
    pred = {d2: ["Brek resigns as president"]}
    assert alignment_rouge(pred, gold, 1)["p"] == pytest.approx(1 / 3)


def test_news_tls_averages_precision_and_recall_before_f() -> None:
    from storydesk.eval.timeline import _average

    rows = [{"m": {"p": 1.0, "r": 0.2, "f": 1 / 3}}, {"m": {"p": 0.2, "r": 0.2, "f": 0.2}}]
    got = _average(rows, "m")
    assert got["p"] == pytest.approx(0.6) and got["r"] == pytest.approx(0.2)
    assert got["f"] == pytest.approx(2 * 0.6 * 0.2 / 0.8) and got["mean_f"] == pytest.approx((1 / 3 + 0.2) / 2)


def _write_t17(root, timelines: list[str], articles: list[str]) -> None:
    (root / "timelines.jsonl").write_text("".join(t + "\n" for t in timelines))
    (root / "articles.jsonl").write_text("".join(a + "\n" for a in articles))


def test_timeline_eval_rejects_unknown_timelines(tmp_path) -> None:
    from storydesk.errors import EvalError
    from storydesk.eval.timeline import evaluate

    _write_t17(
        tmp_path,
        [
            '{"id": "t/x/a", "topic": "x", "has_articles": true, '
            '"timeline": [{"date": "2024-03-01", "sentences": ["s"]}]}'
        ],
        ['{"id": "t/x/1", "published": "2024-03-01", "text": "Brek resigned on Friday.", "gold": {"topic": "x"}}'],
    )
    with pytest.raises(EvalError, match="unknown timeline id"):
        evaluate(tmp_path, timelines=["t/x/nope"])
    res = evaluate(tmp_path)
    assert res["timelines"] == 1 and res["articles"] == 1
    with pytest.raises(EvalError, match="unit"):
        evaluate(tmp_path, unit="outlet")
    with pytest.raises(EvalError, match="missing"):
        evaluate(tmp_path / "nowhere")


def test_timeline_eval_pools_a_topic_and_reads_copies_once(tmp_path) -> None:
    pytest.importorskip("nltk")
    from storydesk.eval.timeline import evaluate

    tl = (
        '{"id": "t/velm_a/tl", "topic": "velm_a", "t17_topic": "velm", "has_articles": true, "timeline": '
        '[{"date": "2024-03-01", "sentences": ["Parliament approves the Velm flood budget."]}, '
        '{"date": "2024-03-04", "sentences": ["Engineers find cracks in the Velm dam."]}]}'
    )

    def art(i: str, folder: str, pub: str, text: str) -> str:
        gold = f'{{"topic": "{folder}", "t17_topic": "velm"}}'
        return f'{{"id": "t/{folder}/{i}", "published": "{pub}", "text": "{text}", "gold": {gold}}}'

    budget = "Parliament approved the Velm flood budget on Friday."
    _write_t17(
        tmp_path,
        [tl],
        [
            art("1", "velm_a", "2024-03-02", budget),
            art("2", "velm_a", "2024-03-02", budget),  # an exact copy
            art("3", "velm_b", "2024-03-04", "Engineers found cracks in the Velm dam on Monday."),
            art("4", "velm_b", "2024-03-20", "Too late: outside the gold timeline's span."),
        ],
    )
    by_folder = evaluate(tmp_path, unit="folder")
    assert by_folder["articles"] == 1 and by_folder["date_f1"] == pytest.approx(2 / 3)
    by_topic = evaluate(tmp_path)
    assert by_topic["unit"] == "topic" and by_topic["articles"] == 2
    assert by_topic["date_f1"] == 1.0 and by_topic["ar1_f"] > by_folder["ar1_f"]
