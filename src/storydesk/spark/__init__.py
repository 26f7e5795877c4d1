"""storydesk on Apache Spark: the same analysis over millions of articles on a cluster (the ``[spark]`` extra).

>>> from storydesk import spark                                   # doctest: +SKIP
>>> spark.run(["articles/"], "out/", master="local[*]")           # doctest: +SKIP
>>> spark.load("out/", "news.db")                                 # doctest: +SKIP

:func:`run` ingests the inputs on executors, runs the article map, the corpus
step (near-duplicates, events and storylines, cut into independent groups) and
the event map, and writes Parquet tables (:data:`TABLES`); :func:`load` puts
them into a store that ``storydesk serve`` serves and ``storydesk build``
extends. docs/spark.md describes how the job cuts its work and how it behaves
on 100 M articles.
"""

from __future__ import annotations

from typing import Any

#: The Parquet tables a run writes (each a folder under the output directory).
TABLES = (
    "articles",
    "sentences",
    "rejections",
    "events",
    "storylines",
    "quotes",
    "claims",
    "conflicts",
    "summaries",
    "artifacts",
)


def available() -> bool:
    """True when pyspark and pyarrow are installed."""
    import importlib.util

    return all(importlib.util.find_spec(m) is not None for m in ("pyspark", "pyarrow", "pandas"))


def load(*args: Any, **kwargs: Any) -> Any:
    """Load a run's tables into a store; see :func:`storydesk.spark.load.load`."""
    from storydesk.spark.load import load as _load

    return _load(*args, **kwargs)


def read_meta(*args: Any, **kwargs: Any) -> Any:
    """A run's settings and report; see :func:`storydesk.spark.load.read_meta`."""
    from storydesk.spark.load import read_meta as _read_meta

    return _read_meta(*args, **kwargs)


def run(*args: Any, **kwargs: Any) -> Any:
    """Run storydesk on Spark; see :func:`storydesk.spark.job.run`."""
    from storydesk.spark.job import run as _run

    return _run(*args, **kwargs)


def session(*args: Any, **kwargs: Any) -> Any:
    """A Spark session set up for storydesk; see :func:`storydesk.spark.job.session`."""
    from storydesk.spark.job import session as _session

    return _session(*args, **kwargs)


__all__ = ["TABLES", "available", "load", "read_meta", "run", "session"]
