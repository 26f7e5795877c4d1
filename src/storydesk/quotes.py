"""Quotes: attributions per article, speakers resolved, and aligned across outlets.

:class:`AttributionsStage` runs :func:`storydesk.attribution.extract_doc` over each
article and resolves who is speaking: names to canonical entities, pronouns to
the last person named before the quote, descriptions ("the North Korean leader")
through the descriptions the article itself gives ("North Korean leader Kim
Jong-un"), and news media ("Yonhap News Agency reported citing the KCNA") into
a chain of intermediaries (``via``), nearest to the speaker first.

:class:`QuotesStage` aligns the same statement across an event's articles (in
other translations or lengths) into one :class:`~storydesk.models.Quote` with a
variant per article, and counts its independent primary sources.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Sequence
from typing import Any, ClassVar

import numpy as np

from storydesk import provenance as prov
from storydesk.embed import Embedder
from storydesk.entities import EntityIndex, load_article_entities, load_nlp
from storydesk.models import (
    Article,
    Attribution,
    Mention,
    Provenance,
    Quote,
    QuoteVariant,
    Sentence,
    from_dict,
    to_dict,
)
from storydesk.pipeline import Context
from storydesk.textutil import fold

ATTRIBUTION_VERSION = "attributions-1"
QUOTES_VERSION = "quotes-1"
ATTR_KIND = "attributions"
QUOTES_KIND = "quotes"

_PRONOUNS = {"he", "she", "him", "her", "his", "they", "them", "it", "we", "i"}
_QUOTED = re.compile(r"[\"“”«»]([^\"“”«»]{2,600})[\"“”«»]")
#: Cosine between two variants' contents needed to call them one statement.
ALIGN_THRESHOLD = 0.62


def _quoted_fragments(text: str) -> list[str]:
    """Fragments inside quote marks (straight or curly)."""
    return [m.group(1).strip(" ,.") for m in _QUOTED.finditer(text) if m.group(1).strip(" ,.")]


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
    """Resolves source spans of one article to canonical names."""

    def __init__(self, article: Article, mentions: list[Mention], index: EntityIndex, media: prov.MediaResolver):
        self.article = article
        self.persons = sorted((m for m in mentions if m.type == "PERSON" and m.sentence >= 0), key=lambda m: m.start)
        self.index = index
        self.media = media
        self.last_speaker: str | None = None

    def is_person(self, name: str) -> bool:
        """True when ``name`` is a known person (pronouns resolve only to people)."""
        ent = self.index.lookup(name, "PERSON")
        return ent is not None and ent.type == "PERSON"

    def person_before(self, offset: int) -> str | None:
        """Canonical name of the last person mentioned before ``offset``."""
        for m in reversed(self.persons):
            if m.end <= offset:
                ent = self.index.entity_of(m)
                return ent.name if ent else m.text
        return None

    def person_in(self, start: int, end: int) -> str | None:
        """Canonical name of the first person named inside a span (the content's subject)."""
        for m in self.persons:
            if start <= m.start < end:
                ent = self.index.entity_of(m)
                return ent.name if ent else m.text
        return None

    def resolve(self, text: str, offset: int) -> tuple[str | None, bool]:
        """``(name, is_media)`` for a source span starting at ``offset``."""
        t = text.strip()
        key = fold(t)
        if key in _PRONOUNS:
            return (self.last_speaker or self.person_before(offset)), False
        medium = self.media.resolve(t)
        if medium:
            return medium, True
        ent = self.index.lookup(t)
        if ent is not None:
            return ent.name, ent.type not in ("PERSON",) and self.media.is_media_name(ent.name)
        desc = self.index.describe(t)
        if desc is not None:
            return desc.name, False
        # A description that ends in a known name ("North Korean leader Kim Jong-un").
        for m in self.persons:
            if offset <= m.start < offset + len(text):
                ent = self.index.entity_of(m)
                return (ent.name if ent else m.text), False
        return t or None, False


def resolve_article(
    article: Article,
    sentences: Sequence[Sentence],
    spans: Sequence[Any],
    mentions: list[Mention],
    index: EntityIndex,
    media: prov.MediaResolver,
) -> list[Attribution]:
    """Turn extracted attribution spans into :class:`Attribution` records with resolved speakers."""
    res = _SpeakerResolver(article, mentions, index, media)
    out: list[Attribution] = []
    for sp in spans:
        content = sp.content
        via: list[str] = []
        speaker: str | None = None
        speaker_text = sp.source.text if sp.source else ""
        if sp.source is not None:
            name, is_media = res.resolve(sp.source.text, sp.source.start)
            if is_media and name:
                via.append(name)
                # A medium reporting a person's words: the speaker is the person in the content.
                lead = content.text.lstrip("\"“‘' ").split(" ", 1)[0].lower()
                speaker = (
                    res.last_speaker or res.person_before(content.start)
                    if lead in _PRONOUNS
                    else res.person_in(content.start, content.end)
                ) or res.last_speaker
            else:
                speaker = name
        for nested in getattr(sp, "nested_sources", ()):
            n_name, n_media = res.resolve(nested.text, nested.start)
            if n_media and n_name:
                via.insert(0, n_name)  # "X reported citing Y": Y is nearer the speaker
            elif n_name and speaker is None:
                speaker = n_name
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
    return out


class AttributionsStage:
    """Attributions of every article with resolved speakers and via-chains."""

    name: ClassVar[str] = "attributions"
    version: ClassVar[str] = ATTRIBUTION_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"articles", "sentences", "mentions"})
    assigns: ClassVar[frozenset[str]] = frozenset({"attributions"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Extract and resolve attributions for articles without a current record."""
        from storydesk.attribution import extract_doc

        store = ctx.store
        done = {} if ctx.force else store.record_versions(ATTR_KIND)
        articles = store.articles()
        todo = [a for a in articles if done.get(a.id) != ATTRIBUTION_VERSION]
        if not todo:
            return {"processed": 0}
        ents = load_article_entities(store, [a.id for a in articles])
        index = EntityIndex(ents)
        media = prov.MediaResolver(articles, ents, index)
        nlp = load_nlp(ctx.config.spacy_model)
        docs = nlp.pipe((a.text for a in todo), batch_size=16)
        n = 0
        with store.transaction():
            for art, doc in ctx.progress(zip(todo, docs, strict=True), total=len(todo), desc="quotes"):
                rec = ents.get(art.id)
                attrs = resolve_article(
                    art, store.sentences(art.id), extract_doc(doc), rec.mentions if rec else [], index, media
                )
                n += len(attrs)
                store.put_record(ATTR_KIND, art.id, ATTRIBUTION_VERSION, [to_dict(a) for a in attrs])
        return {"processed": len(todo), "attributions": n}


def load_attributions(store: Any, ids: Sequence[str]) -> dict[str, list[Attribution]]:
    """Stored attributions of some articles."""
    return {k: [from_dict(Attribution, a) for a in d] for k, _v, d in store.records(ATTR_KIND, ids)}


# --------------------------------------------------------------------------- alignment


def _variant_text(a: Attribution) -> str:
    """What a variant shows: the quoted words if any, else the reported content."""
    frags = _quoted_fragments(a.content)
    if frags:
        return " … ".join(frags)
    return a.content.strip().strip('“”"').strip()


def align_quotes(
    attributions: dict[str, list[Attribution]],
    embedder: Embedder,
    provenance: dict[str, Provenance],
    index: EntityIndex | None = None,
) -> list[Quote]:
    """Group attributions of several articles into quotes (one statement, many variants).

    Two attributions are one statement when their speakers match and their
    contents are close in meaning (embedding cosine ≥ :data:`ALIGN_THRESHOLD`);
    each article contributes at most one variant per quote. A statement with no
    medium named beside it reached the article through the article's primary
    media (its provenance), so that is its ``via``.

    Args:
        attributions: Article id -> its attributions.
        embedder: Embeds contents for comparison.
        provenance: Article id -> its provenance (primary sources, relays).
        index: Canonicalises speaker names, when given.
    """
    items = [a for aid in sorted(attributions) for a in attributions[aid] if a.speaker and a.content.strip()]
    if not items:
        return []

    def canon(name: str | None) -> str | None:
        if name and index is not None:
            ent = index.lookup(name)
            return ent.name if ent else name
        return name

    # Only speakers whose words the articles credit to a medium inherit the article's
    # primary media; an expert talking to the outlet reaches it directly.
    mediated = {canon(a.speaker) for a in items if a.via}

    def via_of(a: Attribution) -> tuple[str, ...]:
        if a.via:
            return a.via
        p = provenance.get(a.article_id)
        return prov.media_primaries(p) if p and canon(a.speaker) in mediated else ()

    vecs = embedder.encode([a.content for a in items])
    groups: list[dict[str, Any]] = []
    # Direct quotes first, so a quote's representative is its most literal wording.
    order = sorted(range(len(items)), key=lambda i: (not items[i].direct, -len(items[i].content)))
    for i in order:
        a = items[i]
        spk = canon(a.speaker)
        best, best_sim = None, ALIGN_THRESHOLD
        for g in groups:
            if g["speaker"] != spk:
                continue
            sim = float(np.max(np.vstack(g["vecs"]) @ vecs[i]))
            if sim >= best_sim:
                best, best_sim = g, sim
        if best is None:
            groups.append({"speaker": spk, "members": [a], "vecs": [vecs[i]]})
        else:
            best["members"].append(a)
            best["vecs"].append(vecs[i])
    quotes: list[Quote] = []
    for g in groups:
        per_article: dict[str, Attribution] = {}
        for a in g["members"]:
            cur = per_article.get(a.article_id)
            if cur is None or (a.direct and not cur.direct):
                per_article[a.article_id] = a
        variants = tuple(
            QuoteVariant(article=aid, text=_variant_text(a), sentence=a.sentence)
            for aid, a in sorted(per_article.items())
        )
        vias = {aid: via_of(a) for aid, a in per_article.items()}
        via_counts: Counter[str] = Counter(v[0] for v in vias.values() if v)
        common_via = tuple(v for v, c in via_counts.most_common() if c * 2 >= len(per_article))
        primaries: set[str] = set()
        for aid, v in vias.items():
            if v:
                primaries.add(v[0])
            else:
                p = provenance.get(aid)
                primaries |= set(p.primary) if p and p.primary else {aid}
        texts = [v.text for v in variants]
        quotes.append(
            Quote(
                speaker=g["speaker"],
                text=_canonical(texts),
                variants=variants,
                via=common_via,
                cue=Counter(a.cue for a in per_article.values()).most_common(1)[0][0],
                direct=any(a.direct for a in per_article.values()),
                independent_sources=max(1, len(primaries)),
            )
        )
    quotes.sort(key=lambda q: (-len(q.variants), q.text))
    return quotes


def _canonical(texts: list[str]) -> str:
    """The wording most variants share: the shortest text contained in most of the others."""
    folded = [fold(t) for t in texts]
    best, best_key = texts[0], (-1, 0)
    for t, f in zip(texts, folded, strict=True):
        inside = sum(1 for o in folded if f and f in o)
        key = (inside, -len(t))
        if key > best_key:
            best, best_key = t, key
    if best_key[0] <= 1:
        return max(texts, key=lambda t: (sum(fold(t) in o for o in folded), -abs(len(t) - 80)))
    return best


class QuotesStage:
    """Cross-outlet quote alignment per event."""

    name: ClassVar[str] = "quotes"
    version: ClassVar[str] = QUOTES_VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"events", "attributions", "provenance"})
    assigns: ClassVar[frozenset[str]] = frozenset({"quotes"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Align quotes of events whose membership changed."""
        store = ctx.store
        prev = {} if ctx.force else {k: (v, d) for k, v, d in store.records(QUOTES_KIND)}
        n = 0
        events = store.events()
        for ev in ctx.progress(events, total=len(events), desc="quote alignment"):
            members = sorted(ev.articles)
            p = prev.get(ev.id)
            if p and p[0] == QUOTES_VERSION and p[1].get("members") == members:
                continue
            attrs = load_attributions(store, ev.articles)
            index = EntityIndex(load_article_entities(store, ev.articles))
            quotes = align_quotes(attrs, ctx.embedder, prov.load_provenance(store, ev.articles), index)
            store.put_record(QUOTES_KIND, ev.id, QUOTES_VERSION, {"members": members, "quotes": to_dict(quotes)})
            n += 1
        return {"events": n}


def load_quotes(store: Any, event_id: str) -> list[Quote]:
    """Aligned quotes of one event."""
    rec = store.get_record(QUOTES_KIND, event_id)
    return [from_dict(Quote, q) for q in rec[1]["quotes"]] if rec else []


def speakers_by_article(attributions: dict[str, list[Attribution]]) -> dict[str, Counter[str]]:
    """Article id -> how often each speaker is quoted."""
    out: dict[str, Counter[str]] = defaultdict(Counter)
    for aid, attrs in attributions.items():
        for a in attrs:
            if a.speaker:
                out[aid][a.speaker] += 1
    return out
