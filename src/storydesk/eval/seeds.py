"""Seed facts: run storydesk on ../shared/fixtures/seeds and check every fact of gold.json.

Each fact a careful editor states about the five seed articles (grouping,
dates, titles, boilerplate, provenance, entities, quotes, independence,
timeline, conflicts, citations) is checked against the story JSON and printed
as pass/fail, so the whole product is measured on one page.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from storydesk.errors import EvalError
from storydesk.eval import datasets_dir
from storydesk.textutil import fold

Check = tuple[str, str, bool, str]  # (group, fact, passed, detail)


def seeds_dir() -> Path:
    """../shared/fixtures/seeds (beside the data sets)."""
    p = datasets_dir().parent / "fixtures" / "seeds"
    if not (p / "gold.json").is_file():
        raise EvalError(f"seed fixtures not found at {p}")
    return p


def _norm(s: str) -> str:
    """Folded text without punctuation, for containment tests."""
    return " ".join("".join(c if c.isalnum() else " " for c in fold(s)).split())


def _contains(haystack: str, needle: str) -> bool:
    """True when ``needle``'s words appear in order inside ``haystack`` (punctuation ignored)."""
    return _norm(needle) in _norm(haystack)


def _names(entity_lists: list[list[dict[str, Any]]]) -> Callable[[str], set[str]]:
    """Map any surface form to every name/alias of the entity it belongs to."""
    groups: list[set[str]] = []
    for ents in entity_lists:
        for e in ents:
            groups.append({_norm(a) for a in [e["name"], *e.get("aliases", []), e.get("short", "")] if a})

    def same(name: str) -> set[str]:
        n = _norm(name)
        out = {n}
        for g in groups:
            if n in g:
                out |= g
        return out

    return same


