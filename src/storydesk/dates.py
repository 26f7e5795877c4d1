"""Dates: temporal expressions per article, event dating, and timelines.

* :class:`TimexStage` tags every article with :func:`storydesk.timex.tag_ranges`
  against its publication date and marks expressions that date the act of
  reporting ("state media said Monday") with role ``report``.
* :func:`date_event` dates an event: when it happened, not when it was reported.
* :func:`dated_facts` turns each anchored expression into a dated fact: the clause
  around the expression (the whole sentence when it carries one date).
* :func:`merge_facts` folds the same dated fact reported by several outlets into one
  :class:`~storydesk.models.TimelineEntry` citing all of them, and marks background
  dates (long before the coverage starts) so they can be shown apart.
* :func:`summarize_timeline` picks the most reported dates and, for each, the facts
  closest to what all the articles say about it, for a timeline of a given length
  (the Timeline17 evaluation uses it).
* :class:`TimelineStage` stores event dates and event and storyline timelines.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np

from storydesk.embed import Embedder
from storydesk.models import (
    Article,
    Citation,
    Event,
    Sentence,
    TimeExpression,
    TimelineEntry,
    from_dict,
    to_dict,
)
from storydesk.pipeline import Context
from storydesk.textutil import fold
from storydesk.timex.lexicon import words

TIMEX_VERSION = "timex-1"
TIMELINE_VERSION = "timeline-3"
TIMEX_KIND = "timexes"
EVENT_DATES_KIND = "event_dates"
TIMELINE_KIND = "timeline"
STORYLINE_TIMELINE_KIND = "storyline_timeline"
#: vector kind of the clause embeddings cached in the store
CLAUSE_VECTORS = "timeline_clause"

#: a fact that ended this long before the first article of its collection is background
BACKGROUND_DAYS = 31

_REPORT_VERBS = (
    r"said|says|say|reported|reports|announced|announces|stated|told|added|quoted|described|declared|"
    r"confirmed|revealed|published|released|carried|cited|according"
)
_REPORT_BEFORE = re.compile(r"\b(?:" + _REPORT_VERBS + r")\s+(?:on\s+|late\s+|early\s+)?$", re.I)
_REPORT_AFTER = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:" + _REPORT_VERBS + r")\b", re.I)
_REPORT_SUBJECT = re.compile(
    r"\b(?:media|agency|kcna|reported|report|reports|statement|spokes\w+|officials?|ministry)\b[^.]{0,40}$",
    re.I,
)


# --------------------------------------------------------------------------- precision


def span_precision(value: str, first: dt.date | None, last: dt.date | None) -> str:
    """Calendar granularity of an anchored value: day, range, week, month, year or none.

    ``none`` for durations, sets and references (``PRESENT_REF``): they do not date
    anything. Quarters, seasons and halves count as ``month`` (coarse but within a
    year); decades and centuries as ``year``.
    """
    if first is None or last is None or not re.match(r"\d{2}", value):
        return "none"
    days = (last - first).days + 1
    if re.fullmatch(r"\d{4}-W\d{2}", value):
        return "week"
    if days <= 1:
        return "day"
    if re.fullmatch(r"\d{4}-\d{2}", value):
        return "month"
    if re.fullmatch(r"\d{4}", value) or days > 100:
        return "year"
    return "range" if days <= 31 else "month"


def precision(t: TimeExpression) -> str:
    """Calendar precision of a stored expression (see :func:`span_precision`)."""
    return span_precision(t.value, t.start, t.end)


_RANK = {"day": 0, "range": 0, "week": 1, "month": 2, "year": 3}


# --------------------------------------------------------------------------- tagging


def _role(sentence_text: str, start: int, end: int, is_dct: bool = False) -> str:
    """``report`` when the expression dates a reporting act ("said Monday", "reported on Monday").

    A date equal to the publication date counts as the report's date when a
    reporting verb precedes it in the sentence ("said on Sunday (August 6)").
    """
    before = sentence_text[:start]
    after = sentence_text[end:]
    if _REPORT_BEFORE.search(before) or _REPORT_AFTER.match(after):
        return "report"
    if is_dct and re.search(r"\b(?:" + _REPORT_VERBS + r")\b", before, re.I):
        return "report"
    if (
        re.search(r"\bon\s*$", before)
        and _REPORT_SUBJECT.search(before[:-3])
        and re.search(r"\b(?:reported|said|announced)\b", before)
    ):
        return "report"
    return "event"


def tag_article(article: Article, sentences: Sequence[Sentence]) -> list[TimeExpression]:
    """Temporal expressions of one article, anchored on its publication date."""
    from storydesk.timex import tag_ranges

    out: list[TimeExpression] = []
    for s in sentences:
        for t in tag_ranges(s.text, article.published):
            out.append(
                TimeExpression(
                    article_id=article.id,
                    sentence=s.index,
                    start_char=s.start + t.start,
                    end_char=s.start + t.end,
                    text=t.text,
                    type=t.type,
                    value=t.value,
                    start=t.first,
                    end=t.last,
                    role=_role(s.text, t.start, t.end, t.first is not None and t.first == article.published),
                )
            )
    return out


class TimexStage:
    """Temporal expressions of every article."""

    name: ClassVar[str] = "timex"
    version: ClassVar[str] = TIMEX_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"articles", "sentences"})
    assigns: ClassVar[frozenset[str]] = frozenset({"timexes"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Tag articles without a current record."""
        store = ctx.store
        done = {} if ctx.force else store.record_versions(TIMEX_KIND)
        todo = [a for a in store.articles() if done.get(a.id) != TIMEX_VERSION]
        n = 0
        with store.transaction():
            for art in ctx.progress(todo, total=len(todo), desc="dates"):
                tx = tag_article(art, store.sentences(art.id))
                n += len(tx)
                store.put_record(TIMEX_KIND, art.id, TIMEX_VERSION, [to_dict(t) for t in tx])
        return {"processed": len(todo), "expressions": n}


