"""End to end on PostgreSQL: the same story as on SQLite, and every CLI command.

These drive the pipeline, the library API and the CLI; they need the pipeline
ported to the store interface of :mod:`storydesk.store.base` (the store's own
contract tests are in test_store.py and test_store_postgres.py). The server comes
from the ``pg_server`` fixture in conftest.py.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from conftest import write
from storydesk.api import Storydesk
from storydesk.embed import HashingEmbedder
from storydesk.store import Store

# --------------------------------------------------------------------------- end to end
CORPUS = {
    "lorven_post_tram.txt": (
        " date 2025-02-04\nLorven council approves tram line\n\n"
        "The council of Lorven approved the new tram line on Tuesday after a long debate, the Lorven Post reported. "
        "The line will cost 40 million crowns, the finance office said.\n\n"
        '"This tram will change the city," Mayor Ilsa Varn told reporters.\n\n'
        "Opposition members walked out before the vote on the tram line."
    ),
    "harbor_ledger_tram.txt": (
        " date 2025-02-04\nTram line wins council vote in Lorven\n\n"
        "Lorven's council voted for the tram line on Tuesday, the Harbor Ledger reported. "
        "The project will cost 45 million crowns, according to opposition figures.\n\n"
        '"This tram will change the city," Mayor Ilsa Varn said after the vote.\n\n'
        "Construction of the tram line is due to start in the spring."
    ),
    "north_wire_tram.txt": (
        " date 2025-02-05\nLorven tram approved\n\n"
        "The Lorven council on Tuesday approved a tram line, North Wire reported. "
        "Opposition members walked out before the vote.\n\n"
        "Construction is due to start in the spring, the mayor's office said."
    ),
    "lorven_post_ferry.txt": (
        " date 2025-03-10\nFerry strike halts crossings to Aurlen\n\n"
        "Ferry crews in Lorven went on strike on Monday, halting all crossings to Aurlen island, "
        "the Lorven Post reported. "
        "About 300 crew members joined the strike, the union said.\n\n"
        '"We will stay out until the company listens," union leader Tomas Brek said.'
    ),
    "harbor_ledger_ferry.txt": (
        " date 2025-03-10\nStrike stops Aurlen ferries\n\n"
        "No ferries sailed between Lorven and Aurlen island on Monday as crews went on strike, "
        "the Harbor Ledger reported. "
        "About 250 crew members joined the strike, the ferry company said.\n\n"
        '"We will stay out until the company listens," union leader Tomas Brek told the Harbor Ledger.'
    ),
}


def _corpus(tmp_path: Path) -> Path:
    d = tmp_path / "in"
    for name, text in CORPUS.items():
        write(d / name, text)
    write(d / "bad.bin", b"\x00\x01\x02" * 100)
    return d


def _comparable(doc: dict[str, Any]) -> dict[str, Any]:
    """A story document without what legitimately differs between two runs (timestamps)."""
    doc = json.loads(json.dumps(doc))
    doc["storydesk"].pop("generated")
    for r in doc["rejections"]:
        r.pop("at", None)
    return doc


def _build(db: str | Store, corpus: Path) -> tuple[dict[str, Any], Storydesk]:
    sd = Storydesk(db, embedder=HashingEmbedder(256))
    report = sd.ingest([corpus])
    assert len(report.added) == len(CORPUS) and [r.code for r in report.rejected] == ["binary"]
    sd.build()
    return sd.story(), sd


def test_end_to_end_postgres_story_equals_sqlite(tmp_path: Path, pg_url: str):
    corpus = _corpus(tmp_path)
    lite_doc, lite = _build(tmp_path / "e2e.db", corpus)
    pg_doc, pg = _build(pg_url, corpus)
    try:
        assert len(pg_doc["events"]) >= 2 and any(e["claims"] for e in pg_doc["events"])
        assert pg_doc["events"] == lite_doc["events"]
        assert _comparable(pg_doc) == _comparable(lite_doc)
        # Incremental on PostgreSQL too: re-ingesting adds nothing, a rebuild changes nothing.
        again = pg.ingest([corpus / name for name in CORPUS])
        assert not again.added and len(again.skipped) == len(CORPUS)
        pg.build()
        assert _comparable(pg.story()) == _comparable(pg_doc)
        # The browsing helpers agree as well.
        assert pg.store.storylines() == lite.store.storylines()
        if hasattr(Store, "event_overview"):
            assert pg.store.event_overview() == lite.store.event_overview()
        hits = lite.store.search_articles("tram")
        assert sorted(pg.store.search_articles("tram")) == sorted(hits) and len(hits) == 3
    finally:
        lite.close()
        pg.close()


def test_every_cli_command_works_on_postgres(tmp_path: Path, pg_url: str):
    run: Callable[..., Any] = CliRunner().invoke
    from storydesk.cli import EXIT_REJECTED, main

    out = tmp_path / "s.json"
    res = run(main, ["run", str(_corpus(tmp_path)), "--db", pg_url, "--json", str(out), "--embedder", "hashing", "-q"])
    assert res.exit_code == EXIT_REJECTED, res.output
    doc = json.loads(out.read_text())
    assert len(doc["articles"]) == len(CORPUS) and len(doc["rejections"]) == 1
    res = run(main, ["ingest", str(tmp_path / "in" / "north_wire_tram.txt"), "--db", pg_url])
    assert res.exit_code == 0 and "0 new article(s), 0 updated, 1 already stored" in res.output
    res = run(main, ["build", "--db", pg_url, "--embedder", "hashing", "--stage", "summarize", "-q"])
    assert res.exit_code == 0, res.output
    res = run(main, ["export", "--db", pg_url, "--json", "-"])
    assert res.exit_code == 0 and json.loads(res.output)["events"] == doc["events"]
    shown = run(main, ["show", "--db", pg_url])
    assert shown.exit_code == 0 and "tram" in shown.output.lower()
    event_id = doc["events"][0]["id"]
    assert event_id in run(main, ["show", event_id, "--db", pg_url]).output
    assert "[binary]" in run(main, ["show", "rejections", "--db", pg_url]).output
    stages = run(main, ["show", "stages", "--db", pg_url]).output
    assert "dedup" in stages and "never run" not in stages
    bad = run(main, ["show", "--db", "postgresql://ann:pw123secret@127.0.0.1:1/x?connect_timeout=3"])
    assert bad.exit_code == 1 and "cannot connect to PostgreSQL" in bad.output and "pw123secret" not in bad.output
