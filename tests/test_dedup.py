"""Near-duplicate detection: MinHash LSH, originals, same-day credits, incrementality."""

from __future__ import annotations

import datetime as dt

import numpy as np

from storydesk import artifacts as A
from storydesk.api import Storydesk
from storydesk.article.analyze import SignatureStage
from storydesk.article.signature import shingles, signature
from storydesk.config import Config
from storydesk.models import Article, Sentence, StrippedLine
from storydesk.pipeline import DEDUP

WIRE = (
    "Harbour pilots at the port of Velsund walked off the job on Tuesday, halting every ship movement in and out "
    "of the country's second-largest container terminal. The pilots' guild said its 230 members would stay out "
    "until the harbour board restored the night-shift allowance it cut in January. Board chairman Aldo Fenwick said "
    "the allowance had cost more than four million crowns a year and could not be brought back. Shipping lines "
    "diverted at least nine vessels to the smaller port of Brask, where cranes were already working around the "
    "clock. The guild last struck in 2019, when a two-day stoppage ended with a pay deal brokered by the transport "
    "ministry. Ministry officials said they were ready to talk to both sides but had not been asked to mediate."
)
# the same wire copy with a new headline and a few words changed by the outlet that ran it
COPY = (
    WIRE.replace("walked off the job", "walked out")
    .replace("halting every", "stopping every")
    .replace("could not be brought back", "could not be restored")
)
OTHER = (
    "Velsund's harbour board and the pilots' guild met for six hours on Thursday without reaching a deal, as the "
    "strike that has closed the port entered its third day. Guild spokeswoman Mira Tallis said the board had not "
    "moved on the night-shift allowance. Fenwick said the board had offered to phase it back in over three years. "
    "More than twenty ships now wait at anchor outside the port, according to the shipping agents' association."
)


def art(aid: str, text: str, day: int, outlet: str | None = None, title: str = "", stripped=()) -> Article:
    return Article(
        id=aid,
        source=aid,
        text=text,
        title=title or None,
        outlet=outlet,
        published=dt.date(2024, 5, day),
        stripped=tuple(stripped),
    )


class Desk:
    """A store whose pipeline is the signature stage and dedup."""

    def __init__(self, tmp_path, *articles: Article) -> None:
        self.sd = Storydesk(tmp_path / "d.db", stages=[SignatureStage(), DEDUP], workers=1)
        self.add(*articles)

    def add(self, *articles: Article) -> None:
        for a in articles:
            self.sd.store.add_article(a, [Sentence(a.id, 0, a.text, 0, len(a.text))])

    def run(self) -> dict[str, str | None]:
        self.sd.build()
        ids = self.sd.store.article_ids()
        return {k: d["duplicate_of"] for k, d in self.sd.store.get(A.DUPLICATE, ids).items()}


def test_shingles_fold_case_and_punctuation():
    assert shingles("The Pilots, walked OUT", 2) == {b"the pilots", b"pilots walked", b"walked out"}
    assert shingles("two words", 4) == {b"two words"}
    assert shingles("", 4) == set()


def test_copy_points_at_the_earlier_original_and_other_stories_do_not(tmp_path):
    st = Desk(
        tmp_path,
        art("a", WIRE, 7, "Norrow Wire", "Velsund harbour pilots strike"),
        art("b", COPY, 8, "Brask Daily", "Pilots' strike shuts Velsund port"),
        art("c", OTHER, 9, "Brask Daily", "Velsund talks fail"),
    )
    dups = st.run()
    assert dups == {"a": None, "b": "a", "c": None}
    sim = st.sd.store.get_one(A.DUPLICATE, "b")["similarity"]
    assert Config().dedup_threshold <= sim < 1.0


def test_same_day_copy_ingested_first_yields_to_the_credited_wire(tmp_path):
    credit = [StrippedLine("VELSUND, May 7 (Norrow Wire) –", "dateline")]
    st = Desk(
        tmp_path,
        art("copy", COPY, 7, None, "Pilots' strike shuts Velsund port", credit),  # ingested first
        art("wire", WIRE, 7, "Norrow Wire", "Velsund harbour pilots strike"),
    )
    assert st.run() == {"copy": "wire", "wire": None}


def test_rerun_is_incremental_and_new_copies_join_the_group(tmp_path):
    st = Desk(tmp_path, art("a", WIRE, 7, "Norrow Wire"), art("b", COPY, 8, "Brask Daily"))
    st.run()
    assert st.sd.build()["corpus step"]["processed"] == 0
    st.add(art("c", COPY.replace("nine vessels", "eight vessels"), 9, "Skel Post"))
    stats = st.sd.build()
    assert stats["article map"]["processed"] == 1 and stats["corpus step"]["processed"] == 1
    assert st.run()["c"] == "a"


def test_an_earlier_article_ingested_later_becomes_the_original(tmp_path):
    st = Desk(tmp_path, art("copy", COPY, 8, "Brask Daily"))  # the copy arrives first
    assert st.run() == {"copy": None}
    st.add(art("wire", WIRE, 7, "Norrow Wire"))  # a backfill brings in the wire story, published the day before
    assert st.run() == {"copy": "wire", "wire": None}


def test_signature_roundtrip():
    a = art("a", WIRE, 7)
    sig = signature(a, 4)
    assert sig.dtype == np.uint32 and len(sig) == 128
    assert np.array_equal(A.SIGNATURE.codec.decode(A.SIGNATURE.codec.encode(sig)), sig)
