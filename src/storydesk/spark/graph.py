"""Connected components of an edge DataFrame: union-find on the driver for small edge sets, else large-star/small-star.

Large-star/small-star (Kiveris et al., "Connected Components in MapReduce and
Beyond", SoCC 2014) turns every component into a star around its smallest node
in O(log² n) rounds of DataFrame joins and aggregations, whatever the diameter.
Both paths give each node the smallest node of its component, so the result
does not depend on which one ran, nor on the partitioning.
"""

from __future__ import annotations

from typing import Any

from storydesk.spark.corpus import components


def connected_components(edges: Any, driver_limit: int = 1_000_000, max_rounds: int = 100) -> Any:
    """``(node, root)`` for every node of ``edges`` (columns ``a``, ``b``); root = smallest node of its component.

    Args:
        edges: A DataFrame of undirected edges ``a``, ``b`` (both of one orderable type).
        driver_limit: Up to this many distinct edges, components are found on the driver.
        max_rounds: Safety bound on large-star/small-star rounds.
    """
    from pyspark.sql import functions as F

    spark = edges.sparkSession
    e = (
        edges.select(F.least("a", "b").alias("u"), F.greatest("a", "b").alias("v"))
        .where(F.col("u") != F.col("v"))
        .distinct()
    )
    dtype = edges.schema["a"].dataType.simpleString()
    n = e.count()
    if n <= driver_limit:
        roots = components((r.u, r.v) for r in e.toLocalIterator())
        return spark.createDataFrame(sorted(roots.items()), f"node {dtype}, root {dtype}")
    return _large_small_star(e, max_rounds)


def _large_small_star(e: Any, max_rounds: int) -> Any:
    """Alternate large-star and small-star until the edge set stops changing; edges ``(u < v)`` in and out."""
    from pyspark.sql import functions as F

    cur = e.localCheckpoint()
    for _ in range(max_rounds):
        # large-star: every neighbour above a node links to the smallest of the node's closed neighbourhood
        sym = cur.select(F.col("u").alias("x"), F.col("v").alias("y")).union(
            cur.select(F.col("v").alias("x"), F.col("u").alias("y"))
        )
        mins = sym.groupBy("x").agg(F.min("y").alias("m")).withColumn("m", F.least("m", "x"))
        large = (
            sym.join(mins, "x")
            .where(F.col("y") > F.col("x"))
            .select(F.least("y", "m").alias("u"), F.greatest("y", "m").alias("v"))
            .where(F.col("u") != F.col("v"))
            .distinct()
        )
        # small-star: a node and its smaller neighbours all link to the smallest of them
        m2 = large.groupBy(F.col("v").alias("x")).agg(F.min("u").alias("m"))
        lower = large.join(m2, large.v == m2.x).select(F.col("u").alias("y"), "m")
        own = m2.select(F.col("x").alias("y"), "m")
        small = (
            lower.union(own)
            .select(F.least("y", "m").alias("u"), F.greatest("y", "m").alias("v"))
            .where(F.col("u") != F.col("v"))
            .distinct()
            .localCheckpoint()
        )
        same = small.exceptAll(cur).isEmpty() and cur.exceptAll(small).isEmpty()
        cur = small
        if same:
            break
    # a star around its smallest node: u is the root of v
    stars = cur.select(F.col("v").alias("node"), F.col("u").alias("root"))
    roots = cur.select(F.col("u").alias("node"), F.col("u").alias("root"))
    return stars.union(roots).groupBy("node").agg(F.min("root").alias("root"))
