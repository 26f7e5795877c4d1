"""The regex grammar: extraction rules and their normalisers.

Each rule is a compiled regex plus a handler that turns a match into zero or more
:class:`Cand` (a span and a resolver). Resolvers run later, in text order, so that
anaphoric expressions see the expressions before them. Rules never decide overlaps:
:mod:`storydesk.timex.engine` keeps the longest candidate.

Design choices that follow the TimeML guidelines (and TempEval practice):

* prepositions are outside the extent ("in 2019" -> "2019"), determiners and
  modifiers inside ("the past three years", "last week", "early December");
* quantified spans are durations ("three years" -> ``P3Y``, "the past two years" ->
  ``P2Y``) while calendar references are dates ("last year" -> ``2022``);
* ages ("70-year-old", "aged 70 years") and bare numbers are never tagged.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

from storydesk.timex import calendar as cal
from storydesk.timex.calendar import Norm
from storydesk.timex.lexicon import (
    MONTHS,
    NUMBER_WORDS_RE,
    ORDINAL_WORDS_RE,
    PARTS_OF_DAY,
    SEASONS,
    WEEKDAYS,
    parse_number,
    parse_ordinal,
    words,
)
from storydesk.timex.resolve import (
    Ctx,
    days_from,
    pick_occurrence,
    pick_weekday,
    relative_unit,
    unresolved,
)

Resolver = Callable[[Ctx], Norm | None]


@dataclass
class Cand:
    """A candidate expression: its extent, granularity and a deferred resolver.

    Attributes:
        start: Start offset.
        end: End offset.
        gran: Granularity (``day``, ``week``, ``month``, ``year``, ``decade``, ``century``,
            ``season``, ``quarter``, ``weekday``, ``clock``, ``duration``, ``ref``, ``set``).
            The modifier pass uses it to know whether "early"/"about" may attach.
        resolve: Computes the value once earlier expressions are resolved.
        prio: Tie-breaker between rules matching the same extent (lower wins).
    """

    start: int
    end: int
    gran: str
    resolve: Resolver
    prio: int = 50


Handler = Callable[[re.Match[str], str], list[Cand]]

# ---------------------------------------------------------------------------
# Building blocks

_L = r"(?<![\w])"  # left word boundary that also rejects digits and underscores
_R = r"(?![\w])"
MONTH_NAME = r"(?:January|February|March|April|May|June|July|August|September|October|November|December)"
MONTH_ABBR = r"(?:Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept|Sep|Oct|Nov|Dec)(?:\.|(?![a-z]))"
MONTH_ANY = rf"(?:{MONTH_NAME}(?![a-z])|{MONTH_ABBR})"
WEEKDAY = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"
DAYNUM = r"(?:3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?(?![\d:])"
YEAR = r"(?:1\d{3}|20\d{2}|21\d{2})(?!\d)"
NUM = (
    rf"(?:\d{{1,3}}(?:,\d{{3}})+|\d+(?:\.\d+)?(?:\s+1/2|½)?|(?i:(?:{NUMBER_WORDS_RE})(?:\s+and\s+a\s+half)?)"
    r"|(?i:an?)(?=\s)|(?i:a\s+couple\s+of|a\s+couple|couple\s+of))"
)
VAGUE_Q = r"(?i:a\s+few|several|few|many|some|numerous|countless|dozens\s+of|hundreds\s+of|thousands\s+of)"
UNIT_SING = r"(?:second|minute|hour|day|night|week|fortnight|month|year|decade|century|millennium)"
UNIT_PL = r"(?:seconds|minutes|hours|days|nights|weeks|fortnights|months|years|decades|centuries|millennia)"
UNIT_ABBR = r"(?:hrs|hr|mins|min|yrs|secs)"
TZ = (
    r"(?:\s*\(?(?:GMT|UTC|BST|CET|CEST|EET|EEST|EST|EDT|CST|CDT|MST|MDT|PST|PDT|ET|PT|CT|MT|IST|JST|AEST|"
    r"AEDT|local\s+time|(?:Eastern|Pacific|Central|Mountain)(?:\s+(?:Standard|Daylight))?\s+[Tt]ime)\)?)"
)

UNIT_NORMAL: dict[str, str] = {
    "seconds": "second", "secs": "second", "minutes": "minute", "mins": "minute", "min": "minute",
    "hours": "hour", "hrs": "hour", "hr": "hour", "days": "day", "nights": "night", "weeks": "week",
    "fortnights": "fortnight", "months": "month", "years": "year", "yrs": "year", "decades": "decade",
    "centuries": "century", "millennia": "millennium",
}  # fmt: skip


def unit_name(s: str) -> str:
    """Singular unit name of a unit word ("Years" -> "year")."""
    u = s.lower()
    return UNIT_NORMAL.get(u, u)


def month_num(s: str) -> int:
    """Month number of a name or abbreviation ("Aug." -> 8)."""
    return MONTHS[s.lower().rstrip(".")]


_PREV_WORD = re.compile(r"([A-Za-z][A-Za-z'’.-]*)[\s,]*$")
_NEXT_WORD = re.compile(r"\s*([A-Za-z][A-Za-z'’-]*)")


def prev_word(text: str, pos: int) -> str:
    """The word just before ``pos`` (original case), or "" when none."""
    m = _PREV_WORD.search(text, max(0, pos - 40), pos)
    return m.group(1) if m else ""


def next_word(text: str, pos: int) -> str:
    """The word just after ``pos`` (original case), or "" when a non-letter comes first."""
    m = _NEXT_WORD.match(text, pos)
    return m.group(1) if m else ""


def sentence_initial(text: str, pos: int) -> bool:
    """True when ``pos`` starts a sentence or a line (so capitalisation says nothing)."""
    i = pos - 1
    while i >= 0 and text[i] in " \t\"'“‘(":
        i -= 1
    return i < 0 or text[i] in ".!?\n:;"


# Words that may be capitalised right before a date without making it a name.
_CAP_OK_BEFORE = words(
    """in on since by until till through from last next this early late mid during before after between
    and or of the by at as for to that since every each around about"""
)


def capitalised_neighbour(text: str, start: int, end: int) -> bool:
    """True when a capitalised word touches the expression: "Theresa May", "Sunday Times"."""
    pw = prev_word(text, start)
    if (
        pw
        and pw[0].isupper()
        and text[start - 1] == " "
        and pw.lower() not in _CAP_OK_BEFORE
        and not (pw.endswith(".") or pw.isupper())
    ):
        return True  # a capitalised content word before it: "Theresa May", "Good Friday"
    nw = next_word(text, end)
    return bool(
        nw
        and nw[0].isupper()
        and end < len(text)
        and text[end] == " "
        and nw.rstrip("'’s").lower() not in MONTHS
        and not re.match(r"\d", nw)
    )


# ---------------------------------------------------------------------------
# Rule table

RULES: list[tuple[re.Pattern[str], Handler, int]] = []


def rule(pattern: str, prio: int = 50, flags: int = 0) -> Callable[[Handler], Handler]:
    """Register a handler for a regex (compiled once, at import)."""

    def deco(fn: Handler) -> Handler:
        RULES.append((re.compile(pattern, flags), fn, prio))
        return fn

    return deco


def const(norm: Norm) -> Resolver:
    """A resolver that ignores the context."""
    return lambda ctx: norm


# ---------------------------------------------------------------------------
# Absolute dates

_NOT_A_DAY_AFTER = re.compile(
    r"\s*(?:%|percent|per\s*cent|km|kilomet|miles?\b|met(?:re|er)s|feet|ft\b|points|per\b|million|billion|"
    r"thousand|years?\b|months?\b|weeks?\b|days?\b|hours?\b|minutes?\b|times\b|people|[.,]\d)"
)


def _make_md(mon: int, d: int, y: int | None, start: int, end: int, wd: str | None = None) -> Resolver:
    def res(ctx: Ctx) -> Norm | None:
        if y is not None:
            dd = cal.safe_date(y, mon, d)
            return None if dd is None else cal.day(dd)
        if ctx.dct is None:
            return Norm("DATE", f"XXXX-{mon:02d}-{d:02d}")
        if wd is not None:
            # A weekday next to the date pins the year: "Monday, August 14".
            wdn = WEEKDAYS[wd.lower()]
            for yy in (ctx.dct.year, ctx.dct.year - 1, ctx.dct.year + 1):
                dd = cal.safe_date(yy, mon, d)
                if dd is not None and dd.weekday() == wdn:
                    return cal.day(dd)
        return pick_occurrence(
            ctx,
            lambda yy: (lambda x: None if x is None else cal.day(x))(cal.safe_date(yy, mon, d)),
            start,
            end,
        )

    return res


@rule(
    rf"{_L}(?:(?P<wd>{WEEKDAY}),?\s+)?(?P<mon>{MONTH_ANY})\s*(?P<d>{DAYNUM})"
    rf"(?:,?\s*(?P<y>{YEAR}))?"
    rf"(?:(?P<sep>\s*(?:-|–|—|to|through|thru|until|till|and)\s*)(?P<d2>{DAYNUM})(?:,?\s*(?P<y2>{YEAR}))?)?{_R}",
    prio=10,
)
def _month_day(m: re.Match[str], text: str) -> list[Cand]:
    mon = month_num(m.group("mon"))
    d = parse_ordinal(m.group("d")) or 0
    if _NOT_A_DAY_AFTER.match(text, m.end("d")) and not m.group("y") and not m.group("d2"):
        return []
    y_s = m.group("y") or m.group("y2")
    y = int(y_s) if y_s else None
    out = [
        Cand(
            m.start(),
            m.end("y") if m.group("y") else m.end("d"),
            "day",
            _make_md(mon, d, y, m.start(), m.end(), m.group("wd")),
            10,
        )
    ]
    d2s = m.group("d2")
    if d2s:
        d2 = parse_ordinal(d2s) or 0
        if d < d2 <= 31 and not _NOT_A_DAY_AFTER.match(text, m.end("d2")):
            out.append(Cand(m.start("d2"), m.end(), "day", _make_md(mon, d2, y, m.start(), m.end()), 10))
        else:
            # Not a day range after all ("March 3 and 5 others"): keep the first date only.
            out[0] = Cand(m.start(), m.end("d"), "day", _make_md(mon, d, None, m.start(), m.end()), 10)
    return out


@rule(
    rf"{_L}(?:(?P<wd>{WEEKDAY}),?\s+)?(?:the\s+)?(?:(?P<d>{DAYNUM})|(?P<dw>(?i:{ORDINAL_WORDS_RE})))"
    rf"(?P<of>\s+of)?\s+(?P<mon>{MONTH_ANY})(?:,?\s+(?P<y>{YEAR}))?{_R}",
    prio=11,
)
def _day_month(m: re.Match[str], text: str) -> list[Cand]:
    if m.group("dw") and not m.group("of"):
        return []  # "first March" is not a date; "the first of March" is
    d = parse_ordinal(m.group("d") or m.group("dw")) or 0
    mon = month_num(m.group("mon"))
    if not 1 <= d <= 31:
        return []
    # "4 May" after a number word is a count, not a date: "up 4 March-quarter ..." is rare,
    # but "Theresa May" never follows a digit, so no further filter is needed here.
    y = int(m.group("y")) if m.group("y") else None
    start = m.start()
    if not m.group("of") and not m.group("wd") and text[start : start + 4].lower() == "the ":
        start = m.start("d")  # "the 20 April explosion": the article belongs to the noun
    return [Cand(start, m.end(), "day", _make_md(mon, d, y, start, m.end(), m.group("wd")), 11)]


@rule(rf"{_L}(?P<mon>{MONTH_ANY})(?:\s+of)?,?\s+(?P<y>{YEAR}){_R}", prio=12)
def _month_year(m: re.Match[str], text: str) -> list[Cand]:
    n = cal.month(int(m.group("y")), month_num(m.group("mon")))
    return [Cand(m.start(), m.end(), "month", const(n), 12)]


@rule(
    r"(?<![\w/.-])(?P<y>(?:1\d|20)\d{2})-(?P<m>0[1-9]|1[0-2])(?:-(?P<d>0[1-9]|[12]\d|3[01]))?"
    r"(?:T(?P<hh>[01]\d|2[0-3]):(?P<mi>[0-5]\d)(?::\d{2})?)?(?![\w/-])",
    prio=5,
)
def _iso(m: re.Match[str], text: str) -> list[Cand]:
    y, mo = int(m.group("y")), int(m.group("m"))
    if not m.group("d"):
        # "2009-10" is more often a season of years than October 2009 in prose.
        if mo > y % 100:
            return []
        return [Cand(m.start(), m.end(), "month", const(cal.month(y, mo)), 5)]
    d = cal.safe_date(y, mo, int(m.group("d")))
    if d is None:
        return []
    if m.group("hh"):
        n = Norm("TIME", f"{d.isoformat()}T{m.group('hh')}:{m.group('mi')}", d, d)
        return [Cand(m.start(), m.end(), "clock_dated", const(n), 5)]
    return [Cand(m.start(), m.end(), "day", const(cal.day(d)), 5)]


@rule(r"(?<![\w/.,:-])(?P<a>\d{1,2})(?P<s>[/.])(?P<b>\d{1,2})(?P=s)(?P<y>\d{4}|\d{2})(?![\w/]|\.\d)", prio=6)
def _numeric(m: re.Match[str], text: str) -> list[Cand]:
    a, b, ys = int(m.group("a")), int(m.group("b")), m.group("y")
    y = int(ys) if len(ys) == 4 else (2000 + int(ys) if int(ys) < 50 else 1900 + int(ys))
    if m.group("s") == ".":
        mo, d = b, a  # dotted dates are European: 14.08.2023
    elif a > 12:
        mo, d = b, a
    else:
        mo, d = a, b  # slash dates in English news are US order: 8/14/2023
    dd = cal.safe_date(y, mo, d) if 1 <= mo <= 12 else None
    if dd is None:
        return []
    return [Cand(m.start(), m.end(), "day", const(cal.day(dd)), 6)]


@rule(
    rf"{_L}(?P<d>{DAYNUM})\s+(?P<mon>{MONTH_ANY})\s+(?P<yy>\d{{2}})\s+(?P<hh>[01]?\d|2[0-3]):(?P<mi>[0-5]\d)(?!\d)"
    rf"(?:{TZ})?",
    prio=4,
)
def _stamp_short_year(m: re.Match[str], text: str) -> list[Cand]:
    # Live-page stamps "01 February 12 04:27 GMT": the number after the month is a
    # two-digit year (a clock time follows), not the day of "February 12".
    d = cal.safe_date(2000 + int(m.group("yy")), month_num(m.group("mon")), parse_ordinal(m.group("d")) or 0)
    if d is None:
        return []
    n = Norm("TIME", f"{d.isoformat()}T{int(m.group('hh')):02d}:{m.group('mi')}", d, d)
    return [Cand(m.start(), m.end(), "clock_dated", const(n), 4)]


# Words that make a bare month name a date even when it is "May" or "March".
_MONTH_CONTEXT = words(
    """in since by until till through throughout from last next this early late mid mid- during before
    after between of end beginning start middle month until around"""
)
_AMBIGUOUS_MONTHS = frozenset({"may", "march"})


@rule(rf"{_L}(?P<mon>{MONTH_NAME})(?![\w-])", prio=40)
def _bare_month(m: re.Match[str], text: str) -> list[Cand]:
    name = m.group("mon")
    pw = prev_word(text, m.start()).lower().rstrip("-")
    if name.lower() in _AMBIGUOUS_MONTHS and pw not in _MONTH_CONTEXT:
        return []
    if pw == "of" and name == "May":
        return []  # "the government of May": the UK prime minister, not the month
    if capitalised_neighbour(text, m.start(), m.end()):
        return []
    nw = next_word(text, m.end())
    if nw.lower() in ("be", "have", "not", "also", "well", "never", "still", "yet"):
        return []  # modal "may" typed at a sentence start
    mon = month_num(name)

    def res(ctx: Ctx) -> Norm | None:
        if ctx.dct is None:
            return Norm("DATE", f"XXXX-{mon:02d}")
        return pick_occurrence(ctx, lambda y: cal.month(y, mon), m.start(), m.end(), slack_days=0)

    return [Cand(m.start(), m.end(), "month", res, 40)]


# ---------------------------------------------------------------------------
# Years, decades, centuries

_YEAR_BAD_BEFORE = re.compile(
    r"(?:[$£€#]|\b(?:No|no|Nos|number|Number|Flight|flight|Route|route|Room|room|page|pp?|[Mm]odel|[Vv]ersion|"
    r"[Ss]ection|[Aa]rticle|[Rr]esolution|[Cc]hapter|[Ii]nterstate|[Hh]ighway|[Bb]us|Windows|Boeing|Airbus|"
    r"[Uu]nit|[Pp]lot|[Ss]uite|Rule|[Aa]bout|[Ss]ome|[Nn]early|[Aa]pproximately|[Rr]oughly|[Aa]lmost|than|least|"
    r"to|[Oo]ver|[Uu]nder|[Tt]op|[Aa]ll)\.?)\s*$"
)
_YEAR_BAD_AFTER = re.compile(
    r"\s*(?:%|percent|per\s*cent|km\b|kilomet|miles?\b|met(?:re|er)s?\b|feet|ft\b|kg\b|tonnes|tons|barrels|bpd|"
    r"mph|yards|points|pts|people|persons|troops|soldiers|police|officers|residents|workers|employees|jobs|"
    r"students|children|women|men\b|families|homes|houses|cases|deaths|dead|victims|casualties|refugees|"
    r"protesters|demonstrators|supporters|members|votes|voters|units|copies|signatures|cars|vehicles|rockets|"
    r"missiles|pages|words|acres|hectares|customers|patients|prisoners|civilians|fighters|rebels|militants|"
    r"delegates|participants|species|years|days|months|hours|minutes|times|shares|dollars|euros|pounds|yen|"
    r"calories|degrees|flights|planes|aircraft|tanks|ships|guns|weapons|bodies|injured|wounded|others|"
    r"or\s+so|GMT|UTC|hrs|hours|local\s+time|[.,]\d|:\d|m\b|bn\b|million|billion)"
)
# Years before 1900 are only read as years after a word that announces a date.
_YEAR_OLD_CONTEXT = words("""in since until till by during from of circa year around before after c.""")


def _year_ok(text: str, start: int, end: int, y: int) -> bool:
    before = text[max(0, start - 16) : start]
    if _YEAR_BAD_BEFORE.search(before):
        # "than 2000", "about 1500": a quantity unless a year-like word follows.
        return False
    if _YEAR_BAD_AFTER.match(text, end):
        return False
    return y >= 1900 or prev_word(text, start).lower() in _YEAR_OLD_CONTEXT


@rule(
    rf"(?<![\w$£€#.,:/-])(?:(?P<fy>(?i:fiscal(?:\s+year)?|FY)\s*)|(?P<ad>(?:AD|A\.D\.)\s*))?(?P<y>{YEAR})"
    rf"(?P<bc>\s*(?:BC|B\.C\.|AD|A\.D\.|CE|BCE))?(?![\w-]|['’]s\b|\.\d|,\d)",
    prio=30,
)
def _year(m: re.Match[str], text: str) -> list[Cand]:
    y = int(m.group("y"))
    if m.group("bc") and "B" in m.group("bc"):
        return []
    if not m.group("fy") and not _year_ok(text, m.start("y"), m.end("y"), y):
        return []
    return [Cand(m.start(), m.end(), "year", const(cal.year(y)), 30)]


@rule(rf"(?<![\w$£€#.,:/-])(?P<y>{YEAR})['’]s(?!\w)", prio=30)
def _year_possessive(m: re.Match[str], text: str) -> list[Cand]:
    y = int(m.group("y"))
    if not _year_ok(text, m.start("y"), m.end("y"), y):
        return []
    return [Cand(m.start(), m.end("y"), "year", const(cal.year(y)), 30)]


@rule(rf"(?<![\w$£€#.,:/-])(?P<y1>{YEAR})\s*(?:-|–|/)\s*(?P<y2>\d{{4}}|\d{{2}})(?![\w/-]|\.\d)", prio=8)
def _year_range(m: re.Match[str], text: str) -> list[Cand]:
    y1 = int(m.group("y1"))
    s2 = m.group("y2")
    y2 = int(s2) if len(s2) == 4 else (y1 // 100) * 100 + int(s2)
    if len(s2) == 2 and y2 <= y1:
        return []  # "2013-03" is a month (ISO rule), not a range
    if not 0 < y2 - y1 <= 50:
        return []
    return [
        Cand(m.start("y1"), m.end("y1"), "year", const(cal.year(y1)), 8),
        Cand(m.start("y2"), m.end("y2"), "year", const(cal.year(y2)), 8),
    ]


_DECADE_WORDS = {
    "twenties": 2,
    "thirties": 3,
    "forties": 4,
    "fifties": 5,
    "sixties": 6,
    "seventies": 7,
    "eighties": 8,
    "nineties": 9,
}


@rule(
    rf"{_L}(?:(?P<the>[Tt]he)\s+)?(?:(?P<full>(?:1\d|20)\d0)['’]?s|['’](?P<yy>\d)0s|"
    rf"(?P<w>twenties|thirties|forties|fifties|sixties|seventies|eighties|nineties)){_R}",
    prio=20,
)
def _decade(m: re.Match[str], text: str) -> list[Cand]:
    if m.group("full"):
        y = int(m.group("full"))
        if y % 100 == 0 and y < 2000:
            # "the 1800s" / "the 1900s" name the century, not its first decade.
            return [Cand(m.start(), m.end(), "century", const(cal.century(y)), 20)]
    else:
        if not m.group("the") and m.group("w"):
            return []  # "in his forties" is an age
        d = int(m.group("yy")) if m.group("yy") else _DECADE_WORDS[m.group("w")]
        y = 1900 + 10 * d
    return [Cand(m.start(), m.end(), "decade", const(cal.decade(y)), 20)]


@rule(
    rf"{_L}(?:(?P<n>\d{{1,2}})(?:st|nd|rd|th)|(?P<w>(?i:{ORDINAL_WORDS_RE})))[\s-]+[Cc]entury"
    rf"(?P<bc>\s+(?:BC|B\.C\.))?{_R}",
    prio=20,
)
def _century(m: re.Match[str], text: str) -> list[Cand]:
    if m.group("bc"):
        return []
    n = int(m.group("n")) if m.group("n") else parse_ordinal(m.group("w")) or 0
    if not 1 <= n <= 22:
        return []
    return [Cand(m.start(), m.end(), "century", const(cal.century((n - 1) * 100)), 20)]


# ---------------------------------------------------------------------------
# Quarters, halves, seasons, holidays

_ORD_Q = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "final": 4,
    "last": 4,
}


def _year_phrase_resolver(yv: str | None, rel: str | None) -> Callable[[Ctx], int | None]:
    """Year of "of 2012" / "of this year" / "of last year" / "of the year" phrases."""

    def get(ctx: Ctx) -> int | None:
        if yv:
            return int(yv)
        if ctx.dct is None:
            return None
        r = (rel or "").lower()
        return ctx.dct.year + (-1 if r == "last" else 1 if r == "next" else 0)

    return get


@rule(
    r"(?<![\w-])(?:(?i:the)\s+)?(?P<ord>(?i:first|second|third|fourth|final|last|1st|2nd|3rd|4th))\s+"
    r"(?:(?i:fiscal|financial|calendar)\s+)?quarter(?![\w-])"
    rf"(?:\s+of\s+(?:(?:the\s+)?(?:(?:fiscal|financial)\s+)?(?:year\s+)?(?P<y>{YEAR})|"
    r"(?P<rel>this|last|next|the)\s+(?:(?:fiscal|financial)\s+)?year))?",
    prio=15,
)
def _quarter(m: re.Match[str], text: str) -> list[Cand]:
    q = _ORD_Q[m.group("ord").lower()]
    nw = next_word(text, m.end()).lower()
    if not m.group("y") and not m.group("rel") and nw in ("of", "century", "mile"):
        return []  # "the first quarter of the game", "a quarter century"
    has_year = bool(m.group("y") or m.group("rel"))
    get_year = _year_phrase_resolver(m.group("y"), m.group("rel"))

    def res(ctx: Ctx) -> Norm | None:
        if has_year:
            y = get_year(ctx)
            return None if y is None else cal.quarter(y, q)
        if ctx.dct is None:
            return Norm("DATE", f"XXXX-Q{q}")
        return pick_occurrence(ctx, lambda y: cal.quarter(y, q), m.start(), m.end(), slack_days=0)

    return [Cand(m.start(), m.end(), "quarter", res, 15)]


@rule(rf"{_L}Q(?P<q>[1-4])(?:\s*(?P<y>{YEAR})|['’](?P<yy>\d{{2}}))?{_R}", prio=15)
def _q_abbrev(m: re.Match[str], text: str) -> list[Cand]:
    q = int(m.group("q"))
    y: int | None = int(m.group("y")) if m.group("y") else (2000 + int(m.group("yy")) if m.group("yy") else None)

    def res(ctx: Ctx) -> Norm | None:
        if y is not None:
            return cal.quarter(y, q)
        if ctx.dct is None:
            return Norm("DATE", f"XXXX-Q{q}")
        return pick_occurrence(ctx, lambda yy: cal.quarter(yy, q), m.start(), m.end(), slack_days=0)

    return [Cand(m.start(), m.end(), "quarter", res, 15)]


@rule(
    r"(?<![\w-])(?:(?i:the)\s+)?(?P<ord>(?i:first|second|latter|1st|2nd))\s+half\s+of\s+"
    rf"(?:(?:the\s+)?(?:(?:fiscal|financial)\s+)?(?:year\s+)?(?P<y>{YEAR})|(?P<rel>this|last|next|the)\s+year)(?![\w-])",
    prio=15,
)
def _half(m: re.Match[str], text: str) -> list[Cand]:
    h = 1 if m.group("ord").lower() in ("first", "1st") else 2
    get_year = _year_phrase_resolver(m.group("y"), m.group("rel"))

    def res(ctx: Ctx) -> Norm | None:
        y = get_year(ctx)
        return None if y is None else cal.half(y, h)

    return [Cand(m.start(), m.end(), "half", res, 15)]


def _season_norm(code: str, y: int) -> Norm:
    return cal.season(y, code)


_SEASON_RE = r"(?:spring|summer|autumn|fall|winter)"
_SEASON_CONTEXT = words(
    """in during over through throughout until till by since for early late mid mid- the this last next
    of"""
)


@rule(rf"{_L}(?:(?P<the>[Tt]he)\s+)?(?P<s>(?i:{_SEASON_RE}))(?:\s+of)?,?\s+(?P<y>{YEAR}){_R}", prio=14)
def _season_year(m: re.Match[str], text: str) -> list[Cand]:
    code = SEASONS[m.group("s").lower()]
    return [Cand(m.start(), m.end(), "season", const(cal.season(int(m.group("y")), code)), 14)]


@rule(rf"{_L}(?:(?P<the>the)\s+)?(?P<s>{_SEASON_RE})(?![\w-])", prio=42)
def _season_bare(m: re.Match[str], text: str) -> list[Cand]:
    s = m.group("s")
    pw = prev_word(text, m.start()).lower()
    nw = next_word(text, m.end()).lower()
    if s == "fall" and (not m.group("the") or nw == "of"):
        return []  # "the fall of Rome", "prices fall"
    if not m.group("the") and pw not in (
        "early",
        "late",
        "mid",
        "mid-",
        "until",
        "since",
        "by",
        "this",
        "last",
        "next",
    ):
        return []  # "summer camp", "winter storm": seasons as modifiers are not dates
    if nw == "of":
        return []
    code = SEASONS[s]

    def res(ctx: Ctx) -> Norm | None:
        if ctx.dct is None:
            return Norm("DATE", f"XXXX-{code}")
        return pick_occurrence(ctx, lambda y: cal.season(y, code), m.start(), m.end(), slack_days=0)

    return [Cand(m.start(), m.end(), "season", res, 42)]


def _thanksgiving(y: int) -> dt.date:
    return cal.nth_weekday(y, 11, 3, 4)


_HOLIDAYS: dict[str, Callable[[int], dt.date]] = {
    "christmas": lambda y: dt.date(y, 12, 25),
    "christmas day": lambda y: dt.date(y, 12, 25),
    "christmas eve": lambda y: dt.date(y, 12, 24),
    "boxing day": lambda y: dt.date(y, 12, 26),
    "new year's day": lambda y: dt.date(y, 1, 1),
    "new year's eve": lambda y: dt.date(y, 12, 31),
    "halloween": lambda y: dt.date(y, 10, 31),
    "valentine's day": lambda y: dt.date(y, 2, 14),
    "thanksgiving": _thanksgiving,
    "thanksgiving day": _thanksgiving,
    "easter": cal.easter,
    "easter sunday": cal.easter,
    "good friday": lambda y: cal.easter(y) - dt.timedelta(days=2),
    "the fourth of july": lambda y: dt.date(y, 7, 4),
}


@rule(
    r"(?<![\w-])(?:(?P<det>last|next|this)\s+)?(?P<h>Christmas(?:\s+(?:Day|Eve))?|New\s+Year['’]s\s+(?:Day|Eve)|"
    r"Thanksgiving(?:\s+Day)?|Halloween|Valentine['’]s\s+Day|Easter(?:\s+Sunday)?|Good\s+Friday|Boxing\s+Day|"
    rf"the\s+Fourth\s+of\s+July)(?:,?\s+(?P<y>{YEAR}))?(?![\w-])",
    prio=13,
)
def _holiday(m: re.Match[str], text: str) -> list[Cand]:
    key = re.sub(r"\s+", " ", m.group("h").lower()).replace("’", "'")
    if key == "good friday" and next_word(text, m.end()) == "Agreement":
        return []
    if not m.group("y") and next_word(text, m.end())[:1].isupper():
        return []  # "Christmas Island", "Easter Rising"
    fn = _HOLIDAYS[key]
    y = int(m.group("y")) if m.group("y") else None
    det = (m.group("det") or "").lower()

    def res(ctx: Ctx) -> Norm | None:
        if y is not None:
            return cal.day(fn(y))
        if ctx.dct is None:
            # Fixed-date holidays keep their month and day; Easter and Thanksgiving move.
            d0, d1 = fn(2001), fn(2002)
            return Norm(
                "DATE",
                f"XXXX-{d0.month:02d}-{d0.day:02d}" if d0.timetuple()[1:3] == d1.timetuple()[1:3] else "XXXX-XX-XX",
            )
        return pick_occurrence(ctx, lambda yy: cal.day(fn(yy)), m.start(), m.end(), det=det)

    return [Cand(m.start(), m.end(), "day", res, 13)]


# ---------------------------------------------------------------------------
# Deictic words: today, yesterday, tomorrow, tonight, now ...


@rule(
    r"(?<![\w-])(?P<w>[Tt]oday|[Yy]esterday|[Tt]omorrow|[Tt]onight)(?:\s+(?P<pod>morning|afternoon|evening|night))?"
    r"(?![\w-])",
    prio=20,
)
def _today(m: re.Match[str], text: str) -> list[Cand]:
    w = m.group("w").lower()
    pod = m.group("pod")
    off = {"today": 0, "yesterday": -1, "tomorrow": 1, "tonight": 0}[w]
    code = PARTS_OF_DAY[pod] if pod else ("NI" if w == "tonight" else "")

    def res(ctx: Ctx) -> Norm | None:
        if ctx.dct is None:
            return unresolved("past" if off < 0 else "future" if off > 0 else "present")
        d = ctx.dct + dt.timedelta(days=off)
        if code:
            return Norm("TIME", f"{d.isoformat()}T{code}", d, d)
        return cal.day(d)

    return [Cand(m.start(), m.end(), "day" if not code else "pod", res, 20)]


@rule(r"(?<![\w-])(?i:the\s+day\s+(?P<dir>before\s+yesterday|after\s+tomorrow))(?![\w-])", prio=19)
def _day_before_yesterday(m: re.Match[str], text: str) -> list[Cand]:
    off = -2 if m.group("dir").lower().startswith("before") else 2
    return [Cand(m.start(), m.end(), "day", lambda ctx: days_from(ctx, off), 19)]


@rule(r"(?<![\w-])(?P<w>[Nn]ow)(?![\w-]|\s+that\b)", prio=60)
def _now(m: re.Match[str], text: str) -> list[Cand]:
    return [Cand(m.start(), m.end(), "ref", lambda ctx: _present(ctx), 60)]


def _present(ctx: Ctx) -> Norm:
    d = ctx.dct
    return Norm("DATE", "PRESENT_REF", d, d)


@rule(
    r"(?<![\w-])(?:(?P<present>[Cc]urrently|[Nn]owadays|[Tt]hese\s+days|[Aa]t\s+present|[Aa]t\s+the\s+moment|"
    r"the\s+present(?:\s+day)?(?=\s*(?:[.,;:!?)\"”]|$|and\b|or\b)))|"
    r"(?P<past>[Rr]ecently|[Ll]ately|the\s+past(?![\w-]|\s+(?:\d|(?i:" + NUMBER_WORDS_RE + r")\b|few|several|"
    r"many|couple|decades?|centur|years?|months?|weeks?|days?|hours?|minutes?|nights?|week-?end|summer|"
    r"winter|spring|autumn|fall|quarter|season|year|" + MONTH_NAME + "|" + WEEKDAY + r"))|"
    r"[Aa]t\s+the\s+time|[Aa]t\s+that\s+time)|"
    r"(?P<future>the\s+(?:(?:near|foreseeable|distant|immediate|not-too-distant|not\s+too\s+distant)\s+)?future|"
    r"(?<=\b[Ii]n\s)future(?=\s*[,.;]|\s+(?:the|we|they|it|he|she|I|you)\b)))(?![\w-])",
    prio=55,
)
def _refs(m: re.Match[str], text: str) -> list[Cand]:
    if m.group("present"):
        return [Cand(m.start(), m.end(), "ref", _present, 55)]
    if m.group("past"):
        return [Cand(m.start(), m.end(), "ref", const(Norm("DATE", "PAST_REF")), 55)]
    return [Cand(m.start(), m.end(), "ref", const(Norm("DATE", "FUTURE_REF")), 55)]


# ---------------------------------------------------------------------------
# this/last/next + unit, anaphoric "the following day", "that year"

_REL_DET = (
    r"(?P<det>(?i:this\s+past|this\s+coming|the\s+coming|the\s+previous|the\s+preceding|the\s+following|"
    r"the\s+past|the\s+last|the\s+next|the\s+same|this|last|next|coming|previous|following|that))"
)
_REL_UNIT = (
    rf"(?P<u>(?i:week-?end|week|month|year|quarter|decade|century|(?:fiscal|financial)\s+year|day)"
    rf"|(?P<season>(?i:{_SEASON_RE}))|(?P<mon>{MONTH_NAME})|(?P<wd>{WEEKDAY})|"
    rf"(?P<pod>morning|afternoon|evening|night))"
)


@rule(rf"(?<![\w-]){_REL_DET}\s+{_REL_UNIT}(?![\w-]|\s+old)", prio=16)
def _relative(m: re.Match[str], text: str) -> list[Cand]:
    det = re.sub(r"\s+", " ", m.group("det").lower())
    s, e = m.start(), m.end()
    if (
        det in ("coming", "previous", "following")
        and not sentence_initial(text, s)
        and prev_word(text, s).lower() not in ("in", "on", "over", "during", "for", "by", "until", "the")
    ):
        return []
    if m.group("mon") or m.group("wd") or m.group("season"):
        return _relative_named(m, det, s, e)
    if m.group("pod"):
        return _relative_pod(m, det, s, e)
    u = m.group("u").lower().replace("-", "")
    u = "year" if "year" in u else u
    if u == "day":
        return _relative_day(det, s, e)
    step = {"this": 0, "last": -1, "next": 1, "this past": -1, "this coming": 1, "coming": 1}
    if det in ("the past", "the next", "the coming") or (det == "the last" and u in ("decade", "century")):
        # "the past year", "the next decade": a stretch of time measured from now.
        qty_unit = u if u != "weekend" else "week"
        return [Cand(s, e, "duration", const(cal.duration(1, qty_unit)), 16)]
    if det == "the last":
        det = "last"  # "the last week" is last week (TempEval annotates it as a DATE)
    if det in step:
        n = step[det]
        if u == "weekend":
            return [Cand(s, e, "weekend", lambda ctx: relative_unit(ctx, "weekend", n), 16)]
        return [Cand(s, e, u, lambda ctx: relative_unit(ctx, u, n), 16)]
    # the previous/preceding/following/same/that unit: anaphoric
    n = {"the previous": -1, "the preceding": -1, "previous": -1, "the following": 1, "following": 1}.get(det, 0)
    uu = "week" if u == "weekend" else u
    return [Cand(s, e, uu, lambda ctx: relative_unit(ctx, uu, n, anaphoric=True), 16)]


def _relative_day(det: str, s: int, e: int) -> list[Cand]:
    off = {
        "the next": 1,
        "the following": 1,
        "following": 1,
        "next": 1,
        "the previous": -1,
        "the preceding": -1,
        "previous": -1,
        "the same": 0,
        "that": 0,
    }.get(det)
    if off is None:
        return []  # "this day", "the last day", "the past day": too rare or not dates
    return [Cand(s, e, "day", lambda ctx: days_from(ctx, off, anaphoric=True), 16)]


def _relative_named(m: re.Match[str], det: str, s: int, e: int) -> list[Cand]:
    det = {
        "this past": "last",
        "this coming": "next",
        "coming": "next",
        "the coming": "next",
        "the last": "last",
        "the past": "last",
        "the next": "next",
        "the previous": "previous",
        "the preceding": "previous",
        "the following": "following",
    }.get(det, det)
    if det in ("that", "the same"):
        return []
    if m.group("wd"):
        wd = WEEKDAYS[m.group("wd").lower()]
        return [Cand(s, e, "weekday", lambda ctx: pick_weekday(ctx, wd, s, e, det), 16)]
    if m.group("mon"):
        mon = month_num(m.group("mon"))

        def build_m(y: int) -> Norm:
            return cal.month(y, mon)

        if det in ("following", "previous"):
            return [Cand(s, e, "month", lambda ctx: _anaphoric_yearly(ctx, build_m, det), 16)]
        return [Cand(s, e, "month", lambda ctx: pick_occurrence(ctx, build_m, s, e, det=det), 16)]
    code = SEASONS[m.group("season").lower()]

    def build_s(y: int) -> Norm:
        return cal.season(y, code)

    if det in ("following", "previous"):
        return [Cand(s, e, "season", lambda ctx: _anaphoric_yearly(ctx, build_s, det), 16)]
    return [Cand(s, e, "season", lambda ctx: pick_occurrence(ctx, build_s, s, e, det=det), 16)]


def _anaphoric_yearly(ctx: Ctx, build: Callable[[int], Norm], det: str) -> Norm | None:
    """ "the following March": the first March after the anchor (previous: the last before)."""
    a = ctx.anchor()
    if a is None:
        return None
    spans = [build(y) for y in range(a.year - 2, a.year + 3)]
    if det == "following":
        return next((n for n in spans if n.first is not None and n.first > a), None)
    before = [n for n in spans if n.last is not None and n.last < a]
    return before[-1] if before else None


def _relative_pod(m: re.Match[str], det: str, s: int, e: int) -> list[Cand]:
    code = PARTS_OF_DAY[m.group("pod")]
    off = {
        "this": 0,
        "last": -1,
        "the previous": -1,
        "the following": 1,
        "the next": 1,
        "that": 0,
        "the same": 0,
    }.get(det)
    if off is None:
        return []
    if det == "last" and code != "NI":
        return []  # "last morning" is not English news; "last night" is
    anaphoric = det not in ("this", "last")

    def res(ctx: Ctx) -> Norm | None:
        a = ctx.anchor() if anaphoric else ctx.dct
        if a is None:
            return None
        d = a + dt.timedelta(days=off)
        return Norm("TIME", f"{d.isoformat()}T{code}", d, d)

    return [Cand(s, e, "pod", res, 16)]


@rule(
    r"(?<![\w-])(?i:(?P<the>the\s+)(?P<u>day|week|month|year|night)\s+(?P<dir>before|after|earlier|later))"
    r"(?![\w-])",
    prio=17,
)
def _the_day_before(m: re.Match[str], text: str) -> list[Cand]:
    """ "the day before" / "the week after": anaphoric, one unit from the anchor."""
    nw = next_word(text, m.end()).lower()
    if m.group("dir").lower() in ("before", "after") and nw and nw not in ("and", "but", "when", "that"):
        # "the day before the vote": anchored on an event, the extent stops at the unit.
        # Its value depends on the event, which a tagger cannot place: an unanchored date.
        u0 = m.group("u").lower()
        v = {"day": "XXXX-XX-XX", "night": "XXXX-XX-XXTNI", "week": "XXXX-WXX", "month": "XXXX-XX"}.get(u0, "XXXX")
        return [Cand(m.start(), m.end("u"), "ref", const(Norm("DATE" if u0 != "night" else "TIME", v)), 70)]
    u = m.group("u").lower()
    n = -1 if m.group("dir").lower() in ("before", "earlier") else 1
    if u in ("day", "night"):
        return [Cand(m.start(), m.end(), "day", lambda ctx: days_from(ctx, n, anaphoric=True), 17)]
    return [Cand(m.start(), m.end(), u, lambda ctx: relative_unit(ctx, u, n, anaphoric=True), 17)]


_EDGE_WORD_MOD = {"end": "END", "close": "END", "beginning": "START", "start": "START", "middle": "MID"}


@rule(
    r"(?<![\w-])(?:(?i:the)\s+)?(?P<m>(?i:end|beginning|start|middle|close))\s+of\s+(?:(?i:the)\s+)?"
    r"(?P<u>year|month|week|decade|century)(?![\w-])",
    prio=17,
)
def _edge_of_unit(m: re.Match[str], text: str) -> list[Cand]:
    """ "the end of the year": the DCT's year, or the previous one in a past-tense clause
    when its end is still to come ("peaked by the end of the year" written in March)."""
    mod = _EDGE_WORD_MOD[m.group("m").lower()]
    u = m.group("u").lower()

    def res(ctx: Ctx) -> Norm | None:
        if ctx.dct is None:
            return None
        base = cal.unit_of(ctx.dct, u)
        if base is None:
            return None
        n = base.with_mod(mod)
        assert n.first is not None and n.last is not None
        tense = ctx.tense(m.start(), m.end())
        if tense == "past" and n.first > ctx.dct:
            shifted = cal.shift(base, u, -1)
            return None if shifted is None else shifted.with_mod(mod)
        if tense == "future" and n.last < ctx.dct:
            shifted = cal.shift(base, u, 1)
            return None if shifted is None else shifted.with_mod(mod)
        return n

    return [Cand(m.start(), m.end(), "edge", res, 17)]


# ---------------------------------------------------------------------------
# Weekdays and parts of day


_WEEKDAY_NAME_AFTER = words(
    """Times Telegraph Express Mirror Herald Post Mail Independent Observer Tribune Star Sport People
    Business Night Morning Evening Bloody Review Magazine Show Club Agreement Accord Group Movement
    Mosque Prayers Sermon Edition Special Live Football Service"""
)
_WEEKDAY_NAME_BEFORE = words(
    """Good Black Bloody Super Ash Easter Palm Holy Maundy Cyber Blue Giving Fat Shrove Low Whit
    Trinity Manic Mad Man Girl"""
)


MONTH_WORDS = frozenset(w.capitalize() for w in MONTHS) | {w.capitalize() + "." for w in MONTHS}
# Words after which a weekday followed by a capitalised word is still a date.
_WEEKDAY_OK_BEFORE = words(
    """on by until till since last next this early late said says told announced reported from through
    before after"""
)


@rule(
    rf"(?<![\w-])(?P<wd>{WEEKDAY})(?P<pl>s)?(?:\s+(?P<pod>morning|afternoon|evening|night)(?P<pl2>s)?)?(?![\w-])",
    prio=35,
)
def _weekday(m: re.Match[str], text: str) -> list[Cand]:
    s, e = m.start(), m.end()
    pw = prev_word(text, s)
    nw = next_word(text, e)
    if pw in _WEEKDAY_NAME_BEFORE or nw in _WEEKDAY_NAME_AFTER:
        return []
    if pw == "on" and prev_word(text, s - 3) == "Mail":
        return []  # the Mail on Sunday
    if (
        nw[:1].isupper()
        and nw not in MONTH_WORDS
        and pw.lower() not in _WEEKDAY_OK_BEFORE
        and not sentence_initial(text, s)
    ):
        return []  # "and Tuesday Vargas": a first name; "on Friday Obama said" keeps its date
    wd = WEEKDAYS[m.group("wd").lower()]
    pod = m.group("pod")
    code = PARTS_OF_DAY[pod] if pod else ""
    if m.group("pl") or m.group("pl2"):
        v = f"XXXX-WXX-{wd + 1}" + (f"T{code}" if code else "")
        return [Cand(s, e, "set", const(Norm("SET", v)), 35)]

    def res(ctx: Ctx) -> Norm | None:
        n = pick_weekday(ctx, wd, s, e)
        if n is None or not code or n.first is None:
            return n
        return Norm("TIME", f"{n.value}T{code}", n.first, n.last)

    return [Cand(s, e, "weekday" if not code else "pod", res, 35)]


@rule(
    r"(?<![\w-])(?:(?P<det>this|last|next|the|this\s+past|this\s+coming|that)\s+)(?P<w>week-?end)(?![\w-])",
    prio=18,
)
def _weekend(m: re.Match[str], text: str) -> list[Cand]:
    det = re.sub(r"\s+", " ", m.group("det").lower())
    if det not in ("the", "that"):
        return []  # handled by the this/last/next rule

    def res(ctx: Ctx) -> Norm | None:
        if det == "that":
            return ctx.anchor_unit("weekend")
        dct = ctx.dct
        if dct is None:
            return None
        this = cal.weekend(dct)
        assert this.first is not None
        tense = ctx.tense(m.start(), m.end())
        if tense == "future":
            return this if this.last is not None and dct <= this.last else cal.shift(this, "weekend", 1)
        # Past or no cue: the weekend just gone (this one when the DCT is a weekend day).
        return this if dct >= this.first else cal.shift(this, "weekend", -1)

    return [Cand(m.start(), m.end(), "weekend", res, 18)]


# ---------------------------------------------------------------------------
# Clock times

_AMPM = r"(?P<ap>(?i:a\.m\.?|p\.m\.?|am|pm)|AM|PM)(?![A-Za-z])"
_CLOCK_CONTEXT = words("""at by from until till before after around about since to and between or""")


@rule(rf"(?<![\w:.$£€])(?P<h>1[0-2]|0?[1-9])(?:[:.](?P<mi>[0-5]\d))?\s*{_AMPM}(?P<tz>{TZ})?", prio=25)
def _clock_ampm(m: re.Match[str], text: str) -> list[Cand]:
    h = int(m.group("h")) % 12
    if m.group("ap").lower().startswith("p"):
        h += 12
    mi = int(m.group("mi") or 0)
    end = m.end()
    # "a.m." at the end of a sentence swallows the full stop: keep it (TimeML does).
    return [Cand(m.start(), end, "clock", _clock_resolver(f"{h:02d}:{mi:02d}"), 25)]


@rule(
    r"(?<![\w:.$£€/])(?P<h>[01]?\d|2[0-3])(?P<sep>[:h.])(?P<mi>[0-5]\d)(?::(?P<s>[0-5]\d))?(?![\d:])"
    rf"(?P<tz>{TZ}|\s*(?:hours|hrs|h)(?![\w]))?",
    prio=26,
)
def _clock_24(m: re.Match[str], text: str) -> list[Cand]:
    pw = prev_word(text, m.start()).lower()
    if m.group("sep") == "." and not m.group("tz"):
        return []  # "18.45" is a time only with a zone: "18.45 BST"
    if m.group("s") and not m.group("tz"):
        if pw in _CLOCK_CONTEXT and pw not in ("in", "of"):
            pass
        else:
            # "3:07:35": a race time, i.e. a duration.
            h, mi, sec = int(m.group("h")), int(m.group("mi")), int(m.group("s"))
            v = "PT" + "".join(f"{x}{u}" for x, u in ((h, "H"), (mi, "M"), (sec, "S")) if x)
            return [Cand(m.start(), m.end(), "duration", const(Norm("DURATION", v)), 26)]
    if not m.group("tz") and pw not in _CLOCK_CONTEXT:
        return []  # "John 3:16", "a 2:1 ratio", scores
    if "h" in text[m.start() : m.end("mi")] and not m.group("tz"):
        return []
    return [Cand(m.start(), m.end(), "clock", _clock_resolver(f"{int(m.group('h')):02d}:{m.group('mi')}"), 26)]


@rule(r"(?<![\w-])(?P<w>noon|midday|midnight)(?![\w-])", prio=27)
def _noon(m: re.Match[str], text: str) -> list[Cand]:
    hm = "24:00" if m.group("w") == "midnight" else "12:00"
    return [Cand(m.start(), m.end(), "clock", _clock_resolver(hm), 27)]


def _clock_resolver(hm: str) -> Resolver:
    # The date part is filled in by the engine (adjacent date, same sentence, or DCT).
    return lambda ctx: Norm("TIME", f"T{hm}")


# ---------------------------------------------------------------------------
# "N units ago", "N units later"

_AGO_DIR = r"(?P<dir>ago|back|earlier|later|before|after|from\s+now|hence|on)"


@rule(
    rf"(?<![\w-])(?:(?P<q>{NUM}|{VAGUE_Q})\s+)?(?P<u>(?i:{UNIT_PL}|{UNIT_SING}|{UNIT_ABBR}))\s+{_AGO_DIR}(?![\w-])",
    prio=9,
)
def _ago(m: re.Match[str], text: str) -> list[Cand]:
    d = re.sub(r"\s+", " ", m.group("dir").lower())
    u = unit_name(m.group("u"))
    qs = m.group("q")
    qty = parse_number(qs) if qs else None
    plural = m.group("u").lower().endswith("s") or m.group("u").lower() in ("centuries", "millennia")
    nw = next_word(text, m.end()).lower()
    if d in ("before", "after", "on") or (d in ("earlier", "later") and nw in ("than",)):
        # "two days before the vote", "60 years on": a duration (the duration rules see
        # the same quantity); the signal word stays outside the extent.
        return []
    if qs is None and not plural:
        return []  # "day after", "year earlier" without a quantity
    if qty is None:
        v = "FUTURE_REF" if d in ("from now", "hence", "later") else "PAST_REF"
        if d in ("earlier", "later") and qs is None:
            return []  # "years later": too vague to place, and usually a duration
        return [Cand(m.start(), m.end(), "ref", const(Norm("DATE", v)), 9)]
    n = qty
    sign = 1 if d in ("from now", "hence", "later") else -1
    anaphoric = d in ("earlier", "later")

    def res(ctx: Ctx) -> Norm | None:
        base = ctx.anchor() if anaphoric else ctx.dct
        if base is None:
            return unresolved("future" if sign > 0 else "past")
        k = round(n)
        if u in ("second", "minute", "hour"):
            return cal.day(base)
        if u in ("day", "night"):
            return cal.day(base + dt.timedelta(days=sign * k))
        if u in ("week", "fortnight"):
            return cal.week(base + dt.timedelta(weeks=sign * k * (2 if u == "fortnight" else 1)))
        if u == "month":
            y, mo = cal.add_months(base.year, base.month, sign * k)
            return cal.month(y, mo)
        if u == "quarter":
            y, mo = cal.add_months(base.year, base.month, 3 * sign * k)
            return cal.quarter(y, (mo - 1) // 3 + 1)
        years = {"year": 1, "decade": 10, "century": 100, "millennium": 1000}[u] * k
        return cal.year(base.year + sign * years)

    return [Cand(m.start(), m.end(), "ago", res, 9)]


# ---------------------------------------------------------------------------
# Durations

_AGE_AFTER = re.compile(r"(?:-|\s+)(?:old|older|younger|of\s+age)\b|\s+(?:and|or)\s+(?:older|younger|over|under)\b")
_AGE_BEFORE = words("aged ages age")
_DURATION_PREFIX_REL = (
    r"(?:(?P<the>(?i:the))\s+)?(?:(?P<rel>(?i:past|last|next|first|final|previous|following|coming|remaining|"
    r"initial|further|additional|another|other|recent|subsequent|ensuing|intervening|preceding))\s+)?"
)


def _age(text: str, start: int, end: int) -> bool:
    return bool(_AGE_AFTER.match(text, end)) or prev_word(text, start).lower() in _AGE_BEFORE


_SET_BEFORE = re.compile(
    r"(?:\d|\b(?:times|once|twice|dollars|euros|pounds|cents|percent|hours|days|barrels|bpd|tonnes|tons)|[%$£€])"
    r"\s*$"
)


@rule(
    rf"(?<![\w-]){_DURATION_PREFIX_REL}(?P<q>{NUM}|{VAGUE_Q})(?:\s+|\s*-\s*)"
    rf"(?P<u>(?i:{UNIT_PL}|{UNIT_SING}|{UNIT_ABBR}))(?P<long>-long)?(?P<poss>['’](?=\s))?(?![\w])",
    prio=45,
)
def _duration(m: re.Match[str], text: str) -> list[Cand]:
    s, e = m.start(), m.end()
    u_raw = m.group("u")
    u = unit_name(u_raw)
    qs = m.group("q")
    if text[e : e + 1] == "-" and not m.group("long"):
        return []  # "70-year-old", "a one-day-a-week job"
    if _age(text, s, e):
        return []
    qty = parse_number(qs)
    ql = qs.lower()
    rel = (m.group("rel") or "").lower()
    if qty is not None and qty == 1 and ql in ("a", "an", "one"):
        if u == "second" and ql != "one":
            return []  # "a second term": the ordinal
        if ql == "one" and u in ("day", "night") and not rel:
            pw = prev_word(text, s).lower()
            if pw not in ("for", "in", "within", "after", "than", "only", "just", "of", "about", "over", "a"):
                return []  # "one day he will ...": an indefinite date, not a length
        before = text[max(0, s - 25) : s]
        if _SET_BEFORE.search(before) and ql in ("a", "an"):
            # "$50,000 a year", "twice a week": a frequency.
            v = cal.duration(1, u).value
            return [Cand(s, e, "set", const(Norm("SET", v)), 44)]
    if rel == "another" or rel == "other":
        # "another two years": the determiner is not part of the TimeML extent
        s = m.start("q")
    if qty is None and ql.startswith("some") and not u_raw.lower().endswith("s"):
        return []  # "some day"
    if qty is None and not u_raw.lower().endswith(("s", "ia")) and ql not in ("a few", "few"):
        return []
    if qty is not None and qty > 10000:
        return []
    if m.group("poss"):
        e = m.start("poss")
    if "-" in text[m.end("q") : m.start("u")] and (m.group("the") or rel):
        # "the first three-month period": the determiner belongs to the noun, the
        # hyphenated adjective alone is the duration.
        s = m.start("q")
    return [Cand(s, e, "duration", const(cal.duration(qty, u)), 45)]


@rule(
    rf"(?<![\w-])(?P<q1>\d+|(?i:{NUMBER_WORDS_RE}))\s+(?:or|to|and|-|–)\s+(?P<q2>{NUM})(?:\s+|\s*-\s*)"
    rf"(?P<u>(?i:{UNIT_PL}))(?![\w-])",
    prio=44,
)
def _duration_pair(m: re.Match[str], text: str) -> list[Cand]:
    """ "12 or 18 months", "two to three years": the first number borrows the unit."""
    if _age(text, m.start(), m.end()):
        return []
    u = unit_name(m.group("u"))
    q1, q2 = parse_number(m.group("q1")), parse_number(m.group("q2"))
    if q1 is None or q2 is None or q1 >= q2:
        return []
    return [
        Cand(m.start("q1"), m.end("q1"), "duration", const(cal.duration(q1, u)), 44),
        Cand(m.start("q2"), m.end(), "duration", const(cal.duration(q2, u)), 44),
    ]


@rule(
    r"(?<![\w-])(?P<q>(?i:half\s+an?|a\s+half|a\s+quarter(?:\s+of\s+an?)?|three\s+quarters\s+of\s+an?))[\s-]+"
    r"(?P<u>hour|day|year|century|decade|month|minute)(?![\w-])",
    prio=44,
)
def _fraction_duration(m: re.Match[str], text: str) -> list[Cand]:
    q = m.group("q").lower()
    f = 0.5 if "half" in q else 0.75 if "three" in q else 0.25
    u = m.group("u").lower()
    if u == "hour":
        return [Cand(m.start(), m.end(), "duration", const(Norm("DURATION", f"PT{int(60 * f)}M")), 44)]
    if u in ("century", "decade"):
        return [Cand(m.start(), m.end(), "duration", const(cal.duration(f, u)), 44)]
    return [Cand(m.start(), m.end(), "duration", const(cal.duration(f, u)), 44)]


@rule(r"(?<![\w-])(?P<q>an?|one)\s+(?P<u>year|hour|day|month)\s+and\s+a\s+half(?![\w-])", prio=43)
def _and_a_half(m: re.Match[str], text: str) -> list[Cand]:
    u = m.group("u")
    if u == "hour":
        return [Cand(m.start(), m.end(), "duration", const(Norm("DURATION", "PT90M")), 43)]
    return [Cand(m.start(), m.end(), "duration", const(cal.duration(1.5, u)), 43)]


# Bare plural units ("for years", "take weeks"): only after words that make them a
# length of time, to stay clear of "the early days", "those years", "days of rage".
_BARE_UNIT_BEFORE = words(
    """for within in after over take takes took taking taken spent spend spends spending lasted lasts
    last than just only of nearly almost about lasting"""
)
_BARE_UNIT_AFTER = words("before after later earlier ago on")


@rule(
    r"(?<![\w-])(?:(?P<rel>(?:(?i:the|in)\s+)?(?i:coming|past|recent|previous|following|ensuing|last|next))\s+)?"
    r"(?P<u>seconds|minutes|hours|days|weeks|months|years|decades|centuries)(?![\w-])",
    prio=48,
)
def _bare_units(m: re.Match[str], text: str) -> list[Cand]:
    s = m.start()
    rel = m.group("rel")
    if rel:
        if rel.lower().startswith("in "):
            s = m.start("rel") + 3
        elif rel.lower() in ("last", "next", "past", "previous", "following"):
            return []  # "last years" is not English; "past years" is rare and vague
    else:
        pw = prev_word(text, s).lower()
        nw = next_word(text, m.end()).lower()
        if pw not in _BARE_UNIT_BEFORE and nw not in _BARE_UNIT_AFTER:
            return []
        if pw == "of" and prev_word(text, s - 3).lower() not in (
            "matter",
            "period",
            "space",
            "course",
            "years",
            "couple",
        ):
            return []
    if _age(text, s, m.end()):
        return []
    return [Cand(s, m.end(), "duration", const(cal.duration(None, unit_name(m.group("u")))), 48)]


# ---------------------------------------------------------------------------
# Sets


@rule(
    r"(?<![\w-])(?P<q>(?i:every|each))\s+(?:(?P<n>other|\d+|(?i:" + NUMBER_WORDS_RE + r"))\s+)?"
    rf"(?P<u>(?i:{UNIT_PL}|{UNIT_SING}|week-?end)|{WEEKDAY}|morning|afternoon|evening|night|"
    rf"spring|summer|autumn|winter|{MONTH_NAME})(?![\w-])",
    prio=12,
)
def _set_every(m: re.Match[str], text: str) -> list[Cand]:
    u_raw = m.group("u")
    n_s = m.group("n")
    n = 2 if n_s == "other" else (parse_number(n_s) if n_s else 1)
    if n is None:
        return []
    lw = u_raw.lower()
    if lw in WEEKDAYS:
        v = f"XXXX-WXX-{WEEKDAYS[lw] + 1}"
    elif lw in PARTS_OF_DAY:
        v = f"XXXX-XX-XXT{PARTS_OF_DAY[lw]}"
    elif lw in SEASONS:
        v = f"XXXX-{SEASONS[lw]}"
    elif lw.replace("-", "") == "weekend":
        v = "XXXX-WXX-WE"
    elif lw in MONTHS:
        v = f"XXXX-{MONTHS[lw]:02d}"
    else:
        v = cal.duration(n, unit_name(u_raw)).value
    return [Cand(m.start(), m.end(), "set", const(Norm("SET", v)), 12)]


@rule(
    r"(?<![\w-])(?P<w>annually|yearly|biannually|biennially|monthly|weekly|daily|nightly|hourly|quarterly)"
    r"(?![\w-])",
    prio=50,
)
def _set_adverb(m: re.Match[str], text: str) -> list[Cand]:
    v = {
        "annually": "XXXX",
        "yearly": "XXXX",
        "biannually": "P6M",
        "biennially": "P2Y",
        "monthly": "XXXX-XX",
        "weekly": "XXXX-WXX",
        "daily": "XXXX-XX-XX",
        "nightly": "XXXX-XX-XXTNI",
        "hourly": "PT1H",
        "quarterly": "XXXX-QX",
    }[m.group("w")]
    return [Cand(m.start(), m.end(), "set", const(Norm("SET", v)), 50)]


@rule(
    r"(?<![\w-])(?P<f>once|twice|thrice|(?:\d+|(?i:" + NUMBER_WORDS_RE + r"))\s+times)\s+(?:a|an|per|each|every)\s+"
    r"(?P<u>second|minute|hour|day|night|week|month|year|decade)(?![\w-])",
    prio=12,
)
def _set_freq(m: re.Match[str], text: str) -> list[Cand]:
    v = cal.duration(1, unit_name(m.group("u"))).value
    return [Cand(m.start(), m.end(), "set", const(Norm("SET", v)), 12)]


@rule(r"(?<![\w-])(?P<the>(?:on|at|over)\s+)?(?P<w>weekends)(?![\w-])", prio=50)
def _set_weekends(m: re.Match[str], text: str) -> list[Cand]:
    if not m.group("the"):
        return []
    return [Cand(m.start("w"), m.end(), "set", const(Norm("SET", "XXXX-WXX-WE")), 50)]
