"""Warehouse loading through a small class whose methods are tasks.

Both calling styles appear: an instance in a variable, and `WarehouseLoader(...).load(...)`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dagy import flow, get_run_logger, task

DSN = "postgresql://loader@warehouse.internal/analytics"


class WarehouseLoader:
    """Loads DataFrames into one schema of the warehouse."""

    def __init__(self, dsn: str, schema: str = "analytics") -> None:
        self.dsn = dsn
        self.schema = schema

    def _engine(self) -> sa.Engine:
        return sa.create_engine(self.dsn)

    @task(retries=2, retry_delay_seconds=30)
    def load(self, df: pd.DataFrame, table: str) -> int:
        df.to_sql(table, self._engine(), schema=self.schema, if_exists="append", index=False)
        return len(df)

    @task(name="truncate-table")
    def truncate(self, table: str) -> str:
        with self._engine().begin() as conn:
            conn.execute(sa.text(f"TRUNCATE TABLE {self.schema}.{table}"))
        return f"{self.schema}.{table}"


@task
def extract_csv(path: str) -> pd.DataFrame:
    return pd.read_csv(path)


@flow(name="Class-Based Loader")
def class_loader(path: str = "data/orders.csv", dsn: str = DSN) -> int:
    logger = get_run_logger()
    df = extract_csv(path)
    loader = WarehouseLoader(dsn)
    cleared = loader.truncate("orders")
    rows = loader.load(df, "orders", wait_for=[cleared])
    logger.info("reloaded orders: %d rows", rows)
    return rows


@flow(name="Class-Based Loader Inline")
def class_loader_inline(paths: tuple[str, ...] = ("data/returns.csv", "data/refunds.csv"),
                        dsn: str = DSN) -> int:
    totals = []
    for p in paths:
        totals.append(WarehouseLoader(dsn, schema="finance").load(extract_csv(p), Path(p).stem))
    return sum(totals)
