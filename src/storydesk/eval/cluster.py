"""``storydesk eval cluster``: event clustering against gold groups, beside two baselines.

The articles of a data set go through storydesk's own stages (cleaning, dedup,
embedding, events, storylines) one at a time, as a stream in arrival order:
the events stage sees each article once and never reclusters. Arrival order is
a fixed shuffle (seed 0), because neither data set has usable publication
times. Scores are B-cubed precision/recall/F1 and the adjusted Rand index
against the gold groups.

* ``ecbplus``: documents of one split (default ``test``), gold = sub-topic (two
  similar events per topic, e.g. two earthquakes). ``url`` and ``published`` are
  blanked first (only half the documents have them, so they leak the answer),
  and no publication date is inferred from the text either. Storylines are
  scored against ECB+ topics.
* ``neus``: all 9,198 NeuS snippets clustered together (gold = AllSides story,
  three outlets each); figures are also given for the test-split articles.

Baselines, run in the same call on the same texts and embeddings:

* TF-IDF + agglomerative clustering (average link, cosine distance threshold);
* HDBSCAN (``sklearn.cluster.HDBSCAN``) on the same title+lead embeddings,
  noise points as singletons.

Both see the whole data set at once (batch), which favours them. Their
parameters, like storydesk's weights, were tuned on training data only
(``--fit``: NeuS train split and ECB+ train split), never on the figures
reported here.
"""

from __future__ import annotations

import dataclasses
import json
import random
import time
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

import click
import numpy as np

from storydesk import artifacts as A
from storydesk.article.analyze import EmbedStage, SignalsStage, SignatureStage, TimexStage
from storydesk.config import Config
from storydesk.corpus.events import FEATURES, EventIndex, EventState, make_signals
from storydesk.embed import get_embedder
from storydesk.errors import EvalError
from storydesk.eval import dataset_path
from storydesk.ingest import RawItem, build_article
from storydesk.nlp import Models
from storydesk.pipeline import CORPUS_STAGES, Pipeline, Runner
from storydesk.store import open_store
from storydesk.store.base import Store

DATASETS = ("ecbplus", "neus")
#: Baseline settings tuned with ``--fit`` on the training splits (see docs/clustering.md).
TFIDF_DISTANCE = {"ecbplus": 0.8, "neus": 0.7}
HDBSCAN_MIN_SAMPLES = {"ecbplus": 1, "neus": 1}
#: NeuS: 0.5 was best on train, but on all 9,198 snippets it trips a scikit-learn bug (TypeError in
#: HDBSCAN's epsilon search); 0.3, the next value of the grid, gives the same clusters as 0.0 there.
HDBSCAN_EPSILON = {"ecbplus": 0.5, "neus": 0.3}


# --------------------------------------------------------------------------- data


@dataclasses.dataclass
class Item:
    """One gold-labelled article of a data set."""

    id: str
    title: str | None
    text: str
    outlet: str | None
    event: str
    topic: str
    split: str


def load_items(dataset: str, split: str = "all", limit: int | None = None, seed: int = 0) -> list[Item]:
    """Articles of a data set in arrival order (a fixed shuffle).

    Args:
        dataset: ``ecbplus`` or ``neus``.
        split: ``train``, ``dev``/``val``, ``test`` or ``all``.
        limit: Keep only the first ``limit`` gold groups (after shuffling), for quick runs.
        seed: Shuffle seed.
    """
    if dataset not in DATASETS:
        raise EvalError(f"unknown data set {dataset!r}; choose one of {', '.join(DATASETS)}")
    path = dataset_path(dataset) / "articles.jsonl"
    if not path.is_file():
        raise EvalError(f"{path} not found")
    split = {"val": "dev"}.get(split, split)
    items = []
    with path.open(encoding="utf-8") as f:
        for line in f:
            r = json.loads(line)
            g = r["gold"]
            sp = {"val": "dev"}.get(g["split"], g["split"])
            if split != "all" and sp != split:
                continue
            if dataset == "ecbplus":
                event, topic = g["subtopic"], g["topic"]
            else:
                event, topic = g["event"], g["event"]
            items.append(Item(r["id"], r.get("title"), r.get("text") or "", r.get("outlet"), event, topic, sp))
    if not items:
        raise EvalError(f"no {dataset} articles in split {split!r}")
    random.Random(seed).shuffle(items)
    if limit:
        keep = set(list(dict.fromkeys(i.event for i in items))[:limit])
        items = [i for i in items if i.event in keep]
    return items


