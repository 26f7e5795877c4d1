"""Dates: temporal expressions per article, event dating, and timelines.

* :class:`TimexStage` tags every article with :func:`storydesk.timex.tag`
  against its publication date and marks expressions that date the act of
  reporting ("state media said Monday") with role ``report``.
* :class:`TimelineStage` dates each event (when it happened, not when it was
  reported) and builds event and storyline timelines: dated facts with
  citations, the same fact reported by several outlets merged into one entry.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from storydesk.embed import sentence_vectors
from storydesk.models import (
    Article,
    Citation,
    Event,
    Sentence,
    TimeExpression,
    TimelineEntry,
    from_dict,
    to_dict,
)
from storydesk.pipeline import Context
from storydesk.textutil import fold

TIMEX_VERSION = "timex-1"
TIMELINE_VERSION = "timeline-1"
TIMEX_KIND = "timexes"
EVENT_DATES_KIND = "event_dates"
TIMELINE_KIND = "timeline"
STORYLINE_TIMELINE_KIND = "storyline_timeline"

_REPORT_VERBS = (
    r"said|says|say|reported|reports|announced|announces|stated|told|added|quoted|described|declared|"
    r"confirmed|revealed|published|released|carried|cited|according"
)
_REPORT_BEFORE = re.compile(r"\b(?:" + _REPORT_VERBS + r")\s+(?:on\s+|late\s+|early\s+)?$", re.I)
_REPORT_AFTER = re.compile(r"^\s*(?:\([^)]*\)\s*)?(?:,\s*)?(?:" + _REPORT_VERBS + r")\b", re.I)
_REPORT_SUBJECT = re.compile(
    r"\b(?:media|agency|kcna|reported|report|reports|statement|spokes\w+|officials?|ministry)\b[^.]{0,40}$",
    re.I,
)


def precision(t: TimeExpression) -> str:
    """Calendar precision of an anchored expression: day, range, week, month, year or none."""
    if t.start is None or t.end is None:
        return "none"
    if re.fullmatch(r"\d{4}-W\d{2}", t.value):
        return "week"
    if re.fullmatch(r"\d{4}-\d{2}", t.value):
        return "month"
    if re.fullmatch(r"\d{4}", t.value):
        return "year"
    if t.start == t.end:
        return "day"
    return "range" if (t.end - t.start).days <= 31 else "month"


def _role(sentence_text: str, start: int, end: int, is_dct: bool = False) -> str:
    """``report`` when the expression dates a reporting act ("said Monday", "reported on Monday").

    A date equal to the publication date counts as the report's date when a
    reporting verb precedes it in the sentence ("said on Sunday (August 6)").
    """
    before = sentence_text[:start]
    after = sentence_text[end:]
    if _REPORT_BEFORE.search(before) or _REPORT_AFTER.match(after):
        return "report"
    if is_dct and re.search(r"\b(?:" + _REPORT_VERBS + r")\b", before, re.I):
        return "report"
    if (
        re.search(r"\bon\s*$", before)
        and _REPORT_SUBJECT.search(before[:-3])
        and re.search(r"\b(?:reported|said|announced)\b", before)
    ):
        return "report"
    return "event"


def tag_article(article: Article, sentences: Sequence[Sentence]) -> list[TimeExpression]:
    """Temporal expressions of one article, anchored on its publication date."""
    from storydesk.timex import tag_ranges

    out: list[TimeExpression] = []
    for s in sentences:
        for t in tag_ranges(s.text, article.published):
            out.append(
                TimeExpression(
                    article_id=article.id,
                    sentence=s.index,
                    start_char=s.start + t.start,
                    end_char=s.start + t.end,
                    text=t.text,
                    type=t.type,
                    value=t.value,
                    start=t.first,
                    end=t.last,
                    role=_role(s.text, t.start, t.end, t.first is not None and t.first == article.published),
                )
            )
    return out


class TimexStage:
    """Temporal expressions of every article."""

    name: ClassVar[str] = "timex"
    version: ClassVar[str] = TIMEX_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"articles", "sentences"})
    assigns: ClassVar[frozenset[str]] = frozenset({"timexes"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Tag articles without a current record."""
        store = ctx.store
        done = {} if ctx.force else store.record_versions(TIMEX_KIND)
        todo = [a for a in store.articles() if done.get(a.id) != TIMEX_VERSION]
        n = 0
        with store.transaction():
            for art in ctx.progress(todo, total=len(todo), desc="dates"):
                tx = tag_article(art, store.sentences(art.id))
                n += len(tx)
                store.put_record(TIMEX_KIND, art.id, TIMEX_VERSION, [to_dict(t) for t in tx])
        return {"processed": len(todo), "expressions": n}


def load_timexes(store: Any, ids: Sequence[str]) -> dict[str, list[TimeExpression]]:
    """Stored expressions of some articles."""
    return {k: [from_dict(TimeExpression, t) for t in d] for k, _v, d in store.records(TIMEX_KIND, ids)}


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


# --------------------------------------------------------------------------- timelines


