"""Where the evaluation data sets live (``../shared/datasets`` beside the checkout).

Evaluations, benchmarks and the training scripts read them; nothing at run time does.
"""

from __future__ import annotations

import os
from pathlib import Path

from storydesk.errors import EvalError


def datasets_dir() -> Path:
    """Where the evaluation data sets live: $STORYDESK_DATASETS, else ../shared/datasets.

    The default is resolved against the current directory and then against the
    checkout this package was installed from, so it works from any folder.
    """
    env = os.environ.get("STORYDESK_DATASETS")
    if env:
        return Path(env)
    candidates = [Path.cwd() / ".." / "shared" / "datasets"]
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidates.append(parent / ".." / "shared" / "datasets")
    for c in candidates:
        if c.is_dir():
            return c.resolve()
    raise EvalError(
        "evaluation data sets not found: put ../shared/datasets beside the checkout or set STORYDESK_DATASETS"
    )


def dataset_path(name: str) -> Path:
    """Path of one data set folder, with a clear error when it is missing."""
    p = datasets_dir() / name
    if not p.is_dir():
        raise EvalError(f"data set {name!r} not found at {p}")
    return p
