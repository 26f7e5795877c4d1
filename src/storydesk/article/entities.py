"""Entities: named-entity mentions per article and their canonicalisation.

:func:`extract` reads spaCy's entities of an article's title and body (the one
parse of the article map) and keeps the mentions, plus two kinds of local
evidence for merging names later:
acronym definitions ("Korean Central News Agency (KCNA)") and descriptions
placed before a name ("North Korean leader Kim Jong-un").

:class:`EntityIndex` merges the mentions of a set of articles into canonical
entities: spelling variants ("Kim Jong-un" = "Kim Jong Un"), surnames ("Kim"),
acronyms ("KCNA"), and short forms of agency names ("Yonhap" for "Yonhap News
Agency"). Built over one article it resolves speakers in the article map; built
over an event's articles it names the event's entities for quotes, comparison
and export, so every stage names an entity the same way.
"""

from __future__ import annotations

import bisect
import hashlib
import re
from collections import Counter, defaultdict
from typing import Any

from storydesk.models import Article, ArticleEntities, Entity, Mention, Sentence
from storydesk.textutil import fold

KEEP_TYPES = {"PERSON", "ORG", "GPE", "NORP", "LOC", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
_ORGISH = {"ORG", "FAC", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW"}
_CONNECTORS = {"of", "the", "and", "for", "de", "del", "la", "le", "du", "&", "on", "in"}
# Words after a name that make it an event ("the annual Ulchi Freedom Shield exercise").
# Between the name and the noun only capitalised words, years and a few modifiers
# may stand ("Ulchi Freedom Shield summer exercises"), never a verb ("Stanek said the drills").
_EVENT_NOUNS = re.compile(
    r"^\W{0,3}(?:\([A-Z]{2,6}\)\s*)?(?:(?:[A-Z][\w-]*|\d{2,4}|(?i:annual|summer|winter|spring|autumn|fall|joint|"
    r"military|naval|air|combined|regional|national|general|presidential|parliamentary|peace))\s+){0,2}?"
    r"(?i:exercises?|drills?|war\s*games|summit|games|festival|tournament|championship|elections?|conference|"
    r"operation|offensive|parade|olympics|cup|talks|forum)\b"
)
_GENERIC_ORG_TAIL = re.compile(
    r"\s+(?:News Agency|Agency|News Service|Inc\.?|Corp\.?|Corporation|Company|Co\.?|Ltd\.?|Group|"
    r"Holdings|Association|Newspaper|Daily|News)$"
)
_DEFINITION = re.compile(
    r"\b((?:[A-Z][\w’'.-]*)(?:\s+(?:of|the|and|for|de|[A-Z][\w’'.-]*)){1,7})\s*\(\s*([A-Z][A-Za-z]{1,7})\s*\)"
)
# Role nouns of a description ("North Korean leader Kim Jong-un", "Russian Defense Minister Sergei Shoigu").
_ROLE = (
    r"(?i:leader|president|vice[- ]president|minister|prime minister|chief|head|spokesman|spokeswoman|"
    r"spokesperson|secretary|general|governor|mayor|king|queen|chancellor|ambassador|official|commander|"
    r"chairman|chairwoman|chair|director|envoy|senator|lawmaker|premier|ruler|dictator|ceo|founder|judge|"
    r"attorney general|prosecutor|sheriff|representative|candidate|nominee)"
)
# A description right before a person's name: up to three capitalised modifiers
# (possessives allowed: "North Korea's leader") and a role noun, optionally
# followed by a comma ("North Korea's leader, Kim Jong Un,").
_DESC_BEFORE = re.compile(r"(?:^|(?<=[\s(\"“]))((?:[A-Z][\w’'.-]*\s+){0,3}" + _ROLE + r")\s*,?\s*$")
# A description in apposition after the name: "Kim Jong Un, the North Korean leader,".
_DESC_AFTER = re.compile(r"^\s*,\s+(?:the|a|an)\s+((?:[\w’'.-]+\s+){0,3}" + _ROLE + r")\b(?=\s*[,.;)]|\s*$)")


def clean_surface(text: str) -> str:
    """Tidy a mention: no leading article or punctuation, no possessive, no trailing dots."""
    t = text.strip()
    t = re.sub(r"^[\W_]+", "", t)
    t = re.sub(r"^(?:the|The|THE)\s+", "", t)
    t = re.sub(r"[’']s$", "", t)
    t = re.sub(r"[\s,;:]+$", "", t)
    return t.strip()


def name_key(text: str) -> str:
    """Comparison key of a name: folded, hyphens and dots as spaces."""
    k = fold(clean_surface(text))
    k = re.sub(r"[-‐‑.]", " ", k)
    return re.sub(r"\s+", " ", k).strip()


def sentence_of(sentences: list[Sentence], offset: int) -> int:
    """Index of the sentence containing character ``offset`` (-1 before the first)."""
    starts = [s.start for s in sentences]
    return bisect.bisect_right(starts, offset) - 1


def extract(article: Article, sentences: list[Sentence], doc: Any, title_doc: Any | None) -> ArticleEntities:
    """Mentions, definitions and descriptions of one article from its spaCy docs."""
    mentions: list[Mention] = []
    definitions: list[tuple[str, str]] = []
    for d, is_title in ((title_doc, True), (doc, False)):
        if d is None:
            continue
        text = d.text
        for ent in d.ents:
            if ent.label_ not in KEEP_TYPES:
                continue
            surface = clean_surface(ent.text)
            if len(re.sub(r"\W", "", surface)) < 2:
                continue
            lead = ent.text.find(surface) if surface in ent.text else 0
            start = ent.start_char + max(lead, 0)
            label = ent.label_
            if label in _ORGISH | {"PERSON"} and _EVENT_NOUNS.match(text[ent.end_char : ent.end_char + 40]):
                label = "EVENT"
            mentions.append(
                Mention(
                    article_id=article.id,
                    sentence=-1 if is_title else sentence_of(sentences, start),
                    start=start,
                    end=start + len(surface),
                    text=surface,
                    type=label,
                )
            )
    body = f"{article.title or ''}\n{article.text}"
    for m in _DEFINITION.finditer(body):
        long_form, short = clean_surface(m.group(1)), m.group(2)
        if _is_acronym_of(short, long_form):
            definitions.append((long_form, short))
    descriptions = _descriptions(doc.text if doc is not None else article.text, mentions)
    return ArticleEntities(tuple(mentions), tuple(definitions), tuple(descriptions))


def _descriptions(text: str, mentions: list[Mention]) -> list[tuple[str, str]]:
    """``(description, person name)`` pairs written next to person mentions of the body."""
    pairs: list[tuple[str, str]] = []
    for m in mentions:
        if m.type != "PERSON" or m.sentence < 0:
            continue
        # Only the current line: a description never spans a paragraph break.
        line_start = text.rfind("\n", 0, m.start) + 1
        before = _DESC_BEFORE.search(text[max(line_start, m.start - 80) : m.start])
        if before:
            pairs.append((before.group(1).strip(), m.text))
        after = _DESC_AFTER.match(text[m.end : m.end + 80])
        if after:
            pairs.append((after.group(1).strip(), m.text))
    return pairs


def _initials(name: str) -> str:
    """Upper-case initials of the significant words of a name."""
    return "".join(w[0] for w in re.split(r"[\s-]+", name) if w and w.lower() not in _CONNECTORS).upper()


def _is_acronym_of(short: str, long_form: str) -> bool:
    """True when ``short`` abbreviates ``long_form`` (initials, possibly trimmed at the front)."""
    ini = _initials(long_form)
    s = short.upper()
    return len(s) >= 2 and (ini == s or ini.endswith(s) or (s in ini and len(s) >= 3))


# --------------------------------------------------------------------------- canonicalisation


_FAMILIES = ("PERSON", "ORG", "GPE", "NORP")


def _coarse(t: str) -> str:
    """Type family used when merging (ORG-like labels disagree a lot in small models)."""
    if t in _ORGISH:
        return "ORG"
    if t in ("GPE", "LOC"):
        return "GPE"
    return t


class EntityIndex:
    """Canonical entities of a set of articles, and a lookup from any surface form.

    Args:
        records: Article id -> its stored :class:`ArticleEntities`.
    """

    def __init__(self, records: dict[str, ArticleEntities]) -> None:
        self.records = records
        groups: dict[tuple[str, str], dict[str, Any]] = {}
        for aid, rec in records.items():
            for m in rec.mentions:
                key = name_key(m.text)
                if not key:
                    continue
                grp = groups.setdefault(
                    (_coarse(m.type), key),
                    {"forms": Counter(), "docs": set(), "types": Counter(), "form_docs": defaultdict(set)},
                )
                grp["forms"][m.text] += 1
                grp["docs"].add(aid)
                grp["form_docs"][m.text].add(aid)
                grp["types"][m.type] += 1
        parent: dict[tuple[str, str], tuple[str, str]] = {g: g for g in groups}
        # the articles of each merged group, kept at its root (the surname rule compares them)
        root_docs: dict[tuple[str, str], set[str]] = {g: set(groups[g]["docs"]) for g in groups}

        def find(x: tuple[str, str]) -> tuple[str, str]:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        def union(small: tuple[str, str], big: tuple[str, str]) -> None:
            a, b = find(small), find(big)
            if a != b:
                parent[a] = b
                root_docs[b] |= root_docs.pop(a)

        def doc_count(root: tuple[str, str]) -> int:
            return len(root_docs[find(root)])

        toks = {g: g[1].split() for g in groups}
        best_form = {g: max(groups[g]["forms"], key=groups[g]["forms"].get) for g in groups}
        # A name seen under two ORG-like/other labels is one entity when multi-word.
        by_key: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for g in groups:
            by_key[g[1]].append(g)
        for gs in by_key.values():
            if len(gs) > 1 and len(toks[gs[0]]) > 1:
                best = max(gs, key=lambda g: sum(groups[g]["forms"].values()))
                for g in gs:
                    union(g, best)
        # Acronyms: explicit definitions first, then initials of a known long form.
        definitions = {(name_key(long), name_key(short)) for rec in records.values() for long, short in rec.definitions}
        orgs = [g for g in groups if g[0] == "ORG"]
        multi = [g for g in orgs if len(toks[g]) > 1]
        by_initials: dict[str, list[tuple[str, str]]] = defaultdict(list)
        by_first: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for long_name in multi:
            by_initials[_initials(best_form[long_name])].append(long_name)
            by_first[toks[long_name][0]].append(long_name)
        for g in orgs:
            if len(toks[g]) != 1 or not any(f.isupper() for f in groups[g]["forms"]):
                continue
            defined = [m for m in multi if (m[1], g[1]) in definitions]
            cands = defined or by_initials.get(g[1].upper(), [])
            if cands:
                union(g, max(cands, key=lambda m: len(groups[m]["docs"])))
        # Short forms of organisation names: "Yonhap" for "Yonhap News Agency".
        tails = {m for m in multi if _GENERIC_ORG_TAIL.search(best_form[m])}
        for g in orgs:
            gt = toks[g]
            for longer in by_first.get(gt[0], []):
                mt = toks[longer]
                if len(mt) > len(gt) and mt[: len(gt)] == gt and longer in tails:
                    union(g, longer)
        # Surnames and family names: "Kim" -> "Kim Jong Un", "Shoigu" -> "Sergei Shoigu".
        persons = [g for g in groups if g[0] == "PERSON"]
        full = [g for g in persons if len(toks[g]) > 1]
        by_end: dict[str, list[tuple[str, str]]] = defaultdict(list)
        by_last: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for f in full:
            for w in dict.fromkeys((toks[f][0], toks[f][-1])):
                by_end[w].append(f)
            by_last[toks[f][-1]].append(f)
        for g in persons:
            if len(toks[g]) != 1:
                continue
            cands = by_end.get(g[1], [])
            # A full name written in the same articles as the surname is the one meant.
            together = [c for c in cands if groups[c]["docs"] & groups[g]["docs"]]
            if together and len({find(c) for c in together}) == 1:
                cands = together
            roots = {find(c) for c in cands}
            if len(roots) == 1:
                union(g, cands[0])
            elif len(roots) > 1:
                ranked = sorted(roots, key=lambda r: (-doc_count(r), r))
                if doc_count(ranked[0]) > 2 * doc_count(ranked[1]):
                    union(g, ranked[0])
        # A surname the NER labelled as an organisation ("Orvell said") when exactly one
        # person of the corpus has it and no organisation name contains it.
        org_words = {w for g in multi for w in toks[g]}
        for g in orgs:
            key = g[1]
            if len(toks[g]) != 1 or key in org_words or any(f.isupper() for f in groups[g]["forms"]):
                continue
            owners = {find(f) for f in by_last.get(key, [])}
            if len(owners) == 1:
                union(g, by_last[key][0])
        # Spelling variants of full names are already one key ("kim jong un").
        members: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)
        for g in groups:
            members[find(g)].append(g)
        self.entities: list[Entity] = []
        self._lookup: dict[tuple[str, str], Entity] = {}
        self._by_key: dict[str, list[Entity]] = defaultdict(list)
        self.doc_freq: dict[str, int] = {}
        for _root, gs in members.items():
            ent = self._make_entity(gs, groups, definitions)
            docs = set().union(*(groups[g]["docs"] for g in gs))
            self.doc_freq[ent.id] = len(docs)
            self.entities.append(ent)
            for g in gs:
                self._lookup[g] = ent
            for a in ent.aliases:
                self._by_key[name_key(a)].append(ent)
        self.entities.sort(key=lambda e: (-self.doc_freq[e.id], e.name))
        # Descriptions ("the North Korean leader") that point at one person.
        self.descriptions: dict[str, Entity] = {}
        votes: dict[str, Counter[str]] = defaultdict(Counter)
        by_id = {e.id: e for e in self.entities}
        for rec in records.values():
            for desc, name in rec.descriptions:
                person = self.lookup(name, "PERSON")
                if person is not None:
                    votes[_desc_key(desc)][person.id] += 1
        for dk, c in votes.items():
            (eid, n), *rest = c.most_common()
            if not rest or n > rest[0][1]:
                self.descriptions[dk] = by_id[eid]

    @staticmethod
    def _make_entity(
        gs: list[tuple[str, str]],
        groups: dict[tuple[str, str], dict[str, Any]],
        definitions: set[tuple[str, str]],
    ) -> Entity:
        """Choose the canonical name, type, aliases and short form of merged groups."""
        forms: Counter[str] = Counter()
        docs_of: dict[str, set[str]] = defaultdict(set)
        types: Counter[str] = Counter()
        for g in gs:
            forms.update(groups[g]["forms"])
            types.update(groups[g]["types"])
            for f, d in groups[g]["form_docs"].items():
                docs_of[f] |= d
        etype = types.most_common(1)[0][0]
        # A full personal name wins over labels the small model gives the surname alone ("Orvell" as ORG).
        person_full = any(g[0] == "PERSON" and len(g[1].split()) > 1 for g in gs)
        if "EVENT" in types and types["EVENT"] * 3 >= sum(types.values()) and not person_full:
            etype = "EVENT"
        elif person_full:
            etype = "PERSON"
        if etype in _ORGISH and etype != "EVENT":
            etype = "ORG"

        def rank(f: str) -> tuple[int, int, int, int]:
            # Prefer complete names used by many articles, then the commoner spelling.
            words_n = len(name_key(f).split())
            return (min(words_n, 3), len(docs_of[f]), forms[f], -f.count("-"))

        name = max(forms, key=rank)
        aliases = set(forms)
        tail = _GENERIC_ORG_TAIL.search(name) if etype == "ORG" else None
        if tail and len(name[: tail.start()].split()) == 1:
            aliases.add(name[: tail.start()].strip())  # "Yonhap" for "Yonhap News Agency"
        singles = [f for f in forms if len(f.split()) == 1 and f != name]
        surname = ""
        if etype == "PERSON" and len(name.split()) > 1:
            last = name.split()[-1]
            if len(last) >= 3 and last[0].isupper():
                surname = last
        acronyms = [f for f in forms if f.isupper() and len(f) <= 7 and " " not in f]
        if acronyms:
            short = max(acronyms, key=lambda f: forms[f])
        elif singles:
            short = max(singles, key=lambda f: forms[f])
        else:
            short = min(sorted(aliases), key=len) if etype == "ORG" else name
        eid = "ent-" + hashlib.sha1(f"{etype}|{name_key(name)}".encode()).hexdigest()[:10]
        if surname:
            # The surname is how articles refer back to a person ("Shoigu"); it is an
            # alias even when no article wrote it alone (lookups prefer written forms).
            aliases.add(surname)
        return Entity(id=eid, name=name, type=etype, aliases=tuple(sorted(aliases)), short=short)

    def lookup(self, surface: str, type_hint: str | None = None) -> Entity | None:
        """Entity for a surface form (any alias), preferring ``type_hint``'s family."""
        key = name_key(surface)
        if type_hint:
            ent = self._lookup.get((_coarse(type_hint), key))
            if ent:
                return ent
        # A form some article actually wrote beats an alias only derived from a full name.
        written = [e for t in _FAMILIES if (e := self._lookup.get((t, key))) is not None]
        cands = written or self._by_key.get(key, [])
        if type_hint:
            typed = [e for e in cands if _coarse(e.type) == _coarse(type_hint)]
            cands = typed or cands
        if not cands:
            return None
        return max(cands, key=lambda e: self.doc_freq[e.id])

    def describe(self, phrase: str) -> Entity | None:
        """Person a description refers to ("the North Korean leader"), if unambiguous."""
        return self.descriptions.get(_desc_key(phrase))

    def entity_of(self, mention: Mention) -> Entity | None:
        """Canonical entity of a stored mention."""
        return self._lookup.get((_coarse(mention.type), name_key(mention.text))) or self.lookup(mention.text)


def _desc_key(desc: str) -> str:
    """Key of a description: folded, without leading article or possessive."""
    k = fold(desc)
    k = re.sub(r"^(?:the|a|an)\s+", "", k)
    k = re.sub(r"'s\b", "", k)
    return re.sub(r"\s+", " ", k).strip()
