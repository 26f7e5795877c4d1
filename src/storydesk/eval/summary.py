"""``storydesk eval summary``: cited event summaries on NeuS (AllSides roundups).

Each NeuS event is three outlets' title + lead snippets about one story; its
reference is the AllSides editors' neutral roundup (title and summary). For every
event of the split, the event's articles go through storydesk's own pipeline in a
temporary database: ingest and cleaning, dedup, entities, attributions,
provenance, the compare stage (claims) and the summarize stage (headline and cited
summary). Only event grouping is taken from the data set (the gold event), so the
figure measures summarisation, not clustering.

Scores, as in the data set's README (which is how the released systems' figures
were computed):

* **ROUGE-1/2/Lsum F1** with Google's ``rouge-score`` 0.1.2, Porter stemming,
  ``score(reference, hypothesis)``, averaged over events, ×100. The reference is
  ``"<title>. <summary>"`` on one line; storydesk's hypothesis is its headline
  followed by its summary sentences, on one line (so Lsum equals ROUGE-L, as for
  the released systems).
* Every released system in ``system_outputs/`` is scored the same way in the same
  run, and printed beside storydesk.
* **Citation coverage**: the share of summary sentences with at least one citation.
* **Citation support rate**: the share of citations whose cited sentence (read
  back from the store by its index) supports the summary sentence, by
  :func:`storydesk.event.summarize.supports` (content words, names and numbers; see
  docs/summaries.md). **Sentence grounding**: the share of summary sentences whose
  content words all occur in their cited sentences.
"""

from __future__ import annotations

import json
import os
import statistics
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np

from storydesk.errors import EvalError
from storydesk.eval import dataset_path

#: The best released system and LexRank on the same 307 test events (data set README).
ANCHORS = {
    "llama_event_relation_graph": {"rouge1": 45.14, "rouge2": 22.30, "rougeLsum": 34.02},
    "lexrank": {"rouge1": 42.24, "rouge2": 18.16, "rougeLsum": 26.61},
}
METRICS = ("rouge1", "rouge2", "rougeLsum")
SPLITS = ("train", "val", "test")


def load(dataset_dir: Path, split: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, dict[str, Any]]]:
    """Articles by gold event and references of one NeuS split."""
    if split not in SPLITS:
        raise EvalError(f"unknown split {split!r}; NeuS splits are {', '.join(SPLITS)}")
    art_path, ref_path = dataset_dir / "articles.jsonl", dataset_dir / "references.jsonl"
    if not art_path.is_file() or not ref_path.is_file():
        raise EvalError(f"articles.jsonl or references.jsonl missing under {dataset_dir}")
    by_event: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with art_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                a = json.loads(line)
                if a["gold"]["split"] == split:
                    by_event[a["gold"]["event"]].append(a)
    refs: dict[str, dict[str, Any]] = {}
    with ref_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                r = json.loads(line)
                if r["split"] == split:
                    refs[r["event"]] = r
    return dict(by_event), refs


def event_order(events: Sequence[str]) -> list[str]:
    """NeuS event ids in line order (``test/2`` before ``test/10``)."""
    return sorted(events, key=lambda e: (e.split("/")[0], int(e.split("/")[1])))


def reference_text(ref: dict[str, Any]) -> str:
    """The reference as the released systems were scored against: title, then summary."""
    return f"{ref['title']}. {ref['summary']}"


def load_systems(dataset_dir: Path) -> dict[str, dict[str, str]]:
    """Released system outputs: system -> event -> summary."""
    out: dict[str, dict[str, str]] = {}
    folder = dataset_dir / "system_outputs"
    for path in sorted(folder.glob("*.jsonl")):
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        out[path.stem] = {r["event"]: r["summary"] for r in rows}
    return out


def rouge_scorer() -> Any:
    """Google's ROUGE scorer with Porter stemming (ROUGE-1, ROUGE-2, ROUGE-Lsum)."""
    try:
        from rouge_score import rouge_scorer as rs
    except ImportError as e:
        raise EvalError("the summary eval needs rouge-score: pip install 'storydesk[eval]'") from e
    return rs.RougeScorer(list(METRICS), use_stemmer=True)


def mean_rouge(scorer: Any, pairs: Sequence[tuple[str, str]]) -> dict[str, float]:
    """Mean ROUGE F1 ×100 over ``(reference, hypothesis)`` pairs."""
    sums = dict.fromkeys(METRICS, 0.0)
    for ref, hyp in pairs:
        s = scorer.score(ref, hyp)
        for m in METRICS:
            sums[m] += s[m].fmeasure
    n = max(len(pairs), 1)
    return {m: round(100 * v / n, 2) for m, v in sums.items()}


