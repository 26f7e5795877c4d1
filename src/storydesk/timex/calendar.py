"""Calendar arithmetic and TIMEX3 value builders.

Every builder returns a :class:`Norm`: the TIMEX3 type, value and the calendar span
(first/last day) the value denotes. Keeping value and span together in one place
means the ISO string and the dates can never disagree.
"""

from __future__ import annotations

import calendar as _cal
import datetime as dt
from dataclasses import dataclass, replace

#: TIMEX3 season codes and the months they cover (northern hemisphere, meteorological
#: seasons: the convention of English-language news). Winter spans the year boundary;
#: ``YYYY-WI`` is the winter that *starts* in December of YYYY.
SEASON_MONTHS: dict[str, tuple[int, int]] = {"SP": (3, 5), "SU": (6, 8), "FA": (9, 11), "WI": (12, 2)}


@dataclass(frozen=True)
class Norm:
    """A normalised TIMEX3 before it is placed in the text."""

    type: str
    value: str
    first: dt.date | None = None
    last: dt.date | None = None
    mod: str = ""

    @property
    def anchored(self) -> bool:
        """True when the value denotes a concrete calendar span."""
        return self.first is not None and self.type in ("DATE", "TIME")

    def with_mod(self, mod: str) -> Norm:
        """The same value with a ``mod``; START/MID/END narrow the span to a third."""
        if not mod:
            return self
        first, last = self.first, self.last
        if first is not None and last is not None and mod in ("START", "MID", "END"):
            first, last = thirds(first, last, mod)
        return replace(self, mod=mod, first=first, last=last)

    def clipped(self, first: dt.date | None, last: dt.date | None) -> Norm:
        """The same value with its span narrowed to ``[first, last]`` (used by "later this month")."""
        f = self.first if first is None or self.first is None else max(self.first, first)
        la = self.last if last is None or self.last is None else min(self.last, last)
        if f is not None and la is not None and f > la:
            return self
        return replace(self, first=f, last=la)


def thirds(first: dt.date, last: dt.date, mod: str) -> tuple[dt.date, dt.date]:
    """Narrow a span to its first, middle or last third ("early", "mid-", "late").

    Args:
        first: First day of the span.
        last: Last day of the span.
        mod: ``START``, ``MID`` or ``END``.

    Returns:
        The narrowed (first, last) pair.
    """
    n = (last - first).days + 1
    if n < 3:
        return first, last
    a = n // 3
    b = n - a
    if mod == "START":
        return first, first + dt.timedelta(days=a - 1)
    if mod == "MID":
        return first + dt.timedelta(days=a), first + dt.timedelta(days=b - 1)
    return first + dt.timedelta(days=b), last


def month_end(year: int, month: int) -> dt.date:
    """Last day of a month."""
    return dt.date(year, month, _cal.monthrange(year, month)[1])


def add_months(year: int, month: int, n: int) -> tuple[int, int]:
    """Shift a (year, month) pair by ``n`` months."""
    idx = year * 12 + (month - 1) + n
    return idx // 12, idx % 12 + 1


def safe_date(year: int, month: int, day: int) -> dt.date | None:
    """``date(year, month, day)`` or None when the day does not exist (Feb 30)."""
    if not 1 <= year <= 9999:
        return None
    try:
        return dt.date(year, month, day)
    except ValueError:
        return None


def day(d: dt.date) -> Norm:
    """A single calendar day."""
    return Norm("DATE", d.isoformat(), d, d)


def month(year: int, m: int) -> Norm:
    """A calendar month."""
    return Norm("DATE", f"{year:04d}-{m:02d}", dt.date(year, m, 1), month_end(year, m))


def year(y: int) -> Norm:
    """A calendar year."""
    return Norm("DATE", f"{y:04d}", dt.date(y, 1, 1), dt.date(y, 12, 31))


def decade(first_year: int) -> Norm:
    """A decade given its first year (1990 -> value "199")."""
    y = first_year - first_year % 10
    return Norm("DATE", f"{y // 10:03d}", dt.date(y, 1, 1), dt.date(y + 9, 12, 31))


def century(first_year: int) -> Norm:
    """A century given its first year: 1900 -> value "19" (TimeML counts centuries from 00)."""
    y = first_year - first_year % 100
    return Norm("DATE", f"{y // 100:02d}", dt.date(max(y, 1), 1, 1), dt.date(y + 99, 12, 31))


def week(d: dt.date) -> Norm:
    """The ISO week containing ``d`` (value ``YYYY-Www``, Monday to Sunday)."""
    iy, iw, _ = d.isocalendar()
    monday = d - dt.timedelta(days=d.weekday())
    return Norm("DATE", f"{iy:04d}-W{iw:02d}", monday, monday + dt.timedelta(days=6))


def weekend(d: dt.date) -> Norm:
    """The weekend of the ISO week containing ``d`` (value ``YYYY-Www-WE``)."""
    iy, iw, _ = d.isocalendar()
    sat = d - dt.timedelta(days=d.weekday()) + dt.timedelta(days=5)
    return Norm("DATE", f"{iy:04d}-W{iw:02d}-WE", sat, sat + dt.timedelta(days=1))


def quarter(y: int, q: int) -> Norm:
    """A calendar quarter (value ``YYYY-Qn``)."""
    m0 = 3 * (q - 1) + 1
    return Norm("DATE", f"{y:04d}-Q{q}", dt.date(y, m0, 1), month_end(y, m0 + 2))