def check_story(doc: dict[str, Any], gold: dict[str, Any]) -> list[Check]:
    """Compare a story JSON document with gold.json; one entry per fact."""
    checks: list[Check] = []
    arts = {Path(a["path"]).name: a for a in doc["articles"]}
    short = {name.split("_")[0]: a["id"] for name, a in arts.items()}
    ev_of = {a: e for e in doc["events"] for a in e["articles"]}

    def add(group: str, fact: str, ok: bool, detail: str = "") -> None:
        checks.append((group, fact, bool(ok), detail))

    # Articles: publication date, title, dateline, subheadings, provenance.
    for name, g in gold["articles"].items():
        a = arts.get(name)
        if a is None:
            add("articles", f"{name} ingested", False, "missing")
            continue
        add("articles", f"{name[:3]} published {g['published']}", a["published"] == g["published"], str(a["published"]))
        if "title" in g:
            add("articles", f"{name[:3]} title", a["title"] == g["title"], repr(a["title"]))
        if "dateline" in g:
            add("articles", f"{name[:3]} dateline {g['dateline']}", a.get("dateline") == g["dateline"], "")
        for sub in g.get("subheadings", []):
            add("articles", f"{name[:3]} subheading {sub!r}", sub in a.get("subheadings", []), "")
        add("provenance", f"{name[:3]} primary {g['primary']}", a.get("primary") == g["primary"], str(a.get("primary")))
        add("provenance", f"{name[:3]} relays {g['relays']}", a.get("relays") == g["relays"], str(a.get("relays")))
    # Boilerplate.
    for junk in gold["boilerplate"]:
        leaks = [n[:3] for n, a in arts.items() if junk in a["text"] or junk in (a["title"] or "")]
        add("cleaning", f"boilerplate {junk!r} removed", not leaks, ",".join(leaks))
    # Events and storylines.
    gold_groups: dict[str, set[str]] = {}
    for name, g in gold["articles"].items():
        if name in arts:
            gold_groups.setdefault(g["event"], set()).add(arts[name]["id"])
    got_groups = {frozenset(e["articles"]) for e in doc["events"]}
    for label, members in sorted(gold_groups.items()):
        add("events", f"event {label} grouped exactly", frozenset(members) in got_groups, "")
    for sl in gold["storylines"]:
        evs = {ev_of[next(iter(gold_groups[label]))]["id"] for label in sl if label in gold_groups}
        together = any(evs <= set(s["events"]) for s in doc["storylines"])
        add("events", f"storyline {'+'.join(sl)} together, events distinct", together and len(evs) == len(sl), "")
    for label, ge in gold["events"].items():
        if label not in gold_groups:
            continue
        ev = ev_of[next(iter(gold_groups[label]))]
        if "start" in ge:
            add(
                "dates",
                f"event {label} {ge['start']}..{ge['end']}",
                (ev["start"], ev["end"]) == (ge["start"], ge["end"]),
                f"{ev['start']}..{ev['end']}",
            )
        if "contains" in ge:
            ok = bool(ev["start"] and ev["end"] and ev["start"] <= ge["contains"] <= ev["end"])
            add("dates", f"event {label} contains {ge['contains']}", ok, f"{ev['start']}..{ev['end']}")
    # Timeline (storyline level): an entry with the date that cites the listed articles.
    entries = [t for s in doc["storylines"] for t in s.get("timeline", [])]
    for t in gold["timeline"]:
        want = {short[x] for x in t["articles"] if x in short}
        hits = [e for e in entries if e["date"] == t["date"] and (e.get("end") or None) == t.get("end")]
        cited = set().union(*({c["article"] for c in e["citations"]} for e in hits)) if hits else set()
        add(
            "timeline",
            f"{t['date']}{'..' + t['end'] if t.get('end') else ''} {t['what'][:40]}",
            bool(hits) and want <= cited,
            f"{len(hits)} entries, cites {len(cited & want)}/{len(want)}",
        )
    # Entities.
    all_entities = [e["entities"] for e in doc["events"]]
    for ge in gold["entities"]:
        found = [
            e
            for ents in all_entities
            for e in ents
            if _norm(e["name"]) == _norm(ge["name"]) or _norm(ge["name"]) in {_norm(a) for a in e["aliases"]}
        ]
        aliases = {_norm(a) for e in found for a in e["aliases"]} | {_norm(e.get("short", "")) for e in found}
        missing = [a for a in ge["aliases"] if _norm(a) not in aliases]
        typed = any(e["type"] == ge["type"] for e in found)
        add(
            "entities",
            f"{ge['name']} ({ge['type']})",
            bool(found) and not missing and typed,
            f"missing aliases {missing}" if missing else ("" if typed else "wrong type"),
        )
    # Quotes: speaker, via, variants per article, independence.
    same = _names(all_entities)
    quotes = [q for e in doc["events"] for q in e["quotes"]]
    for gq in gold["quotes"]:
        want_articles = {short[x]: v for x, v in gq["variants"].items() if x in short}
        best, best_n = None, -1
        for q in quotes:
            if not q.get("speaker") or _norm(gq["speaker"]) not in same(q["speaker"]):
                continue
            n = sum(
                any(
                    v["article"] == aid and (_contains(v["text"], text) or _contains(text, v["text"]))
                    for v in q["variants"]
                )
                for aid, text in want_articles.items()
            )
            if n > best_n:
                best, best_n = q, n
        ok = best is not None and best_n == len(want_articles)
        via_ok = best is not None and any(_norm(gq["via"]) in same(v) for v in best["via"])
        add("quotes", f"{gq['canonical'][:45]!r}: variants", ok, f"{max(best_n, 0)}/{len(want_articles)} articles")
        add("quotes", f"{gq['canonical'][:45]!r}: via {gq['via']}", via_ok, str(best["via"]) if best else "")
        if best is not None and gq["speaker"]:
            add(
                "independence",
                f"{gq['canonical'][:45]!r}: 1 independent source",
                best["independent_sources"] == 1,
                str(best["independent_sources"]),
            )
    # Independence of claims (gold "independence"): every claim event A attributes to Kim Jong Un
    # reaches the outlets through one origin, KCNA.
    a_ev = ev_of.get(short.get("000", ""))
    if a_ev is not None and gold.get("independence"):
        kim = [
            c
            for c in a_ev["claims"]
            if any(_norm("Kim Jong Un") in same(x["source"]) for x in c.get("attributions", []))
        ]
        wrong = [
            c["text"][:40] for c in kim if c["independent_sources"] != 1 or [_norm(x) for x in c["sources"]] != ["kcna"]
        ]
        add(
            "independence",
            "event A claims attributed to Kim Jong Un: 1 independent source, KCNA",
            bool(kim) and not wrong,
            f"{len(kim) - len(wrong)}/{len(kim)} claims" + (f"; not: {wrong[:2]}" if wrong else ""),
        )
    # Conflicts.
    conflicts = [c for e in doc["events"] for c in e["conflicts"]]
    for gc in gold["conflicts"]:
        want_values: dict[str, set[str]] = {
            value: {short[x] for x in arts_ if x in short} for value, arts_ in gc["values"].items()
        }
        ok = False
        for c in conflicts:
            matched = 0
            for value, ids in want_values.items():
                if any(
                    (_contains(v["value"], value) or _contains(value, v["value"])) and set(v["articles"]) == ids
                    for v in c["values"]
                ):
                    matched += 1
            ok = ok or matched == len(want_values)
        add("conflicts", gc["about"][:60], ok, "")
    # Citations of summaries.
    n_sent = {a["id"]: len(a["sentences"]) for a in doc["articles"]}
    for e in doc["events"]:
        valid = all(
            s["citations"]
            and all(c["article"] in e["articles"] and 0 <= c["sentence"] < n_sent[c["article"]] for c in s["citations"])
            for s in e["summary"]
        )
        add("summary", f"{e['title'][:40]!r}: every sentence cited", valid and bool(e["summary"]), "")
    a_id = short.get("000")
    if a_id and a_id in ev_of:
        cited = {c["article"] for s in ev_of[a_id]["summary"] for c in s["citations"]}
        add("summary", "event A summary cites >= 3 articles", len(cited) >= 3, f"{len(cited)} articles")
    return checks


