"""The article map: everything that depends on one article alone, as pure functions.

:func:`analyze_batch` runs the article stages over a batch of articles: one spaCy
pass (NER and the dependency parse), temporal expressions and dated facts,
attributions with resolved speakers and their provenance, the near-duplicate
signature, the title+lead vector and the event-assignment signals. It reads no store and
writes none; models are loaded once per process (:class:`~storydesk.nlp.Models`),
so the same function runs in the local process pool or in Spark executors.

Each stage declares the artifacts it requires and assigns
(:mod:`storydesk.artifacts`); :mod:`storydesk.pipeline` checks them and runs only
the stages whose outputs are missing or stale.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np

from storydesk import artifacts as A
from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex, extract
from storydesk.article.signals import lead_text, signals
from storydesk.article.signature import signature
from storydesk.article.timexes import dated_facts, tag_article
from storydesk.artifacts import Artifact
from storydesk.models import (
    Article,
    ArticleEntities,
    ArticleSignals,
    Attribution,
    DatedFact,
    Provenance,
    Sentence,
    TimeExpression,
)
from storydesk.nlp import Models, parse_many, spacy_identity

Values = dict[str, Any]


class ArticleStage:
    """Base of the article stages: a pure step from some artifacts of one article to others.

    Attributes:
        name: Stage name (``storydesk stages`` lists them).
        version: Bumped whenever the stage's output for the same input changes.
        requires: Artifacts it reads.
        assigns: Artifacts it writes.
        settings: :class:`~storydesk.config.Config` fields its output depends on.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    scope: ClassVar[str] = "article"
    requires: ClassVar[tuple[Artifact, ...]]
    assigns: ClassVar[tuple[Artifact, ...]]
    settings: ClassVar[tuple[str, ...]] = ()

    def identity(self, models: Models) -> list[Any]:
        """What besides settings and version the output depends on (model identities)."""
        return [getattr(models.config, s) for s in self.settings]

    def compute(self, v: Values, models: Models) -> Values:
        """The assigned artifacts from the required ones (``v`` maps artifact names to values)."""
        raise NotImplementedError

    def compute_many(self, vs: Sequence[Values], models: Models) -> list[Values]:
        """:meth:`compute` over a batch (stages that batch a model call override it)."""
        return [self.compute(v, models) for v in vs]


class ParseStage(ArticleStage):
    """The one spaCy pass: title and body (transient; never stored)."""

    name = "parse"
    version = "parse-2"
    requires = (A.ARTICLE,)
    assigns = (A.DOC,)
    settings = ("spacy_model",)

    def identity(self, models: Models) -> list[Any]:
        """The spaCy model package and its version."""
        return [spacy_identity(models.config.spacy_model)]

    def compute_many(self, vs: Sequence[Values], models: Models) -> list[Values]:
        """Parse bodies in batches of bounded size, long ones in pieces (:func:`~storydesk.nlp.parse_many`)."""
        nlp = models.nlp
        arts: list[Article] = [v["article"] for v in vs]
        bodies = parse_many(nlp, [a.text for a in arts])
        titles = iter(nlp.pipe([a.title for a in arts if a.title]))
        return [{"doc": (doc, next(titles) if a.title else None)} for a, doc in zip(arts, bodies, strict=True)]

    def compute(self, v: Values, models: Models) -> Values:
        """Parse one article."""
        return self.compute_many([v], models)[0]


class EntitiesStage(ArticleStage):
    """Named-entity mentions, acronym definitions and descriptions."""

    name = "entities"
    version = "entities-3"
    requires = (A.ARTICLE, A.SENTENCES, A.DOC)
    assigns = (A.MENTIONS,)

    def compute(self, v: Values, models: Models) -> Values:
        """Mentions of one article."""
        doc, title = v["doc"]
        return {"mentions": extract(v["article"], list(v["sentences"]), doc, title)}


class TimexStage(ArticleStage):
    """Temporal expressions, anchored on the publication date."""

    name = "timex"
    version = "timex-1"
    requires = (A.ARTICLE, A.SENTENCES)
    assigns = (A.TIMEXES,)

    def compute(self, v: Values, models: Models) -> Values:
        """Tag one article."""
        return {"timexes": tuple(tag_article(v["article"], v["sentences"]))}


class FactsStage(ArticleStage):
    """Dated facts: the clause around each anchored expression."""

    name = "facts"
    version = "facts-2"
    requires = (A.ARTICLE, A.SENTENCES, A.TIMEXES)
    assigns = (A.FACTS,)

    def compute(self, v: Values, models: Models) -> Values:
        """Facts of one article."""
        facts = dated_facts(v["article"], v["sentences"], v["timexes"])
        return {"facts": tuple(f.stored() for f in facts)}


class AttributionsStage(ArticleStage):
    """Quotes and reported statements with their speakers resolved inside the article, and its provenance."""

    name = "attributions"
    version = "attributions-4"
    requires = (A.ARTICLE, A.SENTENCES, A.DOC, A.MENTIONS)
    assigns = (A.ATTRIBUTIONS, A.PROVENANCE)

    def compute(self, v: Values, models: Models) -> Values:
        """Attributions and provenance of one article."""
        from storydesk.attribution import extract_doc
        from storydesk.attribution.resolve import resolve_article

        art: Article = v["article"]
        ents: ArticleEntities = v["mentions"]
        doc, _title = v["doc"]
        records = {art.id: ents}
        index = EntityIndex(records)
        media = prov.MediaResolver([art], records, index)
        attrs = resolve_article(art, v["sentences"], extract_doc(doc), list(ents.mentions), index, media)
        return {
            "attributions": tuple(attrs),
            "provenance": prov.article_provenance(art, attrs, media),
        }


