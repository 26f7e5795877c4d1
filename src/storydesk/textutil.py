"""Text helpers shared by the stages: normalisation, paragraphs, sentences, ids."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Control characters other than tab/newline/CR: never article text, and PostgreSQL cannot store NUL.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
_MULTI_SPACE = re.compile(r" {2,}")


def normalize_text(text: str) -> str:
    """Normalise raw text: NFC, unix newlines, no zero-width or odd spaces, trimmed lines.

    Quote marks and dashes are kept as written: quotes are compared across outlets
    later and the original characters are evidence.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _SPACES.sub(" ", text)
    lines = [_MULTI_SPACE.sub(" ", ln).strip() for ln in text.split("\n")]
    return "\n".join(lines).strip()


_FOLD_PUNCT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPACE_RUN = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, ASCII-ish folding used for comparisons (quotes, dashes, case)."""
    t = text.translate(_FOLD_PUNCT)
    if not t.isascii():  # accents and compatibility forms: the slow path, only where there are any
        t = unicodedata.normalize("NFKD", t)
        t = "".join(c for c in t if not unicodedata.combining(c)).translate(_FOLD_PUNCT)
    return _SPACE_RUN.sub(" ", t).strip().lower()


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def words(text: str) -> list[str]:
    """Word tokens (letters/digits with inner apostrophes and hyphens)."""
    return _WORD.findall(text)


def content_id(*parts: str | None) -> str:
    """A stable 16-hex-digit id from the given parts (None counts as empty)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(fold(p or "").encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Split normalised text into paragraphs.

    Blank lines always separate paragraphs. A single newline also does (many
    scraped articles use one newline per paragraph), except where it is a soft
    wrap: the line does not end a sentence and the next one starts in lower case.
    """
    paras: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            if current and _is_soft_wrap(current[-1], line):
                current[-1] = current[-1] + " " + line
            else:
                current.append(line)
        paras.extend(current)
    return paras


def _is_soft_wrap(prev: str, nxt: str) -> bool:
    """True when ``nxt`` continues the sentence of ``prev`` (hard-wrapped text)."""
    return not re.search(r"[.!?:;\"”’)\]]$", prev) and bool(re.match(r"[a-z(\"“‘,;]", nxt))


def join_paragraphs(paragraphs: list[str]) -> str:
    """Join paragraphs with blank lines (the storage format of ``Article.text``)."""
    return "\n\n".join(p for p in paragraphs if p)


def paragraph_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """Yield ``(paragraph_index, start, end)`` of each paragraph of a joined text."""
    pos = 0
    for i, para in enumerate(text.split("\n\n")):
        yield i, pos, pos + len(para)
        pos += len(para) + 2


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "lt",
    "col",
    "maj",
    "capt",
    "cpt",
    "sgt",
    "adm",
    "cmdr",
    "gov",
    "sen",
    "rep",
    "rev",
    "hon",
    "pres",
    "st",
    "jr",
    "sr",
    "inc",
    "corp",
    "ltd",
    "co",
    "bros",
    "no",
    "nos",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "est",
    "dept",
    "univ",
    "ave",
    "blvd",
    "rd",
    "ft",
    "mt",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "fig",
    "cf",
    "al",
    "ph.d",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "a.m",
    "p.m",
    "d.c",
    "n.y",
    "l.a",
}

# Candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(\s+)")
_NEXT_START = re.compile(r"[\"'“‘«(\[]*[A-Z0-9]")


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as character offsets into the text it was split from."""

    start: int
    end: int
    paragraph: int


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split a paragraph-joined article body into sentences with offsets.

    Rule-based and deterministic: paragraph breaks always end a sentence; inside a
    paragraph a sentence ends at ``. ! ? …`` (plus closing quotes) followed by an
    upper-case letter, digit or opening quote, unless the word before the period is
    a known abbreviation, an initial, or the period belongs to an ellipsis that the
    sentence continues after.
    """
    spans: list[SentenceSpan] = []
    for pi, pstart, pend in paragraph_spans(text):
        para = text[pstart:pend]
        s = 0
        for m in _BOUNDARY.finditer(para):
            end = m.end(2)
            nxt = para[m.end() :]
            if not _NEXT_START.match(nxt):
                continue
            if not _ends_sentence(para[s : m.start(1)], m.group(1), m.group(2), nxt):
                continue
            _add_span(spans, para, pstart, s, end, pi)
            s = m.end()
        _add_span(spans, para, pstart, s, len(para), pi)
    return spans


def _add_span(spans: list[SentenceSpan], para: str, offset: int, s: int, e: int, pi: int) -> None:
    """Append the stripped span ``para[s:e]`` when it holds any word character."""
    chunk = para[s:e]
    stripped = chunk.strip()
    if not stripped or not re.search(r"\w", stripped):
        return
    lead = len(chunk) - len(chunk.lstrip())
    start = offset + s + lead
    spans.append(SentenceSpan(start, start + len(stripped), pi))


def _ends_sentence(before: str, punct: str, closing: str, nxt: str) -> bool:
    """Decide whether a candidate boundary really ends the sentence."""
    if punct != "." or closing:
        # "?", "!" and a period before a closing quote end a sentence.
        return True
    last = before.rsplit(None, 1)[-1] if before.strip() else ""
    token = last.lstrip("\"'“‘(").lower()
    if token in _ABBREVIATIONS:
        # "Gen. Kim" never ends; "in Jan. The" is rare enough to accept a miss.
        return False
    if re.fullmatch(r"[A-Za-z]", token):
        return False  # an initial: "J. Smith"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):
        # "U.S." ends a sentence only before a typical sentence opener.
        return bool(re.match(r"(The|A|An|He|She|It|They|We|In|On|But|This|That|These|Those)\b", nxt))
    return True


def sentence_texts(text: str) -> list[str]:
    """Convenience: just the sentence strings of ``text``."""
    return [text[s.start : s.end] for s in split_sentences(text)]


def own_id(namespace: str | None, given: str) -> str:
    """A stable 16-hex-digit article id from an input's own id within a namespace (its outlet).

    The namespace is folded like :func:`content_id` parts ("Lorven Post" = "lorven post");
    the given id is taken exactly (ids are case-sensitive).
    """
    h = hashlib.sha256(b"own-id\x1f")
    h.update(fold(namespace or "").encode("utf-8", "backslashreplace"))
    h.update(b"\x1f")
    h.update(given.encode("utf-8", "backslashreplace"))
    return h.hexdigest()[:16]