def ingest_items(store: Store, items: Sequence[Item]) -> dict[str, Item]:
    """Clean and store items with ``url`` and ``published`` blanked; returns article id -> item."""
    out: dict[str, Item] = {}
    with store.transaction():
        for it in items:
            raw = RawItem(
                source=it.id,
                key=it.id,
                format="jsonl",
                raw_sha256="",
                text=it.text,
                title=it.title,
                outlet=it.outlet,
                detect_title=False,
            )
            art, sents = build_article(raw)
            # no date at all: an inferred one would leak ECB+'s sub-topic (only one half has datelines)
            art = dataclasses.replace(art, published=None, published_source="unknown", url=None)
            store.add_article(art, sents)
            out[art.id] = it
    return out


# --------------------------------------------------------------------------- metrics


def bcubed(pred: dict[str, str], gold: dict[str, str]) -> dict[str, float]:
    """B-cubed precision, recall and F1 over the items of ``gold`` (Bagga & Baldwin 1998)."""
    pc: dict[str, set[str]] = defaultdict(set)
    gc: dict[str, set[str]] = defaultdict(set)
    for i in gold:
        pc[pred[i]].add(i)
        gc[gold[i]].add(i)
    p = r = 0.0
    for i in gold:
        both = len(pc[pred[i]] & gc[gold[i]])
        p += both / len(pc[pred[i]])
        r += both / len(gc[gold[i]])
    n = len(gold)
    p, r = p / n, r / n
    return {"p": round(p, 4), "r": round(r, 4), "f1": round(2 * p * r / (p + r) if p + r else 0.0, 4)}


def scores(pred: dict[str, str], gold: dict[str, str]) -> dict[str, Any]:
    """B-cubed, ARI and cluster counts."""
    from sklearn.metrics import adjusted_rand_score

    keys = sorted(gold)
    out: dict[str, Any] = bcubed(pred, gold)
    out["ari"] = round(float(adjusted_rand_score([gold[k] for k in keys], [pred[k] for k in keys])), 4)
    out["clusters"] = len({pred[k] for k in keys})
    out["gold_clusters"] = len({gold[k] for k in keys})
    return out


# --------------------------------------------------------------------------- baselines


def tfidf_agglomerative(texts: Sequence[str], distance: float) -> list[int]:
    """TF-IDF (sublinear, English stop words) + average-link agglomerative clustering, cosine distance."""
    from sklearn.cluster import AgglomerativeClustering
    from sklearn.feature_extraction.text import TfidfVectorizer

    x = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1).fit_transform(texts)
    # rows are L2-normalised, so the cosine distance matrix is 1 - X X^T; computed sparse here because
    # scipy's pdist on dense rows evaluates the metric pair by pair in Python (hours at NeuS size)
    dist = np.asarray(1.0 - (x @ x.T).toarray(), dtype=np.float64)
    np.clip(dist, 0.0, 2.0, out=dist)
    np.fill_diagonal(dist, 0.0)
    model = AgglomerativeClustering(
        n_clusters=None, metric="precomputed", linkage="average", distance_threshold=distance
    )
    return [int(v) for v in model.fit_predict(dist)]


def hdbscan(vectors: np.ndarray, min_samples: int, epsilon: float) -> list[int]:
    """HDBSCAN on unit vectors (Euclidean = monotone in cosine); noise points become singletons."""
    from sklearn.cluster import HDBSCAN

    labels = HDBSCAN(
        min_cluster_size=2, min_samples=min_samples, cluster_selection_epsilon=epsilon, copy=True
    ).fit_predict(vectors)
    out, nxt = [], int(labels.max()) + 1
    for v in labels:
        if v < 0:
            out.append(nxt)
            nxt += 1
        else:
            out.append(int(v))
    return out


# --------------------------------------------------------------------------- the run


def _texts(store: Store, ids: Sequence[str]) -> list[str]:
    """Title and cleaned text of each article (what the TF-IDF baseline reads)."""
    arts = {a.id: a for a in store.articles(ids)}
    return [f"{arts[i].title or ''}\n{arts[i].text}" for i in ids]


