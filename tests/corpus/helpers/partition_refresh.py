"""Refresh the partitions of a table: a same-file helper, called in a loop, that calls
shared tasks (`read_table`, `write-table`) and local ones, one of them only when `full`."""

from __future__ import annotations

import pandas as pd

from common.tasks import read_table, write_table
from dagy import flow, get_run_logger, task

WAREHOUSE = "postgresql://warehouse/analytics"


@task
def list_partitions(table: str) -> list[str]:
    df = pd.read_sql(f"SELECT DISTINCT partition_key FROM {table}_partitions", WAREHOUSE)
    return df["partition_key"].tolist()


@task
def drop_partition(table: str, partition: str) -> None:
    pd.io.sql.execute(f"ALTER TABLE {table} DROP PARTITION IF EXISTS {partition}", WAREHOUSE)


@task
def transform_partition(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop_duplicates(subset=["event_id"])
    df["event_date"] = pd.to_datetime(df["event_ts"]).dt.date
    return df


@task(timeout_seconds=1800)
def rebuild_indexes(table: str) -> None:
    pd.io.sql.execute(f"REINDEX TABLE {table}", WAREHOUSE)


@task
def summarize_written(written: list[str]) -> dict:
    return {"partitions": len(written), "tables": sorted(set(written))}


def refresh_partition(table: str, partition: str, full: bool) -> str:
    if full:
        drop_partition(table, partition)
    df = read_table(f"{table}/{partition}")
    return write_table(transform_partition(df), table)


@flow(name="Partition Refresh")
def partition_refresh(table: str = "events", partitions: list[str] | None = None,
                      full: bool = False) -> dict:
    logger = get_run_logger()
    parts = partitions or list_partitions(table)
    logger.info("refreshing %d partitions of %s (full=%s)", len(parts), table, full)

    written = []
    for p in parts:
        written.append(refresh_partition(table, p, full))

    if full:
        rebuild_indexes(table, wait_for=written)
    return summarize_written(written)
