"""Event dating and timelines: a pure function of an event's (or storyline's) dated facts.

* :func:`date_event` dates an event: when it happened, not when it was reported.
* :func:`merge_facts` folds the same dated fact reported by several outlets into one
  :class:`~storydesk.models.TimelineEntry` citing all of them, and marks background
  dates (long before the coverage starts) so they can be shown apart.
* :func:`summarize_timeline` picks the most reported dates and, for each, the facts
  closest to what all the articles say about it, for a timeline of a given length
  (the Timeline17 evaluation uses it).

The facts themselves come from the article map (:mod:`storydesk.article.timexes`).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from storydesk.article.timexes import (
    _RANK,
    Fact,
    fact_words,
    precision,
)
from storydesk.models import Article, Citation, TimeExpression, TimelineEntry

#: a fact that ended this long before the first article of its collection is background
BACKGROUND_DAYS = 31


# --------------------------------------------------------------------------- event dating


def date_event(
    articles: Sequence[Article], timexes: dict[str, list[TimeExpression]]
) -> tuple[dt.date | None, dt.date | None, str]:
    """When an event happened: the best-supported day or short range in its articles.

    Expressions that date the reporting act, future ones (after the latest
    publication date) and coarse ones (weeks, months) do not date the event; lead
    sentences weigh more than later ones, and several articles agreeing on a span
    weigh more than one. Falls back to the earliest publication date.

    Returns:
        ``(start, end, how)``.
    """
    published = [a.published for a in articles if a.published]
    latest = max(published) if published else None
    votes: dict[tuple[dt.date, dt.date], float] = defaultdict(float)
    support: dict[tuple[dt.date, dt.date], set[str]] = defaultdict(set)
    for a in articles:
        for t in timexes.get(a.id, []):
            if t.role == "report" or t.start is None or t.end is None:
                continue
            if precision(t) not in ("day", "range"):
                continue
            if latest and t.start > latest:
                continue
            if a.published and (a.published - t.start).days > 14:
                continue  # background ("on July 27") rather than the news itself
            end = min(t.end, latest) if latest and t.end > latest else t.end
            span = (t.start, end)
            votes[span] += 1.0 / (1.0 + t.sentence)
            support[span].add(a.id)
    if votes:
        best = max(votes, key=lambda s: (len(support[s]), votes[s], -(s[1] - s[0]).days))
        return best[0], best[1], f"text: {len(support[best])} article(s) date it"
    if published:
        d = min(published)
        return d, d, "publication date (no date of the happening found in the text)"
    return None, None, "undated"


def embed_facts(
    facts: Sequence[Fact], vectors_of: Callable[[list[str]], Mapping[str, np.ndarray]], only: set[int] | None = None
) -> None:
    """Set ``vec`` and ``core_vec`` of each fact (or only of the facts ``only`` lists), each text asked for once.

    Merging compares only facts whose spans nest (:func:`paired` lists them), so a
    fact with no candidate partner never needs a vector: embedding just the others
    spends the transformer where it decides something.

    Args:
        facts: The facts.
        vectors_of: The vector of each of some distinct texts (an embedder's ``encode``
            behind a dict, or one that reuses vectors kept from an earlier run).
        only: Indices of the facts that need vectors; default: all.
    """
    chosen = [f for i, f in enumerate(facts) if only is None or i in only]
    texts = list(dict.fromkeys(t for f in chosen for t in (f.text, f.core or f.text)))
    if not texts:
        return
    vecs = vectors_of(texts)
    for f in chosen:
        f.vec = np.asarray(vecs[f.text], dtype=np.float32)
        f.core_vec = np.asarray(vecs[f.core or f.text], dtype=np.float32)


@lru_cache(maxsize=1 << 13)
def _bag(text: str) -> frozenset[str]:
    """Content words of a text without date words (cached: merging compares each text many times).

    Only pairs without vectors (facts of one article) are compared by words, within
    one event: a small cache covers them and keeps a worker's memory flat.
    """
    return fact_words(text)


def _overlap(a: str, b: str) -> float:
    """Cosine of two texts' content-word sets."""
    return _cosine(_bag(a), _bag(b))


def similarity(a: Fact, b: Fact) -> float:
    """How alike two facts are: the better of their texts' and their cores' similarity.

    Embedding cosine when both facts have vectors, else the cosine of their
    content-word sets (date words left out).
    """
    if a.vec is not None and b.vec is not None:
        sim = float(np.dot(a.vec, b.vec))
        if a.core_vec is not None and b.core_vec is not None:
            sim = max(sim, float(np.dot(a.core_vec, b.core_vec)))
        return sim
    return max(_overlap(a.text, b.text), _overlap(a.core or a.text, b.core or b.text))


