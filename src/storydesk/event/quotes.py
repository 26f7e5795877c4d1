"""Quotes aligned across the articles of an event (the event map).

The attributions themselves (who said what, through whom) are found per
article by :mod:`storydesk.attribution`. :func:`align_quotes` aligns the same
statement across an event's articles (in other translations or lengths) into one
:class:`~storydesk.models.Quote` with a variant per article, and counts its
independent primary sources.
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex
from storydesk.attribution.resolve import QUOTED
from storydesk.embed import Embedder
from storydesk.models import (
    Attribution,
    Provenance,
    Quote,
    QuoteVariant,
)
from storydesk.textutil import STOP_WORDS, content_words, stem, tokens

# --------------------------------------------------------------------------- alignment

#: Lemmas of cues that report speech or writing. An indirect statement becomes a
#: quote only with one of these: "Kim said that …" is a statement, "Pyongyang
#: sees the drills as …" or "photos showed …" are not.
_SPEECH_WORDS = (
    "according accuse acknowledge add admit advise affirm agree announce answer applaud argue ask assert "
    "assure blast boast brand call caution charge cite claim commend comment complain compliment concede "
    "conclude condemn confirm contend criticise criticize declare decry demand denounce deny describe "
    "direct disclose dismiss dub emphasise emphasize estimate explain express hail inform insist "
    "instruct label lament laud mention note observe order pledge point praise predict proclaim promise "
    "propose quote recall recommend reiterate reject remark reply report respond reveal say set slam "
    "speak state stress suggest tell term testify thank threaten tweet underline underscore urge vow "
    "warn welcome write"
)
SPEECH_LEMMAS = frozenset(_SPEECH_WORDS.split())
_SPEECH_STEMS = frozenset(stem(w) for w in SPEECH_LEMMAS)
#: Score (0–1) at which two statements of one speaker in different articles are one quote.
ALIGN_THRESHOLD = 0.55
#: Two groups merge on their best pair when their average pair is no more than this below the threshold.
LINK_SLACK = 0.1


def is_speech_cue(cue: str) -> bool:
    """True when a cue reports speech or writing ("has repeatedly warned", "according to", "as saying").

    A word of the cue is a speech verb when it is one of :data:`SPEECH_LEMMAS` or, not being a
    stop word ("not" shares its stem with "note"), has the stem of one.
    """
    return any(w in SPEECH_LEMMAS or (w not in STOP_WORDS and stem(w) in _SPEECH_STEMS) for w in tokens(cue))


def _stems(text: str) -> frozenset[str]:
    """Stems of the content words (:func:`storydesk.textutil.content_words`; "drastically" meets "drastic")."""
    return frozenset(content_words(text, min_len=2))


def _clean_quote(text: str) -> str:
    """A quoted passage without its marks and edge punctuation."""
    return text.strip().strip("\"“”‘’'«»„").strip(" ,.;:…").strip()


@dataclass
class _Unit:
    """One statement of one article, ready to align."""

    article: str
    speaker: str
    attr: Attribution
    text: str  # what the variant shows: the quoted words, else the reported content
    context: str  # the whole content, to compare meaning
    direct: bool
    stems: frozenset[str] = field(default_factory=frozenset)
    context_stems: frozenset[str] = field(default_factory=frozenset)


def quote_units(attrs: Sequence[Attribution], text: str, is_media: Any = None) -> list[_Unit]:
    """The statements of one article: quoted passages grouped by their innermost attribution.

    A quoted passage (two words or more) belongs to the attribution with the
    narrowest content around it, so "“…,” Kim said, KCNA reported" gives Kim's
    words once, not twice. An attribution without quoted words is a statement
    when its cue reports speech, its speaker is not a medium (a medium's
    unquoted report is a report, not a quote) and its content has 4+ words:
    "Kim said that …", "according to KCNA, …" are statements, "Pyongyang sees
    the drills as …" is not. Quoted words count whatever verb hands them over
    ("…," he snapped).

    Args:
        attrs: The attributions of one article.
        text: The article text (for quotation marks).
        is_media: Predicate telling whether a speaker name is a news medium.
    """
    # quoted words are a quote whatever verb hands them over ("continued:", "snapped"); an
    # unquoted report needs a verb of speaking (below)
    cands = [a for a in attrs if a.speaker and a.content.strip()]
    if not cands:
        return []
    media = is_media or (lambda _n: False)
    from storydesk.attribution.quotes import find_quotes

    spans = [q for q in find_quotes(text) if len(_clean_quote(text[q[0] : q[1]]).split()) >= 2]
    owned: dict[int, list[tuple[int, int]]] = defaultdict(list)
    quoted_attr: set[int] = set()
    for q in spans:
        owners = [i for i, a in enumerate(cands) if a.content_start < q[1] and q[0] < a.content_end]
        if not owners:
            continue
        quoted_attr.update(owners)
        best = min(owners, key=lambda i: (cands[i].content_end - cands[i].content_start, media(cands[i].speaker)))
        owned[best].append(q)
    units: list[_Unit] = []
    for i, a in enumerate(cands):
        speaker = a.speaker or ""
        if owned.get(i):
            frags = [_clean_quote(text[max(s, a.content_start) : min(e, a.content_end)]) for s, e in owned[i]]
            shown = " … ".join(f for f in frags if f)
            if not shown:
                continue
            units.append(_Unit(a.article_id, speaker, a, shown, a.content, True))
        elif (
            is_speech_cue(a.cue)
            and i not in quoted_attr
            and not QUOTED.search(a.content)
            and not media(speaker)
            and len(a.content.split()) >= 4
        ):
            shown = a.content.strip().strip('“”"').strip()
            units.append(_Unit(a.article_id, speaker, a, shown, a.content, False))
    for u in units:
        u.stems = _stems(u.text)
        u.context_stems = _stems(u.context)
    return units


def _words(text: str) -> frozenset[str]:
    """Folded content words, unstemmed."""
    return frozenset(w for w in tokens(text) if w not in STOP_WORDS and len(w) > 1)


def _contains_verbatim(a: _Unit, b: _Unit) -> bool:
    """True when the shorter wording appears word for word inside the longer (2+ content words)."""
    short, long_ = sorted((a.text, b.text), key=len)
    if len(_words(short)) < 2:
        return False
    norm = [" " + " ".join(tokens(t)) + " " for t in (short, long_)]
    return any(norm[0].strip() and p.strip() and " " + p.strip() + " " in norm[1] for p in norm[0].split(" … "))


def _weighted_containment(a: frozenset[str], b: frozenset[str], idf: dict[str, float]) -> float:
    """Share of the lighter side's word weight that the two sets have in common."""
    if not a or not b:
        return 0.0
    wa = sum(idf.get(x, 1.0) for x in a)
    wb = sum(idf.get(x, 1.0) for x in b)
    return sum(idf.get(x, 1.0) for x in a & b) / min(wa, wb)


