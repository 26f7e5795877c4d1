"""Word lists of the temporal grammar: calendar names, numbers, units and tense cues."""

from __future__ import annotations

import re


def words(s: str) -> frozenset[str]:
    """A word set written as one whitespace-separated string (keeps long lists readable)."""
    return frozenset(s.split())


MONTHS: dict[str, int] = {
    "january": 1, "jan": 1, "february": 2, "feb": 2, "march": 3, "mar": 3, "april": 4, "apr": 4,
    "may": 5, "june": 6, "jun": 6, "july": 7, "jul": 7, "august": 8, "aug": 8, "september": 9,
    "sept": 9, "sep": 9, "october": 10, "oct": 10, "november": 11, "nov": 11, "december": 12, "dec": 12,
}  # fmt: skip

WEEKDAYS: dict[str, int] = {
    "monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6,
}  # fmt: skip

#: part of day -> TIMEX3 code
PARTS_OF_DAY: dict[str, str] = {
    "morning": "MO", "afternoon": "AF", "evening": "EV", "night": "NI", "overnight": "NI",
}  # fmt: skip

SEASONS: dict[str, str] = {"spring": "SP", "summer": "SU", "autumn": "FA", "fall": "FA", "winter": "WI"}

_UNITS_1: dict[str, int] = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
}  # fmt: skip
_TENS: dict[str, int] = {
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
    "ninety": 90,
}  # fmt: skip

ORDINALS: dict[str, int] = {
    "first": 1, "second": 2, "third": 3, "fourth": 4, "fifth": 5, "sixth": 6, "seventh": 7, "eighth": 8,
    "ninth": 9, "tenth": 10, "eleventh": 11, "twelfth": 12, "thirteenth": 13, "fourteenth": 14,
    "fifteenth": 15, "sixteenth": 16, "seventeenth": 17, "eighteenth": 18, "nineteenth": 19,
    "twentieth": 20, "twenty-first": 21, "twenty-second": 22, "twenty-third": 23, "twenty-fourth": 24,
    "twenty-fifth": 25, "twenty-sixth": 26, "twenty-seventh": 27, "twenty-eighth": 28,
    "twenty-ninth": 29, "thirtieth": 30, "thirty-first": 31,
}  # fmt: skip

# Regex fragment for a cardinal written in words, one to ninety-nine plus hundreds.
_UNIT_WORDS = "|".join(sorted(_UNITS_1, key=len, reverse=True))
_TEN_WORDS = "|".join(_TENS)
NUMBER_WORDS_RE = (
    rf"(?:(?:{_TEN_WORDS})(?:[- ](?:one|two|three|four|five|six|seven|eight|nine))?|{_UNIT_WORDS})"
    rf"(?:[- ]hundred)?|(?:a|one) hundred|(?:a|one) thousand|(?:a|one) dozen|dozen"
)
ORDINAL_WORDS_RE = "|".join(sorted(ORDINALS, key=len, reverse=True))

_WORD_SPLIT = re.compile(r"[\s-]+")


def parse_number(s: str) -> float | None:
    """Read a cardinal written in digits or words.

    Args:
        s: ``"70"``, ``"1,000"``, ``"2.5"``, ``"twenty-five"``, ``"a hundred"``, ``"a dozen"``,
            ``"2 1/2"``, ``"two and a half"``, ``"a"``.

    Returns:
        The number, or None when ``s`` is not one.
    """
    t = s.strip().lower()
    if not t:
        return None
    half = 0.0
    m = re.fullmatch(r"(.+?)\s+(?:and a half|1/2|½)", t)
    if m:
        t, half = m.group(1), 0.5
    if t in ("a", "an", "one"):
        return 1 + half
    if re.fullmatch(r"\d{1,3}(?:,\d{3})+|\d+(?:\.\d+)?", t):
        return float(t.replace(",", "")) + half
    total = 0
    cur = 0
    for w in _WORD_SPLIT.split(t):
        if w in ("a", "an", "and"):
            cur = max(cur, 1) if w != "and" else cur
            continue
        if w in _UNITS_1:
            cur += _UNITS_1[w]
        elif w in _TENS:
            cur += _TENS[w]
        elif w == "hundred":
            cur = max(cur, 1) * 100
        elif w == "thousand":
            total += max(cur, 1) * 1000
            cur = 0
        elif w == "dozen":
            cur = max(cur, 1) * 12
        else:
            return None
    return float(total + cur) + half


