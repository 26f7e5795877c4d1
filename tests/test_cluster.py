"""Event assignment, storylines and the clustering eval's metrics, on hand-written fictional articles."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest

from storydesk import artifacts as A
from storydesk.api import Storydesk
from storydesk.article.signals import happened, name_keys, word_keys
from storydesk.article.timexes import tag_article
from storydesk.config import Config
from storydesk.corpus.events import EventIndex, Signals
from storydesk.eval.cluster import bcubed, cluster_stages
from storydesk.models import Article, Sentence
from storydesk.textutil import split_sentences

FLOOD = [
    (
        "Floods cut off Tarrow valley",
        "Heavy rain flooded the Tarrow valley on Monday, cutting off six villages. "
        "Rescuers from the Orsk Red Cross used boats to reach stranded families.",
    ),
    (
        "Tarrow valley villages under water after storm",
        "Six villages in the Tarrow valley were under water on "
        "Monday after the storm. The Orsk Red Cross sent boats to reach families stranded by the flood.",
    ),
    (
        "Boats reach flooded Tarrow villages",
        "Orsk Red Cross boats reached stranded families in six flooded Tarrow "
        "valley villages on Monday, rescuers said.",
    ),
]
ELECTION = [
    (
        "Lindqvist wins Halm mayoral race",
        "Ebba Lindqvist won the Halm mayoral election on Sunday with 54 percent "
        "of the vote, beating incumbent Per Sandell.",
    ),
    (
        "Halm elects Lindqvist as mayor",
        "Voters in Halm elected Ebba Lindqvist mayor on Sunday, ending Per Sandell's "
        "eight years in office with 54 percent of the vote.",
    ),
]


def make_article(aid: str, title: str, text: str, day: dt.date | None) -> tuple[Article, list[Sentence]]:
    sents = [Sentence(aid, i, text[s.start : s.end], s.start, s.end) for i, s in enumerate(split_sentences(text))]
    return Article(id=aid, source=aid, text=text, title=title, published=day), sents


def load(sd: Storydesk, rows) -> None:
    for aid, title, text, day in rows:
        a, s = make_article(aid, title, text, day)
        sd.store.add_article(a, s)


def groups(sd: Storydesk) -> set[frozenset[str]]:
    return {frozenset(e.articles) for e in sd.store.events()}


@pytest.fixture
def sd(tmp_path, fake_embedder):
    with Storydesk(tmp_path / "c.db", embedder=fake_embedder, stages=cluster_stages()) as s:
        yield s


def test_name_and_word_keys():
    text = "Rescuers reached the Tarrow valley. The Orsk Red Cross said Kim Jong-un's visit to the U.S. mattered."
    names = name_keys(text)
    assert names["tarrow"] == 1 and names["orsk red cross"] == 1 and names["kim jong un"] == 1 and names["us"] == 1
    assert "rescuers" not in names and "the" not in names  # sentence-initial ordinary words are not names
    words = word_keys(text)
    assert words["rescuers"] == 1 and words["valley"] == 1 and "the" not in words and "said" not in words


def test_happened_reads_the_past_day_of_the_lead():
    monday = dt.date(2024, 3, 18)
    a, s = make_article(
        "x", "Deal ends strike", "Talks ended without a deal on Thursday. Both sides will meet again on Friday.", monday
    )
    assert happened(a, tag_article(a, s)) == (dt.date(2024, 3, 14), dt.date(2024, 3, 14))
    b, s2 = make_article("y", "Strike", "The union said on Monday that talks would resume next week.", monday)
    assert happened(b, tag_article(b, s2)) is None  # a reporting date and a future one do not date the happening
    c, s3 = make_article("z", "Deal", "Talks ended on Thursday.", None)
    assert happened(c, tag_article(c, s3)) is None


def test_stream_groups_events_and_attaches_later_articles(sd):
    day = dt.date(2024, 3, 11)
    rows = [(f"f{i}", t, x, day) for i, (t, x) in enumerate(FLOOD[:2])]
    rows += [(f"e{i}", t, x, day) for i, (t, x) in enumerate(ELECTION)]
    load(sd, rows)
    sd.build()
    assert groups(sd) == {frozenset({"f0", "f1"}), frozenset({"e0", "e1"})}
    before = {e.id for e in sd.store.events()}
    load(sd, [("f2", *FLOOD[2], day + dt.timedelta(days=1))])
    stats = sd.build()
    assert stats["corpus step"]["processed"] == 1 and stats["corpus step"]["events_opened"] == 0
    assert groups(sd) == {frozenset({"f0", "f1", "f2"}), frozenset({"e0", "e1"})}
    assert {e.id for e in sd.store.events()} == before  # no reclustering: ids are stable


def test_state_survives_a_fresh_process(tmp_path, fake_embedder):
    day = dt.date(2024, 3, 11)
    with Storydesk(tmp_path / "c.db", embedder=fake_embedder, stages=cluster_stages()) as first:
        load(first, [(f"f{i}", t, x, day) for i, (t, x) in enumerate(FLOOD[:2])])
        first.build()
    # another process opens the store: its corpus state is read back from the stored artifacts
    with Storydesk(tmp_path / "c.db", embedder=fake_embedder, stages=cluster_stages()) as again:
        load(again, [("f2", *FLOOD[2], day)])
        again.build()
        assert groups(again) == {frozenset({"f0", "f1", "f2"})}


def test_time_window_keeps_a_repeat_weeks_later_apart(sd):
    day = dt.date(2024, 3, 11)
    load(sd, [("f0", *FLOOD[0], day), ("f1", *FLOOD[1], day + dt.timedelta(days=30))])
    sd.build()
    assert groups(sd) == {frozenset({"f0"}), frozenset({"f1"})}


def test_near_copy_joins_its_originals_event(sd):
    day = dt.date(2024, 3, 11)
    title = FLOOD[0][0]
    long_text = " ".join(t for _h, t in FLOOD)  # a wire story of some length: a new headline barely moves it
    load(sd, [("f0", title, long_text, day), ("e0", *ELECTION[0], day)])
    sd.build()
    load(sd, [("copy", "Completely different headline", long_text.replace("six villages", "6 villages", 1), day)])
    sd.build()
    assert sd.store.get_one(A.DUPLICATE, "copy")["duplicate_of"] == "f0"
    assert frozenset({"f0", "copy"}) in groups(sd)


def sig(aid: str, v, names=(), published=None, happened=None) -> Signals:
    from collections import Counter

    return Signals(aid, np.asarray(v, dtype=np.float32), Counter(names), Counter(), published, happened)


def test_a_lead_dated_days_apart_costs_the_date_penalty():
    cfg = Config().with_overrides(
        event_weights=(-4.0, 8.0, 0.0, 0.0, 0.0),
        event_bar=0.0,
        event_density=0.0,
        event_date_penalty=5.0,
        event_day_penalty=0.0,
    )
    idx = EventIndex(2, cfg)
    d = dt.date(2024, 3, 14)
    ev, new = idx.assign(sig("a", [1, 0], published=d, happened=(d, d)))
    assert new
    # same content, happening three days later: the same story's next event, not this one
    later = d + dt.timedelta(days=3)
    ev2, new2 = idx.assign(sig("b", [1, 0], published=later, happened=(later, later)))
    assert new2 and ev2 != ev
    # same content, same happening day: joins
    ev3, new3 = idx.assign(sig("c", [1, 0], published=later, happened=(d, d)))
    assert ev3 == ev and not new3


def test_names_evidence_decides_between_similar_events():
    cfg = Config().with_overrides(event_weights=(-6.0, 4.0, 6.0, 0.0, 0.0), event_bar=0.0, event_density=0.0)
    idx = EventIndex(2, cfg)
    a, _ = idx.assign(sig("a", [1, 0], names=["tarrow", "orsk red cross"]))
    b, _ = idx.assign(sig("b", [1, 0], names=["halm", "ebba lindqvist"]))
    assert a != b  # same vector, different names: not enough evidence
    c, _ = idx.assign(sig("c", [0.9, 0.1], names=["halm", "ebba lindqvist"]))
    assert c == b


def test_storylines_link_follow_up_events_but_not_unrelated_ones(tmp_path, fake_embedder):
    cfg = Config().with_overrides(storyline_threshold=0.05)
    sd = Storydesk(tmp_path / "s.db", config=cfg, embedder=fake_embedder, stages=cluster_stages())
    day = dt.date(2024, 3, 11)
    load(sd, [("f0", *FLOOD[0], day), ("f1", *FLOOD[1], day)])
    load(
        sd,
        [
            (
                "r0",
                "Tarrow valley clean-up begins",
                "Orsk Red Cross volunteers began clearing mud from the "
                "Tarrow valley villages on Friday, a week after the flood.",
                day + dt.timedelta(days=6),
            )
        ],
    )
    load(sd, [("e0", *ELECTION[0], day)])
    sd.build()
    evs = {e.articles[0]: e for e in sd.store.events()}
    assert evs["f0"].id != evs["r0"].id
    assert evs["f0"].storyline == evs["r0"].storyline
    assert evs["e0"].storyline != evs["f0"].storyline
    assert len(sd.store.storylines()) == 2
    sd.close()


def test_bcubed_on_a_hand_computed_case():
    gold = {"a": "1", "b": "1", "c": "2", "d": "2"}
    pred = {"a": "x", "b": "x", "c": "x", "d": "y"}
    # precision: a,b,c each 2/3 (or 1/3 for c), d 1 -> (2/3 + 2/3 + 1/3 + 1) / 4 = 0.6667
    # recall: a,b 1; c 1/2; d 1/2 -> 0.75
    s = bcubed(pred, gold)
    assert s["p"] == pytest.approx(0.6667, abs=1e-4)
    assert s["r"] == pytest.approx(0.75, abs=1e-4)
    assert s["f1"] == pytest.approx(2 * 0.6667 * 0.75 / (0.6667 + 0.75), abs=1e-3)
