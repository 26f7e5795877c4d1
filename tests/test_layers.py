"""Each layer of the package imports only the layers below it (docs/architecture.md).

Read from the source (every ``import`` and ``from ... import``, including the ones
inside functions), so a cycle or an upward import fails here before it confuses a
reader or a worker process.
"""

from __future__ import annotations

import ast
from pathlib import Path

PKG = Path(__file__).resolve().parents[1] / "src" / "storydesk"

#: Layer of each top-level module or package of storydesk, lowest first.
LAYERS: dict[str, int] = {
    # records
    "models": 0,
    "errors": 0,
    "config": 0,
    "textutil": 0,
    "artifacts": 0,
    "datasets": 0,
    # models
    "nlp": 1,
    "attribute_table": 1,
    "embed": 1,
    "timex": 1,
    # the article map (attribution is one of its stages)
    "article": 2,
    "attribution": 2,
    # the corpus step
    "corpus": 3,
    # the event map
    "event": 4,
    # the store
    "store": 5,
    # the runner
    "pipeline": 6,
    # ingest, and the same pipeline on Spark (it reads input files on executors)
    "ingest": 7,
    "clean": 7,
    "spark": 7,
    # what the shells call
    "export": 8,
    "report": 8,
    "api": 8,
    "eval": 8,
    # the shells
    "cli": 9,
    "web": 9,
}


def _unit(path: Path) -> str:
    """The top-level module or package a file belongs to."""
    return path.relative_to(PKG).parts[0].removesuffix(".py")


def _imports(path: Path) -> set[str]:
    """Top-level storydesk units a file imports."""
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            parts = node.module.split(".")
            if parts[0] == "storydesk":
                if len(parts) > 1:
                    out.add(parts[1])
                else:  # from storydesk import x
                    out.update(a.name for a in node.names)
        elif isinstance(node, ast.Import):
            for a in node.names:
                parts = a.name.split(".")
                if parts[0] == "storydesk" and len(parts) > 1:
                    out.add(parts[1])
    return out


def test_every_module_has_a_layer() -> None:
    units = {_unit(p) for p in PKG.rglob("*.py") if _unit(p) != "__init__"}
    assert units <= set(LAYERS), f"modules without a layer: {sorted(units - set(LAYERS))}"


def test_layers_import_only_downwards() -> None:
    upward = []
    for path in sorted(PKG.rglob("*.py")):
        unit = _unit(path)
        if unit == "__init__":
            continue
        for imported in _imports(path):
            if imported in ("__version__", "__init__"):
                continue
            if LAYERS.get(imported, -1) > LAYERS[unit]:
                upward.append(f"{path.relative_to(PKG)} imports {imported}")
    assert not upward, "imports from a higher layer:\n" + "\n".join(upward)


def test_no_stage_reads_the_store() -> None:
    """The maps are pure: the article and event stages never import the store or the runner."""
    offenders = [
        f"{p.relative_to(PKG)} imports {i}"
        for unit in ("article", "corpus", "event", "attribution")
        for p in (PKG / unit).rglob("*.py")
        for i in _imports(p)
        if i in ("store", "pipeline", "api")
    ]
    assert not offenders, offenders
