"""Event-assignment signals of one article: its lead text, proper names, content words and happening date.

A pure function of the article and its temporal expressions (the article map).
"""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from collections.abc import Sequence

from storydesk.article.timexes import precision
from storydesk.models import Article, ArticleSignals, Sentence, TimeExpression
from storydesk.textutil import (
    DATE_WORDS,
    REPORTING_WORDS,
    STOP_WORDS,
    TITLE_WORDS,
    fold,
    word_set,
)

#: Sentences after the title that make the "lead" (embedding, happening date).
LEAD_SENTENCES = 2
#: Characters of body text whose names and words an article contributes.
BAG_CHARS = 6000

_NAME_RE = re.compile(
    r"\b[A-Z][\w'’\-]*(?:\.[A-Z]\.?)*(?:\s+(?:(?:of|de|del|la|le|al|bin|van|von|der|da)\s+)?[A-Z][\w'’\-]*(?:\.[A-Z]\.?)*)*"
)
#: What precedes a sentence-initial word: end punctuation (maybe a closing quote) or a line break.
_SENT_START = re.compile(r"(?:[.!?][\"'”’)]?\s+|\n\s*)$")
_LOWER_RE = re.compile(r"\b[a-z][\w'’\-]*")
_WORD_RE = re.compile(r"[a-z][a-z0-9'\-]+")
#: Words that never key an event: stop words, date words (every report of anything has
#: them), words of the reporting act and agencies, courtesy titles, and a few words
#: news leads use whatever happened ("new", "like", "percent", "second").
_STOP = STOP_WORDS | DATE_WORDS | REPORTING_WORDS | TITLE_WORDS | word_set("new like near percent cent second")


def name_keys(text: str) -> Counter[str]:
    """Proper names in ``text``: capitalised phrases, folded ("Port Sabrel" -> "port sabrel").

    Sentence-initial ordinary words are dropped by checking whether the same word
    also occurs in lower case in the text, so no tagger is needed.
    """
    lower = {w.lower() for w in _LOWER_RE.findall(text)}
    matches = list(_NAME_RE.finditer(text))
    initial = [m.start() == 0 or bool(_SENT_START.search(text, max(0, m.start() - 6), m.start())) for m in matches]
    # capitalised words seen inside a sentence are names even where they open one
    inner = {t for m, ini in zip(matches, initial, strict=True) for t in m.group(0).split()[ini:]}
    out: Counter[str] = Counter()
    for m, ini in zip(matches, initial, strict=True):
        toks = m.group(0).split()
        if ini and toks[0] not in inner:
            toks = toks[1:]
        while toks and (toks[0].lower() in lower or toks[0].lower() in _STOP):
            toks = toks[1:]
        if not toks:
            continue
        key = re.sub(r"'s\b|'(?=\s|$)", "", fold(" ".join(toks)))
        key = " ".join(key.replace("-", " ").replace(".", "").split())
        if len(key) > 1:
            out[key] += 1
    return out


def word_keys(text: str) -> Counter[str]:
    """Content words of ``text``: folded whole words of three characters or more, stop words dropped.

    Whole words, unlike the other stages (:func:`~storydesk.textutil.stem`,
    :func:`~storydesk.textutil.tokens`): a word keeps its hyphens and apostrophes
    ("long-running", "guild's") and is not stemmed. The event model's weights
    (``Config.event_weights``, ``storydesk eval cluster --fit``) were fitted on such
    bags; stems raise the word cosine between different events (ECB+ dev B-cubed
    precision 0.764 -> 0.717, F1 0.842 -> 0.821), and splitting compounds merges
    events of the demo corpus that its answer key keeps apart.
    """
    return Counter(w for w in _WORD_RE.findall(fold(text)) if len(w) > 2 and w not in _STOP)


def happened(article: Article, timexes: Sequence[TimeExpression]) -> tuple[dt.date, dt.date] | None:
    """When the lead says the news happened: the first past day or short range it names.

    Expressions that date the reporting act ("said on Monday"), future ones and
    ones more than two weeks before publication (background) are skipped. None
    when the article is undated or its lead names no such day.

    Args:
        article: The article.
        timexes: Its temporal expressions (only those of the first
            :data:`LEAD_SENTENCES` sentences are read).
    """
    if article.published is None:
        return None
    for t in sorted(timexes, key=lambda t: (t.sentence, t.start_char)):
        if t.sentence < 0 or t.sentence >= LEAD_SENTENCES:
            continue
        if t.role == "report" or t.start is None or t.end is None or precision(t) not in ("day", "range"):
            continue
        if t.start > article.published or (article.published - t.start).days > 14:
            continue
        return t.start, min(t.end, article.published)
    return None


def signals(article: Article, timexes: Sequence[TimeExpression]) -> ArticleSignals:
    """The :class:`~storydesk.models.ArticleSignals` of one article."""
    body = article.text[:BAG_CHARS]
    text = f"{article.title}.\n{body}" if article.title else body
    return ArticleSignals(names=dict(name_keys(text)), words=dict(word_keys(text)), happened=happened(article, timexes))


def lead_text(article: Article, sentences: Sequence[Sentence], n: int = LEAD_SENTENCES) -> str:
    """Title plus the first ``n`` sentences: what the event embedding sees."""
    lead = " ".join(s.text for s in sentences[:n])
    return f"{article.title}. {lead}" if article.title else lead
