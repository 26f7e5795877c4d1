"""The corpus step cut into independent pieces: pure functions the Spark job runs per group.

Nothing here imports Spark: each function takes plain rows (dicts) of one group
(a near-duplicate component, a time block, an event, a storyline block) and
returns plain rows, so it is tested without a cluster and runs unchanged in an
executor.

* **Near-duplicates** (:func:`band_keys`, :func:`bucket_edges`,
  :func:`dedup_component`): the bands are the ones datasketch's ``MinHashLSH``
  uses for :data:`~storydesk.corpus.dedup.LSH_THRESHOLD`, so two articles are
  candidates exactly when they are candidates on one machine. Candidates are
  verified against the Jaccard threshold; the connected components of the
  verified pairs are closed under "an earlier article the single-machine index
  would compare", so replaying :class:`~storydesk.corpus.dedup.DedupIndex` over
  one component in publication order gives exactly the single-machine decisions.
* **Events** (:func:`block_of`, :func:`run_block`, :func:`stitch_edges`): dated
  articles are cut into blocks of ``block_days`` days; each block also replays
  the ``lead_days`` before it (its lead-in), and :class:`EventIndex` assigns the
  block's articles in publication order, exactly as one machine does. An article
  belongs to the block of its day (its *owner*); an event of a block that holds
  lead-in articles is the continuation of the owner event most of them belong to
  (an edge), and the connected components of those edges are the final events.
  What differs from one machine: the idf of the name and word bags counts only
  the events the block has seen (one machine counts every earlier event), and a
  near-copy of an article outside its block joins its original's event only
  after the block has run.
* **Event states** (:func:`event_state`): an event's running state rebuilt from
  its members' contributions (their unit tf-idf bags as they joined), in member
  order, as :meth:`EventIndex.join` builds it.
* **Storylines** (:func:`storyline_edges`): event pairs linked by the
  single-machine test (:func:`~storydesk.corpus.storylines.storyline_linked`),
  looked for inside time blocks of events that overlap by the storyline window.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from storydesk.config import Config
from storydesk.corpus.dedup import LSH_THRESHOLD, DedupIndex
from storydesk.corpus.events import BAG_LIMIT, EventIndex, EventState, Signals, make_signals
from storydesk.corpus.events import event_id as event_id
from storydesk.corpus.storylines import linked_events
from storydesk.corpus.storylines import storyline_id as storyline_id
from storydesk.models import Article, ArticleSignals, from_dict

# --------------------------------------------------------------------------- union-find


class UnionFind:
    """Connected components of a small edge set on one machine (the root is the smallest node)."""

    def __init__(self) -> None:
        self.parent: dict[Any, Any] = {}

    def find(self, x: Any) -> Any:
        """The root of ``x`` (path halving)."""
        p = self.parent
        p.setdefault(x, x)
        while p[x] != x:
            p[x] = p[p[x]]
            x = p[x]
        return x

    def union(self, a: Any, b: Any) -> None:
        """Join the components of ``a`` and ``b`` (the smaller root wins, so the result is order-free)."""
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo

    def roots(self) -> dict[Any, Any]:
        """Every node seen -> the smallest node of its component."""
        return {x: self.find(x) for x in list(self.parent)}


def components(edges: Iterable[tuple[Any, Any]]) -> dict[Any, Any]:
    """Node -> smallest node of its connected component, for every node of ``edges``."""
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return uf.roots()


# --------------------------------------------------------------------------- near-duplicates


def lsh_bands(threshold: float, num_perm: int) -> tuple[int, int]:
    """``(bands, rows per band)`` of datasketch's index for the dedup threshold (the single-machine banding)."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, threshold), num_perm=num_perm)
    return int(lsh.b), int(lsh.r)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[bytes]:
    """The band keys of a signature: band ``i`` is equal in two signatures exactly when its bytes are."""
    s = np.ascontiguousarray(sig, dtype="<u4")
    return [s[i * rows : (i + 1) * rows].tobytes() for i in range(bands)]


def band_hash(key: bytes) -> int:
    """A band key as a signed 64-bit number (what is shuffled; a collision only adds a candidate, which is verified)."""
    return int.from_bytes(hashlib.blake2b(key, digest_size=8).digest(), "little", signed=True)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """MinHash Jaccard estimate, as datasketch computes it."""
    return float(np.count_nonzero(a == b)) / float(len(a))