#: similarity needed to merge two facts with equal spans / with one span inside the other
SAME_SPAN_THRESHOLD = {"vec": 0.5, "words": 0.3}
#: ... with an equal, specific span: a day or a few days that is not a publication day
SPECIFIC_SPAN_THRESHOLD = {"vec": 0.4, "words": 0.25}
NESTED_THRESHOLD = {"vec": 0.6, "words": 0.4}
#: a span longer than this (in days) only merges with facts of the very same span
MAX_NESTING_DAYS = 92


def _nested(a: tuple[dt.date, dt.date], b: tuple[dt.date, dt.date]) -> bool:
    return (a[0] <= b[0] and b[1] <= a[1]) or (b[0] <= a[0] and a[1] <= b[1])


class _Clusters:
    """Union-find over facts that keeps every cluster consistent.

    A cluster's spans must nest pairwise (one fact, one time). And an article that
    dates something precisely ("on Friday and Saturday") does not restate it more
    coarsely elsewhere: its "last week" is about something else. (The other way
    round is common: "drills next week" in the lead, "August 21 through 31" below.)
    """

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.parent = list(range(len(facts)))
        self.spans: list[set[tuple[dt.date, dt.date]]] = [{(f.first, f.last)} for f in facts]
        self.dated: list[dict[str, set[tuple[dt.date, dt.date, int]]]] = [
            {c.article: {(f.first, f.last, _RANK[f.precision])} for c in f.citations} for f in facts
        ]

    def find(self, i: int) -> int:
        """Root of ``i``'s cluster."""
        while self.parent[i] != i:
            self.parent[i] = self.parent[self.parent[i]]
            i = self.parent[i]
        return i

    def union(self, i: int, j: int) -> bool:
        """Join the clusters of ``i`` and ``j`` unless that breaks consistency."""
        a, b = self.find(i), self.find(j)
        if a == b:
            return False
        if not all(_nested(x, y) for x in self.spans[a] for y in self.spans[b]):
            return False
        da, db = self.dated[a], self.dated[b]
        for k in da.keys() & db.keys():
            if any(_restated_coarser(x, y) or _restated_coarser(y, x) for x in da[k] for y in db[k]):
                return False
        self.parent[b] = a
        self.spans[a] |= self.spans[b]
        for k, v in db.items():
            da.setdefault(k, set()).update(v)
        return True


def _restated_coarser(x: tuple[dt.date, dt.date, int], y: tuple[dt.date, dt.date, int]) -> bool:
    """Whether span ``x`` is a coarser mention (week, month, year) around the precise span ``y``."""
    return x[2] > 0 and y[2] == 0 and x[0] <= y[0] and y[1] <= x[1] and x[:2] != y[:2]


#: a block of pairs at least this large (a span shared by many facts) is scored by a matrix product
_BLOCK_PAIRS = 256
#: most pairs made or scored at once (bounds memory when thousands of facts share a span)
_CHUNK_PAIRS = 1 << 18


@dataclass
class _Pairs:
    """Some candidate pairs ``(i[k], j[k])``, with whether their spans are equal.

    A block of many pairs also carries its ``rows`` and ``cols`` (fact indices) and
    each pair's place ``(x, y)`` in them, to be scored by one matrix product.
    """

    i: np.ndarray
    j: np.ndarray
    equal: np.ndarray
    block: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None


