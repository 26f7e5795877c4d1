"""spaCy's attribute ruler, applied by table look-up instead of the Matcher.

The English pipeline's ``attribute_ruler`` maps each tag to a part of speech and
morphology, with about 180 exception rules (pronoun case by dependency, "gonna",
auxiliaries...). spaCy runs them through its token Matcher, which tries every rule
at every token: about 25 ms of a 1,300-word news article, a tenth of the whole
spaCy pass (docs/benchmarks.md). Almost every rule names an exact lower-case form,
dependency, tag or whitespace flag for its first token, so the rules that can match a
token are found by one dictionary look-up per attribute; only the two rules that test
a regular expression alone are tried everywhere. The rules matching each distinct
combination of a token's values are kept, since most tokens repeat.

:class:`AttributeTable` takes the loaded ruler's own rules and applies them with
spaCy's own attribute setter, in the ruler's order (a later rule wins), so every
token gets exactly the tag, part of speech, morphology, lemma and dependency the
ruler would give it; a test compares the two. A rule it cannot read (an operator
other than equality, ``IN``, ``NOT_IN`` and ``REGEX``, an attribute other than
``TAG``, ``LOWER``, ``DEP`` and ``IS_SPACE``, a quantifier) makes
:func:`use_attribute_table` leave the ruler in place.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

#: token attributes a rule may test (spaCy names), and their columns in ``Doc.to_array``
_ATTRS = ("TAG", "LOWER", "DEP", "IS_SPACE")
#: the columns a rule is indexed under, most selective first
_ANCHORS = (1, 2, 0, 3)
#: attribute-value combinations whose matching rules are kept (the cache is emptied when full)
_CACHE_ROWS = 50_000


class _Unsupported(Exception):
    """A rule this table cannot apply exactly."""


Test = Callable[[tuple[int, ...]], bool]


def _key(v: Any, strings: Any) -> int:
    """The value a token attribute holds for ``v``: a string's hash (0 for none), a flag's 0 or 1."""
    if isinstance(v, bool):
        return int(v)
    if isinstance(v, str):
        return int(strings.add(v)) if v else 0
    raise _Unsupported(repr(v))


def _test(col: int, spec: Any, strings: Any) -> Test:
    """One attribute test of a rule token, over a token's row of ``(TAG, LOWER, DEP, IS_SPACE)`` values."""

    if not isinstance(spec, dict):
        want = _key(spec, strings)
        return lambda row: row[col] == want
    if len(spec) != 1:
        raise _Unsupported(repr(spec))
    ((op, value),) = spec.items()
    if op == "IN":
        wanted = frozenset(_key(v, strings) for v in value)
        return lambda row: row[col] in wanted
    if op == "NOT_IN":
        banned = frozenset(_key(v, strings) for v in value)
        return lambda row: row[col] not in banned
    if op == "REGEX" and _ATTRS[col] in ("TAG", "LOWER", "DEP"):
        rx = re.compile(value)
        seen: dict[int, bool] = {}

        def regex(row: tuple[int, ...]) -> bool:
            h = row[col]
            if h not in seen:
                seen[h] = bool(rx.search(strings[h] if h else ""))
            return seen[h]

        return regex
    raise _Unsupported(repr(spec))


@dataclass
class _Rule:
    """One pattern of one ruler rule: its place among the rules, a test per token, and which token it sets."""

    order: int
    tokens: list[list[Test]]
    index: int
    found_is_match: bool = False

    def matches(self, rows: list[tuple[int, ...]], start: int) -> bool:
        """Whether the pattern's later tokens match those after ``start`` (its first token does)."""
        if start + len(self.tokens) > len(rows):
            return False
        return all(t(rows[start + k]) for k, tests in enumerate(self.tokens) if k for t in tests)


