"""Compare: what outlets agree on, what only one reports, where they contradict.

Claims: the sentences of an event's articles are aligned across articles by
meaning (embedding cosine, raised a little for each name or figure the two
sentences share, see :func:`pair_similarity`); each claim lists the articles that
state it, its citations, who it comes from in each article (read from the
sentence's own attributions by :class:`SentenceSources`: a speaker, a medium, or
the outlet's own reporting) and its independent sources: the distinct origins
behind those (:func:`independent_origins`: four outlets relaying KCNA are one
origin, near-copies count with their original). Claims made by one outlet only
are flagged ``single_source``.

Conflicts (transparent rules, no opaque model):
    * **names**: two event/organisation names that share words and are used in
      aligned statements by different outlets ("Ulchi Freedom Shield" vs
      "Ulchi Freedom Guardian");
    * **numbers**: aligned statements giving different figures for the same
      thing ("12 dead" vs "14 dead");
    * **dates**: aligned statements that date the same thing to different days
      ("on Friday" in one outlet, "on Thursday" in another, once resolved
      against each article's publication date);
    * **characterisations**: how something is labelled ("a rehearsal for an
      invasion" vs "a rehearsal for nuclear war", "a provocation").

Places are not compared yet: "in Pyongyang" against "in North Korea" is usually
containment, not contradiction, and telling the two apart needs a gazetteer.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex, name_key
from storydesk.attribution.resolve import QUOTED
from storydesk.event.quotes import is_speech_cue
from storydesk.models import (
    Article,
    Attribution,
    Citation,
    Claim,
    ClaimSource,
    Conflict,
    ConflictValue,
    Provenance,
    Sentence,
)
from storydesk.textutil import CALENDAR_WORDS, STOP_WORDS, fold

#: Cosine at which two sentences of different articles state the same claim.
CLAIM_THRESHOLD = 0.66
#: Looser cosine for "these two sentences talk about the same thing" (conflict context).
CONTEXT_THRESHOLD = 0.45


@dataclass
class _Group:
    """A claim being built."""

    members: list[Sentence] = field(default_factory=list)
    vecs: list[np.ndarray] = field(default_factory=list)


#: Lemmas of verbs that lend a view to someone without reporting speech ("experts believe",
#: "North Korea views the drills as ..."): the view is the holder's, not the outlet's.
_VIEW_WORDS = "assess believe consider doubt expect fear feel hope perceive reckon regard see suspect think view"
VIEW_LEMMAS = frozenset(_VIEW_WORDS.split())
#: Credit lines that name no agency: the outlet's own reporting stays the outlet's.
_GENERIC_CREDITS = frozenset({"agencies", "agency", "wires", "news agencies", "agency inputs"})
#: Below this speaker confidence an attribution names no one (its medium, if any, still counts).
MIN_SPEAKER_CONFIDENCE = 0.4
#: Share of a sentence an unquoted attribution's content must cover to be the sentence's source:
#: "which Kim sees as invasion rehearsals" inside an outlet's own sentence is not.
MIN_COVERAGE = 0.3


_VIEW_IRREGULAR = {"saw": "see", "seen": "see", "sees": "see", "thought": "think", "felt": "feel"}


def _view_lemma(word: str) -> str:
    """A verb's lemma when it is a verb of belief or perception ("believed" -> "believe"), else the word."""
    w = word.lower()
    if w in _VIEW_IRREGULAR:
        return _VIEW_IRREGULAR[w]
    for suf, rep in (("ies", "y"), ("ed", "e"), ("ed", ""), ("es", ""), ("s", ""), ("d", "")):
        if w.endswith(suf) and w[: -len(suf)] + rep in VIEW_LEMMAS:
            return w[: -len(suf)] + rep
    return w


def _view_or_speech(cue: str) -> bool:
    """True when a cue reports speech, writing or a view ("said", "according to", "believe")."""
    return is_speech_cue(cue) or any(_view_lemma(w) in VIEW_LEMMAS for w in re.findall(r"[A-Za-z]+", cue))


def _words(text: str) -> str:
    """Folded words of a text, space-padded, for whole-word containment tests."""
    return " " + " ".join(re.findall(r"\w+", fold(text))) + " "


def origin_key(origin: str) -> str:
    """What two origins are compared by: an outlet's own reporting ("own:AP") and the outlet cited ("AP") are one.

    Case and a leading "the" do not matter ("Both sides", "both sides").
    """
    return re.sub(r"^the\s+", "", name_key(origin.removeprefix("own:")))


