"""Result types of the attribution extractor."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """A piece of the input text given by character offsets.

    Attributes:
        start: offset of the first character (inclusive).
        end: offset just past the last character (exclusive).
        text: ``input_text[start:end]``, kept so callers need not slice again.
    """

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class AttributionSpans:
    """One quote or reported statement with its source, cue and content.

    Attributes:
        source: who said it, as written ("he", "state media"); ``None`` when implicit.
        cue: the word(s) marking the report ("said", "according to"); ``None`` when absent.
        content: what was said. When the content is split around the cue this covers
            the whole extent (first fragment start to last fragment end) and
            ``content_fragments`` lists the pieces.
        direct: True when most of the content is inside quotation marks.
        content_fragments: the pieces of a discontinuous content, in text order.
        nested_sources: further sources in a chain ("X reported, citing Y": source X,
            nested Y; "Y quoted X as saying": source X, nested Y), outermost first.
    """

    source: Span | None
    cue: Span | None
    content: Span
    direct: bool
    content_fragments: tuple[Span, ...] = ()
    nested_sources: tuple[Span, ...] = ()