def bucket_edges(members: Sequence[tuple[int, np.ndarray]], threshold: float, cap: int) -> list[tuple[int, int]]:
    """Verified near-duplicate pairs among the articles sharing one band.

    Up to ``cap`` members every pair is compared; a larger bucket (boilerplate
    pages, empty texts) is linked as a star around its smallest node instead, which
    only makes one component larger than needed (the replay inside it stays exact).
    """
    nodes = sorted(members, key=lambda m: m[0])
    if len(nodes) > cap:
        root = nodes[0][0]
        return [(root, n) for n, _s in nodes[1:]]
    out = []
    sigs = np.vstack([s for _n, s in nodes]) if nodes else np.zeros((0, 0))
    for i in range(len(nodes) - 1):
        eq = np.count_nonzero(sigs[i + 1 :] == sigs[i], axis=1) / sigs.shape[1]
        for j in np.flatnonzero(eq >= threshold):
            out.append((nodes[i][0], nodes[i + 1 + int(j)][0]))
    return out


def dedup_component(rows: Sequence[dict[str, Any]], threshold: float) -> list[dict[str, Any]]:
    """Replay the single-machine near-duplicate index over one component.

    Args:
        rows: The component's articles: ``id``, ``order`` (publication order),
            ``record`` (the article as JSON) and ``signature`` (uint32 bytes).
        threshold: ``Config.dedup_threshold``.

    Returns:
        Per article: ``id``, ``decision`` (the final ``{duplicate_of, similarity}``,
        as JSON) and ``original_at_add`` (the original it had when it was added:
        the event assignment of one machine reads that one).
    """
    rows = sorted(rows, key=lambda r: r["order"])
    arts = {r["id"]: from_dict(Article, json.loads(r["record"])) for r in rows}
    index = DedupIndex(threshold)
    at_add: dict[str, str | None] = {}
    for r in rows:
        sig = np.frombuffer(r["signature"], dtype="<u4")
        decisions = index.add(arts[r["id"]], sig, arts.__getitem__)
        at_add[r["id"]] = decisions[r["id"]]["duplicate_of"]
    return [
        {
            "id": r["id"],
            "decision": json.dumps(index.decisions[r["id"]], ensure_ascii=False, separators=(",", ":")),
            "original_at_add": at_add[r["id"]],
        }
        for r in rows
    ]


#: The decision of an article no other article comes near (what DedupIndex.add returns then).
SINGLETON = json.dumps({"duplicate_of": None, "similarity": 0.0}, separators=(",", ":"))


# --------------------------------------------------------------------------- event blocks


def block_of(day: int | None, block_days: int) -> int:
    """The block that owns an article published on day ordinal ``day`` (-1: undated)."""
    return -1 if day is None else day // block_days


def lead_in_blocks(day: int | None, block_days: int, lead_days: int) -> list[int]:
    """Later blocks whose lead-in replays an article of this day."""
    if day is None:
        return []
    own = day // block_days
    out = []
    k = own + 1
    while k * block_days - lead_days <= day:
        out.append(k)
        k += 1
    return out


class RecordingIndex(EventIndex):
    """An :class:`EventIndex` that remembers what each article added to its event's bags when it joined.

    It can also start from an idf prior: the events that began before the block
    (their number and, per term, how many of their bags hold it), so that the
    name and word bags are weighted as one machine weights them after the whole
    stream so far, not only the block's part of it.
    """

    def __init__(self, dim: int, config: Config | None = None, prior: dict[str, Any] | None = None) -> None:
        super().__init__(dim, config)
        self.contrib: dict[str, tuple[dict[str, float], dict[str, float]]] = {}
        self.prior_live = 0
        if prior:
            self.prior_live = int(prior.get("live", 0))
            for terms, counts in ((self.names, prior.get("names", {})), (self.words, prior.get("words", {}))):
                for term, n in counts.items():
                    j = terms.id(term)  # may grow the df array: index it afterwards
                    terms.df[j] += n

    def bags(self, sig: Signals) -> tuple[Any, Any]:
        """The article's tf-idf queries, with the prior's events counted in the idf."""
        from storydesk.corpus.events import _log_tf

        events = self.live + self.prior_live
        return self.names.query(_log_tf(sig.names), events), self.words.query(_log_tf(sig.words), events)

    def join(self, event: str, sig: Signals) -> None:
        """Join as :meth:`EventIndex.join` does, keeping the article's unit tf-idf bags."""
        names, words = self.bags(sig)
        self.contrib[sig.id] = (self.names.unit(names), self.words.unit(words))
        super().join(event, sig)


