"""Cleaning: separate the story from the page furniture around it.

Strips photo captions and credits, read-time and byline stamps, social prompts,
editors' notes and usage restrictions, promo lines and relay tails such as
"(With inputs from AP)". Nothing is thrown away: every stripped piece is kept as a
:class:`~storydesk.models.StrippedLine` with its kind, because relay and photo
credits are the evidence the provenance stage uses later.

Also splits a headline glued to byline junk, pulls a place dateline off the first
paragraph, lifts cross-heads out of the body, and infers the publication date
when no metadata gives one.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from storydesk.models import StrippedLine
from storydesk.textutil import fold, join_paragraphs, normalize_text, split_paragraphs

# --------------------------------------------------------------------------- patterns

_MONTHS = {
    "january": 1,
    "february": 2,
    "march": 3,
    "april": 4,
    "may": 5,
    "june": 6,
    "july": 7,
    "august": 8,
    "september": 9,
    "october": 10,
    "november": 11,
    "december": 12,
    "jan": 1,
    "feb": 2,
    "mar": 3,
    "apr": 4,
    "jun": 6,
    "jul": 7,
    "aug": 8,
    "sep": 9,
    "sept": 9,
    "oct": 10,
    "nov": 11,
    "dec": 12,
}
_MONTH_RE = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sept?|Oct|Nov|Dec)\.?"
)
_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_WEEKDAY_RE = r"(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)"

# "3 min read" (possibly glued to the headline: "drills3 min read"), "Updated: ..." stamps.
_READ_TIME = re.compile(r"(\d+)\s*(?:min|mins|minute|minutes)\s+read\b", re.I)
_TIMESTAMP_JUNK = re.compile(
    r"^(?:(?:Updated|Published|Last updated|First published)\s*:?\s*)?"
    r"(?:\w+day,?\s+)?(?:\d{1,2}\s+" + _MONTH_RE + r"|" + _MONTH_RE + r"\s+\d{1,2}),?\s+\d{4}"
    r"(?:,?\s*(?:at\s+)?\d{1,2}[:.]\d{2}\s*(?:[AaPp]\.?[Mm]\.?)?\s*(?:[A-Z]{2,4})?)?\s*$"
)

# Whole-paragraph photo captions.
_CAPTION_START = re.compile(
    r"^(?:In\s+)?(?:This|These|A|An)\s+(?:(?:undated|handout|file|recent|screen\s*grab|combination|"
    r"aerial|satellite)\s+)*(?:photo|picture|image|photograph|handout|screengrab|video grab|file photo)s?\b"
    r"[^.]{0,200}?\b(?:released|provided|taken|distributed|made available|obtained|shows?|showing|"
    r"handed out|supplied)\b",
    re.I,
)
#: A caption is a sentence or two; a longer paragraph that opens like one is a story glued to its caption.
CAPTION_MAX_WORDS = 80
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[A-Z\"“‘(])")
_CAPTION_LABEL = re.compile(r"^(?:Image|Photo|Picture|Photograph|File photo|Caption|Video)\s*:", re.I)
_IMAGE_SOURCE = re.compile(r"Image\s+Source\s*:\s*([A-Z][\w.&/ -]{0,40}?)(?=\s+[A-Z][a-z]|\s*$)")
_PAREN_PHOTO_CREDIT = re.compile(r"\((?:AP\s+|AFP\s+)?Photo(?:graph)?s?\s*(?:by|:|/)\s*[^)]{1,120}\)", re.I)
_PHOTO_CREDIT = re.compile(
    _PAREN_PHOTO_CREDIT.pattern + r"|\b(?:Photo|Image|Picture)\s+(?:credit|courtesy)\s*:?\s*([^.;)]{1,60})"
    r"|\bCredit\s*:\s*([A-Z][^.;)]{0,60})\.?",
    re.I,
)

# Usage restrictions and editors' notes (AFP/Getty style, usually upper case).
_EDITORS_NOTE = re.compile(
    r"EDITOR'?S'?\s*NOTE|EDITORS\s*NOTE|RESTRICTED TO EDITORIAL USE|MANDATORY CREDIT|NO MARKETING|"
    r"NO ADVERTISING|DISTRIBUTED AS A SERVICE TO CLIENTS|MADE AVAILABLE BY A THIRD PARTY|"
    r"CAN ?NOT INDEPENDENTLY VERIFY|(?:^|/\s*)[A-Z .]+ OUT\s*/",
)

# Relay tails: "(With inputs from AP)", "(With AP inputs)", "(Reporting by ...)".
_RELAY_TAIL = re.compile(
    r"\(\s*(?:with\s+(?:additional\s+)?inputs?\s+from\s+(?P<a>[^)]+?)"
    r"|with\s+(?P<b>[^)]+?)\s+inputs?"
    r"|(?:additional\s+)?reporting\s+by\s+(?P<c>[^)]+?)"
    r"|(?:compiled|written|edited)\s+by\s+(?P<d>[^)]+?)"
    r"|source\s*:\s*(?P<e>[^)]+?))\s*\)\.?",
    re.I,
)
_AGENCY_SIGNOFF = re.compile(r"^[-—–]+\s*(?P<a>[A-Z][\w&. ]{1,40})$")

# Social and promo furniture.
_SOCIAL = re.compile(
    r"^(?:Follow us on|Follow\s+\w+\s+on\s+(?:Twitter|X|Facebook|Instagram)|Share (?:this|on)|"
    r"Also read\s*[:|-]|Read more\s*[:|-]|READ MORE|Read also|Recommended|Related\s*:|Subscribe|Sign up|"
    r"Click here|Download the|Catch all the|Advertisement$|Story continues|Listen to this article|"
    r"Copyright|All rights reserved|©|Get the latest|Join our|For more news|Trending:|"
    r"Loading|Watch:|WATCH:|Also watch)",
    re.I,
)
_INLINE_SOCIAL = re.compile(r"^Follow us on\s*", re.I)
_BYLINE = re.compile(
    r"^(?:By|Written by|Edited by|Reported by)\s+[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,4}"
    r"(?:\s*(?:,|and|&)\s*[A-Z][\w.'-]+(?:\s+[A-Z][\w.'-]+){0,3})*\s*$"
)

# A place dateline: "PYONGYANG:", "SEOUL, Aug 14 (Reuters) -", "LORVEN, March 14 (Wire) –".
_DATELINE = re.compile(
    r"^(?P<place>[A-Z][A-Z.'\- ]{2,40}?(?:,\s*[A-Z][A-Za-z.]+(?:\s[A-Z][A-Za-z.]+)?)?)"
    r"(?:,\s*(?P<date>" + _MONTH_RE + r"\s+\d{1,2}(?:,\s*\d{4})?|\d{1,2}\s+" + _MONTH_RE + r"))?"
    r"\s*(?:\((?P<agency>[^)]{1,40})\))?\s*(?:[:—–]|--|-)\s+(?=[A-Z\"“‘])"
)


@dataclass
class CleanResult:
    """What cleaning found in one raw article."""

    title: str | None
    text: str
    dateline: str | None = None
    subheadings: list[str] = field(default_factory=list)
    stripped: list[StrippedLine] = field(default_factory=list)
    published: dt.date | None = None
    published_source: str = "unknown"


# --------------------------------------------------------------------------- entry point


def clean(
    raw_text: str,
    *,
    title: str | None = None,
    published: dt.date | None = None,
    published_source: str = "unknown",
    detect_title: bool = True,
) -> CleanResult:
    """Clean one article.

    Args:
        raw_text: The article text as read (header line already removed).
        title: Headline from metadata, if the input had one.
        published: Publication date from metadata or header, if known.
        published_source: Where ``published`` came from.
        detect_title: Look for a headline in the first line when ``title`` is None.

    Returns:
        The cleaned body, title, dateline, cross-heads, stripped lines and the
        publication date (inferred from the text when not given).
    """
    text = normalize_text(raw_text)
    paras = split_paragraphs(text)
    stripped: list[StrippedLine] = []
    if title:
        title = normalize_text(title)

    # 1. A headline glued to read-time/byline junk ("...drills3 min read 14 Aug 2023, 06:50 AM IST").
    if paras:
        m = _READ_TIME.search(paras[0])
        if m and (title is None or fold(paras[0]).startswith(fold(title)[:20])):
            head = paras[0][: m.start()].strip()
            stripped.append(StrippedLine(paras[0][m.start() :].strip(), "read_time", 0))
            if head and title is None and detect_title:
                title = _tidy_title(head)
            paras = paras[1:]

    # 2. Paragraph by paragraph: drop furniture, keep evidence.
    body: list[str] = []
    for i, para in enumerate(paras):
        kept = _clean_paragraph(para, i, stripped)
        if kept is not None:
            body.append(kept)

    # 3. A headline as the first remaining line, or a repeat of the given one.
    if body:
        if title is None and detect_title and len(body) > 1 and _looks_like_headline(body[0]):
            title = _tidy_title(body[0])
            body = body[1:]
        elif title and fold(body[0]) == fold(title):
            body = body[1:]

    # 4. Cross-heads: short title-like lines inside the body.
    subheadings: list[str] = []
    final: list[str] = []
    for i, para in enumerate(body):
        if 0 < i < len(body) - 1 and _looks_like_subheading(para):
            subheadings.append(para)
            stripped.append(StrippedLine(para, "subheading", i))
            continue
        final.append(para)

    # 5. Dateline on the first paragraph.
    dateline = None
    if final:
        m = _DATELINE.match(final[0])
        if m and _plausible_place(m.group("place")):
            dateline = m.group("place").strip().rstrip(",")
            stripped.append(StrippedLine(final[0][: m.end()].strip(), "dateline", 0))
            if m.group("agency"):
                stripped.append(StrippedLine(f"({m.group('agency').strip()})", "relay_credit", 0))
            final[0] = final[0][m.end() :].strip()

    body_text = join_paragraphs(final)
    if published is None:
        published, published_source = infer_published(body_text, title, stripped)
    return CleanResult(
        title=title,
        text=body_text,
        dateline=dateline,
        subheadings=subheadings,
        stripped=stripped,
        published=published,
        published_source=published_source,
    )


def _tidy_title(t: str) -> str:
    """Trim a headline candidate."""
    return t.strip().strip("|-–— ").strip()


def _looks_like_headline(line: str) -> bool:
    """A first line that reads as a headline rather than a lead sentence."""
    n = len(line.split())
    if n < 3 or n > 25:
        return False
    if re.search(r"[.;,]$", line) or re.search(r"[.!?][\"”’]$", line):
        return False
    if _DATELINE.match(line):
        return False
    return bool(re.match(r"[A-Z0-9\"“‘']", line))


def _looks_like_subheading(para: str) -> bool:
    """A cross-head: a short capitalised line with no sentence-final period."""
    n = len(para.split())
    if n < 2 or n > 12:
        return False
    if re.search(r"[.,;:\"”]$", para):
        return False
    if re.search(r"[\"“”]", para):
        return False
    return bool(re.match(r"[A-Z0-9]", para))


def _plausible_place(place: str) -> bool:
    """A dateline place is upper case and not an acronym that starts a sentence."""
    core = re.sub(r",.*$", "", place).strip()
    letters = re.sub(r"[^A-Za-z]", "", core)
    return len(letters) >= 3 and core.upper() == core and len(core.split()) <= 4


def _clean_paragraph(para: str, index: int, stripped: list[StrippedLine]) -> str | None:
    """Return the kept part of a paragraph (None to drop it), recording what was stripped."""
    # Image blocks: "Follow us on Image Source : AP <caption>" — the whole line is furniture.
    if _IMAGE_SOURCE.search(para):
        for m in _IMAGE_SOURCE.finditer(para):
            stripped.append(StrippedLine(m.group(0).strip(), "photo_credit", index))
        if _INLINE_SOCIAL.match(para):
            stripped.append(StrippedLine("Follow us on", "social", index))
        stripped.append(StrippedLine(para, "caption", index))
        return None
    if _EDITORS_NOTE.search(para) and _upper_ratio(para) > 0.5:
        stripped.append(StrippedLine(para, "editors_note", index))
        return None
    if _CAPTION_START.match(para) or _CAPTION_LABEL.match(para):
        if len(para.split()) > CAPTION_MAX_WORDS:
            # a one-paragraph article that opens with a caption: strip the caption, keep the story
            cut = _SENTENCE_END.search(para)
            if cut:
                head, rest = para[: cut.start()].strip(), para[cut.end() :].strip()
                stripped.append(StrippedLine(head, "caption", index))
                for m in _PHOTO_CREDIT.finditer(head):
                    stripped.append(StrippedLine(m.group(0).strip(), "photo_credit", index))
                return _clean_paragraph(rest, index, stripped)
        stripped.append(StrippedLine(para, "caption", index))
        for m in _PHOTO_CREDIT.finditer(para):
            stripped.append(StrippedLine(m.group(0).strip(), "photo_credit", index))
        return None
    if _SOCIAL.match(para):
        stripped.append(StrippedLine(para, "promo" if not para.lower().startswith("follow") else "social", index))
        return None
    if _BYLINE.match(para) and index <= 2:
        stripped.append(StrippedLine(para, "byline", index))
        return None
    if _READ_TIME.search(para) and len(para.split()) <= 14:
        stripped.append(StrippedLine(para, "read_time", index))
        return None
    if _TIMESTAMP_JUNK.match(para):
        stripped.append(StrippedLine(para, "timestamp", index))
        return None
    if _AGENCY_SIGNOFF.match(para) and len(para.split()) <= 4:
        stripped.append(StrippedLine(para, "relay_credit", index))
        return None
    # Inline furniture inside an otherwise good paragraph.
    kept = para
    for rx, kind in ((_RELAY_TAIL, "relay_credit"), (_PAREN_PHOTO_CREDIT, "photo_credit")):
        for m in rx.finditer(kept):
            stripped.append(StrippedLine(m.group(0).strip(), kind, index))
        kept = rx.sub("", kept)
    kept = re.sub(r"\s{2,}", " ", kept).strip()
    if _EDITORS_NOTE.search(kept) and _upper_ratio(kept) > 0.5:
        stripped.append(StrippedLine(kept, "editors_note", index))
        return None
    if not re.search(r"[A-Za-z]{2}", kept):
        return None
    return kept


def _upper_ratio(s: str) -> float:
    """Share of upper-case letters among letters."""
    letters = [c for c in s if c.isalpha()]
    return sum(c.isupper() for c in letters) / len(letters) if letters else 0.0


# --------------------------------------------------------------------------- publication date

_FULL_DATE = re.compile(
    r"\b(?:(?P<wd>" + _WEEKDAY_RE + r"),?\s+)?(?:(?P<m1>" + _MONTH_RE + r")\s+(?P<d1>\d{1,2})(?:st|nd|rd|th)?,?\s+"
    r"(?P<y1>\d{4})|(?P<d2>\d{1,2})(?:st|nd|rd|th)?\s+(?P<m2>" + _MONTH_RE + r"),?\s+(?P<y2>\d{4}))\b"
    r"|\b(?P<iso>\d{4}-\d{2}-\d{2})\b"
)
_REPORT_WEEKDAY = re.compile(
    r"\b(?:said|says|reported|reports|announced|added|stated|told|described|declared)\s+(?:on\s+)?"
    r"(?P<wd>" + _WEEKDAY_RE + r")\b"
    r"|\b(?:on\s+)?(?P<wd2>" + _WEEKDAY_RE + r")\s+(?:said|reported|announced|described|told)\b",
    re.I,
)
_PAREN_DATE = re.compile(r"\b(?:on\s+)?(?P<wd>" + _WEEKDAY_RE + r")\s*\((?P<m>" + _MONTH_RE + r")\s+(?P<d>\d{1,2})\)")


def _parse_full_date(m: re.Match[str]) -> dt.date | None:
    """Date from a :data:`_FULL_DATE` match, or None when it is impossible."""
    try:
        if m.group("iso"):
            return dt.date.fromisoformat(m.group("iso"))
        if m.group("m1"):
            return dt.date(int(m.group("y1")), _MONTHS[m.group("m1").rstrip(".").lower()], int(m.group("d1")))
        return dt.date(int(m.group("y2")), _MONTHS[m.group("m2").rstrip(".").lower()], int(m.group("d2")))
    except (ValueError, KeyError):
        return None


def infer_published(text: str, title: str | None, stripped: list[StrippedLine]) -> tuple[dt.date | None, str]:
    """Infer a publication date from the article's own words.

    Evidence, strongest first: a byline or read-time stamp ("14 Aug 2023, 06:50 AM
    IST"); a weekday with its date in a reporting clause ("reported on Monday
    (August 14)"); explicit full dates, filtered to the weekday of a reporting cue
    such as "state media said Monday". Among the remaining candidates the latest
    date that is mentioned most often wins.

    Returns:
        The date (or None) and a description of the evidence.
    """
    stamp_kinds = {"read_time", "timestamp", "byline"}
    for s in stripped:
        if s.kind in stamp_kinds:
            for m in _FULL_DATE.finditer(s.text):
                d = _parse_full_date(m)
                if d:
                    return d, f"inferred: byline stamp '{s.text}'"
    corpus = "\n".join([title or "", text] + [s.text for s in stripped])
    report_days = {_WEEKDAYS.index((m.group("wd") or m.group("wd2")).lower()) for m in _REPORT_WEEKDAY.finditer(corpus)}
    candidates: dict[dt.date, int] = {}
    for m in _FULL_DATE.finditer(corpus):
        d = _parse_full_date(m)
        if d is None:
            continue
        if m.group("wd") and d.weekday() != _WEEKDAYS.index(m.group("wd").lower()):
            continue
        candidates[d] = candidates.get(d, 0) + 1
    # "on Monday (August 14)": the year comes from a full date elsewhere, if any.
    years = {d.year for d in candidates}
    for m in _PAREN_DATE.finditer(corpus):
        for y in sorted(years, reverse=True):
            try:
                d = dt.date(y, _MONTHS[m.group("m").rstrip(".").lower()], int(m.group("d")))
            except (ValueError, KeyError):
                continue
            if d.weekday() == _WEEKDAYS.index(m.group("wd").lower()):
                return d, f"inferred: '{m.group(0)}'"
    if report_days:
        matching = {d: n for d, n in candidates.items() if d.weekday() in report_days}
        if matching:
            best = max(matching, key=lambda d: (matching[d], d))
            wd = _WEEKDAYS[best.weekday()].capitalize()
            return best, f"inferred: reporting day '{wd}' matches the date {best.isoformat()} in the text"
    if candidates:
        best = max(candidates, key=lambda d: (candidates[d], d))
        return best, f"inferred: most cited full date {best.isoformat()} in the text"
    return None, "unknown"
