"""Train the cue scorer on the PolNeAR *train* split (never dev or test).

Reproduce the shipped model with::

    .venv/bin/python -m storydesk.eval.train_cues            # writes cue_model.json
    .venv/bin/python -m storydesk.eval.train_cues --out /tmp/m.json

Labels are the syntactic heads of the gold cue spans. The regularisation and
decision threshold are chosen on the last fifth of the train split (by the
source and content overlap F1 of the whole extractor), then the model is
refitted on the whole split. Only feature weights and a few learned word
pairs and lemma/tag keys are stored, so no text of the data set ends up in
the artefact.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click
import numpy as np
from spacy.tokens import Doc, Token

from storydesk.attribution.features import headline_end, is_candidate, quote_mask, token_features
from storydesk.attribution.model import MODEL_FILE, CueModel
from storydesk.attribution.quotes import find_quotes
from storydesk.eval.quotes import _load_articles

Article = dict[str, Any]


def load_split(dataset_dir: Path, split: str, limit: int | None = None) -> list[Article]:
    """Read ``<dataset_dir>/<split>.jsonl`` (one article per line)."""
    return _load_articles(dataset_dir / f"{split}.jsonl", limit)


def span_head(doc: Doc, start: int, end: int) -> Token | None:
    """Syntactic head of the character span: the first non-punctuation token governed from outside."""
    sp = doc.char_span(start, end, alignment_mode="expand")
    if sp is None:
        return None
    toks = [t for t in sp if not t.is_space]
    inside = {t.i for t in toks}
    for t in toks:
        if (t.head.i not in inside or t.head.i == t.i) and not t.is_punct:
            return t
    return toks[0] if toks else None


def examples(
    arts: Sequence[Article], docs: Sequence[Doc]
) -> tuple[list[list[str]], list[bool], Counter[str], Counter[str]]:
    """Candidate features, labels and preposition statistics for some articles."""
    feats: list[list[str]] = []
    labels: list[bool] = []
    prep_in: Counter[str] = Counter()
    prep_all: Counter[str] = Counter()
    for art, doc in zip(arts, docs, strict=True):
        heads: set[int] = set()
        for at in art["gold"]["attributions"]:
            if not at.get("cue") or not at.get("content"):
                continue
            cs, ce = at["cue"][0], at["cue"][1]
            h = span_head(doc, cs, ce)
            if h is None:
                continue
            heads.add(h.i)
            for ch in h.children:
                if ch.dep_ == "prep":
                    key = f"{h.lemma_.lower()} {ch.lower_}"
                    prep_all[key] += 1
                    if cs <= ch.idx < ce:
                        prep_in[key] += 1
        mask = quote_mask(doc, find_quotes(doc.text))
        title_end = headline_end(doc)
        for sent in doc.sents:
            sq = any(c in sent.text for c in '"“”')
            for tok in sent:
                headline = tok.idx < title_end
                if is_candidate(tok, headline):
                    feats.append(list(token_features(tok, mask[tok.i], sq, headline)))
                    labels.append(tok.i in heads)
    return feats, labels, prep_in, prep_all


def _matrix(feats: Iterable[list[str]], vocab: dict[str, int]) -> Any:
    from scipy.sparse import csr_matrix

    rows: list[int] = []
    cols: list[int] = []
    n = 0
    for i, fs in enumerate(feats):
        n = i + 1
        for f in fs:
            j = vocab.get(f)
            if j is not None:
                rows.append(i)
                cols.append(j)
    data = np.ones(len(rows), dtype=np.float64)
    return csr_matrix((data, (rows, cols)), shape=(n, len(vocab)))


def fit(feats: list[list[str]], labels: list[bool], c: float, min_count: int = 2) -> tuple[dict[str, float], float]:
    """Fit L2 logistic regression; returns (weights, bias)."""
    from sklearn.linear_model import LogisticRegression

    counts = Counter(f for fs in feats for f in set(fs))
    vocab = {f: i for i, f in enumerate(sorted(f for f, k in counts.items() if k >= min_count))}
    x = _matrix(feats, vocab)
    clf = LogisticRegression(C=c, max_iter=3000, solver="liblinear")
    clf.fit(x, np.asarray(labels))
    coef = clf.coef_[0]
    inv = sorted(vocab, key=vocab.__getitem__)
    weights = {f: round(float(w), 4) for f, w in zip(inv, coef, strict=True) if abs(w) >= 0.01}
    return weights, float(clf.intercept_[0])


def sourceless_keys(
    arts: Sequence[Article], docs: Sequence[Doc], min_count: int = 5, share: float = 0.6
) -> frozenset[str]:
    """ "lemma|tag" of cue heads whose gold source is absent at least ``share`` of the time."""
    seen: Counter[str] = Counter()
    none: Counter[str] = Counter()
    for art, doc in zip(arts, docs, strict=True):
        for at in art["gold"]["attributions"]:
            if not at.get("cue") or not at.get("content"):
                continue
            h = span_head(doc, at["cue"][0], at["cue"][1])
            if h is None:
                continue
            key = f"{h.lemma_.lower()}|{h.tag_}"
            seen[key] += 1
            none[key] += at.get("source") is None
    return frozenset(k for k, n in seen.items() if n >= min_count and none[k] >= share * n)


def cue_preps(prep_in: Counter[str], prep_all: Counter[str]) -> frozenset[str]:
    """Verb-preposition pairs whose preposition annotators put in the cue most of the time."""
    return frozenset(k for k, n in prep_in.items() if n >= 3 and n >= 0.5 * prep_all[k])


def span_scores(model: CueModel, arts: Sequence[Article], docs: Sequence[Doc]) -> dict[str, Any]:
    """Overlap/exact P/R/F1 per role of the full extractor with ``model`` on some articles."""
    from storydesk.attribution.extractor import Extractor
    from storydesk.eval.quotes import new_counts, score_article, summarise

    ex = Extractor(model)
    counts = new_counts()
    for art, doc in zip(arts, docs, strict=True):
        score_article(art, ex.extract_doc(doc), counts)
    return summarise(counts)


def train(
    arts: Sequence[Article],
    docs: Sequence[Doc],
    log: Any = print,
    cs: Sequence[float] = (0.1, 0.3),
    thresholds: Sequence[float] = (0.25, 0.3, 0.35, 0.4, 0.45),
) -> CueModel:
    """Train the cue model on parsed training articles.

    Regularisation and threshold are chosen by what they are for: the mean
    of source and content overlap F1 of the whole extractor (univocal
    projection, as the evaluation scores it) on the last fifth of ``arts``,
    with a model fitted on the first four fifths. The final model is then
    refitted on all of ``arts``.

    Args:
        arts: training articles with gold attributions.
        docs: their parses, same order.
        log: callable receiving progress lines.
        cs: inverse regularisation strengths to try.
        thresholds: decision thresholds to try.

    Returns:
        The fitted model.
    """
    cut = int(len(arts) * 0.8)
    f_tr, y_tr, pi, pa = examples(arts[:cut], docs[:cut])
    preps, sourceless = cue_preps(pi, pa), sourceless_keys(arts[:cut], docs[:cut])
    best = (-1.0, cs[0], thresholds[0])
    for c in cs:
        w, b = fit(f_tr, y_tr, c)
        for th in thresholds:
            m = CueModel(weights=w, bias=b, threshold=th, cue_preps=preps, sourceless=sourceless)
            res = span_scores(m, arts[cut:], docs[cut:])["overlap"]
            # Rounded so that float noise cannot break a tie; ties go to the
            # later (stronger C, higher threshold) setting, the more precise one.
            objective = round((res["source"]["f1"] + res["content"]["f1"]) / 2, 2)
            log(
                f"C={c} threshold={th}: held-out overlap F1 source {res['source']['f1']} "
                f"cue {res['cue']['f1']} content {res['content']['f1']}"
            )
            if objective >= best[0]:
                best = (objective, c, th)
    _, c, th = best
    feats, labels, prep_in, prep_all = examples(arts, docs)
    w, b = fit(feats, labels, c)
    log(f"chosen C={c} threshold={th}; {len(w)} weights")
    return CueModel(
        weights=w,
        bias=b,
        threshold=th,
        cue_preps=cue_preps(prep_in, prep_all),
        sourceless=sourceless_keys(arts, docs),
    )


@click.command("train-attribution")
@click.option("--dataset-dir", type=click.Path(path_type=Path, file_okay=False), default=None)
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=None)
def main(dataset_dir: Path | None, out: Path | None) -> None:
    """Train the cue scorer on PolNeAR train and write the JSON model."""
    from storydesk.attribution import load_nlp
    from storydesk.datasets import dataset_path

    ddir = dataset_dir or dataset_path("polnear")
    arts = load_split(ddir, "train")
    nlp = load_nlp()
    docs = list(nlp.pipe((a["text"] for a in arts), batch_size=16))
    model = train(arts, docs, log=click.echo)
    target = out or Path(__file__).with_name(MODEL_FILE)
    target.write_text(json.dumps(model.to_json(), sort_keys=True, separators=(",", ":")), "utf-8")
    click.echo(f"wrote {target} ({target.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
