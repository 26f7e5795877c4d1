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
        speaker: the words that name who speaks, found through the cue's syntax:
            the source's noun phrase without its relative clauses ("Rep. Marsh" of
            "Rep. Marsh, who serves with Sen. Ode on ..."), or, when the source is a
            channel, the channel's owner ("Kim" of "Kim's statement", of "Kim
            released a statement saying ..."). ``None`` when the syntax names
            nobody more precisely than ``source`` (a resolver then reads ``source``).
        channel: the medium the words came through when the source names one
            ("a recording of the meeting", "the statement", "her tweet"); it is
            not the speaker.
        confidence: how sure the extractor is of this attribution, 0–1 (the cue
            scorer's probability, lowered for weaker evidence such as a quotation
            attached to an earlier speaker without a cue of its own).
    """

    source: Span | None
    cue: Span | None
    content: Span
    direct: bool
    content_fragments: tuple[Span, ...] = ()
    nested_sources: tuple[Span, ...] = ()
    speaker: Span | None = None
    channel: Span | None = None
    confidence: float = 1.0