def _footprint(a: Attribution) -> tuple[int, int]:
    """The characters an attribution spans: its speaker, cue and content."""
    spans = [(a.content_start, a.content_end)]
    spans += [(x, y) for x, y in ((a.speaker_start, a.speaker_end), (a.cue_start, a.cue_end)) if 0 <= x < y]
    return min(x for x, _ in spans), max(y for _, y in spans)


class SentenceSources:
    """Who each sentence of an event's articles comes from (:meth:`of`).

    A sentence's sources are read from its own attributions: those whose content
    overlaps the sentence (a quote may span sentences), with a speaker or a medium
    named, reporting speech or a view ("said", "according to", "believe") or
    quoting words, and covering a fair share of the sentence. Through relays, the
    **origin** of what a sentence says is

    * the medium that carried a speaker's words, when its account is where the
      others' reports originate: the first of the attribution's media (an agency
      citing KCNA is KCNA) when it is state media or two or more of the event's
      articles draw on it (:meth:`is_upstream`); a wire or an outlet that
      interviewed someone only relays them: the speaker is the origin;
    * for a speaker named without a medium, the medium that carries their words
      elsewhere in the event ("Kim Jong Un said ..." in an article relaying KCNA is
      KCNA's account), else the speaker ("Numerous experts", "Seoul's Joint Chiefs
      of Staff" are their own sources);
    * for an unattributed sentence, the outlet's own reporting: ``own:`` + the wire
      whose copy the article carries (a relay its credit line names: "(With inputs
      from AP)"), else its outlet, else the article id; a near-copy's own reporting
      is its original's.

    Args:
        articles: The event's articles.
        attributions: Their attributions, by article id.
        provenance: Their provenance, by article id.
        index: The event's canonical entities (speaker names are canonicalised through it).
        duplicate_of: Article id -> the original it copies (None for originals).
    """

    def __init__(
        self,
        articles: Sequence[Article],
        attributions: Mapping[str, Sequence[Attribution]],
        provenance: Mapping[str, Provenance],
        index: EntityIndex | None = None,
        duplicate_of: Mapping[str, str | None] | None = None,
    ) -> None:
        self.index = index
        self.attributions = attributions
        self.provenance = provenance
        self.outlet = {a.id: a.outlet for a in articles if a.outlet}
        # the wire whose copy an article carries: a relay its credit line names ("(With inputs from AP)"); a
        # photo credit or a wire the text cites says nothing of who wrote the unattributed sentences
        self.credited: dict[str, str] = {}
        for art in articles:
            credits = " ".join(_words(x.text) for x in art.stripped if x.kind == "relay_credit")
            p = provenance.get(art.id)
            for r in p.relays if p else ():
                if name_key(r) not in _GENERIC_CREDITS and _words(r) in credits:
                    self.credited[art.id] = r
                    break
        self.duplicate_of = dict(duplicate_of or {})
        self.media = {m for attrs in attributions.values() for a in attrs for m in a.via}
        self._media_cache: dict[str, bool] = {}
        # media several articles draw on (their primary source): where the others' reports originate
        drawn = Counter(m for p in provenance.values() for m in set(prov.media_primaries(p)))
        self.drawn_on = {m for m, n in drawn.items() if n >= 2}
        # the medium that carries each speaker's words in the event (the most cited one)
        carried: dict[str, Counter[str]] = defaultdict(Counter)
        for attrs in attributions.values():
            for a in attrs:
                if a.via and a.speaker and self.is_upstream(a.via[0]) and not self.is_media(a.speaker):
                    carried[self.canon(a.speaker)][a.via[0]] += 1
        self.mediator = {who: c.most_common(1)[0][0] for who, c in carried.items()}
        # per article, the medium each wire is shown relaying ("Yonhap reported citing KCNA")
        self.relayed: dict[str, dict[str, str]] = defaultdict(dict)
        for aid, attrs in attributions.items():
            for a in attrs:
                for m in a.via[1:]:
                    if self.is_wire(m) and m != a.via[0]:
                        self.relayed[aid].setdefault(m, a.via[0])

    def canon(self, name: str) -> str:
        """Canonical name of a speaker (the entity's name), else the name as written."""
        ent = self.index.lookup(name) if self.index is not None else None
        return ent.name if ent is not None else name

    def is_media(self, name: str) -> bool:
        """True for news media: a medium some attribution names, or a name that looks like one."""
        if name not in self._media_cache:
            self._media_cache[name] = name in self.media or (
                self.index is not None and prov.looks_like_media(name, self.index)
            )
        return self._media_cache[name]

    def is_wire(self, name: str) -> bool:
        """True for wire services (relays of other people's news), not state media."""
        ent = self.index.lookup(name) if self.index is not None else None
        keys = {name_key(x) for x in (ent.aliases if ent else ())} | {name_key(name)}
        return bool(keys & prov.WIRES) and not keys & prov.STATE_MEDIA

    def is_upstream(self, name: str) -> bool:
        """True for a medium whose account is the origin of what others print: state media, or one that two
        or more of the event's articles draw on. Other media (a wire, an outlet interviewing someone) relay."""
        if name in self.drawn_on:
            return True
        ent = self.index.lookup(name) if self.index is not None else None
        keys = {name_key(x) for x in (ent.aliases if ent else ())} | {name_key(name)}
        return bool(keys & prov.STATE_MEDIA)

    def own(self, article_id: str, _depth: int = 0) -> str:
        """The origin of an article's unattributed sentences: ``own:`` + the wire it credits, its outlet or its id."""
        orig = self.duplicate_of.get(article_id)
        if orig and orig != article_id and _depth < 3 and (orig in self.provenance or orig in self.outlet):
            return self.own(orig, _depth + 1)
        return "own:" + (self.credited.get(article_id) or self.outlet.get(article_id) or article_id)

    def of(self, s: Sentence) -> tuple[ClaimSource, ...]:
        """Who one sentence comes from: one :class:`ClaimSource` per origin (at least one)."""
        length = max(1, s.end - s.start)
        found: list[tuple[Attribution, bool, bool]] = []  # (attribution, speaker trusted, quotes words)
        for a in self.attributions.get(s.article_id, ()):
            if min(a.content_end, s.end) <= max(a.content_start, s.start):
                continue  # its content is in other sentences
            trusted = bool(a.speaker) and a.confidence >= MIN_SPEAKER_CONFIDENCE
            if not trusted and not a.via:
                continue  # no one named
            part = a.content[max(0, s.start - a.content_start) : max(0, s.end - a.content_start)]
            quoted = a.direct or bool(QUOTED.search(part))
            if not a.direct and not a.via and (not _view_or_speech(a.cue) or len(a.content.split()) < 4):
                continue  # "Kim also stopped at ...", "Kim has directed his attention": actions, not statements
            if not quoted:
                if not a.via and re.search(r"\b(?!according\b)\w+ing\b", a.cue, re.I):
                    continue  # "..., frequently citing concerns": a stance the outlet describes
                lo, hi = _footprint(a)
                if min(hi, s.end) - max(lo, s.start) < MIN_COVERAGE * length:
                    continue  # a clause inside the outlet's own sentence
            found.append((a, trusted, quoted))
        # "She said Velmark had called for ...": what a person says others said is still hers
        outer = [a for a, t, _q in found if t and a.speaker and not self.is_media(self.canon(a.speaker))]
        found = [
            (a, t, q)
            for a, t, q in found
            if a.via
            or not any(
                o is not a
                and o.speaker != a.speaker
                and o.content_start <= _footprint(a)[0]
                and _footprint(a)[1] <= o.content_end
                for o in outer
            )
        ]
        if not found:
            return (ClaimSource(s.article_id, s.index, self.own(s.article_id), self.own(s.article_id), (), "own"),)
        # one source per origin: a person before a medium, the surest speaker first; quoted if any quotes it
        best: dict[str, tuple[tuple[bool, float, int], ClaimSource]] = {}
        quoting: set[str] = set()
        for a, trusted, quoted in found:
            c = self._source(s, a, trusted)
            k = origin_key(c.origin)
            if quoted:
                quoting.add(k)
            rank = (not self.is_media(c.source), a.confidence if trusted else 0.0, len(c.via))
            if k not in best or rank > best[k][0]:
                best[k] = (rank, c)
        return tuple(dataclasses.replace(c, kind="quoted") if k in quoting else c for k, (_r, c) in best.items())

    def _source(self, s: Sentence, a: Attribution, trusted: bool) -> ClaimSource:
        """The source and origin one attribution gives its sentence (kind ``reported``; :meth:`of` marks quotes)."""
        kind = "reported"
        speaker = self.canon(a.speaker) if trusted and a.speaker else None
        via = tuple(a.via)
        if len(via) == 1 and via[0] in self.relayed.get(s.article_id, {}):
            # "Yonhap reported" in an article that shows Yonhap citing KCNA: an agency citing KCNA is KCNA
            via = (self.relayed[s.article_id][via[0]], *via)
        if speaker is None or self.is_media(speaker):
            # a medium reports (or a speaker too vague to name): the first medium is the source
            source = via[0] if via else (speaker or "")
            return ClaimSource(s.article_id, s.index, source, source, via, kind)
        if via and self.is_upstream(via[0]):
            return ClaimSource(s.article_id, s.index, speaker, via[0], via, kind)
        carrier = self.mediator.get(speaker)
        if carrier:
            return ClaimSource(s.article_id, s.index, speaker, carrier, via or (carrier,), kind)
        return ClaimSource(s.article_id, s.index, speaker, speaker, via, kind)


