"""The shells (CLI, REST API, web UI) are thin: each command and endpoint is one call of ``storydesk.api``.

Checked statically, like httpx checks its exact ``__all__``: ``cli.py`` and ``web/*.py``
import nothing of storydesk but the library API, the errors, the config, ``__version__``
and the web package itself, and never reach for the store or the pipeline through a desk.
"""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import storydesk.api as api

PKG = Path(api.__file__).resolve().parent
SHELLS = [PKG / "cli.py", *sorted((PKG / "web").glob("*.py"))]

#: What a shell may import from storydesk.
ALLOWED = {"storydesk.api", "storydesk.errors", "storydesk.config"}
#: ``from storydesk import NAME`` allowed for these names only.
ALLOWED_FROM_PACKAGE = {"__version__"}
#: The one exception: ``storydesk eval NAME`` loads evaluation commands, which measure the
#: library on data sets (``storydesk/eval/``); they are their own click commands, not a shell.
EVAL_REGISTRY = "storydesk.eval"
#: Attributes of a desk that belong to the library's insides.
PRIVATE_ATTRIBUTES = {"store", "_store", "runner", "pipeline", "models"}


def shell_imports(path: Path) -> list[tuple[int, str, str | None]]:
    """``(line, module, name)`` of every import in a file (at any depth), and of ``import_module("...")`` calls."""
    out: list[tuple[int, str, str | None]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name, None) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}:{node.lineno}: relative import"
            out += [(node.lineno, node.module or "", a.name) for a in node.names]
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
        ):
            out.append((node.lineno, str(node.args[0].value), None))
    return out


def test_shells_are_the_files_we_think():
    assert {p.name for p in SHELLS} >= {"cli.py", "app.py", "api_routes.py", "pages.py", "state.py", "jobs.py"}


@pytest.mark.parametrize("path", SHELLS, ids=lambda p: p.name)
def test_shells_import_only_the_library_api(path):
    bad = []
    for line, module, name in shell_imports(path):
        if module != "storydesk" and not module.startswith("storydesk."):
            continue  # the standard library and third-party packages
        if module == "storydesk":
            ok = name in ALLOWED_FROM_PACKAGE
        elif module == "storydesk.web" or module.startswith("storydesk.web."):
            ok = True
        elif module == EVAL_REGISTRY:
            ok = path.name == "cli.py"
        else:
            ok = module in ALLOWED
        if not ok:
            bad.append(f"{path.name}:{line}: {module}" + (f".{name}" if name else ""))
    assert not bad, "shells must go through storydesk.api:\n" + "\n".join(bad)


@pytest.mark.parametrize("path", SHELLS, ids=lambda p: p.name)
def test_shells_never_reach_into_a_desk(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    bad = [
        f"{path.name}:{node.lineno}: .{node.attr}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in PRIVATE_ATTRIBUTES
    ]
    assert not bad, "use a Storydesk method instead:\n" + "\n".join(bad)


def test_the_checks_would_catch_a_shell_that_reaches_past_the_api(tmp_path):
    sneaky = tmp_path / "sneaky.py"
    sneaky.write_text(
        "from storydesk.store import open_store\nimport storydesk.pipeline\n"
        "def f(sd):\n    from storydesk.ingest import ingest\n    return sd.store.article_count()\n"
        "importlib.import_module('storydesk.export')\n",
        encoding="utf-8",
    )
    modules = [m for _line, m, _n in shell_imports(sneaky)]
    assert modules == ["storydesk.store", "storydesk.pipeline", "storydesk.ingest", "storydesk.export"]
    with pytest.raises(AssertionError, match=r"storydesk\.store"):
        test_shells_import_only_the_library_api(sneaky)
    with pytest.raises(AssertionError, match=r"\.store"):
        test_shells_never_reach_into_a_desk(sneaky)


# --------------------------------------------------------------------------- the API's surface

EXPECTED_ALL = [
    "MAX_FILE_BYTES",
    "MAX_JSON_DEPTH",
    "MAX_PAGE",
    "ORDERS",
    "PHASES",
    "SEARCH_LIMIT",
    "Counts",
    "Embedder",
    "IngestReport",
    "PhaseStatus",
    "Rejection",
    "StageInfo",
    "Storydesk",
    "database_exists",
    "describe_stages",
    "load_spark_output",
    "parse_json",
    "safe_url",
    "spark_available",
    "spark_run",
]


def test_api_all_is_exactly_the_public_surface():
    assert api.__all__ == EXPECTED_ALL
    for name in api.__all__:
        assert hasattr(api, name), name
    # everything public that the module defines itself is exported (nothing public hides beside __all__)
    defined = {
        name
        for name, obj in vars(api).items()
        if not name.startswith("_")
        and (inspect.isclass(obj) or inspect.isfunction(obj))
        and getattr(obj, "__module__", None) == api.__name__
    }
    assert defined <= set(api.__all__), defined - set(api.__all__)
    star: dict[str, object] = {}
    exec("from storydesk.api import *", star)
    assert sorted(k for k in star if k != "__builtins__") == sorted(EXPECTED_ALL)