def load_timexes(store: Any, ids: Sequence[str]) -> dict[str, list[TimeExpression]]:
    """Stored expressions of some articles."""
    return {k: [from_dict(TimeExpression, t) for t in d] for k, _v, d in store.records(TIMEX_KIND, ids)}


# --------------------------------------------------------------------------- event dating


def date_event(
    articles: Sequence[Article], timexes: dict[str, list[TimeExpression]]
) -> tuple[dt.date | None, dt.date | None, str]:
    """When an event happened: the best-supported day or short range in its articles.

    Expressions that date the reporting act, future ones (after the latest
    publication date) and coarse ones (weeks, months) do not date the event; lead
    sentences weigh more than later ones, and several articles agreeing on a span
    weigh more than one. Falls back to the earliest publication date.

    Returns:
        ``(start, end, how)``.
    """
    published = [a.published for a in articles if a.published]
    latest = max(published) if published else None
    votes: dict[tuple[dt.date, dt.date], float] = defaultdict(float)
    support: dict[tuple[dt.date, dt.date], set[str]] = defaultdict(set)
    for a in articles:
        for t in timexes.get(a.id, []):
            if t.role == "report" or t.start is None or t.end is None:
                continue
            if precision(t) not in ("day", "range"):
                continue
            if latest and t.start > latest:
                continue
            if a.published and (a.published - t.start).days > 14:
                continue  # background ("on July 27") rather than the news itself
            end = min(t.end, latest) if latest and t.end > latest else t.end
            span = (t.start, end)
            votes[span] += 1.0 / (1.0 + t.sentence)
            support[span].add(a.id)
    if votes:
        best = max(votes, key=lambda s: (len(support[s]), votes[s], -(s[1] - s[0]).days))
        return best[0], best[1], f"text: {len(support[best])} article(s) date it"
    if published:
        d = min(published)
        return d, d, "publication date (no date of the happening found in the text)"
    return None, None, "undated"


# --------------------------------------------------------------------------- clauses

# Where a sentence may be cut into clauses: punctuation, or before a subordinating
# word. Over-splitting is harmless: a clause only stops growing at a piece that
# carries another date.
_BREAK = re.compile(
    r"\s*[;:]\s+|\s+[—–]\s*|\s*--\s*|,\s+|"
    r"\s+(?=(?:after|before|as|when|while|whereas|since|until|because|although|though|following|ahead\s+of|"
    r"but|whose|where)\b)|"
    r"\s+(?=and\s+(?:is|was|are|were|has|have|had|will|would|then|later|also|he|she|they|it|we|i)\b)",
    re.I,
)
_LEAD_WORD = re.compile(
    r"^(?:(?:just|shortly|only|even|days|weeks|months|hours|years|soon)\s+)*"
    r"(?:and|but|as|while|when|whereas|after|before|although|though|because|since)\s+",
    re.I,
)
_EDGE_JUNK = " \t,;:—–-"


def _pieces(text: str, spans: Sequence[tuple[int, int]]) -> list[tuple[int, int]]:
    """Cut ``text`` at clause breaks that fall outside the expression ``spans``.

    A subordinating word directly before an expression ("since 2019", "after
    Monday") is the expression's preposition, not a clause opener.
    """
    cuts: list[tuple[int, int]] = []
    for m in _BREAK.finditer(text):
        a, b = m.span()
        if any(s < b and a < e for s, e in spans):
            continue
        word = re.match(r"(?:ahead\s+of|\w+)\s*", text[b:])
        if word and m.group(0).strip() == "" and any(0 <= s - (b + word.end()) <= 4 for s, _e in spans):
            continue
        if not cuts or a >= cuts[-1][1]:
            cuts.append((a, b))
    pieces, pos = [], 0
    for a, b in cuts:
        if a > pos:
            pieces.append((pos, a))
        pos = b
    if pos < len(text):
        pieces.append((pos, len(text)))
    return pieces or [(0, len(text))]


def _content_count(text: str) -> int:
    """Number of content words (not stop words, not date words) in a piece of text."""
    return len(_content_words(text) - _DATE_WORDS)


