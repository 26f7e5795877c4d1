"""``storydesk spark run`` and ``storydesk load``."""

from __future__ import annotations

import json

import click


@click.group("spark")
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
def run_cmd(
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
    from storydesk import spark
    from storydesk.config import Config
    from storydesk.nlp import Models

    if not spark.available():
        raise click.ClickException("Spark is not installed: pip install 'storydesk[spark]'")
    from storydesk.spark.job import Options

    cfg = Config() if embedder is None else Config().with_overrides(embedder=embedder)
    opts = Options(partitions=partitions, block_days=block_days, keep_work=keep_work)
    report = spark.run(list(inputs), out, master=master, models=Models(cfg), options=opts, encoding=encoding)
    if not quiet:
        click.echo(json.dumps(report.as_dict(), indent=2))
        click.echo(f"load it with: storydesk load {out} --db storydesk.db", err=True)


@click.command("load")
@click.argument("src", type=click.Path(exists=True, file_okay=False))
@click.option(
    "--db",
    default="storydesk.db",
    show_default=True,
    envvar="STORYDESK_DB",
    help="SQLite database file, or a postgresql:// URL ([postgres] extra); must hold no articles yet.",
)
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
def load_cmd(src: str, db: str, quiet: bool) -> None:
    """Load the Parquet tables of `storydesk spark run` into a store (for serve, show, export and later builds)."""
    from storydesk.spark.load import load

    counts = load(src, db)
    if not quiet:
        click.echo(
            f"loaded {counts['articles']} article(s), {counts['events']} event(s), {counts['storylines']} "
            f"storyline(s), {counts['rows']} artifact row(s) and {counts['rejections']} rejection(s) into {db}",
            err=True,
        )