def _medium_origin(c: ClaimSource) -> bool:
    """True when a source's origin is the medium that carried it (KCNA for Kim Jong Un's words)."""
    return bool(c.via) and c.origin == c.via[0]


def credit_repeats(sources: Sequence[ClaimSource], draws_on: Mapping[str, Sequence[str]]) -> tuple[ClaimSource, ...]:
    """Unattributed members of a claim that other articles credit to a medium the article draws on.

    "North Korea's Kim Jong Un ... increases missile production" printed without
    attribution by an article relaying KCNA, while the other outlets credit the same
    claim to KCNA, is KCNA's account repeated uncredited, not the outlet's own
    finding: its origin becomes that medium (kind ``uncredited``; the source stays
    the outlet's own). Background no other outlet credits to a medium stays the
    outlet's own.
    """
    credited: Counter[str] = Counter(c.origin for c in sources if c.kind != "own" and _medium_origin(c))
    if not credited:
        return tuple(sources)
    out = []
    for c in sources:
        if c.kind == "own":
            media = set(draws_on.get(c.article, ()))
            held = [o for o, _n in credited.most_common() if o in media]
            if held:
                c = ClaimSource(c.article, c.sentence, c.source, held[0], (held[0],), "uncredited")
        out.append(c)
    return tuple(out)


