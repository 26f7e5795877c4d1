"""The typed record model: every record storydesk stores or exports.

All records are frozen dataclasses. Collections are tuples so records stay
hashable and immutable. :func:`to_dict` / :func:`from_dict` convert any record
to and from plain JSON-ready dictionaries (dates become ``YYYY-MM-DD``).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import types
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class StrippedLine:
    """A piece of the raw text that cleaning removed from the story body.

    Kept because it is evidence: relay credits ("(With inputs from AP)") and photo
    credits name the agencies an article came through.
    """

    text: str
    kind: str  # caption, photo_credit, relay_credit, read_time, social, editors_note, byline, promo, title_junk
    paragraph: int = -1


@dataclass(frozen=True)
class Article:
    """One news article after ingest and cleaning.

    Attributes:
        id: Stable content id (hex), the same for the same input on every run.
        source: Input file path or the source's own id (exported as ``path``).
        text: Cleaned story body; paragraphs separated by a blank line.
        title: Headline, or None when the input has none.
        outlet: Publisher name when known.
        published: Publication date, from metadata, a header or inferred from the text.
        published_source: Where ``published`` came from (``header``, ``metadata``,
            ``byline``, ``inferred: ...``) or ``unknown``.
        url: Source URL when known.
        dateline: Place dateline stripped from the first paragraph ("PYONGYANG").
        subheadings: Cross-heads found inside the body (not part of ``text``).
        stripped: Boilerplate removed by cleaning, kept as provenance evidence.
        format: Input format (``text``, ``jsonl``, ``html``, ``feed``).
        raw_sha256: Hash of the raw input item, for audit.
    """

    id: str
    source: str
    text: str
    title: str | None = None
    outlet: str | None = None
    published: dt.date | None = None
    published_source: str = "unknown"
    url: str | None = None
    dateline: str | None = None
    subheadings: tuple[str, ...] = ()
    stripped: tuple[StrippedLine, ...] = ()
    format: str = "text"
    raw_sha256: str = ""


@dataclass(frozen=True)
class Sentence:
    """A sentence of an article body, with character offsets into ``Article.text``."""

    article_id: str
    index: int
    text: str
    start: int
    end: int
    paragraph: int = 0


@dataclass(frozen=True)
class Rejection:
    """An input storydesk refused, with the reason; never silently dropped."""

    source: str
    code: str
    reason: str
    at: str = ""


@dataclass(frozen=True)
class Citation:
    """A pointer to one sentence of one article (index into its sentence list)."""

    article: str
    sentence: int


@dataclass(frozen=True)
class Mention:
    """One mention of a named entity in an article."""

    article_id: str
    sentence: int
    start: int  # character offsets into Article.text
    end: int
    text: str
    type: str
    entity: str = ""  # canonical entity id, filled by canonicalisation


@dataclass(frozen=True)
class Entity:
    """A canonical entity with every surface form seen for it.

    Attributes:
        id: Stable id derived from the canonical name and type.
        name: Canonical (longest, most complete) name.
        type: PERSON, ORG, GPE, EVENT, NORP, LOC, ...
        aliases: Every surface form, the canonical name included.
        short: The short form a journalist uses after first mention ("KCNA").
    """

    id: str
    name: str
    type: str
    aliases: tuple[str, ...] = ()
    short: str = ""


@dataclass(frozen=True)
class TimeExpression:
    """A temporal expression found in an article and normalised (TIMEX3-style).

    ``start``/``end`` give the calendar span the expression denotes when it is
    anchored on the calendar (a date, week, month, range); durations and sets
    have a ``value`` but no span.
    """

    article_id: str
    sentence: int
    start_char: int
    end_char: int
    text: str
    type: str  # DATE, TIME, DURATION, SET
    value: str  # ISO-TimeML value: 2023-08-11, 2023-W32, 2023-08, P3D, PRESENT_REF ...
    start: dt.date | None = None
    end: dt.date | None = None
    role: str = ""  # "report" when it dates the reporting act, "event" otherwise


@dataclass(frozen=True)
class ArticleEntities:
    """The named-entity evidence of one article (the article map's ``mentions`` artifact).

    Attributes:
        mentions: Every kept NER mention of the title (sentence -1) and body.
        definitions: ``(long form, acronym)`` pairs the text defines ("Korean Central News Agency (KCNA)").
        descriptions: ``(description, person name)`` pairs written next to a name
            ("North Korean leader Kim Jong-un").
    """

    mentions: tuple[Mention, ...] = ()
    definitions: tuple[tuple[str, str], ...] = ()
    descriptions: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ArticleSignals:
    """What event assignment reads of one article besides its vector.

    Attributes:
        names: Proper names of the title and body start (folded) with their counts.
        words: Content words with their counts.
        happened: The first past day or short range the lead dates the news to, if any.
    """

    names: dict[str, int] = field(default_factory=dict)
    words: dict[str, int] = field(default_factory=dict)
    happened: tuple[dt.date, dt.date] | None = None


@dataclass(frozen=True)
class DatedFact:
    """A clause of one article and the date it states (stored form of a timeline fact).

    Attributes:
        first: First day of the dated span.
        last: Last day.
        precision: ``day``, ``range``, ``week``, ``month`` or ``year``.
        text: The clause around the date expression (or its whole sentence).
        core: The few words around the expression that say what happened then.
        citations: The sentence stating it.
        published: Publication date of the article.
        role: ``report`` when it dates the reporting act, ``lead`` for an undated
            opening sentence, else ``event``.
    """

    first: dt.date
    last: dt.date
    precision: str
    text: str
    citations: tuple[Citation, ...]
    core: str = ""
    published: tuple[dt.date, ...] = ()
    role: str = "event"


@dataclass(frozen=True)
class TimelineEntry:
    """A dated fact: what happened on ``date`` (through ``end``), with citations."""

    date: dt.date
    text: str
    citations: tuple[Citation, ...]
    end: dt.date | None = None
    precision: str = "day"  # day, week, month, year
    background: bool = False  # long before the coverage starts ("in 2019"): context, not the news


@dataclass(frozen=True)
class Attribution:
    """A quote or reported statement found in one article.

    Attributes:
        article_id: Article holding it.
        sentence: Index of the sentence where the content starts.
        content: The quoted or reported content.
        content_start: Character offset of the content in ``Article.text``.
        content_end: End offset of the content.
        speaker: Canonical speaker name (resolved through pronouns and descriptions), or None.
        speaker_text: The speaker as written ("he", "the North Korean leader").
        cue: The attribution cue ("said", "called for", "according to").
        direct: True for a quotation in quote marks.
        via: Sources the statement passed through, nearest to the speaker first
            (e.g. ``("KCNA", "Yonhap")``).
        confidence: How sure the extractor is of the speaker (1.0 from the cue's syntax,
            lower for a speaker taken from context).
        channel: What carried the words when it is not a medium ("a statement", "a
            recording of the meeting"): kept for the reader, never counted as a source.
    """

    article_id: str
    sentence: int
    content: str
    content_start: int
    content_end: int
    speaker: str | None = None
    speaker_text: str = ""
    cue: str = ""
    cue_start: int = -1
    cue_end: int = -1
    speaker_start: int = -1
    speaker_end: int = -1
    direct: bool = True
    via: tuple[str, ...] = ()
    confidence: float = 1.0
    channel: str = ""


@dataclass(frozen=True)
class Provenance:
    """Where one article's information came from.

    ``primary`` are original sources (KCNA); ``relays`` the agencies or outlets
    that passed it on (Yonhap, AP, AFP); ``evidence`` the text that shows each.
    """

    article_id: str
    primary: tuple[str, ...] = ()
    relays: tuple[str, ...] = ()
    evidence: tuple[str, ...] = ()


@dataclass(frozen=True)
class QuoteVariant:
    """How one article words a quote."""

    article: str
    text: str
    sentence: int = -1


@dataclass(frozen=True)
class Quote:
    """One statement aligned across the articles of an event."""

    speaker: str | None
    text: str
    variants: tuple[QuoteVariant, ...]
    via: tuple[str, ...] = ()
    cue: str = ""
    direct: bool = True
    independent_sources: int = 1


@dataclass(frozen=True)
class ClaimSource:
    """Who one article's sentence of a claim comes from.

    Attributes:
        article: The article.
        sentence: Its sentence stating the claim.
        source: Who the sentence attributes the claim to: a speaker ("Kim Jong Un",
            "Numerous experts"), a medium ("KCNA"), or ``own:<outlet>`` for the outlet's
            own reporting (an unattributed sentence; the outlet is the wire the article
            credits for its text, else its outlet, else the article id).
        origin: Where the information originates, what independence counts: the
            medium a speaker's words came through when one carried them ("KCNA" for
            Kim Jong Un's words, whichever outlet prints them), else the speaker, or
            the outlet for its own reporting (``own:<outlet>``).
        via: The media the words passed through, nearest to the source first
            (``("KCNA", "Yonhap")``).
        kind: ``quoted`` (the sentence quotes the source's words), ``reported``
            (attributed without quotation marks) or ``own`` (unattributed).
    """

    article: str
    sentence: int
    source: str
    origin: str
    via: tuple[str, ...] = ()
    kind: str = "own"


@dataclass(frozen=True)
class Claim:
    """A fact stated by one or more articles of an event.

    ``attributions`` says, per article, who the claim comes from; ``sources`` are the
    distinct origins behind them (near-copies counted with their original) and
    ``independent_sources`` their number.
    """

    text: str
    articles: tuple[str, ...]
    citations: tuple[Citation, ...]
    independent_sources: int = 1
    sources: tuple[str, ...] = ()
    single_source: bool = False
    attributions: tuple[ClaimSource, ...] = ()


@dataclass(frozen=True)
class ConflictValue:
    """One side of a conflict: a value and the articles that state it."""

    value: str
    articles: tuple[str, ...]
    citations: tuple[Citation, ...] = ()


@dataclass(frozen=True)
class Conflict:
    """Aligned statements that differ in a name, number, date, place or wording."""

    about: str
    kind: str  # name, number, date, place, characterisation
    values: tuple[ConflictValue, ...]


@dataclass(frozen=True)
class SummarySentence:
    """A summary sentence and the sentences that support it."""

    text: str
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Event:
    """A group of articles about one happening."""

    id: str
    articles: tuple[str, ...]
    title: str = ""
    storyline: str | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass(frozen=True)
class Storyline:
    """Events linked into one developing story."""

    id: str
    events: tuple[str, ...]
    title: str = ""


# --------------------------------------------------------------------------- codec


#: field names of each record class met by :func:`to_dict` (None: not a record)
_NAMES: dict[type, tuple[str, ...] | None] = {}


def to_dict(obj: Any) -> Any:
    """Convert a record (or a tuple/list/dict of records) to JSON-ready data."""
    cls = type(obj)
    try:
        names = _NAMES[cls]
    except KeyError:
        record = dataclasses.is_dataclass(obj) and not isinstance(obj, type)
        names = _NAMES[cls] = tuple(f.name for f in dataclasses.fields(obj)) if record else None
    if names is not None:
        return {n: to_dict(getattr(obj, n)) for n in names}
    if isinstance(obj, dt.date):
        return obj.isoformat()
    if isinstance(obj, tuple | list):
        return [to_dict(x) for x in obj]
    if isinstance(obj, dict):
        return {k: to_dict(v) for k, v in obj.items()}
    return obj


# Converters from JSON data to annotated types, built once per type: the store decodes
# hundreds of thousands of records in a build, and resolving the annotations of every
# field of every record again (dataclasses.fields, typing.get_origin) was most of it.
_CONVERTERS: dict[Any, Callable[[Any], Any]] = {}
_FIELDS: dict[type, list[tuple[str, Callable[[Any], Any]]]] = {}


def _same(value: Any) -> Any:
    return value


def _to_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _converter(tp: Any) -> Callable[[Any], Any]:
    """The function converting JSON data to the annotated type ``tp`` (None stays None)."""
    if tp in _CONVERTERS:
        return _CONVERTERS[tp]
    fn: Callable[[Any], Any] = _same
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        if len(args) == 1:
            fn = _converter(args[0])
    elif origin is tuple:
        targs = typing.get_args(tp)
        inner = _converter(targs[0] if targs else Any)
        fn = functools.partial(_tuple_of, inner)
    elif tp is dt.date:
        fn = _to_date
    elif isinstance(tp, type) and dataclasses.is_dataclass(tp):
        fn = functools.partial(from_dict, tp)
    conv = fn if fn is _same else functools.partial(_unless_none, fn)
    _CONVERTERS[tp] = conv
    return conv


def _unless_none(fn: Callable[[Any], Any], value: Any) -> Any:
    return None if value is None else fn(value)


def _tuple_of(inner: Callable[[Any], Any], value: Any) -> tuple[Any, ...]:
    return tuple(inner(v) for v in value)


def from_dict(cls: type[T], data: dict[str, Any]) -> T:
    """Build record ``cls`` from data produced by :func:`to_dict`; unknown keys are ignored."""
    fields = _FIELDS.get(cls)
    if fields is None:
        hints = typing.get_type_hints(cls)
        fields = _FIELDS[cls] = [(f.name, _converter(hints[f.name])) for f in dataclasses.fields(cls)]  # type: ignore[arg-type]
    return cls(**{name: conv(data[name]) for name, conv in fields if name in data})