@dataclass
class _Entry:
    """A timeline entry being merged."""

    first: dt.date
    last: dt.date
    precision: str
    text: str
    citations: list[Citation]
    vec: np.ndarray | None


def _compatible(a: _Entry, b: _Entry) -> bool:
    """Two dated mentions can be the same fact: one span lies within the other."""
    return (a.first <= b.first and b.last <= a.last) or (b.first <= a.first and a.last <= b.last)


def _similar(a: _Entry, b: _Entry) -> bool:
    """Same fact: similar wording (embedding cosine, else word overlap)."""
    if a.vec is not None and b.vec is not None:
        return float(np.dot(a.vec, b.vec)) >= 0.55
    wa = set(re.findall(r"[a-z]{4,}", fold(a.text)))
    wb = set(re.findall(r"[a-z]{4,}", fold(b.text)))
    return bool(wa and wb) and len(wa & wb) / min(len(wa), len(wb)) >= 0.4


_RANK = {"day": 0, "range": 0, "week": 1, "month": 2, "year": 3}


def merge_entries(entries: list[_Entry]) -> list[TimelineEntry]:
    """Merge entries stating the same dated fact; the most precise date wins."""
    entries = sorted(entries, key=lambda e: (_RANK[e.precision], e.first, len(e.text)))
    merged: list[_Entry] = []
    for e in entries:
        for m in merged:
            if _compatible(m, e) and _similar(m, e):
                for c in e.citations:
                    if c not in m.citations:
                        m.citations.append(c)
                break
        else:
            merged.append(_Entry(e.first, e.last, e.precision, e.text, list(e.citations), e.vec))
    merged.sort(key=lambda e: (e.first, e.last))
    return [
        TimelineEntry(
            date=m.first,
            end=m.last if m.last != m.first and m.precision in ("range",) else None,
            text=m.text,
            citations=tuple(m.citations),
            precision="day" if m.precision in ("day", "range") else m.precision,
        )
        for m in merged
    ]


def _entries_for(articles: Sequence[Article], timexes: dict[str, list[TimeExpression]], ctx: Context) -> list[_Entry]:
    """One raw entry per dated sentence (its most precise expression)."""
    store = ctx.store
    picked: list[tuple[Article, Sentence, TimeExpression]] = []
    for a in articles:
        sents = {s.index: s for s in store.sentences(a.id)}
        best: dict[int, TimeExpression] = {}
        for t in timexes.get(a.id, []):
            p = precision(t)
            if p not in _RANK or t.sentence not in sents:
                continue
            cur = best.get(t.sentence)
            if cur is None or _RANK[p] < _RANK[precision(cur)]:
                best[t.sentence] = t
        picked.extend((a, sents[si], t) for si, t in best.items())
    vecs = sentence_vectors(store, ctx.embedder, [s for _a, s, _t in picked])
    out: list[_Entry] = []
    for a, s, t in picked:
        assert t.start is not None and t.end is not None
        out.append(
            _Entry(t.start, t.end, precision(t), s.text, [Citation(a.id, s.index)], vecs.get(f"{a.id}:{s.index}"))
        )
    return out


class TimelineStage:
    """Event dates and event/storyline timelines."""

    name: ClassVar[str] = "timeline"
    version: ClassVar[str] = TIMELINE_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"events", "storylines", "timexes"})
    assigns: ClassVar[frozenset[str]] = frozenset({"event_dates", "timelines"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Date events whose membership changed and rebuild their timelines."""
        store = ctx.store
        events = store.events()
        done = {k: d for k, _v, d in store.records(EVENT_DATES_KIND)} if not ctx.force else {}
        versions = store.record_versions(EVENT_DATES_KIND)
        raw_by_event: dict[str, list[_Entry]] = {}
        updated: list[Event] = []
        changed = 0
        for ev in ctx.progress(events, total=len(events), desc="timeline"):
            arts = store.articles(ev.articles)
            tx = load_timexes(store, ev.articles)
            raw = _entries_for(arts, tx, ctx)
            raw_by_event[ev.id] = raw
            members = sorted(ev.articles)
            prev = done.get(ev.id)
            if prev and prev.get("members") == members and versions.get(ev.id) == TIMELINE_VERSION:
                continue
            start, end, how = date_event(arts, tx)
            store.put_record(
                EVENT_DATES_KIND,
                ev.id,
                TIMELINE_VERSION,
                {"members": members, "start": start, "end": end, "how": how},
            )
            store.put_record(TIMELINE_KIND, ev.id, TIMELINE_VERSION, [to_dict(e) for e in merge_entries(raw)])
            updated.append(Event(ev.id, ev.articles, ev.title, ev.storyline, start, end))
            changed += 1
        if updated:
            from storydesk.cluster import VERSION as CLUSTER_VERSION

            store.put_events(updated, CLUSTER_VERSION)
        for sl in store.storylines():
            raw = [e for eid in sl.events for e in raw_by_event.get(eid, [])]
            store.put_record(STORYLINE_TIMELINE_KIND, sl.id, TIMELINE_VERSION, [to_dict(e) for e in merge_entries(raw)])
        return {"events_dated": changed}
