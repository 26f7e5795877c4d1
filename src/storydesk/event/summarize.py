"""Summaries in which every sentence cites the articles it comes from.

Compressive and extractive (docs/summaries.md describes the method):

1. **Word relevance.** Every word of an event gets the probability that a neutral
   summary of the event uses it (once, twice, three times), from a logistic model
   over transparent features: how many of the outlets use it, in how many
   headlines, whether it is a name, a number or a stop word, how early it comes,
   how central the sentences holding it are, how much of it sits inside quotation
   marks (:data:`WORD_WEIGHTS`, fitted by ``storydesk eval summary --fit`` on the
   NeuS train split).
2. **Length.** The summary aims at a share of the event's words
   (:data:`LENGTH_RATIO`, bounded by :data:`MIN_WORDS` and :data:`MAX_WORDS`): a
   roundup of three short leads is two or three sentences, a large event five or six.
3. **Headline**: an article title, with outlet tags and labels ("Opinion:",
   "| Outlet") removed, chosen together with the sentences: the title whose
   summary (step 4 run after it) reaches the highest expected F1; question
   headlines count half.
4. **Sentences**: greedily, the candidate (a sentence, or a shortened form of it
   without its attribution tail, parenthesis, leading connective or trailing clause:
   :func:`compressions`) that most raises the expected ROUGE-style F1 of the
   summary against a summary of the target length, until no candidate raises it and
   the summary has its minimum number of sentences. Words already said count less,
   so repeats are avoided. Questions, first-person sentences, fragments and
   sentences that are mostly quotation are not candidates; sentences opening with
   a pronoun count less (they depend on the sentence before them).
5. **Order and citations.** Sentences are ordered most corroborated first. Each
   cites its own sentence and, per other article, the sentence that best supports it
   by :func:`supports` (its aligned claim members first). :func:`supports` is also
   what the eval uses to measure citation support.
"""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from storydesk.event.compare import names_in, numbers_in
from storydesk.models import Article, Citation, Claim, Sentence, SummarySentence
from storydesk.textutil import STOP_WORDS, fold, stem
from storydesk.textutil import content_words as _content_words
from storydesk.textutil import tokens as _tokens

#: A cited sentence must contain this share of the summary sentence's content words.
SUPPORT_OVERLAP = 0.5
#: Target summary length as a share of the event's words (titles and bodies of its originals).
LENGTH_RATIO = 0.3
#: Bounds of the target length, in words.
MIN_WORDS, MAX_WORDS = 30, 160
#: Sentences wanted at least, when the material allows (see :func:`min_sentences`).
MIN_SENTENCES = 3
#: Weight of a candidate that opens with a pronoun or connective (it leans on its context).
DEPENDENT_WEIGHT = 0.6
#: Weight of a question headline against a statement.
QUESTION_HEADLINE_WEIGHT = 0.5
#: A candidate repeats a chosen sentence when this share of its content words is already in it.
REPEAT_OVERLAP = 0.6

#: Names of the word features, in :data:`WORD_WEIGHTS` order (see :func:`word_features`).
WORD_FEATURES = (
    "share_of_articles",
    "in_all_articles",
    "in_two_articles",
    "share_of_titles",
    "in_a_title",
    "stop_word",
    "first_position_in_lead",
    "name",
    "number",
    "log_count",
    "short",
    "first_sentence_index",
    "centrality",
    "quoted_share",
    "in_a_lead",
    "log_sentences",
    "stop_x_share",
    "stop_x_log_count",
    "occurrence_1",
    "occurrence_2",
    "occurrence_3",
)
#: Logistic weights of P(word used k times in a neutral summary): fitted by
#: ``storydesk eval summary --fit`` on the first 600 events of the NeuS train split.
WORD_WEIGHTS: tuple[float, ...] = (
    -0.7557,
    0.3493,
    0.3334,
    1.7128,
    -0.2228,
    0.2996,
    -0.2458,
    0.2549,
    0.4193,
    1.3204,
    0.155,
    0.6043,
    0.3715,
    -0.0817,
    0.336,
    0.5316,
    -0.0136,
    -0.1525,
    0.6797,
    -1.0984,
    -2.5311,
)
WORD_BIAS = -3.032

