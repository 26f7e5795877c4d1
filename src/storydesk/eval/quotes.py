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


# ------------------------------------------------------- speaker-level measure

#: Share of a content's characters inside quotation marks above which it is a direct quotation.
DIRECT_SHARE = 0.5
#: Share of a gold quotation's word tokens one predicted content must hold for the quotation to count as found.
FOUND_SHARE = 0.5


def _direct_share(frags: Frags, quotes: Sequence[tuple[int, int]]) -> float:
    total = sum(e - s for s, e in frags)
    if not total:
        return 0.0
    inside = sum(max(0, min(e, qe) - max(s, qs)) for s, e in frags for qs, qe in quotes)
    return inside / total


def _gold_spans(text: str, at: dict[str, Any]) -> Any:
    """A gold PolNeAR record as an :class:`AttributionSpans` (for the speaker resolver)."""
    from storydesk.attribution.spans import AttributionSpans, Span

    def mk(v: list[Any] | None) -> Span | None:
        return None if not v else Span(int(v[0]), int(v[1]), text[int(v[0]) : int(v[1])])

    content = mk(at["content"])
    assert content is not None
    frags = (at.get("fragments") or {}).get("content") or []
    return AttributionSpans(
        source=mk(at.get("source")),
        cue=mk(at.get("cue")),
        content=content,
        direct=False,
        content_fragments=tuple(Span(int(s), int(e), text[int(s) : int(e)]) for s, e in frags),
    )


class _ArticleResolver:
    """Speaker names for any system's spans of one article, resolved from that article alone.

    Builds what the pipeline builds per article (NER mentions, an
    :class:`~storydesk.article.entities.EntityIndex` and a
    :class:`~storydesk.article.provenance.MediaResolver` of this article only) and runs
    :func:`storydesk.attribution.resolve.resolve_article` on the spans.
    """

    def __init__(self, art_id: str, doc: Any) -> None:
        from storydesk.article import entities
        from storydesk.article import provenance as prov
        from storydesk.models import Article, Sentence

        self.article = Article(id=art_id, source=art_id, text=doc.text)
        self.sentences = [
            Sentence(article_id=art_id, index=i, text=s.text, start=s.start_char, end=s.end_char)
            for i, s in enumerate(doc.sents)
        ]
        self.record = entities.extract(self.article, self.sentences, doc, None)
        self.index = entities.EntityIndex({art_id: self.record})
        self.media = prov.MediaResolver([self.article], {art_id: self.record}, self.index)

    def attributions(self, spans: Sequence[Any]) -> list[Any]:
        """The :class:`~storydesk.models.Attribution` records of ``spans`` (one per span, same order)."""
        from storydesk.attribution.resolve import resolve_article

        return resolve_article(self.article, self.sentences, spans, self.record.mentions, self.index, self.media)

    def speakers(self, spans: Sequence[Any]) -> list[str | None]:
        """The resolved speaker of each span."""
        return [a.speaker for a in self.attributions(spans)]

    def is_person(self, name: str | None, source: Frags | None) -> bool:
        """Whether a gold source is a person: its resolved name, or a PERSON mention inside the span."""
        if name:
            ent = self.index.lookup(name, "PERSON")
            if ent is not None and ent.type == "PERSON":
                return True
        if source:
            s, e = source[0][0], source[-1][1]
            return any(m.type == "PERSON" and m.start < e and s < m.end for m in self.record.mentions)
        return False


def new_speaker_counts() -> dict[str, int]:
    """Zeroed counters of :func:`score_speakers` for one system."""
    keys = ("direct", "direct_found", "direct_right", "person", "person_found", "person_right")
    return dict.fromkeys(keys, 0)


