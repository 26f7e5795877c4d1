"""Near-duplicate signature of one article: MinHash over word shingles of its title and body.

A pure function of the article (the article map); the corpus step
(:mod:`storydesk.corpus.dedup`) compares signatures through an LSH index.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from datasketch import MinHash

from storydesk.models import Article
from storydesk.textutil import fold, words

NUM_PERM = 128
#: datasketch permutation scheme (32-bit values, so signatures store as uint32).
SCHEME = "affine32"
SEED = 7


def shingles(text: str, k: int) -> set[bytes]:
    """Word k-shingles of folded text (the whole text when it is shorter than k words)."""
    toks = words(fold(text))
    if len(toks) < k:
        return {" ".join(toks).encode()} if toks else set()
    return {" ".join(toks[i : i + k]).encode() for i in range(len(toks) - k + 1)}


@lru_cache(maxsize=1)
def _permutations() -> np.ndarray:
    """The permutation parameters of seed 7, drawn once (drawing them costs ~0.5 ms a signature)."""
    perms: np.ndarray = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME).permutations
    return perms


def minhash(article: Article, k: int) -> MinHash:
    """MinHash of an article's title and body."""
    m = MinHash(num_perm=NUM_PERM, seed=SEED, scheme=SCHEME, permutations=_permutations())
    sh = shingles(f"{article.title or ''}\n{article.text}", k)
    if sh:
        m.update_batch(list(sh))
    return m


def signature(article: Article, k: int) -> np.ndarray:
    """The article's MinHash values as ``uint32[NUM_PERM]`` (what the store keeps)."""
    return minhash(article, k).hashvalues.astype(np.uint32)
