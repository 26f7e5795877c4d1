"""Rule layer of the attribution extractor: from a scored cue to its three spans.

The learned part (:mod:`storydesk.attribution.model`) only decides *which*
tokens head a cue. Everything after that follows the dependency parse and the
quotation marks, because the grammar of reporting is regular: the source is the
subject of the cue (or the object of "according to"), the content is its
clausal complement, object or the clause it interrupts, and quoted passages are
taken whole even when the parser splits them across sentences.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from spacy.tokens import Doc, Token

from storydesk.attribution.features import quote_mask
from storydesk.attribution.model import CueModel
from storydesk.attribution.quotes import find_quotes
from storydesk.attribution.spans import AttributionSpans, Span

# Quote marks that may open or close a quoted passage (including the doubled
# apostrophe some feeds use).
QUOTE_CHARS = "\"“”‘’'`«»„"
# Characters removed from span edges; quote marks are kept on contents because
# a quoted content conventionally includes its marks.
_EDGE_PUNCT = " \t\n\r\u00a0,;:—–-"
_SUBJ_DEPS = ("nsubj", "csubj", "expl")
_RELATIVE_PRONOUNS = frozenset({"who", "which", "that", "whom"})
# Dependents of the cue head that belong to the cue span ("has not yet said",
# "pointed out"). Measured on the training split, annotators include them in
# the cue far more often than not.
_CUE_LEFT_DEPS = frozenset({"aux", "auxpass", "neg", "advmod"})
_MAX_UP = 3
# Dependents after a cue's object that say what the object is or should do.
_OBJECT_PREDICATES = frozenset({"xcomp", "oprd", "ccomp", "acomp"})
# Nouns of the medium a statement was made in; "in a <noun>" joins the cue.
_MEDIUM_NOUNS = frozenset(
    {"statement", "interview", "email", "e-mail", "letter", "post", "tweet", "release", "message", "speech"}
)


# Nouns of channels: a source headed by one is the medium the words came
# through ("the statement said", "according to a recording of the meeting"),
# not the speaker; the speaker is its owner.
CHANNEL_NOUNS = frozenset(
    {
        "statement", "video", "tweet", "recording", "interview", "report", "post", "letter", "email", "e-mail",
        "release", "message", "transcript", "footage", "clip", "memo", "filing", "document", "tape", "audio",
        "broadcast", "op-ed", "column", "editorial", "remark", "speech", "ad", "advertisement", "note", "text",
        "posting", "blog", "podcast", "website", "site", "page", "account", "feed", "book", "memoir", "court",
    }
)  # fmt: skip
# Verbs whose subject owns the channel they take as object ("X released a statement saying ...").
_ISSUE_VERBS = frozenset(
    {"release", "issue", "post", "publish", "send", "write", "give", "put", "tweet", "share", "sign", "pen", "deliver"}
)
#: Confidence of a quotation paragraph attached to the previous speaker without a cue of its own.
CONTINUATION_FACTOR = 0.95


@dataclass
class _Draft:
    """An attribution under construction, in character offsets."""

    head: int
    cue: tuple[int, int] | None
    source: tuple[int, int] | None
    content: list[tuple[int, int]]
    nested: list[tuple[int, int]] = field(default_factory=list)
    # Heads of chained cues folded into this one ("citing", "as quoted by").
    absorbed: set[int] = field(default_factory=set)
    speaker: tuple[int, int] | None = None
    channel: tuple[int, int] | None = None
    confidence: float = 1.0

    @property
    def content_start(self) -> int:
        return self.content[0][0]

    @property
    def content_end(self) -> int:
        return self.content[-1][1]


def _subtree_range(tok: Token) -> tuple[int, int]:
    """Token index range [first, last] of ``tok``'s subtree."""
    return tok.left_edge.i, tok.right_edge.i


def _trim(text: str, start: int, end: int, keep_quotes: bool = True) -> tuple[int, int] | None:
    strip = _EDGE_PUNCT if keep_quotes else _EDGE_PUNCT + QUOTE_CHARS + ".!?"
    while start < end and text[start] in strip:
        start += 1
    while end > start and text[end - 1] in strip:
        end -= 1
    if start >= end:
        return None
    return start, end