class SignatureStage(ArticleStage):
    """MinHash signature for near-duplicate detection."""

    name = "signature"
    version = "signature-1"
    requires = (A.ARTICLE,)
    assigns = (A.SIGNATURE,)
    settings = ("dedup_shingle",)

    def compute(self, v: Values, models: Models) -> Values:
        """Signature of one article."""
        return {"signature": signature(v["article"], models.config.dedup_shingle)}


class EmbedStage(ArticleStage):
    """Title+lead vector (event assignment)."""

    name = "embed"
    version = "embed-2"
    requires = (A.ARTICLE, A.SENTENCES)
    assigns = (A.LEAD_VECTOR,)

    def identity(self, models: Models) -> list[Any]:
        """The lead embedder."""
        return [models.lead_id()]

    def compute(self, v: Values, models: Models) -> Values:
        """Vector of one article.

        Each text is encoded alone: a batch pads texts to a common length, and the
        padded matrix products round differently, so batching would make a vector
        depend on its neighbours in the batch (and results on the number of workers).
        """
        text = lead_text(v["article"], v["sentences"])
        return {"lead_vector": np.asarray(models.lead().encode([text])[0], dtype=np.float32)}


class SignalsStage(ArticleStage):
    """Proper-name and content-word bags and the happening date of the lead."""

    name = "signals"
    version = "signals-2"
    requires = (A.ARTICLE, A.TIMEXES)
    assigns = (A.SIGNALS,)

    def compute(self, v: Values, models: Models) -> Values:
        """Signals of one article."""
        return {"signals": signals(v["article"], v["timexes"])}


#: The article stages in run order.
ARTICLE_STAGES: tuple[ArticleStage, ...] = (
    ParseStage(),
    EntitiesStage(),
    TimexStage(),
    FactsStage(),
    AttributionsStage(),
    SignatureStage(),
    EmbedStage(),
    SignalsStage(),
)


def closure(stages: Iterable[ArticleStage], wanted: Iterable[str]) -> list[ArticleStage]:
    """The stages (in run order) needed to compute the ``wanted`` stage names and their transient inputs."""
    by_name = {s.name: s for s in stages}
    producer = {a.name: s for s in stages for a in s.assigns}
    need: set[str] = set()

    def add(name: str) -> None:
        if name in need:
            return
        need.add(name)
        for art in by_name[name].requires:
            src = producer.get(art.name)
            if src is not None and not art.stored:
                add(src.name)

    for w in wanted:
        add(w)
    return [s for s in stages if s.name in need]


def analyze_batch(
    items: Sequence[tuple[Article, Sequence[Sentence], Mapping[str, Any]]],
    models: Models,
    stages: Sequence[ArticleStage] = ARTICLE_STAGES,
) -> list[dict[str, Any]]:
    """Run article stages over a batch of articles.

    Args:
        items: ``(article, sentences, provided)`` per article; ``provided`` holds
            stored inputs of stages that are not re-run (by artifact name).
        models: The process's models.
        stages: The stages to run, in order (inputs they need must be computed by an
            earlier stage in the list or be provided).

    Returns:
        Per article, the stored artifacts computed, by name.
    """
    vals: list[Values] = [{"article": a, "sentences": tuple(s), **dict(p)} for a, s, p in items]
    for st in stages:
        outs = st.compute_many(vals, models)
        for v, o in zip(vals, outs, strict=True):
            v.update(o)
    names = {a.name for st in stages for a in st.assigns if a.stored}
    return [{k: v[k] for k in names} for v in vals]


@dataclass(frozen=True)
class ArticleAnalysis:
    """Everything the article map derives from one article.

    Attributes:
        article_id: The article.
        mentions: Named-entity evidence.
        timexes: Temporal expressions.
        facts: Dated facts.
        attributions: Quotes and reported statements with resolved speakers.
        provenance: Primary sources and relays.
        signature: MinHash signature (uint32).
        lead_vector: Title+lead vector.
        signals: Event-assignment signals.
    """

    article_id: str
    mentions: ArticleEntities
    timexes: tuple[TimeExpression, ...]
    facts: tuple[DatedFact, ...]
    attributions: tuple[Attribution, ...]
    provenance: Provenance
    signature: np.ndarray
    lead_vector: np.ndarray
    signals: ArticleSignals


def analyze(article: Article, sentences: Sequence[Sentence], models: Models | None = None) -> ArticleAnalysis:
    """The article map over one article: every article-level artifact, as a pure function of the article.

    The pipeline runs the same stages over batches in its worker pool (and Spark in
    its executors); this is the one-article form, for the library and for tests.

    Args:
        article: A cleaned article.
        sentences: Its sentences.
        models: Models to use (default: the configured ones, loaded once per process).
    """
    out = analyze_batch([(article, sentences, {})], models or Models())[0]
    return ArticleAnalysis(article_id=article.id, **out)
