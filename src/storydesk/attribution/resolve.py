"""Speaker resolution: attribution spans of one article turned into :class:`Attribution` records.

Who is speaking is resolved inside the article, which is all the resolver needs
(the pipeline builds the entity index and media resolver from that article
alone): names to its canonical entities, pronouns to the last person quoted
(else the last person named outside quotation marks), descriptions ("the North
Korean leader", "the senator", "the aide") through what the article itself says
of a person ("North Korean leader Kim Jong-un", "Sen. Ode", "Jonah Pell, an aide
to the mayor,"), channels ("the statement", "a recording of the meeting") to
their owner or to the speaker whose words they carry, and news media ("Yonhap
News Agency reported citing the KCNA") into a chain of intermediaries (``via``),
nearest to the speaker first. Each record keeps a confidence: the extractor's,
times how direct the resolution was.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex
from storydesk.attribution.quotes import find_quotes
from storydesk.models import Article, Attribution, Mention, Sentence
from storydesk.textutil import fold

_PERSON_PRONOUNS = {"he", "she", "him", "her", "his", "they", "them", "we", "i"}
_PRONOUNS = _PERSON_PRONOUNS | {"it"}
QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{2,600})[\"“”«»]")
# Runs of capitalised words (candidate names inside a source span).
_CAP_RUN = re.compile(r"[A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*)*")
# A description: a determiner and up to four lower-case words ("the senator", "the former aide").
_DESCRIPTION = re.compile(r"(?i)^(?:the|this|that|our|his|her|their)\s+((?:[a-z][\w’'-]*\s+){0,3}([a-z][\w-]*))$")
# Title abbreviations written before names, and the nouns that refer back to them.
_TITLES = {
    "sen": "senator", "senator": "senator", "rep": "representative congressman congresswoman lawmaker",
    "gov": "governor", "governor": "governor", "mayor": "mayor", "president": "president",
    "judge": "judge", "justice": "justice judge", "gen": "general", "general": "general", "adm": "admiral",
    "admiral": "admiral", "dr": "doctor", "prof": "professor", "professor": "professor",
    "secretary": "secretary", "minister": "minister", "chancellor": "chancellor", "rev": "reverend pastor",
    "sheriff": "sheriff", "chief": "chief", "councillor": "councillor", "councilman": "councilman",
    "councilwoman": "councilwoman", "ambassador": "ambassador", "speaker": "speaker", "coach": "coach",
}  # fmt: skip
_CLAUSE_BREAK = re.compile(r"[,;()]|\b(?:and|or|with|by|to|from|for|than|as)\b")
_APPOSITION_PREP = re.compile(r"\b(?:to|of|for|at|in|with|from|on|under|who|which|that)\b")
#: How far back (characters) a channel without an owner looks for the speaker it carries.
_RECENT_CHARS = 600
#: How far back (characters) "the statement said" looks for who released the statement.
_ISSUER_CHARS = 800
#: How much of the extractor's confidence a resolution keeps, by how the speaker was found.
RESOLUTION_CONFIDENCE = {
    "name": 1.0,
    "medium": 1.0,
    "owner": 0.9,
    "inner": 0.9,
    "description": 0.85,
    "pronoun": 0.85,
    "pronoun-named": 0.7,
    "recent": 0.6,
    "as-written": 0.5,
    "none": 0.3,
}


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

    def __init__(self, article: Article, mentions: Sequence[Mention], index: EntityIndex, media: prov.MediaResolver):
        self.article = article
        self.text = article.text
        self.quotes = find_quotes(article.text)
        persons = sorted((m for m in mentions if m.type == "PERSON" and m.sentence >= 0), key=lambda m: m.start)
        self.persons = persons
        # Names written inside quotation marks are talked about, not talking.
        self.persons_outside = [m for m in persons if not self.in_quote(m.start)]
        self.index = index
        self.media = media
        self.last_speaker: str | None = None
        # The medium this article named last: "the report", "it" refer back to it.
        self.last_medium: str | None = None
        # How the last call of :meth:`resolve` found its answer (a key of RESOLUTION_CONFIDENCE).
        self.kind = "none"

    def in_quote(self, offset: int) -> bool:
        """Whether a character offset lies inside quotation marks."""
        return any(s < offset < e for s, e in self.quotes)

    def is_person(self, name: str) -> bool:
        """True when ``name`` is a known person (pronouns resolve only to people)."""
        for form in (name, name.split()[-1] if name.split() else name):
            ent = self.index.lookup(form, "PERSON")
            if ent is not None and ent.type == "PERSON":
                return True
        return False

    def _name(self, m: Mention) -> str:
        """Canonical name of a person mention."""
        ent = self.index.entity_of(m)
        return ent.name if ent else m.text

    def person_before(self, offset: int) -> str | None:
        """Canonical name of the last person mentioned before ``offset`` outside quotation marks."""
        for m in reversed(self.persons_outside):
            if m.end <= offset:
                return self._name(m)
        return None

    def person_in(self, start: int, end: int) -> str | None:
        """Canonical name of the first person named inside a span (the content's subject)."""
        for m in self.persons:
            if start <= m.start < end:
                return self._name(m)
        return None

    def described(self, phrase: str, offset: int) -> str | None:
        """The person this article last described by ``phrase`` ("the senator", "the aide") before ``offset``.

        A title written before a name ("Sen. Ode", "Mayor Ruiz") or a noun in the
        apposition after it ("Jonah Pell, an aide to the mayor,") describes it.
        """
        m = _DESCRIPTION.match(phrase.strip())
        if m is None:
            return None
        noun = m.group(2).lower()
        noun = noun[:-1] if noun.endswith("s") and len(noun) > 3 and not noun.endswith("ss") else noun
        text = self.text
        for p in reversed(self.persons_outside):
            if p.end > offset:
                continue
            line = text.rfind("\n", 0, p.start) + 1
            # Only the words of the name's own noun phrase: "met the governor and
            # Mayor Roe" describes Roe as mayor, not as governor.
            left = _CLAUSE_BREAK.split(text[max(line, p.start - 40) : p.start])[-1]
            words: set[str] = set()
            for w in re.findall(r"[A-Za-z][\w-]*", left)[-3:]:
                words.update(_TITLES.get(w.lower(), w.lower()).split())
            after = re.match(r"\s*,\s*([^,.;:\n“”\"]{0,80})", text[p.end : p.end + 90])
            if after:
                # The apposition's head noun, before its prepositional phrase: "an aide
                # to the mayor" describes an aide, not the mayor.
                head = _APPOSITION_PREP.split(after.group(1))[0]
                words.update(w.lower() for w in re.findall(r"[A-Za-z][\w-]*", head))
            if noun in words or f"{noun}s" in words:
                return self._name(p)
        return None

    def full_name(self, name: str, offset: int) -> str:
        """A one-word name written in full earlier in the article ("Calder" -> "Ines Calder").

        The entity index joins a surname to a full name only when both are
        PERSON mentions; the small NER model often labels the first, full
        mention otherwise ("Governor Ines Calder" as a product). Titles are left
        out; only an unambiguous full form counts.
        """
        if " " in name.strip() or not name[:1].isupper():
            return name
        forms = set()
        pattern = r"((?:[A-Z][\w’'-]+\.?\s+){1,3})" + re.escape(name) + r"\b"
        for m in re.finditer(pattern, self.text[:offset]):
            words = [w for w in m.group(1).split() if w.lower().rstrip(".") not in _TITLES]
            words = [w for w in words if not w.endswith(".") or len(w) == 2]
            if words and not self.media.resolve(" ".join(words)):
                forms.add(" ".join([*words, name]))
        return forms.pop() if len(forms) == 1 else name

    def issuer_before(self, channel: str, offset: int) -> str | None:
        """Who issued the channel an earlier sentence introduced ("The mayor's office released a statement").

        For "“…,” the statement said" the article usually names the issuer
        shortly before: the subject of "released/issued/posted/sent ... a
        <channel noun>" within the preceding paragraphs.
        """
        words = re.findall(r"[A-Za-z][\w-]*", channel)
        if not words:
            return None
        noun = words[-1].lower()
        window = self.text[max(0, offset - _ISSUER_CHARS) : offset]
        pattern = (
            r"((?:[A-Z][\w.’'-]*\s+){0,4}[A-Z][\w.’'-]*|(?:[Tt]he|[Hh]is|[Hh]er|[Tt]heir)\s+[\w’'-]+(?:\s+[\w’'-]+)?)"
            r"(?:\s+(?:also|then|later|quickly))?\s+(?:released|issued|put out|posted|sent|published|tweeted|shared)"
            r"\s+(?:a|an|the|his|her|its|their)\s+(?:[\w-]+\s+){0,2}?" + re.escape(noun) + r"s?\b"
        )
        found = list(re.finditer(pattern, window))
        if not found:
            return None
        who = found[-1].group(1).strip()
        who = re.sub(r"^(?:The|A|An|And|But|On|In)\s+(?=[A-Z])", "", who)
        name, _is_media = self.resolve(who, max(0, offset - _ISSUER_CHARS) + found[-1].start(1))
        return name

    def resolve(self, text: str, offset: int) -> tuple[str | None, bool]:
        """``(name, is_media)`` for a source span starting at ``offset``; :attr:`kind` says how."""
        t = text.strip()
        key = fold(t)
        if key == "it" and self.last_medium:
            self.kind = "medium"
            return self.last_medium, True  # "..., it added": the report named before
        if key in _PRONOUNS:
            if self.last_speaker:
                self.kind = "pronoun"
                return self.last_speaker, False
            name = self.person_before(offset)
            self.kind = "pronoun-named" if name else "none"
            return name, False
        if self.media.is_generic(t) and self.last_medium:
            self.kind = "medium"
            return self.last_medium, True
        inside = [m for m in self.persons if offset <= m.start and m.end <= offset + len(text)]
        medium = self.media.resolve(t, [m.text for m in inside])
        if medium:
            self.kind = "medium"
            return medium, True
        self.kind = "name"
        ent = self.index.lookup(t)
        if ent is not None:
            is_media = ent.type not in ("PERSON",) and self.media.is_media_name(ent.name)
            return (ent.name if is_media else self.full_name(ent.name, offset)), is_media
        # A description around a name ("North Korean leader Kim Jong-un", "Ilse Vann, the
        # union's general secretary", "Velmark's foreign minister, Signe Halloran"): the
        # fullest personal name written inside the span.
        if inside:
            best = max(inside, key=lambda m: (len(m.text.split()), m.start))
            return self._name(best), False
        named = self._known_person_in(t)
        if named:
            return named, False
        self.kind = "description"
        desc = self.index.describe(t)
        if desc is not None:
            return desc.name, False
        person = self.described(t, offset)
        if person:
            return person, False
        full = self.full_name(t, offset) if t else t
        if full != t:
            self.kind = "name"
            return full, False
        self.kind = "as-written" if t else "none"
        return (t or None), False

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
    mentions: Sequence[Mention],
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
    kinds: list[str] = []
    for sp in spans:
        content = sp.content
        via: list[str] = []
        speaker: str | None = None
        speaker_text = sp.source.text if sp.source else ""
        quoted = bool(sp.direct) or bool(QUOTED.search(content.text))
        channel = getattr(sp, "channel", None)
        channel_text = channel.text if channel is not None else ""
        named = getattr(sp, "speaker", None)
        kind = "none"
        if channel is not None and (res.media.is_generic(channel.text) or res.media.resolve(channel.text)):
            # "the report said", "a CNN interview": a medium, named or referred to, goes
            # into ``via`` by the medium rules below, as before.
            channel = None
            named = None
        if channel is not None:
            # "the statement said", "according to a recording of the meeting": the channel
            # is no speaker; its owner, or the speaker whose words it carries, is.
            if named is not None:
                speaker, _ = res.resolve(named.text, named.start)
                kind = "owner" if speaker else "none"
        elif sp.source is not None:
            src = named if named is not None else sp.source
            name, is_media = res.resolve(src.text, src.start)
            kind = res.kind
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
                kind = res.kind
        if speaker is not None and speaker in via:
            speaker = via[0]  # a report with no person's words: it originates with the innermost medium
        cue = sp.cue
        # An attribution inside a quotation ("“Even Okafor said we were mad,” she recalled")
        # is quoted speech: it does not make its speaker the one "he"/"she" refer to.
        if speaker and res.is_person(speaker) and not (cue is not None and res.in_quote(cue.start)):
            res.last_speaker = speaker
        kinds.append(kind)
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
                confidence=float(getattr(sp, "confidence", 1.0)),
                channel=channel_text if channel is not None else "",
            )
        )
    out = _channel_speakers(out, spans, kinds, res)
    out = [
        replace(a, confidence=round(a.confidence * RESOLUTION_CONFIDENCE.get(k, 1.0), 3))
        for a, k in zip(out, kinds, strict=True)
    ]
    return _inherit_via(out)