#: Stems of the stop words: the word model's ``stop_word`` feature reads stemmed tokens.
_STOP_STEMS = frozenset(stem(w) for w in STOP_WORDS)
_QUOTED = re.compile(r"[\"“”][^\"“”]{2,}[\"“”]")
_DEPENDENT = re.compile(
    r"^(?:He|She|It|They|This|That|These|Those|His|Her|Their|Its|But|And|So|Yet|Still|Also|Then|There)\b"
)
_FIRST_PERSON = re.compile(r"\b(?:I|we|We|our|Our|my|My|us)\b")
_HEADLINE_LABEL = re.compile(
    r"^(?:(?:opinion|analysis|editorial|commentary|exclusive|breaking|watch|video|live|report|fact check)"
    r"\s*[:|–—-]\s*)+",
    re.I,
)
_HEADLINE_TAIL = re.compile(r"\s+[|–—-]\s+[A-Z][\w.&' ]{1,40}$")


# --------------------------------------------------------------------------- words

#: Entries of the per-sentence caches below. Their reuse is within one event (an event
#: of 60 articles has a few thousand sentences); at 65,536 entries each they held
#: ~1.4 KB per entry and grew a worker by ~250 MB over a 10,000-article build.
SENTENCE_CACHE = 1 << 13


@lru_cache(maxsize=SENTENCE_CACHE)
def tokens(text: str) -> tuple[str, ...]:
    """Folded alphanumeric tokens, stemmed (stop words kept: summaries are scored with them).

    Cached: the greedy selection reads every candidate sentence's tokens many times.
    """
    return tuple(stem(w) for w in _tokens(text))


@lru_cache(maxsize=SENTENCE_CACHE)
def content_words(text: str) -> frozenset[str]:
    """Stemmed content words (:func:`storydesk.textutil.content_words`), for overlap checks (cached)."""
    return frozenset(_content_words(text))


def _numbers(text: str) -> set[str]:
    """Numbers written with digits, normalised ("4,000" -> "4000")."""
    return numbers_in(text)


def _names(text: str) -> set[str]:
    """Names inside the sentence (see :func:`storydesk.event.compare.names_in`), stemmed."""
    return {stem(n) for n in names_in(text) if n not in STOP_WORDS}


def supports(summary: str, cited: str) -> bool:
    """True when the cited sentence supports the summary sentence.

    The rule (docs/summaries.md): the cited sentence contains at least
    :data:`SUPPORT_OVERLAP` of the summary sentence's content words (stemmed); if
    the summary sentence names someone or something (capitalised words inside the
    sentence), the cited one shares at least one of those names; if both give
    figures, they share at least one (a different figure is a conflict, not support).

    Args:
        summary: The summary sentence.
        cited: The text of the sentence cited for it.
    """
    sw, cw = content_words(summary), content_words(cited)
    if not sw or len(sw & cw) / len(sw) < SUPPORT_OVERLAP:
        return False
    names = _names(summary)
    if names and not names & (cw | _names(cited)):
        return False
    sn, cn = _numbers(summary), _numbers(cited)
    return not (sn and cn and not sn & cn)


def grounded(summary: str, cited: Iterable[str]) -> bool:
    """True when every content word and figure of ``summary`` occurs in the cited sentences."""
    texts = list(cited)
    have = set().union(*(content_words(t) for t in texts)) if texts else set()
    nums = set().union(*(_numbers(t) for t in texts)) if texts else set()
    return content_words(summary) <= have and _numbers(summary) <= nums


# --------------------------------------------------------------------------- candidates


