"""Temporal expressions of one article, and the dated facts they anchor.

* :func:`tag_article` tags every sentence with :func:`storydesk.timex.tag_ranges`
  against the publication date and marks expressions that date the act of
  reporting ("state media said Monday") with role ``report``.
* :func:`dated_facts` turns each anchored expression into a dated fact: the clause
  around the expression (the whole sentence when it carries one date).
* :func:`lead_facts`: the undated opening sentences, candidates for the
  publication day in fixed-length timelines.

Everything here is a pure function of one article (the article map).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from storydesk.models import Article, Citation, DatedFact, Sentence, TimeExpression
from storydesk.textutil import DATE_WORDS, LIGHT_VERBS, REPORTING_WORDS, STOP_WORDS, content_words

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
    return len(fact_words(text))


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

    def stored(self) -> DatedFact:
        """The fact as its stored record (without vectors)."""
        return DatedFact(
            self.first,
            self.last,
            self.precision,
            self.text,
            tuple(self.citations),
            self.core,
            tuple(self.published),
            self.role,
        )

    @classmethod
    def of(cls, f: DatedFact) -> Fact:
        """A working fact from its stored record."""
        return cls(f.first, f.last, f.precision, f.text, list(f.citations), f.core, list(f.published), f.role)


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


#: Words that do not say what a dated fact is about: stop words, the reporting act, light
#: verbs ("came", "took") and date words (outlets date one happening differently: "on
#: Monday", "yesterday"; and the date is compared on its own).
_FACT_STOP = STOP_WORDS | REPORTING_WORDS | LIGHT_VERBS | DATE_WORDS


def fact_words(text: str) -> frozenset[str]:
    """What a fact's text is about: stems of its content words, no date words, no numbers."""
    return frozenset(w for w in content_words(text, _FACT_STOP) if not w.isdigit())


#: how many opening sentences of an article are candidates for its publication day
LEAD_SENTENCES = 5


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
