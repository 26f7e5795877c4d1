"""The event map: everything derived from one event's articles, as pure functions.

:func:`analyze_event` dates the event and builds its timeline, names its
entities, aligns its quotes across outlets, finds its claims (with their sources)
and conflicts, and writes its cited summary. It reads no store: its input is the
event with its articles and their article-map artifacts (:class:`EventInput`),
so events are analysed in parallel, in a local process pool or in Spark.
:func:`analyze_storyline` merges the dated facts of a storyline's articles into
its timeline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np

from storydesk import artifacts as A
from storydesk.article.entities import EntityIndex
from storydesk.article.timexes import Fact
from storydesk.artifacts import Artifact
from storydesk.event.compare import compare_event
from storydesk.event.quotes import align_quotes
from storydesk.event.summarize import EventText, summarize_event
from storydesk.event.timeline import date_event, embed_facts, entries, merge, paired
from storydesk.models import (
    Article,
    Claim,
    Conflict,
    DatedFact,
    Entity,
    Event,
    Quote,
    Sentence,
    Storyline,
    SummarySentence,
    TimelineEntry,
)
from storydesk.nlp import Models

Values = dict[str, Any]


@dataclass
class EventInput:
    """What the event map reads of one event.

    Attributes:
        event: The event (id and members).
        articles: Its articles, in publication order.
        sentences: Their sentences, by article id.
        per_article: Article-map artifacts by artifact name, then article id.
        duplicates: Article id -> the original it copies (None for originals).
        provided: Event artifacts stored earlier that a re-run stage reads (by name).
        vectors: float16 judge vectors of fact texts kept from earlier runs
            (:data:`~storydesk.artifacts.FACT_VECTORS`); they save time and never change the output.
    """

    event: Event
    articles: list[Article]
    sentences: dict[str, list[Sentence]]
    per_article: dict[str, dict[str, Any]] = field(default_factory=dict)
    duplicates: dict[str, str | None] = field(default_factory=dict)
    provided: dict[str, Any] = field(default_factory=dict)
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


class _Pass:
    """One event's analysis in progress: its input, outputs so far, and shared intermediate results."""

    def __init__(self, inp: EventInput, models: Models) -> None:
        self.inp = inp
        self.models = models
        self.out: Values = dict(inp.provided)
        self._index: EntityIndex | None = None
        self._vecs: dict[str, np.ndarray] | None = None
        #: the articles the comparisons read: the earliest ``Config.event_max_articles``
        self.articles = inp.articles[: max(models.config.event_max_articles, 1)]
        self._read = {a.id for a in self.articles}
        #: the event's fact vectors to keep, once the timeline stage has run
        self.kept_vectors: dict[str, np.ndarray] | None = None

    def art(self, name: str) -> dict[str, Any]:
        """An article-map artifact of the articles read (missing ones left out)."""
        return {k: v for k, v in self.inp.per_article.get(name, {}).items() if k in self._read}

    def index(self) -> EntityIndex:
        """Canonical entities of the event's articles (built once per pass)."""
        if self._index is None:
            self._index = EntityIndex(dict(self.art("mentions")))
        return self._index

    def sentence_vectors(self) -> dict[str, np.ndarray]:
        """Vectors of every sentence of the articles read, keyed ``"article:index"`` (computed once per pass)."""
        if self._vecs is None:
            keys, texts = [], []
            for a in self.articles:
                for s in self.inp.sentences.get(a.id, []):
                    keys.append(f"{a.id}:{s.index}")
                    texts.append(s.text)
            vecs = self.models.sentences().encode(texts) if texts else np.zeros((0, 1), dtype=np.float32)
            self._vecs = dict(zip(keys, vecs, strict=True))
        return self._vecs


