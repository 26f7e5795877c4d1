"""Summaries in which every sentence cites the articles it comes from.

Extractive: the summary is built from the event's claims, most corroborated
first (claims stated by more articles and more independent sources), choosing
for each claim its most neutral member sentence (no quotation, no first person,
no question, a reasonable length), skipping near-repeats. Each summary sentence
cites every aligned sentence of its claim, and :func:`check_citation` verifies
that each cited sentence really supports it (the eval reports the rate).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from storydesk.compare import load_claims
from storydesk.embed import Embedder, sentence_vectors
from storydesk.models import Citation, Claim, Sentence, SummarySentence, from_dict, to_dict
from storydesk.pipeline import Context
from storydesk.textutil import fold, words

VERSION = "summary-1"
KIND = "summary"
#: A cited sentence supports a summary sentence at this cosine...
SUPPORT_COSINE = 0.6
#: ...or when it contains this share of the summary sentence's content words.
SUPPORT_OVERLAP = 0.5
_STOP = set(
    [
        "a",
        "an",
        "the",
        "and",
        "or",
        "but",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "as",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "has",
        "have",
        "had",
        "it",
        "its",
        "this",
        "that",
        "these",
        "those",
        "he",
        "she",
        "they",
        "his",
        "her",
        "their",
        "said",
        "says",
        "will",
        "would",
        "also",
        "into",
        "over",
        "after",
        "before",
        "about",
        "than",
    ]
)


def content_words(text: str) -> set[str]:
    """Lower-cased content words, crudely stemmed (for overlap checks)."""
    out = set()
    for w in words(fold(text)):
        if w in _STOP or len(w) < 3:
            continue
        out.add(re.sub(r"(?:ing|ed|es|s)$", "", w) if len(w) > 4 else w)
    return out


def check_citation(summary: str, cited: str, embedder: Embedder | None = None, cosine: float | None = None) -> bool:
    """True when ``cited`` supports ``summary``: similar meaning or most of its content words."""
    sw, cw = content_words(summary), content_words(cited)
    if sw and len(sw & cw) / len(sw) >= SUPPORT_OVERLAP:
        return True
    if cosine is None and embedder is not None:
        v = embedder.encode([summary, cited])
        cosine = float(np.dot(v[0], v[1]))
    return cosine is not None and cosine >= SUPPORT_COSINE


def neutrality_penalty(text: str) -> float:
    """How unsuitable a sentence is for a neutral summary (0 = fine)."""
    p = 0.0
    n = len(text.split())
    if re.search(r"[\"“”]", text):
        p += 0.6  # quotations are voices, not the summary's own statement
    if re.search(r"\b(?:I|we|our|my|us)\b", text):
        p += 0.5
    if text.rstrip().endswith("?"):
        p += 1.0
    if n < 8:
        p += 0.5
    if n > 45:
        p += 0.4
    if re.search(r"\b(?:reportedly|allegedly|shocking|outrageous|slammed|blasted)\b", text, re.I):
        p += 0.2
    return p


def summarize(
    claims: Sequence[Claim],
    sentences: dict[tuple[str, int], Sentence],
    vecs: dict[str, np.ndarray],
    max_sentences: int = 5,
    min_sentences: int = 3,
) -> list[SummarySentence]:
    """Pick summary sentences from claims, most corroborated first.

    Args:
        claims: The event's claims (from the compare stage).
        sentences: ``(article, index)`` -> sentence.
        vecs: Sentence vectors keyed ``"article:index"``.
        max_sentences: Upper bound of the summary length.
        min_sentences: Fill up to this many with single-source claims if needed.
    """

    def key(c: Citation) -> str:
        return f"{c.article}:{c.sentence}"

    scored = []
    for c in claims:
        members = [sentences[(x.article, x.sentence)] for x in c.citations if (x.article, x.sentence) in sentences]
        if not members:
            continue
        best = min(members, key=lambda s: (neutrality_penalty(s.text), s.index, len(s.text)))
        lead = min(s.index for s in members)
        score = len(c.articles) + 0.5 * c.independent_sources - neutrality_penalty(best.text) - 0.05 * lead
        scored.append((score, c, best))
    scored.sort(key=lambda t: -t[0])
    chosen: list[tuple[Claim, Sentence]] = []
    for _score, c, best in scored:
        if len(chosen) >= max_sentences:
            break
        if len(c.articles) < 2 and len(chosen) >= min_sentences:
            continue
        v = vecs.get(f"{best.article_id}:{best.index}")
        if v is not None and any(float(np.dot(v, vecs[f"{s.article_id}:{s.index}"])) > 0.8 for _c, s in chosen):
            continue
        if neutrality_penalty(best.text) >= 1.0 and len(chosen) >= min_sentences:
            continue
        chosen.append((c, best))
    out: list[SummarySentence] = []
    for c, best in chosen:
        cites = []
        vb = vecs.get(f"{best.article_id}:{best.index}")
        for x in c.citations:
            s = sentences.get((x.article, x.sentence))
            if s is None:
                continue
            vx = vecs.get(key(x))
            cos = float(np.dot(vb, vx)) if vb is not None and vx is not None else None
            if s is best or check_citation(best.text, s.text, cosine=cos):
                cites.append(x)
        out.append(SummarySentence(text=best.text, citations=tuple(cites)))
    return out


class SummarizeStage:
    """Cited summary and headline per event."""

    name: ClassVar[str] = "summarize"
    version: ClassVar[str] = VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"claims", "events"})
    assigns: ClassVar[frozenset[str]] = frozenset({"summaries"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Summarise events whose membership changed."""
        store = ctx.store
        prev = {} if ctx.force else {k: (v, d) for k, v, d in store.records(KIND)}
        n = 0
        events = store.events()
        for ev in ctx.progress(events, total=len(events), desc="summaries"):
            members = sorted(ev.articles)
            p = prev.get(ev.id)
            if p and p[0] == VERSION and p[1].get("members") == members:
                continue
            sents = {(s.article_id, s.index): s for a in ev.articles for s in store.sentences(a)}
            vecs = sentence_vectors(store, ctx.embedder, list(sents.values()))
            summary = summarize(load_claims(store, ev.id), sents, vecs, ctx.config.summary_sentences)
            store.put_record(
                KIND, ev.id, VERSION, {"members": members, "headline": ev.title, "summary": to_dict(summary)}
            )
            n += 1
        return {"events": n}


def load_summary(store: Any, event_id: str) -> tuple[str, list[SummarySentence]]:
    """Headline and summary of one event."""
    rec = store.get_record(KIND, event_id)
    if not rec:
        return "", []
    return rec[1].get("headline", ""), [from_dict(SummarySentence, s) for s in rec[1]["summary"]]
