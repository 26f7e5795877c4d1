"""``storydesk eval timeline``: timeline summarisation on Timeline17 (T17).

For each gold timeline whose topic has articles, storydesk tags the topic's
articles (:func:`storydesk.dates.tag_article`), turns them into dated facts,
merges the same fact across articles (:func:`storydesk.dates.merge_facts`) and
keeps a timeline of the gold's length (:func:`storydesk.dates.summarize_timeline`):
as many dates as the gold timeline, and the gold's mean number of sentences per
date (rounded), as in news-tls. Articles and dates are limited to the gold
timeline's first to last date, also as in news-tls.

Scores (Martschat & Markert 2017, as computed by tilse and reported by news-tls):

* **Date F1**: the predicted dates against the gold dates.
* **AR1 / AR2**: alignment-based ROUGE-1 / ROUGE-2 with a many-to-one alignment
  on date and content costs (tilse's ``align_date_content_costs_many_to_one``,
  the metric news-tls reports as AR). Each predicted date is aligned to the gold
  date of lowest cost ``(1 - 1/(|Δdays| + 1)) × (1 - ROUGE-1 approximation)``,
  and its n-gram matches count with weight ``1/(|Δdays| + 1)``; recall aligns
  each gold date the same way.
* ``concat`` and ``agreement`` ROUGE are reported too.

Each metric is computed per timeline and averaged over timelines (macro), as
news-tls does. ROUGE is reimplemented here: lower-cased alphanumeric tokens,
stop words removed (scikit-learn's English list standing in for ROUGE-1.5.5's
SMART list), Porter stemming (NLTK's, installed with ``rouge-score``), n-grams
within sentences. Figures are therefore close to, not identical with, tilse's.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

import click
import numpy as np

from storydesk.errors import EvalError
from storydesk.eval import dataset_path

#: Ghalandari & Ifrim (ACL 2020), Table 4, T17: DATEWISE.
ANCHOR = {"name": "DATEWISE (Ghalandari & Ifrim 2020)", "date_f1": 0.544, "ar1_f": 0.120, "ar2_f": 0.035}
#: A fixed subset for the CI floors: small and mid-sized topics from four T17 topics and three outlets.
GATE_TIMELINES = (
    "timeline17/H1N1_guardian/swine_flu_guardian",
    "timeline17/bpoil_reuters/rbpoil",
    "timeline17/SyrianCrisis_bbc/tl1",
    "timeline17/MJ_bbc/bbc.co.uk",
)

Timeline = dict[dt.date, list[str]]


# --------------------------------------------------------------------------- ROUGE


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    try:
        from nltk.stem.porter import PorterStemmer
    except ImportError as e:  # pragma: no cover - nltk comes with the eval extra
        raise EvalError("the timeline eval needs NLTK's Porter stemmer: pip install 'storydesk[eval]'") from e
    return PorterStemmer()


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    return str(_stemmer().stem(word))


def tokens(text: str) -> list[str]:
    """ROUGE tokens of a sentence: lower-cased alphanumeric words, stop words dropped, stemmed."""
    import re

    stop = _stop_words()
    return [_stem(w) for w in re.findall(r"[a-z0-9]+", text.lower()) if w not in stop]


def ngrams(sentences: Iterable[str], n: int) -> Counter[tuple[str, ...]]:
    """N-gram counts of a summary (a list of sentences), n-grams kept within sentences."""
    out: Counter[tuple[str, ...]] = Counter()
    for s in sentences:
        toks = tokens(s)
        out.update(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))
    return out


def _match(a: Counter[tuple[str, ...]], b: Counter[tuple[str, ...]]) -> int:
    return sum(min(c, b[g]) for g, c in a.items() if g in b)


def _prf(num_p: float, den_p: float, num_r: float, den_r: float) -> dict[str, float]:
    p = num_p / den_p if den_p else 0.0
    r = num_r / den_r if den_r else 0.0
    return {"p": p, "r": r, "f": 2 * p * r / (p + r) if p + r else 0.0}


def date_f1(pred: Timeline, gold: Timeline) -> dict[str, float]:
    """Precision, recall and F1 of the predicted dates."""
    shared = len(set(pred) & set(gold))
    return _prf(shared, len(pred), shared, len(gold))


def concat_rouge(pred: Timeline, gold: Timeline, n: int) -> dict[str, float]:
    """ROUGE-n of all predicted sentences against all gold sentences, dates ignored."""
    p = ngrams((s for d in sorted(pred) for s in pred[d]), n)
    g = ngrams((s for d in sorted(gold) for s in gold[d]), n)
    m = _match(p, g)
    return _prf(m, sum(p.values()), m, sum(g.values()))


def agreement_rouge(pred: Timeline, gold: Timeline, n: int) -> dict[str, float]:
    """ROUGE-n counting only matches between the summaries of the same date."""
    pc = {d: ngrams(v, n) for d, v in pred.items()}
    gc = {d: ngrams(v, n) for d, v in gold.items()}
    m = sum(_match(pc[d], gc[d]) for d in pc.keys() & gc.keys())
    return _prf(m, sum(sum(c.values()) for c in pc.values()), m, sum(sum(c.values()) for c in gc.values()))


def _approx_rouge1(a: Counter[tuple[str, ...]], b: Counter[tuple[str, ...]]) -> float:
    """Unigram F1 of two daily summaries: the content term of the alignment cost."""
    m = _match(a, b)
    na, nb = sum(a.values()), sum(b.values())
    if not m or not na or not nb:
        return 0.0
    p, r = m / na, m / nb
    return 2 * p * r / (p + r)


def alignment_rouge(pred: Timeline, gold: Timeline, n: int) -> dict[str, float]:
    """Alignment ROUGE-n, many-to-one, date and content costs (tilse ``align+ m:1``)."""
    pd_, gd = sorted(pred), sorted(gold)
    if not pd_ or not gd:
        return _prf(0, 1, 0, 1)
    p1 = [ngrams(pred[d], 1) for d in pd_]
    g1 = [ngrams(gold[d], 1) for d in gd]
    pn = p1 if n == 1 else [ngrams(pred[d], n) for d in pd_]
    gn = g1 if n == 1 else [ngrams(gold[d], n) for d in gd]
    dist = np.array([[abs((a - b).days) for b in gd] for a in pd_], dtype=float)
    closeness = 1.0 / (dist + 1.0)
    content = np.array([[_approx_rouge1(a, b) for b in g1] for a in p1])
    cost = (1.0 - closeness) * (1.0 - content)
    num_p = den_p = num_r = den_r = 0.0
    for i, j in enumerate(cost.argmin(axis=1)):  # each predicted date to its cheapest gold date
        num_p += closeness[i, j] * _match(pn[i], gn[j])
        den_p += sum(pn[i].values())
    for j, i in enumerate(cost.argmin(axis=0)):  # each gold date to its cheapest predicted date
        num_r += closeness[i, j] * _match(pn[i], gn[j])
        den_r += sum(gn[j].values())
    return _prf(num_p, den_p, num_r, den_r)


def score(pred: Timeline, gold: Timeline) -> dict[str, Any]:
    """All timeline metrics of one predicted timeline against its gold."""
    return {
        "date": date_f1(pred, gold),
        "ar1": alignment_rouge(pred, gold, 1),
        "ar2": alignment_rouge(pred, gold, 2),
        "concat1": concat_rouge(pred, gold, 1),
        "concat2": concat_rouge(pred, gold, 2),
        "agree1": agreement_rouge(pred, gold, 1),
        "agree2": agreement_rouge(pred, gold, 2),
    }


# --------------------------------------------------------------------------- the system


def predict(
    articles: Sequence[dict[str, Any]],
    n_dates: int,
    per_date: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
    embedder: str = "words",
) -> Timeline:
    """storydesk's timeline of some articles, of a given length.

    Args:
        articles: Dicts with ``id``, ``text`` and ``published`` (``YYYY-MM-DD``).
        n_dates: Number of dates wanted.
        per_date: Sentences per date.
        start: First date allowed.
        end: Last date allowed.
        embedder: ``words`` (content-word overlap; fast) or an embedder name
            (``minilm``) to compare facts by embeddings.

    Returns:
        ``{date: [sentence, ...]}``.
    """
    from storydesk.dates import (
        day_weights,
        dated_facts,
        embed_facts,
        lead_facts,
        merge_facts,
        summarize_timeline,
        tag_article,
    )
    from storydesk.models import Article, Sentence
    from storydesk.textutil import split_sentences

    facts, leads = [], []
    for a in articles:
        text = a.get("text") or ""
        if not text.strip():
            continue
        art = Article(id=a["id"], source=a["id"], text=text, published=dt.date.fromisoformat(a["published"]))
        sents = [
            Sentence(art.id, i, text[s.start : s.end], s.start, s.end, s.paragraph)
            for i, s in enumerate(split_sentences(text))
        ]
        timexes = tag_article(art, sents)
        facts.extend(dated_facts(art, sents, timexes))
        leads.extend(lead_facts(art, sents, timexes))
    if embedder != "words" and facts:
        from storydesk.embed import get_embedder

        embed_facts(facts, get_embedder(embedder))
    entries = merge_facts(facts)
    days = summarize_timeline(entries, n_dates, per_date, start, end, weights=day_weights(facts), leads=leads)
    return {d: [e.text for e in es] for d, es in days}


# --------------------------------------------------------------------------- the evaluation


def load(dataset_dir: Path) -> tuple[list[dict[str, Any]], dict[str, list[dict[str, Any]]]]:
    """Gold timelines and articles by topic from a ``timeline17`` folder."""
    tl_path, art_path = dataset_dir / "timelines.jsonl", dataset_dir / "articles.jsonl"
    if not tl_path.is_file() or not art_path.is_file():
        raise EvalError(f"timelines.jsonl or articles.jsonl missing under {dataset_dir}")
    timelines = [json.loads(line) for line in tl_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    by_topic: dict[str, list[dict[str, Any]]] = defaultdict(list)
    with art_path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                a = json.loads(line)
                by_topic[a["gold"]["topic"]].append(a)
    return timelines, by_topic


def _mean(rows: Sequence[dict[str, Any]], metric: str) -> dict[str, float]:
    return {k: float(np.mean([r[metric][k] for r in rows])) for k in ("p", "r", "f")}


def evaluate(
    dataset_dir: Path | None = None,
    timelines: Sequence[str] | None = None,
    gate: bool = False,
    embedder: str = "words",
) -> dict[str, Any]:
    """Build and score storydesk's timeline for each Timeline17 gold timeline.

    Args:
        dataset_dir: The ``timeline17`` folder; default ``<datasets>/timeline17``.
        timelines: Ids of the gold timelines to evaluate (default: all with articles).
        gate: Evaluate the fixed CI subset :data:`GATE_TIMELINES` only.
        embedder: ``words`` or an embedder name, as for :func:`predict`.

    Returns:
        ``date_f1``, ``ar1_f``, ``ar2_f`` (macro averages over timelines), the full
        ``mean`` and per-timeline scores, timing and the anchor figures.

    Raises:
        EvalError: When the data set is missing or a requested timeline is unknown.
    """
    if dataset_dir is None:
        dataset_dir = dataset_path("timeline17")
    gold_tls, by_topic = load(dataset_dir)
    wanted = list(GATE_TIMELINES) if gate else list(timelines or [])
    known = {t["id"] for t in gold_tls}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise EvalError(f"unknown timeline id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    selected = [t for t in gold_tls if t.get("has_articles") and (not wanted or t["id"] in wanted)]
    if not selected:
        raise EvalError("no gold timeline with articles selected")
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    n_articles = 0
    for tl in selected:
        gold: Timeline = {dt.date.fromisoformat(e["date"]): list(e["sentences"]) for e in tl["timeline"]}
        start, end = min(gold), max(gold)
        n_dates = len(gold)
        per_date = round(sum(len(v) for v in gold.values()) / n_dates)
        arts = [a for a in by_topic.get(tl["topic"], []) if a.get("published") and start <= _day(a["published"]) <= end]
        n_articles += len(arts)
        pred = predict(arts, n_dates, per_date, start, end, embedder=embedder)
        rows.append({"id": tl["id"], "articles": len(arts), "dates": n_dates, "per_date": per_date} | score(pred, gold))
    elapsed = time.perf_counter() - t0
    mean = {m: _mean(rows, m) for m in ("date", "ar1", "ar2", "concat1", "concat2", "agree1", "agree2")}
    return {
        "dataset": f"timeline17 ({len(rows)} timelines{' (CI subset)' if gate else ''})",
        "embedder": embedder,
        "timelines": len(rows),
        "articles": n_articles,
        "date_f1": mean["date"]["f"],
        "ar1_f": mean["ar1"]["f"],
        "ar2_f": mean["ar2"]["f"],
        "mean": mean,
        "per_timeline": rows,
        "seconds": elapsed,
        "anchor": ANCHOR,
    }


def _day(s: str) -> dt.date:
    return dt.date.fromisoformat(s[:10])


@click.command("timeline")
@click.option(
    "--dataset-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Timeline17 folder (default: <datasets>/timeline17).",
)
@click.option("--timeline", "timelines", multiple=True, help="Evaluate only this gold timeline id (repeatable).")
@click.option("--gate", is_flag=True, help="Evaluate the fixed CI subset only (4 timelines).")
@click.option(
    "--embedder",
    default="words",
    show_default=True,
    help="How facts are compared when merging: 'words' (content-word overlap) or an embedder ('minilm').",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
def command(dataset_dir: Path | None, timelines: tuple[str, ...], gate: bool, embedder: str, as_json: bool) -> None:
    """Timeline summarisation on Timeline17: Date-F1 and alignment ROUGE (AR1/AR2)."""
    try:
        res = evaluate(dataset_dir, list(timelines) or None, gate=gate, embedder=embedder)
    except EvalError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(res, indent=2, default=str))
        return
    a = res["anchor"]
    click.echo(f"Timeline17: {res['dataset']}, {res['articles']} articles, {res['seconds']:.0f} s")
    click.echo(f"  {'timeline':<50} {'Date-F1':>8} {'AR1-F':>7} {'AR2-F':>7}")
    for r in res["per_timeline"]:
        click.echo(f"  {r['id']:<50} {r['date']['f']:>8.3f} {r['ar1']['f']:>7.3f} {r['ar2']['f']:>7.3f}")
    click.echo(f"  {'mean':<50} {res['date_f1']:>8.3f} {res['ar1_f']:>7.3f} {res['ar2_f']:>7.3f}")
    click.echo(f"  {a['name']:<50} {a['date_f1']:>8.3f} {a['ar1_f']:>7.3f} {a['ar2_f']:>7.3f}")
    m = res["mean"]
    click.echo(
        f"  concat R1/R2-F {m['concat1']['f']:.3f} / {m['concat2']['f']:.3f}   "
        f"agreement R1/R2-F {m['agree1']['f']:.3f} / {m['agree2']['f']:.3f}"
    )
