"""Find quoted passages in raw text.

Quotation marks in news copy are messy: curly and straight marks mix, a quote
may run over several sentences, and a quote continuing into the next paragraph
conventionally leaves the first paragraph unclosed. We therefore pair marks
paragraph by paragraph and let an unclosed quote end with its paragraph.
"""

from __future__ import annotations

import re

# Characters that never start a word, used to tell an opening straight quote
# (after space or an opening bracket) from a closing one.
_OPENERS_BEFORE = set(" \t\n\r\u00a0([{—–-/")
_PARA_RE = re.compile(r"[^\n]+")


def _is_open_context(text: str, i: int) -> bool:
    return i == 0 or text[i - 1] in _OPENERS_BEFORE


def _double_marks(text: str, start: int, end: int) -> list[tuple[int, int, str]]:
    """Double quote marks in ``text[start:end]`` as (offset, length, kind).

    kind is "open", "close" or "either" (straight marks, decided by context).
    """
    marks: list[tuple[int, int, str]] = []
    i = start
    while i < end:
        c = text[i]
        if c in "“„«":
            # “ typed for ” ("a fascist?“ he asked"): right after a word or
            # punctuation and before a space, it closes.
            after_word = i > start and text[i - 1] not in _OPENERS_BEFORE and text[i - 1] not in "“\"'‘"
            before_gap = i + 1 >= end or text[i + 1] in " \t\u00a0,.;:!?)"
            marks.append((i, 1, "either" if c == "“" and after_word and before_gap else "open"))
        elif c in "”»":
            marks.append((i, 1, "close"))
        elif c == '"':
            marks.append((i, 1, "either"))
        elif c == "'" and i + 1 < end and text[i + 1] == "'":
            # '' is used as a double quote in some feeds.
            marks.append((i, 2, "either"))
            i += 1
        elif c == "`" and i + 1 < end and text[i + 1] == "`":
            marks.append((i, 2, "open"))
            i += 1
        i += 1
    return marks


def _pair(text: str, marks: list[tuple[int, int, str]], para_end: int) -> list[tuple[int, int]]:
    spans: list[tuple[int, int]] = []
    open_at: int | None = None
    for pos, length, kind in marks:
        if kind == "either":
            kind = "open" if open_at is None and _is_open_context(text, pos) else "close"
            if kind == "close" and open_at is None:
                # A stray closing straight mark right after a word: most often
                # a closed quote whose opening was lost; ignore it.
                continue
        if kind == "open":
            if open_at is not None:
                # Unbalanced: close the previous quote before the new one.
                spans.append((open_at, pos))
            open_at = pos
        elif open_at is not None:
            spans.append((open_at, pos + length))
            open_at = None
    if open_at is not None:
        spans.append((open_at, para_end))
    return spans


_SINGLE_OPEN = re.compile(r"(?:(?<=^)|(?<=[\s(\[—–]))[‘'](?=[A-Za-z0-9])")
_SINGLE_CLOSE = re.compile(r"(?<=[^\s])[’'](?=[\s,.;:!?)\]—–]|$)")


def _single_quotes(text: str, start: int, end: int, taken: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Single-quoted passages outside any double quote (British style).

    Apostrophes vastly outnumber single quotes, so only a mark in opening
    position that has a closing mark later in the same paragraph counts, and
    the passage must span at least two words.
    """
    spans: list[tuple[int, int]] = []
    para = text[start:end]
    closes = [m.start() + start for m in _SINGLE_CLOSE.finditer(para)]
    pos = 0
    for m in _SINGLE_OPEN.finditer(para):
        o = m.start() + start
        if o < pos or any(a <= o < b for a, b in taken):
            continue
        for c in closes:
            if c > o + 1:
                inner = text[o + 1 : c]
                if " " in inner.strip() and not any(a <= c < b for a, b in taken):
                    spans.append((o, c + 1))
                    pos = c + 1
                break
    return spans


def find_quotes(text: str) -> list[tuple[int, int]]:
    """Quoted passages of ``text`` as ``(start, end)`` offsets including the marks.

    Args:
        text: raw article text.

    Returns:
        Non-overlapping spans sorted by start. A quote left open at the end of a
        paragraph ends there.
    """
    spans: list[tuple[int, int]] = []
    for para in _PARA_RE.finditer(text):
        s, e = para.start(), para.end()
        doubles = _pair(text, _double_marks(text, s, e), e)
        spans.extend(doubles)
        spans.extend(_single_quotes(text, s, e, doubles))
    spans.sort()
    return spans