def _runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Group sorted token indices into maximal consecutive runs [first, last]."""
    runs: list[tuple[int, int]] = []
    for i in sorted(indices):
        if runs and i == runs[-1][1] + 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


class _DocContext:
    """Per-document lookups shared by all cues of one document."""

    def __init__(self, doc: Doc, quotes: list[tuple[int, int]]) -> None:
        self.doc = doc
        self.text = doc.text
        self.quotes = quotes
        self.in_quote = quote_mask(doc, quotes)
        self._sent_end: list[int] | None = None

    def sent_end(self, i: int) -> int:
        """Character offset where the sentence of token ``i`` ends (``Token.sent`` rescans the document)."""
        if self._sent_end is None:
            ends = [0] * len(self.doc)
            for sent in self.doc.sents:
                for j in range(sent.start, sent.end):
                    ends[j] = sent.end_char
            self._sent_end = ends
        return self._sent_end[i]

    def quote_at(self, char: int) -> tuple[int, int] | None:
        """The quoted passage containing character offset ``char``, if any."""
        for qs, qe in self.quotes:
            if qs <= char < qe:
                return qs, qe
            if qs > char:
                break
        return None

    def tokens_span(self, first: int, last: int, keep_quotes: bool = True) -> tuple[int, int] | None:
        doc = self.doc
        s, e = doc[first].idx, doc[last].idx + len(doc[last].text)
        return _trim(self.text, s, e, keep_quotes)

    def fragments(self, indices: Iterable[int]) -> list[tuple[int, int]]:
        """Character fragments for a token set, dropping punctuation-only pieces."""
        out: list[tuple[int, int]] = []
        for a, b in _runs(indices):
            sp = self.tokens_span(a, b)
            if sp is None:
                continue
            if all(not c.isalnum() for c in self.text[sp[0] : sp[1]]):
                continue
            out.append(sp)
        return out


# ---------------------------------------------------------------- cue span


def _cue_tokens(head: Token, content_prep: Token | None) -> tuple[int, int]:
    """Token range of the cue around its head ("has also said:", "called for")."""
    doc = head.doc
    first = last = head.i
    if head.lower_ == "according" and head.i + 1 < len(doc) and doc[head.i + 1].lower_ in ("to", "unto"):
        last = head.i + 1
    # Auxiliaries, negation and adverbs directly left of the verb ("has not said").
    left = sorted((c for c in head.lefts if c.dep_ in _CUE_LEFT_DEPS), key=lambda t: -t.i)
    for c in left:
        if c.i == first - 1 or all(doc[j].dep_ in _CUE_LEFT_DEPS for j in range(c.i + 1, first)):
            first = c.i
    for c in head.rights:
        if c.dep_ == "prt" and c.i == last + 1:
            last = c.i
    if content_prep is not None and content_prep.i == last + 1:
        last = content_prep.i
    for c in head.rights:
        if c.i != last + 1:
            continue
        if c.dep_ in ("npadvmod", "advmod") and c.n_rights == 0 and c.n_lefts == 0 and c.is_alpha:
            # "said Sunday", "said recently": annotators keep the time word in the cue.
            last = c.i
        elif c.dep_ == "prep" and c.lower_ == "in":
            obj = next((g for g in c.children if g.dep_ == "pobj"), None)
            if obj is not None and obj.lemma_.lower() in _MEDIUM_NOUNS:
                # "said in a statement", "wrote in an email"; a clause on the
                # noun ("in a statement that ...") is the content, not the cue.
                clausal = any(g.dep_ in ("ccomp", "acl", "relcl") and g.i > obj.i for g in obj.children)
                last = obj.i if clausal else obj.right_edge.i
    if last + 1 < len(doc) and doc[last + 1].text == ":":
        last += 1
    return first, last


# ------------------------------------------------------------- source span


def _subject(tok: Token) -> Token | None:
    for c in tok.children:
        if c.dep_ in _SUBJ_DEPS:
            return c
    return None


def _agent_object(tok: Token) -> Token | None:
    for c in tok.children:
        if c.dep_ == "agent":
            for g in c.children:
                if g.dep_ == "pobj":
                    return g
    return None


def _find_source(head: Token) -> Token | None:
    """The token heading the source of cue ``head``, or None when implicit."""
    if head.lower_ == "according":
        for c in head.children:
            if c.dep_ == "prep":
                for g in c.children:
                    if g.dep_ == "pobj":
                        return g
        return None
    agent = _agent_object(head)
    if agent is not None:
        return agent
    subj = _subject(head)
    if subj is not None:
        # "It seems ...": an expletive subject is no source.
        return None if subj.dep_ == "expl" else subj
    if head.pos_ in ("NOUN", "PROPN"):
        # "Kim's claim that ...", "a statement from the ministry".
        for c in head.children:
            if c.dep_ == "poss":
                return c
        for c in head.children:
            if c.dep_ == "prep" and c.lower_ in ("from", "by"):
                for g in c.children:
                    if g.dep_ == "pobj":
                        return g
        return None
    if any(c.dep_ == "nsubjpass" for c in head.children):
        return None
    if head.text == ":":
        return None
    # Participles and coordinated verbs share their governor's subject:
    # "Kim said A, adding B", "Kim spoke and warned ...".
    tok = head
    for _ in range(_MAX_UP):
        if tok.dep_ not in ("advcl", "conj", "xcomp", "pcomp", "prep") or tok.head.i == tok.i:
            break
        tok = tok.head
        if tok.dep_ == "prep" and tok.head.i != tok.i:
            tok = tok.head
        agent = _agent_object(tok)
        if agent is not None:
            return agent
        subj = _subject(tok)
        if subj is not None:
            return subj
    if head.dep_ == "acl" and head.head.pos_ in ("NOUN", "PROPN"):
        # "a statement saying ...": the noun is the source.
        return head.head
    return None


def _source_range(src: Token, head: Token, cue: tuple[int, int]) -> tuple[int, int]:
    first, last = _subtree_range(src)
    if src.dep_ == "poss":
        # Leave out the possessive marker itself ("Kim" of "Kim's").
        while last > first and src.doc[last].tag_ == "POS":
            last -= 1
    if first <= cue[0] <= last or first <= cue[1] <= last:
        # The subtree swallowed the cue (parser attached it oddly): keep the
        # noun phrase left of the source head only.
        first = min((c.left_edge.i for c in src.lefts), default=src.i)
        last = src.i
    for c in src.rights:
        # A participle clause set off by a comma ("the woman, speaking on
        # condition of anonymity,") is usually left out of the source.
        if c.dep_ == "acl" and c.left_edge.i > first and src.doc[c.left_edge.i - 1].text == ",":
            last = min(last, c.left_edge.i - 2)
            break
    if head.dep_ == "acl" and src.i == head.head.i:
        first = min((c.left_edge.i for c in src.lefts), default=src.i)
        last = src.i
    return first, last


# ------------------------------------------------------------ content span


def _content_tokens(head: Token, preps: frozenset[str]) -> tuple[set[int], Token | None]:
    """Token indices of the content of cue ``head`` and the preposition joined to the cue.

    The choice follows the training-split statistics: a clausal complement
    wins, then an open complement, then the direct object, then the object of
    a cue-forming preposition ("called for", "referred to").
    """
    doc = head.doc
    if head.lower_ == "according":
        gov = head.head
        if gov.i == head.i:
            return set(), None
        lo, hi = _subtree_range(gov)
        lo_h, hi_h = _subtree_range(head)
        toks = {i for i in range(lo, hi + 1) if not (lo_h <= i <= hi_h)}
        return toks, None
    by_dep: dict[str, list[Token]] = {}
    for c in head.children:
        by_dep.setdefault(c.dep_, []).append(c)
    for dep in ("ccomp", "xcomp"):
        if dep in by_dep:
            c = by_dep[dep][-1] if dep == "ccomp" else by_dep[dep][0]
            if dep == "ccomp" and len(by_dep[dep]) > 1:
                # "“A,” Kim said, mentioning B": a subjectless participle after the
                # cue is an adverbial the parser took for a complement.
                full = [
                    x
                    for x in by_dep[dep]
                    if not (x.tag_ == "VBG" and x.i > head.i and _subject(x) is None)
                    and not (x.i > head.i and any("\n" in t.text_with_ws for t in doc[head.i : x.left_edge.i]))
                ]
                c = full[-1] if full else c
            lo, hi = _subtree_range(c)
            if dep == "xcomp":
                # "asked them to host events", "urged Congress to act": the
                # object is part of what was asked.
                obj = next((o for o in by_dep.get("dobj", []) if head.i < o.i < c.i), None)
                if obj is not None:
                    lo = obj.left_edge.i
            return set(range(lo, hi + 1)), None
    for p in by_dep.get("prep", []):
        # "said in a statement that ...": the parser hangs the clause on the noun.
        obj = next((g for g in p.children if g.dep_ == "pobj"), None)
        if p.lower_ == "in" and obj is not None and obj.lemma_.lower() in _MEDIUM_NOUNS:
            clause = next((g for g in obj.children if g.dep_ in ("ccomp", "acl", "relcl") and g.i > obj.i), None)
            if clause is not None and clause.left_edge.lower_ == "that":
                lo, hi = _subtree_range(clause)
                return set(range(lo, hi + 1)), None
    lemma = head.lemma_.lower()
    for p in by_dep.get("prep", []):
        # "called on Americans to ..." -- but not "On Twitter, Bush called Trump ...".
        if p.i > head.i and f"{lemma} {p.lower_}" in preps:
            objs = [g for g in p.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                lo, hi = _subtree_range(objs[0])
                return set(range(lo, hi + 1)), p
    for dep in ("dobj", "attr", "oprd"):
        if dep in by_dep:
            c = by_dep[dep][0]
            lo, hi = _subtree_range(c)
            # "told reporters that ..." is caught above; "stressed the need to X"
            # keeps the whole object phrase. What the object is said to be or do
            # belongs to the content too: "called it meritless", "asked them to
            # host events", "accused Lee of lying", "described the plan as a trap".
            for sib in head.rights:
                if sib.i > hi and (
                    sib.dep_ in _OBJECT_PREDICATES or (sib.dep_ == "prep" and sib.lower_ in ("as", "of", "for"))
                ):
                    hi = sib.right_edge.i
            return set(range(lo, hi + 1)), None
    as_clause = head.dep_ == "advcl" and any(c.dep_ == "mark" and c.lower_ == "as" for c in head.children)
    if head.head.i != head.i and (
        head.dep_ == "parataxis" or as_clause or (head.dep_ == "advcl" and head.i > head.head.i)
    ):
        # Interrupting or trailing cue: "That, they say, will be easier".
        gov = head.head
        lo, hi = _subtree_range(gov)
        lo_h, hi_h = _subtree_range(head)
        return {i for i in range(lo, hi + 1) if not (lo_h <= i <= hi_h)}, None
    if head.pos_ in ("NOUN", "PROPN"):
        for p in by_dep.get("prep", []):
            if p.lower_ in ("of", "about", "on", "that", "for", "to"):
                objs = [g for g in p.children if g.dep_ in ("pobj", "pcomp")]
                if objs:
                    lo, hi = _subtree_range(objs[0])
                    return set(range(lo, hi + 1)), None
        for c in by_dep.get("acl", []):
            lo, hi = _subtree_range(c)
            return set(range(lo, hi + 1)), None
    for p in by_dep.get("prep", []):
        # Any remaining prepositional object ("admitted to victimizing ...").
        if p.lower_ in ("about", "to", "on", "for", "over", "against", "with", "of", "at"):
            objs = [g for g in p.children if g.dep_ in ("pobj", "pcomp")]
            if objs:
                lo, hi = _subtree_range(objs[0])
                return set(range(lo, hi + 1)), None
    for c in by_dep.get("conj", []):
        # "Politico reported, Clinton tried ...": the parser coordinates the
        # reported clause instead of subordinating it.
        if c.pos_ in ("VERB", "AUX") and c.i > head.i and doc[c.left_edge.i - 1].text == ",":
            lo, hi = _subtree_range(c)
            return set(range(lo, hi + 1)), None
    if "nsubjpass" in by_dep:
        # "The plan is expected to fail" has its xcomp above; a bare passive
        # reports its subject.
        c = by_dep["nsubjpass"][0]
        lo, hi = _subtree_range(c)
        return set(range(lo, hi + 1)), None
    return _fallback_content(head, by_dep)


# Subordinators that open the content of a cue whose clause the parser made
# an adverbial ("spoke as if ...", "called for him to resign").
_CONTENT_MARKS = frozenset({"for", "as", "if", "whether", "when", "how", "that", "why"})


def _fallback_content(head: Token, by_dep: dict[str, list[Token]]) -> tuple[set[int], Token | None]:
    """Content for a cue none of the regular complements fits: adverbial clauses and modified nouns."""
    for c in by_dep.get("advcl", []):
        if c.i < head.i:
            continue
        mark = next((g for g in c.children if g.dep_ in ("mark", "aux") and g.i == c.left_edge.i), None)
        if mark is None or mark.lower_ not in _CONTENT_MARKS | {"to"}:
            continue
        lo, hi = _subtree_range(c)
        if mark.lower_ == "for" and mark.i == head.i + 1:
            # "called for him to resign": "for" belongs to the cue.
            return set(range(lo + 1, hi + 1)), mark
        return set(range(lo, hi + 1)), None
    if head.dep_ in ("relcl", "acl") and head.head.pos_ in ("NOUN", "PROPN", "PRON") and head.head.i < head.i:
        # "the kind Trump had described", "the law, opposed by Democrats,": the noun is what was said.
        noun = head.head
        lo, hi = _subtree_range(noun)
        lo_h, hi_h = _subtree_range(head)
        toks = {i for i in range(lo, hi + 1) if not (lo_h <= i <= hi_h)}
        return toks, None
    return set(), None


def _next_to(text: str, source: tuple[int, int] | None, cue: tuple[int, int]) -> bool:
    """Whether the source stands right next to the cue ("Trump said", "said Trump"), not inherited from afar."""
    if source is None:
        return True
    gap = text[source[1] : cue[0]] if source[1] <= cue[0] else text[cue[1] : source[0]]
    return not any(c.isalnum() for c in gap)


def _tokens_in(ctx: _DocContext, spans: list[tuple[int, int]]) -> list[Token]:
    out: list[Token] = []
    for s, e in spans:
        sp = ctx.doc.char_span(s, e, alignment_mode="expand")
        if sp is not None:
            out.extend(sp)
    return out


def _hands_over(text: str, quote: tuple[int, int]) -> bool:
    """Whether a quotation ends the way one handed to a following cue does ("…,” Kim said", "…?” he asked)."""
    inner = text[quote[0] : quote[1]].rstrip(QUOTE_CHARS + " ")
    return inner.endswith((",", "?", "!", "—", "–"))


def _quote_only_paragraph(ctx: _DocContext, quote: tuple[int, int]) -> bool:
    """Whether the paragraph holding ``quote`` has no words outside quotation marks."""
    text = ctx.text
    start = text.rfind("\n", 0, quote[0]) + 1
    end = text.find("\n", quote[1])
    end = len(text) if end < 0 else end
    pos = start
    for qs, qe in ctx.quotes:
        if qe <= start or qs >= end:
            continue
        if any(c.isalnum() for c in text[pos:qs]):
            return False
        pos = max(pos, qe)
    return not any(c.isalnum() for c in text[pos:end])


def _ends_sentence(text: str, quote: tuple[int, int]) -> bool:
    """Whether a quoted passage closes with a full stop ('… good.” Kim said the …').

    A quote split around its cue ends with a comma ("“A,” Kim said, “B.”");
    one ending with a full stop finished an earlier sentence, usually another
    attribution's.
    """
    inner = text[quote[0] : quote[1]].rstrip(QUOTE_CHARS + " ")
    return inner.endswith(".") and not inner.endswith("..")


def _after_colon(ctx: _DocContext, cue_end_char: int) -> tuple[int, int] | None:
    """Content introduced by a colon: a following quote (whole) or the sentence rest."""
    text = ctx.text
    i = cue_end_char
    while i < len(text) and text[i] in " \t\u00a0\n":
        i += 1
    if i >= len(text):
        return None
    q = ctx.quote_at(i)
    if q is not None and q[0] == i:
        return q
    # Otherwise up to the end of the sentence holding position i.
    tok = ctx.doc.char_span(i, min(i + 1, len(text)), alignment_mode="expand")
    if tok is None or len(tok) == 0:
        return None
    sent = tok[0].sent
    # A line break ends it too: the parser runs a headline into the next paragraph.
    nl = text.find("\n", i, sent.end_char)
    return _trim(text, i, nl if nl >= 0 else sent.end_char)


def _colon_quote(ctx: _DocContext, head: Token) -> tuple[int, int] | None:
    """A quotation that a colon closing the cue's clause introduces ("He answered the critics:\n\n“…”").

    The colon must end the clause of ``head`` (only its own dependents lie
    between them) and be followed, across blank lines if need be, by an
    opening quotation mark.
    """
    doc = ctx.doc
    text = ctx.text
    subtree = {t.i for t in head.subtree}
    for j in range(head.i + 1, min(len(doc), head.i + 40)):
        tok = doc[j]
        if tok.text == ":":
            i = tok.idx + 1
            while i < len(text) and text[i] in " \t\u00a0\n":
                i += 1
            q = ctx.quote_at(i)
            return q if q is not None and q[0] == i else None
        if tok.is_space or tok.is_punct:
            continue
        if j not in subtree or ctx.in_quote[j]:
            return None
    return None


_CLOSING = "”\"’'»"
# Parts of speech of a speaker's noun phrase read off by position ("said engineer Tomas Reyes").
_NP_POS = frozenset({"PROPN", "NOUN", "ADJ", "DET", "PRON", "NUM"})


def _positional_source(ctx: _DocContext, head: Token) -> tuple[int, int] | None:
    """Source of a cue next to a quotation when the parser gave it no subject.

    "“…,” said engineer Tomas Reyes." (inverted) and "“…,” Trump barked and …"
    (the parser hung the name elsewhere): the noun phrase right after, or right
    before, the cue, when a closing quotation mark precedes the cue clause.
    """
    doc = ctx.doc
    text = ctx.text

    def quote_before(i: int) -> bool:
        j = doc[i].idx - 1
        while j >= 0 and text[j] in " \t\u00a0,":
            j -= 1
        return j >= 0 and text[j] in _CLOSING

    def run(start: int, step: int) -> list[int]:
        out: list[int] = []
        i = start
        while 0 <= i < len(doc) and len(out) < 6:
            tok = doc[i]
            # A title the tagger takes for a verb ("said engineer Tomas Reyes").
            title = step == 1 and i == start and tok.is_lower and i + 1 < len(doc) and doc[i + 1].pos_ == "PROPN"
            if (tok.pos_ not in _NP_POS and not title) or ctx.in_quote[i] or tok.is_space:
                break
            out.append(i)
            i += step
        if not any(doc[i].pos_ in ("PROPN", "NOUN", "PRON") for i in out):
            return []
        return sorted(out)

    if quote_before(head.i):
        after = run(head.i + 1, 1)
        if after and doc[after[0]].pos_ != "PRON":
            return after[0], after[-1]
    before = run(head.i - 1, -1)
    if before and quote_before(before[0]):
        return before[0], before[-1]
    return None


# Reporting verbs whose subject owns an "according to <channel>" hung on them.
_SAY_LEMMAS = frozenset(
    {"say", "tell", "add", "state", "warn", "claim", "announce", "explain", "insist", "argue", "write", "note",
     "promise", "vow", "deny", "admit", "suggest", "describe", "predict", "confirm", "acknowledge", "reply"}
)  # fmt: skip


def _speaker_and_channel(
    ctx: _DocContext, src: Token, head: Token, source: tuple[int, int]
) -> tuple[tuple[int, int] | None, tuple[int, int] | None]:
    """Who the source names through the syntax, and the channel when the source is one.

    The speaker is the source's noun phrase without relative and participle
    clauses ("said Rep. Marsh, who serves with Sen. Ode on ..." names Marsh).
    A source headed by a channel noun ("the statement", "a recording of the
    meeting", "Calder's video") is the channel; its owner, when the syntax gives
    one, is the speaker: the possessor, the object of "from"/"by" (or "of" with
    a name), or the subject of the verb that issued it ("Kim released a
    statement saying ...").
    """
    doc = ctx.doc
    if src.pos_ == "NOUN" and src.lemma_.lower() in CHANNEL_NOUNS:
        owner: Token | None = None
        for c in src.children:
            if c.dep_ == "poss":
                owner = c
                break
        if owner is None:
            for c in src.children:
                if c.dep_ != "prep" or c.lower_ not in ("from", "by", "of"):
                    continue
                obj = next((g for g in c.children if g.dep_ == "pobj"), None)
                if obj is not None and (c.lower_ != "of" or obj.pos_ in ("PROPN", "PRON")):
                    owner = obj
                    break
        if owner is None and src.dep_ == "dobj" and src.head.lemma_.lower() in _ISSUE_VERBS:
            owner = _subject(src.head) or _agent_object(src.head)
        if owner is None and head.lower_ == "according":
            # "Ortega said, according to a recording, that ...": the parser hangs the
            # phrase on "said" or on its complement.
            gov = head.head
            for verb in (gov, gov.head if gov.dep_ == "ccomp" else None):
                if verb is not None and verb.lemma_.lower() in _SAY_LEMMAS and _subject(verb) is not None:
                    owner = _subject(verb)
                    break
        spk = None
        if owner is not None:
            first, last = _subtree_range(owner)
            if owner.dep_ == "poss":
                while last > first and doc[last].tag_ == "POS":
                    last -= 1
            if not (first <= head.i <= last):
                spk = ctx.tokens_span(first, last, keep_quotes=False)
        return spk, source
    rng = _token_range(ctx, source)
    if rng is None:
        return None, None
    first, last = source_first, source_last = rng
    for c in src.rights:
        if c.dep_ in ("relcl", "acl", "advcl") and c.left_edge.i > first:
            last = min(last, c.left_edge.i - 1)
    while last > first and (doc[last].is_punct or doc[last].is_space or doc[last].lower_ in _RELATIVE_PRONOUNS):
        last -= 1
    if (first, last) == (source_first, source_last):
        return None, None
    return ctx.tokens_span(first, last, keep_quotes=False), None


def _token_range(ctx: _DocContext, span: tuple[int, int]) -> tuple[int, int] | None:
    """Token indices [first, last] covering a character span (None if no token does)."""
    sp = ctx.doc.char_span(span[0], span[1], alignment_mode="expand")
    if sp is None or not len(sp):
        return None
    return sp.start, sp.end - 1


_CHAIN_LEMMAS = frozenset({"cite", "quote"})
# "Name: statement" at the start of a line (headline or transcript speaker label).
_LABEL = re.compile(
    r"(?m)^[\"“]?(?P<name>[A-Z][\w.'’-]*(?:[ \t]+[A-Z][\w.'’-]*){0,3})[ \t]*:[ \t\u00a0]+(?P<rest>\S[^\n]*)"
)
# Line labels that introduce a section, not a speaker.
_NOT_SPEAKERS = frozenset(
    {
        "a", "q", "the latest", "contributing", "correction", "corrections", "breaking", "update", "updated",
        "video", "watch", "photo", "photos", "related", "read more", "note", "editor's note", "editor’s note",
        "source", "sources", "byline", "abstract", "exclusive", "listen", "previously", "email", "twitter",
        "advertisement", "live", "opinion", "analysis", "review", "transcript",
    }
)  # fmt: skip


def _chain_links(head: Token) -> list[tuple[Token, Token]]:
    """(chain verb, nested source head) pairs hanging off cue ``head``.

    "Yonhap reported, citing KCNA" -> (citing, KCNA); "As quoted by state
    media, he said" -> (quoted, media).
    """
    links: list[tuple[Token, Token]] = []
    for c in head.children:
        if c.lemma_.lower() not in _CHAIN_LEMMAS or c.dep_ not in ("advcl", "xcomp", "conj", "dep", "acl"):
            continue
        src = _agent_object(c)
        if src is None:
            src = next((g for g in c.children if g.dep_ in ("dobj", "pobj")), None)
        if src is not None:
            links.append((c, src))
    return links


def _quoted_as_saying(head: Token) -> tuple[Token, Token | None, Token] | None:
    """For "KCNA quoted Kim as saying ...": (quote verb, quoter, "as") when ``head`` is "saying"."""
    if head.lemma_.lower() not in ("say", "tell", "state", "warn", "describe"):
        return None
    as_tok = None
    verb = None
    if head.head.lower_ == "as" and head.head.i != head.i:
        as_tok, verb = head.head, head.head.head
    else:
        as_tok = next((c for c in head.children if c.dep_ == "mark" and c.lower_ == "as"), None)
        verb = head.head if as_tok is not None else None
    if as_tok is None or verb is None or verb.lemma_.lower() not in ("quote", "cite"):
        return None
    quoter = next((c for c in verb.children if c.dep_ == "nsubj"), None) or _agent_object(verb)
    if quoter is None:
        # Passive "X was quoted as saying by CSNA": the parser hangs "by" on either verb.
        for tok in (head, verb):
            by = next((c for c in tok.children if c.dep_ in ("prep", "agent") and c.lower_ == "by"), None)
            obj = next((g for g in by.children if g.dep_ == "pobj"), None) if by is not None else None
            if obj is not None:
                quoter = obj
                break
    return verb, quoter, as_tok


def _redirect_quoted(tok: Token) -> Token:
    """Move a cue on "quoted" in "X quoted Y as saying ..." to "saying" (Y is the speaker)."""
    if tok.lemma_.lower() != "quote":
        return tok
    for c in tok.children:
        if c.dep_ == "prep" and c.lower_ == "as":
            for g in c.children:
                if g.dep_ == "pcomp" and _quoted_as_saying(g) is not None:
                    return g
        if c.dep_ == "advcl" and _quoted_as_saying(c) is not None:
            return c
    return tok


#: Confidence of a speaker label ("PENCE: ...", a "Name: statement" headline), which no scorer weighs.
LABEL_CONFIDENCE = 0.9
#: Confidence of a quotation handed to a "Name verb" clause whose verb the scorer did not take as a cue.
ORPHAN_CONFIDENCE = 0.5


class Extractor:
    """Turns parsed documents into :class:`AttributionSpans` lists."""

    def __init__(self, model: CueModel) -> None:
        """Build an extractor around a loaded cue model.

        Args:
            model: the cue scorer and the statistics learned with it.
        """
        self.model = model

    # ----------------------------------------------------------- one cue

    def _draft(self, ctx: _DocContext, head: Token, confidence: float = 1.0) -> _Draft | None:
        doc = ctx.doc
        content_toks, prep = _content_tokens(head, self.model.cue_preps)
        cue_first, cue_last = _cue_tokens(head, prep)
        cue_rng = ctx.tokens_span(cue_first, cue_last, keep_quotes=False)
        if head.text == ":":
            cue_rng = (head.idx, head.idx + 1)
        src_tok = _find_source(head)
        if f"{head.lemma_.lower()}|{head.tag_}" in self.model.sourceless and _agent_object(head) is None:
            # "It seems ...", "Asked about ..., Kim said": no source in the annotation sense.
            src_tok = None
        if src_tok is not None and ctx.in_quote[src_tok.i] and not ctx.in_quote[head.i]:
            # "“Very good reporter,” Trump said": the parser made the quotation a
            # subject; the speaker is the subject outside the quotation marks.
            src_tok = next((c for c in head.children if c.dep_ in _SUBJ_DEPS and not ctx.in_quote[c.i]), None)
        source: tuple[int, int] | None = None
        if src_tok is not None:
            sf, sl = _source_range(src_tok, head, (cue_first, cue_last))
            source = ctx.tokens_span(sf, sl, keep_quotes=False)
            if source is not None and not ctx.in_quote[src_tok.i]:
                # The parser sometimes hangs the quotation on the speaker's name
                # ("“…,” Sarandon, 69, told"): a source never contains quoted words.
                for _qs, qe in ctx.quotes:
                    if source[0] < qe <= src_tok.idx:
                        source = _trim(ctx.text, qe, source[1], keep_quotes=False)
                        if source is None:
                            break
        elif head.text != ":" and f"{head.lemma_.lower()}|{head.tag_}" not in self.model.sourceless:
            pos_src = _positional_source(ctx, head)
            if pos_src is not None:
                source = ctx.tokens_span(*pos_src, keep_quotes=False)
        content: list[tuple[int, int]] = []
        ends_with_colon = doc[cue_last].text == ":"
        if head.text == ":":
            # Headline style "Kim: we will never give up": source left, content right.
            sent = head.sent
            if head.i > sent.start:
                source = ctx.tokens_span(sent.start, head.i - 1, keep_quotes=False)
            rest = _after_colon(ctx, head.idx + 1)
            if rest:
                content = [rest]
        elif ends_with_colon and not any(c.dep_ == "ccomp" for c in head.children):
            # "issued the following statement:" -- the object only announces
            # the content that follows the colon.
            rest = _after_colon(ctx, doc[cue_last].idx + 1)
            if rest:
                content = [rest]
        else:
            cue_idx = set(range(cue_first, cue_last + 1))
            src_idx: set[int] = set()
            if src_tok is not None and source is not None:
                sf, sl = _source_range(src_tok, head, (cue_first, cue_last))
                src_idx = set(range(sf, sl + 1))
            content_toks -= cue_idx | src_idx
            content = ctx.fragments(content_toks)
            if ends_with_colon:
                rest = _after_colon(ctx, doc[cue_last].idx + 1)
                if rest and (not content or rest[1] > content[-1][1]):
                    content = [rest] if not content or rest[0] <= content[0][0] else [*content, rest]
        nested: list[tuple[int, int]] = []
        absorbed: set[int] = set()
        qas = _quoted_as_saying(head)
        if qas is not None:
            # "KCNA quoted Kim as saying ...": Kim speaks, KCNA relays.
            verb, quoter, as_tok = qas
            cue_rng = ctx.tokens_span(as_tok.i, head.i, keep_quotes=False)
            # Active "KCNA quoted Kim as saying": the object; passive "Kim was quoted as saying": the subject.
            obj = next((c for c in verb.children if c.dep_ == "dobj"), None) or next(
                (c for c in verb.children if c.dep_ == "nsubjpass"), None
            )
            if obj is not None:
                source = ctx.tokens_span(*_subtree_range(obj), keep_quotes=False)
            if quoter is not None:
                q = ctx.tokens_span(*_subtree_range(quoter), keep_quotes=False)
                if q is not None:
                    nested.append(q)
            absorbed.add(verb.i)
        for verb, src in _chain_links(head):
            r = ctx.tokens_span(*_subtree_range(src), keep_quotes=False)
            if r is not None:
                nested.append(r)
                absorbed.add(verb.i)
                # The chain clause is not part of what was said.
                lo, hi = _subtree_range(verb)
                content = [
                    f for f in content if not (ctx.doc[lo].idx <= f[0] and f[1] <= ctx.doc[hi].idx + len(ctx.doc[hi]))
                ]
        if content and cue_rng is not None and content[0][0] < cue_rng[0]:
            # A postposed cue speaks for its own paragraph: "“A.”\n\n“B,” said Greer" -- the
            # parser may hang the previous paragraph (someone else's) on it too.
            cut = ctx.text.rfind("\n", 0, cue_rng[0])
            if cut > content[0][0]:
                kept = [(max(a, cut + 1), b) for a, b in content if b > cut + 1]
                kept = [k for k in (_trim(ctx.text, a, b) for a, b in kept) if k is not None]
                if kept:
                    content = kept
        colon_quote = _colon_quote(ctx, head)
        if colon_quote is not None and (not content or content[-1][1] <= colon_quote[0]):
            # "Cruz answered the critics:\n\n“...”": the colon hands over to the quotation.
            content = [colon_quote]
        if not content and cue_rng is not None:
            content = self._adjacent_quote(ctx, cue_rng, source)
        if not content:
            return None
        speaker: tuple[int, int] | None = None
        channel: tuple[int, int] | None = None
        if src_tok is not None and source is not None and qas is None:
            speaker, channel = _speaker_and_channel(ctx, src_tok, head, source)
        content = self._extend_to_quotes(ctx, content, cue_rng)
        if (
            cue_rng is not None
            and content[0][0] > cue_rng[1]
            and colon_quote is None
            and not self._is_direct(ctx, content)
            and _next_to(ctx.text, source, cue_rng)
            and not any(t.pos_ in ("VERB", "AUX") for t in _tokens_in(ctx, content))
        ):
            # "“Who do they think they are?” Trump said of Apple", "“…,” Ramos told AFP":
            # the quotation right before the cue clause is what was said, not the
            # object or prepositional phrase the parser hangs on the cue.
            before = self._adjacent_quote(ctx, cue_rng, source, after=False)
            if before and _hands_over(ctx.text, before[0]):
                content = before
        if cue_rng is not None and content[0][0] > cue_rng[1]:
            # "“A,” Kim said, “B.”": the parser hangs only B on the cue.
            before = self._adjacent_quote(ctx, cue_rng, source, after=False)
            if (
                before
                and before[0][1] <= content[0][0]
                and self._is_direct(ctx, content)
                and not _ends_sentence(ctx.text, before[0])
            ):
                content = before + content
        return _Draft(
            head=head.i,
            cue=cue_rng,
            source=source,
            content=content,
            nested=nested,
            absorbed=absorbed,
            speaker=speaker,
            channel=channel,
            confidence=confidence,
        )

    @staticmethod
    def _adjacent_quote(
        ctx: _DocContext, cue: tuple[int, int], source: tuple[int, int] | None, after: bool = True
    ) -> list[tuple[int, int]]:
        """A quote right before or after the cue clause, for cues the parser left without a complement.

        Happens when the sentence splitter cuts '"Really?" Kim said.' into two
        sentences, or with '..., he said, "...".'
        """
        text = ctx.text
        lo = min(cue[0], source[0]) if source else cue[0]
        hi = max(cue[1], source[1]) if source else cue[1]
        before = [q for q in ctx.quotes if q[1] <= lo and not any(c.isalnum() for c in text[q[1] : lo])]
        if before and "\n" not in text[before[-1][1] : lo]:
            return [before[-1]]
        if not after:
            return []
        following = [q for q in ctx.quotes if q[0] >= hi and not any(c.isalnum() for c in text[hi : q[0]])]
        if following and "\n" not in text[hi : following[0][0]]:
            return [following[0]]
        return []

    def _extend_to_quotes(
        self, ctx: _DocContext, content: list[tuple[int, int]], cue: tuple[int, int] | None
    ) -> list[tuple[int, int]]:
        """Widen content fragments that start or end inside a quote to the whole quote.

        The parser cuts multi-sentence quotes at the first sentence boundary,
        but annotators (and readers) take the quotation as the unit.
        """
        out: list[tuple[int, int]] = []
        for s, e in content:
            for pos in (s, e - 1):
                q = ctx.quote_at(pos)
                if q is None:
                    continue
                if cue is not None and q[0] <= cue[0] < q[1]:
                    continue  # never swallow the cue itself
                s, e = min(s, q[0]), max(e, q[1])
            out.append((s, e))
        # Merge fragments that now touch or overlap.
        merged: list[tuple[int, int]] = []
        for s, e in sorted(out):
            if merged and s <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(e, merged[-1][1]))
            else:
                merged.append((s, e))
        return merged

    # ----------------------------------------------------------- document

    def extract_doc(self, doc: Doc) -> list[AttributionSpans]:
        """Extract the attributions of one parsed document.

        Args:
            doc: a spaCy ``Doc`` with tagger, lemmatizer and parser annotations.

        Returns:
            Attributions in text order of their cues.
        """
        quotes = find_quotes(doc.text)
        ctx = _DocContext(doc, quotes)
        heads = self.model.cue_scores(doc, ctx.in_quote)
        drafts: list[_Draft] = []
        seen_cues: set[tuple[int, int] | None] = set()
        for h, prob in heads:
            d = self._draft(ctx, _redirect_quoted(doc[h]), prob)
            if d is None or d.cue in seen_cues:
                continue
            seen_cues.add(d.cue)
            drafts.append(d)
        absorbed = set().union(*(d.absorbed for d in drafts)) if drafts else set()
        drafts = [d for d in drafts if d.head not in absorbed]
        drafts.extend(self._label_drafts(ctx, drafts))
        drafts.extend(self._orphan_quote_drafts(ctx, drafts))
        drafts.sort(key=lambda d: d.cue[0] if d.cue else d.content_start)
        self._attach_following_quotes(ctx, drafts)
        return [self._finish(ctx, d) for d in drafts]

    @staticmethod
    def _orphan_quote_drafts(ctx: _DocContext, drafts: list[_Draft]) -> list[_Draft]:
        """Quotations no cue claimed, handed to a "Name verb" clause right after them.

        "“Go back to Univision,” Trump barked and ...": the scorer does not know
        every verb of speaking, but a quotation closed with a comma, "?" or "!"
        and followed by a name and a verb is that person's. Such attributions
        get a lower confidence (:data:`ORPHAN_CONFIDENCE`).
        """
        doc, text = ctx.doc, ctx.text
        taken = [f for d in drafts for f in d.content]
        cues = [d.cue for d in drafts if d.cue is not None]
        out: list[_Draft] = []
        for q in ctx.quotes:
            if any(a < q[1] and q[0] < b for a, b in taken) or not _hands_over(text, q):
                continue
            inner = text[q[0] : q[1]].rstrip(QUOTE_CHARS + " ")
            if len(inner.split()) < 3 and not inner.endswith(("!", "?")):
                continue
            span = doc.char_span(q[1], min(len(text), q[1] + 120), alignment_mode="expand")
            if span is None:
                continue
            toks = [t for t in span if not t.is_space][:7]
            if not toks or toks[0].idx - q[1] > 2 or toks[0].is_punct:
                continue
            verb = next(
                (
                    t
                    for t in toks
                    if (t.pos_ == "VERB" and t.tag_ in ("VBD", "VBZ", "VBP", "VBN"))
                    # "Trump barked": a past form the tagger took for a noun after a name.
                    or (t.tag_ == "NN" and t.lower_.endswith("ed") and t.i > toks[0].i and doc[t.i - 1].pos_ == "PROPN")
                ),
                None,
            )
            if verb is None or verb.lemma_.lower() in ("be", "have", "do") or ctx.in_quote[verb.i]:
                continue
            before = [t for t in toks if t.i < verb.i]
            after: list[Token] = []
            if not before:
                # "“…,” barked the coach": the noun phrase after the verb.
                for t in toks[1:]:
                    if t.pos_ not in _NP_POS or t.is_punct:
                        break
                    after.append(t)
            np_toks = before or after
            if not np_toks or not all(t.pos_ in _NP_POS and not t.is_punct for t in np_toks):
                continue
            if not any(t.pos_ in ("PROPN", "NOUN", "PRON") for t in np_toks):
                continue
            cue = (verb.idx, verb.idx + len(verb.text))
            if any(c[0] < cue[1] and cue[0] < c[1] for c in cues):
                continue
            source = ctx.tokens_span(np_toks[0].i, np_toks[-1].i, keep_quotes=False)
            out.append(_Draft(head=verb.i, cue=cue, source=source, content=[q], confidence=ORPHAN_CONFIDENCE))
        return out

    @staticmethod
    def _label_drafts(ctx: _DocContext, drafts: list[_Draft]) -> list[_Draft]:
        """Speaker labels the parser misses: "Pence: We will win" as a headline, "WALLACE: …" in a transcript.

        A headline (the first line) of the form "Name: statement", or a line
        opening with an upper-case speaker label ("PENCE:", "“WALLACE:"); section
        labels ("UPDATE:", "Q:") are not speakers.
        """
        text = ctx.text
        taken = [d.cue for d in drafts if d.cue is not None]
        out: list[_Draft] = []
        for m in _LABEL.finditer(text):
            name = m.group("name")
            if name.lower() in _NOT_SPEAKERS or len(name) < 2:
                continue
            headline = "\n" not in text[: m.start()]
            if not headline and not (name.isupper() and len(name.split()) <= 2):
                continue
            colon = text.index(":", m.end("name"))
            if any(c[0] <= colon < c[1] for c in taken):
                continue
            content = _trim(text, m.start("rest"), m.end("rest"))
            if content is None:
                continue
            tok = ctx.doc.char_span(colon, colon + 1, alignment_mode="expand")
            head = tok[0].i if tok is not None and len(tok) else 0
            src = (m.start("name"), m.end("name"))
            out.append(
                _Draft(head=head, cue=(colon, colon + 1), source=src, content=[content], confidence=LABEL_CONFIDENCE)
            )
        return out

    def _attach_following_quotes(self, ctx: _DocContext, drafts: list[_Draft]) -> None:
        """Add quotes continuing a direct attribution after its cue as fragments.

        Covers "“A,” Kim said, “B.”", "“A,” Kim said. “B.”" and quote-only
        paragraphs that continue the last speaker, which news style leaves
        without a new cue.
        """
        text = ctx.text
        for d in sorted(drafts, key=lambda d: d.content_end):
            # A direct quotation, or a report ending in one ("golf clubs are “just
            # scratching out a profit,” Hedge said. “Golf is ...”").
            ends_quoted = any(q[1] == d.content_end for q in ctx.quotes)
            if d.cue is None or not (ends_quoted or self._is_direct(ctx, d.content)):
                continue
            cue_tok = ctx.doc[d.head]
            anchor = max(d.cue[1], d.source[1] if d.source else 0, d.content_end)
            sent_end = ctx.sent_end(cue_tok.i)
            if anchor < sent_end and not any(anchor <= q[0] < sent_end for q in ctx.quotes):
                # Skip the rest of the cue sentence ("..., Kim said at the rally.").
                anchor = sent_end
            in_next = False
            while True:
                nxt = next((q for q in ctx.quotes if q[0] >= anchor), None)
                if nxt is None:
                    break
                gap = text[anchor : nxt[0]]
                if any(c.isalnum() for c in gap) and anchor < sent_end and not in_next:
                    # Still in the cue sentence ("Hedge said from his office. “Golf ...”",
                    # "said on “Meet the Press.” “She ...”"): a quotation opening the
                    # next sentence may continue; one quoted inside this one (a title) does not.
                    stop = re.search(r"[.!?][\"”’'\s]*\s$", gap)
                    if stop is not None and not any(c.isalnum() for c in gap[stop.end() :]):
                        anchor, in_next = nxt[0], True
                        continue
                    if nxt[1] <= sent_end + 2:
                        anchor = nxt[1]
                        continue
                # Only punctuation / whitespace between, at most one paragraph break.
                if any(c.isalnum() for c in gap) or gap.count("\n") > 2:
                    break
                # A quote with a cue of its own belongs to that cue.
                if any(o is not d and o.content_start < nxt[1] and nxt[0] < o.content_end for o in drafts):
                    break
                if gap.count("\n") and not _quote_only_paragraph(ctx, nxt):
                    # A new paragraph continues the quotation only when it is
                    # nothing but quotation: narration there may name someone else.
                    break
                if gap.count("\n"):
                    d.confidence *= CONTINUATION_FACTOR
                d.content.append(nxt)
                anchor = nxt[1]

    @staticmethod
    def _is_direct(ctx: _DocContext, content: list[tuple[int, int]]) -> bool:
        total = sum(e - s for s, e in content)
        if total == 0:
            return False
        quoted = 0
        for s, e in content:
            for qs, qe in ctx.quotes:
                if qe <= s:
                    continue
                if qs >= e:
                    break
                quoted += min(e, qe) - max(s, qs)
        return quoted >= 0.5 * total

    def _finish(self, ctx: _DocContext, d: _Draft) -> AttributionSpans:
        text = ctx.text

        def mk(r: tuple[int, int] | None) -> Span | None:
            return None if r is None else Span(r[0], r[1], text[r[0] : r[1]])

        frags = sorted(d.content)
        whole = (frags[0][0], frags[-1][1])
        content = Span(whole[0], whole[1], text[whole[0] : whole[1]])
        fragments = tuple(Span(s, e, text[s:e]) for s, e in frags) if len(frags) > 1 else ()
        return AttributionSpans(
            source=mk(d.source),
            cue=mk(d.cue),
            content=content,
            direct=self._is_direct(ctx, frags),
            content_fragments=fragments,
            nested_sources=tuple(Span(s, e, text[s:e]) for s, e in d.nested),
            speaker=mk(d.speaker),
            channel=mk(d.channel),
            confidence=round(d.confidence, 3),
        )


