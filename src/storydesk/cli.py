"""The ``storydesk`` command line: a thin shell over :mod:`storydesk.api`.

Exit codes: 0 success; 1 error; 2 usage error; 3 some inputs were rejected
(everything else was stored; see ``storydesk show rejections``).
"""

from __future__ import annotations

import importlib
import json
import re
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

import click

from storydesk import __version__
from storydesk.errors import NotFoundError, StorydeskError

T = TypeVar("T")
EXIT_REJECTED = 3
DEFAULT_DB = "storydesk.db"

_UNPRINTABLE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)


def printable(text: str) -> str:
    """``text`` safe to print on one terminal line.

    Control characters (newlines, escape sequences), line and paragraph separators,
    bidirectional overrides and lone surrogates are written as ``\\n``, ``\\x1b``,
    ``\\u202e``: a file name cannot forge an extra line or recolour the terminal.
    """

    def esc(m: re.Match[str]) -> str:
        c = m.group()
        named = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
        if c in named:
            return named[c]
        return f"\\x{ord(c):02x}" if ord(c) < 0x100 else f"\\u{ord(c):04x}"

    return _UNPRINTABLE.sub(esc, text)


def _progress_factory(quiet: bool) -> Any:
    """A progress hook drawing tqdm bars on stderr (only on a terminal, never with --quiet)."""

    def progress(items: Iterable[T], *, total: int | None = None, desc: str = "") -> Iterator[T]:
        if quiet or not sys.stderr.isatty():
            yield from items
            return
        from tqdm import tqdm

        yield from tqdm(items, total=total, desc=f"{desc:>16}", unit="it", leave=False, file=sys.stderr)

    return progress


def _open(
    db: str, quiet: bool, embedder: str | None = None, workers: int | None = None, must_exist: bool = False
) -> Any:
    """Open the library API on a database (refusing to create one for a read-only command)."""
    from storydesk.api import Storydesk, database_exists
    from storydesk.config import Config

    if must_exist and not database_exists(db):
        raise click.UsageError(f"no database at {db}; run `storydesk run PATH --db {db}` first")
    cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
    return Storydesk(db, config=cfg, progress=_progress_factory(quiet), workers=workers)


def _echo_err(msg: str) -> None:
    click.echo(msg, err=True)


