from typing import Any

import pytest

from storydesk.api import Storydesk, default_stages
from storydesk.errors import MissingInputError, PipelineError
from storydesk.pipeline import Context, Pipeline, check_order


class Fake:
    def __init__(self, name: str, requires: set[str], assigns: set[str]) -> None:
        self.name, self.requires, self.assigns = name, frozenset(requires), frozenset(assigns)
        self.version = "1"
        self.ran = 0

    def run(self, ctx: Context) -> dict[str, Any]:
        self.ran += 1
        return {}


def test_default_pipeline_is_consistent():
    check_order(default_stages())


def test_missing_requirement_is_refused_when_built():
    with pytest.raises(MissingInputError, match=r"requires x"):
        Pipeline([Fake("a", {"articles"}, {"y"}), Fake("b", {"x"}, {"z"})])


def test_duplicate_stage_names_refused():
    with pytest.raises(PipelineError):
        Pipeline([Fake("a", set(), {"y"}), Fake("a", set(), {"z"})])


def test_partial_run_needs_stored_inputs(tmp_path):
    a, b = Fake("a", {"articles"}, {"x"}), Fake("b", {"x"}, {"y"})
    with Storydesk(tmp_path / "p.db", stages=[a, b]) as sd:
        with pytest.raises(MissingInputError):
            sd.build(["b"])  # nothing has produced x yet
        sd.build()
        sd.build(["b"])  # now x exists from a's stored run
        assert (a.ran, b.ran) == (1, 2)
        with pytest.raises(PipelineError, match="unknown stage"):
            sd.build(["nope"])