def run_stream(
    items: Sequence[Item], config: Config, batch: int = 0, workers: int | None = None
) -> tuple[Store, dict[str, Item], float]:
    """Ingest the items into a fresh in-memory store and build events as a stream.

    Args:
        items: Articles in arrival order.
        config: Settings (embedder, weights).
        batch: Build after every ``batch`` articles (0: one build; the events stage
            visits articles one by one in arrival order either way).
        workers: Processes for the article map (default: every core; results do not depend on it).

    Returns:
        The store, article id -> item, and seconds spent building (ingest included).
    """
    store = open_store(":memory:")
    runner = Runner(store, Pipeline(cluster_stages()), Models(config), workers=workers)
    t0 = time.perf_counter()
    by_id: dict[str, Item] = {}
    step = batch or len(items)
    try:
        for i in range(0, len(items), step):
            by_id.update(ingest_items(store, items[i : i + step]))
            runner.build()
    finally:
        runner.close()
    return store, by_id, time.perf_counter() - t0


def cluster_stages() -> list[Any]:
    """The stages event clustering needs: signature, lead vector, signals (with timexes), the corpus step."""
    return [TimexStage(), SignatureStage(), EmbedStage(), SignalsStage(), *CORPUS_STAGES]


def evaluate(
    dataset: str = "ecbplus",
    split: str = "test",
    embedder: str = "minilm",
    baselines: bool = True,
    limit: int | None = None,
    batch: int = 0,
    engine: str = "local",
    master: str = "local[*]",
) -> dict[str, Any]:
    """Cluster a data set as a stream and score it against gold, beside the baselines.

    Args:
        dataset: ``ecbplus`` or ``neus``.
        split: ECB+: ``train``, ``dev`` or ``test``; NeuS: ``all`` (all 9,198
            snippets together; the default for NeuS whatever is given) is
            scored overall and on its test-split articles.
        embedder: Embedder of the title+lead vectors (storydesk's and HDBSCAN's).
        baselines: Also run TF-IDF + agglomerative and HDBSCAN.
        limit: Only the first ``limit`` gold groups (quick runs).
        batch: Ingest and build in batches of this many articles (0: one build).
        engine: ``local`` (the process pool) or ``spark`` (:mod:`storydesk.spark`, one build).
        master: Spark master for ``engine="spark"``.

    Returns:
        ``{"dataset", "split", "articles", "storydesk": {p, r, f1, ari, ...}, "baselines": {...}, ...}``.
    """
    if dataset == "neus":
        split = "all"
    cfg = Config().with_overrides(embedder=embedder)
    items = load_items(dataset, split, limit=limit)
    if engine == "spark":
        from storydesk.eval.spark_stream import run_stream_spark

        store, by_id, seconds = run_stream_spark(items, cfg, master)
    else:
        store, by_id, seconds = run_stream(items, cfg, batch)
    ids = list(by_id)
    gold = {a: by_id[a].event for a in ids}
    pred: dict[str, str] = {}
    story_of: dict[str, str] = {}
    for ev in store.events():
        for a in ev.articles:
            pred[a] = ev.id
            story_of[a] = ev.storyline or ev.id
    missing = [a for a in ids if a not in pred]
    if missing:
        raise EvalError(f"{len(missing)} article(s) were not assigned to an event")
    result: dict[str, Any] = {
        "dataset": dataset,
        "split": split,
        "articles": len(ids),
        "embedder": get_embedder(embedder).model_id,
        "storydesk": scores(pred, gold),
        "engine": engine,
        "seconds": round(seconds, 1),
        "articles_per_second": round(len(ids) / seconds, 1) if seconds else None,
    }
    if dataset == "ecbplus":
        result["storylines"] = scores(story_of, {a: by_id[a].topic for a in ids})
    else:
        test = {a: g for a, g in gold.items() if by_id[a].split == "test"}
        result["test_split"] = scores(pred, test)
    if baselines:
        vecs = store.get(A.LEAD_VECTOR, ids)
        matrix = np.vstack([vecs[a] for a in ids])
        texts = _texts(store, ids)
        base: dict[str, Any] = {}
        runs = {
            "tfidf_agglomerative": lambda: tfidf_agglomerative(texts, TFIDF_DISTANCE[dataset]),
            "hdbscan": lambda: hdbscan(matrix, HDBSCAN_MIN_SAMPLES[dataset], HDBSCAN_EPSILON[dataset]),
        }
        for name, run in runs.items():
            t0 = time.perf_counter()
            try:
                lab = run()
            except (TypeError, ValueError, MemoryError) as e:
                # a peer's failure (a library bug, too little memory) is reported, not allowed to lose our figures
                base[name] = {"error": f"{type(e).__name__}: {e}", "f1": 0.0}
                continue
            base[name] = scores(dict(zip(ids, map(str, lab), strict=True)), gold)
            base[name]["seconds"] = round(time.perf_counter() - t0, 1)
        result["baselines"] = base
        best = max(base.values(), key=lambda b: b["f1"])
        result["ratio_to_best_baseline"] = round(result["storydesk"]["f1"] / best["f1"], 3) if best["f1"] else None
    return result


