"""``storydesk eval timeline``: timeline summarisation on Timeline17 (T17).

The protocol is news-tls's (Ghalandari & Ifrim 2020, ``experiments/evaluate.py``):

* **Collections.** Articles are pooled per T17 topic (``bpoil``, ``H1N1``, ...),
  as news-tls's T17 has 9 topics holding 19 timelines; ``--unit folder`` keeps
  this redistribution's source folders apart instead. ``Finan`` has no articles
  here, so 18 of the 19 timelines are evaluated.
* **Input and length.** For each gold timeline, the collection's articles
  published from its first to its last date; the predicted timeline has as many
  dates as the gold one, and the gold's mean number of sentences per date,
  rounded.
* **Date F1**: the predicted dates against the gold dates.
* **AR1 / AR2**: alignment-based ROUGE-1 / ROUGE-2 with a many-to-one alignment on
  date and content costs (Martschat & Markert 2017; tilse's
  ``align_date_content_costs_many_to_one``, the metric news-tls reports as AR):
  see :func:`alignment_rouge`. ``concat`` and ``agreement`` ROUGE are reported too.
* **Averaging.** Precision and recall of each metric are averaged over timelines
  and the F reported is that of the averages (news-tls's ``get_average_results``);
  ``mean_f``, the plain mean of per-timeline F, is in the JSON as well.

ROUGE is reimplemented here, following ROUGE-1.5.5 as tilse runs it (``-m -s``,
raw counts): lower-cased alphanumeric tokens, stop words removed, Porter stems of
tokens longer than three characters, a daily summary's sentences read as one
token stream. Two differences remain, so figures are close to, not identical
with, tilse's: scikit-learn's English stop list stands in for ROUGE's SMART list,
and ROUGE's WordNet exception list (irregular forms) is not applied.

The system is :func:`storydesk.event.timeline.summarize_timeline` over the articles' dated
facts and undated leads (:func:`predict`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
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
    # Martin Porter's own implementation, the one ROUGE-1.5.5 ships
    return PorterStemmer(mode=PorterStemmer.MARTIN_EXTENSIONS)


@lru_cache(maxsize=1)
def _stop_words() -> frozenset[str]:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS)


@lru_cache(maxsize=200_000)
def _stem(word: str) -> str:
    """Porter stem of a token; ROUGE-1.5.5 (``-m``) leaves tokens of three characters or fewer alone."""
    return str(_stemmer().stem(word)) if len(word) > 3 else word


_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """ROUGE tokens of a sentence: lower-cased alphanumeric words, stop words dropped, stemmed."""
    stop = _stop_words()
    return [_stem(w) for w in _TOKEN.findall(text.lower()) if w not in stop]


def ngrams(sentences: Iterable[str], n: int) -> Counter[tuple[str, ...]]:
    """N-gram counts of a summary (a list of sentences).

    ROUGE-1.5.5 reads a summary's sentences into one token stream, so n-grams run
    across sentence boundaries (and across removed stop words).
    """
    toks = [t for s in sentences for t in tokens(s)]
    return Counter(tuple(toks[i : i + n]) for i in range(len(toks) - n + 1))


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


def _raw_unigrams(sentences: Iterable[str]) -> Counter[str]:
    """Whitespace tokens of a summary as written: what tilse's ROUGE approximation counts."""
    return Counter(t for s in sentences for t in s.split())


def _approx_rouge1(a: Counter[str], b: Counter[str]) -> float:
    """Unigram F1 of two daily summaries: the content term of the alignment cost (tilse's approximation)."""
    m = sum(min(c, b[t]) for t, c in a.items() if t in b)
    na, nb = sum(a.values()), sum(b.values())
    if not m or not na or not nb:
        return 0.0
    p, r = m / na, m / nb
    return 2 * p * r / (p + r)


def alignment_rouge(pred: Timeline, gold: Timeline, n: int) -> dict[str, float]:
    """Alignment ROUGE-n, many-to-one, date and content costs (tilse ``align+ m:1``).

    The cost of aligning two dates is ``(1 - 1/(|Δdays| + 1)) × (1 - F)`` with F
    the unigram F1 of the two summaries' whitespace tokens as written (tilse's
    approximation: no stemming, no stop list). Each predicted date goes to its
    cheapest gold date for precision, each gold date to its cheapest predicted
    date for recall, and the ROUGE-n matches of an aligned pair count with weight
    ``1/(|Δdays| + 1)``.
    """
    pd_, gd = sorted(pred), sorted(gold)
    if not pd_ or not gd:
        return _prf(0, 1, 0, 1)
    pw = [_raw_unigrams(pred[d]) for d in pd_]
    gw = [_raw_unigrams(gold[d]) for d in gd]
    pn = [ngrams(pred[d], n) for d in pd_]
    gn = [ngrams(gold[d], n) for d in gd]
    dist = np.array([[abs((a - b).days) for b in gd] for a in pd_], dtype=float)
    closeness = 1.0 / (dist + 1.0)
    content = np.array([[_approx_rouge1(a, b) for b in gw] for a in pw])
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


