"""The public record type of the temporal tagger."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Timex:
    """One temporal expression found in a text, normalised as a TIMEX3.

    Attributes:
        start: Character offset of the expression in the tagged text.
        end: Character offset one past its last character.
        text: ``text[start:end]``.
        type: ``"DATE"``, ``"TIME"``, ``"DURATION"`` or ``"SET"``.
        value: The ISO-TimeML value, e.g. ``"2023-08-11"``, ``"2023-W32"``, ``"P3D"``,
            ``"PRESENT_REF"``, ``"2023-08-11T15:00"``, ``"XXXX-WXX-1"``.
        first: First day of the calendar span the expression denotes, or ``None`` for
            durations, sets and expressions that cannot be anchored.
        last: Last day of that span (equal to ``first`` for a single day).
        mod: The TIMEX3 ``mod`` attribute (``START``, ``MID``, ``END``, ``APPROX``,
            ``LESS_THAN``, ``MORE_THAN`` ...), empty when there is none.
    """

    start: int
    end: int
    text: str
    type: str
    value: str
    first: dt.date | None
    last: dt.date | None
    mod: str = ""
