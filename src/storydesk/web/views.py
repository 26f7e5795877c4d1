"""View models: story JSON documents reshaped for the web templates.

The templates only lay out what these functions compute, so the logic (labels,
citation targets, independence groups, timeline geometry) is testable without
a browser or a server.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import difflib
import re
from collections import Counter
from typing import Any


def source_labels(articles: list[dict[str, Any]]) -> dict[str, str]:
    """Short, unique label per article: its outlet (numbered when an outlet has several), else its file name."""
    base = {}
    for a in articles:
        name = a.get("outlet") or _file_label(a.get("path") or "") or a["id"]
        base[a["id"]] = name
    counts = Counter(base.values())
    seen: Counter[str] = Counter()
    labels = {}
    for a in articles:
        name = base[a["id"]]
        if counts[name] > 1:
            seen[name] += 1
            labels[a["id"]] = f"{name} {seen[name]}"
        else:
            labels[a["id"]] = name
    return labels


def _file_label(path: str) -> str:
    """A file name without folders or extension (``in/aurlen_herald.txt`` → ``aurlen_herald``)."""
    name = re.split(r"[\\/]", path.rstrip("/"))[-1]
    stem = re.sub(r"\.(txt|text|md|json|jsonl|ndjson|html?|xml|rss|atom)$", "", name, flags=re.I)
    if stem != name:
        return stem
    return path if len(path) <= 40 else "…" + path[-39:]  # a record id such as "wire/2024/0012"


def source_name(source: str, labels: dict[str, str]) -> str:
    """A claim's source id made readable: ``own:<article id>`` → that article's label."""
    if source.startswith("own:"):
        who = source[4:]
        return f"{labels.get(who, who)} (own reporting)"
    return labels.get(source, source)


#: How a claim's sentence holds its source, in words (``claims[].attributions[].kind``; the outlet's
#: own reporting says so in its name already).
CLAIM_KINDS = {"quoted": "quoted", "reported": "reported", "own": "", "uncredited": "uncredited"}


def claim_sources(claim: dict[str, Any], labels: dict[str, str], cites: Citations) -> list[dict[str, Any]]:
    """Who a claim comes from in each article: one row per article, its sources in the order the claim lists them."""
    rows: dict[str, dict[str, Any]] = {}
    for x in claim.get("attributions") or []:
        row = rows.setdefault(
            x["article"],
            {
                "label": labels.get(x["article"], x["article"][:8]),
                "cite": cites.one({"article": x["article"], "sentence": x["sentence"]}),
                "who": [],
            },
        )
        origin = source_name(x["origin"], labels)
        who = source_name(x["source"], labels)
        row["who"].append(
            {
                "name": who,
                "via": [m for i, m in enumerate(x.get("via") or []) if i or m != x["source"]],
                "kind": CLAIM_KINDS.get(x.get("kind", ""), x.get("kind", "")),
                "origin": origin if origin != who else None,
            }
        )
    return list(rows.values())


def web_link(url: Any) -> str | None:
    """``url`` when it is an http(s) link, else None: a page never renders another kind of href.

    Ingest already drops other links (with the same check); this also guards stores written before it did.
    """
    from storydesk.api import safe_url

    return safe_url(url)


def fmt_date(value: str | None, precision: str = "day") -> str:
    """``2024-03-14`` → ``14 Mar 2024`` (``Mar 2024`` / ``2024`` for coarser precision)."""
    if not value:
        return ""
    try:
        d = dt.date.fromisoformat(value)
    except ValueError:
        return value
    if precision == "year":
        return str(d.year)
    if precision == "month":
        return d.strftime("%b %Y")
    return f"{d.day} {d.strftime('%b %Y')}"


def date_range(start: str | None, end: str | None) -> str:
    """A readable date or date range."""
    if not start and not end:
        return ""
    if not end or end == start:
        return fmt_date(start or end)
    if not start:
        return fmt_date(end)
    return f"{fmt_date(start)} – {fmt_date(end)}"


def dated_by(how: str | None, articles: int) -> str:
    """The story JSON's ``dated_by`` note in words a reader follows ("Date from the text of 3 of 4 articles")."""
    if not how or how == "undated":
        return ""
    m = re.fullmatch(r"text: (\d+) article\(s\) date it", how)
    if m:
        n = int(m.group(1))
        return f"Date from the text of {'the article' if n == articles == 1 else f'{n} of {articles} articles'}"
    if how.startswith("publication date"):
        return "Dated by publication: the articles do not say when it happened"
    return f"Dated by {how}"


