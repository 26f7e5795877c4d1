from typing import Any

from storydesk.textutil import (
    DATE_WORDS,
    STOP_WORDS,
    content_id,
    content_words,
    fold,
    normalize_text,
    sentence_texts,
    split_paragraphs,
    stem,
    tokens,
)


def test_sentences_respect_abbreviations_initials_and_quotes():
    text = (
        'Gen. Ravel Osk met U.S. envoys on Friday. "We will not yield," he said. '
        "J. K. Marr, a spokesman, added that talks would resume.\n\n"
        "The rate rose 3.5 percent... officials said."
    )
    assert sentence_texts(text) == [
        "Gen. Ravel Osk met U.S. envoys on Friday.",
        '"We will not yield," he said.',
        "J. K. Marr, a spokesman, added that talks would resume.",
        "The rate rose 3.5 percent... officials said.",
    ]


def test_sentence_after_closing_curly_quote_and_question():
    assert sentence_texts("He asked “Why now?” Nobody answered. Is it over? Yes.") == [
        "He asked “Why now?”",
        "Nobody answered.",
        "Is it over?",
        "Yes.",
    ]


def test_paragraphs_single_newlines_and_soft_wraps():
    text = "First paragraph ends here.\nSecond paragraph starts\nand wraps here.\n\nThird."
    assert split_paragraphs(text) == ["First paragraph ends here.", "Second paragraph starts and wraps here.", "Third."]


def test_normalize_and_fold():
    assert normalize_text("a\u00a0b\u200b c\r\n  d  ") == "a b c\nd"
    assert normalize_text("nul\x00 and bell\x07 gone") == "nul and bell gone"
    assert fold("Kim’s “Plan” – Now") == 'kim\'s "plan" - now'


def test_content_id_is_stable_and_sensitive():
    a = content_id("x.txt", None, "Title", "Body text")
    assert a == content_id("x.txt", None, "title", "Body  text")  # folded
    assert a != content_id("y.txt", None, "Title", "Body text")
    assert len(a) == 16


def test_stem_meets_inflected_forms() -> None:
    groups = [
        ("report", "reports", "reported", "reporting", "reportedly"),
        ("charge", "charges", "charged", "charging"),
        ("carry", "carries", "carried", "carrying"),
        ("stop", "stops", "stopped", "stopping"),
        ("say", "says", "said", "saying"),
        ("agree", "agrees", "agreed"),
        ("rebuild", "rebuilds", "rebuilt"),
        ("drastic", "drastically"),
        ("supply", "supplies"),
        ("family", "families"),
    ]
    for forms in groups:
        assert len({stem(w) for w in forms}) == 1, (forms, [stem(w) for w in forms])
    # what must stay apart, and what is left alone
    assert stem("kill") == stem("killed") == "kill" and stem("pass") == stem("passes") == "pass"
    assert stem("crisis") == "crisis" and stem("status") == "status" and stem("thing") == "thing"
    assert stem("400") == "400" and stem("f-16") == "f-16" and stem("war") == "war"


def test_content_words_use_spacy_stop_words() -> None:
    assert {"the", "whereupon", "nevertheless", "n't"} <= STOP_WORDS
    assert "'s" in STOP_WORDS and "’s" not in STOP_WORDS  # folded like the text they are checked against
    assert "yesterday" in DATE_WORDS and "monday" in DATE_WORDS
    assert tokens("Kim’s anti-war U.S. trip") == ["kim", "s", "anti", "war", "u", "s", "trip"]
    got = content_words("The Floods’ reports: 300 homes were evacuated")
    assert got == ["flood", "report", "300", "hom", "evacuat"]
    assert content_words("He said it yesterday", DATE_WORDS | STOP_WORDS) == ["say"]


# --------------------------------------------------------------------------- the judge's vector cache


def _cached_embedder(size: int) -> Any:
    """An OnnxMiniLM whose model is a stand-in (the cache logic only), counting what it encodes."""
    from collections import OrderedDict

    import numpy as np

    from storydesk.embed import OnnxMiniLM

    emb = object.__new__(OnnxMiniLM)
    emb.cache_size, emb._cache, emb.dim, emb.encoded = size, OrderedDict(), 2, []

    def fake(texts: Any) -> Any:
        emb.encoded.extend(texts)
        return np.array([[len(t), 1.0] for t in texts], dtype=np.float32)

    emb._encode = fake
    return emb


def test_vector_cache_never_evicts_a_vector_the_same_call_returns():
    emb = _cached_embedder(2)
    emb.encode(["old"])
    # "old" is a hit, then three new texts overflow the cache: it once got evicted before being read (KeyError)
    got = emb.encode(["old", "a", "bb", "ccc", "old"])
    assert [int(v[0]) for v in got] == [3, 1, 2, 3, 3]
    assert emb.encoded == ["old", "a", "bb", "ccc"] and len(emb._cache) == 2
    assert list(emb._cache) == ["bb", "ccc"]  # the newest entries are the ones kept
    emb.encode(["ccc"])
    assert emb.encoded == ["old", "a", "bb", "ccc"]  # a hit is not encoded again


def test_a_text_gets_the_same_vector_whatever_its_batch():
    """The judge cache and the batch size rest on this: padding is masked and rows are computed on their own."""
    import numpy as np

    from storydesk.embed import OnnxMiniLM

    texts = [
        "Pyongyang fired two short-range missiles into the sea on Thursday, the South's military said.",
        "Talks resumed.",
        "The ministry said the drills, which began on August 21, would run through the end of the month "
        "despite warnings from the North that they would be met with a response.",
        "Officials declined to comment.",
        "Flooding forced 300 families from their homes, according to the regional governor's office.",
    ] * 3
    emb = OnnxMiniLM(max_tokens=64, threads=1)
    base = None
    for size in (1, 4, 8, 32):
        emb.batch_size = size
        got = emb.encode(texts)
        assert got.shape == (len(texts), emb.dim)
        if base is None:
            base = got
            assert not np.allclose(got[0], got[1])  # different texts, different vectors
        else:
            assert np.array_equal(got, base), f"batch size {size} changed a vector"
