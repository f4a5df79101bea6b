"""Replicate warehouse tables with the platform team's shared tasks (`shared_pkg`).

`shared_pkg` is installed from the internal index, not part of this repository; the
repository's dagy.toml lists it in `task_modules`, so its functions are tasks.
"""

from __future__ import annotations

import pandas as pd

from dagy import flow, get_run_logger, task
from shared_pkg.tasks import extract_table, load_table

TABLES = {
    "sales.orders": ["order_id"],
    "sales.order_lines": ["order_id", "line_no"],
    "crm.accounts": ["account_id"],
}


@task
def dedupe(df: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    before = len(df)
    df = df.drop_duplicates(subset=keys, keep="last")
    get_run_logger().info("dropped %d duplicate rows", before - len(df))
    return df


@flow(name="Shared Warehouse Extract", version="2.0.0")
def warehouse_extract(tables: dict[str, list[str]] = TABLES) -> None:
    logger = get_run_logger()
    for name, keys in tables.items():
        df = extract_table(name, since=None)
        clean = dedupe(df, keys)
        load_table(clean, f"replica.{name.replace('.', '_')}")
        logger.info("replicated %s", name)