def independent_origins(
    sources: Sequence[ClaimSource], duplicate_of: Mapping[str, str | None] | None = None
) -> tuple[str, ...]:
    """The distinct origins behind a claim's sources, sorted.

    A near-copy's sources count with its original's when the original states the
    claim too; an outlet's own reporting and the same outlet cited by another are
    one origin (:func:`origin_key`).
    """
    dup = duplicate_of or {}
    cited = {c.article for c in sources}
    kept = [c for c in sources if not (dup.get(c.article) and dup.get(c.article) in cited)]
    shown: dict[str, str] = {}
    for c in sorted(kept, key=lambda c: (c.origin.startswith("own:"), c.origin)):
        shown.setdefault(origin_key(c.origin), c.origin)
    return tuple(sorted(shown.values()))


def numbers_in(text: str) -> set[str]:
    """Numbers written with digits, normalised ("4,000" -> "4000")."""
    return {n.replace(",", "") for n in re.findall(r"\b\d[\d,]*(?:\.\d+)?\b", text)}


def names_in(text: str) -> set[str]:
    """Capitalised words that do not open the sentence (names, crudely), folded; days and months left out."""
    out = set()
    for m in re.finditer(r"(?<![\w’'])[A-Z][a-zA-Z’'-]+", text):
        if m.start() == 0 or text[: m.start()].rstrip().endswith((".", ":", "“", '"')):
            continue
        w = fold(m.group(0)).split("'")[0]
        if w not in CALENDAR_WORDS:
            out.add(w)
    return out


#: Cosine added per name or figure two sentences share (at most two). Different figures
#: are not held against alignment: "12 dead" against "14 dead" is the conflict to find.
SHARED_KEY_BONUS = 0.04


def pair_similarity(a: Sentence, b: Sentence, va: np.ndarray, vb: np.ndarray) -> float:
    """How likely two sentences state the same claim: cosine, nudged by shared names and figures."""
    sim = float(np.dot(va, vb))
    shared = len(names_in(a.text) & names_in(b.text))
    na, nb = numbers_in(a.text), numbers_in(b.text)
    shared += len(na & nb)
    return sim + SHARED_KEY_BONUS * min(shared, 2)