def score_speakers(
    art: dict[str, Any], doc: Any, systems: dict[str, Sequence[Any] | None], counts: dict[str, dict[str, int]]
) -> None:
    """Speaker-level counts of one article for each system's raw (nested) output.

    Gold set: attributions with a source whose content is a direct quotation
    (at least half of its characters inside quotation marks), and among them
    those whose source is a person (the resolved name is a PERSON entity, or
    a PERSON mention lies in the source span). A quotation is *found* when one
    predicted content holds at least half of its word tokens; the speaker is
    *right* when that attribution's source shares a word with the gold source
    or both resolve to the same name (resolver of :func:`_ArticleResolver`).
    """
    from storydesk.attribution.quotes import find_quotes

    text = art["text"]
    toks = _Tokens(text)
    quotes = find_quotes(text)
    gold_all = [at for at in art["gold"]["attributions"] if at.get("content")]
    golds: list[tuple[int, Frags, Frags]] = []
    for i, at in enumerate(gold_all):
        g = _records(text, [at], [])[0][0]
        if "content" in g and "source" in g and _direct_share(g["content"], quotes) >= DIRECT_SHARE:
            golds.append((i, g["content"], g["source"]))
    if not golds:
        return
    resolver = _ArticleResolver(art.get("id", "article"), doc)
    gold_names = resolver.speakers([_gold_spans(text, at) for at in gold_all])
    for name, preds in systems.items():
        if preds is None:
            continue
        c = counts.setdefault(name, new_speaker_counts())
        names = resolver.speakers(preds)
        p_recs = _records(text, [], preds)[1]
        p_content = [toks.ids(p["content"]) if "content" in p else frozenset() for p in p_recs]
        for gi, g_content, g_source in golds:
            person = resolver.is_person(gold_names[gi], g_source)
            gids = toks.ids(g_content)
            best, best_n = -1, 0
            for j, pid in enumerate(p_content):
                n = len(gids & pid)
                # Most shared words; on a tie the narrower content (the innermost attribution).
                if n > best_n or (n == best_n and n and len(pid) < len(p_content[best])):
                    best, best_n = j, n
            found = bool(gids) and best_n >= FOUND_SHARE * len(gids)
            right = False
            if found:
                src = p_recs[best].get("source")
                right = bool(src and toks.ids(src) & toks.ids(g_source)) or (
                    names[best] is not None and names[best] == gold_names[gi]
                )
            for kind, member in (("direct", True), ("person", person)):
                if member:
                    c[kind] += 1
                    c[f"{kind}_found"] += int(found)
                    c[f"{kind}_right"] += int(right)


def summarise_speakers(counts: dict[str, dict[str, int]]) -> dict[str, Any]:
    """Per system and gold set: n, found % of n, right speaker % of found (and of n)."""
    out: dict[str, Any] = {}
    for name, c in counts.items():
        out[name] = {}
        for kind in ("direct", "person"):
            n, f, r = c[kind], c[f"{kind}_found"], c[f"{kind}_right"]
            out[name][kind] = {
                "n": n,
                "found": round(100 * f / n, 1) if n else 0.0,
                "right_of_found": round(100 * r / f, 1) if f else 0.0,
                "right_of_all": round(100 * r / n, 1) if n else 0.0,
            }
    return out


# ------------------------------------------------------------- textacy peer

TEXTACY_VERSION = "0.13.0"


def textacy_quotations() -> tuple[Any | None, str | None]:
    """textacy's ``direct_quotations`` and None, or None and why it cannot be used."""
    try:
        import textacy
        from textacy.extract.triples import direct_quotations
    except Exception as exc:  # any import failure means "no peer"
        return None, (
            f"textacy is not installed ({type(exc).__name__}: {exc}); install the peer with "
            f"`pip install --no-deps textacy=={TEXTACY_VERSION}` and its runtime needs (see the Makefile)"
        )
    version = getattr(textacy, "__version__", "?")
    if version != TEXTACY_VERSION:
        return direct_quotations, f"textacy {version} found, {TEXTACY_VERSION} expected"
    return direct_quotations, None


