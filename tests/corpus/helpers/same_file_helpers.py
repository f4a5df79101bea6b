"""ETL built from small helper functions in the same file that call the tasks."""

from __future__ import annotations

import pandas as pd

from dagy import flow, get_run_logger, task

SOURCE = "postgresql://oltp-replica/shop"
TARGET = "postgresql://warehouse/analytics"


@task(retries=2, retry_delay_seconds=20)
def extract(table: str, date: str) -> pd.DataFrame:
    return pd.read_sql(f"SELECT * FROM {table} WHERE updated_at::date = %(d)s", SOURCE,
                       params={"d": date})


@task
def clean(df: pd.DataFrame) -> pd.DataFrame:
    df = df.drop_duplicates()
    df.columns = [c.strip().lower() for c in df.columns]
    return df


@task(tags=["warehouse"])
def load(df: pd.DataFrame, target: str) -> int:
    schema, table = target.split(".")
    df.to_sql(table, TARGET, schema=schema, if_exists="append", index=False)
    return len(df)


@task
def audit(loaded: dict[str, int]) -> None:
    logger = get_run_logger()
    for name, rows in sorted(loaded.items()):
        logger.info("%-12s %8d rows", name, rows)


def extract_and_clean(table: str, date: str) -> pd.DataFrame:
    """Extract one table for one day and clean it."""
    raw = extract(table, date)
    return clean(raw)


def load_all(frames: dict[str, pd.DataFrame], names: tuple[str, ...],
             target_schema: str) -> dict[str, int]:
    """Load the named frames into `target_schema.<name>`."""
    results = {}
    for name in names:
        results[name] = load(frames[name], f"{target_schema}.{name}")
    return results


def describe(frames: dict[str, pd.DataFrame]) -> str:
    """A plain helper: no tasks, just a summary string for the log."""
    return ", ".join(f"{name}={len(df)}" for name, df in frames.items())


@flow(name="Helper-Based ETL")
def helper_etl(date: str, tables: tuple[str, ...] = ("orders", "customers", "products")) -> dict:
    logger = get_run_logger()
    frames = {}
    for t in tables:
        frames[t] = extract_and_clean(t, date)
    logger.info("extracted: %s", describe(frames))

    loaded = load_all(frames, tables, "analytics")
    audit(loaded)
    return loaded
