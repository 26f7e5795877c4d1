"""Typed artifacts: every record the pipeline passes on, declared once.

An :class:`Artifact` has a name, a scope (what its key is: an article, an event,
a storyline), the record type it holds and a codec that turns values into the
bytes the store keeps. Stages name the artifacts they ``require`` and
``assign`` (:mod:`storydesk.pipeline` checks them when a pipeline is built), and
the store reads and writes values by artifact (``store.get(MENTIONS, ids)``).

Each stored row carries the version of the stage that made it, a fingerprint of
its inputs (stage version, settings, and the digests of the inputs' stored
bytes) and the digest of its own bytes; an output whose inputs changed has
another fingerprint than the one stored, and is recomputed.

Transient artifacts (the spaCy parse) have no codec: they live inside one
worker's pass over an article and are never stored.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, Literal, TypeVar

import numpy as np

from storydesk.models import (
    ArticleEntities,
    ArticleSignals,
    Attribution,
    Claim,
    Conflict,
    DatedFact,
    Entity,
    Provenance,
    Quote,
    SummarySentence,
    TimeExpression,
    TimelineEntry,
    from_dict,
    to_dict,
)

T = TypeVar("T")
Scope = Literal["article", "corpus", "event", "storyline"]


# --------------------------------------------------------------------------- codecs


def _pack(obj: Any) -> bytes:
    """JSON, compact and deflated (derived records are mostly repetitive text)."""
    return zlib.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def _unpack(data: bytes) -> Any:
    """Inverse of :func:`_pack`."""
    return json.loads(zlib.decompress(data).decode("utf-8"))


@dataclass(frozen=True)
class JsonCodec(Generic[T]):
    """Values as deflated JSON, through a pair of converters."""

    name: str
    to_json: Callable[[T], Any]
    from_json: Callable[[Any], T]

    def encode(self, value: T) -> bytes:
        """The value as bytes."""
        return _pack(self.to_json(value))

    def decode(self, data: bytes) -> T:
        """Inverse of :meth:`encode`."""
        return self.from_json(_unpack(data))


def records(cls: type[T]) -> JsonCodec[tuple[T, ...]]:
    """Codec of a tuple of frozen records of one type."""
    return JsonCodec(
        f"tuple[{cls.__name__}]",
        lambda xs: [to_dict(x) for x in xs],
        lambda data: tuple(from_dict(cls, x) for x in data),
    )


def record(cls: type[T]) -> JsonCodec[T]:
    """Codec of one frozen record."""
    return JsonCodec(cls.__name__, to_dict, lambda data: from_dict(cls, data))


#: Plain JSON data (dicts, lists, strings, numbers).
PLAIN: JsonCodec[Any] = JsonCodec("json", lambda v: v, lambda v: v)


@dataclass(frozen=True)
class ArrayCodec:
    """A one-dimensional numpy array as raw little-endian bytes."""

    name: str
    dtype: str

    def encode(self, value: np.ndarray) -> bytes:
        """The array's bytes."""
        return np.ascontiguousarray(value, dtype=np.dtype(self.dtype).newbyteorder("<")).tobytes()

    def decode(self, data: bytes) -> np.ndarray:
        """Inverse of :meth:`encode` (a writable copy in native byte order)."""
        return np.frombuffer(data, dtype=np.dtype(self.dtype).newbyteorder("<")).astype(self.dtype)


@dataclass(frozen=True)
class TextVectorsCodec:
    """Vectors of texts (``{text: float16 vector}``): the texts as deflated JSON, then the float16 rows."""

    name: str = "dict[str, float16[dim]]"

    def encode(self, value: dict[str, np.ndarray]) -> bytes:
        """The texts (sorted) and their vectors as bytes."""
        texts = sorted(value)
        head = _pack(texts)
        rows = np.array([value[t] for t in texts], dtype="<f2").reshape(len(texts), -1)
        return len(head).to_bytes(4, "little") + head + rows.tobytes()

    def decode(self, data: bytes) -> dict[str, np.ndarray]:
        """Inverse of :meth:`encode`."""
        n = int.from_bytes(data[:4], "little")
        texts: list[str] = _unpack(data[4 : 4 + n])
        if not texts:
            return {}
        rows = np.frombuffer(data[4 + n :], dtype="<f2").reshape(len(texts), -1).astype(np.float16)
        return dict(zip(texts, rows, strict=True))


# --------------------------------------------------------------------------- declarations


@dataclass(frozen=True)
class Artifact:
    """One kind of record the pipeline produces.

    Attributes:
        name: Unique name; the store's key for its rows.
        scope: What a key is: ``article`` (an article id), ``event``, ``storyline``,
            or ``corpus`` (the stateful corpus step's own records, keyed by article or event).
        record: The Python type of one value (documentation and type checks).
        codec: Turns values into bytes; None for a transient artifact, never stored.
        doc: One line on what it holds.
    """

    name: str
    scope: Scope
    record: Any
    codec: Any
    doc: str

    @property
    def stored(self) -> bool:
        """False for transient artifacts (the spaCy parse)."""
        return self.codec is not None

    def __repr__(self) -> str:
        return f"Artifact({self.name!r})"


def digest_of(data: bytes) -> str:
    """Digest of stored bytes (blake2b, 16 hex characters)."""
    return hashlib.blake2b(data, digest_size=8).hexdigest()


def fingerprint(*parts: Any) -> str:
    """Fingerprint of a stage's inputs: a digest of the given parts, in order (JSON-encoded)."""
    raw = json.dumps(parts, sort_keys=True, default=str, separators=(",", ":")).encode("utf-8")
    return hashlib.blake2b(raw, digest_size=8).hexdigest()


