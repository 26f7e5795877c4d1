"""Shared fixtures: data locations, a deterministic fake embedder, fresh databases."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from storydesk.embed import HashingEmbedder

ROOT = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("STORYDESK_SHARED", ROOT.parent / "shared"))
SEEDS = SHARED / "fixtures" / "seeds"
DATASETS = SHARED / "datasets"
DEMO = ROOT / "examples" / "demo"
DEMO_ANSWERS = ROOT / "examples" / "demo-answers.json"


@pytest.fixture
def fake_embedder() -> HashingEmbedder:
    """Deterministic embedder: unit tests need no model."""
    return HashingEmbedder(256)


@pytest.fixture
def seeds_dir() -> Path:
    """The seed articles beside the checkout (skip when ../shared is absent)."""
    if not SEEDS.is_dir():
        pytest.skip("../shared/fixtures/seeds not found")
    return SEEDS


@pytest.fixture
def seeds_gold(seeds_dir: Path) -> dict:
    """gold.json of the seeds."""
    return json.loads((seeds_dir / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture
def datasets_dir() -> Path:
    """../shared/datasets (skip when absent)."""
    if not DATASETS.is_dir():
        pytest.skip("../shared/datasets not found")
    return DATASETS


def write(path: Path, content: str | bytes) -> Path:
    """Write text or bytes, creating parents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path
