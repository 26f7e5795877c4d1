"""Provenance: where each article's information came from, and independence.

For every article (a pure function of it, in the article map) this finds its **primary sources** (the originators of
the reported information: a state news agency, a ministry's statement, the
outlet's own reporting) and its **relays** (wire agencies and outlets that
passed it on). Evidence, in order of strength:

1. attribution chains in the text: "Yonhap News Agency reported citing the
   KCNA" (KCNA primary, Yonhap relay), "according to AP" (AP relay), "state
   media said" (the state medium, primary);
2. relay credits kept by cleaning: "(With inputs from AP)", "(With AP inputs)",
   a dateline's "(Reuters)"; a wire agency's photo credit counts only when the
   article credits no agency for its text (a photo credit alone says little
   about the text, but on wire copy without any other credit it names the wire);
3. generic references ("state media", "the report") resolved to the medium the
   article names in apposition ("North Korean state media KCNA").

Independence of a claim or quote = number of distinct primary sources behind
the articles that carry it: four outlets relaying KCNA count once.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from storydesk.article.entities import EntityIndex, name_key
from storydesk.models import Article, ArticleEntities, Attribution, Provenance
from storydesk.textutil import fold

# Wire services: they relay other people's news. Matched on name keys.
WIRES = {
    "ap",
    "associated press",
    "afp",
    "agence france presse",
    "reuters",
    "upi",
    "united press international",
    "bloomberg",
    "dpa",
    "efe",
    "ansa",
    "kyodo",
    "kyodo news",
    "yonhap",
    "yonhap news agency",
    "pti",
    "press trust of india",
    "ani",
    "ians",
    "aap",
    "australian associated press",
    "canadian press",
    "anadolu",
    "bernama",
    "antara",
    "agencies",
    "agency",
    "wires",
    "news agencies",
}
# State media: originators of official statements.
STATE_MEDIA = {
    "kcna",
    "korean central news agency",
    "kctv",
    "korean central television",
    "rodong sinmun",
    "xinhua",
    "cctv",
    "china central television",
    "people's daily",
    "global times",
    "tass",
    "ria novosti",
    "ria",
    "irna",
    "sana",
    "spa",
    "saudi press agency",
    "wam",
    "qna",
    "mena",
    "vna",
    "vietnam news agency",
    "kpl",
    "bernama",
    "petra",
    "ina",
    "apa",
    "azertac",
    "belta",
    "sputnik",
    "rt",
}
#: The state news agency of a country, by the country's name or nationality adjective (folded): what
#: "state media" means in an article about that country when the article names no state medium itself.
COUNTRY_STATE_MEDIA = {
    **dict.fromkeys(("north korea", "north korean", "dprk", "pyongyang"), "KCNA"),
    **dict.fromkeys(("china", "chinese", "beijing"), "Xinhua"),
    **dict.fromkeys(("russia", "russian", "kremlin", "moscow"), "TASS"),
    **dict.fromkeys(("iran", "iranian", "tehran"), "IRNA"),
    **dict.fromkeys(("syria", "syrian", "damascus"), "SANA"),
    **dict.fromkeys(("saudi arabia", "saudi", "riyadh"), "SPA"),
    **dict.fromkeys(("vietnam", "vietnamese", "hanoi"), "VNA"),
    **dict.fromkeys(("egypt", "egyptian", "cairo"), "MENA"),
    **dict.fromkeys(("united arab emirates", "uae", "emirati"), "WAM"),
    **dict.fromkeys(("qatar", "qatari", "doha"), "QNA"),
    **dict.fromkeys(("belarus", "belarusian", "minsk"), "BelTA"),
    **dict.fromkeys(("azerbaijan", "azerbaijani", "baku"), "AZERTAC"),
    **dict.fromkeys(("laos", "lao", "vientiane"), "KPL"),
    **dict.fromkeys(("jordan", "jordanian", "amman"), "Petra"),
}
_MEDIA_WORDS = re.compile(
    r"\b(news|agency|press|times|post|herald|journal|tribune|gazette|daily|telegraph|guardian|chronicle|"
    r"wire|television|tv|radio|broadcast\w*|sinmun|ilbo|shimbun|media|newspaper|outlet|magazine|network|"
    r"reporter|correspondent|bulletin|courier|ledger|observer|standard|express|relay)\b",
    re.I,
)
# Generic references to a medium: "state media", "a media report", "the report",
# "North Korean state television". Modifiers must be lower case or nationality
# adjectives, so that "Yonhap News Agency" is a name, not a generic agency.
_GENERIC_MEDIA = re.compile(
    r"^(?:(?i:the|a|an|its|their|this|that|these|those)\s+)?(?:(?:[a-z]+|[A-Z][a-z]+(?:an|ese|ish|ian|ic|i))\s+){0,2}"
    r"(?:official\s+|state(?:-run|-owned| run)?\s+)?"
    r"(?:media|media\s+reports?|reports?|news\s+agency|agency|newspaper|television|tv|broadcaster|"
    r"state\s+media|state\s+television|state\s+news\s+agency|media\s+outlets?|dispatch)s?$"
    r"|\bstate(?:-run|-owned)?\s+(?:media|television|news\s+agency)\b"
)
_STATE_DESCRIPTOR = re.compile(
    r"\b(?:state(?:-run|-owned)?\s+(?:media|news agency|news|television|broadcaster|agency)|official|state-run|"
    r"state-controlled|government-run|government)\s+(?:(?:outlet|agency|media|news agency)\s+)?(?:the\s+)?"
    r"([A-Z][\w’'.-]*(?:\s+[A-Z][\w’'.-]*){0,5})"
)
_CREDIT_NAMES = re.compile(
    r"with\s+(?:additional\s+)?inputs?\s+from\s+(?P<a>[^)]+)|with\s+(?P<b>[^)]+?)\s+inputs?"
    r"|^\(?(?P<c>[A-Z][\w&. ]{1,30})\)$|^[-—–]+\s*(?P<d>[A-Z][\w&. ]{1,30})$",
    re.I,
)
_PHOTO_AGENCY = re.compile(
    r"(?:Photo(?:graph)?s?\s*(?:by|:|/)|Image\s+Source\s*:|Credit\s*:|courtesy\s*:?)\s*([^)]+)", re.I
)


def looks_like_media(name: str, index: EntityIndex | None = None) -> bool:
    """True when a name (or any alias of its entity) is a known wire, state medium or looks like a medium."""
    ent = index.lookup(name) if index is not None else None
    names = ent.aliases if ent else (name,)
    return any(name_key(n) in WIRES or name_key(n) in STATE_MEDIA or _MEDIA_WORDS.search(n) for n in names)


def _split_names(s: str) -> list[str]:
    """'AP and Reuters' / 'AP, AFP' -> names."""
    parts = re.split(r"\s*(?:,|&|\band\b|/)\s*", s.strip().strip(".").strip())
    return [p.strip() for p in parts if p.strip() and len(p.strip()) < 40]


class MediaResolver:
    """Recognises news media in source spans and resolves generic references.

    Args:
        articles: The articles whose text gives apposition evidence.
        entities: Their entity records.
        index: Canonical entities of the same articles.
    """

    def __init__(self, articles: Sequence[Article], entities: dict[str, ArticleEntities], index: EntityIndex):
        self.index = index
        self.state: set[str] = set(STATE_MEDIA)
        self.generic_map: dict[str, str] = {}
        self._aliases_cache: list[tuple[str, str]] | None = None
        counts: Counter[str] = Counter()
        for a in articles:
            body = f"{a.title or ''}\n{a.text}\n" + "\n".join(s.text for s in a.stripped)
            for m in _STATE_DESCRIPTOR.finditer(body):
                name = self.canonical(m.group(1))
                if name and self.is_media_name(name):
                    self.state.add(name_key(name))
                    for alias in self._aliases(name):
                        self.state.add(name_key(alias))
                    counts[name] += 1
        if not counts:
            # no apposition ("state media KCNA"): the state media the articles name on their own
            for rec in entities.values():
                for men in rec.mentions:
                    if men.type in ("ORG", "PERSON", "GPE") and name_key(men.text) in STATE_MEDIA:
                        counts[self.canonical(men.text)] += 1
        if not counts:
            # none named: the state agency of the country the articles are about
            for rec in entities.values():
                for men in rec.mentions:
                    agency = COUNTRY_STATE_MEDIA.get(name_key(men.text)) if men.type in ("GPE", "NORP") else None
                    if agency:
                        counts[agency] += 1
        if counts:
            # "state media" with no name resolves to the state medium the articles point at most.
            self.generic_map["state media"] = counts.most_common(1)[0][0]
        for n in list(self.state):
            ent = index.lookup(n)
            if ent:
                for alias in ent.aliases:
                    self.state.add(name_key(alias))

    def _aliases(self, name: str) -> tuple[str, ...]:
        """All aliases of a name in the index."""
        ent = self.index.lookup(name)
        return ent.aliases if ent else (name,)

    def canonical(self, surface: str) -> str:
        """Canonical display name of a medium: the entity's short form ("KCNA", "Yonhap")."""
        ent = self.index.lookup(surface)
        if ent is None:
            return surface.strip()
        if ent.type == "ORG" and ent.short:
            return ent.short
        return ent.name

    def is_media_name(self, name: str) -> bool:
        """True for names of news media (agencies, broadcasters, papers, wires)."""
        key = name_key(name)
        if key in WIRES or key in self.state:
            return True
        ent = self.index.lookup(name)
        names = ent.aliases if ent else (name,)
        return any(name_key(n) in WIRES or name_key(n) in self.state or _MEDIA_WORDS.search(n) for n in names)

    def is_state(self, name: str) -> bool:
        """True for state media (originators of official statements)."""
        return any(name_key(n) in self.state for n in self._aliases(name)) or name_key(name) in self.state

    def is_wire(self, name: str) -> bool:
        """True for wire services and generic agency credits."""
        return any(name_key(n) in WIRES for n in self._aliases(name)) or name_key(name) in WIRES

    def _media_aliases(self) -> list[tuple[str, str]]:
        """``(name key, display name)`` of every known medium, longest first (built lazily)."""
        if self._aliases_cache is None:
            pairs: dict[str, str] = {}
            for ent in self.index.entities:
                if ent.type in ("ORG", "PERSON", "GPE", "EVENT") and self.is_media_name(ent.name):
                    display = ent.short if ent.type == "ORG" and ent.short else ent.name
                    for a in ent.aliases:
                        k = name_key(a)
                        if len(k) >= 2:
                            pairs.setdefault(k, display)
            for k in WIRES | STATE_MEDIA:
                if len(k) >= 2 and k not in ("agency", "ria", "ina", "apa", "rt"):
                    pairs.setdefault(k, k.upper() if len(k) <= 5 else k.title())
            self._aliases_cache = sorted(pairs.items(), key=lambda kv: -len(kv[0]))
        return self._aliases_cache

    def is_generic(self, surface: str) -> bool:
        """True for a reference to a medium that names none ("the report", "state media", "a media report")."""
        s = surface.strip()
        if not s:
            return False
        key = " " + name_key(s) + " "
        if any(f" {k} " in key for k, _ in self._media_aliases()):
            return False
        return bool(_GENERIC_MEDIA.search(s))

    def resolve(self, surface: str, persons: Sequence[str] = ()) -> str | None:
        """Medium named or meant by a source span, or None if it is not a medium.

        Finds a known medium anywhere in the span ("North Korean state media KCNA",
        "the Korean Central News Agency (KCNA)", "Yonhap News Agency report"), then
        generic references ("state media", "the report"), then unknown names that
        look like media ("The Morning Relay").
        """
        s = surface.strip()
        if not s:
            return None
        key = " " + name_key(s) + " "
        # a medium's name inside a person's name is the person ("Councillor Petra Lindqvist", not Petra)
        inside = [" " + name_key(p) + " " for p in persons]
        for k, display in self._media_aliases():
            if f" {k} " in key and not any(f" {k} " in p for p in inside):
                return display
        f = fold(s)
        if _GENERIC_MEDIA.search(s):
            if "state media" in self.generic_map:
                return self.generic_map["state media"]
            return "state media" if "state" in f else None
        if (
            _MEDIA_WORDS.search(s)
            and re.match(r"(?:The\s+)?[A-Z]", s)
            and not re.match(r"(?i)(?:the\s+)?(?:report|reports|media)\b", s)
        ):
            return self.canonical(s)
        return None


