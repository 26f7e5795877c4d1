"""The tagging pipeline: match rules, attach modifiers, keep the longest, resolve in order."""

from __future__ import annotations

import bisect
import datetime as dt
import re
from dataclasses import replace

from storydesk.timex.calendar import Norm
from storydesk.timex.grammar import RULES, Cand, Resolver
from storydesk.timex.lexicon import words
from storydesk.timex.model import Timex
from storydesk.timex.resolve import Ctx

# "early", "mid-", "the end of" ... before a calendar expression.
_EDGE_PREFIX = re.compile(
    r"(?<![\w-])(?P<m>(?i:early|mid|late|earlier|later|the\s+end\s+of|the\s+beginning\s+of|the\s+start\s+of|"
    r"the\s+middle\s+of|the\s+close\s+of|end\s+of|beginning\s+of|start\s+of|middle\s+of|the\s+latter\s+part\s+of|"
    r"the\s+early\s+part\s+of|the\s+first\s+part\s+of|the\s+last\s+part\s+of))(?:\s*-\s*|\s+)$"
)
_EDGE_MOD = {
    "early": "START",
    "beginning": "START",
    "start": "START",
    "first": "START",
    "mid": "MID",
    "middle": "MID",
    "late": "END",
    "end": "END",
    "close": "END",
    "latter": "END",
    "last": "END",
}
_EDGE_GRANS = words("""month year decade century season quarter half week weekend weekday day pod""")

# "about", "more than", "almost" ... before a duration.
_QUANT_PREFIX = re.compile(
    r"(?<![\w-])(?P<m>(?i:more\s+than|less\s+than|fewer\s+than|just\s+over|well\s+over|just\s+under|over|under|"
    r"almost|nearly|about|around|approximately|roughly|some|at\s+least|at\s+most|up\s+to|no\s+more\s+than|"
    r"a\s+mere|barely))\s+$"
)
_QUANT_MOD = {
    "more than": "MORE_THAN",
    "just over": "MORE_THAN",
    "well over": "MORE_THAN",
    "over": "MORE_THAN",
    "less than": "LESS_THAN",
    "fewer than": "LESS_THAN",
    "just under": "LESS_THAN",
    "under": "LESS_THAN",
    "almost": "LESS_THAN",
    "nearly": "LESS_THAN",
    "barely": "LESS_THAN",
    "about": "APPROX",
    "around": "APPROX",
    "approximately": "APPROX",
    "roughly": "APPROX",
    "some": "APPROX",
    "at least": "EQUAL_OR_MORE",
    "at most": "EQUAL_OR_LESS",
    "up to": "EQUAL_OR_LESS",
    "no more than": "EQUAL_OR_LESS",
    "a mere": "",
}
# Before "the past two years" these are prepositions, not quantifiers.
_PREPOSITION_LIKE = frozenset({"over", "under", "around", "about", "some"})

_DAY_VALUE = re.compile(r"^\d{4}-\d{2}-\d{2}")
_CLOCK_GAP = re.compile(r"^[\s,]*$")


def _with_edge(c: Cand, text: str) -> Cand:
    """Extend a calendar candidate over "early"/"mid-"/"the end of" and set its mod."""
    m = _EDGE_PREFIX.search(text, max(0, c.start - 30), c.start)
    if m is None:
        return c
    word = m.group("m").lower().split()
    key = word[1] if word[0] == "the" else word[0]
    body = text[c.start : c.end].lower()
    inner: Resolver = c.resolve
    if key in ("earlier", "later"):
        if not body.startswith(("this", "last", "next", "that", "the")):
            return c
        later = key == "later"

        def clip(ctx: Ctx) -> Norm | None:
            n = inner(ctx)
            if n is None or ctx.dct is None or n.first is None or n.last is None:
                return n
            if not n.first <= ctx.dct <= n.last:
                # "earlier last year": the span is whole past; narrow to its first half.
                return n
            return n.clipped(ctx.dct, None) if later else n.clipped(None, ctx.dct)

        return replace(c, start=m.start(), resolve=clip)
    mod = _EDGE_MOD.get(key, "")
    if not mod:
        return c

    def edged(ctx: Ctx) -> Norm | None:
        n = inner(ctx)
        return None if n is None else n.with_mod(mod)

    return replace(c, start=m.start(), resolve=edged)


def _with_quantifier(c: Cand, text: str) -> Cand:
    """Extend a duration (or "N years ago") over "about", "more than", "almost" ..."""
    m = _QUANT_PREFIX.search(text, max(0, c.start - 20), c.start)
    if m is None:
        return c
    key = re.sub(r"\s+", " ", m.group("m").lower())
    body = text[c.start : c.end].lower()
    if body.startswith("the ") or not body[:1].isalnum():
        return c
    if key in _PREPOSITION_LIKE and not re.match(
        r"(?:\d|an?\b|one|two|three|four|five|six|seven|eight|nine|ten|"
        r"eleven|twelve|fifteen|twenty|thirty|forty|fifty|sixty|"
        r"seventy|eighty|ninety|hundred|a\s+dozen|dozen)",
        body,
    ):
        return c
    mod = _QUANT_MOD[key]
    if c.gran == "ago" and mod != "APPROX":
        return c  # "about two years ago" is approximate; "more than two years ago" is left alone
    inner = c.resolve

    def quant(ctx: Ctx) -> Norm | None:
        n = inner(ctx)
        return None if n is None else replace(n, mod=mod or n.mod)

    return replace(c, start=m.start(), resolve=quant)


