"""Near-duplicate detection: the corpus step's MinHash LSH index over article signatures.

A syndicated copy (the same wire story with a new headline or a few words
changed) points at its original through ``duplicate_of`` and keeps its own
outlet. The original is the earliest published article of the group; between
copies of the same day, the one whose outlet the other credits ("SABREL, March
18 (Greyline Wire) –") is the original. The Jaccard threshold
(``Config.dedup_threshold``, default 0.6 on 4-word shingles) is documented with
its measurement in docs/clustering.md. Candidates come from an LSH index built
for a lower Jaccard (:data:`LSH_THRESHOLD`), so pairs just above the threshold
are not lost to banding; each candidate is then checked against the threshold.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from storydesk.article.signature import NUM_PERM, SCHEME, SEED
from storydesk.models import Article
from storydesk.textutil import fold

VERSION = "dedup-4"
#: Jaccard the LSH banding is tuned for: below the decision threshold, so near-threshold pairs are candidates.
LSH_THRESHOLD = 0.4

#: What dedup decides for one article: ``{"duplicate_of": id or None, "similarity": float}``.
Decision = dict[str, Any]


def _lean(sig: np.ndarray) -> LeanMinHash:
    """A stored signature as a datasketch MinHash (only compared, never updated)."""
    return LeanMinHash(seed=SEED, hashvalues=np.asarray(sig, dtype=np.uint64), scheme=SCHEME)


class DedupIndex:
    """The LSH index, signatures and decisions of every article seen so far.

    Args:
        threshold: Jaccard estimate at or above which an article is a near-copy.
    """

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self.lsh = MinHashLSH(threshold=min(LSH_THRESHOLD, threshold), num_perm=NUM_PERM)
        self.sigs: dict[str, LeanMinHash] = {}
        self.decisions: dict[str, Decision] = {}

    def __contains__(self, article_id: str) -> bool:
        return article_id in self.sigs

    def __len__(self) -> int:
        return len(self.sigs)

    def load(self, article_id: str, sig: np.ndarray, decision: Decision) -> None:
        """Register an article decided in an earlier build."""
        m = _lean(sig)
        self.sigs[article_id] = m
        self.decisions[article_id] = dict(decision)
        self.lsh.insert(article_id, m)

    def add(self, article: Article, sig: np.ndarray, lookup: Callable[[str], Article]) -> dict[str, Decision]:
        """Decide whether a new article copies an earlier one.

        Args:
            article: The new article.
            sig: Its signature.
            lookup: Reads a stored article (the original, to compare dates and credits).

        Returns:
            The decisions that changed: the new article's, and those of a group whose
            original the new article turns out to be (a backfilled earlier article, or
            one crediting the new one's outlet).
        """
        m = _lean(sig)
        best, best_sim = None, 0.0
        for cand in self.lsh.query(m):
            sim = m.jaccard(self.sigs[cand])
            if sim >= self.threshold and (sim > best_sim or (sim == best_sim and best is not None and cand < best)):
                best, best_sim = cand, sim
        changed: dict[str, Decision] = {}
        original: str | None = None
        if best is not None:
            original = self.decisions[best]["duplicate_of"] or best
            first = lookup(original)
            if published_before(article, first) or (credits(article, first) and not credits(first, article)):
                # the stored article is the copy: the new one becomes the group's original
                for k, d in self.decisions.items():
                    if d["duplicate_of"] == original or k == original:
                        sim = round(best_sim, 4) if k == original else d["similarity"]
                        changed[k] = {"duplicate_of": article.id, "similarity": sim}
                original, best_sim = None, 0.0
        own = {"duplicate_of": original, "similarity": round(best_sim, 4)}
        changed[article.id] = own
        self.decisions.update(changed)
        self.sigs[article.id] = m
        self.lsh.insert(article.id, m)
        return changed


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
