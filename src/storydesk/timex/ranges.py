"""Merging of explicit ranges ("August 21 through August 31") into one Timex."""

from __future__ import annotations

import datetime as dt
import re

from storydesk.timex.model import Timex

_RANGE_GAP = re.compile(r"^\s*(?:-|–|—|to|through|thru|until|till)\s*$")
_AND_GAP = re.compile(r"^\s*(?:,\s*)?(?:and|&)\s*$|^\s*,\s*$")
_BETWEEN_BEFORE = re.compile(r"(?i:\bbetween)\s+$")
# "three-day inspections starting Saturday", "a two-week visit beginning on Monday"
_STARTING_GAP = re.compile(
    r"^\s+(?:[A-Za-z'-]+\s+){0,4}?(?:starting|beginning|from|that\s+(?:began|begins|starts|started)|"
    r"which\s+(?:began|begins|starts|started)|to\s+(?:begin|start))(?:\s+on)?\s+$"
)
_DAY_COUNT = re.compile(r"^P(\d+)([DW])$")


def _anchored(t: Timex) -> bool:
    return t.first is not None and t.last is not None and t.type in ("DATE", "TIME")


def _span(a: Timex, b: Timex, text: str, first: dt.date, last: dt.date, value_from: Timex) -> Timex:
    return Timex(a.start, b.end, text[a.start : b.end], value_from.type, value_from.value, first, last, value_from.mod)


def _try_merge(text: str, a: Timex, b: Timex) -> Timex | None:
    gap = text[a.end : b.start]
    if _anchored(a) and _anchored(b):
        assert a.first is not None and a.last is not None and b.first is not None and b.last is not None
        if a.first > b.last:
            return None
        if _RANGE_GAP.match(gap):
            return _span(a, b, text, a.first, b.last, a)
        if _AND_GAP.match(gap):
            between = _BETWEEN_BEFORE.search(text, max(0, a.start - 10), a.start) is not None
            # "Friday and Saturday" is one stretch; "Monday and Friday" are two days.
            consecutive = b.first == a.last + dt.timedelta(days=1)
            single_days = a.first == a.last and b.first == b.last
            if (between and "," not in gap) or (consecutive and (single_days or "," not in gap)):
                return _span(a, b, text, a.first, b.last, a)
        return None
    if a.type == "DURATION" and _anchored(b) and _STARTING_GAP.match(gap):
        m = _DAY_COUNT.match(a.value)
        if m is None or b.first is None:
            return None
        days = int(m.group(1)) * (7 if m.group(2) == "W" else 1)
        if not 1 <= days <= 366:
            return None
        return Timex(
            a.start,
            b.end,
            text[a.start : b.end],
            "DATE",
            b.value,
            b.first,
            b.first + dt.timedelta(days=days - 1),
            b.mod,
        )
    return None


def merge_ranges(text: str, timexes: list[Timex]) -> list[Timex]:
    """Merge consecutive expressions joined by a range connector.

    Args:
        text: The text the expressions were found in.
        timexes: Output of :func:`storydesk.timex.tag` for ``text``.

    Returns:
        A new list where each explicit range is a single Timex; other items unchanged.
    """
    out: list[Timex] = []
    for t in timexes:
        if out:
            merged = _try_merge(text, out[-1], t)
            if merged is not None:
                out[-1] = merged
                continue
        out.append(t)
    return out
