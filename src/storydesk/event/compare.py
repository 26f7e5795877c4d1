"""Compare: what outlets agree on, what only one reports, where they contradict.

Claims: the sentences of an event's articles are aligned across articles by
meaning (embedding cosine, raised a little for each name or figure the two
sentences share, see :func:`pair_similarity`); each claim lists the articles that
state it, its citations, and its independent sources (distinct primary sources
from the provenance stage). Claims made by one outlet only are flagged
``single_source``.

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

import re
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from storydesk.article import provenance as prov
from storydesk.article.entities import EntityIndex, name_key
from storydesk.models import (
    Article,
    Attribution,
    Citation,
    Claim,
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


def sentence_source(s: Sentence, attributions: Sequence[Attribution], p: Provenance | None) -> str:
    """Where one sentence's information comes from.

    The medium of an attribution in the sentence if there is one; for a person's
    words with no medium named, the article's primary media; otherwise the
    agencies the article relays (or the outlet's own reporting).
    """
    for a in attributions:
        if a.sentence == s.index:
            if a.via:
                return a.via[0]
            if p is not None and prov.media_primaries(p):
                return prov.media_primaries(p)[0]
    if p is None:
        return s.article_id
    if p.relays:
        return p.relays[0]
    return p.primary[0] if p.primary else s.article_id


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
    source_of: dict[tuple[str, int], str],
    threshold: float = CLAIM_THRESHOLD,
    outlet_of: dict[str, str] | None = None,
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
        source_of: ``(article, index)`` -> the primary source behind the sentence.
        threshold: Similarity needed to join a claim.
        outlet_of: article -> outlet; a claim is ``single_source`` when one outlet
            (or one article, when outlets are unknown) states it.
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
        srcs = sorted({source_of.get((m.article_id, m.index), m.article_id) for m in g.members})
        claims.append(
            Claim(
                text=rep.text,
                articles=articles,
                citations=tuple(Citation(m.article_id, m.index) for m in g.members),
                independent_sources=len(srcs),
                sources=tuple(srcs),
                single_source=len({(outlet_of or {}).get(a) or a for a in articles}) == 1,
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
                        citations=tuple(Citation(s.article_id, s.index) for aid in arts for s in where[e.id][aid]),
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
    """
    originals = {a.id: list(sentences.get(a.id, [])) for a in articles if not dups.get(a.id)}
    source_of = {
        (s.article_id, s.index): sentence_source(s, attributions.get(s.article_id, []), provenance.get(s.article_id))
        for a in articles
        for s in sentences.get(a.id, [])
    }
    claims = align_claims(
        {a.id: list(sentences.get(a.id, [])) for a in articles},
        vecs,
        source_of,
        outlet_of={a.id: a.outlet for a in articles if a.outlet},
    )
    conflicts = name_conflicts(originals, index, vecs)
    conflicts += number_conflicts(claims, originals)
    conflicts += date_conflicts(claims, originals, {a.id: a.published for a in articles})
    conflicts += characterisation_conflicts(originals)
    return claims, conflicts