def _weighted_share(a: frozenset[str], b: frozenset[str], idf: dict[str, float]) -> float:
    """Share of ``a``'s word weight found in ``b``."""
    wa = sum(idf.get(x, 1.0) for x in a)
    return sum(idf.get(x, 1.0) for x in a & b) / wa if wa else 0.0


def _score(
    a: _Unit, b: _Unit, qa: np.ndarray, qb: np.ndarray, ca: np.ndarray, cb: np.ndarray, idf: dict[str, float]
) -> float:
    """How surely two units are one statement (0–1).

    Shared word stems of the wordings, weighted by rarity among the event's
    statements (every statement of a war story says "war"; one says
    "exponential"), also counting a wording's words found in the other's
    context (one outlet quotes what the other paraphrases); then the embedding
    cosine of the wordings and that of the whole contents. An outlet that
    quotes a part of what another quotes in full ("drastically boost" inside
    "… an important goal to drastically boost the existing …") scores as an
    exact wording, whatever the lengths.
    """
    direct = _weighted_containment(a.stems, b.stems, idf)
    crossed = 0.5 * (_weighted_share(a.stems, b.context_stems, idf) + _weighted_share(b.stems, a.context_stems, idf))
    lex = max(direct, crossed)
    ctx = float(ca @ cb)
    sc = 0.3 * lex + 0.3 * float(qa @ qb) + 0.4 * ctx
    if _contains_verbatim(a, b):
        sc = max(sc, 0.6 + 0.4 * ctx)
    return sc


