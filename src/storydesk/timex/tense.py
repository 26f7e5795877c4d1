"""Light sentence splitting and tense cues for weekday / bare-month resolution.

Running a POS tagger per sentence costs far more than the whole regex grammar, so the
tense of the clause around an expression is read from surface cues instead: the
nearest auxiliary, modal, plan verb ("is set to", "plans to") or past-tense verb
("met", "visited", irregular forms from a word list) to the left of the expression,
then, if the left side says nothing, to its right.
"""

from __future__ import annotations

import bisect
import re
from typing import Literal

from storydesk.timex.lexicon import (
    ED_NOT_PAST,
    FUTURE_WORDS,
    PAST_IRREGULAR,
    PAST_MARKERS,
    REPORTING_PRESENT,
    TO_FUTURE_HEADS,
    words,
)

Tense = Literal["past", "future", "report"] | None

# Abbreviations after which a full stop does not end a sentence.
_ABBREV: frozenset[str] = words(
    """mr mrs ms dr prof gen lt col sgt capt cmdr adm gov sen rep rev sr jr st mt ft no nos vs etc inc
    co corp ltd jan feb mar apr jun jul aug sep sept oct nov dec"""
)
_SENT_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+(?=[\"'“‘(\[]?[A-Z0-9])|\n\s*")
_LAST_TOKEN = re.compile(r"(\S+?)[.!?]*[\"'”’)\]]*\s*$")

_WORD = re.compile(r"[A-Za-z]+(?:['’][a-z]+)?|;|:(?!\d)|,")  # "15:00" is no clause break
# Words that open a new clause: a verb after them does not govern the expression.
_CLAUSE_OPENERS = words("""and but or which that who whom whose when where while as because if after before""")
_AUX_BE = words("is are am 's 're was were")


def _is_boundary(text: str, m: re.Match[str]) -> bool:
    """False for a full stop that closes an abbreviation or an initial ("Mr.", "U.S.", "J.")."""
    if m.group(0)[0] != ".":
        return True
    lt = _LAST_TOKEN.search(text, max(0, m.start() - 12), m.end())
    if lt is None:
        return True
    tok = lt.group(1).rstrip(".")
    if tok.lower() in _ABBREV:
        return False
    # Single letters and dotted acronyms ("J.", "U.S.") rarely end a news sentence.
    return not ((len(tok) == 1 and tok.isalpha()) or re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", tok))


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """Split ``text`` into sentence spans with a cheap regex (good enough for tense windows).

    Args:
        text: Any plain text.

    Returns:
        A list of (start, end) character offsets covering the text in order.
    """
    spans: list[tuple[int, int]] = []
    pos = 0
    for m in _SENT_END.finditer(text):
        if m.group(0)[0] in ".!?" and not _is_boundary(text, m):
            continue
        if m.start() > pos:
            spans.append((pos, m.end()))
        pos = m.end()
    if pos < len(text):
        spans.append((pos, len(text)))
    return spans


class Sentences:
    """Sentence lookup by character offset for one text."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.spans = sentence_spans(text)
        self._starts = [s for s, _ in self.spans]

    def around(self, pos: int) -> tuple[int, int]:
        """The (start, end) of the sentence containing offset ``pos``."""
        if not self.spans:
            return 0, len(self.text)
        i = bisect.bisect_right(self._starts, pos) - 1
        return self.spans[max(i, 0)]

    def index(self, pos: int) -> int:
        """Index of the sentence containing offset ``pos``."""
        return max(bisect.bisect_right(self._starts, pos) - 1, 0)


def _classify(words: list[str], i: int, direction: int) -> Tense:
    """Tense cue carried by ``words[i]`` (None when the word says nothing).

    ``direction`` is -1 when scanning leftwards, so "to" can look at the word before it.
    """
    w = words[i]
    if w[0].isupper():
        # Names and sentence-initial words: "Will" or "May" as names must not count.
        return None
    lw = w.lower().replace("’", "'")
    if lw == "to":
        prev = words[i - 1].lower() if i > 0 else ""
        if prev in TO_FUTURE_HEADS:
            return "future"
        # A bare infinitive ("programme to run through June") is left to the head verb
        # further left: measured on news text, reading it as future did more harm than good.
        return None
    if lw in ("set",):
        nxt = words[i + 1].lower() if i + 1 < len(words) else ""
        return "future" if nxt in ("to", "for") else "past"
    if lw in FUTURE_WORDS or lw.endswith("'ll"):
        return "future"
    if lw in _AUX_BE or lw.endswith(("'s", "'re")):
        # "is meeting on Friday": present progressive of a scheduled event looks forward.
        nxt = words[i + 1] if i + 1 < len(words) else ""
        if nxt.endswith("ing") and nxt.islower():
            return "future" if lw in ("is", "are", "am", "'s", "'re") else "past"
        if lw in ("was", "were"):
            return "past"
        return None
    if lw in REPORTING_PRESENT:
        return "report"
    if lw in PAST_IRREGULAR or lw in PAST_MARKERS:
        return "past"
    if lw in ("has", "have") and i + 1 < len(words) and words[i + 1].lower().endswith(("ed", "en")):
        return "past"
    if len(lw) > 4 and lw.endswith("ed") and lw not in ED_NOT_PAST:
        if i > 0 and words[i - 1].lower() in ("be", "being"):
            return None  # "to be published": tenseless, the head further left decides
        return "past"
    return None


def clause_tense(text: str, sent: tuple[int, int], start: int, end: int, window: int = 14) -> Tense:
    """Tense of the clause governing the expression ``text[start:end]``.

    The nearest cue to the left wins (English puts the governing verb before its
    time adverbial); a cue right after the expression ("Friday's vote will ...") or, for
    an expression opening its clause, the first cue to the right, is used otherwise.

    Args:
        text: The whole text.
        sent: (start, end) of the sentence that holds the expression.
        start: Start offset of the expression.
        end: End offset of the expression.
        window: How many words to look at on each side.

    Returns:
        ``"past"``, ``"future"``, ``"report"`` (present-tense reporting verb) or None.
    """
    # Bounded slices: a run-on "sentence" (no punctuation) must not make this quadratic.
    left = _WORD.findall(text[max(sent[0], start - 40 * window) : start])[-window:]
    if left and left[-1].lower() == "since":
        return "past"  # "since March": whatever the verb, the date lies behind us
    right = _WORD.findall(text[end : min(sent[1], end + 40 * window)])[:window]
    lw = [w for w in left if w not in (",",)]
    # Right side first when the next word is an auxiliary: "Friday's summit will ...".
    for j, w in enumerate(right[:3]):
        if w in (",", ";", ":") or w.lower() in _CLAUSE_OPENERS:
            break
        aux = w.lower() in ("will", "would", "was", "were", "had", "is", "are") or w.lower().endswith("'ll")
        if aux and not any(x[0].isupper() for x in right[:j]):
            t = _classify(right, j, 1)
            if t:
                return t
    for i in range(len(lw) - 1, -1, -1):
        if lw[i] in (";", ":"):
            break
        t = _classify(lw, i, -1)
        if t:
            return t
    # Nothing on the left: read to the right, across a comma only when the expression
    # opens its clause ("On Friday, officials said ...").
    opens_clause = not lw or all(
        w.lower()
        in (
            "on",
            "by",
            "since",
            "until",
            "early",
            "late",
            "and",
            "but",
            "last",
            "this",
            "next",
            "from",
            "as",
            "of",
        )
        for w in lw
    )
    for i, w in enumerate(right):
        if w in (";", ":") or (w == "," and not opens_clause):
            break
        if w == ",":
            continue
        t = _classify(right, i, 1)
        if t:
            return t
    return None
