"""Text helpers shared by the stages: normalisation, paragraphs, sentences, ids, and the word toolkit.

The word toolkit (stop words, calendar and date words, :func:`tokens`,
:func:`stem`, :func:`content_words`) is the one place every stage takes its word
lists and its stemmer from: article signals, dated facts, timelines, quote
alignment, summaries, conflicts and the hashing embedder. A stage that needs more
words adds one of the named sets here to :data:`STOP_WORDS`, and says why.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

from spacy.lang.en.stop_words import STOP_WORDS as _SPACY_STOP_WORDS

_ZERO_WIDTH = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# Control characters other than tab/newline/CR: never article text, and PostgreSQL cannot store NUL.
_CONTROLS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SPACES = re.compile("[\u00a0\u2000-\u200a\u202f\u205f\u3000\t]")
_MULTI_SPACE = re.compile(r" {2,}")


def normalize_text(text: str) -> str:
    """Normalise raw text: NFC, unix newlines, no zero-width or odd spaces, trimmed lines.

    Quote marks and dashes are kept as written: quotes are compared across outlets
    later and the original characters are evidence.
    """
    text = unicodedata.normalize("NFC", text)
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _ZERO_WIDTH.sub("", text)
    text = _CONTROLS.sub("", text)
    text = _SPACES.sub(" ", text)
    lines = [_MULTI_SPACE.sub(" ", ln).strip() for ln in text.split("\n")]
    return "\n".join(lines).strip()


_FOLD_PUNCT = str.maketrans({"’": "'", "‘": "'", "“": '"', "”": '"', "–": "-", "—": "-"})
_SPACE_RUN = re.compile(r"\s+")


def fold(text: str) -> str:
    """Lower-case, ASCII-ish folding used for comparisons (quotes, dashes, case)."""
    t = text.translate(_FOLD_PUNCT)
    if not t.isascii():  # accents and compatibility forms: the slow path, only where there are any
        t = unicodedata.normalize("NFKD", t)
        t = "".join(c for c in t if not unicodedata.combining(c)).translate(_FOLD_PUNCT)
    return _SPACE_RUN.sub(" ", t).strip().lower()


_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'’\-]*")


def words(text: str) -> list[str]:
    """Word tokens (letters/digits with inner apostrophes and hyphens)."""
    return _WORD.findall(text)


# --------------------------------------------------------------------------- word toolkit


def word_set(s: str) -> frozenset[str]:
    """A word set written as one whitespace-separated string (keeps long lists readable)."""
    return frozenset(s.split())


#: English stop words: spaCy's list (importable without loading a model), folded
#: (curly apostrophes as straight ones). Every stage drops these before comparing words.
STOP_WORDS: frozenset[str] = frozenset(fold(w) for w in _SPACY_STOP_WORDS)

#: Day and month names and their abbreviations.
CALENDAR_WORDS: frozenset[str] = word_set(
    """monday tuesday wednesday thursday friday saturday sunday january february march april may june july
    august september october november december jan feb mar apr jun jul aug sep sept oct nov dec"""
)

#: Calendar words plus the words that place something in time ("yesterday", "last week",
#: "early morning"). Left out where two reports of one fact are compared: outlets date
#: the same happening differently ("on Monday", "yesterday"), and in news almost every
#: sentence has such a word, so they would make any two sentences look alike.
DATE_WORDS: frozenset[str] = CALENDAR_WORDS | word_set(
    """today yesterday tomorrow tonight day days week weeks weekend month months year years last next this early
    late earlier later ago mid morning afternoon evening night"""
)

#: Words of the reporting act and the agencies that report: every article has them and
#: they say nothing about what happened ("said", "according to", "Reuters reported").
REPORTING_WORDS: frozenset[str] = word_set(
    """said says say saying told tell tells according report reports reported reporting news reuters ap afp"""
)

#: Verbs that carry little meaning of their own ("came", "took", "got"): a clause is not
#: about something because it has one.
LIGHT_VERBS: frozenset[str] = word_set(
    """come comes came coming go goes went gone going get gets got getting make makes made making take takes
    took taken taking"""
)

#: Courtesy titles before a name ("Mr Kim"): not part of what the name says.
TITLE_WORDS: frozenset[str] = word_set("mr mrs ms dr")

_TOKEN = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    """Folded (lower-case, accents off) alphanumeric tokens; apostrophes and hyphens split words."""
    return _TOKEN.findall(fold(text))


#: Irregular forms -> the base form :func:`stem` then normalises: the speech verbs quotes
#: are recognised by, and common irregular verbs and plurals of news text.
_IRREGULAR = {
    "said": "say", "says": "say", "told": "tell", "wrote": "write", "written": "write", "spoke": "speak",
    "spoken": "speak", "came": "come", "went": "go", "gone": "go", "took": "take", "taken": "take",
    "made": "make", "got": "get", "gave": "give", "given": "give", "held": "hold", "struck": "strike",
    "fled": "flee", "met": "meet", "sought": "seek", "thought": "think", "found": "find", "won": "win",
    "lost": "lose", "led": "lead", "fell": "fall", "fallen": "fall", "shot": "shoot", "began": "begin",
    "begun": "begin", "broke": "break", "broken": "break", "chose": "choose", "chosen": "choose",
    "knew": "know", "known": "know", "grew": "grow", "grown": "grow", "ran": "run", "sent": "send",
    "spent": "spend", "built": "build", "paid": "pay", "sold": "sell", "brought": "bring", "bought": "buy",
    "caught": "catch", "fought": "fight", "kept": "keep", "felt": "feel", "meant": "mean", "stood": "stand",
    "used": "use", "using": "use", "men": "man", "women": "woman", "children": "child",
}  # fmt: skip
_VOWEL = re.compile(r"[aeiouy]")
_PREFIXES = ("re", "un", "mis", "out", "over", "under", "with")


def _prefixed_irregular(word: str) -> str | None:
    """The base form of a prefixed irregular form ("rebuilt" -> "rebuild", "overcame" -> "overcome")."""
    for p in _PREFIXES:
        if word.startswith(p) and (base := _IRREGULAR.get(word[len(p) :])):
            return p + base
    return None


def _adverb(w: str) -> bool:
    """An ``-ly`` adverb of four letters or more after a single consonant or ``ll`` ("quickly", "totally").

    Not "supply", "family", "early": a doubled consonant other than ``l`` or a vowel before ``-ly``.
    """
    return len(w) >= 6 and w.endswith("ly") and w[-3] not in "aeiouy" and (w[-3] != w[-4] or w[-3] == "l")


@lru_cache(maxsize=1 << 17)
def stem(word: str) -> str:
    """The one stemmer of storydesk: a rule-based inflection stripper on a folded word.

    Maps the inflected forms of a word to one key ("reports", "reported",
    "reporting" -> "report"; "charge", "charges", "charged" -> "charg";
    "carried", "carries" -> "carry"; "stopped" -> "stop"; "said" -> "say";
    "drastically" -> "drastic"). The key need not be a word. In order:

    1. irregular forms (:data:`_IRREGULAR`), also after a prefix ("rebuilt", "overcame"),
       become their base form;
    2. one inflection goes: ``-ies``/``-ied`` -> ``-y``; ``-edly``, ``-ed``, ``-ing``
       (undoubling a final consonant: "stopped" -> "stop"); a plural or third-person
       ``-s`` (not ``-ss``, ``-us``, ``-is``);
    3. an adverb ending goes: ``-ically`` -> ``-ic``; ``-ly`` after a single consonant
       or ``ll`` when four letters stay ("quickly", "totally"; not "supply", "family");
    4. final ``-e`` goes, so that "charge" meets "charged" and "agree" "agreed".

    A stripped form keeps at least three letters and a vowel; words of three
    letters or fewer and numbers are left alone. Deterministic and context-free:
    the event map works on stored text, where no parse (and no lemma) exists.
    """
    w = _IRREGULAR.get(word) or _prefixed_irregular(word) or word
    if len(w) <= 3 or not w.isalpha():
        return w

    def ok(s: str) -> bool:
        return len(s) >= 3 and bool(_VOWEL.search(s))

    base = w
    if w.endswith(("ies", "ied")) and len(w) > 4:
        base = w[:-3] + "y"
    elif w.endswith("edly") and ok(w[:-4]):
        base = w[:-4]
    elif w.endswith(("ed", "ing")):
        cut = w[:-2] if w.endswith("ed") else w[:-3]
        if ok(cut):
            base = cut
            if len(cut) >= 4 and cut[-1] == cut[-2] and cut[-1] not in "aeiouylsfz":
                base = cut[:-1]  # "stopped" -> "stop", "planning" -> "plan"; "killed" keeps "kill"
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and ok(w[:-1]):
        base = w[:-1]
    if base.endswith("ically") and ok(base[:-4]):
        base = base[:-4]
    elif _adverb(base):
        base = base[:-2]
    while base.endswith("e") and len(base) >= 4:
        base = base[:-1]  # "charge" meets "charged", "agree" meets "agreed"
    return base


def content_words(text: str, stop: frozenset[str] = STOP_WORDS, min_len: int = 3) -> list[str]:
    """Stems (:func:`stem`) of the tokens of ``text`` that are not in ``stop`` and have ``min_len`` characters.

    ``stop`` is checked on the word as written, before stemming. Numbers are kept
    (callers that compare wording drop them where they must).
    """
    return [stem(w) for w in tokens(text) if len(w) >= min_len and w not in stop]


def content_id(*parts: str | None) -> str:
    """A stable 16-hex-digit id from the given parts (None counts as empty)."""
    h = hashlib.sha256()
    for p in parts:
        h.update(fold(p or "").encode("utf-8"))
        h.update(b"\x1f")
    return h.hexdigest()[:16]


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of raw bytes."""
    return hashlib.sha256(data).hexdigest()