class Citations:
    """Resolves citations of one document to link targets, labels and the cited sentence text.

    Args:
        doc: A story JSON document.
        local: Article ids rendered on the current page (citations to them are ``#`` anchors).
        event_of: Article id → event id, for citations to articles on other pages.
    """

    def __init__(self, doc: dict[str, Any], local: set[str], event_of: dict[str, str] | None = None) -> None:
        self.articles = {a["id"]: a for a in doc["articles"]}
        self.labels = source_labels(doc["articles"])
        self.local = local
        self.event_of = event_of or {a["id"]: a["event"] for a in doc["articles"] if a.get("event")}

    def anchor(self, article: str, sentence: int) -> str:
        """Element id of a sentence in a rendered source."""
        return f"s-{article}-{sentence}"

    def href(self, article: str, sentence: int) -> str:
        """Link to a cited sentence: on this page, or on its event's page."""
        frag = "#" + self.anchor(article, sentence)
        if article in self.local:
            return frag
        ev = self.event_of.get(article)
        return f"/event/{ev}{frag}" if ev else f"/article/{article}{frag}"

    def sentence_text(self, article: str, sentence: int) -> str:
        """The cited sentence (empty when the citation points outside the document)."""
        a = self.articles.get(article)
        if not a:
            return ""
        sents = a.get("sentences") or []
        return sents[sentence]["text"] if 0 <= sentence < len(sents) else ""

    def one(self, c: dict[str, Any]) -> dict[str, Any]:
        """A citation ready for the template."""
        art, idx = c["article"], int(c["sentence"])
        return {
            "article": art,
            "sentence": idx,
            "href": self.href(art, idx),
            "label": self.labels.get(art, art[:8]),
            "text": self.sentence_text(art, idx),
        }

    def many(self, cs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Citations ready for the template, one per article (the first cited sentence of each)."""
        out, seen = [], set()
        for c in cs:
            if c["article"] in seen:
                continue
            seen.add(c["article"])
            out.append(self.one(c))
        return out


def origins(a: dict[str, Any]) -> list[str]:
    """Where an article's information independently comes from: its primary sources, else its relays, else itself."""
    if a.get("primary_sources"):
        return list(a["primary_sources"])
    if a.get("relays"):
        return list(a["relays"])
    return [f"own:{a['id']}"]


def independence(articles: list[dict[str, Any]], labels: dict[str, str]) -> list[dict[str, Any]]:
    """One group per independent source, listing the articles that carry it (biggest first).

    The number of groups is the number of independent sources: four outlets relaying
    KCNA make one group. Near-copies count with the article they copy.
    """
    by_id = {a["id"]: a for a in articles}
    groups: dict[str, list[str]] = {}
    for a in articles:
        root, hops = a, 0
        while root.get("duplicate_of") in by_id and hops < 10:  # a copy says what its original says
            root = by_id[root["duplicate_of"]]
            hops += 1
        for src in origins(root):
            groups.setdefault(src, []).append(a["id"])
    out = []
    for src, members in groups.items():
        own = src.startswith("own:")
        relays = sorted({r for m in members for r in by_id[m].get("relays") or [] if r != src})
        out.append(
            {
                "kind": "own" if own else "primary",
                "title": f"Own reporting: {labels.get(src[4:], src[4:])}" if own else src,
                "relays": relays,
                "articles": [
                    {"id": m, "label": labels[m], "is_copy": bool(by_id[m].get("duplicate_of"))} for m in members
                ],
            }
        )
    out.sort(key=lambda g: (-len(g["articles"]), g["kind"] == "own", g["title"]))
    return out


def chain(a: dict[str, Any], label: str) -> list[str]:
    """The path information took to an outlet: primary source(s) → relays → the outlet."""
    out = []
    prim = [p for p in a.get("primary_sources") or [] if p != label]
    if prim:
        out.append(" + ".join(prim))
    for r in a.get("relays") or []:
        if r not in out and r not in prim and r != label:
            out.append(r)
    return [*out, label]


def diff_words(base: str, variant: str) -> list[tuple[str, bool]]:
    """Split a quote variant into ``(text, changed)`` runs against the canonical wording."""
    a, b = re.findall(r"\S+|\s+", base), re.findall(r"\S+|\s+", variant)
    out: list[tuple[str, bool]] = []
    sm = difflib.SequenceMatcher(
        a=[w.lower().strip(".,;:\"'“”‘’") for w in a], b=[w.lower().strip(".,;:\"'“”‘’") for w in b]
    )
    for op, _i1, _i2, j1, j2 in sm.get_opcodes():
        chunk = "".join(b[j1:j2])
        if chunk:
            out.append((chunk, op != "equal" and bool(chunk.strip())))
    return out


#: Date precisions, coarse to fine.
_FINER = {"year": 1, "month": 2, "week": 3, "day": 4}


def timeline_track(entries: list[dict[str, Any]], link_prefix: str = "t-") -> dict[str, Any]:
    """Geometry of a horizontal timeline: one dot per date, sized by how many facts fall on it.

    Positions are percentages of the track width, so the drawing scales to any screen
    while its labels keep their normal size.

    Background facts (``background: true``, such as "the last exercise was in 2022") are
    left off the axis when the event has other dated facts: drawn to scale they would
    squeeze the event's own days into one dot. They are returned under ``outside``.

    Args:
        entries: Timeline entries (``date``, optional ``end`` and ``background``).
        link_prefix: Each dot links to ``#{link_prefix}{date}``.

    Returns:
        ``{"dots": [{left, span, size, date, label, count, href}], "ticks": [{left, label, edge}],
        "outside": [{date, label, href, before}]}``, or an empty dict when there is nothing to draw.
    """
    drawn = [e for e in entries if not e.get("background")]
    if not drawn:
        drawn, kept_out = entries, []
    else:
        kept_out = [e for e in entries if e.get("background")]
    days: Counter[dt.date] = Counter()
    ends: dict[dt.date, dt.date] = {}
    precision: dict[dt.date, str] = {}
    for e in drawn:
        try:
            d = dt.date.fromisoformat(e["date"])
        except (KeyError, TypeError, ValueError):
            continue
        days[d] += 1
        prec = e.get("precision") or "day"
        if _FINER.get(prec, 0) > _FINER.get(precision.get(d, ""), -1):
            precision[d] = prec
        if e.get("end"):
            with contextlib.suppress(ValueError):
                ends[d] = max(ends.get(d, d), dt.date.fromisoformat(e["end"]))
    if not days:
        return {}
    lo = min(days)
    hi = max([*days, *ends.values()])
    span = max((hi - lo).days, 1)

    def left(d: dt.date) -> float:
        return round(100 * (d - lo).days / span, 2) if hi > lo else 50.0

    biggest = max(days.values())
    dots = []
    for d in sorted(days):
        dots.append(
            {
                "left": left(d),
                "span": round(left(ends[d]) - left(d), 2) if d in ends and ends[d] > d else 0,
                "size": round(12 + 14 * (days[d] / biggest) ** 0.5),
                "date": d.isoformat(),
                "label": fmt_date(d.isoformat(), precision[d]),
                "count": days[d],
                "href": f"#{link_prefix}{d.isoformat()}",
            }
        )
    # Label the first and the last date, and between them only dates far enough apart not to collide.
    first, last = dots[0], dots[-1]
    ticks = [{"left": first["left"], "label": first["label"]}]
    for dd in dots[1:-1]:
        if dd["left"] - ticks[-1]["left"] >= 18 and last["left"] - dd["left"] >= 18:
            ticks.append({"left": dd["left"], "label": dd["label"]})
    if len(dots) > 1:
        ticks.append({"left": last["left"], "label": last["label"]})
    for t in ticks:
        t["edge"] = "start" if t["left"] < 8 else "end" if t["left"] > 92 else "mid"
    outside: list[dict[str, Any]] = []
    for e in kept_out:
        with contextlib.suppress(KeyError, TypeError, ValueError):
            d = dt.date.fromisoformat(e["date"])
            if d.isoformat() not in {x["date"] for x in outside}:
                outside.append(
                    {
                        "date": d.isoformat(),
                        "label": fmt_date(d.isoformat(), e.get("precision") or "day"),
                        "href": f"#{link_prefix}{d.isoformat()}",
                        "before": d < lo,
                    }
                )
    return {"dots": dots, "ticks": ticks, "outside": sorted(outside, key=lambda x: x["date"])}


def event_view(doc: dict[str, Any], event_id: str | None = None) -> dict[str, Any]:
    """Everything the event page shows, from the story JSON of one event (see ``Storydesk.event_document``)."""
    ev = next(e for e in doc["events"] if event_id is None or e["id"] == event_id)
    members = [a for a in doc["articles"] if a["id"] in set(ev["articles"])]
    cites = Citations(doc, {a["id"] for a in doc["articles"]})
    labels = cites.labels
    timeline = []
    for t in ev["timeline"]:
        timeline.append(
            {
                **t,
                "when": date_range(t["date"], t.get("end"))
                if t.get("precision", "day") == "day"
                else fmt_date(t["date"], t["precision"]),
                "cites": cites.many(t["citations"]),
            }
        )
    quotes = []
    for q in sorted(ev["quotes"], key=lambda q: (-q["independent_sources"], -len(q["variants"]))):
        variants = []
        for v in q["variants"]:
            variants.append(
                {
                    "label": labels.get(v["article"], v["article"][:8]),
                    "runs": diff_words(q["text"], v["text"]),
                    "cite": cites.one({"article": v["article"], "sentence": v["sentence"]})
                    if v.get("sentence", -1) >= 0
                    else None,
                }
            )
        quotes.append({**q, "variant_views": variants})
    conflicts = []
    for c in ev["conflicts"]:
        sides = []
        for v in c["values"]:
            cited = {x["article"]: x for x in cites.many(v.get("citations") or [])}
            sides.append(
                {
                    "value": v["value"],
                    # one badge per outlet, linking to the sentence that says it when there is one
                    "outlets": [
                        {"label": labels.get(a, a[:8]), "cite": cited.get(a)} for a in dict.fromkeys(v["articles"])
                    ],
                }
            )
        conflicts.append({"about": c["about"], "kind": c["kind"], "sides": sides})
    claims = sorted(ev["claims"], key=lambda c: (-c["independent_sources"], -len(c["articles"])))
    sources = []
    for a in members:
        sources.append(
            {
                **a,
                "label": labels[a["id"]],
                "chain": chain(a, labels[a["id"]]),
                "copy_of": labels.get(a["duplicate_of"]) if a.get("duplicate_of") else None,
                "paragraphs": paragraphs(a),
            }
        )
    groups = independence(members, labels)
    storyline = doc["storylines"][0] if doc.get("storylines") else None
    return {
        "event": ev,
        "when": date_range(ev["start"], ev["end"]),
        "dated_by": dated_by(ev.get("dated_by"), len(members)),
        "summary": [{"text": s["text"], "cites": cites.many(s["citations"])} for s in ev["summary"]],
        "timeline": timeline,
        "timeline_track": timeline_track(ev["timeline"]),
        "quotes": quotes,
        "conflicts": conflicts,
        "claims": [
            {
                **c,
                "cites": cites.many(c["citations"]),
                "source_names": [source_name(x, labels) for x in c["sources"]],
                "by_article": claim_sources(c, labels, cites),
            }
            for c in claims
        ],
        "sources": sources,
        "independence": groups,
        "independent": len(groups),
        "outlets": sorted({a["outlet"] for a in members if a.get("outlet")}),
        "storyline": storyline,
        "labels": labels,
    }


def paragraphs(a: dict[str, Any]) -> list[list[dict[str, Any]]]:
    """An article's sentences grouped by paragraph, for rendering."""
    paras: dict[int, list[dict[str, Any]]] = {}
    for s in a.get("sentences") or []:
        paras.setdefault(int(s.get("paragraph", 0)), []).append(s)
    return [paras[k] for k in sorted(paras)]


def storyline_view(doc: dict[str, Any], storyline_id: str) -> dict[str, Any]:
    """Everything the storyline page shows, from the story JSON of one storyline."""
    sl = next(s for s in doc["storylines"] if s["id"] == storyline_id)
    by_id = {e["id"]: e for e in doc["events"]}
    events = [by_id[e] for e in sl["events"] if e in by_id]
    events.sort(key=lambda e: (e["start"] or "9999", e["id"]))
    arts = {a["id"]: a for a in doc["articles"]}
    cites = Citations(doc, set())
    rows = []
    for e in events:
        outlets = sorted({arts[a]["outlet"] for a in e["articles"] if a in arts and arts[a].get("outlet")})
        rows.append(
            {
                "id": e["id"],
                "headline": e["headline"],
                "when": date_range(e["start"], e["end"]),
                "start": e["start"],
                "articles": len(e["articles"]),
                "outlets": outlets,
                "lead": e["summary"][0]["text"] if e["summary"] else None,
            }
        )
    marks = [{"date": e["start"]} for e in events if e["start"]]
    timeline = [
        {**t, "when": fmt_date(t["date"], t.get("precision", "day")), "cites": cites.many(t["citations"])}
        for t in sl.get("timeline") or []
    ]
    return {
        "storyline": sl,
        "events": rows,
        "events_track": timeline_track(marks, link_prefix="d-"),
        "timeline": timeline,
        "articles": len(doc["articles"]),
        "when": date_range(
            min((m["date"] for m in marks), default=None), max((m["date"] for m in marks), default=None)
        ),
    }
