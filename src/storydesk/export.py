"""Story JSON: everything storydesk knows about a store, as one document.

The format is documented in docs/story-json.md and specified by the JSON
Schema ``storydesk/schema/story.schema.json`` (shipped with the package).
"""

from __future__ import annotations

import datetime as dt
import json
from importlib import resources
from typing import Any

from storydesk import __version__
from storydesk.compare import load_claims, load_conflicts
from storydesk.dates import EVENT_DATES_KIND, STORYLINE_TIMELINE_KIND, TIMELINE_KIND
from storydesk.dedup import duplicates
from storydesk.entities import EntityIndex, load_article_entities
from storydesk.models import Article, Event, TimelineEntry, from_dict, to_dict
from storydesk.provenance import load_provenance, media_primaries
from storydesk.quotes import load_quotes
from storydesk.store.base import Store
from storydesk.summarize import load_summary

SCHEMA_VERSION = "1.0"


def schema() -> dict[str, Any]:
    """The JSON Schema of the story JSON."""
    text = resources.files("storydesk").joinpath("schema/story.schema.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _citation(c: Any) -> dict[str, Any]:
    return {"article": c.article, "sentence": c.sentence}


def _timeline(entries: list[TimelineEntry]) -> list[dict[str, Any]]:
    return [
        {
            "date": e.date.isoformat(),
            "end": e.end.isoformat() if e.end else None,
            "precision": e.precision,
            "background": e.background,
            "text": e.text,
            "citations": [_citation(c) for c in e.citations],
        }
        for e in entries
    ]


def _load_timeline(store: Store, kind: str, key: str) -> list[TimelineEntry]:
    rec = store.get_record(kind, key)
    return [from_dict(TimelineEntry, e) for e in rec[1]] if rec else []


def article_json(store: Store, a: Article, dup_of: str | None, provenance: Any, event: str | None) -> dict[str, Any]:
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
            for s in store.sentences(a.id)
        ],
    }


def event_json(store: Store, ev: Event) -> dict[str, Any]:
    """One event's entry in the story JSON."""
    headline, summary = load_summary(store, ev.id)
    index = EntityIndex(load_article_entities(store, ev.articles))
    dates = store.get_record(EVENT_DATES_KIND, ev.id)
    return {
        "id": ev.id,
        "storyline": ev.storyline,
        "title": ev.title,
        "headline": headline or ev.title,
        "articles": list(ev.articles),
        "start": ev.start.isoformat() if ev.start else None,
        "end": ev.end.isoformat() if ev.end else None,
        "dated_by": dates[1].get("how") if dates else None,
        "summary": [{"text": s.text, "citations": [_citation(c) for c in s.citations]} for s in summary],
        "timeline": _timeline(_load_timeline(store, TIMELINE_KIND, ev.id)),
        "entities": [
            {"name": e.name, "type": e.type, "aliases": list(e.aliases), "short": e.short} for e in index.entities
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
            for q in load_quotes(store, ev.id)
        ],
        "claims": [
            {
                "text": c.text,
                "articles": list(c.articles),
                "citations": [_citation(x) for x in c.citations],
                "independent_sources": c.independent_sources,
                "sources": list(c.sources),
                "single_source": c.single_source,
            }
            for c in load_claims(store, ev.id)
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
            for c in load_conflicts(store, ev.id)
        ],
    }


def story(store: Store, event_ids: list[str] | None = None) -> dict[str, Any]:
    """Build the whole story JSON document (optionally only some events)."""
    events = store.events()
    if event_ids is not None:
        wanted = set(event_ids)
        events = [e for e in events if e.id in wanted]
    event_of = {a: e.id for e in store.events() for a in e.articles}
    dups = duplicates(store)
    articles = store.articles()
    if event_ids is not None:
        keep = {a for e in events for a in e.articles}
        articles = [a for a in articles if a.id in keep]
    provs = load_provenance(store, [a.id for a in articles])
    storylines = store.storylines()
    if event_ids is not None:
        storylines = [s for s in storylines if any(e.id in s.events for e in events)]
    return {
        "storydesk": {
            "version": __version__,
            "schema": SCHEMA_VERSION,
            "generated": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "embedder": store.get_meta("embedder"),
        },
        "articles": [article_json(store, a, dups.get(a.id), provs.get(a.id), event_of.get(a.id)) for a in articles],
        "events": [event_json(store, e) for e in events],
        "storylines": [
            {
                "id": s.id,
                "title": s.title,
                "events": list(s.events),
                "timeline": _timeline(_load_timeline(store, STORYLINE_TIMELINE_KIND, s.id)),
            }
            for s in storylines
        ],
        "rejections": [to_dict(r) for r in store.rejections()],
    }