# --------------------------------------------------------------------------- paragraphs


def split_paragraphs(text: str) -> list[str]:
    """Split normalised text into paragraphs.

    Blank lines always separate paragraphs. A single newline also does (many
    scraped articles use one newline per paragraph), except where it is a soft
    wrap: the line does not end a sentence and the next one starts in lower case.
    """
    paras: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        current: list[str] = []
        for line in block.split("\n"):
            line = line.strip()
            if not line:
                continue
            if current and _is_soft_wrap(current[-1], line):
                current[-1] = current[-1] + " " + line
            else:
                current.append(line)
        paras.extend(current)
    return paras


def _is_soft_wrap(prev: str, nxt: str) -> bool:
    """True when ``nxt`` continues the sentence of ``prev`` (hard-wrapped text)."""
    return not re.search(r"[.!?:;\"”’)\]]$", prev) and bool(re.match(r"[a-z(\"“‘,;]", nxt))


def join_paragraphs(paragraphs: list[str]) -> str:
    """Join paragraphs with blank lines (the storage format of ``Article.text``)."""
    return "\n\n".join(p for p in paragraphs if p)


def paragraph_spans(text: str) -> Iterator[tuple[int, int, int]]:
    """Yield ``(paragraph_index, start, end)`` of each paragraph of a joined text."""
    pos = 0
    for i, para in enumerate(text.split("\n\n")):
        yield i, pos, pos + len(para)
        pos += len(para) + 2