def _pieces(a: AttributionSpans) -> tuple[Span, ...]:
    return a.content_fragments or (a.content,)


def _inside(pos: int, a: AttributionSpans) -> bool:
    return any(f.start <= pos < f.end for f in _pieces(a))


def univocal(attributions: Sequence[AttributionSpans]) -> list[AttributionSpans]:
    """Keep only outermost attributions: drop any whose cue lies in another's content.

    The extractor reports nested attributions ("CNN reported that the campaign
    said ..." gives both), because the pipeline needs them for chains. Corpora
    annotated univocally, where each token belongs to at most one attribution
    (PolNeAR), annotate only the outer one; this projection gives that view.
    When two attributions contain each other's cue, the one with the longer
    content is kept.

    Args:
        attributions: the output of :meth:`Extractor.extract_doc`.

    Returns:
        The attributions that no other one contains, in their original order.
    """

    def contains(outer: AttributionSpans, inner: AttributionSpans) -> bool:
        if inner.cue is None or not _inside(inner.cue.start, outer):
            return False
        if outer.cue is not None and _inside(outer.cue.start, inner):
            # Mutual containment: the longer content is the outer one (ties: the earlier).
            lo, li = len(outer.content.text), len(inner.content.text)
            return lo > li or (lo == li and outer.content.start < inner.content.start)
        return True

    return [b for b in attributions if not any(a is not b and contains(a, b) for a in attributions)]
