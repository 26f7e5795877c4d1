import json

import pytest
from click.testing import CliRunner

from conftest import write
from storydesk.cli import EXIT_REJECTED, main

COMMANDS = ["run", "ingest", "build", "export", "show", "stages", "eval", "serve"]


@pytest.mark.parametrize("cmd", [[], *[[c] for c in COMMANDS]])
def test_help_everywhere(cmd):
    res = CliRunner().invoke(main, [*cmd, "--help"])
    assert res.exit_code == 0
    assert "Usage:" in res.output


def corpus(tmp_path):
    d = tmp_path / "in"
    for i, (outlet, day) in enumerate([("Lorven Post", "Tuesday"), ("Harbor Ledger", "Tuesday")]):
        write(
            d / f"{i}.txt",
            f" date 2025-02-04 The council of Lorven approved the new tram line on {day} after a long debate, "
            f"{outlet} reported.\n\nOpposition members walked out before the vote on the tram line.\n\n"
            "Construction of the tram line is due to start in the spring, the mayor said.",
        )
    write(d / "bad.bin", b"\x00\x01\x02" * 100)
    return d


def test_run_exports_and_exit_code_reports_rejections(tmp_path):
    db, out, html = tmp_path / "s.db", tmp_path / "s.json", tmp_path / "s.html"
    res = CliRunner().invoke(
        main,
        [
            "run",
            str(corpus(tmp_path)),
            "--db",
            str(db),
            "--json",
            str(out),
            "--html",
            str(html),
            "--embedder",
            "hashing",
            "-q",
        ],
    )
    assert res.exit_code == EXIT_REJECTED, res.output
    assert "bad.bin: [binary]" in res.output
    doc = json.loads(out.read_text())
    assert len(doc["articles"]) == 2 and len(doc["rejections"]) == 1
    assert "<html" in html.read_text()
    shown = CliRunner().invoke(main, ["show", "--db", str(db)])
    assert shown.exit_code == 0 and "tram" in shown.output.lower()
    rej = CliRunner().invoke(main, ["show", "rejections", "--db", str(db)])
    assert "binary" in rej.output
    stages = CliRunner().invoke(main, ["show", "stages", "--db", str(db)])
    assert "dedup" in stages.output and "never run" not in stages.output


def test_clear_errors(tmp_path):
    res = CliRunner().invoke(main, ["export", "--db", str(tmp_path / "none.db"), "--json", "x.json"])
    assert res.exit_code == 2 and "no database" in res.output
    res = CliRunner().invoke(main, ["ingest", str(tmp_path / "missing")])
    assert res.exit_code == 2
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"not a database" * 200)
    res = CliRunner().invoke(main, ["build", "--db", str(bad)])
    assert res.exit_code == 1 and "error:" in res.output
    res = CliRunner().invoke(main, ["build", "--db", str(tmp_path / "n.db"), "--stage", "nope"])
    assert res.exit_code == 1 and "unknown stage" in res.output


def test_show_rejections_prints_names_safely_and_groups_them_per_file(tmp_path):
    d = tmp_path / "in"
    write(d / "evil\nrejected fake.txt: [binary] forged\x1b[2J.txt", b"\x00\x01" * 50)
    good = {"id": "g", "title": "Tram", "text": "The council met on Tuesday."}
    write(d / "a.jsonl", "\n".join([json.dumps(good), "{broken", json.dumps({**good, "id": "n", "published": "x"})]))
    db = tmp_path / "s.db"
    res = CliRunner().invoke(main, ["ingest", str(d), "--db", str(db), "-q"])
    assert res.exit_code == EXIT_REJECTED
    assert "\x1b" not in res.output and "\\nrejected fake.txt" in res.output
    out = CliRunner().invoke(main, ["show", "rejections", "--db", str(db)]).output
    lines = out.splitlines()
    assert lines[0] == "3 rejected input(s) in 2 file(s)"
    assert not any(ln.startswith("rejected fake.txt") for ln in lines)  # no forged line
    assert "evil\\nrejected fake.txt: [binary] forged\\x1b[2J.txt  [binary]" in out
    i = lines.index("a.jsonl  (2 rejected)")
    assert lines[i + 1].startswith("  :2  [json] malformed JSON")
    assert lines[i + 2].startswith("  :3  [date] published date 'x' is not a date")