def _candidates(facts: Sequence[Fact], groups: Sequence[int] | None = None) -> Iterator[_Pairs]:
    """Every pair of facts that may state the same thing, in a fixed order, a piece at a time.

    Facts may be one when their spans are equal, or when one lies inside the other
    (spans up to :data:`MAX_NESTING_DAYS`). Span by span, in order of first
    appearance: its pairs of equal span, then its pairs with each longer span
    holding it, in date order. With ``groups``, facts of one group are never paired
    (they were merged, or kept apart, already).
    """
    by_span: dict[tuple[dt.date, dt.date], list[int]] = defaultdict(list)
    for n, f in enumerate(facts):
        by_span[(f.first, f.last)].append(n)
    # spans short enough to hold other spans, indexed by month for the nesting search
    outer_by_month: dict[tuple[int, int], list[tuple[dt.date, dt.date]]] = defaultdict(list)
    for sp in by_span:
        if 1 <= (sp[1] - sp[0]).days <= MAX_NESTING_DAYS:
            y, m = sp[0].year, sp[0].month
            while (y, m) <= (sp[1].year, sp[1].month):
                outer_by_month[(y, m)].append(sp)
                y, m = (y + 1, 1) if m == 12 else (y, m + 1)
    group = np.asarray(groups, dtype=np.int64) if groups is not None else None
    small_i: list[int] = []
    small_j: list[int] = []
    small_eq: list[bool] = []

    def pending() -> Iterator[_Pairs]:
        if small_i:
            yield _Pairs(np.asarray(small_i, np.int64), np.asarray(small_j, np.int64), np.asarray(small_eq, bool))
            small_i.clear()
            small_j.clear()
            small_eq.clear()

    def block(rows: list[int], cols: list[int], equal: bool) -> Iterator[_Pairs]:
        r, c = np.asarray(rows, np.int64), np.asarray(cols, np.int64)
        step = max(1, _CHUNK_PAIRS // len(c))
        for r0 in range(0, len(r) - (1 if equal else 0), step):
            part = r[r0 : r0 + step]
            if equal:  # the upper triangle: each pair of equal span once
                x, y = np.nonzero(np.arange(len(c))[None, :] > (r0 + np.arange(len(part)))[:, None])
            else:
                x, y = np.divmod(np.arange(len(part) * len(c)), len(c))
            i, j = part[x], c[y]
            if group is not None:
                keep = group[i] != group[j]
                x, y, i, j = x[keep], y[keep], i[keep], j[keep]
            if len(i):
                yield _Pairs(i, j, np.full(len(i), equal), (part, c, x, y))

    for sp, idx in by_span.items():
        k = len(idx)
        if k * (k - 1) // 2 >= _BLOCK_PAIRS:
            yield from pending()
            yield from block(idx, idx, True)
        else:
            for x in range(k):
                for y in range(x + 1, k):
                    if group is None or groups[idx[x]] != groups[idx[y]]:  # type: ignore[index]
                        small_i.append(idx[x])
                        small_j.append(idx[y])
                        small_eq.append(True)
        length = sp[1] - sp[0]
        month = outer_by_month.get((sp[0].year, sp[0].month), [])
        for o in sorted({o for o in month if o[1] - o[0] > length and _nested(o, sp)}):
            # each nested pair once, from its inner span
            outer = by_span[o]
            if k * len(outer) >= _BLOCK_PAIRS:
                yield from pending()
                yield from block(idx, outer, False)
            else:
                for i in idx:
                    for j in outer:
                        if group is None or groups[i] != groups[j]:  # type: ignore[index]
                            small_i.append(i)
                            small_j.append(j)
                            small_eq.append(False)
        if len(small_i) >= _CHUNK_PAIRS:
            yield from pending()
    yield from pending()


def paired(facts: Sequence[Fact], groups: Sequence[int] | None = None, source: Sequence[str] | None = None) -> set[int]:
    """Indices of the facts that have a candidate partner (only those need vectors to be merged).

    Args:
        facts: The facts.
        groups: As for :func:`merge`.
        source: The article of each fact: when given, only partners from another article count.
    """
    hit = np.zeros(len(facts), dtype=bool)
    src = np.unique(np.asarray(source, dtype=object), return_inverse=True)[1] if source is not None else None
    for p in _candidates(facts, groups):
        i, j = p.i, p.j
        if src is not None:
            keep = src[i] != src[j]
            i, j = i[keep], j[keep]
        hit[i] = True
        hit[j] = True
    return set(np.flatnonzero(hit).tolist())


class _Scorer:
    """Similarity (:func:`similarity`) of many pairs of facts at once, and the bar each pair must clear."""

    def __init__(self, facts: Sequence[Fact]) -> None:
        self.facts = facts
        n = len(facts)
        dim = next((len(f.vec) for f in facts if f.vec is not None), 0)
        self.has_vec = np.array([f.vec is not None for f in facts], dtype=bool)
        self.has_core = np.array([f.vec is not None and f.core_vec is not None for f in facts], dtype=bool)
        self.vec = np.zeros((n, dim), dtype=np.float32)
        self.core = np.zeros((n, dim), dtype=np.float32)
        for n_, f in enumerate(facts):
            if f.vec is not None:
                self.vec[n_] = f.vec
            if f.vec is not None and f.core_vec is not None:
                self.core[n_] = f.core_vec
        # A same-span pair is held to the lower bar when its date is telling: a day or range
        # off both facts' publication days. Much happens "on Monday" in a Monday paper; two
        # outlets dating something to the same earlier Friday and Saturday are likely telling
        # the same story.
        self.dayish = np.array([f.precision in ("day", "range") for f in facts], dtype=bool)
        self.on_published = np.array([any(f.first <= d <= f.last for d in f.published) for f in facts], dtype=bool)

    def judge(self, p: _Pairs) -> tuple[np.ndarray, np.ndarray]:
        """The similarity of each pair (float64 of the float32 dot products) and the similarity it needs."""
        i, j = p.i, p.j
        both = self.has_vec[i] & self.has_vec[j]
        sim = np.zeros(len(i), dtype=np.float64)
        if both.any():
            if p.block is not None:
                rows, cols, x, y = p.block
                s = (self.vec[rows] @ self.vec[cols].T)[x, y]
                c = (self.core[rows] @ self.core[cols].T)[x, y]
            else:
                s = np.einsum("ij,ij->i", self.vec[i], self.vec[j])
                c = np.einsum("ij,ij->i", self.core[i], self.core[j])
            cored = self.has_core[i] & self.has_core[j]
            sim = np.where(cored, np.maximum(s, c), s).astype(np.float64)
        for k in np.flatnonzero(~both).tolist():  # by shared words (facts of one article)
            sim[k] = similarity(self.facts[int(i[k])], self.facts[int(j[k])])
        specific = self.dayish[i] & ~self.on_published[i] & ~self.on_published[j]
        bar = {
            mode: np.where(
                p.equal,
                np.where(specific, SPECIFIC_SPAN_THRESHOLD[mode], SAME_SPAN_THRESHOLD[mode]),
                NESTED_THRESHOLD[mode],
            )
            for mode in ("vec", "words")
        }
        return sim, np.where(both, bar["vec"], bar["words"]).astype(np.float64)


def _candidate_pairs(facts: Sequence[Fact], groups: Sequence[int] | None = None) -> list[tuple[float, int, int]]:
    """Pairs of facts that may state the same thing, alike enough, with their similarity.

    Pairs with equal spans come first, then nested ones; each part best first (ties
    in the order :func:`_candidates` makes them).
    """
    scorer = _Scorer(facts)
    kept: list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]] = []
    for p in _candidates(facts, groups):
        sim, bar = scorer.judge(p)
        ok = sim >= bar
        kept.append((sim[ok], p.i[ok], p.j[ok], p.equal[ok]))
    if not kept:
        return []
    sim, i, j, equal = (np.concatenate(parts) for parts in zip(*kept, strict=True))
    out: list[tuple[float, int, int]] = []
    # Equal dates are the stronger evidence: those pairs are joined first.
    for part in (equal, ~equal):
        s, a, b = sim[part], i[part], j[part]
        order = np.argsort(-s, kind="stable")
        out += zip(s[order].tolist(), a[order].tolist(), b[order].tolist(), strict=True)
    return out