def pipeline_stages() -> list[Any]:
    """The product's article stages that summaries depend on, and dedup (gold events replace clustering)."""
    from storydesk.article.analyze import AttributionsStage, EntitiesStage, ParseStage, SignatureStage
    from storydesk.pipeline import DEDUP

    return [ParseStage(), EntitiesStage(), AttributionsStage(), SignatureStage(), DEDUP]


def _gold_inputs(sd: Any, groups: dict[str, list[str]]) -> list[Any]:
    """The event map's inputs of the gold events."""
    from storydesk.models import Event

    events = [Event(id=eid, articles=tuple(sorted(ids))) for eid, ids in groups.items() if ids]
    return list(sd.runner.event_inputs(events))


def build(
    by_event: dict[str, list[dict[str, Any]]],
    db: Path,
    embedder: str | None = None,
    only: Sequence[str] | None = None,
    force: bool = False,
) -> dict[str, Any]:
    """Ingest the events' articles into ``db`` and run the summary pipeline.

    Args:
        by_event: NeuS articles by gold event.
        db: SQLite file (created; reused when it already holds the articles).
        embedder: Embedder name (default: the configured one).
        only: Re-run only these article stages (e.g. ``["attributions"]``).
        force: Recompute the stages run.

    Returns:
        ``{"events": {event: {"headline", "sentences": [{text, citations, cited_texts}]}}, "stages": stats}``.
    """
    from storydesk.api import Storydesk
    from storydesk.config import Config
    from storydesk.event.analyze import CompareStage, SummarizeStage, analyze_event
    from storydesk.ingest import ingest as ingest_files
    from storydesk.store import open_store

    cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
    with tempfile.TemporaryDirectory(prefix="storydesk-neus-") as tmp:
        src = Path(tmp) / "articles.jsonl"
        with src.open("w", encoding="utf-8") as fh:
            for arts in by_event.values():
                for a in arts:
                    # Only the article fields: the gold grouping must not reach the pipeline.
                    rec = {k: a.get(k) for k in ("id", "outlet", "title", "published", "url", "text")}
                    fh.write(json.dumps(rec, ensure_ascii=False) + "\n")
        store = open_store(db)
        try:
            ingest_files(store, [src])
            by_source = {a.source: a.id for a in store.articles()}
            groups = {eid: [by_source[a["id"]] for a in arts if a["id"] in by_source] for eid, arts in by_event.items()}
            sd = Storydesk(store, config=cfg, stages=pipeline_stages())
            stats = sd.build(stages=only, force=force)
            out: dict[str, Any] = {}
            summaries = {}
            for inp in _gold_inputs(sd, groups):
                res = analyze_event(inp, sd.models, [CompareStage(), SummarizeStage()])
                summaries[inp.event.id] = res["summary"]
            for eid in by_event:
                headline, summary = summaries.get(eid, ("", ()))
                sents = {}
                for aid in groups[eid]:
                    for sent in store.sentences(aid):
                        sents[(aid, sent.index)] = sent.text
                out[eid] = {
                    "headline": headline,
                    "sentences": [
                        {
                            "text": s.text,
                            "citations": [(c.article, c.sentence) for c in s.citations],
                            "cited_texts": [sents.get((c.article, c.sentence)) for c in s.citations],
                        }
                        for s in summary
                    ],
                }
        finally:
            store.close()
    return {"events": out, "stages": stats}