def align_claims(
    sentences: Mapping[str, list[Sentence]],
    vecs: Mapping[str, np.ndarray],
    sources_of: Mapping[tuple[str, int], Sequence[ClaimSource]],
    threshold: float = CLAIM_THRESHOLD,
    outlet_of: dict[str, str] | None = None,
    duplicate_of: Mapping[str, str | None] | None = None,
    draws_on: Mapping[str, Sequence[str]] | None = None,
) -> list[Claim]:
    """Group sentences of different articles that state the same thing.

    Greedy in article order: a sentence joins the claim whose members it is
    closest to (average-linkage :func:`pair_similarity` ≥ ``threshold``), at most
    one sentence per article per claim. Each sentence's similarities with all
    earlier ones are computed at once (a matrix-vector product and the shared
    names and figures through an inverted list), so an event of thousands of
    sentences costs seconds, not a pair loop.

    Args:
        sentences: Sentences per article.
        vecs: Sentence vectors keyed ``"article:index"``.
        sources_of: ``(article, index)`` -> who the sentence comes from
            (:meth:`SentenceSources.of`); a sentence missing from it is its
            article's own reporting (``own:<article>``).
        threshold: Similarity needed to join a claim.
        outlet_of: article -> outlet; a claim is ``single_source`` when one outlet
            (or one article, when outlets are unknown) states it.
        duplicate_of: article -> the original it copies; a copy's sources count
            with its original's (:func:`independent_origins`).
        draws_on: article -> the media it draws on (its primary media); an
            unattributed sentence repeating what other articles credit to one of
            them comes from it (:func:`credit_repeats`).
    """
    order = [s for aid in sentences for s in sentences[aid] if f"{s.article_id}:{s.index}" in vecs]
    groups: list[_Group] = []
    if not order:
        return []
    n = len(order)
    mat = np.vstack([vecs[f"{s.article_id}:{s.index}"] for s in order]).astype(np.float32)
    # each sentence's names and figures, and for each of them the sentences that hold it
    keys = [names_in(s.text) | numbers_in(s.text) for s in order]
    holders: dict[str, list[int]] = defaultdict(list)
    for i, ks in enumerate(keys):
        for k in ks:
            holders[k].append(i)
    holder_arrays = {k: np.array(v, dtype=np.int64) for k, v in holders.items()}
    article_no = {aid: k for k, aid in enumerate(dict.fromkeys(s.article_id for s in order))}
    art = np.array([article_no[s.article_id] for s in order], dtype=np.int64)
    gid = np.full(n, -1, dtype=np.int64)
    sizes: list[int] = []
    groups_of_article: list[list[int]] = [[] for _ in article_no]
    for i in range(n):
        best = -1
        if sizes:
            # pair_similarity of sentence i with every earlier one: cosine, plus the bonus for shared keys
            shared = np.zeros(i, dtype=np.float32)
            for k in keys[i]:
                idx = holder_arrays[k]
                shared[idx[idx < i]] += 1.0
            sims = mat[:i] @ mat[i] + SHARED_KEY_BONUS * np.minimum(shared, 2.0)
            # average link with each claim so far (every earlier sentence is in one)
            means = np.bincount(gid[:i], weights=sims.astype(np.float64), minlength=len(sizes)) / np.array(sizes)
            means[groups_of_article[art[i]]] = -np.inf  # one sentence per article per claim
            top = float(means.max())
            if top >= threshold:
                best = int(np.flatnonzero(means == top)[-1])  # on a tie the later claim, as the greedy pass did
        if best < 0:
            best = len(sizes)
            sizes.append(0)
            groups.append(_Group())
        gid[i] = best
        sizes[best] += 1
        groups_of_article[art[i]].append(best)
        groups[best].members.append(order[i])
        groups[best].vecs.append(mat[i])
    claims: list[Claim] = []
    for g in groups:
        rep = _representative(g)
        articles = tuple(sorted({m.article_id for m in g.members}))
        attributed = tuple(
            c
            for m in g.members
            for c in sources_of.get((m.article_id, m.index))
            or (ClaimSource(m.article_id, m.index, "own:" + m.article_id, "own:" + m.article_id),)
        )
        attributed = credit_repeats(attributed, draws_on or {})
        origins = independent_origins(attributed, duplicate_of)
        claims.append(
            Claim(
                text=rep.text,
                articles=articles,
                citations=tuple(Citation(m.article_id, m.index) for m in g.members),
                independent_sources=len(origins),
                sources=origins,
                single_source=len({(outlet_of or {}).get(a) or a for a in articles}) == 1,
                attributions=attributed,
            )
        )
    claims.sort(key=lambda c: (-len(c.articles), -c.independent_sources, c.citations[0].sentence))
    return claims