def merge(facts: Sequence[Fact], groups: Sequence[int] | None = None) -> list[Fact]:
    """Fold facts stating the same dated fact into one fact citing every source.

    Two facts may be one when their spans nest (one lies within the other) and
    they are alike enough (:func:`similarity`; the bar is lower for equal spans).
    Candidate pairs are joined best first, keeping each group consistent (see
    :class:`_Clusters`). A merged fact takes the most precise span of its group (a
    day or range before a week, a week before a month; then the shortest) and the
    text of the member closest to the others among those with that span.

    Args:
        facts: Dated facts (with vectors where :func:`paired` says they are needed).
        groups: A group number per fact; facts of one group are not merged with each
            other (a storyline merges its events' already merged facts).

    Returns:
        Merged facts in date order; same-day facts cited by more articles first.
    """
    clusters = _Clusters(facts)
    sims: dict[tuple[int, int], float] = {}
    for sim, i, j in _candidate_pairs(facts, groups):
        if clusters.union(i, j):
            sims[(i, j)] = sims[(j, i)] = sim
    members_of: dict[int, list[int]] = defaultdict(list)
    for i in range(len(facts)):
        members_of[clusters.find(i)].append(i)
    out: list[tuple[Fact, int]] = []
    for members in members_of.values():
        tight = min(members, key=lambda i: (_RANK[facts[i].precision], facts[i].last - facts[i].first))
        span = (facts[tight].first, facts[tight].last)
        same = [i for i in members if (facts[i].first, facts[i].last) == span]
        head = max(same, key=lambda i: (sum(sims.get((i, j), 0.0) for j in members), facts[i].role == "event", -i))
        f = facts[head]
        cites: list[Citation] = []
        published: list[dt.date] = []
        for i in sorted(members, key=lambda i: (i != head, i)):
            cites.extend(c for c in facts[i].citations if c not in cites)
            published.extend(p for p in facts[i].published if p not in published)
        merged = Fact(f.first, f.last, f.precision, f.text, cites, f.core, published, f.role, f.vec, f.core_vec)
        out.append((merged, len({c.article for c in cites})))
    out.sort(key=lambda x: (x[0].first, x[0].last, -x[1]))
    return [f for f, _n in out]


