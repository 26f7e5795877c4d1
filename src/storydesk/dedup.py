"""Near-duplicate detection: MinHash LSH over word shingles.

A syndicated copy (the same wire story with a new headline or a few words
changed) points at its original through ``duplicate_of`` and keeps its own
outlet. The original is the earliest published article of the group; between
copies of the same day, the one whose outlet the other credits ("SABREL, March
18 (Greyline Wire) –") is the original. The Jaccard threshold
(``Config.dedup_threshold``, default 0.6 on 4-word shingles) is documented with
its measurement in docs/clustering.md. Candidates come from an LSH index built
for a lower Jaccard (``LSH_THRESHOLD``), so pairs just above the threshold are
not lost to banding; each candidate is then checked against the threshold.
"""

from __future__ import annotations

import base64
import uuid
import weakref
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, ClassVar

import numpy as np
from datasketch import LeanMinHash, MinHash, MinHashLSH

from storydesk.models import Article
from storydesk.pipeline import Context
from storydesk.textutil import fold, words

VERSION = "dedup-3"
NUM_PERM = 128
#: Jaccard the LSH banding is tuned for: below the decision threshold, so near-threshold pairs are candidates.
LSH_THRESHOLD = 0.4
#: datasketch permutation scheme (32-bit values, so signatures store as uint32).
SCHEME = "affine32"
KIND = "dedup"
#: Store meta key that changes whenever the dedup stage writes (invalidates the in-memory state).
TOKEN_KEY = "dedup_token"


def shingles(text: str, k: int) -> set[bytes]:
    """Word k-shingles of folded text (the whole text when it is shorter than k words)."""
    toks = words(fold(text))
    if len(toks) < k:
        return {" ".join(toks).encode()} if toks else set()
    return {" ".join(toks[i : i + k]).encode() for i in range(len(toks) - k + 1)}


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    """The permutation parameters of seed 7, drawn once (drawing them costs ~0.5 ms a signature)."""
    perms: np.ndarray = MinHash(num_perm=NUM_PERM, seed=7, scheme=SCHEME).permutations
    return perms


def signature(article: Article, k: int) -> MinHash:
    """MinHash of an article's title and body."""
    m = MinHash(num_perm=NUM_PERM, seed=7, scheme=SCHEME, permutations=_permutations())
    sh = shingles(f"{article.title or ''}\n{article.text}", k)
    if sh:
        m.update_batch(list(sh))
    return m


def _encode(m: MinHash) -> str:
    """Signature -> compact text (hash values fit in 32 bits)."""
    return base64.b64encode(m.hashvalues.astype(np.uint32).tobytes()).decode("ascii")


def _decode(s: str) -> MinHash:
    """Text -> signature (lean: a stored signature is only compared, never updated)."""
    hv = np.frombuffer(base64.b64decode(s), dtype=np.uint32).astype(np.uint64)
    return LeanMinHash(seed=7, hashvalues=hv, scheme=SCHEME)


@dataclass
class _State:
    """The LSH index and signatures of every processed article, kept between builds."""

    threshold: float
    lsh: MinHashLSH
    sigs: dict[str, MinHash]
    originals: dict[str, str | None]


#: In-memory state between builds of the same store: store -> (token, state).
_STATES: weakref.WeakKeyDictionary[Any, tuple[str, _State]] = weakref.WeakKeyDictionary()


def _load_state(store: Any, threshold: float) -> _State:
    """The dedup state of a store: from memory when nothing changed it since, else from its records."""
    token = store.get_meta(TOKEN_KEY) or ""
    cached = _STATES.get(store)
    if cached and token and cached[0] == token and cached[1].threshold == threshold:
        return cached[1]
    state = _State(threshold, MinHashLSH(threshold=threshold, num_perm=NUM_PERM), {}, {})
    for key, version, data in store.records(KIND):
        if version != VERSION:
            continue
        state.sigs[key] = _decode(data["signature"])
        state.originals[key] = data["duplicate_of"]
        state.lsh.insert(key, state.sigs[key])
    return state


class DedupStage:
    """Marks near-copies of earlier articles (``duplicate_of``)."""

    name: ClassVar[str] = "dedup"
    version: ClassVar[str] = VERSION
    requires: ClassVar[frozenset[str]] = frozenset({"articles"})
    assigns: ClassVar[frozenset[str]] = frozenset({"duplicates"})

    def run(self, ctx: Context) -> dict[str, Any]:
        """Process articles without a current dedup record, in publication order."""
        store, cfg = ctx.store, ctx.config
        if ctx.force:
            store.delete_records(KIND)
            store.set_meta(TOKEN_KEY, "")
        state = _load_state(store, min(LSH_THRESHOLD, cfg.dedup_threshold))
        lsh, sigs, originals = state.lsh, state.sigs, state.originals
        todo_ids = [a for a in store.article_ids() if a not in sigs]
        if not todo_ids:
            return {"processed": 0, "duplicates": 0}
        # the state is changed in place below: forget it unless the transaction commits
        _STATES.pop(store, None)
        todo = store.articles(todo_ids)
        found = 0
        with store.transaction():
            for art in ctx.progress(todo, total=len(todo), desc="dedup"):
                m = signature(art, cfg.dedup_shingle)
                best, best_sim = None, 0.0
                for cand in lsh.query(m):
                    sim = m.jaccard(sigs[cand])
                    if sim >= cfg.dedup_threshold and sim > best_sim:
                        best, best_sim = cand, sim
                original = None
                if best is not None:
                    original = originals.get(best) or best
                    found += 1
                    first = store.get_article(original)
                    if published_before(art, first) or (credits(art, first) and not credits(first, art)):
                        # the stored article is the copy (a backfilled earlier article, or one crediting
                        # the new one's outlet): the new one becomes the group's original
                        moved = [k for k, o in originals.items() if o == original] + [original]
                        for k in moved:
                            data = store.get_record(KIND, k)
                            if data is not None:
                                rec = dict(data[1], duplicate_of=art.id)
                                if k == original:
                                    rec["similarity"] = round(best_sim, 4)
                                store.put_record(KIND, k, VERSION, rec)
                            originals[k] = art.id
                        original, best_sim = None, 0.0
                store.put_record(
                    KIND,
                    art.id,
                    VERSION,
                    {"duplicate_of": original, "similarity": round(best_sim, 4), "signature": _encode(m)},
                )
                sigs[art.id] = m
                originals[art.id] = original
                lsh.insert(art.id, m)
            token = uuid.uuid4().hex
            store.set_meta(TOKEN_KEY, token)
        _STATES[store] = (token, state)
        return {"processed": len(todo), "duplicates": found}


def published_before(article: Article, other: Article) -> bool:
    """True when both are dated and ``article`` was published first (an incremental run can add it later)."""
    return article.published is not None and other.published is not None and article.published < other.published


def credits(article: Article, copy: Article) -> bool:
    """True when ``copy`` credits ``article``'s outlet (in its dateline, relay credits or text) on the same day.

    Only decides between copies published the same day (or undated): otherwise
    the earlier one is the original.
    """
    if not article.outlet:
        return False
    if article.published and copy.published and article.published != copy.published:
        return False
    needle = fold(article.outlet)
    if copy.outlet and fold(copy.outlet) == needle:
        return False
    lines = [s.text for s in copy.stripped if s.kind in ("dateline", "relay_credit")]
    return any(needle in fold(t) for t in lines) or f"({needle})" in fold(copy.text[:400])


def duplicates(store: Any) -> dict[str, str | None]:
    """article id -> id of the original it copies (None for originals)."""
    return {k: d["duplicate_of"] for k, _v, d in store.records(KIND)}