class _Group(click.Group):
    """Turns storydesk errors into one readable line and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except StorydeskError as e:
            _echo_err(click.style("error: ", fg="red", bold=True) + str(e))
            sys.exit(1)
        except KeyboardInterrupt:
            _echo_err("interrupted; everything committed so far is kept")
            sys.exit(130)


db_option = click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    envvar="STORYDESK_DB",
    help="SQLite database file, or a postgresql:// URL ([postgres] extra).",
)
quiet_option = click.option("-q", "--quiet", is_flag=True, help="No progress bars or chatter.")
workers_option = click.option(
    "-j",
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes for the analysis (default: every core). Results do not depend on it.",
)
embedder_option = click.option(
    "--embedder",
    type=click.Choice(["minilm", "minilm-static", "minilm-torch", "hashing"]),
    default=None,
    help="Sentence embedder (default: minilm, int8 ONNX; minilm-static: ~100x faster, weaker grouping).",
)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="storydesk")
def main() -> None:
    """storydesk: turn piles and streams of news articles into stories.

    Typical use: `storydesk run articles/ --json story.json --html report.html`.
    """


def _report_ingest(report: Any, quiet: bool) -> None:
    """Print what ingest did, each rejection with its reason."""
    if not quiet:
        _echo_err(
            f"ingested {len(report.added)} new article(s), {len(report.updated)} updated, "
            f"{len(report.skipped)} already stored, "
            f"{len(report.rejected)} rejected"
        )
    for r in report.rejected:
        _echo_err(click.style("rejected ", fg="yellow") + f"{printable(r.source)}: [{r.code}] {printable(r.reason)}")


def _build(sd: Any, quiet: bool, stages: Iterable[str] | None = None, force: bool = False) -> None:
    """Run the pipeline and summarise what it did."""
    stats = sd.build(stages=stages, force=force)
    if not quiet:
        counts = sd.counts()
        secs = sum(s.get("seconds", 0) for s in stats.values())
        _echo_err(f"built {counts.events} event(s) in {counts.storylines} storyline(s) in {secs:.1f}s")


@main.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Write the story JSON here ('-' = stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="Write the HTML report here.")
@click.option("--encoding", default=None, help="Force the text encoding of inputs (default: UTF-8).")
@embedder_option
@workers_option
@quiet_option
def run(
    paths: tuple[str, ...],
    db: str,
    json_out: str | None,
    html_out: str | None,
    encoding: str | None,
    embedder: str | None,
    workers: int | None,
    quiet: bool,
) -> None:
    """Ingest PATHS, build stories and export them, in one go.

    PATHS are files or folders of plain-text articles, JSON Lines, JSON, HTML pages
    or RSS/Atom feeds. Re-running on the same inputs adds nothing and is fast.
    Exits with 3 if some inputs were rejected (the rest is stored and built).
    """
    with _open(db, quiet, embedder, workers) as sd:
        report = sd.ingest(paths, encoding=encoding)
        _report_ingest(report, quiet)
        _build(sd, quiet)
        _export(sd, json_out, html_out, quiet)
    if report.rejected:
        sys.exit(EXIT_REJECTED)


@main.command("ingest")
@click.argument("paths", nargs=-1, required=True, type=click.Path(exists=True))
@db_option
@click.option("--encoding", default=None, help="Force the text encoding of inputs (default: UTF-8).")
@quiet_option
def ingest_cmd(paths: tuple[str, ...], db: str, encoding: str | None, quiet: bool) -> None:
    """Read, clean and store articles from PATHS (no analysis).

    Exits with 3 if some inputs were rejected.
    """
    with _open(db, quiet) as sd:
        report = sd.ingest(paths, encoding=encoding)
        _report_ingest(report, quiet)
    if report.rejected:
        sys.exit(EXIT_REJECTED)


@main.command()
@db_option
@click.option("--stage", "stages", multiple=True, help="Run only this stage (repeatable). See `storydesk stages`.")
@click.option("--force", is_flag=True, help="Recompute even what is up to date.")
@embedder_option
@workers_option
@quiet_option
def build(
    db: str, stages: tuple[str, ...], force: bool, embedder: str | None, workers: int | None, quiet: bool
) -> None:
    """Run the analysis pipeline over the stored articles (incremental)."""
    with _open(db, quiet, embedder, workers) as sd:
        _build(sd, quiet, stages or None, force)


def _export(sd: Any, json_out: str | None, html_out: str | None, quiet: bool) -> None:
    """Write the requested exports and say where they are."""
    if json_out == "-":
        click.echo(json.dumps(sd.story(), ensure_ascii=False, indent=2))
    elif json_out:
        p = sd.write_json(json_out)
        if not quiet:
            _echo_err(f"story JSON: {p}")
    if html_out:
        p = sd.write_html(html_out)
        if not quiet:
            _echo_err(f"HTML report: {p}")


@main.command()
@db_option
@click.option("--json", "json_out", type=click.Path(dir_okay=False), help="Story JSON file ('-' = stdout).")
@click.option("--html", "html_out", type=click.Path(dir_okay=False), help="HTML report file.")
@quiet_option
def export(db: str, json_out: str | None, html_out: str | None, quiet: bool) -> None:
    """Export the stories in the database as JSON and/or HTML."""
    if not json_out and not html_out:
        raise click.UsageError("give --json FILE and/or --html FILE")
    with _open(db, quiet, must_exist=True) as sd:
        _export(sd, json_out, html_out, quiet)


@main.command()
@db_option
@click.argument("what", required=False, default="stories")
def show(db: str, what: str) -> None:
    """Print stories, one event (by id), rejections or stage runs.

    WHAT is `stories` (default), an event id, `rejections` or `stages`.
    """
    with _open(db, True, must_exist=True) as sd:
        if what == "rejections":
            _print_rejections(sd.rejections(limit=None, oldest_first=True)[1])
        elif what == "stages":
            for ph in sd.stage_status():
                state = f"last run {ph.finished} {ph.stats}" if ph.finished else "never run"
                click.echo(f"{ph.phase:<14} {state}")
                for st in ph.stages:
                    click.echo(f"  {st.name:<20} {st.version}")
        elif what == "stories":
            _print_story(sd.story(), detailed=False)
        else:
            try:
                doc = sd.event_document(what)
            except NotFoundError:
                raise click.UsageError(f"no event {what!r}; `storydesk show` lists them") from None
            _print_story(doc, detailed=True)


_ITEM_SUFFIX = re.compile(r"(?::\d+|\[\d+\]|#.*)$", re.S)


def _file_of(source: str) -> tuple[str, str]:
    """``(file, item)`` of a rejection source: ``feed.jsonl:3`` is item ``:3`` of ``feed.jsonl``."""
    m = _ITEM_SUFFIX.search(source)
    if m and m.start() > 0:
        return source[: m.start()], source[m.start() :]
    return source, ""


def _print_rejections(rejections: list[Any]) -> None:
    """Rejections grouped per input file, oldest file first; names printed safely (one line each)."""
    if not rejections:
        click.echo("no rejected inputs")
        return
    groups: dict[str, list[tuple[str, Any]]] = {}
    for r in rejections:
        file, item = _file_of(r.source)
        groups.setdefault(file, []).append((item, r))
    click.echo(f"{len(rejections)} rejected input(s) in {len(groups)} file(s)")
    for file, rows in groups.items():
        if len(rows) == 1:
            r = rows[0][1]
            click.echo(f"{printable(r.source)}  [{r.code}] {printable(r.reason)}  ({r.at})")
            continue
        click.echo(f"{printable(file)}  ({len(rows)} rejected)")
        for item, r in rows:
            click.echo(f"  {printable(item) or '(file)'}  [{r.code}] {printable(r.reason)}  ({r.at})")


def _print_story(doc: dict[str, Any], detailed: bool) -> None:
    """Human-readable story outline (events outside every storyline of the document come last)."""
    events = {e["id"]: e for e in doc["events"]}
    titles = {a["id"]: (a["outlet"] or a["path"]) for a in doc["articles"]}
    listed = {eid for sl in doc["storylines"] for eid in sl["events"]}
    loose = [e["id"] for e in doc["events"] if e["id"] not in listed]
    groups = [(sl["title"], sl["id"], sl["events"]) for sl in doc["storylines"]]
    if loose:
        groups.append(("(no storyline)", "-", loose))
    for title, sid, eids in groups:
        click.echo(click.style(f"■ {title}", bold=True) + f"  [{sid}]")
        for eid in eids:
            e = events.get(eid)
            if e is None:
                continue
            span = e["start"] or "?"
            if e["end"] and e["end"] != e["start"]:
                span += f"..{e['end']}"
            click.echo(f"  ● {span}  {e['title']}  [{eid}, {len(e['articles'])} articles]")
            for s in e["summary"]:
                cites = ", ".join(f"{titles.get(c['article'], c['article'])}#{c['sentence']}" for c in s["citations"])
                click.echo(f"      - {s['text']}  ({cites})")
            if detailed:
                for q in e["quotes"]:
                    click.echo(
                        f"      » {q['speaker']} via {', '.join(q['via']) or '-'}: {q['text']!r}"
                        f" ({len(q['variants'])} articles, {q['independent_sources']} independent)"
                    )
                for c in e["conflicts"]:
                    vals = " vs ".join(f"{v['value']!r} ({len(v['articles'])})" for v in c["values"])
                    click.echo(f"      ≠ {c['about']}: {vals}")


@main.command()
def stages() -> None:
    """List the pipeline stages with what each needs and adds."""
    from storydesk.api import describe_stages

    for st in describe_stages():
        needs = ", ".join(st.requires)
        adds = ", ".join(st.assigns)
        click.echo(f"{st.scope:<9} {st.name:<18} {st.version:<20} needs {needs:<55} adds {adds}")


class _LazyEvalGroup(click.Group):
    """``storydesk eval NAME``: imports an evaluation module only when it is called."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        import importlib.util

        from storydesk.eval import EVALS

        return sorted(name for name, mod in EVALS.items() if importlib.util.find_spec(mod) is not None)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        from storydesk.eval import EVALS

        mod = EVALS.get(cmd_name)
        if mod is None:
            return None
        try:
            cmd: click.Command = importlib.import_module(mod).command
        except ImportError as e:
            raise click.ClickException(f"evaluation {cmd_name!r} is not available: {e}") from e
        return cmd