def textacy_spans(doc: Any, direct_quotations: Any, stats: dict[str, int] | None = None) -> list[Any]:
    """textacy's direct quotations of ``doc`` as :class:`AttributionSpans` (same parse as ours).

    textacy gives up on a whole document whose count of quotation-mark tokens
    is odd; it is then run on each paragraph (as its own ``Doc`` with the same
    annotations), and the paragraphs it still refuses give nothing.
    """
    from storydesk.attribution.spans import AttributionSpans, Span

    text = doc.text

    def run(d: Any, offset: int) -> list[Any]:
        out: list[Any] = []
        for trip in direct_quotations(d):
            spk, cue, content = trip.speaker, trip.cue, trip.content
            s0 = offset + min(t.idx for t in spk)
            s1 = offset + max(t.idx + len(t.text) for t in spk)
            c0 = offset + min(t.idx for t in cue)
            c1 = offset + max(t.idx + len(t.text) for t in cue)
            q0, q1 = offset + content.start_char, offset + content.end_char
            out.append(
                AttributionSpans(
                    source=Span(s0, s1, text[s0:s1]),
                    cue=Span(c0, c1, text[c0:c1]),
                    content=Span(q0, q1, text[q0:q1]),
                    direct=True,
                )
            )
        return out

    try:
        return run(doc, 0)
    except ValueError:
        if stats is not None:
            stats["documents_split"] = stats.get("documents_split", 0) + 1
    res: list[Any] = []
    for m in re.finditer(r"[^\n]+", text):
        span = doc.char_span(m.start(), m.end(), alignment_mode="expand")
        if span is None or not len(span):
            continue
        try:
            res.extend(run(span.as_doc(), span.start_char))
        except ValueError:
            if stats is not None:
                stats["paragraphs_refused"] = stats.get("paragraphs_refused", 0) + 1
    return res


def _load_articles(path: Path, limit: int | None) -> list[dict[str, Any]]:
    arts: list[dict[str, Any]] = []
    with open(path, encoding="utf-8", newline="") as fh:
        for line in fh:
            if line.strip():
                arts.append(json.loads(line))
            if limit is not None and len(arts) >= limit:
                break
    return arts


def _full_nlp() -> Any:
    """The extractor's spaCy model with its NER (for the speaker measure; the parse is the same)."""
    from storydesk.attribution import SPACY_MODEL
    from storydesk.nlp import load_nlp

    return load_nlp(SPACY_MODEL)