def fit(
    split: str = "train",
    limit: int | None = 600,
    dataset_dir: Path | None = None,
    embedder: str | None = None,
    db: str | None = None,
    c: float = 1.0,
) -> dict[str, Any]:
    """Fit the summarizer's word model (:data:`storydesk.event.summarize.WORD_WEIGHTS`) on a NeuS split.

    Each (word, k) of an event's articles is one example: its features from
    :func:`storydesk.event.summarize.word_features` (computed on the pipeline's own
    cleaned sentences and vectors) and whether the reference uses the word at least
    k times. Logistic regression (scikit-learn, L2, ``C=c``).

    Args:
        split: The split to fit on; never ``test``.
        limit: The first ``limit`` events of the split (line order).
        dataset_dir: The ``neus`` folder.
        embedder: Embedder name (default: the configured one).
        db: Keep (or reuse) the pipeline database at this path.
        c: Inverse regularisation strength.

    Returns:
        ``weights`` (in :data:`storydesk.event.summarize.WORD_FEATURES` order), ``bias``,
        the number of examples and the training log loss.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import log_loss

    from storydesk.api import Storydesk
    from storydesk.config import Config
    from storydesk.event.analyze import event_text
    from storydesk.event.summarize import WORD_FEATURES, tokens, word_features, word_rows

    if split == "test":
        raise EvalError("the word model is never fitted on the test split")
    if dataset_dir is None:
        dataset_dir = dataset_path("neus")
    by_event, refs = load(dataset_dir, split)
    order = [e for e in event_order(list(refs)) if e in by_event][:limit]
    selected = {e: by_event[e] for e in order}
    xs: list[np.ndarray] = []
    ys: list[float] = []
    with tempfile.TemporaryDirectory(prefix="storydesk-neus-fit-") as tmp:
        path = Path(db) if db else Path(tmp) / "neus.db"
        build(selected, path, embedder=embedder)
        cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
        sd = Storydesk(path, config=cfg, stages=pipeline_stages())
        try:
            by_source = {a.source: a.id for a in sd.store.articles()}
            groups = {e: [by_source[a["id"]] for a in arts if a["id"] in by_source] for e, arts in selected.items()}
            for inp in _gold_inputs(sd, groups):
                feats = word_features(event_text(inp, sd.models))
                if not feats:
                    continue
                ws, x = word_rows(feats)
                ref = Counter(tokens(reference_text(refs[inp.event.id])))
                xs.append(x)
                ys.extend(float(ref[w] >= k) for w in ws for k in (1, 2, 3))
        finally:
            sd.close()
    x_all, y_all = np.vstack(xs), np.array(ys)
    model = LogisticRegression(C=c, max_iter=5000).fit(x_all, y_all)
    return {
        "split": split,
        "events": len(order),
        "examples": len(y_all),
        "features": list(WORD_FEATURES),
        "weights": [round(float(w), 4) for w in model.coef_[0]],
        "bias": round(float(model.intercept_[0]), 4),
        "log_loss": round(float(log_loss(y_all, model.predict_proba(x_all)[:, 1])), 4),
    }


def hypothesis(event: dict[str, Any]) -> str:
    """storydesk's output as one line: the headline, then the summary sentences."""
    parts = [event["headline"].strip()] if event["headline"].strip() else []
    for s in event["sentences"]:
        parts.append(s["text"].strip())
    text = ""
    for p in parts:
        if text and text[-1] not in ".!?\"'”’":
            text += "."
        text = f"{text} {p}" if text else p
    return text


def citation_figures(events: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """Citation coverage, support rate and grounding over all summaries."""
    from storydesk.event.summarize import grounded, supports

    n_sent = n_cited = n_cit = n_sup = n_grounded = 0
    too_short = in_range = 0
    for ev in events.values():
        sents = ev["sentences"]
        in_range += int(3 <= len(sents) <= 6)
        too_short += int(len(sents) < 3)
        for s in sents:
            n_sent += 1
            cited = [t for t in s["cited_texts"] if t is not None]
            n_cited += int(bool(s["citations"]))
            n_cit += len(s["citations"])
            # A citation whose index points at no stored sentence supports nothing.
            n_sup += sum(1 for t in s["cited_texts"] if t is not None and supports(s["text"], t))
            n_grounded += int(bool(cited) and grounded(s["text"], cited))
    return {
        "sentences": n_sent,
        "citations": n_cit,
        "coverage": round(100 * n_cited / n_sent, 2) if n_sent else 0.0,
        "support_rate": round(100 * n_sup / n_cit, 2) if n_cit else 0.0,
        "grounded": round(100 * n_grounded / n_sent, 2) if n_sent else 0.0,
        "events_3_to_6_sentences": in_range,
        "events_under_3_sentences": too_short,
    }


def evaluate(
    split: str = "test",
    limit: int | None = None,
    dataset_dir: Path | None = None,
    embedder: str | None = None,
    db: str | None = None,
) -> dict[str, Any]:
    """Summarise every event of a NeuS split with storydesk and score it beside the released systems.

    Args:
        split: ``train``, ``val`` or ``test``; released system outputs exist for ``test`` only.
        limit: Only the first ``limit`` events (in line order), for a quick run; the
            released systems are then scored on the same events.
        dataset_dir: The ``neus`` folder; default ``<datasets>/neus``.
        embedder: Embedder name (default: the configured one).
        db: Keep the pipeline's database at this path (default: a temporary file).

    Returns:
        ``storydesk`` ROUGE F1 ×100 (``rouge1``, ``rouge2``, ``rougeLsum``), ``systems``
        (the released systems scored the same way), ``citations`` (coverage, support
        rate, grounding), summary lengths, timing and the anchors.

    Raises:
        EvalError: When the data set is missing or the split unknown.
    """
    if dataset_dir is None:
        dataset_dir = dataset_path("neus")
    by_event, refs = load(dataset_dir, split)
    order = [e for e in event_order(list(refs)) if e in by_event]
    if limit is not None:
        order = order[:limit]
    if not order:
        raise EvalError(f"no NeuS events in split {split!r}")
    selected = {e: by_event[e] for e in order}
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="storydesk-neus-db-") as tmp:
        built = build(selected, Path(db) if db else Path(tmp) / "neus.db", embedder=embedder)
    seconds = time.perf_counter() - t0
    events = built["events"]
    scorer = rouge_scorer()
    ours = mean_rouge(scorer, [(reference_text(refs[e]), hypothesis(events[e])) for e in order])
    systems: dict[str, dict[str, float]] = {}
    system_words: dict[str, float] = {}
    if split == "test":
        for name, outs in load_systems(dataset_dir).items():
            have = [e for e in order if e in outs]
            if len(have) != len(order):
                raise EvalError(f"system {name!r} lacks outputs for {len(order) - len(have)} events")
            systems[name] = mean_rouge(scorer, [(reference_text(refs[e]), outs[e]) for e in order])
            system_words[name] = round(statistics.mean(len(outs[e].split()) for e in order), 1)
    lengths = [len(hypothesis(events[e]).split()) for e in order]
    return {
        "dataset": f"neus {split} ({len(order)} events)",
        "split": split,
        "events": len(order),
        "articles": sum(len(selected[e]) for e in order),
        "storydesk": ours,
        "rouge1": ours["rouge1"],
        "rouge2": ours["rouge2"],
        "rougeLsum": ours["rougeLsum"],
        "systems": dict(sorted(systems.items(), key=lambda kv: -kv[1]["rouge1"])),
        "words": {
            "storydesk": round(statistics.mean(lengths), 1),
            "reference": round(statistics.mean(len(reference_text(refs[e]).split()) for e in order), 1),
            "systems": system_words,
        },
        "sentences_per_summary": round(statistics.mean(len(events[e]["sentences"]) for e in order), 2),
        "citations": citation_figures(events),
        "seconds": round(seconds, 1),
        "cpus": os.cpu_count(),
        "stages": built["stages"],
        "anchors": ANCHORS,
    }


