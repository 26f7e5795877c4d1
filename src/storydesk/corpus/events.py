"""Event clustering and storylines.

Events: an incremental single pass in arrival (publication) order. Every
arriving article is compared with the events it could belong to and joins the
best one when the evidence clears a bar; otherwise it opens a new event.
Articles added later attach to existing events without reclustering.

Evidence for article *a* and event *e* (see docs/clustering.md), all
average-link (the mean of *a*'s cosines with *e*'s members, computed from
running sums, so a diffuse event cannot swallow its neighbours):

* ``embedding``: title+lead embedding of *a* against *e*'s members;
* ``names``: tf-idf cosine of the proper names (capitalised phrases) of *a*
  against those of *e*'s members, idf taken over events;
* ``words``: the same over content words;
* ``size``: log of the event's size (big events attract more follow-ups);
* time: an article published outside ``Config.event_window_days`` of the
  event's first article never joins it; each day outside the event's
  publication span costs ``Config.event_day_penalty``; and when the lead of *a*
  dates the happening ("talks collapsed on Thursday") to a day the event's
  articles do not, ``Config.event_date_penalty`` is subtracted. That is what
  keeps the successive happenings of one story apart.

The pair logit's weights (``Config.event_weights``) are a logistic regression
fitted on NeuS train and ECB+ train (``storydesk eval cluster --fit``). The
best candidate is joined when its logit reaches ``event_bar + event_density *
ln(1 + events in the time window)``: the more events an article could join,
the likelier one of them looks close by chance. A near-copy (``duplicates``)
always joins its original's event.

Storylines: a looser, separate linking of events: two events are linked when
their centroids are at least ``Config.storyline_threshold`` similar, their
proper-name bags at least ``Config.storyline_names`` (average link), and they
lie within ``Config.storyline_window_days`` of each other. Links only ever
merge storylines, so a stream never reshuffles them.

The running state (event vector sums and term bags) lives in memory between
builds and in the store (the ``event_state`` and ``event_sum`` artifacts), so
one more article costs a few milliseconds, not a reload. Storylines are linked
by :mod:`storydesk.corpus.storylines`.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storydesk.config import Config
from storydesk.errors import ConfigError
from storydesk.models import ArticleSignals

VERSION = "cluster-4"
#: Terms kept per event bag (the heaviest), so that state stays small for big events.
BAG_LIMIT = 400


@dataclass
class Signals:
    """What the event assignment knows about one article."""

    id: str
    vector: np.ndarray
    names: Counter[str]
    words: Counter[str]
    published: dt.date | None = None
    happened: tuple[dt.date, dt.date] | None = None


def make_signals(article_id: str, published: dt.date | None, vector: np.ndarray, sig: ArticleSignals) -> Signals:
    """The working :class:`Signals` of an article from its stored vector and :class:`ArticleSignals`."""
    return Signals(
        id=article_id,
        vector=np.asarray(vector, dtype=np.float32),
        names=Counter(sig.names),
        words=Counter(sig.words),
        published=published,
        happened=sig.happened if published else None,
    )


# --------------------------------------------------------------------------- the event index


def _log_tf(bag: Counter[str]) -> dict[str, float]:
    """Sub-linear term weights: 1 + ln(count)."""
    return {k: 1.0 + math.log(c) for k, c in bag.items() if c > 0}


@dataclass
class EventState:
    """Running state of one event."""

    id: str
    n: int = 0
    names: Counter[str] = field(default_factory=Counter)
    words: Counter[str] = field(default_factory=Counter)
    first: dt.date | None = None
    last: dt.date | None = None
    happened: Counter[tuple[dt.date, dt.date]] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form (bags rounded, dates as ISO strings)."""
        return {
            "n": self.n,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
            "names": {k: round(v, 4) for k, v in self.names.items()},
            "words": {k: round(v, 4) for k, v in self.words.items()},
            "happened": [[a.isoformat(), b.isoformat(), n] for (a, b), n in self.happened.items()],
        }

    @classmethod
    def from_dict(cls, eid: str, d: dict[str, Any]) -> EventState:
        """Inverse of :meth:`as_dict`."""
        return cls(
            id=eid,
            n=int(d["n"]),
            names=Counter(d["names"]),
            words=Counter(d["words"]),
            first=dt.date.fromisoformat(d["first"]) if d["first"] else None,
            last=dt.date.fromisoformat(d["last"]) if d["last"] else None,
            happened=Counter(
                {(dt.date.fromisoformat(a), dt.date.fromisoformat(b)): int(n) for a, b, n in d["happened"]}
            ),
        )