def evaluate(
    split: str = "dev",
    dataset_dir: Path | str | None = None,
    limit: int | None = None,
    nested: bool = False,
    peer: bool = True,
) -> dict[str, Any]:
    """Run the extractor (and textacy, the peer) over a PolNeAR split and score both.

    Args:
        split: ``"dev"`` or ``"train"``.
        dataset_dir: folder with ``<split>.jsonl``; default ``dataset_path("polnear")``.
        limit: score only the first ``limit`` articles.
        nested: score the extractor's raw output, nested attributions
            included, instead of its univocal projection.
        peer: also run textacy's ``direct_quotations`` on the same parse.

    Returns:
        ``{"split", "articles", "sentences", "seconds", "articles_per_s",
        "sentences_per_s", "counts": {role: {...}}, "exact": {role: {p, r, f1}},
        "overlap": {...}, "linked": {"exact": {...}, "overlap": {...}},
        "tokens": {...}, "speakers": {system: {"direct"|"person": {n, found,
        right_of_found, right_of_all}}}, "peer": {"name", "status",
        "overlap", "stats"}, "nested", "reference"}`` with P/R/F1 in percent.
        ``peer["status"]`` says why textacy did not run (None when it did).
    """
    from storydesk.attribution import extract_doc
    from storydesk.errors import EvalError
    from storydesk.eval import dataset_path
    from storydesk.nlp import parse_many

    ddir = Path(dataset_dir) if dataset_dir is not None else dataset_path("polnear")
    path = ddir / f"{split}.jsonl"
    if not path.is_file():
        raise EvalError(f"PolNeAR split not found: {path}")
    arts = _load_articles(path, limit)
    nlp = _full_nlp()
    counts = new_counts()
    n_sents = 0
    t0 = time.perf_counter()
    preds = []
    docs = []
    with nlp.select_pipes(disable=["ner"]):
        # Timed as the pipeline runs the extractor: parse + extraction, no NER.
        for doc in parse_many(nlp, [a["text"] for a in arts]):  # as the article map parses
            preds.append(extract_doc(doc))
            docs.append(doc)
            n_sents += sum(1 for _ in doc.sents)
    elapsed = time.perf_counter() - t0
    docs = list(nlp.get_pipe("ner").pipe(docs))
    direct_quotations, status = textacy_quotations() if peer else (None, "not run (--no-peer)")
    peer_counts = new_counts()
    peer_stats: dict[str, int] = {}
    spk_counts: dict[str, dict[str, int]] = {"storydesk": new_speaker_counts()}
    if direct_quotations is not None:
        spk_counts["textacy"] = new_speaker_counts()
    for art, doc, doc_preds in zip(arts, docs, preds, strict=True):
        score_article(art, doc_preds, counts, nested=nested)
        systems: dict[str, Sequence[Any] | None] = {"storydesk": doc_preds}
        if direct_quotations is not None:
            peer_preds = textacy_spans(doc, direct_quotations, peer_stats)
            score_article(art, peer_preds, peer_counts, nested=True)
            systems["textacy"] = peer_preds
        score_speakers(art, doc, systems, spk_counts)
    peer_res: dict[str, Any] = {"name": f"textacy {TEXTACY_VERSION} direct_quotations", "status": status}
    if direct_quotations is not None:
        peer_res["overlap"] = summarise(peer_counts)["overlap"]
        peer_res["counts"] = peer_counts
        peer_res["stats"] = peer_stats
    return {
        "split": split,
        "articles": len(arts),
        "sentences": n_sents,
        "seconds": round(elapsed, 2),
        "articles_per_s": round(len(arts) / elapsed, 2) if elapsed else 0.0,
        "sentences_per_s": round(n_sents / elapsed, 1) if elapsed else 0.0,
        "counts": counts,
        **summarise(counts),
        "speakers": summarise_speakers(spk_counts),
        "peer": peer_res,
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
@click.option("--no-peer", is_flag=True, help="Do not run textacy (the peer) beside storydesk.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(
    split: str, dataset_dir: Path | None, limit: int | None, nested: bool, no_peer: bool, as_json: bool
) -> None:
    """Score quote/attribution extraction (source, cue, content) on PolNeAR, textacy beside it."""
    res = evaluate(split=split, dataset_dir=dataset_dir, limit=limit, nested=nested, peer=not no_peer)
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
    peer = res["peer"]
    if peer["status"]:
        click.echo(f"peer {peer['name']}: {peer['status']}")
    if "overlap" in peer:
        st = peer.get("stats") or {}
        click.echo(
            f"peer {peer['name']} on the same parse (overlap F1; it extracts direct quotations only; "
            f"{st.get('documents_split', 0)} documents run per paragraph, "
            f"{st.get('paragraphs_refused', 0)} paragraphs refused):"
        )
        for role in ROLES:
            o, c = peer["overlap"][role], peer["counts"][role]
            click.echo(
                f"{role:<8} overlap P {o['p']:>5.1f}  R {o['r']:>5.1f}  F1 {o['f1']:>5.1f}   pred {c['pred']:>5}"
            )
    click.echo(
        "speaker level: gold direct quotations with a source (and those whose source is a person); "
        "found = one predicted content holds >= half its words; right = source overlaps the gold source "
        "or resolves to the same name"
    )
    click.echo(f"{'system':<10} {'set':<7} {'n':>5} {'found %':>8} {'right % of found':>17} {'right % of all':>15}")
    for name, per in res["speakers"].items():
        for kind in ("direct", "person"):
            v = per[kind]
            click.echo(
                f"{name:<10} {kind:<7} {v['n']:>5} {v['found']:>8.1f} {v['right_of_found']:>17.1f} "
                f"{v['right_of_all']:>15.1f}"
            )
    click.echo(
        f"speed: {res['articles_per_s']} articles/s, {res['sentences_per_s']} sentences/s "
        f"({res['seconds']} s incl. parsing)"
    )
    click.echo(f"reference — {REFERENCE}")