def entries(facts: Sequence[Fact], horizon: dt.date | None = None) -> list[TimelineEntry]:
    """Merged facts as timeline entries.

    Args:
        facts: Merged facts (from :func:`merge`), in date order.
        horizon: Where coverage starts (the earliest publication date of the
            collection); entries ending more than :data:`BACKGROUND_DAYS` before it
            are marked ``background``. Default: the earliest publication date among
            the facts.
    """
    if horizon is None:
        pubs = [p for f in facts for p in f.published]
        horizon = min(pubs) if pubs else None
    cutoff = horizon - dt.timedelta(days=BACKGROUND_DAYS) if horizon else None
    return [
        TimelineEntry(
            date=f.first,
            end=f.last if f.last != f.first else None,
            text=f.text,
            citations=tuple(f.citations),
            precision="day" if f.precision == "range" else f.precision,
            background=bool(cutoff and f.last < cutoff),
        )
        for f in facts
    ]


def merge_facts(facts: Sequence[Fact], horizon: dt.date | None = None) -> list[TimelineEntry]:
    """:func:`merge` then :func:`entries`: the timeline of some facts."""
    return entries(merge(facts), horizon)


# --------------------------------------------------------------------------- summaries


#: a mention of the article's own publication day ("on Monday" in a Monday paper)
#: is routine: it counts this much towards the day's weight
PUBLICATION_DAY_WEIGHT = 0.5
#: how many opening sentences of an article are candidates for its publication day

#: a candidate this similar (TF-IDF cosine) to a fact already picked for the day is a repeat
REPEAT_SIMILARITY = 0.5


def _short(f: Fact) -> bool:
    """A fact dated to one day, or to a range of at most three days (it counts for its first)."""
    return f.precision in ("day", "range") and (f.last - f.first).days <= 2


def day_weights(facts: Sequence[Fact]) -> dict[dt.date, float]:
    """How much the articles single out each day: one vote per article that dates a fact to it.

    Only day-precise mentions of a happening vote ("on April 20", "Friday and
    Saturday" for its first day). A week or a month says nothing about which day
    mattered, and the day of a reporting act ("said on Monday") is when the news
    was told, not when it happened. A mention of the article's own publication
    day counts :data:`PUBLICATION_DAY_WEIGHT`.
    """
    votes: dict[str, dict[dt.date, float]] = defaultdict(dict)
    for f in facts:
        if f.role != "event" or not _short(f):
            continue
        w = PUBLICATION_DAY_WEIGHT if f.first in f.published else 1.0
        for c in f.citations:
            v = votes[c.article]
            v[f.first] = max(v.get(f.first, 0.0), w)
    out: dict[dt.date, float] = defaultdict(float)
    for v in votes.values():
        for d, w in v.items():
            out[d] += w
    return dict(out)