def article_provenance(article: Article, attributions: Sequence[Attribution], media: MediaResolver) -> Provenance:
    """Primary sources and relays of one article."""
    primary: list[str] = []
    relays: list[str] = []
    evidence: list[str] = []

    def add(lst: list[str], name: str, why: str) -> None:
        if name and name not in lst:
            lst.append(name)
            evidence.append(why)

    # 1. Attribution chains in the text.
    for a in attributions:
        chain = list(a.via)
        if not chain:
            continue
        root = chain[0]
        if media.is_wire(root) and not media.is_state(root) and len(chain) == 1:
            add(relays, root, f"attributed to wire {root!r}: {a.cue} …")
        else:
            add(primary, root, f"originates with {root!r}")
        for r in chain[1:]:
            add(relays, r, f"{r!r} relays {root!r}")
    # 2. Credits kept by cleaning.
    text_credits: list[str] = []
    for s in article.stripped:
        if s.kind not in ("relay_credit",):
            continue
        m = _CREDIT_NAMES.search(s.text.strip().strip("()"))
        if m:
            for part in _split_names(next(g for g in m.groups() if g)):
                if re.match(r"(?i)^(?:reporting|editing|writing)\b", part):
                    continue
                text_credits.append(media.canonical(part))
    for c in text_credits:
        add(relays, c, f"credit line names {c!r}")
    if not text_credits:
        for s in article.stripped:
            if s.kind != "photo_credit":
                continue
            m = _PHOTO_AGENCY.search(s.text)
            if not m:
                continue
            # "KCNA VIA KNS / AFP": the credited agency is the last one named.
            names = [n for n in re.split(r"\s*/\s*|\s+via\s+", m.group(1), flags=re.I) if n.strip()]
            if names:
                last = media.canonical(names[-1].strip(" .)"))
                if media.is_wire(last) or media.is_media_name(last):
                    add(relays, last, f"photo credit names {last!r} and no other agency is credited")
    # A medium that is primary cannot also be a mere relay of itself.
    relays = [r for r in relays if r not in primary]
    # Wire copy with no originator named: the wire is the source as far as the text shows.
    if not primary and not relays:
        primary.append("own:" + (article.outlet or article.id))
        evidence.append("no source named: the outlet's own reporting")
    return Provenance(article.id, tuple(primary), tuple(relays), tuple(evidence))


def media_primaries(p: Provenance) -> tuple[str, ...]:
    """The primary sources of an article that are media (not the outlet's own reporting)."""
    return tuple(x for x in p.primary if x != p.article_id and not x.startswith("own:"))