def candidates(text: str) -> list[Cand]:
    """All rule matches in ``text`` (overlapping), with modifiers attached."""
    out: list[Cand] = []
    for pattern, handler, _prio in RULES:
        for m in pattern.finditer(text):
            for c in handler(m, text):
                if c.end <= c.start:
                    continue
                if c.gran in _EDGE_GRANS:
                    c = _with_edge(c, text)
                elif c.gran in ("duration", "ago"):
                    c = _with_quantifier(c, text)
                out.append(c)
    return out


def select(cands: list[Cand]) -> list[Cand]:
    """Keep non-overlapping candidates, longest first (ties: rule priority, then position)."""
    chosen: list[Cand] = []
    starts: list[int] = []  # sorted starts of the chosen, non-overlapping candidates
    for c in sorted(cands, key=lambda c: (-(c.end - c.start), c.prio, c.start)):
        i = bisect.bisect_right(starts, c.start)
        # Only the neighbours in start order can overlap a span among disjoint spans.
        if i > 0 and chosen[i - 1].end > c.start:
            continue
        if i < len(chosen) and chosen[i].start < c.end:
            continue
        starts.insert(i, c.start)
        chosen.insert(i, c)
    return chosen


def _day_of(n: Norm) -> str | None:
    m = _DAY_VALUE.match(n.value)
    return m.group(0) if m and n.first is not None else None


def run(text: str, dct: dt.date | None) -> list[Timex]:
    """Tag and normalise every temporal expression of ``text``; see :func:`storydesk.timex.tag`."""
    ctx = Ctx(text, dct)
    resolved: list[tuple[Cand, Norm]] = []
    for c in select(candidates(text)):
        try:
            n = c.resolve(ctx)
        except (ValueError, OverflowError):
            # Arithmetic beyond the calendar ("125,000 years ago"): keep the
            # expression but do not pretend to anchor it.
            n = Norm("DATE", "PAST_REF") if c.gran == "ago" else None
        if n is None:
            continue
        resolved.append((c, n))
        if n.anchored and c.gran not in ("clock", "ref"):
            ctx.ref = n
    resolved = _attach_clock_times(ctx, resolved)
    return [Timex(c.start, c.end, text[c.start : c.end], n.type, n.value, n.first, n.last, n.mod) for c, n in resolved]


def _attach_clock_times(ctx: Ctx, items: list[tuple[Cand, Norm]]) -> list[tuple[Cand, Norm]]:
    """Give clock times their day: merge with an adjacent day ("15:00 GMT Saturday"),
    else take the nearest day of the same sentence, else the DCT (in news a bare "at
    10am" is nearly always the day of the report, not the last date mentioned)."""
    text = ctx.text
    out: list[tuple[Cand, Norm]] = []
    skip: set[int] = set()
    for i, (c, n) in enumerate(items):
        if i in skip:
            continue
        if c.gran != "clock":
            out.append((c, n))
            continue
        hm = n.value.split("T", 1)[1]
        merged = False
        for j in (i + 1, i - 1):
            if not 0 <= j < len(items) or j in skip:
                continue
            c2, n2 = items[j]
            day = _day_of(n2)
            if day is None or c2.gran == "clock":
                continue
            gap = text[c.end : c2.start] if j > i else text[c2.end : c.start]
            if not _CLOCK_GAP.match(gap):
                continue
            span = Cand(min(c.start, c2.start), max(c.end, c2.end), "day", c.resolve)
            norm = Norm("TIME", f"{day}T{hm}", n2.first, n2.last)
            if j < i:
                out.pop()
            else:
                skip.add(j)
            out.append((span, norm))
            merged = True
            break
        if merged:
            continue
        sent = ctx.sents.index(c.start)
        best: Norm | None = None
        dist = 10**9
        for c2, n2 in items:
            if c2 is c or c2.gran == "clock" or _day_of(n2) is None or ctx.sents.index(c2.start) != sent:
                continue
            d = min(abs(c2.start - c.end), abs(c.start - c2.end))
            if d < dist:
                best, dist = n2, d
        if best is not None:
            day = _day_of(best)
            out.append((c, Norm("TIME", f"{day}T{hm}", best.first, best.last)))
        elif ctx.dct is not None:
            out.append((c, Norm("TIME", f"{ctx.dct.isoformat()}T{hm}", ctx.dct, ctx.dct)))
        else:
            out.append((c, Norm("TIME", f"XXXX-XX-XXT{hm}")))
    return out
