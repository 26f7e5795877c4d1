"""Resolution context: the document creation time, tense and the running reference date.

Expressions fall in three groups:

* absolute ("August 14, 2023", "2019"): need nothing;
* deictic ("yesterday", "last week", "Friday", "July 27"): resolved against the
  document creation time (DCT); weekdays, bare months and holidays also read the tense
  of their clause to choose between the last and the coming occurrence;
* anaphoric ("the next day", "the previous month", "that year", "two days later"):
  resolved against the last anchored expression met earlier in the text, falling back
  to the DCT when there is none.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from storydesk.timex import calendar as cal
from storydesk.timex.calendar import Norm
from storydesk.timex.tense import Sentences, Tense, clause_tense

_DAY = dt.timedelta(days=1)


class Ctx:
    """Everything a resolver may look at for one text."""

    def __init__(self, text: str, dct: dt.date | None) -> None:
        self.text = text
        self.dct = dct
        self.sents = Sentences(text)
        #: last anchored expression met so far (for anaphoric expressions)
        self.ref: Norm | None = None
        self._tense_cache: dict[tuple[int, int], Tense] = {}

    def tense(self, start: int, end: int) -> Tense:
        """Tense of the clause around ``text[start:end]`` (cached)."""
        key = (start, end)
        if key not in self._tense_cache:
            self._tense_cache[key] = clause_tense(self.text, self.sents.around(start), start, end)
        return self._tense_cache[key]

    def anchor(self) -> dt.date | None:
        """Anchor date of anaphoric expressions: the last anchored date, else the DCT."""
        if self.ref is not None and self.ref.first is not None:
            return self.ref.first
        return self.dct

    def anchor_unit(self, unit: str) -> Norm | None:
        """The span of granularity ``unit`` around the anaphoric anchor."""
        a = self.anchor()
        return None if a is None else cal.unit_of(a, unit)


def unresolved(direction: str) -> Norm:
    """Fallback value when a relative expression has no DCT to lean on."""
    return Norm("DATE", {"past": "PAST_REF", "future": "FUTURE_REF"}.get(direction, "PRESENT_REF"))


def pick_occurrence(
    ctx: Ctx,
    build: Callable[[int], Norm | None],
    start: int,
    end: int,
    det: str = "",
    slack_days: int = 7,
) -> Norm | None:
    """Choose the year of a yearly recurring span (a bare month, "July 27", "Christmas", "summer").

    Args:
        ctx: The resolution context (needs a DCT).
        build: Builds the span for a given year (None if it does not exist that year).
        start: Start of the expression (for the tense lookup).
        end: End of the expression.
        det: ``"last"``, ``"next"``, ``"this"`` or ``""`` from the expression itself.
        slack_days: How far past the DCT a past-tense day may still fall (wire stories
            are often dated a day or two before their events are reported).

    Returns:
        The chosen occurrence, or None when no DCT is known.
    """
    dct = ctx.dct
    if dct is None:
        return None
    spans = [
        (n.first, n.last, n)
        for n in (build(y) for y in range(dct.year - 2, dct.year + 3))
        if n is not None and n.first is not None and n.last is not None
    ]
    if not spans:
        return None
    if det == "this":
        for f, la, n in spans:
            if f <= dct <= la:
                return n
        same = [n for f, _, n in spans if f.year == dct.year]
        return same[0] if same else None
    if det == "last":
        # The most recent occurrence that is already over: "last July" in August 2023
        # is July 2023, in March 2023 it is July 2022.
        past = [n for _, la, n in spans if la < dct]
        return past[-1] if past else None
    if det == "next":
        fut = [n for f, _, n in spans if f > dct]
        return fut[0] if fut else None
    tense = ctx.tense(start, end)
    slack = dt.timedelta(days=slack_days)
    if tense in ("past", "report"):
        past = [n for f, _, n in spans if f <= dct + slack]
        return past[-1] if past else spans[0][2]
    if tense == "future":
        fut = [n for _, la, n in spans if la >= dct - slack]
        return fut[0] if fut else spans[-1][2]
    # No cue: the occurrence in the DCT's year unless it is far ahead (news is
    # mostly about the recent past) or long gone.
    idx = next((i for i, (f, _, _) in enumerate(spans) if f.year == dct.year), len(spans) // 2)
    f, la, n0 = spans[idx]
    if f > dct + dt.timedelta(days=120) and idx > 0:
        return spans[idx - 1][2]
    if la < dct - dt.timedelta(days=240) and idx + 1 < len(spans):
        return spans[idx + 1][2]
    return n0


def pick_weekday(ctx: Ctx, wd: int, start: int, end: int, det: str = "") -> Norm | None:
    """Resolve a weekday name against the DCT, tense-aware.

    Past tense (and present reporting, and no cue at all: news mostly reports what
    happened) gives the last such day on or before the DCT, so "said Monday" in a
    Monday paper is the DCT itself; future cues give the coming one (or the DCT).

    Args:
        ctx: The resolution context.
        wd: Weekday, 0 = Monday.
        start: Start of the expression.
        end: End of the expression.
        det: ``"last"``, ``"next"``, ``"this"``, ``"following"``, ``"previous"`` or ``""``.

    Returns:
        The day, or an unanchored ``XXXX-WXX-n`` value when there is no DCT.
    """
    dct = ctx.dct
    if det in ("following", "previous"):
        a = ctx.anchor()
        if a is None:
            return Norm("DATE", f"XXXX-WXX-{wd + 1}")
        if det == "following":
            return cal.day(a + dt.timedelta(days=(wd - a.weekday() - 1) % 7 + 1))
        return cal.day(a - dt.timedelta(days=(a.weekday() - wd - 1) % 7 + 1))
    if dct is None:
        return Norm("DATE", f"XXXX-WXX-{wd + 1}")
    back = (dct.weekday() - wd) % 7
    fwd = (wd - dct.weekday()) % 7
    if det == "last":
        return cal.day(dct - dt.timedelta(days=back or 7))
    if det == "next":
        return cal.day(dct + dt.timedelta(days=fwd or 7))
    if det == "this":
        # "this Friday": the one of the current week, looking forward from Sunday.
        return cal.day(dct + dt.timedelta(days=fwd))
    tense = ctx.tense(start, end)
    if tense == "future":
        return cal.day(dct + dt.timedelta(days=fwd))
    return cal.day(dct - dt.timedelta(days=back))


def relative_unit(ctx: Ctx, unit: str, n: int, anaphoric: bool = False) -> Norm | None:
    """The ``unit`` ``n`` steps from the DCT (or from the anaphoric anchor)."""
    base = ctx.anchor_unit(unit) if anaphoric else (None if ctx.dct is None else cal.unit_of(ctx.dct, unit))
    if base is None:
        return unresolved("past" if n < 0 else "future" if n > 0 else "present")
    return cal.shift(base, unit, n)


def days_from(ctx: Ctx, n: int, anaphoric: bool = False) -> Norm:
    """The day ``n`` days after the DCT (or after the anaphoric anchor)."""
    a = ctx.anchor() if anaphoric else ctx.dct
    if a is None:
        return unresolved("past" if n < 0 else "future" if n > 0 else "present")
    return cal.day(a + n * _DAY)