def _channel_speakers(
    attrs: list[Attribution], spans: Sequence[Any], kinds: list[str], res: _SpeakerResolver
) -> list[Attribution]:
    """Speakers of channels whose owner the syntax does not give.

    "Ortega said, according to a recording of the meeting, that ...": the
    speaker whose attribution lies inside the channel's content; else "“...,”
    the statement said" after "The campaign released a statement": the speaker
    of the nearest attribution before it (within a few paragraphs).
    """
    out = list(attrs)
    for i, (a, sp) in enumerate(zip(attrs, spans, strict=True)):
        if getattr(sp, "channel", None) is None or a.speaker is not None or a.via:
            continue
        pieces = getattr(sp, "content_fragments", ()) or (sp.content,)
        inner = [
            b
            for j, b in enumerate(attrs)
            if j != i
            and b.speaker
            and b.cue_start >= 0
            and getattr(spans[j], "channel", None) is None
            and any(f.start <= b.cue_start < f.end for f in pieces)
        ]
        if inner:
            best = min(inner, key=lambda b: b.content_end - b.content_start)
            out[i] = replace(a, speaker=best.speaker)
            kinds[i] = "inner"
            continue
        start = a.cue_start if a.cue_start >= 0 else a.content_start
        issuer = res.issuer_before(sp.channel.text, start)
        if issuer is not None:
            out[i] = replace(a, speaker=issuer)
            kinds[i] = "owner"
            continue
        before = [
            b
            for j, b in enumerate(attrs)
            if j != i
            and b.speaker
            and getattr(spans[j], "channel", None) is None
            and 0 <= start - b.content_end <= _RECENT_CHARS
            and not res.in_quote(b.cue_start)
        ]
        if before:
            out[i] = replace(a, speaker=max(before, key=lambda b: b.content_end).speaker)
            kinds[i] = "recent"
    return out


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
