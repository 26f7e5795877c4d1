"""How far two stores agree: the single-machine run against the Spark run of the same input.

Per-article analysis is compared row by row (artifact digests and fingerprints),
events and storylines by B-cubed F1 of one grouping against the other, and the
event map's outputs on the events whose membership is the same in both.
"""

from __future__ import annotations

from typing import Any

from storydesk import artifacts as A
from storydesk.article.analyze import ARTICLE_STAGES
from storydesk.eval.cluster import bcubed
from storydesk.store import Store


def compare(single: Store, other: Store) -> dict[str, Any]:
    """Agreement of ``other`` with ``single`` (the reference).

    Returns:
        ``articles`` (ids in both / in the reference), ``article_rows`` per artifact
        (``[same digest and fingerprint, total in the reference]``),
        ``duplicate`` (same near-copy decisions), ``events`` and ``storylines``
        (B-cubed P/R/F1 of ``other`` against ``single``), ``same_events`` (events
        with identical members) and ``event_rows`` per artifact on those events.
    """
    ids = single.article_ids()
    theirs = set(other.article_ids())
    out: dict[str, Any] = {"articles": [sum(i in theirs for i in ids), len(ids)]}
    rows: dict[str, list[int]] = {}
    names = [a.name for s in ARTICLE_STAGES for a in s.assigns if a.stored] + [A.DUPLICATE.name]
    for name in names:
        a, b = single.stamps(name, ids), other.stamps(name, ids)
        rows[name] = [sum(1 for k, s in a.items() if b.get(k) == s), len(a)]
    out["article_rows"] = rows
    ev_a = {m: e.id for e in single.events() for m in e.articles}
    ev_b = {m: e.id for e in other.events() for m in e.articles}
    common = {k: v for k, v in ev_a.items() if k in ev_b}
    out["events"] = bcubed(ev_b, common)
    out["events"]["count"] = [single.event_count(), other.event_count()]
    sl_a = {m: e.storyline or e.id for e in single.events() for m in e.articles}
    sl_b = {m: e.storyline or e.id for e in other.events() for m in e.articles}
    out["storylines"] = bcubed(sl_b, {k: v for k, v in sl_a.items() if k in sl_b})
    out["storylines"]["count"] = [single.storyline_count(), other.storyline_count()]
    mem_a = {e.id: frozenset(e.articles) for e in single.events()}
    mem_b = {e.id: frozenset(e.articles) for e in other.events()}
    same = [e for e, m in mem_a.items() if mem_b.get(e) == m]
    out["same_events"] = [len(same), len(mem_a)]
    ev_rows: dict[str, list[int]] = {}
    for art in A.stored_in("event"):
        if art in (A.EVENT_STATE, A.EVENT_SUM, A.FACT_VECTORS):  # running state, and a cache Spark does not keep
            continue
        a, b = single.stamps(art.name, same), other.stamps(art.name, same)
        ev_rows[art.name] = [sum(1 for k, s in a.items() if b.get(k) == s), len(a)]
    out["event_rows"] = ev_rows
    sls = {s.id: s.events for s in single.storylines()}
    theirs_sl = {s.id: s.events for s in other.storylines()}
    same_sl = [k for k, v in sls.items() if set(theirs_sl.get(k, ())) == set(v)]
    a, b = single.stamps(A.STORYLINE_TIMELINE.name, same_sl), other.stamps(A.STORYLINE_TIMELINE.name, same_sl)
    out["same_storylines"] = [len(same_sl), len(sls)]
    out["storyline_rows"] = {A.STORYLINE_TIMELINE.name: [sum(1 for k, s in a.items() if b.get(k) == s), len(a)]}
    return out