def summarize_timeline(
    facts: Sequence[Fact],
    n_dates: int,
    per_date: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    weights: dict[dt.date, float] | None = None,
    leads: Sequence[Fact] = (),
    corpus: Sequence[str] | None = None,
) -> list[tuple[dt.date, list[TimelineEntry]]]:
    """A timeline of fixed length: the days the articles single out and what they say about them.

    Days are ranked by ``weights`` (default :func:`day_weights`). A day's
    candidates are the facts dated to it (day-precise, or a range of up to three
    days starting on it) and the undated leads (:func:`lead_facts`) of articles
    published that day or the next. Its summary is chosen greedily so that the
    summary's TF-IDF vector is as close as possible to the centroid of all the
    day's candidates (Ghalandari & Ifrim's CentroidOpt): every statement counts
    in the centroid, so what several outlets say about the day weighs more, and
    a candidate too close to one already picked (cosine above
    :data:`REPEAT_SIMILARITY`) is skipped.

    Args:
        facts: Dated facts from :func:`dated_facts`.
        n_dates: How many days to keep.
        per_date: How many facts per day.
        start: Ignore days before this one.
        end: Ignore days after this one.
        weights: Weight of each day.
        leads: Lead facts of the articles.
        corpus: Texts the TF-IDF weights are learnt from (the collection's
            sentences); default: the candidates themselves.

    Returns:
        ``[(day, [entries])]`` in date order. Each entry cites every candidate
        with the same text (copies of one wire story).
    """
    from sklearn.feature_extraction.text import TfidfVectorizer

    if weights is None:
        weights = day_weights(facts)
    cands: dict[dt.date, list[Fact]] = defaultdict(list)
    for f in facts:
        if _short(f) and (start is None or f.first >= start) and (end is None or f.first <= end):
            cands[f.first].append(f)
    for f in leads:
        for d in (f.first, f.first - dt.timedelta(days=1)):
            if (start is None or d >= start) and (end is None or d <= end):
                cands[d].append(f)
    ranked = sorted((d for d in cands if weights.get(d, 0.0) > 0), key=lambda d: (-weights.get(d, 0.0), d))
    if not ranked or n_dates <= 0:
        return []
    texts = corpus if corpus else [f.text for d in ranked for f in cands[d]]
    try:
        # scikit-learn's English stop words and tokens, unstemmed, as news-tls's CentroidOpt
        # has them: the shared toolkit (storydesk.textutil) lowers the Timeline17 alignment
        # ROUGE here (AR2-F 0.035 -> 0.033 with stems, AR1-F 0.117 -> 0.115 with spaCy's list)
        vectorizer = TfidfVectorizer(stop_words="english").fit(texts)
    except ValueError:  # nothing but stop words
        return []
    out: list[tuple[dt.date, list[TimelineEntry]]] = []
    for d in ranked:
        if len(out) == n_dates:
            break
        by_text: dict[str, list[Fact]] = {}
        for f in cands[d]:
            by_text.setdefault(f.text, []).append(f)
        unique = list(by_text)
        matrix = vectorizer.transform(unique)
        cols = np.unique(matrix.nonzero()[1])
        if not len(cols):
            continue
        vecs = matrix[:, cols].toarray()
        counts = np.array([len(by_text[t]) for t in unique], dtype=float)
        chosen = _centroid_pick(vecs, counts @ vecs, per_date)
        entries = []
        for i in chosen:
            cites: list[Citation] = []
            for f in by_text[unique[i]]:
                cites.extend(c for c in f.citations if c not in cites)
            entries.append(TimelineEntry(date=d, text=unique[i], citations=tuple(cites), precision="day"))
        if entries:
            out.append((d, entries))
    return sorted(out, key=lambda x: x[0])


def _centroid_pick(vecs: np.ndarray, centroid: np.ndarray, k: int) -> list[int]:
    """Greedily pick up to ``k`` rows whose sum is closest (cosine) to ``centroid``, skipping repeats."""
    norm = float(np.linalg.norm(centroid))
    if not norm:
        return []
    centroid = centroid / norm
    to_centroid = vecs @ centroid
    sq = (vecs * vecs).sum(axis=1)
    length = np.sqrt(np.maximum(sq, 1e-12))
    acc = np.zeros(vecs.shape[1])
    open_ = np.ones(len(vecs), dtype=bool)
    chosen: list[int] = []
    while open_.any() and len(chosen) < k:
        # cosine of (summary + candidate) with the centroid, for every candidate at once
        num = acc @ centroid + to_centroid
        den = np.sqrt(np.maximum(acc @ acc + 2 * (vecs @ acc) + sq, 1e-12))
        i = int(np.argmax(np.where(open_, num / den, -np.inf)))
        open_[i] = False
        if any(float(vecs[i] @ vecs[j]) / (length[i] * length[j]) > REPEAT_SIMILARITY for j in chosen):
            continue
        chosen.append(i)
        acc = acc + vecs[i]
    return chosen


def _cosine(a: frozenset[str], b: frozenset[str]) -> float:
    return len(a & b) / (len(a) * len(b)) ** 0.5 if a and b else 0.0