class EventStage:
    """Base of the event stages: a pure step over one event's articles.

    Attributes:
        name: Stage name.
        version: Bumped whenever the stage's output for the same input changes.
        requires: Artifacts it reads (article artifacts are read for every member).
        assigns: Event artifacts it writes.
        settings: :class:`~storydesk.config.Config` fields its output depends on.
    """

    name: ClassVar[str]
    version: ClassVar[str]
    scope: ClassVar[str] = "event"
    requires: ClassVar[tuple[Artifact, ...]]
    assigns: ClassVar[tuple[Artifact, ...]]
    settings: ClassVar[tuple[str, ...]] = ("event_max_articles",)
    #: Whether the output depends on the sentence embedder.
    uses_sentence_vectors: ClassVar[bool] = False

    def identity(self, models: Models) -> list[Any]:
        """What besides settings and version the output depends on."""
        out: list[Any] = [getattr(models.config, s) for s in self.settings]
        if self.uses_sentence_vectors:
            out.append(models.sentence_id())
        return out

    def compute(self, p: _Pass) -> Values:
        """The assigned artifacts of one event."""
        raise NotImplementedError


class FactVectors:
    """Judge vectors of fact texts, each rounded to float16: those kept from earlier runs, and those embedded now.

    Every vector is rounded, kept or new, so what is merged with them is the same
    whichever were kept (and Spark, which keeps none, agrees).
    """

    def __init__(self, models: Models, known: Mapping[str, np.ndarray] | None = None) -> None:
        self.models = models
        self.known: Mapping[str, np.ndarray] = known or {}
        #: the vectors embedded by this object
        self.new: dict[str, np.ndarray] = {}

    def __call__(self, texts: list[str]) -> dict[str, np.ndarray]:
        """The vector of each text, embedding only those neither kept nor embedded yet."""
        missing = [t for t in texts if t not in self.known and t not in self.new]
        if missing:
            vecs = self.models.judge().encode(missing)
            self.new.update((t, v.astype(np.float16)) for t, v in zip(missing, vecs, strict=True))
        return {t: self.known[t] if t in self.known else self.new[t] for t in texts}


def merged_facts(
    facts: Sequence[Fact], models: Models, groups: Sequence[int] | None = None, vectors: FactVectors | None = None
) -> list[Fact]:
    """Facts merged across outlets: the transformer judges only facts with a candidate partner in another article.

    Two facts of one article are rarely the same fact told twice; their pairs are
    judged by shared words, which costs nothing, so a one-article event needs no
    transformer at all.

    Args:
        facts: Dated facts.
        models: The process's models (the judge).
        groups: As for :func:`~storydesk.event.timeline.merge`.
        vectors: Where vectors come from (default: embedded afresh).
    """
    embed_facts(facts, vectors or FactVectors(models), _judged(facts, groups))
    return merge(facts, groups)


def _judged(facts: Sequence[Fact], groups: Sequence[int] | None) -> set[int]:
    """The facts with a candidate partner in another article: only those need the transformer's vectors."""
    source = [f.citations[0].article if f.citations else "" for f in facts]
    return paired(facts, groups, source)


class TimelineStage(EventStage):
    """When the event happened, and its timeline of dated facts."""

    name = "timeline"
    version = "timeline-7"
    requires = (A.EVENTS, A.ARTICLE, A.TIMEXES, A.FACTS)
    assigns = (A.EVENT_DATES, A.TIMELINE, A.EVENT_FACTS)

    def identity(self, models: Models) -> list[Any]:
        """Settings, and the embedder that judges facts (MiniLM)."""
        return [*super().identity(models), models.judge_id()]

    def compute(self, p: _Pass) -> Values:
        """Date the event and merge its facts."""
        all_timexes = p.inp.per_article.get("timexes", {})
        start, end, how = date_event(p.inp.articles, {k: list(v) for k, v in all_timexes.items()})
        raw = [Fact.of(f) for a in p.articles for f in p.art("facts").get(a.id, ())]
        vectors = FactVectors(p.models, p.inp.vectors)
        facts = merged_facts(raw, p.models, vectors=vectors)
        # kept for the next run: the vectors of the texts still here (the storyline map adds its own)
        texts = {t for f in raw for t in (f.text, f.core or f.text)}
        p.kept_vectors = {t: v for t, v in p.inp.vectors.items() if t in texts} | vectors.new
        return {
            "event_dates": {
                "start": start.isoformat() if start else None,
                "end": end.isoformat() if end else None,
                "how": how,
            },
            "timeline": tuple(entries(facts)),
            "event_facts": tuple(f.stored() for f in facts),
        }