def signals_of(row: dict[str, Any]) -> Signals:
    """The working signals of an article row (``id``, ``day``, ``vector``, ``signals``)."""
    from storydesk import artifacts as A

    day = row.get("day")
    published = dt.date.fromordinal(day) if day is not None else None
    sv: ArticleSignals = A.SIGNALS.codec.decode(row["signals"])
    return make_signals(row["id"], published, A.LEAD_VECTOR.codec.decode(row["vector"]), sv)


def _bag_json(bag: dict[str, float]) -> str:
    return json.dumps(bag, ensure_ascii=False, separators=(",", ":"))


def run_block(
    rows: Sequence[dict[str, Any]],
    config: Config,
    dim: int,
    preload: Sequence[dict[str, Any]] = (),
    prior: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """Assign one block's articles to events in publication order, as one machine does.

    Args:
        rows: The block's articles: ``id``, ``order`` (publication order), ``day``
            (ordinal or None), ``vector`` and ``signals`` (stored bytes),
            ``original`` (its original when it was added, or None) and ``owned``
            (False for lead-in articles, which another block owns).
        config: Event settings.
        dim: Embedding dimension.
        preload: Events known before the block (the undated pass reads the dated
            events): ``event``, ``state`` (``EventState.as_dict`` JSON), ``vsum``
            (float32 bytes) and ``members`` (ids), oldest first.
        prior: The idf prior of the events before the block (:func:`prior_of`):
            ``live`` (their number), ``names`` and ``words`` (term -> bags holding it).

    Returns:
        Per article of ``rows``: ``id``, ``event`` (the block's event id),
        ``owned``, ``outside_original`` (its original when that original is not in
        the block, so the copy must follow it afterwards), and its bag
        contributions ``names`` and ``words`` (JSON).
    """
    from storydesk import artifacts as A

    index = RecordingIndex(dim, config, prior)
    for p in preload:
        index.add_event(
            EventState.from_dict(p["event"], json.loads(p["state"])),
            A.EVENT_SUM.codec.decode(p["vsum"]),
            list(p["members"]),
        )
    ordered = sorted(rows, key=lambda r: r["order"])
    outside: dict[str, str | None] = {}
    for r in ordered:
        original = r.get("original")
        if original and original not in index.assigned:
            outside[r["id"]] = original
        index.assign(signals_of(r), original)
    out = []
    for r in ordered:
        names, words = index.contrib[r["id"]]
        out.append(
            {
                "id": r["id"],
                "event": index.assigned[r["id"]],
                "owned": bool(r.get("owned", True)),
                "outside_original": outside.get(r["id"]),
                "names": _bag_json(names),
                "words": _bag_json(words),
            }
        )
    return out


def prior_block(first_day: int, block_days: int, lead_days: int) -> int:
    """The first block whose replay starts after an event's first day (from it on, the event is in the idf prior)."""
    return (first_day + lead_days) // block_days + 1


def prior_of(rows: Sequence[dict[str, Any]], live: int) -> dict[str, Any]:
    """A block's idf prior from ``kind`` (``names`` or ``words``), ``term`` and ``df`` rows, and the event count."""
    out: dict[str, Any] = {"live": live, "names": {}, "words": {}}
    for r in rows:
        if r["df"]:
            out[r["kind"]][r["term"]] = int(r["df"])
    return out


def stitch_edges(rows: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
    """Edges from a block's events to the owner events they continue.

    Args:
        rows: Lead-in articles of one block event: ``node`` (the block event),
            ``owner`` (the owner event of the article in its own block) and
            ``order`` (publication order).

    Returns:
        One edge ``(node, owner)``: the owner most of the lead-in articles belong
        to (the one of the earliest article on ties).
    """
    if not rows:
        return []
    count: Counter[str] = Counter(r["owner"] for r in rows)
    first: dict[str, int] = {}
    for r in rows:
        first[r["owner"]] = min(first.get(r["owner"], r["order"]), r["order"])
    best = max(count, key=lambda o: (count[o], -first[o]))
    return [(rows[0]["node"], best)]


# --------------------------------------------------------------------------- event states


def _prune(bag: Counter[str]) -> Counter[str]:
    return Counter(dict(bag.most_common(BAG_LIMIT))) if len(bag) > BAG_LIMIT else bag


def event_state(eid: str, members: Sequence[dict[str, Any]]) -> tuple[EventState, np.ndarray]:
    """An event's running state and vector sum, rebuilt from its members in order (as joins build them).

    Args:
        eid: The event id.
        members: Its articles in publication order: ``day``, ``vector`` (float32
            bytes), ``signals`` (stored bytes) and their bag contributions
            ``names`` and ``words`` (JSON).
    """
    from storydesk import artifacts as A

    st = EventState(eid)
    vsum: np.ndarray | None = None
    for m in members:
        st.n += 1
        st.names.update(json.loads(m["names"]))
        st.words.update(json.loads(m["words"]))
        st.names, st.words = _prune(st.names), _prune(st.words)
        day = m.get("day")
        if day is not None:
            d = dt.date.fromordinal(day)
            st.first = min(st.first or d, d)
            st.last = max(st.last or d, d)
        happened = A.SIGNALS.codec.decode(m["signals"]).happened if day is not None else None
        if happened:
            st.happened[happened] += 1
        v = A.LEAD_VECTOR.codec.decode(m["vector"])
        vsum = v.copy() if vsum is None else vsum + v
    return st, (vsum if vsum is not None else np.zeros(0, dtype=np.float32))


def event_title(members: Sequence[dict[str, Any]], vsum: np.ndarray) -> str:
    """An event's title as one machine picks it: the headline of the first 50 members' closest to the centroid."""
    from storydesk import artifacts as A

    n = float(np.linalg.norm(vsum))
    cent = vsum / n if n else vsum
    first = list(members[:50])
    ranked = sorted(first, key=lambda m: -float(np.dot(A.LEAD_VECTOR.codec.decode(m["vector"]), cent)))
    title = next((m["title"] for m in ranked if m.get("title")), None)
    if title is None:
        lead = (ranked[0].get("text") or "").split("\n\n")[0] if ranked else ""
        title = lead[:120].rsplit(" ", 1)[0] + ("…" if len(lead) > 120 else "")
    return title or ""


# --------------------------------------------------------------------------- storylines


def storyline_blocks(first: int | None, last: int | None, block_days: int, reach: int) -> tuple[int, list[int]]:
    """``(core block, context blocks)`` of a dated event for storyline linking.

    An event is linked from its core block (the block of its first day); a block
    also holds, as context, every event whose first day lies within ``reach``
    days (the storyline window plus the longest event span) of its own days, so
    that each candidate pair of one machine meets in the core block of one side.
    """
    if first is None:
        return -1, []
    core = first // block_days
    lo = (first - reach) // block_days
    hi = (first + reach) // block_days
    return core, [k for k in range(lo, hi + 1) if k != core]


def storyline_edges(events: Sequence[dict[str, Any]], config: Config, dim: int) -> list[tuple[str, str]]:
    """Storyline links of one block: each core event against every event of the block, as one machine links.

    Args:
        events: ``event``, ``rank`` (age order), ``state`` (JSON), ``vsum``
            (float32 bytes) and ``core`` (True for the events linked from here).
        config: Storyline settings.
        dim: Embedding dimension.

    Returns:
        Linked pairs ``(older event, newer event)``.
    """
    from storydesk import artifacts as A

    ordered = sorted(events, key=lambda e: (e["rank"], e["event"]))
    index = EventIndex(dim, config)
    for e in ordered:
        index.add_event(EventState.from_dict(e["event"], json.loads(e["state"])), A.EVENT_SUM.codec.decode(e["vsum"]))
    rank = {e["event"]: (e["rank"], e["event"]) for e in ordered}
    out: set[tuple[str, str]] = set()
    for e in ordered:
        if not e["core"]:
            continue
        for k in linked_events(index, index.pos[e["event"]], config):
            a, b = sorted((e["event"], index.ids[k]), key=rank.__getitem__)
            out.add((a, b))
    return sorted(out)


def longest_span(states: Iterable[EventState]) -> int:
    """The longest publication span of any event, in days."""
    best = 0
    for st in states:
        if st.first and st.last:
            best = max(best, (st.last - st.first).days)
    return best