def align_quotes(
    attributions: dict[str, list[Attribution]],
    embedder: Embedder,
    provenance: dict[str, Provenance],
    index: EntityIndex | None = None,
    *,
    texts: dict[str, str],
    threshold: float = ALIGN_THRESHOLD,
) -> list[Quote]:
    """Group the statements of several articles into quotes (one statement, a variant per article).

    Statements are the quoted passages and reported speech of each article
    (:func:`quote_units`). Two statements of the same speaker in different
    articles are scored by shared word stems, by the embedding cosine of their
    wordings and by that of their whole contents; pairs are merged best first
    (best pair ≥ ``threshold`` and average pair ≥ ``threshold`` − :data:`LINK_SLACK`), and a quote never takes two
    statements of one article. A statement with no medium named beside it
    reached the article through the article's primary media (its provenance),
    so that is its ``via``; ``independent_sources`` counts the distinct
    primary sources behind the variants.

    Args:
        attributions: Article id -> its attributions.
        embedder: Embeds wordings and contents for comparison.
        provenance: Article id -> its provenance (primary sources, relays).
        index: Canonicalises speaker names, when given.
        texts: Article id -> article text, to find quotation marks exactly.
        threshold: Minimum average score for two groups to merge.
    """

    def canon(name: str | None) -> str | None:
        if name and index is not None:
            ent = index.lookup(name)
            return ent.name if ent else name
        return name

    def is_media(name: str | None) -> bool:
        if not name:
            return False
        return any(name in a.via for attrs in attributions.values() for a in attrs) or (
            index is not None and prov.looks_like_media(name, index)
        )

    units: list[_Unit] = []
    for aid in sorted(attributions):
        for u in quote_units(attributions[aid], texts[aid], is_media):
            u.speaker = canon(u.speaker) or u.speaker
            units.append(u)
    if not units:
        return []
    # Only speakers whose words the articles credit to a medium inherit the article's
    # primary media; an expert talking to the outlet reaches it directly.
    mediated = {u.speaker for u in units if u.attr.via}

    def via_of(u: _Unit) -> tuple[str, ...]:
        if u.attr.via:
            return u.attr.via
        p = provenance.get(u.article)
        return prov.media_primaries(p) if p and u.speaker in mediated else ()

    df: Counter[str] = Counter(x for u in units for x in u.stems | u.context_stems)
    idf = {x: math.log(1 + len(units) / c) for x, c in df.items()}
    n = len(units)
    # Only statements whose speaker is quoted in another article can align: only they are embedded.
    outlets: dict[str | None, set[str]] = defaultdict(set)
    for u in units:
        outlets[u.speaker].add(u.article)
    need = [i for i, u in enumerate(units) if len(outlets[u.speaker]) > 1]
    qv = np.zeros((n, 1), dtype=np.float32)
    cv = np.zeros((n, 1), dtype=np.float32)
    if need:
        q = embedder.encode([units[i].text for i in need] + [units[i].context for i in need])
        qv = np.zeros((n, q.shape[1]), dtype=np.float32)
        cv = np.zeros((n, q.shape[1]), dtype=np.float32)
        qv[need] = q[: len(need)]
        cv[need] = q[len(need) :]
    score = np.zeros((n, n), dtype=np.float32)
    pairs: list[tuple[float, int, int]] = []
    for i in range(n):
        for j in range(i + 1, n):
            if units[i].speaker != units[j].speaker or units[i].article == units[j].article:
                continue
            sc = _score(units[i], units[j], qv[i], qv[j], cv[i], cv[j], idf)
            score[i, j] = score[j, i] = sc
            if sc >= threshold:
                pairs.append((sc, i, j))
    pairs.sort(key=lambda x: (-x[0], x[1], x[2]))
    cluster = list(range(n))
    members: dict[int, list[int]] = {i: [i] for i in range(n)}
    for _sc, i, j in pairs:
        ci, cj = cluster[i], cluster[j]
        if ci == cj:
            continue
        mi, mj = members[ci], members[cj]
        if {units[k].article for k in mi} & {units[k].article for k in mj}:
            continue  # one variant per article
        if float(np.mean(score[np.ix_(mi, mj)])) < threshold - LINK_SLACK:
            continue  # the best pair agrees, but the groups as a whole do not
        for k in mj:
            cluster[k] = ci
        mi.extend(mj)
        del members[cj]
    quotes: list[Quote] = []
    for mem in members.values():
        group = sorted((units[k] for k in mem), key=lambda u: u.article)
        variants = tuple(QuoteVariant(article=u.article, text=u.text, sentence=u.attr.sentence) for u in group)
        vias = {u.article: via_of(u) for u in group}
        via_counts: Counter[str] = Counter(v[0] for v in vias.values() if v)
        common_via = tuple(v for v, c in via_counts.most_common() if c * 2 >= len(group))
        primaries = {v[0] if v else _own_channel(provenance.get(aid), aid) for aid, v in vias.items()}
        quotes.append(
            Quote(
                speaker=group[0].speaker,
                text=_canonical([u.text for u in group]),
                variants=variants,
                via=common_via,
                cue=Counter(u.attr.cue for u in group).most_common(1)[0][0],
                direct=any(u.direct for u in group),
                independent_sources=max(1, len(primaries)),
            )
        )
    quotes.sort(key=lambda q: (-len(q.variants), not q.direct, q.variants[0].article, q.variants[0].sentence))
    return quotes


def _own_channel(p: Provenance | None, article_id: str) -> str:
    """Where an article's unmediated statement comes from: the wire it relays, else its own reporting."""
    if p is not None and p.relays:
        return p.relays[0]
    own = [x for x in (p.primary if p else ()) if x.startswith("own:")]
    return own[0] if own else "own:" + article_id


def _canonical(texts: list[str]) -> str:
    """The wording that stands for all variants: the fragment whose words the other variants share most.

    Each variant is split into its quoted fragments; a fragment scores the
    share of its word stems found in each other variant, summed. Ties go to
    the longer, more complete fragment.
    """
    if len(texts) == 1:
        return texts[0]
    stems = [_stems(t) for t in texts]
    best, best_key = texts[0], (-1.0, 0)
    for i, t in enumerate(texts):
        for frag in t.split(" … "):
            fs = _stems(frag)
            if not fs:
                continue
            share = sum(len(fs & stems[j]) / len(fs) for j in range(len(texts)) if j != i)
            key = (round(share, 6), len(frag))
            if key > best_key:
                best, best_key = frag.strip(), key
    return best
