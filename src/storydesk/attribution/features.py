"""Features of candidate cue tokens for the learned cue scorer.

The scorer is a linear model over sparse string features, so it is cheap to
apply and its weights fit in a small JSON file. Training (see
:mod:`storydesk.eval.train_cues`) and inference share this module so the two
can never drift apart.
"""

from __future__ import annotations

from collections.abc import Iterator

from spacy.tokens import Doc, Token

#: POS tags a cue head can have. Verbs dominate; nouns cover "claim"/"statement",
#: ADP/VERB "according", PUNCT the headline colon ("Kim: we will win").
CANDIDATE_POS = frozenset({"VERB", "AUX", "NOUN", "ADP", "PUNCT", "ADJ"})


def is_candidate(tok: Token, headline: bool = False) -> bool:
    """Whether ``tok`` may head a cue; everything else is never scored.

    In a title-case headline the tagger marks many verbs as proper nouns
    ("Trump Slams Clinton"), so there proper nouns are candidates too.
    """
    if tok.pos_ not in CANDIDATE_POS and not (headline and tok.pos_ == "PROPN"):
        return False
    if tok.pos_ == "PUNCT":
        return tok.text == ":"
    return tok.is_alpha


def _lemma(tok: Token) -> str:
    return tok.lemma_.lower() or tok.lower_


def headline_end(doc: Doc) -> int:
    """Character offset where a title-case headline on the first line ends, else 0.

    Only a short first line with most words capitalised counts: a body text
    starting with an ordinary sentence must not be scored as a headline.
    """
    nl = doc.text.find("\n")
    if nl <= 0:
        return 0
    words = [w for w in doc.text[:nl].split() if w[:1].isalpha()]
    if not words or len(words) > 30:
        return 0
    upper = sum(1 for w in words if w[0].isupper())
    return nl if upper >= 0.6 * len(words) else 0


def token_features(tok: Token, in_quote: bool, sent_has_quote: bool, headline: bool = False) -> Iterator[str]:
    """Yield the sparse features of candidate ``tok``.

    Args:
        tok: the candidate cue head.
        in_quote: whether the token lies inside quotation marks (speech verbs
            inside a quote are rarely the cue of the quote itself).
        sent_has_quote: whether its sentence contains a quotation mark.
        headline: whether it lies in the headline (first line), where title
            case misleads the tagger.

    Yields:
        Feature names; each present feature has value 1.
    """
    lem = _lemma(tok)
    doc = tok.doc
    yield "bias"
    yield f"l={lem}"
    yield f"w={tok.lower_}"
    yield f"t={tok.tag_}"
    yield f"d={tok.dep_}"
    yield f"l|d={lem}|{tok.dep_}"
    yield f"l|t={lem}|{tok.tag_}"
    head = tok.head
    yield f"hd={head.dep_}" if head.i != tok.i else "hd=SELF"
    yield f"hl={_lemma(head)}"
    yield f"d|hl={tok.dep_}|{_lemma(head)}"
    deps = set()
    for ch in tok.children:
        deps.add(ch.dep_)
        if ch.dep_ == "prep":
            yield f"prep={ch.lower_}"
            yield f"l|prep={lem}|{ch.lower_}"
        elif ch.dep_ in ("dobj", "nsubj", "nsubjpass"):
            kind = "PRON" if ch.pos_ == "PRON" else ("PROPN" if ch.pos_ == "PROPN" else "N")
            yield f"{ch.dep_}:{kind}"
            yield f"l|{ch.dep_}={lem}|{_lemma(ch)}" if ch.pos_ != "PROPN" else f"l|{ch.dep_}=PROPN"
            # Who or what the subject is matters regardless of the verb: people,
            # groups and documents hold and voice views, "it" and "this" rarely.
            yield f"{ch.dep_}l={_lemma(ch)}" if ch.pos_ != "PROPN" else f"{ch.dep_}l=PROPN"
        elif ch.dep_ in ("acomp", "attr", "oprd"):
            # "is critical of", "was a supporter of": the predicate carries the meaning.
            yield f"{ch.dep_}l={_lemma(ch)}"
            yield f"l|{ch.dep_}={lem}|{_lemma(ch)}"
        elif ch.dep_ == "ccomp":
            marks = [g.lower_ for g in ch.children if g.dep_ == "mark"]
            yield f"ccmark={marks[0] if marks else '-'}"
            if ch.i < tok.i:
                yield "ccomp_before"
                yield f"l|ccomp_before={lem}"
        elif ch.dep_ in ("aux", "auxpass", "neg", "prt"):
            yield f"{ch.dep_}={ch.lower_}"
    for d in sorted(deps):
        yield f"ch={d}"
        yield f"l|ch={lem}|{d}"
    if not deps:
        yield "nochildren"
    prev = doc[tok.i - 1].lower_ if tok.i > 0 else "<s>"
    nxt = doc[tok.i + 1].lower_ if tok.i + 1 < len(doc) else "</s>"
    nxt2 = doc[tok.i + 2].lower_ if tok.i + 2 < len(doc) else "</s>"
    yield f"p={prev}"
    yield f"n={nxt}"
    yield f"l|n={lem}|{nxt}"
    yield f"l|p={lem}|{prev}"
    yield f"n2={nxt}|{nxt2}"
    if tok.is_sent_start:
        yield "sent_start"
    if in_quote:
        yield "in_quote"
        yield f"l|in_quote={lem}"
    if sent_has_quote:
        yield "sent_quote"
        yield f"l|sent_quote={lem}"
    if tok.i > 0 and doc[tok.i - 1].is_punct:
        yield f"prevpunct={doc[tok.i - 1].text}"
    if headline:
        yield "headline"
        yield f"w|headline={tok.lower_}"
        yield f"t|headline={tok.tag_}"


def quote_mask(doc: Doc, quotes: list[tuple[int, int]]) -> list[bool]:
    """Per token: whether it lies strictly inside a quoted passage."""
    mask = [False] * len(doc)
    if not quotes:
        return mask
    qi = 0
    for tok in doc:
        while qi < len(quotes) and quotes[qi][1] <= tok.idx:
            qi += 1
        if qi < len(quotes) and quotes[qi][0] < tok.idx and tok.idx + len(tok) <= quotes[qi][1]:
            mask[tok.i] = True
    return mask