def clause_of(text: str, spans: Sequence[tuple[int, int]], i: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The clause that carries expression ``i`` of a sentence, and its core.

    The sentence is cut into pieces (:func:`_pieces`). The **clause** grows from the
    expression's piece over neighbouring pieces until a piece that holds another
    expression; a piece that is only a fronted date ("On Friday,") grows to the
    right only, and the pieces after it belong to it rather than to a later date. A
    sentence with one expression is its own clause. The **core** is the smallest run
    of pieces around the expression with at least four content words: what is said
    about that date ("after a giant military parade last month in the capital"),
    which is what two outlets reporting the same fact share.

    Args:
        text: The sentence.
        spans: Character spans of the sentence's anchored expressions, in order.
        i: Which expression.

    Returns:
        ``((clause_start, clause_end), (core_start, core_end))`` into ``text``,
        trimmed of edge punctuation.
    """
    pieces = _pieces(text, spans)

    def holder(p: tuple[int, int]) -> list[int]:
        return [j for j, (s, e) in enumerate(spans) if s < p[1] and p[0] < e]

    def fronted(k: int) -> bool:
        a, b = pieces[k]
        rest = text[a:b]
        for j in holder(pieces[k]):
            s, e = spans[j]
            rest = rest.replace(text[s:e], " ")
        return len(re.findall(r"\w+", rest)) <= 2

    s0, e0 = spans[i]
    k = next((n for n, p in enumerate(pieces) if p[0] <= s0 < p[1] or p[0] < e0 <= p[1]), 0)
    others = {p for p in range(len(pieces)) if any(j != i for j in holder(pieces[p]))}
    if len(spans) <= 1:
        lo, hi = 0, len(pieces) - 1
    else:
        lo = k
        if not fronted(k):
            while lo > 0 and (lo - 1) not in others:
                lo -= 1
            before = [p for p in others if p < k]
            if before and fronted(max(before)):
                lo = k  # the pieces after a fronted date belong to that date
        hi = k
        while hi + 1 < len(pieces) and (hi + 1) not in others:
            hi += 1
    # the core: grow from the expression's piece, right first, within the clause
    clo = chi = k
    while _content_count(text[pieces[clo][0] : pieces[chi][1]]) < 4:
        if chi < hi:
            chi += 1
        elif clo > lo:
            clo -= 1
        else:
            break
    return _trim(text, pieces[lo][0], pieces[hi][1]), _trim(text, pieces[clo][0], pieces[chi][1])


def _trim(text: str, a: int, b: int) -> tuple[int, int]:
    """``(a, b)`` without edge punctuation and spaces."""
    while a < b and text[a] in _EDGE_JUNK:
        a += 1
    while b > a and text[b - 1] in _EDGE_JUNK:
        b -= 1
    return a, b


def _tidy_clause(clause: str, whole: bool) -> str:
    """A clause as timeline text: leading connective dropped, first letter capitalised."""
    if whole:
        return clause
    clause = _LEAD_WORD.sub("", clause, count=1)
    return clause[:1].upper() + clause[1:] if clause else clause


# --------------------------------------------------------------------------- dated facts


@dataclass
class Fact:
    """One dated fact: a clause with the expression that dates it, and who states it.

    Attributes:
        first: First day of the dated span.
        last: Last day.
        precision: ``day``, ``range``, ``week``, ``month`` or ``year``.
        text: The clause around the expression (the sentence when it has one date,
            or when the clause alone says too little).
        core: The few words around the expression that say what happened then;
            used with ``text`` to recognise the same fact in another outlet.
        citations: Sentences stating it.
        published: Publication date of each citing article.
        role: ``report`` when it dates the reporting act, else ``event``.
        vec: Embedding of ``text``, when an embedder is used.
        core_vec: Embedding of ``core``.
    """

    first: dt.date
    last: dt.date
    precision: str
    text: str
    citations: list[Citation]
    core: str = ""
    published: list[dt.date] = field(default_factory=list)
    role: str = "event"
    vec: np.ndarray | None = None
    core_vec: np.ndarray | None = None

    @property
    def articles(self) -> set[str]:
        """Distinct articles stating the fact."""
        return {c.article for c in self.citations}


_CLOCK = re.compile(r"\d:\d\d")
_YEAR = re.compile(r"\b(?:1[89]|20)\d\d\b|\b\d{1,2}\s+[A-Z][a-z]+\s+\d\d\b")
# what may stand before a stamp's date: a place in capitals and "|", a weekday, "Posted" words
_STAMP_LEAD = re.compile(
    r"^[\W_]*(?-i:[A-Z][A-Z.'\- ]{1,40}\|[\W_]*)?"
    r"(?:(?:at|posted|updated|update|published|last\s+updated|re|(?:mon|tue|wed|thu|fri|sat|sun)[a-z]*)\b[\W_]*)*$",
    re.I,
)
_CLOCK_NEXT = re.compile(r"^[\s,;]*(?:at\s+)?\d{1,2}:\d\d")
# "Posted by ann", "Last updated at 13:17 GMT on": only where a stamp stands, at the start
# of the sentence or after a "|" separator ("The results were published on Monday" is news).
_POSTED_BY = re.compile(
    r"(?:^|\|)[\W_]*(?:last\s+)?(?:posted|updated?|published)\b:?(?:\s+(?:by|on|at))?"
    r"(?:\s+[\w.@':-]+){0,4}[\s,:–-]*$",
    re.I,
)
_STAMP_TAIL = re.compile(
    r"^[\s\d:apmAPM.,]*(?:\||(?:at\s+[\d:]+\s*[ap]\.?m\.?\s*)?\|)|^[^|.]{0,40}?\bwrote\s*:|"
    r"^\W*(?:report\s+abuse|reply|last\s+updated|(?-i:[A-Z][A-Z.'\- ]{1,40},?\s*)?\((?:reuters|ap|afp)\))",
    re.I,
)


def is_stamp(sentence: str, start: int, end: int) -> bool:
    """Whether the expression at ``sentence[start:end]`` is a posting stamp, not a happening.

    Scraped pages carry timestamps of the story and its comments ("Sat Apr 25, 2009
    12:51 am BST (Reuters) -", "January 27, 2011 at 7:59 pm | Report abuse |", "At
    12:19 26th Apr 2009, Jim wrote:", "Posted by ann 2 May 2012"): they date the
    page, not anything that happened. One is:

    * any date followed by a comment or page marker ("| Report abuse", "Jim wrote:",
      "Last updated", "(Reuters)"), or after a leading "Posted by ..." / "Updated:";
    * a full date (with a year) and a clock time that opens the sentence, unless the
      sentence goes on after a comma ("At 2:46 pm on March 11, 2011, a quake struck").

    Args:
        sentence: The sentence text.
        start: Start of the expression in ``sentence``.
        end: End of the expression.
    """
    before, text, after = sentence[:start], sentence[start:end], sentence[end:]
    if _STAMP_TAIL.match(after) or _POSTED_BY.search(before):
        return True
    if re.match(r"\s*,\s+\w", after):
        return False
    clock = _CLOCK.search(text) or _CLOCK_NEXT.match(after)
    return bool(clock and _YEAR.search(text) and _STAMP_LEAD.match(before))


# A posting stamp or wire credit that opens a sentence of a scraped page ("HOUSTON | Wed
# May 26, 2010 7:46 pm EDT HOUSTON (Reuters) - ", "17 July 2012 Last updated at 13:17
# GMT Help "): page furniture, not what the sentence says.
_STAMP_PREFIX = (
    re.compile(r"^.{0,160}?\((?:Reuters|AP|AFP)\)\s*(?:[-–—]+|:)\s*"),
    re.compile(r"^.{0,100}?\bLast updated at \d{1,2}:\d\d(?:\s*(?:GMT|BST|ET|EST|EDT))?\s*(?:Help\s+)?", re.I),
)


def strip_stamp(text: str) -> str:
    """``text`` without a leading posting stamp or wire credit (unchanged when little would be left)."""
    out = text
    for pattern in _STAMP_PREFIX:
        out = pattern.sub("", out, count=1)
    return out if len(out) >= 20 and out != text else text


def dated_facts(article: Article, sentences: Sequence[Sentence], timexes: Sequence[TimeExpression]) -> list[Fact]:
    """The dated facts of one article: one per anchored expression and sentence.

    Durations and references (``now``, ``recently``) date nothing, and a date in a
    clause with a recurring expression ("held annually in August") is generic, not
    a fact. When a sentence carries several dates, each fact gets the clause around
    its own date; two expressions of the same span in one sentence ("on Monday
    (August 14)") make one fact.

    Args:
        article: The article (its publication date is recorded on the facts).
        sentences: Its sentences.
        timexes: Its stored expressions (from :func:`tag_article`).

    Returns:
        Facts in text order.
    """
    by_sentence: dict[int, list[TimeExpression]] = defaultdict(list)
    for t in timexes:
        by_sentence[t.sentence].append(t)
    out: list[Fact] = []
    for s in sentences:
        found = by_sentence.get(s.index)
        if not found:
            continue
        ts = sorted((t for t in found if precision(t) != "none"), key=lambda t: t.start_char)
        if not ts:
            continue
        ts = [t for t in ts if not is_stamp(s.text, t.start_char - s.start, t.end_char - s.start)]
        if not ts:
            continue
        sets = [(t.start_char - s.start, t.end_char - s.start) for t in found if t.type == "SET"]
        spans = [(t.start_char - s.start, t.end_char - s.start) for t in ts]
        seen: set[tuple[dt.date, dt.date]] = set()
        for i, t in enumerate(ts):
            assert t.start is not None and t.end is not None
            if (t.start, t.end) in seen:
                continue
            seen.add((t.start, t.end))
            (a, b), (ca, cb) = clause_of(s.text, spans, i)
            if any(a <= x and y <= b for x, y in sets):
                continue
            whole = (a, b) == (0, len(s.text))
            if not whole and _content_count(s.text[a:b]) < 3:
                a, b, whole = 0, len(s.text), True  # a clause that says too little: keep the sentence
            out.append(
                Fact(
                    first=t.start,
                    last=t.end,
                    precision=precision(t),
                    text=strip_stamp(_tidy_clause(s.text[a:b], whole)),
                    core=s.text[ca:cb],
                    citations=[Citation(article.id, s.index)],
                    published=[article.published] if article.published else [],
                    role=t.role,
                )
            )
    return out


def _fact_key(f: Fact, text: str) -> str:
    c = f.citations[0]
    return f"{c.article}:{c.sentence}:{fold(text)[:300]}"


def embed_facts(facts: Sequence[Fact], embedder: Embedder, store: Any = None) -> None:
    """Set ``vec`` and ``core_vec`` of each fact, reusing vectors cached in ``store`` when given."""
    texts = {_fact_key(f, t): t for f in facts for t in (f.text, f.core or f.text)}
    have: dict[str, np.ndarray] = {}
    if store is not None:
        have = store.get_vectors(CLAUSE_VECTORS, embedder.model_id, texts.keys())
    missing = [k for k in texts if k not in have]
    if missing:
        new = dict(zip(missing, embedder.encode([texts[k] for k in missing]), strict=True))
        if store is not None:
            store.put_vectors(CLAUSE_VECTORS, embedder.model_id, new)
        have.update(new)
    for f in facts:
        f.vec = have[_fact_key(f, f.text)]
        f.core_vec = have[_fact_key(f, f.core or f.text)]


# --------------------------------------------------------------------------- merging

_WORD = re.compile(r"[a-z][a-z'-]{2,}|\d+")
_STOP = words(
    """the and for that with from this have has had was were are its his her their they them than then there
    which who whom whose what when where while will would could should also been being into over after before
    about said says say told according reported report reports more most some such other only just very
    not but can may might did does one two three on in at by of to as it is be he she we you an or
    come comes came coming made make makes took take takes got get gets went"""
)
_DATE_WORDS = words(
    """january february march april may june july august september october november december jan feb mar apr jun
    jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday today yesterday
    tomorrow tonight week month year day days weeks month months year years last next this early late earlier
    later ago mid morning afternoon evening night weekend"""
)


def _content_words(text: str) -> set[str]:
    """Content words of a text, folded and crudely stemmed (plural -s dropped); numbers excluded."""
    out = set()
    for w in _WORD.findall(fold(text)):
        if w in _STOP or w.isdigit():
            continue
        out.add(w[:-1] if len(w) > 4 and w.endswith("s") and not w.endswith("ss") else w)
    return out


@lru_cache(maxsize=1 << 16)
def _bag(text: str) -> frozenset[str]:
    """Content words of a text without date words (cached: merging compares each text many times)."""
    return frozenset(_content_words(text) - _DATE_WORDS)


def _overlap(a: str, b: str) -> float:
    """Cosine of two texts' content-word sets."""
    return _cosine(_bag(a), _bag(b))


def similarity(a: Fact, b: Fact) -> float:
    """How alike two facts are: the better of their texts' and their cores' similarity.

    Embedding cosine when both facts have vectors, else the cosine of their
    content-word sets (date words left out).
    """
    if a.vec is not None and b.vec is not None:
        sim = float(np.dot(a.vec, b.vec))
        if a.core_vec is not None and b.core_vec is not None:
            sim = max(sim, float(np.dot(a.core_vec, b.core_vec)))
        return sim
    return max(_overlap(a.text, b.text), _overlap(a.core or a.text, b.core or b.text))


#: similarity needed to merge two facts with equal spans / with one span inside the other
SAME_SPAN_THRESHOLD = {"vec": 0.5, "words": 0.3}
#: ... with an equal, specific span: a day or a few days that is not a publication day
SPECIFIC_SPAN_THRESHOLD = {"vec": 0.4, "words": 0.25}
NESTED_THRESHOLD = {"vec": 0.6, "words": 0.4}
#: a span longer than this (in days) only merges with facts of the very same span
MAX_NESTING_DAYS = 92


def _specific(a: Fact, b: Fact) -> bool:
    """Whether two facts of equal span share a telling date: a day or range off their publication days.

    Much happens "on Monday" in a Monday paper; two outlets dating something to the
    same earlier Friday and Saturday are likely telling the same story.
    """
    if a.precision not in ("day", "range"):
        return False
    return not any(a.first <= p <= a.last for p in (*a.published, *b.published))


def _nested(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])


class _Clusters:
    """Union-find over facts that keeps every cluster consistent.

    A cluster's spans must nest pairwise (one fact, one time). And an article that
    dates something precisely ("on Friday and Saturday") does not restate it more
    coarsely elsewhere: its "last week" is about something else. (The other way
    round is common: "drills next week" in the lead, "August 21 through 31" below.)
    """

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.parent = list(range(len(facts)))
        self.spans: list[set[tuple[dt.date, dt.date]]] = [{(f.first, f.last)} for f in facts]
        self.dated: list[dict[str, set[tuple[dt.date, dt.date, int]]]] = [
            {c.article: {(f.first, f.last, _RANK[f.precision])} for c in f.citations} for f in facts
        ]

    def find(self, i: int) -> int:
        """Root of ``i``'s cluster."""
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        """Join the clusters of ``i`` and ``j`` unless that breaks consistency."""
        a, b = self.find(i), self.find(j)
        if a == b:
            return False
        if not all(_nested(x, y) for x in self.spans[a] for y in self.spans[b]):
            return False
        da, db = self.dated[a], self.dated[b]
        for k in da.keys() & db.keys():
            if any(_restated_coarser(x, y) or _restated_coarser(y, x) for x in da[k] for y in db[k]):
                return False
        self.parent[b] = a
        self.spans[a] |= self.spans[b]
        for k, v in db.items():
            da.setdefault(k, set()).update(v)
        return True


def _restated_coarser(x: tuple[dt.date, dt.date, int], y: tuple[dt.date, dt.date, int]) -> bool:
    """Whether span ``x`` is a coarser mention (week, month, year) around the precise span ``y``."""
    return x[2] > 0 and y[2] == 0 and x[0] <= y[0] and y[1] <= x[1] and x[:2] != y[:2]


def _candidate_pairs(facts: Sequence[Fact]) -> list[tuple[float, int, int]]:
    """Pairs of facts that may state the same thing, with their similarity.

    Pairs with equal spans come first, then nested ones; each part best first.
    """
    by_span: dict[tuple[dt.date, dt.date], list[int]] = defaultdict(list)
    for i, f in enumerate(facts):
        by_span[(f.first, f.last)].append(i)
    # spans short enough to hold other spans, indexed by month for the nesting search
    outer_by_month: dict[tuple[int, int], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for sp in by_span:
        if 1 <= (sp[1] - sp[0]).days <= MAX_NESTING_DAYS:
            y, m = sp[0].year, sp[0].month
            while (y, m) <= (sp[1].year, sp[1].month):
                outer_by_month[(y, m)].append(sp)
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    same: list[tuple[float, int, int]] = []
    nested: list[tuple[float, int, int]] = []

    def add(i: int, j: int, table: dict[str, float], pairs: list[tuple[float, int, int]]) -> None:
        fi, fj = facts[i], facts[j]
        mode = "vec" if fi.vec is not None and fj.vec is not None else "words"
        sim = similarity(fi, fj)
        if sim >= table[mode]:
            pairs.append((sim, i, j))

    for sp, idx in by_span.items():
        for x in range(len(idx)):
            for y in range(x + 1, len(idx)):
                table = SPECIFIC_SPAN_THRESHOLD if _specific(facts[idx[x]], facts[idx[y]]) else SAME_SPAN_THRESHOLD
                add(idx[x], idx[y], table, same)
        outers = {o for o in outer_by_month.get((sp[0].year, sp[0].month), []) if o != sp and _nested(o, sp)}
        for o in outers:
            if (o[1] - o[0]) <= (sp[1] - sp[0]):
                continue  # count each nested pair once, from its inner span
            for i in idx:
                for j in by_span[o]:
                    add(i, j, NESTED_THRESHOLD, nested)
    # Equal dates are the stronger evidence: those pairs are joined first.
    return sorted(same, key=lambda p: -p[0]) + sorted(nested, key=lambda p: -p[0])


def merge_facts(facts: Sequence[Fact], horizon: dt.date | None = None) -> list[TimelineEntry]:
    """Fold facts stating the same dated fact into one entry citing every source.

    Two facts may be one when their spans nest (one lies within the other) and
    they are alike enough (:func:`similarity`; the bar is lower for equal spans).
    Candidate pairs are joined best first, keeping each group consistent (see
    :class:`_Clusters`). An entry takes the most precise span of its group (a day
    or range before a week, a week before a month; then the shortest) and the text
    of the member closest to the others among those with that span.

    Args:
        facts: Dated facts from :func:`dated_facts` (optionally with vectors).
        horizon: Where coverage starts (the earliest publication date of the
            collection); entries ending more than :data:`BACKGROUND_DAYS` before it
            are marked ``background``. Default: the earliest publication date among
            the facts.

    Returns:
        Entries in date order; same-day entries with more citing articles first.
    """
    if horizon is None:
        pubs = [p for f in facts for p in f.published]
        horizon = min(pubs) if pubs else None
    clusters = _Clusters(facts)
    sims: dict[tuple[int, int], float] = {}
    for sim, i, j in _candidate_pairs(facts):
        if clusters.union(i, j):
            sims[(i, j)] = sims[(j, i)] = sim
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(len(facts)):
        groups[clusters.find(i)].append(i)
    cutoff = horizon - dt.timedelta(days=BACKGROUND_DAYS) if horizon else None
    out: list[tuple[TimelineEntry, int]] = []
    for members in groups.values():
        tight = min(members, key=lambda i: (_RANK[facts[i].precision], facts[i].last - facts[i].first))
        span = (facts[tight].first, facts[tight].last)
        same = [i for i in members if (facts[i].first, facts[i].last) == span]
        head = max(same, key=lambda i: (sum(sims.get((i, j), 0.0) for j in members), facts[i].role == "event", -i))
        f = facts[head]
        cites: list[Citation] = []
        for i in sorted(members, key=lambda i: (i != head, i)):
            cites.extend(c for c in facts[i].citations if c not in cites)
        entry = TimelineEntry(
            date=f.first,
            end=f.last if f.last != f.first else None,
            text=f.text,
            citations=tuple(cites),
            precision="day" if f.precision == "range" else f.precision,
            background=bool(cutoff and f.last < cutoff),
        )
        out.append((entry, len({c.article for c in cites})))
    out.sort(key=lambda x: (x[0].date, x[0].end or x[0].date, -x[1]))
    return [e for e, _n in out]


# --------------------------------------------------------------------------- summaries


#: a mention of the article's own publication day ("on Monday" in a Monday paper)
#: is routine: it counts this much towards the day's weight
PUBLICATION_DAY_WEIGHT = 0.5
#: how many opening sentences of an article are candidates for its publication day
LEAD_SENTENCES = 5
#: a candidate this similar (TF-IDF cosine) to a fact already picked for the day is a repeat
REPEAT_SIMILARITY = 0.5


def _short(f: Fact) -> bool:
    """A fact dated to one day, or to a range of at most three days (it counts for its first)."""
    return f.precision in ("day", "range") and (f.last - f.first).days <= 2


def day_weights(facts: Sequence[Fact]) -> dict[dt.date, float]:
    """How much the articles single out each day: one vote per article that dates a fact to it.

    Only day-precise mentions of a happening vote ("on April 20", "Friday and
    Saturday" for its first day). A week or a month says nothing about which day
    mattered, and the day of a reporting act ("said on Monday") is when the news
    was told, not when it happened. A mention of the article's own publication
    day counts :data:`PUBLICATION_DAY_WEIGHT`.
    """
    votes: dict[str, dict[dt.date, float]] = defaultdict(dict)
    for f in facts:
        if f.role != "event" or not _short(f):
            continue
        w = PUBLICATION_DAY_WEIGHT if f.first in f.published else 1.0
        for c in f.citations:
            v = votes[c.article]
            v[f.first] = max(v.get(f.first, 0.0), w)
    out: dict[dt.date, float] = defaultdict(float)
    for v in votes.values():
        for d, w in v.items():
            out[d] += w
    return dict(out)


def lead_facts(
    article: Article, sentences: Sequence[Sentence], timexes: Sequence[TimeExpression], n: int = LEAD_SENTENCES
) -> list[Fact]:
    """The article's opening sentences that carry no date, as candidates for its publication day.

    A news lead without a date reports the latest development: something that
    happened on the publication day or the day before. That is too vague for the
    timeline itself, but a good candidate when :func:`summarize_timeline` picks
    what to say about a day (as DATEWISE does with the first sentences of the
    day's articles). Role ``lead``; posting stamps do not count as dates, and are
    cut from the text (:func:`strip_stamp`).

    Args:
        article: The article (without a publication date there are no lead facts).
        sentences: Its sentences.
        timexes: Its expressions.
        n: How many opening sentences to consider.
    """
    if article.published is None:
        return []
    by_index = {s.index: s for s in sentences}
    dated = {
        t.sentence
        for t in timexes
        if precision(t) != "none"
        and t.sentence in by_index
        and not is_stamp(
            by_index[t.sentence].text,
            t.start_char - by_index[t.sentence].start,
            t.end_char - by_index[t.sentence].start,
        )
    }
    return [
        Fact(
            article.published,
            article.published,
            "day",
            strip_stamp(s.text),
            [Citation(article.id, s.index)],
            core=s.text,
            published=[article.published],
            role="lead",
        )
        for s in sentences[:n]
        if s.index not in dated and s.text.strip()
    ]


def summarize_timeline(
    facts: Sequence[Fact],
    n_dates: int,
    per_date: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    weights: dict[dt.date, float] | None = None,
    leads: Sequence[Fact] = (),
    corpus: Sequence[str] | None = None,
) -> list[tuple[dt.date, list[TimelineEntry]]]:
    """A timeline of fixed length: the days the articles single out and what they say about them.

    Days are ranked by ``weights`` (default :func:`day_weights`). A day's
    candidates are the facts dated to it (day-precise, or a range of up to three
    days starting on it) and the undated leads (:func:`lead_facts`) of articles
    published that day or the next. Its summary is chosen greedily so that the
    summary's TF-IDF vector is as close as possible to the centroid of all the
    day's candidates (Ghalandari & Ifrim's CentroidOpt): every statement counts
    in the centroid, so what several outlets say about the day weighs more, and
    a candidate too close to one already picked (cosine above
    :data:`REPEAT_SIMILARITY`) is skipped.

    Args:
        facts: Dated facts from :func:`dated_facts`.
        n_dates: How many days to keep.
        per_date: How many facts per day.
        start: Ignore days before this one.
        end: Ignore days after this one.
        weights: Weight of each day.
        leads: Lead facts of the articles.
        corpus: Texts the TF-IDF weights are learnt from (the collection's
            sentences); default: the candidates themselves.

    Returns:
        ``[(day, [entries])]`` in date order. Each entry cites every candidate
        with the same text (copies of one wire story).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if weights is None:
        weights = day_weights(facts)
    cands: dict[dt.date, list[Fact]] = defaultdict(list)
    for f in facts:
        if _short(f) and (start is None or f.first >= start) and (end is None or f.first <= end):
            cands[f.first].append(f)
    for f in leads:
        for d in (f.first, f.first - dt.timedelta(days=1)):
            if (start is None or d >= start) and (end is None or d <= end):
                cands[d].append(f)
    ranked = sorted((d for d in cands if weights.get(d, 0.0) > 0), key=lambda d: (-weights.get(d, 0.0), d))
    if not ranked or n_dates <= 0:
        return []
    texts = corpus if corpus else [f.text for d in ranked for f in cands[d]]
    try:
        vectorizer = TfidfVectorizer(stop_words="english").fit(texts)
    except ValueError:  # nothing but stop words
        return []
    out: list[tuple[dt.date, list[TimelineEntry]]] = []
    for d in ranked:
        if len(out) == n_dates:
            break
        by_text: dict[str, list[Fact]] = {}
        for f in cands[d]:
            by_text.setdefault(f.text, []).append(f)
        unique = list(by_text)
        matrix = vectorizer.transform(unique)
        cols = np.unique(matrix.nonzero()[1])
        if not len(cols):
            continue
        vecs = matrix[:, cols].toarray()
        counts = np.array([len(by_text[t]) for t in unique], dtype=float)
        chosen = _centroid_pick(vecs, counts @ vecs, per_date)
        entries = []
        for i in chosen:
            cites: list[Citation] = []
            for f in by_text[unique[i]]:
                cites.extend(c for c in f.citations if c not in cites)
            entries.append(TimelineEntry(date=d, text=unique[i], citations=tuple(cites), precision="day"))
        if entries:
            out.append((d, entries))
    return sorted(out, key=lambda x: x[0])


def _centroid_pick(vecs: np.ndarray, centroid: np.ndarray, k: int) -> list[int]:
    """Greedily pick up to ``k`` rows whose sum is closest (cosine) to ``centroid``, skipping repeats."""
    norm = float(np.linalg.norm(centroid))
    if not norm:
        return []
    centroid = centroid / norm
    to_centroid = vecs @ centroid
    sq = (vecs * vecs).sum(axis=1)
    length = np.sqrt(np.maximum(sq, 1e-12))
    acc = np.zeros(vecs.shape[1])
    open_ = np.ones(len(vecs), dtype=bool)
    chosen: list[int] = []
    while open_.any() and len(chosen) < k:
        # cosine of (summary + candidate) with the centroid, for every candidate at once
        num = acc @ centroid + to_centroid
        den = np.sqrt(np.maximum(acc @ acc + 2 * (vecs @ acc) + sq, 1e-12))
        i = int(np.argmax(np.where(open_, num / den, -np.inf)))
        open_[i] = False
        if any(float(vecs[i] @ vecs[j]) / (length[i] * length[j]) > REPEAT_SIMILARITY for j in chosen):
            continue
        chosen.append(i)
        acc = acc + vecs[i]
    return chosen


def _cosine(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / (len(a) * len(b)) ** 0.5 if a and b else 0.0


# --------------------------------------------------------------------------- stage


def _facts_for(articles: Sequence[Article], timexes: dict[str, list[TimeExpression]], ctx: Context) -> list[Fact]:
    """Dated facts of some articles, with clause vectors."""
    out: list[Fact] = []
    for a in articles:
        out.extend(dated_facts(a, ctx.store.sentences(a.id), timexes.get(a.id, [])))
    if out:
        embed_facts(out, ctx.embedder, ctx.store)
    return out


class TimelineStage:
    """Event dates and event/storyline timelines."""

    name: ClassVar[str] = "timeline"
    version: ClassVar[str] = TIMELINE_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"events", "storylines", "timexes"})
    assigns: ClassVar[frozenset[str]] = frozenset({"event_dates", "timelines"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Date events whose membership changed and rebuild their timelines."""
        store = ctx.store
        events = store.events()
        done = {k: d for k, _v, d in store.records(EVENT_DATES_KIND)} if not ctx.force else {}
        versions = store.record_versions(EVENT_DATES_KIND)
        facts_by_event: dict[str, list[Fact]] = {}
        updated: list[Event] = []
        changed = 0
        for ev in ctx.progress(events, total=len(events), desc="timeline"):
            arts = store.articles(ev.articles)
            tx = load_timexes(store, ev.articles)
            facts = _facts_for(arts, tx, ctx)
            facts_by_event[ev.id] = facts
            members = sorted(ev.articles)
            prev = done.get(ev.id)
            if prev and prev.get("members") == members and versions.get(ev.id) == TIMELINE_VERSION:
                continue
            start, end, how = date_event(arts, tx)
            store.put_record(
                EVENT_DATES_KIND,
                ev.id,
                TIMELINE_VERSION,
                {"members": members, "start": start, "end": end, "how": how},
            )
            store.put_record(TIMELINE_KIND, ev.id, TIMELINE_VERSION, [to_dict(e) for e in merge_facts(facts)])
            updated.append(Event(ev.id, ev.articles, ev.title, ev.storyline, start, end))
            changed += 1
        if updated:
            from storydesk.cluster import VERSION as CLUSTER_VERSION

            store.put_events(updated, CLUSTER_VERSION)
        for sl in store.storylines():
            facts = [f for eid in sl.events for f in facts_by_event.get(eid, [])]
            store.put_record(STORYLINE_TIMELINE_KIND, sl.id, TIMELINE_VERSION, [to_dict(e) for e in merge_facts(facts)])
        return {"events_dated": changed}