_COMPRESSIONS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("parenthesis", re.compile(r"\s*\([^()]{1,80}\)")),
    ("according-to", re.compile(r",?\s+according to [^,.;]+(?=[,.;]$|,)|,?\s+according to [^,.;]+(?=\.$)")),
    (
        "said-tail",
        re.compile(
            r",\s+(?:[\w.’'-]+\s+){1,6}?(?:said|says|told [^,.]+|reported|added|wrote|announced)"
            r"(?:\s+(?:on\s+)?(?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|today|yesterday))?"
            r"(?:,\s+citing [^.]+)?(?=\.$)"
        ),
    ),
    (
        "leading-connective",
        re.compile(r"^(?:However|Meanwhile|Still|Now|But|And|Also|Instead|In addition|Moreover|In a statement),\s+"),
    ),
    ("relative-clause", re.compile(r",\s+(?:who|which)\s+[^,]{3,120},(?=\s)")),
    (
        "trailing-clause",
        re.compile(r",\s+(?:as|while|even as|amid|despite|with|and\s+[a-z]+ing|[a-z]+ing)\s+[^.]{10,}(?=\.$)"),
    ),
    ("dash-aside", re.compile(r"\s+[—–-]{1,2}\s+[^—–]{3,100}\s+[—–-]{1,2}(?=\s)")),
)


def compressions(text: str) -> list[str]:
    """The sentence and its shortened forms (each a word-subsequence of it), shortest first.

    Each rule deletes one kind of span that a summary can do without: a
    parenthesis, "according to ...", a closing "..., X said Tuesday", a leading
    connective ("However, "), a non-restrictive relative clause, a trailing
    participial or "as/while ..." clause, a dash aside. Every combination of the
    rules that apply is tried; forms under six words are dropped.
    """
    text = text.strip()
    out = {text}
    found = [rx for _name, rx in _COMPRESSIONS if rx.search(text)]
    for mask in range(1, 2 ** len(found)):
        t = text
        for i, rx in enumerate(found):
            if mask >> i & 1:
                t = rx.sub("", t)
        t = re.sub(r"\s+", " ", t).strip(" ,;")
        if not t:
            continue
        t = t[0].upper() + t[1:]
        if not re.search(r"[.!?\"”’]$", t):
            t += "."
        if len(t.split()) >= 6:
            out.add(t)
    return sorted(out, key=lambda s: (len(s), s))


def candidate(text: str) -> bool:
    """Whether a sentence may stand in a neutral summary at all."""
    t = text.strip()
    if len(t.split()) < 6 or t.endswith("?"):
        return False
    outside = _QUOTED.sub(" ", t)
    if _FIRST_PERSON.search(outside):
        return False
    quoted = sum(len(m.group(0)) for m in _QUOTED.finditer(t))
    return quoted <= 0.5 * len(t)


def neutral_headline(title: str) -> str:
    """A title without labels ("Opinion:", "WATCH:") and outlet tails ("| Fox News")."""
    t = _HEADLINE_LABEL.sub("", title.strip())
    t = _HEADLINE_TAIL.sub("", t).strip()
    return t or title.strip()


# --------------------------------------------------------------------------- word model


@dataclass
class EventText:
    """What the summarizer reads of one event: originals' titles, sentences and vectors."""

    articles: list[Article]
    sentences: dict[str, list[Sentence]]
    vecs: dict[str, np.ndarray]


def _centrality(ev: EventText) -> dict[tuple[str, int], float]:
    """Per sentence: mean over the other articles of its best cosine with their sentences."""
    rows = {a.id: [s.index for s in ev.sentences[a.id] if f"{a.id}:{s.index}" in ev.vecs] for a in ev.articles}
    mats = {aid: np.vstack([ev.vecs[f"{aid}:{i}"] for i in idx]) for aid, idx in rows.items() if idx}
    out = {(a.id, s.index): 0.0 for a in ev.articles for s in ev.sentences[a.id]}
    for aid, mine in mats.items():
        others = [m for other, m in mats.items() if other != aid]
        if not others:
            continue
        # one product per pair of articles, not one per sentence and article: an event of
        # tens of articles has thousands of sentences
        best = np.stack([(m @ mine.T).max(axis=0) for m in others]).astype(np.float64)
        for i, mean in zip(rows[aid], best.mean(axis=0).tolist(), strict=True):
            out[(aid, i)] = mean
    return out


