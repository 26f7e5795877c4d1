"""Eval gates: every metric in evals/floors/*.json must stay at or above its floor.

Like trafilatura's F1 floors: the floors sit at the level reached, so a change
that makes a capability worse fails CI. Each file names the evaluation module
(``storydesk.eval.<file stem>``), the arguments of its ``evaluate()`` and the
floors as dotted paths into the returned dict.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path
from typing import Any

import pytest

FLOORS = sorted((Path(__file__).resolve().parents[1] / "evals" / "floors").glob("*.json"))

pytestmark = [pytest.mark.datasets, pytest.mark.slow]


def dig(d: dict[str, Any], path: str) -> float:
    for part in path.split("."):
        d = d[part]
    return float(d)  # type: ignore[arg-type]


@pytest.mark.parametrize("floor_file", FLOORS, ids=[f.stem for f in FLOORS])
def test_metric_floors(floor_file: Path, datasets_dir: Path) -> None:
    spec = json.loads(floor_file.read_text())
    module = importlib.import_module(f"storydesk.eval.{floor_file.stem}")
    result = module.evaluate(**spec.get("args", {}))
    below = {k: (dig(result, k), v) for k, v in spec["floors"].items() if dig(result, k) < v}
    assert not below, f"{floor_file.stem}: metric below floor (got, floor): {below}"


def test_every_eval_has_floors() -> None:
    from storydesk.eval import EVALS

    have = {f.stem for f in FLOORS}
    missing = [name for name, mod in EVALS.items() if importlib.util.find_spec(mod) and name not in have]
    assert not missing, f"evaluations without floors: {missing}"