class AttributeTable:
    """A spaCy component doing what a loaded ``AttributeRuler`` does, by table look-up.

    Args:
        ruler: The pipeline's ``attribute_ruler``; its rules and normalised attributes are used as they are.

    Raises:
        _Unsupported: When a rule uses what the table does not implement.
    """

    def __init__(self, ruler: Any) -> None:
        strings = ruler.vocab.strings
        #: rules to try at a token, by (column, value) of an exact test of their first token
        self.by_value: dict[tuple[int, int], list[_Rule]] = {}
        #: rules whose first token has no exact test: tried at every token
        self.everywhere: list[_Rule] = []
        #: normalised attributes each rule sets, by rule order
        self.attrs: list[dict[Any, Any]] = list(ruler.attrs)
        #: the rules whose first token matches, by a token's attribute values (most tokens repeat)
        self._found: dict[tuple[int, ...], list[_Rule]] = {}
        for order, spec in enumerate(ruler.patterns):
            for pattern in spec["patterns"]:
                tokens = []
                for tok in pattern:
                    if not tok or any(k not in _ATTRS for k in tok):
                        raise _Unsupported(repr(tok))
                    tokens.append([_test(_ATTRS.index(k), v, strings) for k, v in tok.items()])
                rule = _Rule(order, tokens, ruler.indices[order])
                if not -len(tokens) <= rule.index < len(tokens):
                    raise _Unsupported(f"index {rule.index} of {pattern!r}")
                # indexed under an exact test of its first token, the most selective one
                first = pattern[0]
                col, values = next(
                    ((c, vs) for c in _ANCHORS if _ATTRS[c] in first if (vs := _exact(first[_ATTRS[c]], strings))),
                    (-1, []),
                )
                if col < 0:
                    self.everywhere.append(rule)
                # a rule that tests nothing else matches wherever it is found
                rule.found_is_match = col >= 0 and len(pattern) == 1 and len(first) == 1
                for value in values:
                    self.by_value.setdefault((col, value), []).append(rule)

    def __call__(self, doc: Any) -> Any:
        """Set the attributes of ``doc``'s tokens as the ruler would."""
        from spacy.attrs import DEP, IS_SPACE, LOWER, TAG
        from spacy.tokens._retokenize import set_token_attrs

        if not len(doc):
            return doc
        rows: list[tuple[int, ...]] = [tuple(r) for r in doc.to_array([TAG, LOWER, DEP, IS_SPACE]).tolist()]
        hits: list[tuple[int, int, int]] = []
        for start, row in enumerate(rows):
            found = self._found.get(row)
            if found is None:
                if len(self._found) >= _CACHE_ROWS:
                    self._found.clear()
                found = self._found[row] = self._first_token_matches(row)
            for rule in found:
                n = len(rule.tokens)
                if n == 1 or rule.matches(rows, start):
                    hits.append((rule.order, start, start + (rule.index % n)))
        # the ruler's order: by rule, then by place; a later rule overrides an earlier one
        hits.sort()
        for order, _start, target in hits:
            set_token_attrs(doc[target], self.attrs[order])
        return doc

    def _first_token_matches(self, row: tuple[int, ...]) -> list[_Rule]:
        """The rules whose first token matches a token of these values."""
        get = self.by_value.get
        found = [r for c in range(len(_ATTRS)) for r in get((c, row[c]), ())] + self.everywhere
        return [r for r in found if r.found_is_match or all(t(row) for t in r.tokens[0])]

    def pipe(self, docs: Iterable[Any], batch_size: int = 128) -> Iterator[Any]:
        """:meth:`__call__` over a stream of docs (spaCy's ``nlp.pipe`` calls this)."""
        for doc in docs:
            yield self(doc)


def _exact(spec: Any, strings: Any) -> list[int]:
    """The values a test accepts when it is an equality or ``IN`` test (else none: it cannot index a rule)."""
    if isinstance(spec, dict):
        return [_key(v, strings) for v in spec["IN"]] if set(spec) == {"IN"} else []
    return [_key(spec, strings)]


def use_attribute_table(nlp: Any) -> bool:
    """Replace ``nlp``'s ``attribute_ruler`` by an :class:`AttributeTable` of its rules.

    Returns:
        Whether it was replaced (not when the pipeline has no ruler, or a rule is one
        the table cannot apply exactly).
    """
    if "attribute_ruler" not in nlp.pipe_names:
        return False
    _register()
    try:
        nlp.add_pipe("storydesk_attribute_table", name="attribute_table", before="attribute_ruler")
    except _Unsupported:
        return False
    nlp.remove_pipe("attribute_ruler")
    return True


def _register() -> None:
    """Register the component factory with spaCy (once)."""
    from spacy.language import Language

    if Language.has_factory("storydesk_attribute_table"):
        return

    @Language.factory("storydesk_attribute_table")
    def make(nlp: Any, name: str) -> AttributeTable:
        return AttributeTable(nlp.get_pipe("attribute_ruler"))