def word_features(ev: EventText) -> dict[str, list[float]]:
    """Features of every word of an event (stemmed token -> values in :data:`WORD_FEATURES` order, k excluded)."""
    n_art = max(len(ev.articles), 1)
    art_counts = {a.id: Counter(tokens(f"{a.title or ''} {a.text}")) for a in ev.articles}
    in_title = {a.id: set(tokens(a.title or "")) for a in ev.articles}
    cent = _centrality(ev)
    info: dict[str, dict[str, float]] = defaultdict(
        lambda: {"min_index": 9.0, "cent": 0.0, "quoted": 0.0, "plain": 0.0, "lead": 0.0, "n_sent": 0.0, "pos": 1.0}
    )
    capital: Counter[str] = Counter()
    lower: Counter[str] = Counter()
    for a in ev.articles:
        for s in ev.sentences[a.id]:
            quoted = set(tokens(" ".join(m.group(0) for m in _QUOTED.finditer(s.text))))
            toks = tokens(s.text)
            c = cent.get((a.id, s.index), 0.0)
            for i, w in enumerate(toks):
                f = info[w]
                f["min_index"] = min(f["min_index"], s.index)
                f["cent"] = max(f["cent"], c)
                f["quoted" if w in quoted else "plain"] += 1
                f["n_sent"] += 1
                if s.index == 0:
                    f["lead"] = 1.0
                    f["pos"] = min(f["pos"], i / max(len(toks), 1))
            for m in re.finditer(r"[A-Za-z]+", s.text):
                w = stem(fold(m.group(0)))
                if m.group(0)[0].isupper():
                    if m.start() > 0:
                        capital[w] += 1
                else:
                    lower[w] += 1
    out: dict[str, list[float]] = {}
    for w in set().union(*art_counts.values()) if art_counts else set():
        na = sum(1 for c in art_counts.values() if w in c)
        nt = sum(1 for t in in_title.values() if w in t)
        total = sum(c[w] for c in art_counts.values())
        f = info[w]
        stop = float(w in _STOP_STEMS)
        out[w] = [
            na / n_art,
            float(na == n_art),
            float(na >= 2),
            nt / n_art,
            float(nt >= 1),
            stop,
            f["pos"],
            float(capital[w] > 0 and lower[w] == 0),
            float(w.isdigit()),
            math.log(total),
            float(len(w) <= 3),
            min(f["min_index"], 5.0) / 5.0,
            f["cent"],
            f["quoted"] / (f["quoted"] + f["plain"]) if f["quoted"] + f["plain"] else 0.0,
            f["lead"],
            math.log1p(f["n_sent"]),
            stop * na / n_art,
            stop * math.log(total),
        ]
    return out


def word_rows(features: dict[str, list[float]]) -> tuple[list[str], np.ndarray]:
    """Design matrix of the word model: one row per (word, k) for k = 1, 2, 3."""
    ws = sorted(features)
    rows = [features[w] + [float(k == 1), float(k == 2), float(k == 3)] for w in ws for k in (1, 2, 3)]
    return ws, np.array(rows, dtype=float).reshape(len(rows), len(WORD_FEATURES))


def word_probabilities(
    features: dict[str, list[float]],
    weights: Sequence[float] = WORD_WEIGHTS,
    bias: float = WORD_BIAS,
) -> dict[str, np.ndarray]:
    """P(a neutral summary uses the word at least k times), k = 1, 2, 3."""
    if not features:
        return {}
    ws, x = word_rows(features)
    p = 1.0 / (1.0 + np.exp(-(x @ np.asarray(weights, dtype=float) + bias)))
    return {w: p[3 * i : 3 * i + 3] for i, w in enumerate(ws)}