class EntitiesStage(EventStage):
    """The event's canonical entities (spelling variants, surnames and acronyms merged)."""

    name = "event_entities"
    version = "event-entities-1"
    requires = (A.EVENTS, A.MENTIONS)
    assigns = (A.ENTITIES,)

    def compute(self, p: _Pass) -> Values:
        """Entities of the event."""
        return {"entities": tuple(p.index().entities)}


class QuotesStage(EventStage):
    """Quotes aligned across outlets, with their independent sources."""

    name = "quotes"
    version = "quotes-6"
    requires = (A.EVENTS, A.ARTICLE, A.ATTRIBUTIONS, A.PROVENANCE, A.MENTIONS)
    assigns = (A.QUOTES,)

    def identity(self, models: Models) -> list[Any]:
        """Settings, and the embedder that judges statements (MiniLM)."""
        return [*super().identity(models), models.judge_id()]

    def compute(self, p: _Pass) -> Values:
        """Align the event's quotes (the transformer reads only statements another outlet may also carry)."""
        attrs = {k: list(v) for k, v in p.art("attributions").items()}
        quotes = align_quotes(
            attrs,
            p.models.judge(),
            dict(p.art("provenance")),
            p.index(),
            texts={a.id: a.text for a in p.articles},
        )
        return {"quotes": tuple(quotes)}


class CompareStage(EventStage):
    """Claims with their independent sources, and conflicts between outlets."""

    name = "compare"
    version = "compare-6"
    requires = (A.EVENTS, A.ARTICLE, A.SENTENCES, A.ATTRIBUTIONS, A.PROVENANCE, A.MENTIONS, A.DUPLICATE)
    assigns = (A.CLAIMS, A.CONFLICTS)
    uses_sentence_vectors = True

    def compute(self, p: _Pass) -> Values:
        """Compare the event's articles."""
        claims, conflicts = compare_event(
            p.articles,
            {a.id: p.inp.sentences.get(a.id, []) for a in p.articles},
            p.sentence_vectors(),
            p.art("attributions"),
            p.art("provenance"),
            p.index(),
            p.inp.duplicates,
        )
        return {"claims": tuple(claims), "conflicts": tuple(conflicts)}


class SummarizeStage(EventStage):
    """Headline and cited summary."""

    name = "summarize"
    version = "summary-6"
    requires = (A.EVENTS, A.ARTICLE, A.SENTENCES, A.CLAIMS, A.DUPLICATE)
    assigns = (A.SUMMARY,)
    settings = ("event_max_articles", "summary_sentences")
    uses_sentence_vectors = True

    def compute(self, p: _Pass) -> Values:
        """Summarise the event from its originals (near-copies left out)."""
        text = _event_text(p)
        head, summary = summarize_event(text, p.out.get("claims", ()), max(p.models.config.summary_sentences, 1))
        return {"summary": (head or p.inp.event.title, tuple(summary))}


def _event_text(p: _Pass) -> EventText:
    """What the summarizer reads: the event's originals (near-copies left out), sentences and vectors."""
    originals = [a for a in p.articles if not p.inp.duplicates.get(a.id)]
    vecs = p.sentence_vectors()
    keep = {a.id for a in originals}
    return EventText(
        articles=originals,
        sentences={a.id: list(p.inp.sentences.get(a.id, [])) for a in originals},
        vecs={k: v for k, v in vecs.items() if k.split(":", 1)[0] in keep},
    )


def event_text(inp: EventInput, models: Models) -> EventText:
    """The summarizer's view of an event (evaluations fit the word model on it)."""
    return _event_text(_Pass(inp, models))


#: The event stages in run order.
EVENT_STAGES: tuple[EventStage, ...] = (
    TimelineStage(),
    EntitiesStage(),
    QuotesStage(),
    CompareStage(),
    SummarizeStage(),
)


def analyze_event(inp: EventInput, models: Models, stages: Sequence[EventStage] = EVENT_STAGES) -> Values:
    """The event map over one event.

    Args:
        inp: The event, its articles and their article-map artifacts.
        models: The process's models (the sentence embedder).
        stages: Event stages to run, in order; a stage reading another's output
            finds it computed earlier in the pass or in ``inp.provided``.

    Returns:
        The event artifacts computed, by name.
    """
    return event_pass(inp, models, stages)[0]


