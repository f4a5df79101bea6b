"""Helpers used by several flows.

Some are plain functions (`table_path`, `chunked`); the others call tasks from
`common.tasks`, so every call of them from a flow adds those task calls to the flow's DAG.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Iterator
from typing import TypeVar

import pandas as pd

from common.tasks import read_table, send_slack, validate_schema, write_table

LOG = logging.getLogger(__name__)
T = TypeVar("T")


def table_path(bucket: str, table: str, date: str | None = None) -> str:
    """Where a table's export lives in the lake (plain string work, no tasks)."""
    base = f"{bucket.rstrip('/')}/{table}"
    return f"{base}/dt={date}" if date else base


def chunked(items: Iterable[T], size: int) -> Iterator[list[T]]:
    """Yield lists of at most `size` items."""
    batch: list[T] = []
    for item in items:
        batch.append(item)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


def copy_table(source: str, target: str, date: str | None = None) -> str:
    """Copy one table (or one date partition of it) to another place in the warehouse."""
    df = read_table(source if date is None else f"{source}/{date}")
    LOG.info("copying %d rows from %s to %s", len(df), source, target)
    return write_table(df, target)


def load_and_validate(name: str, schema: dict[str, str]) -> pd.DataFrame:
    """Read a table and refuse it (after telling Slack) when its schema has drifted."""
    df = read_table(name)
    problems = validate_schema(df, schema)
    if problems:
        send_slack(f":warning: {name}: {len(problems)} schema problem(s): {problems[:3]}")
        raise ValueError(f"{name} failed schema validation")
    return df


def publish(df: pd.DataFrame, targets: list[str]) -> list[str]:
    """Write the same frame to every target table; returns the tables written."""
    written = []
    for target in targets:
        written.append(write_table(df, target))
    return written