class _Expected:
    """Expected overlap of a growing summary with an unseen summary of a target length."""

    def __init__(self, probs: dict[str, np.ndarray], target: float) -> None:
        self.probs = probs
        self.target = target
        self.counts: Counter[str] = Counter()
        self.length = 0
        self.matched = 0.0

    def _gain(self, toks: Sequence[str]) -> float:
        seen: Counter[str] = Counter()
        g = 0.0
        for w in toks:
            k = self.counts[w] + seen[w]
            seen[w] += 1
            p = self.probs.get(w)
            if p is not None and k < 3:
                g += float(p[k])
        return g

    def f1_with(self, toks: Sequence[str], weight: float = 1.0) -> float:
        """Expected F1 after adding ``toks`` (their gain scaled by ``weight``)."""
        return 2 * (self.matched + weight * self._gain(toks)) / (self.length + len(toks) + self.target)

    def f1(self) -> float:
        """Expected F1 of the summary so far."""
        return 2 * self.matched / (self.length + self.target)

    def add(self, toks: Sequence[str]) -> None:
        """Add a unit's tokens to the summary."""
        self.matched += self._gain(toks)
        self.counts.update(toks)
        self.length += len(toks)


def target_words(ev: EventText) -> float:
    """Target summary length: :data:`LENGTH_RATIO` of the event's words, within bounds."""
    n = sum(len(tokens(f"{a.title or ''} {a.text}")) for a in ev.articles)
    return float(min(max(LENGTH_RATIO * n, MIN_WORDS), MAX_WORDS))


def min_sentences(n_candidates: int, wanted: int | None = None) -> int:
    """Sentences a summary has at least: ``wanted`` if the material allows, else a third of it.

    A summary should not repeat most of what it summarises: with fewer than
    ``3 × wanted - 2`` candidate sentences (a few short leads) the floor is a third of
    them, rounded up.
    """
    return min(MIN_SENTENCES if wanted is None else wanted, math.ceil(n_candidates / 3))


# --------------------------------------------------------------------------- the summary


def headline(ev: EventText, probs: dict[str, np.ndarray], target: float) -> str:
    """The member title with the highest expected overlap, neutralised; questions avoided."""
    best, best_score = "", -1.0
    for a in ev.articles:
        if not (a.title or "").strip():
            continue
        t = neutral_headline(a.title or "")
        e = _Expected(probs, target)
        score = e.f1_with(tokens(t)) * (QUESTION_HEADLINE_WEIGHT if t.rstrip().endswith("?") else 1.0)
        if score > best_score:
            best, best_score = t, score
    return best


def summarize_event(
    ev: EventText,
    claims: Sequence[Claim] = (),
    max_sentences: int = 6,
    weights: Sequence[float] = WORD_WEIGHTS,
    bias: float = WORD_BIAS,
) -> tuple[str, list[SummarySentence]]:
    """Headline and cited summary of one event.

    Args:
        ev: The event's original articles (near-copies left out), their sentences and vectors.
        claims: The event's claims from the compare stage (for citations and order).
        max_sentences: Upper bound of the summary length.
        weights: Word-model weights (default :data:`WORD_WEIGHTS`).
        bias: Word-model bias.

    Returns:
        The headline ("" when no article has a title) and the summary sentences, most
        corroborated first, each with at least one citation.
    """
    probs = word_probabilities(word_features(ev), weights, bias)
    target = target_words(ev)
    pool: list[tuple[Sentence, list[tuple[str, tuple[str, ...]]], float]] = []
    for a in ev.articles:
        for s in ev.sentences[a.id]:
            if candidate(s.text):
                weight = DEPENDENT_WEIGHT if _DEPENDENT.match(s.text) else 1.0
                pool.append((s, [(v, tokens(v)) for v in compressions(s.text)], weight))
    if not pool:
        # Nothing passes the neutrality filter: fall back to every sentence rather than say nothing.
        pool = [(s, [(s.text, tokens(s.text))], 1.0) for a in ev.articles for s in ev.sentences[a.id]]
    floor = min_sentences(len(pool))
    claim_of = _claim_index(claims)
    # The headline is chosen with the sentences: the title whose summary scores best overall,
    # so that a title and a lead that say the same thing do not both have to be kept.
    best: tuple[float, str, list[tuple[Sentence, str]]] | None = None
    for head in _headlines(ev) or [""]:
        chosen, f1 = _select(pool, head, probs, target, floor, claim_of, max_sentences)
        score = f1 * (QUESTION_HEADLINE_WEIGHT if head.rstrip().endswith("?") else 1.0)
        if best is None or score > best[0]:
            best = (score, head, chosen)
    assert best is not None
    return best[1], _cite(best[2], ev, claim_of)