@main.group(cls=_LazyEvalGroup, name="eval")
def eval_group() -> None:
    """Measure a capability on ../shared/datasets and print it beside the published anchor."""


@main.command()
@db_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--token", envvar="STORYDESK_TOKEN", default=None, help="Token required by write endpoints.")
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    envvar="STORYDESK_ALLOWED_HOSTS",
    metavar="NAME",
    help="Also answer requests addressed to this host name (repeatable; '*' = any; env: space- or "
    "comma-separated). By default only loopback names are answered, which stops DNS rebinding.",
)
def serve(db: str, host: str, port: int, token: str | None, allow_hosts: tuple[str, ...]) -> None:
    """Serve the web UI and REST API over a database."""
    try:
        web = importlib.import_module("storydesk.web")
    except ImportError as e:
        raise click.ClickException(f"the web server is not available: {e}") from e
    web.serve(db, host=host, port=port, token=token, allowed_hosts=list(allow_hosts))


@main.group("spark")
def spark_group() -> None:
    """Run storydesk on Apache Spark (the [spark] extra): local[N], a standalone cluster, YARN or Kubernetes."""


@spark_group.command("run")
@click.argument("inputs", nargs=-1, required=True)
@click.option("--out", required=True, help="Output directory of the Parquet tables (shared by every executor).")
@click.option("--master", default="local[*]", show_default=True, help="Spark master (spark://..., yarn, k8s://...).")
@click.option("--partitions", type=click.IntRange(min=1), default=None, help="Partitions (default: 4 per core).")
@click.option(
    "--embedder",
    type=click.Choice(["minilm", "minilm-static", "minilm-torch", "hashing"]),
    default=None,
    help="Title+lead embedder (default: minilm).",
)
@click.option("--block-days", type=click.IntRange(min=1), default=28, show_default=True, help="Days per event block.")
@click.option("--encoding", default=None, help="Force the text encoding of inputs (default: UTF-8).")
@click.option("--keep-work", is_flag=True, help="Keep the intermediate Parquet under OUT/_work.")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def spark_run(
    inputs: tuple[str, ...],
    out: str,
    master: str,
    partitions: int | None,
    embedder: str | None,
    block_days: int,
    encoding: str | None,
    keep_work: bool,
    quiet: bool,
) -> None:
    """Ingest INPUTS (files or folders: text, JSON Lines, JSON, HTML, feeds, Parquet) and analyse them on Spark.

    Writes Parquet tables under --out; `storydesk load OUT --db FILE` puts them into a store.
    """
    from storydesk.api import spark_run as run_on_spark

    report = run_on_spark(
        list(inputs),
        out,
        master=master,
        partitions=partitions,
        embedder=embedder,
        block_days=block_days,
        encoding=encoding,
        keep_work=keep_work,
    )
    if not quiet:
        click.echo(json.dumps(report, indent=2))
        click.echo(f"load it with: storydesk load {out} --db storydesk.db", err=True)


@main.command("load")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--db",
    default=DEFAULT_DB,
    show_default=True,
    envvar="STORYDESK_DB",
    help="SQLite database file, or a postgresql:// URL ([postgres] extra); must hold no articles yet.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def load_cmd(src: str, db: str, quiet: bool) -> None:
    """Load the Parquet tables of `storydesk spark run` into a store (for serve, show, export and later builds)."""
    from storydesk.api import load_spark_output

    counts = load_spark_output(src, db)
    if not quiet:
        _echo_err(
            f"loaded {counts['articles']} article(s), {counts['events']} event(s), {counts['storylines']} "
            f"storyline(s), {counts['rows']} artifact row(s) and {counts['rejections']} rejection(s) into {db}"
        )


if __name__ == "__main__":  # pragma: no cover
    main()