def parse_ordinal(s: str) -> int | None:
    """Read "14th", "14", "first", "twenty-first" as an integer, else None."""
    t = s.strip().lower()
    m = re.fullmatch(r"(\d{1,3})(?:st|nd|rd|th)?", t)
    if m:
        return int(m.group(1))
    return ORDINALS.get(t)


# ---------------------------------------------------------------------------
# Tense cues. The tagger reads the verb group nearest to a weekday or a bare month
# to decide whether the last or the coming one is meant.

#: Words that put the governing clause in the future (or mark a plan/schedule).
FUTURE_WORDS: frozenset[str] = words(
    """will shall 'll wo would could might may must should can upcoming scheduled slated due tomorrow
    next coming planned plans plan planning intends intend aims aim hopes hope expects postponed
    delayed adjourned deferred rescheduled extended pushed begins starts opens closes ends expires
    resumes takes kicks arrives travels heads meets visits convenes"""
)

#: Words that, followed by "to", express a plan: "is set to", "plans to", "is due to".
TO_FUTURE_HEADS: frozenset[str] = words(
    """set due going expected scheduled slated plans plan planning planned aims aim aiming intends
    intend intending hopes hope hoping wants want agree agrees promise promises vow vows pledge
    pledges threatens decides prepares preparing ready likely poised about is are am was were has
    have need needs seeks seek seeking try tries trying expects expect able supposed sure certain"""
)

#: Irregular past-tense forms frequent in news (regular ones are caught by "-ed").
PAST_IRREGULAR: frozenset[str] = words(
    """was were had did said told met held went came took gave made saw began won lost fell rose left
    led found got ran sent spent paid built brought bought thought sold hit shot struck broke spoke
    wrote chose drove flew fought caught taught knew grew threw drew became stood understood sat
    kept felt meant heard ate forgot hung hid laid lay shook stole swore tore wore wound overtook
    withdrew undertook sought sank sang swam rang sprang stuck stung swept swung bore beat bit bled
    blew bound bred burst cast clung cost crept cut dealt dug dove dwelt fed fled flung forbade
    forgave froze ground hurt knelt leapt lent let lit mistook overcame oversaw put quit rode rid
    shed shone shut slid slew spat spun split spread strode strove taught thrust trod upheld woke
    wove wrung begun done gone seen taken given known shown written spoken broken chosen driven
    fallen risen grown thrown drawn flown hidden eaten forgotten beaten bitten blown sworn torn worn
    stolen frozen arose awoke became befell beheld bent bet bid broadcast forecast foresaw"""
)

#: "-ed" words that are not past-tense verbs in practice (or that look forward).
ED_NOT_PAST: frozenset[str] = words(
    """need speed seed feed bed red shed breed greed indeed steed weed deed hundred kindred proceed
    succeed exceed scheduled slated planned expected postponed delayed adjourned deferred
    rescheduled extended pushed proposed intended anticipated united armed based alleged wicked
    naked sacred beloved rugged ragged crooked learned aged detailed limited related advanced
    concerned interested supposed"""
)

#: Present-tense reporting verbs: news convention treats "says Monday" like "said Monday".
REPORTING_PRESENT: frozenset[str] = words(
    """says tells reports announces confirms claims adds notes insists argues warns writes"""
)

PAST_MARKERS: frozenset[str] = words("ago yesterday last earlier previously recently")
