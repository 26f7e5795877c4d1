"""Story JSON: what storydesk knows about a store (or a part of it), as one document.

The format is documented in docs/story-json.md and specified by the JSON
Schema ``storydesk/schema/story.schema.json`` (shipped with the package).
:func:`document` builds it for any set of events from the stored artifacts, in
bulk reads; the whole store's document and one event's or storyline's
document are the same function over different events.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from importlib import resources
from typing import Any

from storydesk import __version__
from storydesk import artifacts as A
from storydesk.article.provenance import media_primaries
from storydesk.models import Article, Citation, Event, Provenance, Sentence, Storyline, TimelineEntry, to_dict
from storydesk.store.base import Store

SCHEMA_VERSION = "1.0"


def schema() -> dict[str, Any]:
    """The JSON Schema of the story JSON."""
    text = resources.files("storydesk").joinpath("schema/story.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _citation(c: Citation) -> dict[str, Any]:
    return {"article": c.article, "sentence": c.sentence}


def timeline_json(entries: Sequence[TimelineEntry], keep: set[str] | None = None) -> list[dict[str, Any]]:
    """Timeline entries as JSON; with ``keep``, only citations of those articles (entries left without any dropped)."""
    out = []
    for e in entries:
        cites = [c for c in e.citations if keep is None or c.article in keep]
        if not cites:
            continue
        out.append(
            {
                "date": e.date.isoformat(),
                "end": e.end.isoformat() if e.end else None,
                "precision": e.precision,
                "background": e.background,
                "text": e.text,
                "citations": [_citation(c) for c in cites],
            }
        )
    return out


def article_json(
    a: Article, sentences: Sequence[Sentence], dup_of: str | None, provenance: Provenance | None, event: str | None
) -> dict[str, Any]:
    """One article's entry in the story JSON."""
    prim = list(media_primaries(provenance)) if provenance else []
    return {
        "id": a.id,
        "path": a.source,
        "outlet": a.outlet,
        "title": a.title,
        "published": a.published.isoformat() if a.published else None,
        "published_source": a.published_source,
        "url": a.url,
        "format": a.format,
        "duplicate_of": dup_of,
        "event": event,
        "dateline": a.dateline,
        "subheadings": list(a.subheadings),
        "primary": prim[0] if prim else None,
        "primary_sources": prim,
        "relays": list(provenance.relays) if provenance else [],
        "provenance_evidence": list(provenance.evidence) if provenance else [],
        "stripped": [{"kind": s.kind, "text": s.text} for s in a.stripped],
        "text": a.text,
        "sentences": [
            {"index": s.index, "text": s.text, "start": s.start, "end": s.end, "paragraph": s.paragraph}
            for s in sentences
        ],
    }


def event_json(ev: Event, derived: dict[str, Any]) -> dict[str, Any]:
    """One event's entry in the story JSON (``derived``: its event artifacts by name)."""
    headline, summary = derived.get("summary") or ("", ())
    dates = derived.get("event_dates") or {}
    return {
        "id": ev.id,
        "storyline": ev.storyline,
        "title": ev.title,
        "headline": headline or ev.title,
        "articles": list(ev.articles),
        "start": ev.start.isoformat() if ev.start else None,
        "end": ev.end.isoformat() if ev.end else None,
        "dated_by": dates.get("how"),
        "summary": [{"text": s.text, "citations": [_citation(c) for c in s.citations]} for s in summary],
        "timeline": timeline_json(derived.get("timeline") or ()),
        "entities": [
            {"name": e.name, "type": e.type, "aliases": list(e.aliases), "short": e.short}
            for e in derived.get("entities") or ()
        ],
        "quotes": [
            {
                "speaker": q.speaker,
                "via": list(q.via),
                "text": q.text,
                "cue": q.cue,
                "direct": q.direct,
                "independent_sources": q.independent_sources,
                "variants": [{"article": v.article, "text": v.text, "sentence": v.sentence} for v in q.variants],
            }
            for q in derived.get("quotes") or ()
        ],
        "claims": [
            {
                "text": c.text,
                "articles": list(c.articles),
                "citations": [_citation(x) for x in c.citations],
                "independent_sources": c.independent_sources,
                "sources": list(c.sources),
                "single_source": c.single_source,
                "attributions": [
                    {
                        "article": x.article,
                        "sentence": x.sentence,
                        "source": x.source,
                        "origin": x.origin,
                        "via": list(x.via),
                        "kind": x.kind,
                    }
                    for x in c.attributions
                ],
            }
            for c in derived.get("claims") or ()
        ],
        "conflicts": [
            {
                "about": c.about,
                "kind": c.kind,
                "values": [
                    {
                        "value": v.value,
                        "articles": list(v.articles),
                        "citations": [_citation(x) for x in v.citations],
                    }
                    for v in c.values
                ],
            }
            for c in derived.get("conflicts") or ()
        ],
    }


#: The event artifacts the story JSON shows.
EVENT_PARTS = (A.SUMMARY, A.EVENT_DATES, A.TIMELINE, A.ENTITIES, A.QUOTES, A.CLAIMS, A.CONFLICTS)


def document(
    store: Store,
    events: Sequence[Event],
    storylines: Sequence[Storyline],
    articles: Sequence[Article] | None = None,
    rejections: bool = False,
) -> dict[str, Any]:
    """A story JSON document over some events (with their articles) and storylines.

    Args:
        store: Where the artifacts are read.
        events: The events to include.
        storylines: The storylines to include; their timelines keep only entries
            citing included articles, so every citation points into the document.
        articles: The articles to include (default: the events' members).
        rejections: Include the store's rejections (the whole-store document does).
    """
    if articles is None:
        articles = store.articles([a for ev in events for a in ev.articles])
    ids = [a.id for a in articles]
    keep = set(ids)
    event_of = store.events_of(ids)
    per_article = store.get_many((A.DUPLICATE, A.PROVENANCE), ids)
    dups, provs = per_article[A.DUPLICATE.name], per_article[A.PROVENANCE.name]
    sents = store.sentences_of(ids)
    parts = store.get_many(EVENT_PARTS, [e.id for e in events])
    timelines = store.get(A.STORYLINE_TIMELINE, [s.id for s in storylines])
    return {
        "storydesk": {
            "version": __version__,
            "schema": SCHEMA_VERSION,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "embedder": store.get_meta("embedder"),
        },
        "articles": [
            article_json(
                a,
                sents.get(a.id, []),
                (dups.get(a.id) or {}).get("duplicate_of"),
                provs.get(a.id),
                event_of.get(a.id),
            )
            for a in articles
        ],
        "events": [event_json(ev, {name: parts[name].get(ev.id) for name in parts}) for ev in events],
        "storylines": [
            {
                "id": s.id,
                "title": s.title,
                "events": list(s.events),
                "timeline": timeline_json(timelines.get(s.id) or (), keep),
            }
            for s in storylines
        ],
        "rejections": [to_dict(r) for r in store.rejections()] if rejections else [],
    }


def story(store: Store, event_ids: list[str] | None = None) -> dict[str, Any]:
    """The story JSON of the whole store (or only some events, with their articles and storylines)."""
    if event_ids is None:
        return document(store, store.events(), store.storylines(), store.articles(), rejections=True)
    events = store.events(event_ids)
    wanted = {e.storyline for e in events if e.storyline}
    storylines = [s for s in store.storylines() if s.id in wanted]
    return document(store, events, storylines)
