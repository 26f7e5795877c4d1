"""The learned cue scorer: a logistic-regression model stored as JSON weights.

Kept as a plain feature -> weight mapping (no pickle) so it loads fast, is
safe to read, and is reproducible from :mod:`storydesk.eval.train_cues`.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from spacy.tokens import Doc

from storydesk.attribution.features import headline_end, is_candidate, token_features
from storydesk.errors import ModelError

MODEL_FILE = "cue_model.json"


@dataclass(frozen=True)
class CueModel:
    """Linear cue scorer plus the lexical statistics learned with it.

    Attributes:
        weights: feature name -> weight (features absent here weigh 0).
        bias: intercept.
        threshold: minimum probability for a token to head a cue.
        cue_preps: "lemma preposition" pairs whose preposition belongs to the cue
            and whose object is the content ("call for", "refer to").
        sourceless: "lemma|tag" keys of cues annotators leave without a source
            even when the parse offers one ("it seems", "Asked about ...,",
            "is expected to").
    """

    weights: dict[str, float]
    bias: float
    threshold: float
    cue_preps: frozenset[str]
    sourceless: frozenset[str] = frozenset()

    def score(self, features: list[str]) -> float:
        """Probability that a candidate with ``features`` heads a cue."""
        w = self.weights
        z = self.bias + sum(w.get(f, 0.0) for f in features)
        if z < -30:
            return 0.0
        return 1.0 / (1.0 + math.exp(-z))

    def cue_scores(self, doc: Doc, in_quote: list[bool]) -> list[tuple[int, float]]:
        """``(token index, probability)`` of the tokens that head a cue, in text order.

        Args:
            doc: parsed document.
            in_quote: per token, whether it lies inside quotation marks.
        """
        heads: list[tuple[int, float]] = []
        title_end = headline_end(doc)
        for sent in doc.sents:
            sent_quote = any(c in sent.text for c in '"“”')
            for tok in sent:
                headline = tok.idx < title_end
                if not is_candidate(tok, headline):
                    continue
                feats = list(token_features(tok, in_quote[tok.i], sent_quote, headline))
                p = self.score(feats)
                if p >= self.threshold:
                    heads.append((tok.i, p))
        return heads

    def to_json(self) -> dict[str, object]:
        """Serialisable form, written by the training command."""
        return {
            "format": 1,
            "bias": self.bias,
            "threshold": self.threshold,
            "cue_preps": sorted(self.cue_preps),
            "sourceless": sorted(self.sourceless),
            "weights": self.weights,
        }

    @classmethod
    def from_json(cls, data: dict[str, object]) -> CueModel:
        """Inverse of :meth:`to_json`."""
        weights = data["weights"]
        preps = data["cue_preps"]
        sourceless = data.get("sourceless", [])
        if not isinstance(weights, dict) or not isinstance(preps, list) or not isinstance(sourceless, list):
            raise ModelError("malformed cue model file")
        return cls(
            weights={str(k): float(v) for k, v in weights.items()},
            bias=float(data["bias"]),  # type: ignore[arg-type]
            threshold=float(data["threshold"]),  # type: ignore[arg-type]
            cue_preps=frozenset(str(p) for p in preps),
            sourceless=frozenset(str(k) for k in sourceless),
        )


def load_model(path: Path | None = None) -> CueModel:
    """Load the cue model shipped in this package (or from ``path``).

    Raises:
        ModelError: when the file is missing or malformed.
    """
    try:
        if path is None:
            raw = resources.files("storydesk.attribution").joinpath(MODEL_FILE).read_text("utf-8")
        else:
            raw = path.read_text("utf-8")
        return CueModel.from_json(json.loads(raw))
    except (OSError, ValueError, KeyError) as exc:
        raise ModelError(f"cannot load attribution cue model: {exc}") from exc