def _representative(g: _Group) -> Sentence:
    """The member closest to the group's centre (shorter on ties)."""
    if len(g.members) == 1:
        return g.members[0]
    m = np.vstack(g.vecs)
    centre = m.mean(axis=0)
    scores = m @ centre
    return g.members[int(np.argmax(scores - 0.001 * np.array([len(s.text) for s in g.members])))]


# --------------------------------------------------------------------------- conflicts

_CHARACTERISATION = re.compile(
    r"\b(?P<noun>rehearsals?|practice|prelude|preparations?|dress rehearsals?|pretext|cover)\s+(?P<prep>for|of|to)\s+"
    r"(?P<obj>(?:an?\s+|the\s+)?(?:[a-z-]+\s+){0,2}?(?:invasion|war|attack|aggression|strike|occupation|"
    r"conflict|offensive|escalation|annexation))\b"
    r"|\b(?P<label>(?:a\s+|an\s+)?(?:(?:reckless|dangerous|serious|grave|deliberate|military|naked|open|"
    r"blatant|clear|unprecedented|routine|defensive|legitimate|necessary)\s+){0,2}(?:provocations?|"
    r"defensive\s+(?:training|exercises?|drills?)|routine\s+(?:training|exercises?|drills?)|threats?\s+to\s+peace))\b",
    re.I,
)


def _char_key(m: re.Match[str]) -> tuple[str, str]:
    """(grouping key, display value) of a characterisation match."""
    if m.group("noun"):
        obj = re.sub(r"^(?:an?|the)\s+", "", m.group("obj").lower())
        head = obj.split()[-1]
        noun = re.sub(r"s$", "", m.group("noun").lower())
        art = m.group("obj").split()[0].lower() if re.match(r"(?:an?|the)\s", m.group("obj"), re.I) else ""
        return head if obj == head else obj, f"{noun} for {(art + ' ') if art else ''}{obj}"
    label = re.sub(r"^(?:an?)\s+", "", m.group("label").lower())
    return label.split()[-1].rstrip("s"), label


def characterisation_conflicts(sentences: dict[str, list[Sentence]]) -> list[Conflict]:
    """Different labels given to the same thing by different articles."""
    found: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
    cites: dict[str, list[Citation]] = defaultdict(list)
    display: dict[str, Counter[str]] = defaultdict(Counter)
    noun_votes: Counter[str] = Counter()
    for aid, sents in sentences.items():
        for s in sents:
            for m in _CHARACTERISATION.finditer(s.text):
                key, value = _char_key(m)
                found["label"][key].add(aid)
                cites[key].append(Citation(aid, s.index))
                display[key][value] += 1
                if m.group("noun"):
                    noun_votes[re.sub(r"s$", "", m.group("noun").lower())] += 1
    groups = found["label"]
    # "war" and "nuclear war" from the same articles are one value: keep the more specific.
    # Its wording is the specific one too: an article that says both "rehearsal for war" and
    # "rehearsal for nuclear war" has characterised the drills the second way, and the
    # general form adds nothing to show side by side.
    for k in list(groups):
        for k2 in list(groups):
            if k != k2 and k in groups and k2 in groups and k2.endswith(" " + k) and groups[k] <= groups[k2]:
                groups[k2] |= groups.pop(k)
                cites[k2].extend(cites.pop(k))
                display.pop(k)
    if len(groups) < 2:
        return []
    all_articles = set().union(*groups.values())
    if len(all_articles) < 2:
        return []
    values = []
    for k, arts in groups.items():
        values.append(
            ConflictValue(
                value=_best_display(display[k], noun_votes),
                articles=tuple(sorted(arts)),
                citations=tuple(cites[k]),
            )
        )
    values.sort(key=lambda v: (-len(v.articles), v.value))
    return [Conflict(about="how it is characterised", kind="characterisation", values=tuple(values))]


def _best_display(forms: Counter[str], noun_votes: Counter[str]) -> str:
    """Display form of a characterisation: its most used noun ("rehearsal"), most used wording."""
    return max(forms, key=lambda f: (noun_votes.get(f.split()[0], 0), forms[f], -len(f)))


