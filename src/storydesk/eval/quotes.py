"""``storydesk eval quotes``: attribution spans on PolNeAR (source, cue, content).

For each role we count precision, recall and F1 micro-averaged over the split,
under two matchings:

* **exact** — span boundaries equal once whitespace, punctuation and quote
  marks are stripped from both ends (for a discontinuous span, every fragment;
  fragments separated only by whitespace/punctuation count as one);
* **overlap** — predicted and gold share at least one word token.

Matching is one-to-one and greedy (largest token overlap first). A gold
attribution whose role is null (e.g. an implicit source) is skipped for that
role; every predicted span counts towards precision.

These role scores pool the spans of a role over the article, so a source
counts even when it was found for another cue of the same article. Two
stricter views are reported beside them:

* **linked** — predicted and gold attributions are first paired one to one
  by cue overlap (as BBC citron's evaluation pairs quotes); a source or
  content counts only against the gold attribution its cue was paired with;
* **tokens** — word-token precision/recall: the share of predicted tokens of a
  role that are gold tokens of that role, and vice versa (the proportional
  "overlap" of citron's evaluation, per article over the union of spans).

PolNeAR is univocal (each token belongs to at most one attribution: the
inner report of "CNN reported the campaign said ..." is not annotated). The
extractor reports nested attributions for the pipeline's chains, so by
default they are projected with :func:`storydesk.attribution.univocal`
before scoring; ``nested=True`` scores the raw output.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

ROLES = ("source", "cue", "content")
REFERENCE = "BBC citron on PARC 3.0 (other corpus): cue 82.3, source 82.0, content 59.3 exact / 83.3 overlap"
_STRIP = " \t\n\r\u00a0.,;:!?\"'“”‘’`«»„()[]—–-…"
_WORD = re.compile(r"\w+")

Frags = tuple[tuple[int, int], ...]


def strip_span(text: str, start: int, end: int) -> tuple[int, int] | None:
    """Offsets of ``text[start:end]`` without surrounding whitespace, punctuation and quotes."""
    while start < end and text[start] in _STRIP:
        start += 1
    while end > start and text[end - 1] in _STRIP:
        end -= 1
    return (start, end) if start < end else None


def _norm(text: str, frags: Sequence[Sequence[int]]) -> Frags:
    """Strip each fragment and join fragments separated only by whitespace/punctuation.

    PolNeAR's brat spans often break a multi-sentence quote into one fragment
    per sentence with only the inter-sentence space between them; that is not
    a real discontinuity, so both gold and predicted spans are joined there.
    """
    out: list[tuple[int, int]] = []
    for s, e in sorted((int(a), int(b)) for a, b in frags):
        st = strip_span(text, s, e)
        if st is None:
            continue
        if out and (st[0] <= out[-1][1] or strip_span(text, out[-1][1], st[0]) is None):
            out[-1] = (out[-1][0], max(out[-1][1], st[1]))
        else:
            out.append(st)
    return tuple(out)


class _Tokens:
    """Word-token index of one text, to test overlap "by at least one token"."""

    def __init__(self, text: str) -> None:
        self.starts = [m.start() for m in _WORD.finditer(text)]
        self.ends = [m.end() for m in _WORD.finditer(text)]

    def ids(self, frags: Frags) -> frozenset[int]:
        import bisect

        out: set[int] = set()
        for s, e in frags:
            # tokens whose extent intersects [s, e)
            lo = bisect.bisect_right(self.ends, s)
            hi = bisect.bisect_left(self.starts, e)
            out.update(range(lo, hi))
        return frozenset(out)


def _match(gold: list[Frags], pred: list[Frags], toks: _Tokens) -> tuple[int, int]:
    """(exact matches, overlap matches), each one-to-one."""
    exact = 0
    pool = list(gold)
    for p in pred:
        if p in pool:
            pool.remove(p)
            exact += 1
    gids = [toks.ids(g) for g in gold]
    pids = [toks.ids(p) for p in pred]
    pairs: list[tuple[int, int, int]] = []
    for i, gid in enumerate(gids):
        for j, pid in enumerate(pids):
            n = len(gid & pid)
            if n:
                pairs.append((n, i, j))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, i, j in pairs:
        if i not in used_g and j not in used_p:
            used_g.add(i)
            used_p.add(j)
    return exact, len(used_g)


def gold_spans(text: str, attributions: list[dict[str, Any]]) -> dict[str, list[Frags]]:
    """Normalised gold spans per role (fragments when the role is discontinuous)."""
    out: dict[str, list[Frags]] = {r: [] for r in ROLES}
    for at in attributions:
        for role in ROLES:
            v = at.get(role)
            if not v:
                continue
            frags = (at.get("fragments") or {}).get(role) or [v[:2]]
            n = _norm(text, frags)
            if n:
                out[role].append(n)
    return out


def predicted_spans(text: str, attributions: Sequence[Any]) -> dict[str, list[Frags]]:
    """Normalised predicted spans per role from :class:`AttributionSpans` objects."""
    out: dict[str, list[Frags]] = {r: [] for r in ROLES}
    for a in attributions:
        if a.source is not None:
            n = _norm(text, [(a.source.start, a.source.end)])
            if n:
                out["source"].append(n)
        if a.cue is not None:
            n = _norm(text, [(a.cue.start, a.cue.end)])
            if n:
                out["cue"].append(n)
        parts = a.content_fragments or (a.content,)
        n = _norm(text, [(p.start, p.end) for p in parts])
        if n:
            out["content"].append(n)
    return out


def _records(
    text: str, gold: list[dict[str, Any]], preds: Sequence[Any]
) -> tuple[list[dict[str, Frags]], list[dict[str, Frags]]]:
    """Per attribution, the normalised span of each role present (gold, predicted)."""
    g_out: list[dict[str, Frags]] = []
    for at in gold:
        rec: dict[str, Frags] = {}
        for role in ROLES:
            v = at.get(role)
            if v:
                n = _norm(text, (at.get("fragments") or {}).get(role) or [v[:2]])
                if n:
                    rec[role] = n
        g_out.append(rec)
    p_out: list[dict[str, Frags]] = []
    for a in preds:
        one = predicted_spans(text, [a])
        p_out.append({r: one[r][0] for r in ROLES if one[r]})
    return g_out, p_out


def _linked(
    g_recs: list[dict[str, Frags]], p_recs: list[dict[str, Frags]], toks: _Tokens, counts: dict[str, dict[str, int]]
) -> None:
    """Pair attributions one to one by cue overlap, then score source and content within pairs."""
    pairs: list[tuple[int, int, int]] = []
    g_cue = [toks.ids(g["cue"]) if "cue" in g else frozenset() for g in g_recs]
    p_cue = [toks.ids(p["cue"]) if "cue" in p else frozenset() for p in p_recs]
    for i, gc in enumerate(g_cue):
        for j, pc in enumerate(p_cue):
            n = len(gc & pc)
            if n:
                pairs.append((n, i, j))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    used_g: set[int] = set()
    used_p: set[int] = set()
    for _, i, j in pairs:
        if i in used_g or j in used_p:
            continue
        used_g.add(i)
        used_p.add(j)
        for role in ROLES:
            g, p = g_recs[i].get(role), p_recs[j].get(role)
            if g is None or p is None:
                continue
            c = counts[role]
            c["linked_exact"] += int(g == p)
            c["linked_overlap"] += int(bool(toks.ids(g) & toks.ids(p)))


def score_article(
    art: dict[str, Any], preds: Sequence[Any], counts: dict[str, dict[str, int]], nested: bool = False
) -> None:
    """Add one article's gold/predicted/matched span counts to ``counts`` (per role).

    Args:
        art: a PolNeAR record (``text`` and ``gold.attributions``).
        preds: the extractor's :class:`AttributionSpans` for ``art["text"]``.
        counts: per role, the running counts (keys as in :func:`new_counts`).
        nested: score ``preds`` as given instead of their univocal projection.
    """
    from storydesk.attribution.extractor import univocal

    if not nested:
        preds = univocal(preds)
    text = art["text"]
    gold = gold_spans(text, art["gold"]["attributions"])
    pred = predicted_spans(text, preds)
    toks = _Tokens(text)
    for role in ROLES:
        ex, ov = _match(gold[role], pred[role], toks)
        c = counts[role]
        c["gold"] += len(gold[role])
        c["pred"] += len(pred[role])
        c["exact"] += ex
        c["overlap"] += ov
        g_tok = frozenset().union(*(toks.ids(f) for f in gold[role])) if gold[role] else frozenset()
        p_tok = frozenset().union(*(toks.ids(f) for f in pred[role])) if pred[role] else frozenset()
        c["gold_tokens"] += len(g_tok)
        c["pred_tokens"] += len(p_tok)
        c["shared_tokens"] += len(g_tok & p_tok)
    _linked(*_records(text, art["gold"]["attributions"], preds), toks, counts)


def new_counts() -> dict[str, dict[str, int]]:
    """Zeroed per-role counters for :func:`score_article`."""
    keys = ("gold", "pred", "exact", "overlap", "linked_exact", "linked_overlap")
    return {r: dict.fromkeys((*keys, "gold_tokens", "pred_tokens", "shared_tokens"), 0) for r in ROLES}


def summarise(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """P/R/F1 (percent) per matching and role from summed counts.

    Returns:
        ``{"exact": {role: prf}, "overlap": {...}, "linked": {"exact": {...},
        "overlap": {...}}, "tokens": {...}}`` where ``prf = {p, r, f1}``.
    """
    out: dict[str, Any] = {
        kind: {r: _prf(counts[r][kind], counts[r]["pred"], counts[r]["gold"]) for r in ROLES}
        for kind in ("exact", "overlap")
    }
    out["linked"] = {
        kind: {r: _prf(counts[r][f"linked_{kind}"], counts[r]["pred"], counts[r]["gold"]) for r in ROLES}
        for kind in ("exact", "overlap")
    }
    out["tokens"] = {
        r: _prf(counts[r]["shared_tokens"], counts[r]["pred_tokens"], counts[r]["gold_tokens"]) for r in ROLES
    }
    return out


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, float]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": round(100 * p, 1), "r": round(100 * r, 1), "f1": round(100 * f, 1)}


def evaluate(
    split: str = "dev", dataset_dir: Path | str | None = None, limit: int | None = None, nested: bool = False
) -> dict[str, Any]:
    """Run the extractor over a PolNeAR split and score it.

    Args:
        split: ``"dev"`` or ``"train"``.
        dataset_dir: folder with ``<split>.jsonl``; default ``dataset_path("polnear")``.
        limit: score only the first ``limit`` articles.
        nested: score the extractor's raw output, nested attributions
            included, instead of its univocal projection.

    Returns:
        ``{"split", "articles", "sentences", "seconds", "articles_per_s",
        "sentences_per_s", "counts": {role: {...}}, "exact": {role: {p, r, f1}},
        "overlap": {...}, "linked": {"exact": {...}, "overlap": {...}},
        "tokens": {...}, "nested", "reference"}`` with P/R/F1 in percent.
    """
    from storydesk.attribution import extract_doc, load_nlp
    from storydesk.errors import EvalError
    from storydesk.eval import dataset_path

    ddir = Path(dataset_dir) if dataset_dir is not None else dataset_path("polnear")
    path = ddir / f"{split}.jsonl"
    if not path.is_file():
        raise EvalError(f"PolNeAR split not found: {path}")
    arts: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line in fh:
            if line.strip():
                arts.append(json.loads(line))
            if limit is not None and len(arts) >= limit:
                break
    nlp = load_nlp()
    counts = new_counts()
    n_sents = 0
    t0 = time.perf_counter()
    preds = []
    for doc in nlp.pipe((a["text"] for a in arts), batch_size=16):
        preds.append(extract_doc(doc))
        n_sents += sum(1 for _ in doc.sents)
    elapsed = time.perf_counter() - t0
    for art, doc_preds in zip(arts, preds, strict=True):
        score_article(art, doc_preds, counts, nested=nested)
    return {
        "split": split,
        "articles": len(arts),
        "sentences": n_sents,
        "seconds": round(elapsed, 2),
        "articles_per_s": round(len(arts) / elapsed, 2) if elapsed else 0.0,
        "sentences_per_s": round(n_sents / elapsed, 1) if elapsed else 0.0,
        "counts": counts,
        **summarise(counts),
        "nested": nested,
        "reference": REFERENCE,
    }


@click.command("quotes")
@click.option("--split", type=click.Choice(["dev", "train"]), default="dev", show_default=True)
@click.option(
    "--dataset-dir",
    type=click.Path(path_type=Path, file_okay=False),
    default=None,
    help="PolNeAR folder (default: the shared datasets' polnear).",
)
@click.option("--limit", type=int, default=None, help="Score only the first N articles.")
@click.option("--nested", is_flag=True, help="Score nested attributions too (PolNeAR annotates only the outermost).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(split: str, dataset_dir: Path | None, limit: int | None, nested: bool, as_json: bool) -> None:
    """Score quote/attribution extraction (source, cue, content) on PolNeAR."""
    res = evaluate(split=split, dataset_dir=dataset_dir, limit=limit, nested=nested)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(f"PolNeAR {res['split']}: {res['articles']} articles, {res['sentences']} sentences")
    click.echo(f"{'role':<8} {'exact P':>8} {'R':>6} {'F1':>6}   {'overlap P':>9} {'R':>6} {'F1':>6}   gold  pred")
    for role in ROLES:
        e, o, c = res["exact"][role], res["overlap"][role], res["counts"][role]
        click.echo(
            f"{role:<8} {e['p']:>8.1f} {e['r']:>6.1f} {e['f1']:>6.1f}   "
            f"{o['p']:>9.1f} {o['r']:>6.1f} {o['f1']:>6.1f}   {c['gold']:>5} {c['pred']:>5}"
        )
    click.echo(
        "stricter views (F1): linked = source/content of the gold attribution whose cue matched; tokens = word tokens"
    )
    for role in ROLES:
        le, lo, tk = res["linked"]["exact"][role], res["linked"]["overlap"][role], res["tokens"][role]
        click.echo(f"{role:<8} linked exact {le['f1']:>5.1f}  linked overlap {lo['f1']:>5.1f}  tokens {tk['f1']:>5.1f}")
    click.echo(
        f"speed: {res['articles_per_s']} articles/s, {res['sentences_per_s']} sentences/s "
        f"({res['seconds']} s incl. parsing)"
    )
    click.echo(f"reference — {REFERENCE}")
