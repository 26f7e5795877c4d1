"""Speaker resolution: attribution spans of one article turned into :class:`Attribution` records.

Who is speaking is resolved inside the article: names to its canonical entities,
pronouns to the last person named before the quote, descriptions ("the North
Korean leader") through the descriptions the article itself gives ("North Korean
leader Kim Jong-un"), and news media ("Yonhap News Agency reported citing the
KCNA") into a chain of intermediaries (``via``), nearest to the speaker first.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex
from storydesk.models import Article, Attribution, Mention, Sentence
from storydesk.textutil import fold

_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "they", "them", "we", "i"}
_PRONOUNS = _PERSON_PRONOUNS | {"it"}
QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{2,600})[\"“”«»]")
# Runs of capitalised words (candidate names inside a source span).
_CAP_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")


def _sentence_index(sentences: Sequence[Sentence], offset: int) -> int:
    """Sentence holding a character offset."""
    idx = 0
    for s in sentences:
        if s.start <= offset:
            idx = s.index
        else:
            break
    return idx


class _SpeakerResolver:
    """Resolves source spans of one article to canonical names, reading it in order."""

    def __init__(self, article: Article, mentions: list[Mention], index: EntityIndex, media: prov.MediaResolver):
        self.article = article
        self.persons = sorted((m for m in mentions if m.type == "PERSON" and m.sentence >= 0), key=lambda m: m.start)
        self.index = index
        self.media = media
        self.last_speaker: str | None = None
        # The medium this article named last: "the report", "it" refer back to it.
        self.last_medium: str | None = None

    def is_person(self, name: str) -> bool:
        """True when ``name`` is a known person (pronouns resolve only to people)."""
        ent = self.index.lookup(name, "PERSON")
        return ent is not None and ent.type == "PERSON"

    def _name(self, m: Mention) -> str:
        """Canonical name of a person mention."""
        ent = self.index.entity_of(m)
        return ent.name if ent else m.text

    def person_before(self, offset: int) -> str | None:
        """Canonical name of the last person mentioned before ``offset``."""
        for m in reversed(self.persons):
            if m.end <= offset:
                return self._name(m)
        return None

    def person_in(self, start: int, end: int) -> str | None:
        """Canonical name of the first person named inside a span (the content's subject)."""
        for m in self.persons:
            if start <= m.start < end:
                return self._name(m)
        return None

    def resolve(self, text: str, offset: int) -> tuple[str | None, bool]:
        """``(name, is_media)`` for a source span starting at ``offset``."""
        t = text.strip()
        key = fold(t)
        if key == "it" and self.last_medium:
            return self.last_medium, True  # "..., it added": the report named before
        if key in _PRONOUNS:
            return (self.last_speaker or self.person_before(offset)), False
        if self.media.is_generic(t) and self.last_medium:
            return self.last_medium, True
        medium = self.media.resolve(t)
        if medium:
            return medium, True
        ent = self.index.lookup(t)
        if ent is not None:
            return ent.name, ent.type not in ("PERSON",) and self.media.is_media_name(ent.name)
        desc = self.index.describe(t)
        if desc is not None:
            return desc.name, False
        # A description around a name ("North Korean leader Kim Jong-un", "Ilse Vann, the
        # union's general secretary", "Velmark's foreign minister, Signe Halloran"): the
        # fullest personal name written inside the span.
        inside = [m for m in self.persons if offset <= m.start and m.end <= offset + len(text)]
        if inside:
            best = max(inside, key=lambda m: (len(m.text.split()), m.start))
            return self._name(best), False
        named = self._known_person_in(t)
        return (named or t or None), False

    def _known_person_in(self, text: str) -> str | None:
        """A known person's name (any alias, longest first) written inside ``text``."""
        runs = _CAP_RUN.findall(text)
        for run in sorted(runs, key=lambda r: -len(r.split())):
            toks = run.split()
            for n in range(len(toks), 0, -1):
                for i in range(len(toks) - n + 1):
                    ent = self.index.lookup(" ".join(toks[i : i + n]), "PERSON")
                    if ent is not None and ent.type == "PERSON":
                        return ent.name
        return None

    def content_speaker(self, start: int, end: int, text: str) -> str | None:
        """The person whose words a medium reports: the pronoun or name the content starts with."""
        lead = text.lstrip("\"“‘' ").split(" ", 1)[0].lower()
        if lead in _PERSON_PRONOUNS:
            return self.last_speaker or self.person_before(start)
        return self.person_in(start, end)


def resolve_article(
    article: Article,
    sentences: Sequence[Sentence],
    spans: Sequence[Any],
    mentions: list[Mention],
    index: EntityIndex,
    media: prov.MediaResolver,
) -> list[Attribution]:
    """Turn extracted attribution spans into :class:`Attribution` records with resolved speakers.

    A medium's report of a person's quoted words ("KCNA said: “He set forth …”",
    "the report mentioned that Kim wants “…”") is the person's statement with
    the medium in ``via``; a medium's report without quoted words is the
    medium's own statement. An attribution inside the content of a medium's
    report ("…, Kim said, KCNA reported") inherits the medium as ``via``.
    """
    res = _SpeakerResolver(article, mentions, index, media)
    out: list[Attribution] = []
    for sp in spans:
        content = sp.content
        via: list[str] = []
        speaker: str | None = None
        speaker_text = sp.source.text if sp.source else ""
        quoted = bool(sp.direct) or bool(QUOTED.search(content.text))
        if sp.source is not None:
            name, is_media = res.resolve(sp.source.text, sp.source.start)
            if is_media and name:
                via.append(name)
                res.last_medium = name
                person = res.content_speaker(content.start, content.end, content.text) if quoted else None
                speaker = person or name
            else:
                speaker = name
        for nested in getattr(sp, "nested_sources", ()):
            n_name, n_media = res.resolve(nested.text, nested.start)
            if n_media and n_name:
                via.insert(0, n_name)  # "X reported citing Y": Y is nearer the speaker
                res.last_medium = n_name
            elif n_name and (speaker is None or speaker in via):
                speaker = n_name
        if speaker is not None and speaker in via:
            speaker = via[0]  # a report with no person's words: it originates with the innermost medium
        if speaker and res.is_person(speaker):
            res.last_speaker = speaker
        cue = sp.cue
        out.append(
            Attribution(
                article_id=article.id,
                sentence=_sentence_index(sentences, content.start),
                content=content.text,
                content_start=content.start,
                content_end=content.end,
                speaker=speaker,
                speaker_text=speaker_text,
                cue=cue.text if cue else "",
                cue_start=cue.start if cue else -1,
                cue_end=cue.end if cue else -1,
                speaker_start=sp.source.start if sp.source else -1,
                speaker_end=sp.source.end if sp.source else -1,
                direct=bool(sp.direct),
                via=tuple(dict.fromkeys(via)),
            )
        )
    return _inherit_via(out)


def _inherit_via(attrs: list[Attribution]) -> list[Attribution]:
    """Give attributions nested in a medium's report ("…, Kim said, KCNA reported") that medium as ``via``."""
    out: list[Attribution] = []
    for a in attrs:
        if a.via or a.cue_start < 0:
            out.append(a)
            continue
        outer = [
            o
            for o in attrs
            if o is not a and o.via and o.content_start <= a.cue_start < o.content_end and a.speaker != o.via[-1]
        ]
        if outer:
            best = min(outer, key=lambda o: o.content_end - o.content_start)
            a = replace(a, via=best.via)
        out.append(a)
    return out