def event_pass(
    inp: EventInput, models: Models, stages: Sequence[EventStage] = EVENT_STAGES
) -> tuple[Values, dict[str, np.ndarray] | None]:
    """:func:`analyze_event`, and the event's fact vectors to keep (None unless the timeline stage ran)."""
    p = _Pass(inp, models)
    done: Values = {}
    for st in stages:
        out = st.compute(p)
        p.out.update(out)
        done.update(out)
    return done, p.kept_vectors


@dataclass(frozen=True)
class EventAnalysis:
    """Everything the event map derives from one event's articles (the typed form of :func:`analyze_event`).

    Attributes:
        event_id: The event.
        event_dates: When it happened: ``{start, end, how}``.
        timeline: Its dated facts, merged across outlets.
        event_facts: The same facts in stored form (what storylines merge).
        entities: Its canonical entities.
        quotes: Quotes aligned across outlets.
        claims: Claims with who they come from in each article.
        conflicts: Where outlets disagree.
        summary: Headline and cited summary sentences.
    """

    event_id: str
    event_dates: dict[str, Any]
    timeline: tuple[TimelineEntry, ...]
    event_facts: tuple[DatedFact, ...]
    entities: tuple[Entity, ...]
    quotes: tuple[Quote, ...]
    claims: tuple[Claim, ...]
    conflicts: tuple[Conflict, ...]
    summary: tuple[str, tuple[SummarySentence, ...]]


def event_analysis(inp: EventInput, models: Models | None = None) -> EventAnalysis:
    """The whole event map over one event, as one typed record (a pure function of its input).

    The pipeline runs :func:`analyze_event` with only the stages whose outputs are stale;
    this runs them all.
    """
    out = analyze_event(inp, models or Models())
    return EventAnalysis(event_id=inp.event.id, **out)


@dataclass
class StorylineInput:
    """What the storyline map reads: the storyline and its events' merged facts (one list per event).

    ``vectors`` holds float16 judge vectors of fact texts kept from earlier runs
    (:data:`~storydesk.artifacts.FACT_VECTORS`); it saves time and never changes the output.
    """

    storyline: Storyline
    facts: list[list[DatedFact]]
    vectors: dict[str, np.ndarray] = field(default_factory=dict)


class StorylineTimelineStage:
    """A storyline's timeline: its events' timelines, with the same fact told in two events folded into one."""

    name: ClassVar[str] = "storyline_timeline"
    version: ClassVar[str] = "storyline-timeline-5"
    scope: ClassVar[str] = "storyline"
    requires: ClassVar[tuple[Artifact, ...]] = (A.STORYLINES, A.EVENTS, A.EVENT_FACTS)
    assigns: ClassVar[tuple[Artifact, ...]] = (A.STORYLINE_TIMELINE,)
    settings: ClassVar[tuple[str, ...]] = ()

    def identity(self, models: Models) -> list[Any]:
        """The embedder that judges facts."""
        return [models.judge_id()]


def analyze_storyline(inp: StorylineInput, models: Models) -> Values:
    """The storyline map: the storyline's timeline (facts of one event are not merged again).

    Facts of a long storyline are many (thousands at 10,000 articles), and a change to one
    event would have the transformer judge them all again: vectors already known come from
    ``inp.vectors``. Every vector is rounded to float16, known or new, so the timeline is the
    same whichever were known.

    Returns:
        ``storyline_timeline``, and ``new_vectors``: the float16 vectors embedded in this call.
    """
    facts = [Fact.of(f) for group in inp.facts for f in group]
    groups = [g for g, group in enumerate(inp.facts) for _f in group]
    vectors = FactVectors(models, inp.vectors)
    embed_facts(facts, vectors, _judged(facts, groups))
    new = vectors.new
    return {"storyline_timeline": tuple(entries(merge(facts, groups))), "new_vectors": new}


def event_dates(values: Mapping[str, Any]) -> tuple[dt.date | None, dt.date | None]:
    """``(start, end)`` of an ``event_dates`` value."""
    d = values or {}
    return (
        dt.date.fromisoformat(d["start"]) if d.get("start") else None,
        dt.date.fromisoformat(d["end"]) if d.get("end") else None,
    )
