"""Small helpers between plain Python rows and Arrow batches (what ``mapInArrow``/``applyInArrow`` exchange)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import pyarrow as pa

_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "long": pa.int64(),
    "int": pa.int32(),
    "binary": pa.binary(),
    "boolean": pa.bool_(),
    "double": pa.float64(),
    "array<string>": pa.list_(pa.string()),
}


class Schema:
    """One row shape, both as a Spark DDL string and as an Arrow schema.

    Args:
        fields: ``(name, type)`` pairs; types are ``string``, ``long``, ``int``,
            ``binary``, ``boolean``, ``double`` or ``array<string>``.
    """

    def __init__(self, fields: Sequence[tuple[str, str]]) -> None:
        self.fields = list(fields)
        self.names = [n for n, _t in fields]
        self.arrow = pa.schema([pa.field(n, _TYPES[t]) for n, t in fields])
        self.ddl = ", ".join(f"`{n}` {t}" for n, t in fields)

    def batch(self, rows: Sequence[dict[str, Any]]) -> pa.RecordBatch:
        """Rows as one record batch of this schema."""
        return pa.RecordBatch.from_pylist(list(rows), schema=self.arrow)

    def table(self, rows: Sequence[dict[str, Any]]) -> pa.Table:
        """Rows as a table of this schema."""
        return pa.Table.from_pylist(list(rows), schema=self.arrow)


Rows = list[dict[str, Any]]


def map_rows(
    fn: Callable[[Rows], Rows], out: Schema, chunk: int = 0
) -> Callable[[Iterator[pa.RecordBatch]], Iterator[pa.RecordBatch]]:
    """A ``mapInArrow`` function from a function over lists of rows (``chunk`` > 0: at most that many rows a call)."""

    def run(batches: Iterator[pa.RecordBatch]) -> Iterator[pa.RecordBatch]:
        for b in batches:
            rows = b.to_pylist()
            step = chunk or max(len(rows), 1)
            for i in range(0, len(rows), step):
                got = fn(rows[i : i + step])
                if got:
                    yield out.batch(got)

    return run


def group_rows(fn: Callable[[Rows], Rows], out: Schema) -> Callable[[pa.Table], pa.Table]:
    """An ``applyInArrow`` function from a function over one group's rows."""

    def run(table: pa.Table) -> pa.Table:
        return out.table(fn(table.to_pylist()))

    return run