def name_conflicts(
    sentences: dict[str, list[Sentence]],
    index: EntityIndex,
    vecs: Mapping[str, np.ndarray],
) -> list[Conflict]:
    """Names of one thing that differ between outlets ("... Shield" vs "... Guardian")."""
    where: dict[str, dict[str, list[Sentence]]] = defaultdict(lambda: defaultdict(list))
    names = [e for e in index.entities if e.type in ("EVENT", "ORG", "FAC", "LAW", "PRODUCT")]
    if len(sentences) < 2:
        return []  # one outlet cannot disagree with itself
    kept = {e.id for e in names}
    for aid, rec in index.records.items():
        sents = {s.index: s for s in sentences.get(aid, [])}
        for m in rec.mentions:
            ent = index.entity_of(m)
            if ent is not None and ent.id in kept and m.sentence in sents:
                where[ent.id][aid].append(sents[m.sentence])
    conflicts: list[Conflict] = []
    used: set[str] = set()
    keys = {e.id: name_key(e.name).split() for e in names}
    # only names that share a word can be two names of one thing: pair them through their words
    by_word: dict[str, list[int]] = defaultdict(list)
    for n, e in enumerate(names):
        if e.id in where:
            for w in set(keys[e.id]):
                by_word[w].append(n)
    pairs = sorted({(x, y) for idx in by_word.values() for k, x in enumerate(idx) for y in idx[k + 1 :]})
    for i, j in pairs:
        a, b = names[i], names[j]
        if a.id in used or b.id in used:
            continue
        ta, tb = set(keys[a.id]), set(keys[b.id])
        shared = ta & tb
        if not shared or ta == tb or len(shared) / len(ta | tb) < 0.34:
            continue
        arts_a, arts_b = set(where[a.id]), set(where[b.id])
        only_a, only_b = arts_a - arts_b, arts_b - arts_a
        if not only_a or not only_b:
            continue
        if not _same_context(where[a.id], where[b.id], vecs):
            continue
        used |= {a.id, b.id}
        common = " ".join(w for w in keys[a.id] if w in shared)
        conflicts.append(
            Conflict(
                about=f"name of the {a.type.lower()} ({common.title()} …)",
                kind="name",
                values=tuple(
                    ConflictValue(
                        value=e.name,
                        articles=tuple(sorted(arts)),
                        # sorted: a set's order follows the hash seed, which differs between processes
                        citations=tuple(Citation(s.article_id, s.index) for x in sorted(arts) for s in where[e.id][x]),
                    )
                    for e, arts in ((a, only_a), (b, only_b))
                ),
            )
        )
    return conflicts


def _same_context(a: dict[str, list[Sentence]], b: dict[str, list[Sentence]], vecs: Mapping[str, np.ndarray]) -> bool:
    """True when some sentence naming ``a`` and one naming ``b`` (other articles) say similar things."""
    for aid, sa in a.items():
        for bid, sb in b.items():
            if aid == bid:
                continue
            for x in sa:
                for y in sb:
                    vx, vy = vecs.get(f"{x.article_id}:{x.index}"), vecs.get(f"{y.article_id}:{y.index}")
                    if vx is not None and vy is not None and float(np.dot(vx, vy)) >= CONTEXT_THRESHOLD:
                        return True
    return False


_QUANTITY = re.compile(
    r"\b(?P<num>\d[\d,]*(?:\.\d+)?)\s*(?P<scale>million|billion|thousand|percent|%)?\s+"
    r"(?P<noun>(?:[a-z-]+\s+){0,1}[a-z-]+)",
    re.I,
)


