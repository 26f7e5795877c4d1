"""``storydesk eval dates``: the temporal tagger on the TempEval-3 platinum test set.

The tagger reads each ``TE3-platinum-test/*.tml.TE3input`` (its ``<DCT>`` and
``<TEXT>``), the tagged TimeML files go to a temporary folder, and the data set's own
scorer (``te3_timex_eval.py``, TempEval-3 Task A timex metrics) is run on them as a
subprocess. The headline figure is value F1 (TempEval-3's ranking metric), printed
next to the published HeidelTime result on the same files.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape, quoteattr

import click

from storydesk.errors import EvalError
from storydesk.eval import dataset_path
from storydesk.timex import Timex, sentence_spans, tag

#: HeidelTime-t, TempEval-3 Task A on the platinum test set (UzZaman et al. 2013, Table 3).
ANCHOR_NAME = "HeidelTime value F1"
ANCHOR_VALUE_F1 = 77.61

_DCT_RE = re.compile(r"<DCT>.*?value=\"(\d{4}-\d{2}-\d{2})", re.S)
_TEXT_RE = re.compile(r"<TEXT>(.*?)</TEXT>", re.S)
_METRIC_RES = {
    "strict": re.compile(r"^strict\s+P ([\d.]+)\s+R ([\d.]+)\s+F1 ([\d.]+)", re.M),
    "relaxed": re.compile(r"^relaxed\s+P ([\d.]+)\s+R ([\d.]+)\s+F1 ([\d.]+)", re.M),
    "value": re.compile(r"^value\s+accuracy ([\d.]+)\s+P ([\d.]+)\s+R ([\d.]+)\s+F1 ([\d.]+)", re.M),
    "type": re.compile(r"^type\s+accuracy ([\d.]+)\s+P ([\d.]+)\s+R ([\d.]+)\s+F1 ([\d.]+)", re.M),
}
_COUNTS_RE = re.compile(r"gold TIMEX3: (\d+)\s+system TIMEX3: (\d+)\s+relaxed matches: (\d+)\s+strict matches: (\d+)")


def to_timeml(body: str, timexes: list[Timex]) -> str:
    """Insert ``<TIMEX3>`` tags into the plain ``<TEXT>`` content.

    Args:
        body: The plain text the expressions were found in.
        timexes: Non-overlapping expressions in text order.

    Returns:
        The XML-escaped text with one TIMEX3 element per expression.
    """
    out: list[str] = []
    pos = 0
    for i, t in enumerate(timexes, start=1):
        out.append(escape(body[pos : t.start]))
        attrs = f'tid="t{i}" type={quoteattr(t.type)} value={quoteattr(t.value)}'
        if t.mod:
            attrs += f" mod={quoteattr(t.mod)}"
        out.append(f"<TIMEX3 {attrs}>{escape(t.text)}</TIMEX3>")
        pos = t.end
    out.append(escape(body[pos:]))
    return "".join(out)


def _parse_scorer(output: str) -> dict[str, Any]:
    res: dict[str, Any] = {}
    m = _COUNTS_RE.search(output)
    if m is None:
        raise EvalError(f"cannot read the scorer output:\n{output}")
    res["gold"], res["system"], res["relaxed_matches"], res["strict_matches"] = (int(x) for x in m.groups())
    for name, rx in _METRIC_RES.items():
        mm = rx.search(output)
        if mm is None:
            raise EvalError(f"scorer output lacks the {name} line:\n{output}")
        vals = [float(x) for x in mm.groups()]
        if name in ("strict", "relaxed"):
            res[name] = {"p": vals[0], "r": vals[1], "f1": vals[2]}
        else:
            res[name] = {"accuracy": vals[0], "p": vals[1], "r": vals[2], "f1": vals[3]}
    return res


def evaluate(dataset_dir: Path | None = None, verbose: bool = False) -> dict[str, Any]:
    """Tag the TempEval-3 platinum inputs and score them with the data set's scorer.

    Args:
        dataset_dir: The ``tempeval3`` folder (holding ``data/`` and ``te3_timex_eval.py``);
            default ``../shared/datasets/tempeval3``.
        verbose: Also return the scorer's list of value errors.

    Returns:
        A dict with ``value_f1``, ``relaxed``/``strict`` (p, r, f1), ``type_f1``, the
        raw scorer figures, counts, ``sentences_per_s`` (wall clock),
        ``sentences_per_cpu_s`` (per CPU-second of this process) and the anchor figure.

    Raises:
        EvalError: When the data set or its scorer is missing or its output unreadable.
    """
    if dataset_dir is None:
        dataset_dir = dataset_path("tempeval3")
    inputs_dir = dataset_dir / "data" / "TE3-platinum-test"
    gold_dir = dataset_dir / "data" / "te3-platinum"
    scorer = dataset_dir / "te3_timex_eval.py"
    inputs = sorted(inputs_dir.glob("*.tml.TE3input"))
    if not inputs or not gold_dir.is_dir() or not scorer.is_file():
        raise EvalError(f"TempEval-3 inputs, gold or scorer missing under {dataset_dir}")

    docs: list[tuple[Path, str, re.Match[str], str, dt.date | None]] = []
    for path in inputs:
        raw = path.read_text(encoding="utf-8")
        tm = _TEXT_RE.search(raw)
        if tm is None:
            raise EvalError(f"{path.name}: no <TEXT>")
        dm = _DCT_RE.search(raw)
        dct = dt.date.fromisoformat(dm.group(1)) if dm else None
        docs.append((path, raw, tm, html.unescape(tm.group(1)), dct))

    n_sent = sum(len(sentence_spans(body)) for *_, body, _ in docs)
    tagged = [tag(body, dct) for *_, body, dct in docs]
    # Throughput: repeat the whole set until a second has passed so the figure is stable.
    reps, t0, c0 = 0, time.perf_counter(), time.process_time()
    while True:
        for *_, body, dct in docs:
            tag(body, dct)
        reps += 1
        elapsed = time.perf_counter() - t0
        if elapsed >= 1.0:
            break
    # CPU time of this process: what the tagger costs, whatever else runs on the machine
    cpu = max(time.process_time() - c0, 1e-9)

    with tempfile.TemporaryDirectory(prefix="storydesk-te3-") as tmp:
        out_dir = Path(tmp)
        for (path, raw, tm, body, _), timexes in zip(docs, tagged, strict=True):
            out = raw[: tm.start(1)] + to_timeml(body, timexes) + raw[tm.end(1) :]
            (out_dir / path.name.removesuffix(".TE3input")).write_text(out, encoding="utf-8")
        cmd = [sys.executable, str(scorer), str(gold_dir), str(out_dir)] + (["-v"] if verbose else [])
        proc = subprocess.run(cmd, cwd=dataset_dir, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise EvalError(f"te3_timex_eval.py failed ({proc.returncode}): {proc.stderr.strip()}")
    scores = _parse_scorer(proc.stdout)
    result: dict[str, Any] = {
        "dataset": "tempeval3 (TE3 platinum test, 20 documents)",
        "value_f1": scores["value"]["f1"],
        "value_accuracy": scores["value"]["accuracy"],
        "relaxed": scores["relaxed"],
        "strict": scores["strict"],
        "type_f1": scores["type"]["f1"],
        "type_accuracy": scores["type"]["accuracy"],
        "gold_timex": scores["gold"],
        "system_timex": scores["system"],
        "relaxed_matches": scores["relaxed_matches"],
        "strict_matches": scores["strict_matches"],
        "sentences": n_sent,
        "sentences_per_s": n_sent * reps / elapsed,
        "sentences_per_cpu_s": n_sent * reps / cpu,
        # Same unit as value_f1 (a fraction); the table prints both as percentages.
        "anchor": {"name": ANCHOR_NAME, "value_f1": ANCHOR_VALUE_F1 / 100},
    }
    if verbose:
        result["value_errors"] = [ln for ln in proc.stdout.splitlines() if "gold value=" in ln]
    return result


def _default_dataset_dir() -> Path | None:
    from storydesk.eval import dataset_path

    try:
        return dataset_path("tempeval3")
    except EvalError:
        return None


@click.command("dates")
@click.option(
    "--dataset-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="TempEval-3 folder (default: <datasets>/tempeval3).",
)
@click.option("--json", "as_json", is_flag=True, help="Print a JSON object instead of a table.")
@click.option("-v", "verbose", is_flag=True, help="List value errors (gold vs system).")
def command(dataset_dir: Path | None, as_json: bool, verbose: bool) -> None:
    """Temporal tagger on TempEval-3 platinum: value F1, extent P/R/F1, type F1, speed."""
    if dataset_dir is None:
        dataset_dir = _default_dataset_dir()
        if dataset_dir is None:
            raise click.ClickException("data set 'tempeval3' not found (set STORYDESK_DATASETS or --dataset-dir)")
    try:
        res = evaluate(dataset_dir, verbose=verbose)
    except EvalError as e:
        raise click.ClickException(str(e)) from e
    if as_json:
        click.echo(json.dumps(res, indent=2))
        return
    rows = [
        ("value F1", f"{100 * res['value_f1']:.2f}", f"{ANCHOR_NAME} {ANCHOR_VALUE_F1:.2f}"),
        ("value accuracy", f"{100 * res['value_accuracy']:.2f}", ""),
        (
            "relaxed P / R / F1",
            " / ".join(f"{100 * res['relaxed'][k]:.2f}" for k in ("p", "r", "f1")),
            "HeidelTime 93.08 / 87.68 / 90.30",
        ),
        (
            "strict P / R / F1",
            " / ".join(f"{100 * res['strict'][k]:.2f}" for k in ("p", "r", "f1")),
            "HeidelTime F1 81.34",
        ),
        ("type F1", f"{100 * res['type_f1']:.2f}", ""),
        (
            "gold / system / matched",
            f"{res['gold_timex']} / {res['system_timex']} / {res['relaxed_matches']}",
            "",
        ),
        ("sentences/s (1 core)", f"{res['sentences_per_s']:,.0f}", f"{res['sentences']} sentences"),
        ("sentences/CPU-second", f"{res['sentences_per_cpu_s']:,.0f}", "less disturbed by other load"),
    ]
    click.echo(f"TempEval-3 platinum timex evaluation ({dataset_dir})")
    w = max(len(r[0]) for r in rows)
    for name, val, note in rows:
        click.echo(f"  {name:<{w}}  {val:<24} {note}")
    if verbose:
        click.echo("value errors:")
        for ln in res.get("value_errors", []):
            click.echo(f"  {ln}")