def _prune(bag: Counter[str]) -> Counter[str]:
    """Keep the ``BAG_LIMIT`` heaviest terms."""
    return Counter(dict(bag.most_common(BAG_LIMIT))) if len(bag) > BAG_LIMIT else bag


def event_id(first_article: str) -> str:
    """Stable event id derived from the article that opened it."""
    return "ev-" + hashlib.sha1(first_article.encode()).hexdigest()[:12]


Query = tuple[np.ndarray, np.ndarray, float]


class _Terms:
    """A growing vocabulary with event frequencies: the idf side of the tf-idf bag cosines."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}
        self.terms: list[str] = []
        self.df = np.zeros(1024, dtype=np.float64)

    def id(self, term: str) -> int:
        """The id of a term, added when new."""
        i = self.ids.get(term)
        if i is None:
            i = self.ids[term] = len(self.terms)
            self.terms.append(term)
            if i == len(self.df):
                self.df = np.concatenate([self.df, np.zeros(len(self.df), dtype=np.float64)])
        return i

    def idf(self, ids: np.ndarray, events: int) -> np.ndarray:
        """Smoothed inverse event frequency of term ids, over ``events`` events."""
        return np.log((events + 1.0) / (self.df[ids] + 1.0)) + 1.0

    def query(self, bag: dict[str, float], events: int) -> Query:
        """An article bag as (term ids sorted, their tf-idf weights, norm)."""
        ids, vals = self.arrays(bag)
        w = vals * self.idf(ids, events)
        return ids, w, math.sqrt(float(w @ w))

    def arrays(self, bag: Mapping[str, float]) -> tuple[np.ndarray, np.ndarray]:
        """A bag as (term ids sorted, values), adding its terms to the vocabulary."""
        ids = np.fromiter((self.id(k) for k in bag), dtype=np.int64, count=len(bag))
        vals = np.fromiter(bag.values(), dtype=np.float64, count=len(bag))
        order = np.argsort(ids)
        return ids[order], vals[order]

    def unit(self, q: Query) -> dict[str, float]:
        """A query's tf-idf weights as a unit vector keyed by term."""
        ids, w, norm = q
        if norm == 0.0:
            return {}
        return {self.terms[t]: float(x) / norm for t, x in zip(ids.tolist(), w.tolist(), strict=True)}