def number_conflicts(claims: Sequence[Claim], sentences: dict[str, list[Sentence]]) -> list[Conflict]:
    """Aligned statements that give different figures for the same counted thing."""
    by_key = {(s.article_id, s.index): s for ss in sentences.values() for s in ss}
    out: list[Conflict] = []
    for c in claims:
        if len(c.articles) < 2:
            continue
        seen: dict[str, dict[str, set[str]]] = defaultdict(lambda: defaultdict(set))
        cites: dict[tuple[str, str], list[Citation]] = defaultdict(list)
        for cit in c.citations:
            s = by_key.get((cit.article, cit.sentence))
            if s is None:
                continue
            for m in _QUANTITY.finditer(s.text):
                words_ = [w for w in m.group("noun").lower().split() if w not in STOP_WORDS]
                if not words_ or re.fullmatch(r"\d{4}", m.group("num")):
                    continue  # years are dates, not counts
                unit = re.sub(r"s$", "", words_[-1])
                value = m.group("num").replace(",", "") + (f" {m.group('scale').lower()}" if m.group("scale") else "")
                seen[unit][value].add(cit.article)
                cites[(unit, value)].append(cit)
        for unit, vals in seen.items():
            if len(vals) < 2:
                continue
            arts = [set(a) for a in vals.values()]
            if len(set().union(*arts)) < 2:
                continue
            out.append(
                Conflict(
                    about=f"number of {unit}s",
                    kind="number",
                    values=tuple(
                        ConflictValue(value=v, articles=tuple(sorted(a)), citations=tuple(cites[(unit, v)]))
                        for v, a in sorted(vals.items())
                    ),
                )
            )
    return out


_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def date_conflicts(
    claims: Sequence[Claim], sentences: dict[str, list[Sentence]], published: dict[str, Any]
) -> list[Conflict]:
    """Aligned statements that put the same thing on different days.

    Each member sentence of a claim stated by two or more articles is tagged with
    the temporal tagger, resolved against its article's publication date. Only
    sentences with exactly one day-precise date take part (a sentence with two dates
    may be dating two things); a conflict needs two different days from different
    articles.
    """
    from storydesk.timex import tag

    by_key = {(s.article_id, s.index): s for ss in sentences.values() for s in ss}
    out: list[Conflict] = []
    for c in claims:
        if len(c.articles) < 2:
            continue
        days: dict[str, set[str]] = defaultdict(set)
        cites: dict[str, list[Citation]] = defaultdict(list)
        for cit in c.citations:
            s = by_key.get((cit.article, cit.sentence))
            if s is None:
                continue
            found = [
                t.value for t in tag(s.text, published.get(cit.article)) if t.type == "DATE" and _DAY.match(t.value)
            ]
            if len(found) != 1:
                continue
            days[found[0]].add(cit.article)
            cites[found[0]].append(cit)
        if len(days) < 2 or len(set().union(*days.values())) < 2:
            continue
        out.append(
            Conflict(
                about=f"date of: {c.text[:80]}",
                kind="date",
                values=tuple(
                    ConflictValue(value=d, articles=tuple(sorted(a)), citations=tuple(cites[d]))
                    for d, a in sorted(days.items())
                ),
            )
        )
    return out


def compare_event(
    articles: Sequence[Article],
    sentences: Mapping[str, list[Sentence]],
    vecs: Mapping[str, np.ndarray],
    attributions: Mapping[str, Sequence[Attribution]],
    provenance: Mapping[str, Provenance],
    index: EntityIndex,
    dups: Mapping[str, str | None],
) -> tuple[list[Claim], list[Conflict]]:
    """Claims and conflicts of one event's articles.

    Args:
        articles: The event's articles.
        sentences: Their sentences, by article id.
        vecs: Sentence vectors keyed ``"article:index"``.
        attributions: Their attributions, by article id.
        provenance: Their provenance, by article id.
        index: The event's canonical entities.
        dups: Article id -> the original it copies (near-copies state no conflict of their own).

    Returns:
        Claims and conflicts; none for an event of one article, which has nothing to
        compare (its sentences are its claims, and storing them again would double the
        store for the many one-article events of a stream).
    """
    if len(articles) < 2:
        return [], []
    originals = {a.id: list(sentences.get(a.id, [])) for a in articles if not dups.get(a.id)}
    who = SentenceSources(articles, attributions, provenance, index, dups)
    sources_of = {(s.article_id, s.index): who.of(s) for a in articles for s in sentences.get(a.id, [])}
    claims = align_claims(
        {a.id: list(sentences.get(a.id, [])) for a in articles},
        vecs,
        sources_of,
        outlet_of={a.id: a.outlet for a in articles if a.outlet},
        duplicate_of=dups,
        draws_on={aid: prov.media_primaries(p) for aid, p in provenance.items()},
    )
    conflicts = name_conflicts(originals, index, vecs)
    conflicts += number_conflicts(claims, originals)
    conflicts += date_conflicts(claims, originals, {a.id: a.published for a in articles})
    conflicts += characterisation_conflicts(originals)
    return claims, conflicts
