"""Storylines: a looser, separate linking of events, kept in memory between builds.

Two events are linked when their centroids are at least
``Config.storyline_threshold`` similar, their proper-name bags at least
``Config.storyline_names`` (average link), and they lie within
``Config.storyline_window_days`` of each other. Links only ever merge
storylines, so a stream never reshuffles them; the storyline of the older event
keeps its id. Only events that are new or grew since they were last linked are
compared, each with the events of its time window, so one more article costs
the events of a window, not all of them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable, Iterator

import numpy as np

from storydesk.config import Config
from storydesk.corpus.events import EventIndex, EventState

VERSION = "storylines-4"


def storyline_id(first_event: str) -> str:
    """Stable storyline id derived from the event that opened it."""
    return "sl-" + hashlib.sha1(first_event.encode()).hexdigest()[:12]


def _span(st: EventState) -> tuple[dt.date, dt.date] | None:
    """Publication span of an event state."""
    return (st.first, st.last) if st.first and st.last else None


def storyline_linked(a: EventState, b: EventState, cosine: float, names: float, config: Config) -> bool:
    """Whether two events belong to one storyline: similar, about the same named things, close in time.

    Args:
        a: One event's state.
        b: The other's.
        cosine: Cosine of their embedding centroids.
        names: Average-link cosine of their tf-idf proper-name bags: sharing one
            common name (a country, a wire service) is not enough, sharing the
            people and places of a story is.
        config: ``storyline_threshold``, ``storyline_names``, ``storyline_window_days``.
    """
    if cosine < config.storyline_threshold or names < config.storyline_names:
        return False
    sa, sb = _span(a), _span(b)
    if sa and sb:
        window = dt.timedelta(days=config.storyline_window_days)
        if sb[0] - sa[1] > window or sa[0] - sb[1] > window:
            return False
    return True


def linked_events(index: EventIndex, i: int, config: Config) -> Iterator[int]:
    """Rows of ``index`` that event row ``i`` links to a storyline with (the one rule both engines use)."""
    st = index.states[i]
    cand = index.rows_overlapping(st.first, st.last, config.storyline_window_days)
    cand = cand[cand != i]
    if not len(cand):
        return
    sims = index.centroids(cand) @ index.centroids(np.array([i]))[0]
    for jj in np.nonzero(sims >= config.storyline_threshold)[0]:
        k = int(cand[jj])
        names = index.pair_features(i, k)[1]
        if storyline_linked(st, index.states[k], float(sims[jj]), names, config):
            yield k


class StorylineIndex:
    """Which storyline each event belongs to, and the event sizes when they were last linked.

    Args:
        config: Storyline settings.
    """

    def __init__(self, config: Config) -> None:
        self.config = config
        self.of: dict[str, str] = {}
        self.members: dict[str, list[str]] = {}
        #: event -> its size (articles) when it was last linked
        self.linked: dict[str, int] = {}

    def load(self, event: str, storyline: str, linked: int) -> None:
        """Register an event linked in an earlier build (call in event age order)."""
        self.of[event] = storyline
        self.members.setdefault(storyline, []).append(event)
        self.linked[event] = linked

    def drop(self, events: Iterable[str]) -> set[str]:
        """Forget events merged away; returns the storylines that lost a member."""
        hit = set()
        for e in events:
            sl = self.of.pop(e, None)
            self.linked.pop(e, None)
            if sl is not None:
                self.members[sl].remove(e)
                hit.add(sl)
        return hit

    def link(self, index: EventIndex, events: Iterable[str]) -> tuple[set[str], set[str]]:
        """Link events that are new or grew since they were last linked.

        Args:
            index: The event index (centroids, states, name bags); its row order is
                the events' age order.
            events: Candidate events (only those new or grown are linked).

        Returns:
            ``(changed, gone)``: storylines whose membership changed (new, grown or
            merged into), and storylines merged away.
        """
        cfg = self.config
        todo = sorted(
            (e for e in set(events) if e in index.pos and self.linked.get(e) != index.state(e).n),
            key=lambda e: index.pos[e],
        )
        changed: set[str] = set()
        for e in todo:
            if e not in self.of:
                sl = storyline_id(e)
                self.of[e] = sl
                self.members.setdefault(sl, []).append(e)
                changed.add(sl)
        parent: dict[str, str] = {}

        def find(x: str) -> str:
            while parent.get(x, x) != x:
                parent[x] = parent.get(parent[x], parent[x])
                x = parent[x]
            return x

        def age(sl: str) -> int:
            return min(index.pos[m] for m in self.members[sl])

        for e in todo:
            for k in linked_events(index, index.pos[e], cfg):
                a, b = find(self.of[e]), find(self.of[index.ids[k]])
                if a != b:
                    older, newer = sorted((a, b), key=lambda s: (age(s), s))
                    parent[newer] = older
        gone: set[str] = set()
        for sl in list(parent):
            root = find(sl)
            if root == sl:
                continue
            for m in self.members.pop(sl):
                self.of[m] = root
                self.members[root].append(m)
            gone.add(sl)
            changed.add(root)
        for sl in {find(s) for s in changed}:
            self.members[sl].sort(key=lambda m: index.pos[m])
        for e in todo:
            self.linked[e] = index.state(e).n
            changed.add(self.of[e])
        return changed - gone, gone

    def title(self, storyline: str, titles: dict[str, str], sizes: dict[str, int]) -> str:
        """A storyline's title: its biggest event's (the older one on ties)."""
        best = max(self.members[storyline], key=lambda e: sizes.get(e, 0))
        return titles.get(best, "")