def _headlines(ev: EventText) -> list[str]:
    """Distinct neutralised titles of the event's articles."""
    out: list[str] = []
    for a in ev.articles:
        t = neutral_headline(a.title or "") if (a.title or "").strip() else ""
        if t and t not in out:
            out.append(t)
    return out


def _select(
    pool: Sequence[tuple[Sentence, list[tuple[str, tuple[str, ...]]], float]],
    head: str,
    probs: dict[str, np.ndarray],
    target: float,
    floor: int,
    claim_of: dict[tuple[str, int], Claim],
    max_sentences: int,
) -> tuple[list[tuple[Sentence, str]], float]:
    """Greedy choice of sentence forms after ``head``; returns them and the expected F1 reached."""
    exp = _Expected(probs, target)
    exp.add(tokens(head))
    left = list(pool)
    chosen: list[tuple[Sentence, str]] = []
    said: list[frozenset[str]] = []
    used_claims: set[int] = set()
    while left and len(chosen) < max_sentences:
        base = exp.f1()
        best: tuple[float, int, str, tuple[str, ...]] | None = None
        for i, (sent, forms, weight) in enumerate(left):
            if id(claim_of.get((sent.article_id, sent.index))) in used_claims:
                continue  # another outlet's wording of a claim already in the summary
            for text, toks in forms:
                if _repeats(text, said):
                    continue
                val = exp.f1_with(toks, weight)
                if best is None or val > best[0]:
                    best = (val, i, text, toks)
        if best is None or (best[0] <= base and len(chosen) >= floor):
            break
        s = left.pop(best[1])[0]
        exp.add(best[3])
        chosen.append((s, best[2]))
        said.append(content_words(best[2]))
        if (c := claim_of.get((s.article_id, s.index))) is not None:
            used_claims.add(id(c))
    return chosen, exp.f1()


def _claim_index(claims: Sequence[Claim]) -> dict[tuple[str, int], Claim]:
    """(article, sentence) -> the claim it belongs to."""
    out: dict[tuple[str, int], Claim] = {}
    for c in claims:
        for x in c.citations:
            out.setdefault((x.article, x.sentence), c)
    return out


def _repeats(text: str, said: Sequence[frozenset[str]]) -> bool:
    """True when most of the sentence's content words are already in one chosen sentence."""
    cw = content_words(text)
    return bool(cw) and any(len(cw & s) / len(cw) >= REPEAT_OVERLAP for s in said)


def _cite(
    chosen: list[tuple[Sentence, str]], ev: EventText, claim_of: dict[tuple[str, int], Claim]
) -> list[SummarySentence]:
    """Citations of each chosen sentence, and the summary ordered most corroborated first."""
    out: list[tuple[tuple[int, int, int], SummarySentence]] = []
    for rank, (s, text) in enumerate(chosen):
        cites = [Citation(s.article_id, s.index)]
        claim = claim_of.get((s.article_id, s.index))
        members = {(x.article, x.sentence) for x in claim.citations} if claim else set()
        for a in ev.articles:
            if a.id == s.article_id:
                continue
            # Per other article, the supporting sentence with most shared words; aligned claim members first.
            scored = [
                ((x.article_id, x.index) in members, len(content_words(text) & content_words(x.text)), -x.index, x)
                for x in ev.sentences[a.id]
                if supports(text, x.text)
            ]
            if scored:
                cites.append(Citation(a.id, max(scored, key=lambda t: t[:3])[3].index))
        corroboration = len({c.article for c in cites})
        sources = claim.independent_sources if claim else 1
        out.append(((-corroboration, -sources, rank), SummarySentence(text=text, citations=tuple(cites))))
    out.sort(key=lambda t: t[0])
    return [s for _k, s in out]