@click.command("summary")
@click.option("--split", type=click.Choice(SPLITS), default="test", show_default=True, help="NeuS split.")
@click.option("--limit", type=int, default=None, help="Only the first N events (quick run).")
@click.option(
    "--dataset-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="NeuS folder (default: <datasets>/neus).",
)
@click.option("--embedder", default=None, help="Embedder (default: the configured one).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@click.option(
    "--fit",
    "do_fit",
    is_flag=True,
    help="Fit the summarizer's word model on --split (train; --limit events, default 600) and print the weights.",
)
def command(
    split: str, limit: int | None, dataset_dir: Path | None, embedder: str | None, as_json: bool, do_fit: bool
) -> None:
    """Cited summaries on NeuS: ROUGE-1/2/Lsum F1 beside the released systems, citation support."""
    try:
        if do_fit:
            click.echo(json.dumps(fit(split, limit or 600, dataset_dir, embedder), indent=2))
            return
        res = evaluate(split, limit, dataset_dir, embedder)
    except EvalError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(
        f"NeuS {split}: {res['events']} events, {res['articles']} articles, {res['seconds']:.0f} s "
        f"({res['cpus']} CPUs); rouge-score 0.1.2, stemming, F1 x100"
    )
    click.echo(f"  {'system':<28} {'R1':>6} {'R2':>6} {'RLsum':>6} {'words':>6}")
    rows = [("storydesk", res["storydesk"], res["words"]["storydesk"])]
    rows += [(name, sc, res["words"]["systems"].get(name, 0.0)) for name, sc in res["systems"].items()]
    for name, sc, w in sorted(rows, key=lambda r: -r[1]["rouge1"]):
        click.echo(f"  {name:<28} {sc['rouge1']:>6.2f} {sc['rouge2']:>6.2f} {sc['rougeLsum']:>6.2f} {w:>6.1f}")
    click.echo(f"  {'reference':<28} {'':>6} {'':>6} {'':>6} {res['words']['reference']:>6.1f}")
    c = res["citations"]
    click.echo(
        f"  citations: {c['coverage']:.1f}% of {c['sentences']} summary sentences cited, "
        f"{c['support_rate']:.1f}% of {c['citations']} citations support their sentence, "
        f"{c['grounded']:.1f}% of sentences grounded in their citations"
    )
    click.echo(
        f"  sentences per summary {res['sentences_per_summary']:.2f}; "
        f"{c['events_3_to_6_sentences']} events with 3-6, {c['events_under_3_sentences']} with fewer "
        "(under 7 candidate sentences; docs/summaries.md)"
    )