# Base artifacts: what ingest stores (the store's own tables, not artifact rows).
ARTICLE = Artifact("article", "article", "Article", None, "the cleaned article (stored by ingest)")
SENTENCES = Artifact("sentences", "article", "tuple[Sentence, ...]", None, "its sentences (stored by ingest)")
#: The spaCy parse of an article's title and body: made and used inside one worker.
DOC = Artifact("doc", "article", "spacy.tokens.Doc", None, "spaCy parse of title and body (transient)")

# Article map.
MENTIONS = Artifact(
    "mentions", "article", ArticleEntities, record(ArticleEntities), "named-entity mentions and evidence"
)
TIMEXES = Artifact("timexes", "article", tuple[TimeExpression, ...], records(TimeExpression), "temporal expressions")
FACTS = Artifact("facts", "article", tuple[DatedFact, ...], records(DatedFact), "dated facts (clause and date)")
ATTRIBUTIONS = Artifact(
    "attributions", "article", tuple[Attribution, ...], records(Attribution), "quotes with speakers and via-chains"
)
PROVENANCE = Artifact("provenance", "article", Provenance, record(Provenance), "primary sources and relays")
SIGNATURE = Artifact("signature", "article", np.ndarray, ArrayCodec("uint32[128]", "uint32"), "MinHash signature")
LEAD_VECTOR = Artifact("lead_vector", "article", np.ndarray, ArrayCodec("float32[dim]", "float32"), "title+lead vector")
SIGNALS = Artifact("signals", "article", ArticleSignals, record(ArticleSignals), "name and word bags, happening date")

# Corpus step.
DUPLICATE = Artifact("duplicate", "corpus", dict, PLAIN, "near-copy decision: {duplicate_of, similarity}")
EVENTS = Artifact("events", "corpus", "Event", None, "event membership (the store's events table)")
EVENT_STATE = Artifact("event_state", "event", dict, PLAIN, "running state of an event (EventState.as_dict)")
EVENT_SUM = Artifact("event_sum", "event", np.ndarray, ArrayCodec("float32[dim]", "float32"), "sum of member vectors")
STORYLINES = Artifact("storylines", "corpus", "Storyline", None, "storyline links (the store's storylines table)")

# Event map.
EVENT_DATES = Artifact("event_dates", "event", dict, PLAIN, "when the event happened: {start, end, how}")
TIMELINE = Artifact("timeline", "event", tuple[TimelineEntry, ...], records(TimelineEntry), "dated facts, merged")
EVENT_FACTS = Artifact(
    "event_facts", "event", tuple[DatedFact, ...], records(DatedFact), "the event's merged facts (for storylines)"
)
ENTITIES = Artifact("entities", "event", tuple[Entity, ...], records(Entity), "canonical entities of the event")
QUOTES = Artifact("quotes", "event", tuple[Quote, ...], records(Quote), "quotes aligned across outlets")
CLAIMS = Artifact("claims", "event", tuple[Claim, ...], records(Claim), "claims with their sources")
CONFLICTS = Artifact("conflicts", "event", tuple[Conflict, ...], records(Conflict), "where outlets disagree")
SUMMARY = Artifact(
    "summary",
    "event",
    "tuple[str, tuple[SummarySentence, ...]]",
    JsonCodec(
        "Summary",
        lambda v: {"headline": v[0], "summary": [to_dict(s) for s in v[1]]},
        lambda d: (d["headline"], tuple(from_dict(SummarySentence, s) for s in d["summary"])),
    ),
    "headline and cited summary",
)

# Storyline map.
STORYLINE_TIMELINE = Artifact(
    "storyline_timeline", "storyline", tuple[TimelineEntry, ...], records(TimelineEntry), "the storyline's timeline"
)
#: A cache, not an input: a fact's vector depends on its text alone, and the event and
#: storyline maps round every vector to float16 whether it was kept here or computed
#: afresh, so their output is the same with or without these rows (Spark, which keeps
#: none, agrees). The event map writes an event's row (dropping texts gone from it),
#: the storyline map adds the vectors it embedded.
FACT_VECTORS = Artifact(
    "fact_vectors",
    "event",
    dict,
    TextVectorsCodec(),
    "float16 judge vectors of the event's fact texts, kept so that a change re-embeds only new facts",
)

#: Every declared artifact, by name.
ALL: dict[str, Artifact] = {
    a.name: a
    for a in (
        ARTICLE,
        SENTENCES,
        DOC,
        MENTIONS,
        TIMEXES,
        FACTS,
        ATTRIBUTIONS,
        PROVENANCE,
        SIGNATURE,
        LEAD_VECTOR,
        SIGNALS,
        DUPLICATE,
        EVENTS,
        EVENT_STATE,
        EVENT_SUM,
        STORYLINES,
        EVENT_DATES,
        TIMELINE,
        EVENT_FACTS,
        ENTITIES,
        QUOTES,
        CLAIMS,
        CONFLICTS,
        SUMMARY,
        STORYLINE_TIMELINE,
        FACT_VECTORS,
    )
}

#: Artifacts that exist once articles are ingested.
BASE = frozenset({ARTICLE, SENTENCES})


def stored_in(scope: Scope, artifacts: Iterable[Artifact] = ALL.values()) -> list[Artifact]:
    """The stored artifacts keyed by one scope's keys (``corpus`` rows are keyed by article)."""
    return [a for a in artifacts if a.stored and a.scope == scope]