# --------------------------------------------------------------------------- fitting (training data only)


def pair_features(store: Store, by_id: dict[str, Item], config: Config) -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of (article, candidate event) pairs, streaming with gold assignments.

    Each article is scored against the candidates the engine would consider,
    labelled 1 for its gold event; then it joins its gold event (teacher forcing).
    """
    vectors = store.get(A.LEAD_VECTOR, list(by_id))
    bags = store.get(A.SIGNALS, list(by_id))
    emb_dim = len(next(iter(vectors.values())))
    index = EventIndex(emb_dim, config)
    xs: list[list[float]] = []
    ys: list[int] = []
    for art in store.articles(list(by_id)):
        sig = make_signals(art.id, art.published, vectors[art.id], bags[art.id])
        gold = by_id[art.id].event
        names, words = index.bags(sig)
        for i, _cos in index.candidates(sig):
            xs.append(index.features(i, names, words, sig.vector))
            ys.append(int(index.ids[i] == gold))
        if gold not in index.pos:
            index.add_event(EventState(gold), np.zeros(emb_dim, dtype=np.float32))
        index.join(gold, sig)
    return np.array(xs), np.array(ys)


def fit(embedder: str = "minilm", log: Any = print) -> dict[str, Any]:
    """Fit the join weights on NeuS train + ECB+ train, then tune the bar and the baselines there.

    1. Pair weights: logistic regression on (article, candidate event) pairs
       collected with teacher forcing, each data set weighted equally.
    2. The bar: ``event_bar`` and ``event_density`` on a grid, by the mean
       B-cubed F1 of the two training streams.
    3. The baselines' settings, by B-cubed F1 on each training split.

    Returns:
        The weights, bar, density and the baselines' settings, with their training scores.
    """
    from sklearn.linear_model import LogisticRegression

    cfg = Config().with_overrides(embedder=embedder)
    runs = {}
    xs, ys, ws = [], [], []
    for ds in DATASETS:
        items = load_items(ds, "train")
        store, by_id, _ = run_stream(items, cfg)
        runs[ds] = (items, store, by_id)
        x, y = pair_features(store, by_id, cfg)
        log(f"{ds} train: {len(items)} articles, {len(y)} candidate pairs, {int(y.sum())} positive")
        xs.append(x)
        ys.append(y)
        ws.append(np.full(len(y), 1.0 / max(len(y), 1)))  # each data set counts the same
    sw = np.concatenate(ws) * 1e5
    lr = LogisticRegression(C=10.0, max_iter=5000).fit(np.vstack(xs), np.concatenate(ys), sample_weight=sw)
    weights = (round(float(lr.intercept_[0]), 3), *(round(float(c), 3) for c in lr.coef_[0]))
    log(f"weights (bias, {', '.join(FEATURES)}): {weights}")
    out: dict[str, Any] = {"weights": weights, "bar": {}, "tfidf_distance": {}, "hdbscan": {}}
    mean_f1: defaultdict[tuple[float, float], float] = defaultdict(float)
    for bar in (-4.3, -3.7, -3.2):
        for density in (0.3, 0.4, 0.5):
            c = cfg.with_overrides(event_weights=weights, event_bar=bar, event_density=density)
            for ds, (items, _store, _by) in runs.items():
                st, by_id, _ = run_stream(items, c)
                pred = {a: ev.id for ev in st.events() for a in ev.articles}
                f1 = bcubed(pred, {a: by_id[a].event for a in by_id})["f1"]
                mean_f1[(bar, density)] += f1 / len(runs)
                log(f"{ds} train bar {bar} density {density}: B-cubed F1 {f1}")
    out["bar"] = max(mean_f1, key=lambda t: mean_f1[t])
    for ds, (_items, store, by_id) in runs.items():
        ids = list(by_id)
        gold = {a: by_id[a].event for a in ids}
        texts = _texts(store, ids)
        best = max(
            (bcubed(dict(zip(ids, map(str, tfidf_agglomerative(texts, d)), strict=True)), gold)["f1"], d)
            for d in (0.5, 0.6, 0.7, 0.8, 0.9)
        )
        out["tfidf_distance"][ds] = best
        vecs = store.get(A.LEAD_VECTOR, ids)
        m = np.vstack([vecs[a] for a in ids])
        bestb = max(
            (bcubed(dict(zip(ids, map(str, hdbscan(m, ms, eps)), strict=True)), gold)["f1"], ms, eps)
            for ms in (1, 2)
            for eps in (0.0, 0.3, 0.5, 0.7)
        )
        out["hdbscan"][ds] = bestb
        log(f"{ds} baselines on train: tfidf {best}, hdbscan {bestb}")
    return out


# --------------------------------------------------------------------------- command


def _row(name: str, s: dict[str, Any]) -> str:
    """One table row."""
    return f"{name:<28} {s['p']:>6.3f} {s['r']:>6.3f} {s['f1']:>6.3f} {s['ari']:>6.3f} {s['clusters']:>8}"


@click.command("cluster")
@click.option("--dataset", type=click.Choice(DATASETS), default="ecbplus", show_default=True)
@click.option("--split", default="test", show_default=True, help="ECB+ split (train, dev, test); NeuS uses all.")
@click.option("--embedder", default="minilm", show_default=True, help="Title+lead embedder (minilm, minilm-static).")
@click.option("--no-baselines", is_flag=True, help="Skip TF-IDF + agglomerative and HDBSCAN.")
@click.option("--limit", type=int, default=None, help="Only the first N gold groups (quick runs).")
@click.option("--batch", type=int, default=0, help="Ingest and build in batches of N articles.")
@click.option("--engine", type=click.Choice(["local", "spark"]), default="local", show_default=True)
@click.option("--master", default="local[*]", show_default=True, help="Spark master for --engine spark.")
@click.option("--fit", "do_fit", is_flag=True, help="Fit weights and tune baselines on the training splits.")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
def command(
    dataset: str,
    split: str,
    embedder: str,
    no_baselines: bool,
    limit: int | None,
    batch: int,
    engine: str,
    master: str,
    do_fit: bool,
    as_json: bool,
) -> None:
    """Event clustering: B-cubed P/R/F1 and ARI against gold, beside TF-IDF+agglomerative and HDBSCAN."""
    if do_fit:
        res = fit(embedder, log=lambda m: click.echo(m, err=True))
        click.echo(json.dumps(res, indent=2))
        return
    res = evaluate(dataset, split, embedder, not no_baselines, limit, batch, engine, master)
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    click.echo(
        f"{dataset} ({res['split']}): {res['articles']} articles, embedder {res['embedder']}, engine {res['engine']}"
    )
    click.echo(f"{'system':<28} {'P':>6} {'R':>6} {'F1':>6} {'ARI':>6} {'clusters':>8}")
    click.echo(_row("storydesk (stream)", res["storydesk"]))
    for name, s in res.get("baselines", {}).items():
        click.echo(f"{name} (batch): failed: {s['error']}" if "error" in s else _row(name + " (batch)", s))
    if "test_split" in res:
        click.echo(_row("storydesk, test articles", res["test_split"]))
    if "storylines" in res:
        click.echo(_row("storylines vs topics", res["storylines"]))
    click.echo(
        f"gold clusters: {res['storydesk']['gold_clusters']}; build {res['seconds']} s "
        f"({res['articles_per_second']} articles/s)"
    )
    if res.get("ratio_to_best_baseline"):
        click.echo(f"F1 ratio to the best baseline: {res['ratio_to_best_baseline']}")