# --------------------------------------------------------------------------- sentences

_ABBREVIATIONS = {
    "mr",
    "mrs",
    "ms",
    "dr",
    "prof",
    "gen",
    "lt",
    "col",
    "maj",
    "capt",
    "cpt",
    "sgt",
    "adm",
    "cmdr",
    "gov",
    "sen",
    "rep",
    "rev",
    "hon",
    "pres",
    "st",
    "jr",
    "sr",
    "inc",
    "corp",
    "ltd",
    "co",
    "bros",
    "no",
    "nos",
    "vs",
    "etc",
    "e.g",
    "i.e",
    "approx",
    "est",
    "dept",
    "univ",
    "ave",
    "blvd",
    "rd",
    "ft",
    "mt",
    "jan",
    "feb",
    "mar",
    "apr",
    "jun",
    "jul",
    "aug",
    "sep",
    "sept",
    "oct",
    "nov",
    "dec",
    "mon",
    "tue",
    "tues",
    "wed",
    "thu",
    "thurs",
    "fri",
    "sat",
    "sun",
    "fig",
    "cf",
    "al",
    "ph.d",
    "u.s",
    "u.k",
    "u.n",
    "e.u",
    "a.m",
    "p.m",
    "d.c",
    "n.y",
    "l.a",
}

