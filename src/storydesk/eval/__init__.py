"""Evaluation commands: each measures one capability on ../shared/datasets.

Every evaluation module defines a click command named ``command`` and is listed
in :data:`EVALS`; ``storydesk eval <name>`` imports it lazily so the CLI starts
fast. Each prints its metric next to the published anchor figure.
"""

from __future__ import annotations

from storydesk.datasets import dataset_path, datasets_dir

__all__ = ["EVALS", "dataset_path", "datasets_dir"]

#: eval name -> module defining ``command``
EVALS: dict[str, str] = {
    "cluster": "storydesk.eval.cluster",
    "dates": "storydesk.eval.dates",
    "timeline": "storydesk.eval.timeline",
    "quotes": "storydesk.eval.quotes",
    "summary": "storydesk.eval.summary",
    "seeds": "storydesk.eval.seeds",
}
