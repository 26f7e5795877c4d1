"""The clustering evaluation through Spark (``storydesk eval cluster --engine spark``).

The items are cleaned exactly as the single-machine evaluation cleans them
(:func:`storydesk.eval.cluster.ingest_items`, dates and links blanked), then the
clustering stages run as one Spark job, and its tables are loaded into an
in-memory store, so the scores are computed by the same code on the same kind of
store.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from typing import Any

from storydesk.config import Config
from storydesk.nlp import Models
from storydesk.store import Store, open_store


def run_stream_spark(
    items: Sequence[Any], config: Config, master: str = "local[*]", partitions: int | None = None
) -> tuple[Store, dict[str, Any], float]:
    """Like :func:`storydesk.eval.cluster.run_stream`, on Spark: ``(store, article id -> item, seconds)``."""
    from storydesk.eval.cluster import cluster_stages, ingest_items
    from storydesk.spark.job import Job, Options, article_frame, session
    from storydesk.spark.load import load

    t0 = time.perf_counter()
    staging = open_store(":memory:")
    by_id = ingest_items(staging, items)
    arts = staging.articles()
    sents = staging.sentences_of([a.id for a in arts])
    staging.close()
    spark = session(master, partitions, app="storydesk-eval")
    store = open_store(":memory:")
    try:
        with tempfile.TemporaryDirectory(prefix="storydesk-spark-") as out:
            job = Job(spark, out, Models(config), cluster_stages(), Options(partitions=partitions))
            job.run(article_frame(spark, [(a, sents.get(a.id, [])) for a in arts]))
            load(out, store)
    finally:
        spark.stop()
    return store, by_id, time.perf_counter() - t0
