"""Event clustering and storylines.

Events: an incremental single pass in publication order. Each arriving article
joins the most similar open event (cosine of title+lead embeddings to the event
centroid, plus shared named entities) when the combined score clears
``Config.event_threshold`` and the event is within ``Config.event_window_days``;
otherwise it opens a new event. Near-copies join their original's event.
Articles added later attach to existing events without reclustering.

Storylines: a looser, separate linking of events (centroid similarity above
``Config.storyline_threshold`` within ``Config.storyline_window_days``), so that
distinct happenings of one developing story end up together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from storydesk import dedup
from storydesk.entities import load_article_entities, name_key
from storydesk.models import Article, Event, Storyline
from storydesk.pipeline import Context

VERSION = "cluster-1"
STORYLINE_VERSION = "storylines-1"
VECTOR_KIND = "article"
#: Weight of entity overlap (Jaccard of salient entity keys) in the join score.
ENTITY_WEIGHT = 0.25
_SALIENT_TYPES = {"PERSON", "ORG", "GPE", "EVENT", "FAC", "LOC", "NORP", "PRODUCT"}


def lead_text(article: Article, sentences: Sequence[str], n: int = 2) -> str:
    """Title plus the first ``n`` sentences: what the event embedding sees."""
    lead = " ".join(sentences[:n])
    return f"{article.title}. {lead}" if article.title else lead


class EmbedStage:
    """Title+lead embedding of every article."""

    name: ClassVar[str] = "embed"
    version: ClassVar[str] = "embed-1"
    requires: ClassVar[frozenset[str]] = frozenset({"articles", "sentences"})
    assigns: ClassVar[frozenset[str]] = frozenset({"article_vectors"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Embed articles that have no vector for the configured model yet."""
        store, emb = ctx.store, ctx.embedder
        have = set() if ctx.force else set(store.get_vectors(VECTOR_KIND, emb.model_id).keys())
        todo = [a for a in store.articles() if a.id not in have]
        batch = 256
        for i in ctx.progress(range(0, len(todo), batch), total=(len(todo) + batch - 1) // batch, desc="embed"):
            chunk = todo[i : i + batch]
            texts = [lead_text(a, [s.text for s in store.sentences(a.id)[:2]]) for a in chunk]
            vecs = emb.encode(texts)
            store.put_vectors(VECTOR_KIND, emb.model_id, {a.id: v for a, v in zip(chunk, vecs, strict=True)})
        store.set_meta("embedder", emb.model_id)
        return {"processed": len(todo), "model": emb.model_id}


@dataclass
class _Cluster:
    """Running state of one event during assignment."""

    id: str
    articles: list[str]
    vsum: np.ndarray
    entities: Counter[str] = field(default_factory=Counter)
    first: dt.date | None = None
    last: dt.date | None = None

    @property
    def centroid(self) -> np.ndarray:
        n = np.linalg.norm(self.vsum)
        return self.vsum / n if n else self.vsum

    def add(self, aid: str, v: np.ndarray, ents: set[str], day: dt.date | None) -> None:
        self.articles.append(aid)
        self.vsum = self.vsum + v
        self.entities.update(ents)
        if day:
            self.first = min(self.first or day, day)
            self.last = max(self.last or day, day)


def event_id(first_article: str) -> str:
    """Stable event id derived from the article that opened it."""
    return "ev-" + hashlib.sha1(first_article.encode()).hexdigest()[:12]


def _salient(ents: Any) -> set[str]:
    """Keys of the named entities that characterise an article."""
    if ents is None:
        return set()
    return {name_key(m.text) for m in ents.mentions if m.type in _SALIENT_TYPES}


class EventsStage:
    """Incremental single-pass event assignment."""

    name: ClassVar[str] = "events"
    version: ClassVar[str] = VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"article_vectors", "duplicates", "mentions"})
    assigns: ClassVar[frozenset[str]] = frozenset({"events"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Assign unassigned articles to events (all of them with ``force``)."""
        store, cfg = ctx.store, ctx.config
        model = ctx.embedder.model_id
        vectors = store.get_vectors(VECTOR_KIND, model)
        articles = store.articles()
        by_id = {a.id: a for a in articles}
        dups = dedup.duplicates(store)
        ents = load_article_entities(store, by_id.keys())
        existing = [] if ctx.force else store.events()
        if ctx.force:
            store.delete_events([e.id for e in store.events()])
        clusters: dict[str, _Cluster] = {}
        assigned: dict[str, str] = {}
        for ev in existing:
            c = _Cluster(ev.id, [], np.zeros(ctx.embedder.dim, dtype=np.float32))
            for aid in ev.articles:
                if aid in vectors and aid in by_id:
                    c.add(aid, vectors[aid], _salient(ents.get(aid)), by_id[aid].published)
                    assigned[aid] = ev.id
            clusters[ev.id] = c
        todo = [a for a in articles if a.id not in assigned]
        changed: set[str] = set()
        window = dt.timedelta(days=cfg.event_window_days)
        for art in ctx.progress(todo, total=len(todo), desc="events"):
            v = vectors.get(art.id)
            if v is None:
                continue
            sal = _salient(ents.get(art.id))
            original = dups.get(art.id)
            target: _Cluster | None = None
            if original and original in assigned:
                target = clusters[assigned[original]]
            else:
                best, best_score = None, cfg.event_threshold
                for c in clusters.values():
                    if (
                        art.published
                        and c.last
                        and c.first
                        and (art.published - c.last > window or c.first - art.published > window)
                    ):
                        continue
                    score = float(np.dot(v, c.centroid)) + ENTITY_WEIGHT * _overlap(sal, c.entities)
                    if score >= best_score:
                        best, best_score = c, score
                target = best
            if target is None:
                target = _Cluster(event_id(art.id), [], np.zeros_like(v))
                clusters[target.id] = target
            target.add(art.id, v, sal, art.published)
            assigned[art.id] = target.id
            changed.add(target.id)
        events = []
        for cid in changed:
            c = clusters[cid]
            events.append(Event(id=cid, articles=tuple(c.articles), title=_title(c, by_id, vectors)))
        store.put_events(events, VERSION)
        return {"assigned": len(todo), "events": len(clusters), "changed": len(changed)}


def _overlap(sal: set[str], counts: Counter[str]) -> float:
    """Jaccard-style overlap of an article's entities with an event's."""
    if not sal or not counts:
        return 0.0
    ev = set(counts)
    return len(sal & ev) / len(sal | ev)


def _title(c: _Cluster, by_id: dict[str, Article], vectors: dict[str, np.ndarray]) -> str:
    """Event title: the headline of the member closest to the centroid."""
    cen = c.centroid
    ranked = sorted(c.articles, key=lambda a: -float(np.dot(vectors[a], cen)))
    for aid in ranked:
        if by_id[aid].title:
            return by_id[aid].title or ""
    first = by_id[ranked[0]].text.split("\n\n")[0]
    return first[:120].rsplit(" ", 1)[0] + ("…" if len(first) > 120 else "")


class StorylinesStage:
    """Links events into storylines (looser than event membership)."""

    name: ClassVar[str] = "storylines"
    version: ClassVar[str] = STORYLINE_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"events", "article_vectors"})
    assigns: ClassVar[frozenset[str]] = frozenset({"storylines"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Recompute storylines over all events (cheap: one vector per event)."""
        store, cfg = ctx.store, ctx.config
        events = store.events()
        vectors = store.get_vectors(VECTOR_KIND, ctx.embedder.model_id)
        arts = {a.id: a for a in store.articles()}
        cents: list[np.ndarray] = []
        spans: list[tuple[dt.date, dt.date] | None] = []
        for ev in events:
            vs = [vectors[a] for a in ev.articles if a in vectors]
            m = np.sum(vs, axis=0) if vs else np.zeros(ctx.embedder.dim, dtype=np.float32)
            norm = float(np.linalg.norm(m))
            cents.append(m / norm if norm else m)
            days = [d for a in ev.articles if a in arts and (d := arts[a].published) is not None]
            spans.append((min(days), max(days)) if days else None)
        n = len(events)
        parent = list(range(n))

        def find(i: int) -> int:
            while parent[i] != i:
                parent[i] = parent[parent[i]]
                i = parent[i]
            return i

        window = dt.timedelta(days=cfg.storyline_window_days)
        if n:
            sims = np.vstack(cents) @ np.vstack(cents).T
            for i in range(n):
                for j in range(i + 1, n):
                    if sims[i, j] < cfg.storyline_threshold:
                        continue
                    a, b = spans[i], spans[j]
                    if a and b and (b[0] - a[1] > window or a[0] - b[1] > window):
                        continue
                    parent[find(i)] = find(j)
        groups: dict[int, list[int]] = {}
        for i in range(n):
            groups.setdefault(find(i), []).append(i)
        storylines, updated = [], []
        for members in groups.values():
            evs = [events[i] for i in members]
            sid = "sl-" + hashlib.sha1(evs[0].id.encode()).hexdigest()[:12]
            biggest = max(evs, key=lambda e: len(e.articles))
            storylines.append(Storyline(id=sid, events=tuple(e.id for e in evs), title=biggest.title))
            for e in evs:
                if e.storyline != sid:
                    updated.append(Event(e.id, e.articles, e.title, sid, e.start, e.end))
        store.put_storylines(storylines, STORYLINE_VERSION)
        if updated:
            store.put_events(updated, VERSION)
        return {"storylines": len(storylines)}
