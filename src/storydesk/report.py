"""The self-contained HTML report: storylines → events → cited summary, timeline, sources.

One file, no external assets: citations are links to the cited sentence in the
sources section, which the page highlights (CSS ``:target``), so the report works
offline and without JavaScript.
"""

from __future__ import annotations

from typing import Any

import jinja2


def _env() -> jinja2.Environment:
    """Jinja environment loading the package's templates, autoescaping HTML."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("storydesk", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_report(doc: dict[str, Any]) -> str:
    """Render a story JSON document (see :func:`storydesk.export.story`) as one HTML page."""
    articles = {a["id"]: a for a in doc["articles"]}
    events = {e["id"]: e for e in doc["events"]}
    labels = {}
    for n, a in enumerate(doc["articles"], start=1):
        labels[a["id"]] = a["outlet"] or a["path"].rsplit("/", 1)[-1] or f"article {n}"
    storylines = sorted(
        doc["storylines"],
        key=lambda s: -max((len(events[e]["articles"]) for e in s["events"] if e in events), default=0),
    )
    return (
        _env()
        .get_template("report.html")
        .render(doc=doc, articles=articles, events=events, storylines=storylines, labels=labels)
    )
