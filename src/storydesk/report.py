"""The self-contained HTML report: storylines → events → cited summary, timeline, sources.

One file, no external assets: citations are links to the cited sentence in the
sources section, which the page highlights (CSS ``:target``), so the report works
offline and without JavaScript.
"""

from __future__ import annotations

import re
from typing import Any

import jinja2


def _env() -> jinja2.Environment:
    """Jinja environment loading the package's templates, autoescaping HTML."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("storydesk", "templates"),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = format_when
    return env


def format_when(entry: dict[str, Any]) -> str:
    """A timeline entry's date at its precision: "2019", "2023-07", "week of 2023-08-07", "2023-08-21 – 2023-08-31"."""
    date, precision = entry["date"], entry.get("precision", "day")
    if precision == "year":
        return str(date[:4])
    if precision == "month":
        return str(date[:7])
    if precision == "week":
        return f"week of {date}"
    return f"{date} – {entry['end']}" if entry.get("end") else str(date)


def article_label(article: dict[str, Any]) -> str:
    """Short label for citations: the outlet, else the first word of the file name."""
    if article.get("outlet"):
        return str(article["outlet"])
    stem = str(article["path"]).rsplit("/", 1)[-1].rsplit(".", 1)[0]
    head = re.split(r"[_\s]", stem)[0]
    return head if len(head) >= 3 else stem[:16]


def source_label(source: str, labels: dict[str, str]) -> str:
    """A claim's source or origin for the reader: ``own:<outlet or article id>`` → "<label> (own reporting)"."""
    if source.startswith("own:"):
        who = source[4:]
        return f"{labels.get(who, who)} (own reporting)"
    return labels.get(source, source)


def claim_rows(claim: dict[str, Any], labels: dict[str, str]) -> list[dict[str, Any]]:
    """Who a claim comes from, one row per article: its label, cited sentence and sources in words."""
    rows: dict[str, dict[str, Any]] = {}
    for x in claim.get("attributions") or []:
        row = rows.setdefault(x["article"], {"article": x["article"], "sentence": x["sentence"], "who": []})
        who = source_label(x["source"], labels)
        origin = source_label(x["origin"], labels)
        via = [m for i, m in enumerate(x.get("via") or []) if i or m != x["source"]]  # "KCNA via KCNA" says nothing
        text = who + (f" via {' → '.join(via)}" if via else "")
        if x.get("kind") in ("quoted", "uncredited"):
            text += f" ({x['kind']})"
        if origin != who:
            text += f", origin {origin}"
        row["who"].append(text)
    return list(rows.values())


def render_report(doc: dict[str, Any]) -> str:
    """Render a story JSON document (see :func:`storydesk.export.story`) as one HTML page."""
    articles = {a["id"]: a for a in doc["articles"]}
    events = {e["id"]: e for e in doc["events"]}
    labels = {a["id"]: article_label(a) for a in doc["articles"]}
    storylines = sorted(
        doc["storylines"],
        key=lambda s: -max((len(events[e]["articles"]) for e in s["events"] if e in events), default=0),
    )
    return (
        _env()
        .get_template("report.html")
        .render(
            doc=doc,
            articles=articles,
            events=events,
            storylines=storylines,
            labels=labels,
            claim_rows=lambda c: claim_rows(c, labels),
            source_label=lambda x: source_label(x, labels),
        )
    )