def evaluate(seeds: Path | None = None, embedder: str | None = None) -> dict[str, Any]:
    """Run the pipeline on the seeds into a temporary database and check gold.json."""
    from storydesk.api import Storydesk
    from storydesk.config import Config

    folder = seeds or seeds_dir()
    gold = json.loads((folder / "gold.json").read_text(encoding="utf-8"))
    cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
    with tempfile.TemporaryDirectory() as tmp, Storydesk(Path(tmp) / "seeds.db", config=cfg) as sd:
        sd.ingest(sorted(folder.glob("*.txt")))
        sd.build()
        doc = sd.story()
    checks = check_story(doc, gold)
    groups: dict[str, dict[str, int]] = {}
    for g, _f, ok, _d in checks:
        groups.setdefault(g, {"passed": 0, "total": 0})
        groups[g]["total"] += 1
        groups[g]["passed"] += int(ok)
    passed = sum(int(c[2]) for c in checks)
    return {
        "passed": passed,
        "total": len(checks),
        "rate": round(passed / len(checks), 4) if checks else 0.0,
        "groups": groups,
        "checks": [{"group": g, "fact": f, "passed": ok, "detail": d} for g, f, ok, d in checks],
    }


@click.command("seeds")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
@click.option("--failed", is_flag=True, help="List only the facts that fail.")
def command(as_json: bool, failed: bool) -> None:
    """Every fact of ../shared/fixtures/seeds/gold.json checked against storydesk's output."""
    res = evaluate()
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    for c in res["checks"]:
        if failed and c["passed"]:
            continue
        mark = click.style("PASS", fg="green") if c["passed"] else click.style("FAIL", fg="red")
        click.echo(f"{mark}  {c['group']:<12} {c['fact']}" + (f"   ({c['detail']})" if c["detail"] else ""))
    click.echo("")
    for g, n in res["groups"].items():
        click.echo(f"{g:<12} {n['passed']}/{n['total']}")
    click.echo(f"{'all':<12} {res['passed']}/{res['total']} gold facts (anchor: a careful human editor, 100%)")