def half(y: int, h: int) -> Norm:
    """A half year (value ``YYYY-Hn``)."""
    m0 = 1 if h == 1 else 7
    return Norm("DATE", f"{y:04d}-H{h}", dt.date(y, m0, 1), month_end(y, m0 + 5))


def season(y: int, code: str) -> Norm:
    """A season (value ``YYYY-SU``); winter runs from December of ``y`` to February."""
    m0, m1 = SEASON_MONTHS[code]
    y1 = y + 1 if m1 < m0 else y
    return Norm("DATE", f"{y:04d}-{code}", dt.date(y, m0, 1), month_end(y1, m1))


def shift(norm: Norm, unit: str, n: int) -> Norm | None:
    """The same kind of span ``n`` units later (negative: earlier).

    Args:
        norm: An anchored value built by one of the builders above.
        unit: The granularity of ``norm`` (``day``, ``week``, ``month``, ``quarter``,
            ``year``, ``decade``, ``century``).
        n: How many units to move.

    Returns:
        The shifted value, or None when the granularity is unknown.
    """
    if norm.first is None:
        return None
    f = norm.first
    if unit == "day":
        return day(f + dt.timedelta(days=n))
    if unit == "week":
        return week(f + dt.timedelta(weeks=n))
    if unit == "weekend":
        return weekend(f + dt.timedelta(weeks=n))
    if unit == "month":
        y, m = add_months(f.year, f.month, n)
        return month(y, m)
    if unit == "quarter":
        y, m = add_months(f.year, f.month, 3 * n)
        return quarter(y, (m - 1) // 3 + 1)
    if unit == "year":
        return year(f.year + n)
    if unit == "decade":
        return decade(f.year + 10 * n)
    if unit == "century":
        return century(f.year + 100 * n)
    return None


def unit_of(d: dt.date, unit: str) -> Norm | None:
    """The span of granularity ``unit`` that contains ``d`` (this week, this month ...)."""
    if unit == "day":
        return day(d)
    if unit == "week":
        return week(d)
    if unit == "weekend":
        return weekend(d)
    if unit == "month":
        return month(d.year, d.month)
    if unit == "quarter":
        return quarter(d.year, (d.month - 1) // 3 + 1)
    if unit == "half":
        return half(d.year, 1 if d.month <= 6 else 2)
    if unit == "year":
        return year(d.year)
    if unit == "decade":
        return decade(d.year)
    if unit == "century":
        return century(d.year)
    return None


def easter(y: int) -> dt.date:
    """Gregorian Easter Sunday (anonymous Gregorian algorithm)."""
    a = y % 19
    b, c = divmod(y, 100)
    d, e = divmod(b, 4)
    f = (b + 8) // 25
    g = (b - f + 1) // 3
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    ll = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * ll) // 451
    mo, dd = divmod(h + ll - 7 * m + 114, 31)
    return dt.date(y, mo, dd + 1)


def nth_weekday(y: int, m: int, weekday: int, n: int) -> dt.date:
    """The ``n``-th given weekday (0 = Monday) of a month (Thanksgiving: 4th Thursday)."""
    d = dt.date(y, m, 1)
    d += dt.timedelta(days=(weekday - d.weekday()) % 7)
    return d + dt.timedelta(weeks=n - 1)


def fmt_number(x: float) -> str:
    """A duration quantity as TimeML writes it: integers bare, fractions with a dot."""
    if abs(x - round(x)) < 1e-9:
        return str(round(x))
    return f"{x:.2f}".rstrip("0").rstrip(".")


#: duration unit -> (TimeML letter, is a time unit, multiplier applied to the quantity)
DURATION_UNITS: dict[str, tuple[str, bool, int]] = {
    "second": ("S", True, 1),
    "minute": ("M", True, 1),
    "hour": ("H", True, 1),
    "day": ("D", False, 1),
    "night": ("D", False, 1),
    "week": ("W", False, 1),
    "fortnight": ("W", False, 2),
    "month": ("M", False, 1),
    "quarter": ("Q", False, 1),
    "year": ("Y", False, 1),
    "decade": ("Y", False, 10),
    "century": ("Y", False, 100),
    "millennium": ("Y", False, 1000),
}

#: vague plural durations ("for decades") use the TimeML unit letters DE/CE
VAGUE_UNIT_LETTER: dict[str, str] = {"decade": "DE", "century": "CE", "millennium": "ML", "fortnight": "W"}


def duration(qty: float | None, unit: str, mod: str = "") -> Norm:
    """A DURATION value: ``duration(3, "week") -> P3W``; ``qty=None`` gives ``PXW``.

    Args:
        qty: How many units, or None for a vague amount ("several weeks").
        unit: A key of :data:`DURATION_UNITS`.
        mod: Optional TIMEX3 mod (``APPROX``, ``LESS_THAN``, ``MORE_THAN`` ...).

    Returns:
        The duration, never anchored (first/last are None).
    """
    letter, is_time, mult = DURATION_UNITS[unit]
    t = "T" if is_time else ""
    if qty is None:
        letter = VAGUE_UNIT_LETTER.get(unit, letter)
        return Norm("DURATION", f"P{t}X{letter}", mod=mod)
    q = qty * mult
    if letter == "Y" and abs(q - round(q)) > 1e-9 and not is_time:
        # Half years read better as months: "a year and a half" -> P18M.
        months = q * 12
        if abs(months - round(months)) < 1e-9:
            return Norm("DURATION", f"P{fmt_number(months)}M", mod=mod)
    return Norm("DURATION", f"P{t}{fmt_number(q)}{letter}", mod=mod)