class EventIndex:
    """Incremental event assignment over running event states (the engine behind :class:`EventsStage`).

    Each event keeps the sum of its members' unit embedding vectors and the sums
    of their unit tf-idf name and word vectors (idf as of when each joined). From
    those sums an article gets, for every candidate event, both the centroid
    cosine and the average-link cosine (the mean of its cosines with the
    members): a diffuse event has a high centroid cosine to many articles but a
    low average, which is what keeps big events from swallowing their neighbours.

    Args:
        dim: Embedding dimension.
        config: Weights, thresholds and time settings.
    """

    def __init__(self, dim: int, config: Config | None = None) -> None:
        self.dim = dim
        self.config = config or Config()
        self.ids: list[str] = []
        self.pos: dict[str, int] = {}
        self.states: list[EventState] = []
        self.members: list[list[str]] = []
        self._sums = np.zeros((64, dim), dtype=np.float32)
        self._cents = np.zeros((64, dim), dtype=np.float32)
        #: For each event: the first publication date as an ordinal (0 when undated), for the window test.
        self._first = np.zeros(64, dtype=np.int64)
        self.names = _Terms()
        self.words = _Terms()
        self._bags: list[tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]] = []
        self.assigned: dict[str, str] = {}
        #: event rows by the ordinal of their first publication day, and the undated ones
        self._by_day: dict[int, set[int]] = {}
        self._undated: set[int] = set()
        #: the longest publication span of any event, in days (bounds the storyline window search)
        self.longest = 0
        #: False for the rows of events merged into another
        self._alive = np.zeros(64, dtype=bool)
        self.live = 0
        #: merged event id -> the event it went into (since this index was built)
        self.merged: dict[str, str] = {}

    # ---------------------------------------------------------------- state
    def __len__(self) -> int:
        return self.live

    def _grow(self) -> None:
        """Double the capacity of the row arrays."""
        n = self._sums.shape[0] * 2
        for name in ("_sums", "_cents"):
            old = getattr(self, name)
            new = np.zeros((n, self.dim), dtype=np.float32)
            new[: old.shape[0]] = old
            setattr(self, name, new)
        for name in ("_first", "_alive"):
            old = getattr(self, name)
            new = np.zeros(n, dtype=old.dtype)
            new[: old.shape[0]] = old
            setattr(self, name, new)

    def add_event(self, state: EventState, vsum: np.ndarray, members: Iterable[str] = ()) -> int:
        """Register an event (a new one, or one loaded from the store); returns its row."""
        if len(self.ids) == self._sums.shape[0]:
            self._grow()
        i = len(self.ids)
        self.ids.append(state.id)
        self.pos[state.id] = i
        self.states.append(state)
        self.members.append(list(members))
        self._alive[i] = True
        self.live += 1
        self._set_vector(i, vsum)
        self._first[i] = state.first.toordinal() if state.first else 0
        if state.first and state.last:
            self.longest = max(self.longest, (state.last - state.first).days)
        self._bucket(i).add(i)
        self._bags.append(((np.zeros(0, np.int64), np.zeros(0)), (np.zeros(0, np.int64), np.zeros(0))))
        self._admit_terms(i)
        for a in self.members[i]:
            self.assigned[a] = state.id
        return i

    def _bucket(self, i: int) -> set[int]:
        """The day bucket of event row ``i`` (by its first publication day)."""
        d = int(self._first[i])
        return self._by_day.setdefault(d, set()) if d else self._undated

    def _set_vector(self, i: int, vsum: np.ndarray) -> None:
        """Store an event's vector sum and its unit centroid."""
        self._sums[i] = vsum
        n = float(np.linalg.norm(vsum))
        self._cents[i] = vsum / n if n else vsum

    def vector_sum(self, event: str) -> np.ndarray:
        """The running vector sum of an event."""
        return self._sums[self.pos[event]].copy()

    def centroid(self, event: str) -> np.ndarray:
        """The unit centroid of an event."""
        return self._cents[self.pos[event]].copy()

    def state(self, event: str) -> EventState:
        """The running state of an event."""
        return self.states[self.pos[event]]

    # ---------------------------------------------------------------- scoring
    def bags(self, sig: Signals) -> tuple[Query, Query]:
        """An article's tf-idf name and word queries (for :meth:`features`)."""
        return self.names.query(_log_tf(sig.names), self.live), self.words.query(_log_tf(sig.words), self.live)

    def _bag_cosines(self, q: Query, bag: tuple[np.ndarray, np.ndarray], n: int) -> tuple[float, float]:
        """Centroid and average-link cosines of a query and an event bag (a sum of ``n`` unit vectors)."""
        ids, w, norm = q
        e_ids, e_vals = bag
        if norm == 0.0 or not len(ids) or not len(e_ids) or n == 0:
            return 0.0, 0.0
        _, ia, ie = np.intersect1d(ids, e_ids, assume_unique=True, return_indices=True)
        if not len(ia):
            return 0.0, 0.0
        dot = float(w[ia] @ e_vals[ie]) / norm
        return dot / math.sqrt(float(e_vals @ e_vals)), dot / n

    def features(self, i: int, names: Query, words: Query, vector: np.ndarray) -> list[float]:
        """The learned features of an article against event row ``i`` (``FEATURES`` names them).

        All are average-link (the mean of the article's cosines with the members):
        a diffuse event has a high centroid cosine to many articles but a low
        average, which is what keeps big events from swallowing their neighbours.
        """
        st = self.states[i]
        n = max(st.n, 1)
        nb, wb = self._bags[i]
        name_a = self._bag_cosines(names, nb, n)[1]
        word_a = self._bag_cosines(words, wb, n)[1]
        cos_a = float(self._sums[i] @ vector) / n
        return [cos_a, name_a, word_a, math.log(n)]

    def time_penalty(self, sig: Signals, st: EventState) -> float:
        """Logit cost of the time evidence (0 when either side is undated)."""
        span = (sig.published, sig.published) if sig.published else None
        return self._time_penalty(span, [sig.happened] if sig.happened else [], st)

    def _time_penalty(
        self, span: tuple[dt.date, dt.date] | None, happened: Sequence[tuple[dt.date, dt.date]], st: EventState
    ) -> float:
        """Logit cost of a publication span and happening dates against an event state."""
        cfg = self.config
        pen = 0.0
        if span and st.first and st.last:
            gap = max((st.first - span[1]).days, (span[0] - st.last).days, 0)
            pen += cfg.event_day_penalty * gap
        if happened and st.happened:
            slack = dt.timedelta(days=1)
            if not any(a - slack <= hi and lo <= b + slack for lo, hi in happened for a, b in st.happened):
                pen += cfg.event_date_penalty
        return pen

    def logit(self, features: Sequence[float], penalty: float = 0.0) -> float:
        """Join logit of a feature vector (``Config.event_weights``) less a time penalty."""
        w = self.config.event_weights
        if len(w) != len(FEATURES) + 1:
            raise ConfigError(f"event_weights needs {len(FEATURES) + 1} numbers (bias, {', '.join(FEATURES)})")
        return w[0] + sum(wi * fi for wi, fi in zip(w[1:], features, strict=True)) - penalty

    def candidates(self, sig: Signals) -> list[tuple[int, float]]:
        """Event rows worth scoring: the nearest centroids inside the time window, with cosines."""
        return self.nearest(sig.vector, sig.published, self.config.event_candidates)

    def nearest(self, vector: np.ndarray, day: dt.date | None, k: int, exclude: int = -1) -> list[tuple[int, float]]:
        """The ``k`` live event rows nearest to ``vector`` within the window of ``day``, with cosines."""
        rows = self.rows_near(day)
        if rows is None:
            rows = np.flatnonzero(self._alive[: len(self.ids)])
        if exclude >= 0:
            rows = rows[rows != exclude]
        if not len(rows):
            return []
        cos = self._cents[rows] @ vector
        m = len(cos)
        k = min(k, m)
        top = np.argpartition(-cos, k - 1)[:k] if k < m else np.arange(m)
        return [(int(rows[i]), float(cos[i])) for i in top]

    def rows_overlapping(self, first: dt.date | None, last: dt.date | None, window: int) -> np.ndarray:
        """Live rows of events whose publication span comes within ``window`` days of ``first..last``.

        Undated events are always included; an undated span gets every live row.
        """
        if first is None or last is None:
            return np.flatnonzero(self._alive[: len(self.ids)])
        lo = first.toordinal() - window - self.longest
        hi = last.toordinal() + window
        rows = list(self._undated)
        for d in range(lo, hi + 1):
            rows.extend(self._by_day.get(d, ()))
        return np.array(sorted(rows), dtype=np.int64)

    def centroids(self, rows: np.ndarray) -> np.ndarray:
        """Unit centroids of some event rows."""
        return self._cents[rows]

    def rows_near(self, day: dt.date | None, window: int | None = None) -> np.ndarray | None:
        """Rows of the events whose first article lies within ``window`` days of ``day``, plus undated ones.

        None means "all rows" (``day`` is None): an undated article can join any event.
        """
        if day is None:
            return None
        w = self.config.event_window_days if window is None else window
        d = day.toordinal()
        rows = list(self._undated)
        for k in range(d - w, d + w + 1):
            rows.extend(self._by_day.get(k, ()))
        return np.array(sorted(rows), dtype=np.int64)

    def scored(self, sig: Signals) -> tuple[list[tuple[int, float]], int]:
        """Each candidate row with its join logit, best first, and how many events the window held."""
        names, words = self.bags(sig)
        rows = self.rows_near(sig.published)
        window = self.live if rows is None else len(rows)
        out = []
        for i, _cos in self.candidates(sig):
            f = self.features(i, names, words, sig.vector)
            out.append((i, self.logit(f, self.time_penalty(sig, self.states[i]))))
        out.sort(key=lambda t: -t[1])
        return out, window

    def bar(self, window: int) -> float:
        """The join logit an article needs when ``window`` events lie inside its time window.

        A pair's logit alone overrates the best of many look-alike events: in a
        dense stream some unrelated event always scores well, so the bar rises
        with the log of the number of events the article could join
        (``Config.event_bar`` + ``Config.event_density`` * ln(1 + window)).
        """
        return self.config.event_bar + self.config.event_density * math.log1p(window)

    def best(self, sig: Signals) -> tuple[str | None, float]:
        """The best event for an article and its join logit less the bar (None when there is no candidate)."""
        scored, window = self.scored(sig)
        if not scored:
            return None, -math.inf
        return self.ids[scored[0][0]], scored[0][1] - self.bar(window)

    # ---------------------------------------------------------------- assignment
    def assign(self, sig: Signals, original: str | None = None) -> tuple[str, bool]:
        """Put an article into its event.

        Args:
            sig: The article's signals.
            original: The article it is a near-copy of, if any: it then joins that article's event.

        Returns:
            ``(event id, opened)``: ``opened`` is True when the article started a new event.
        """
        target = self.assigned.get(original) if original else None
        if target is None:
            best, logit = self.best(sig)
            if best is not None and logit >= 0.0:
                target = best
        if target is None:
            eid = event_id(sig.id)
            self.add_event(EventState(eid), np.zeros(self.dim, dtype=np.float32))
            self.join(eid, sig)
            return eid, True
        self.join(target, sig)
        return self.absorb(target), False

    def join(self, event: str, sig: Signals) -> None:
        """Add an article's signals to an event's running state."""
        i = self.pos[event]
        st = self.states[i]
        # the article's unit tf-idf vectors, with the event frequencies as they stand now
        names, words = self.bags(sig)
        self._retire_terms(i)
        st.n += 1
        st.names.update(self.names.unit(names))
        st.words.update(self.words.unit(words))
        self._admit_terms(i)
        if sig.published:
            self._bucket(i).discard(i)
            st.first = min(st.first or sig.published, sig.published)
            self.longest = max(self.longest, (max(st.last or sig.published, sig.published) - st.first).days)
            st.last = max(st.last or sig.published, sig.published)
            self._first[i] = st.first.toordinal()
            self._bucket(i).add(i)
        if sig.happened:
            st.happened[sig.happened] += 1
        self._set_vector(i, self._sums[i] + sig.vector)
        self.members[i].append(sig.id)
        self.assigned[sig.id] = event

    def _retire_terms(self, i: int) -> None:
        """Take event row ``i``'s terms out of the event frequencies (before its bags change)."""
        nb, wb = self._bags[i]
        self.names.df[nb[0]] -= 1
        self.words.df[wb[0]] -= 1

    def _admit_terms(self, i: int) -> None:
        """Prune event row ``i``'s bags and count its terms in the event frequencies again."""
        st = self.states[i]
        st.names, st.words = _prune(st.names), _prune(st.words)
        nb, wb = self.names.arrays(st.names), self.words.arrays(st.words)
        self.names.df[nb[0]] += 1
        self.words.df[wb[0]] += 1
        self._bags[i] = (nb, wb)

    # ---------------------------------------------------------------- merging
    def pair_features(self, i: int, j: int) -> list[float]:
        """:meth:`features` of event row ``i`` taken as one query against event row ``j``.

        With bags that are sums of unit vectors, the average-link cosines of two
        events are their bags' dot product over both sizes, so an article is just
        an event of one: the same weights score joins and merges.
        """
        a, b = self.states[i], self.states[j]
        na, nb = max(a.n, 1), max(b.n, 1)
        out = [float(self._sums[i] @ self._sums[j]) / (na * nb)]
        for k in (0, 1):
            (ia, va), (ib, vb) = self._bags[i][k], self._bags[j][k]
            _, xa, xb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
            out.append(float(va[xa] @ vb[xb]) / (na * nb) if len(xa) else 0.0)
        return [*out, math.log(nb)]

    def absorb(self, event: str) -> str:
        """Merge into ``event`` every nearby event it has become the same happening as; returns the survivor.

        A single pass opens two events for one happening when their first reports
        differ; once later articles bridge them, the pair scores like one event and
        is merged (the older event keeps its id). This is incremental average-link
        clustering: no full recluster, yet the order of arrival matters less.
        """
        if not self.config.event_merge:
            return event
        return self.merge_into(event)

    def merge_into(self, event: str) -> str:
        """Merge ``event`` with nearby events that clear the merge bar, best first; returns the survivor."""
        while True:
            i = self.pos[event]
            st = self.states[i]
            span = (st.first, st.last) if st.first and st.last else None
            best, best_logit = -1, -math.inf
            rows = self.rows_near(st.first)
            bar = self.bar(self.live if rows is None else len(rows))
            for j, _cos in self.nearest(self._cents[i], st.first, self.config.event_merge_candidates, exclude=i):
                pen = self._time_penalty(span, list(st.happened), self.states[j])
                logit = self.logit(self.pair_features(i, j), pen) - bar
                if logit > best_logit:
                    best, best_logit = j, logit
            if best < 0 or best_logit < 0.0:
                return event
            keep, gone = sorted((i, best))  # the older row keeps its id
            self._merge(keep, gone)
            event = self.ids[keep]

    def _merge(self, keep: int, gone: int) -> None:
        """Fold event row ``gone`` into row ``keep`` and retire it."""
        a, b = self.states[keep], self.states[gone]
        self._retire_terms(keep)
        self._retire_terms(gone)
        a.n += b.n
        a.names.update(b.names)
        a.words.update(b.words)
        a.happened.update(b.happened)
        self._bags[gone] = ((np.zeros(0, np.int64), np.zeros(0)), (np.zeros(0, np.int64), np.zeros(0)))
        self._admit_terms(keep)
        self._bucket(keep).discard(keep)
        self._bucket(gone).discard(gone)
        if b.first and b.last:
            a.first = min(a.first or b.first, b.first)
            self.longest = max(self.longest, (max(a.last or b.last, b.last) - a.first).days)
            a.last = max(a.last or b.last, b.last)
            self._first[keep] = a.first.toordinal()
        self._bucket(keep).add(keep)
        self._set_vector(keep, self._sums[keep] + self._sums[gone])
        kid, gid = self.ids[keep], self.ids[gone]
        for art in self.members[gone]:
            self.assigned[art] = kid
        self.members[keep].extend(self.members[gone])
        self.members[gone] = []
        self._alive[gone] = False
        self.live -= 1
        for k, v in self.merged.items():
            if v == gid:
                self.merged[k] = kid
        self.merged[gid] = kid


#: What :meth:`EventIndex.features` returns, in order (``Config.event_weights`` follows it after the bias).
FEATURES = (
    "embedding average cosine",
    "names average cosine",
    "words average cosine",
    "log event size",
)