# Candidate boundary: terminal punctuation, optional closing quotes/brackets, whitespace.
_BOUNDARY = re.compile(r"([.!?…]+)([\"'”’»)\]]*)(\s+)")
_NEXT_START = re.compile(r"[\"'“‘«(\[]*[A-Z0-9]")


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as character offsets into the text it was split from."""

    start: int
    end: int
    paragraph: int


def split_sentences(text: str) -> list[SentenceSpan]:
    """Split a paragraph-joined article body into sentences with offsets.

    Rule-based and deterministic: paragraph breaks always end a sentence; inside a
    paragraph a sentence ends at ``. ! ? …`` (plus closing quotes) followed by an
    upper-case letter, digit or opening quote, unless the word before the period is
    a known abbreviation, an initial, or the period belongs to an ellipsis that the
    sentence continues after.
    """
    spans: list[SentenceSpan] = []
    for pi, pstart, pend in paragraph_spans(text):
        para = text[pstart:pend]
        s = 0
        for m in _BOUNDARY.finditer(para):
            end = m.end(2)
            nxt = para[m.end() :]
            if not _NEXT_START.match(nxt):
                continue
            if not _ends_sentence(para[s : m.start(1)], m.group(1), m.group(2), nxt):
                continue
            _add_span(spans, para, pstart, s, end, pi)
            s = m.end()
        _add_span(spans, para, pstart, s, len(para), pi)
    return spans


def _add_span(spans: list[SentenceSpan], para: str, offset: int, s: int, e: int, pi: int) -> None:
    """Append the stripped span ``para[s:e]`` when it holds any word character."""
    chunk = para[s:e]
    stripped = chunk.strip()
    if not stripped or not re.search(r"\w", stripped):
        return
    lead = len(chunk) - len(chunk.lstrip())
    start = offset + s + lead
    spans.append(SentenceSpan(start, start + len(stripped), pi))


def _ends_sentence(before: str, punct: str, closing: str, nxt: str) -> bool:
    """Decide whether a candidate boundary really ends the sentence."""
    if punct != "." or closing:
        # "?", "!" and a period before a closing quote end a sentence.
        return True
    last = before.rsplit(None, 1)[-1] if before.strip() else ""
    token = last.lstrip("\"'“‘(").lower()
    if token in _ABBREVIATIONS:
        # "Gen. Kim" never ends; "in Jan. The" is rare enough to accept a miss.
        return False
    if re.fullmatch(r"[A-Za-z]", token):
        return False  # an initial: "J. Smith"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", token):
        # "U.S." ends a sentence only before a typical sentence opener.
        return bool(re.match(r"(The|A|An|He|She|It|They|We|In|On|But|This|That|These|Those)\b", nxt))
    return True


def sentence_texts(text: str) -> list[str]:
    """Convenience: just the sentence strings of ``text``."""
    return [text[s.start : s.end] for s in split_sentences(text)]


def own_id(namespace: str | None, given: str) -> str:
    """A stable 16-hex-digit article id from an input's own id within a namespace (its outlet).

    The namespace is folded like :func:`content_id` parts ("Lorven Post" = "lorven post");
    the given id is taken exactly (ids are case-sensitive).
    """
    h = hashlib.sha256(b"own-id\x1f")
    h.update(fold(namespace or "").encode("utf-8", "backslashreplace"))
    h.update(b"\x1f")
    h.update(given.encode("utf-8", "backslashreplace"))
    return h.hexdigest()[:16]