@dataclass
class Prepared:
    """One article as the timeline summariser sees it: its dated facts, undated leads and sentences."""

    id: str
    published: dt.date
    facts: list[Any]
    leads: list[Any]
    sentences: list[str]


def prepare(article: dict[str, Any]) -> Prepared | None:
    """Tag one article (``id``, ``text``, ``published``) and turn it into facts; None when it is empty."""
    from storydesk.article.timexes import dated_facts, lead_facts, tag_article
    from storydesk.models import Article, Sentence
    from storydesk.textutil import split_sentences

    text = article.get("text") or ""
    if not text.strip() or not article.get("published"):
        return None
    art = Article(id=article["id"], source=article["id"], text=text, published=_day(article["published"]))
    sents = [
        Sentence(art.id, i, text[s.start : s.end], s.start, s.end, s.paragraph)
        for i, s in enumerate(split_sentences(text))
    ]
    timexes = tag_article(art, sents)
    return Prepared(
        art.id,
        _day(article["published"]),
        dated_facts(art, sents, timexes),
        lead_facts(art, sents, timexes),
        [s.text for s in sents],
    )


def predict_prepared(
    articles: Sequence[Prepared],
    n_dates: int,
    per_date: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Timeline:
    """storydesk's timeline of some prepared articles (see :func:`predict`)."""
    from storydesk.event.timeline import summarize_timeline

    facts = [f for a in articles for f in a.facts]
    leads = [f for a in articles for f in a.leads]
    corpus = [t for a in articles for t in a.sentences]
    days = summarize_timeline(facts, n_dates, per_date, start, end, leads=leads, corpus=corpus)
    return {d: [e.text for e in es] for d, es in days}


def predict(
    articles: Sequence[dict[str, Any]],
    n_dates: int,
    per_date: int,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Timeline:
    """storydesk's timeline of some articles, of a given length.

    Each article is tagged against its publication date and turned into dated
    facts and undated leads (:func:`storydesk.article.timexes.dated_facts`,
    :func:`storydesk.article.timexes.lead_facts`); :func:`storydesk.event.timeline.summarize_timeline`
    picks the days and what to say about each, with TF-IDF weights learnt from
    all the articles' sentences.

    Args:
        articles: Dicts with ``id``, ``text`` and ``published`` (``YYYY-MM-DD``).
        n_dates: Number of dates wanted.
        per_date: Sentences per date.
        start: First date allowed.
        end: Last date allowed.

    Returns:
        ``{date: [sentence, ...]}``.
    """
    prepared = [p for p in (prepare(a) for a in articles) if p is not None]
    return predict_prepared(prepared, n_dates, per_date, start, end)


# --------------------------------------------------------------------------- the evaluation


def load(dataset_dir: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Gold timelines and articles from a ``timeline17`` folder."""
    tl_path, art_path = dataset_dir / "timelines.jsonl", dataset_dir / "articles.jsonl"
    if not tl_path.is_file() or not art_path.is_file():
        raise EvalError(f"timelines.jsonl or articles.jsonl missing under {dataset_dir}")
    timelines = [json.loads(line) for line in tl_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with art_path.open(encoding="utf-8") as fh:
        articles = [json.loads(line) for line in fh if line.strip()]
    return timelines, articles


def collection_key(item: dict[str, Any], unit: str) -> str:
    """The article collection a gold timeline or an article belongs to.

    ``topic``: the T17 topic (``bpoil``, ``H1N1``, ...), pooling the folders of a
    topic, as news-tls's T17 does (9 topics, 19 timelines). ``folder``: the source
    folder, the unit of this redistribution.
    """
    gold = item.get("gold", item)
    if unit == "topic":
        return str(gold.get("t17_topic") or gold["topic"])
    return str(gold["topic"])


def _average(rows: Sequence[dict[str, Any]], metric: str) -> dict[str, float]:
    """news-tls's average: precision and recall averaged over timelines, F of the averages."""
    p = float(np.mean([r[metric]["p"] for r in rows]))
    r = float(np.mean([r[metric]["r"] for r in rows]))
    return {
        "p": p,
        "r": r,
        "f": 2 * p * r / (p + r) if p + r else 0.0,
        "mean_f": float(np.mean([x[metric]["f"] for x in rows])),
    }


def evaluate(
    dataset_dir: Path | None = None,
    timelines: Sequence[str] | None = None,
    gate: bool = False,
    unit: str = "topic",
) -> dict[str, Any]:
    """Build and score storydesk's timeline for each Timeline17 gold timeline.

    As in news-tls: the input of a gold timeline is its collection's articles
    published from its first to its last date; the predicted timeline has as many
    dates as the gold one, and the gold's mean number of sentences per date
    (rounded); each metric's precision and recall are averaged over timelines and
    the reported F is that of the averages. Exact copies of an article within a
    collection are read once.

    Args:
        dataset_dir: The ``timeline17`` folder; default ``<datasets>/timeline17``.
        timelines: Ids of the gold timelines to evaluate (default: all with articles).
        gate: Evaluate the fixed CI subset :data:`GATE_TIMELINES` only.
        unit: ``topic`` (articles pooled per T17 topic, as news-tls) or ``folder``.

    Returns:
        ``date_f1``, ``ar1_f``, ``ar2_f``, the full ``mean`` (with ``mean_f``, the
        plain mean of per-timeline F) and per-timeline scores, timing and the
        anchor figures.

    Raises:
        EvalError: When the data set is missing, a requested timeline is unknown
            or the unit is not ``topic`` or ``folder``.
    """
    if unit not in ("topic", "folder"):
        raise EvalError(f"unknown collection unit {unit!r}: use 'topic' or 'folder'")
    if dataset_dir is None:
        dataset_dir = dataset_path("timeline17")
    gold_tls, articles = load(dataset_dir)
    wanted = list(GATE_TIMELINES) if gate else list(timelines or [])
    known = {t["id"] for t in gold_tls}
    unknown = [w for w in wanted if w not in known]
    if unknown:
        raise EvalError(f"unknown timeline id(s): {', '.join(unknown)}; known: {', '.join(sorted(known))}")
    selected = [t for t in gold_tls if t.get("has_articles") and (not wanted or t["id"] in wanted)]
    if not selected:
        raise EvalError("no gold timeline with articles selected")
    by_collection: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for a in articles:
        by_collection[collection_key(a, unit)].append(a)
    rows: list[dict[str, Any]] = []
    t0 = time.perf_counter()
    cache: dict[str, Prepared | None] = {}  # an article is tagged once, whichever timelines read it
    n_articles = 0
    for tl in selected:
        gold: Timeline = {dt.date.fromisoformat(e["date"]): list(e["sentences"]) for e in tl["timeline"]}
        start, end = min(gold), max(gold)
        n_dates = len(gold)
        per_date = round(sum(len(v) for v in gold.values()) / n_dates)
        seen: set[str] = set()
        arts: list[Prepared] = []
        for a in by_collection.get(collection_key(tl, unit), []):
            if not a.get("published") or not start <= _day(a["published"]) <= end:
                continue
            text = a.get("text") or ""
            if text in seen:
                continue
            seen.add(text)
            if a["id"] not in cache:
                cache[a["id"]] = prepare(a)
            p = cache[a["id"]]
            if p is not None:
                arts.append(p)
        n_articles += len(arts)
        pred = predict_prepared(arts, n_dates, per_date, start, end)
        rows.append({"id": tl["id"], "articles": len(arts), "dates": n_dates, "per_date": per_date} | score(pred, gold))
    elapsed = time.perf_counter() - t0
    mean = {m: _average(rows, m) for m in ("date", "ar1", "ar2", "concat1", "concat2", "agree1", "agree2")}
    return {
        "dataset": f"timeline17 ({len(rows)} timelines{' (CI subset)' if gate else ''}, articles by {unit})",
        "unit": unit,
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
    "--unit",
    type=click.Choice(["topic", "folder"]),
    default="topic",
    show_default=True,
    help="Article collections: pooled per T17 topic (as news-tls) or per source folder.",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
def command(dataset_dir: Path | None, timelines: tuple[str, ...], gate: bool, unit: str, as_json: bool) -> None:
    """Timeline summarisation on Timeline17: Date-F1 and alignment ROUGE (AR1/AR2)."""
    try:
        res = evaluate(dataset_dir, list(timelines) or None, gate=gate, unit=unit)
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
    click.echo(f"  {'average (news-tls)':<50} {res['date_f1']:>8.3f} {res['ar1_f']:>7.3f} {res['ar2_f']:>7.3f}")
    click.echo(f"  {a['name']:<50} {a['date_f1']:>8.3f} {a['ar1_f']:>7.3f} {a['ar2_f']:>7.3f}")
    m = res["mean"]
    click.echo(
        f"  concat R1/R2-F {m['concat1']['f']:.3f} / {m['concat2']['f']:.3f}   "
        f"agreement R1/R2-F {m['agree1']['f']:.3f} / {m['agree2']['f']:.3f}"
    )
