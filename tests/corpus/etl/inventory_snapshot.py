"""Nightly inventory snapshot: one extract -> transform -> load per source table.

A table that cannot be extracted is recorded and skipped; the flow fails at the end if any
table was skipped, after the others have been loaded.
"""

from __future__ import annotations

import pandas as pd

from dagy import flow, get_run_logger, task

ERP_DSN = "mssql+pyodbc://erp-reporting/inventory"

TABLES = {
    "warehouses": {
        "query": "SELECT * FROM dbo.Warehouses",
        "target": "inv.warehouses",
    },
    "stock_levels": {
        "query": "SELECT * FROM dbo.StockLevels WHERE SnapshotDate = '{run_date}'",
        "target": "inv.stock_levels",
        "rules": {"qty": "int64", "sku": "string"},
    },
    "reorder_points": {
        "query": "SELECT * FROM dbo.ReorderPoints",
        "target": "inv.reorder_points",
        "rules": {"min_qty": "int64"},
    },
}


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl", "erp"])
def extract_table(name: str, query: str) -> pd.DataFrame:
    return pd.read_sql(query, ERP_DSN)


@task
def transform_table(df: pd.DataFrame, rules: dict[str, str]) -> pd.DataFrame:
    df.columns = [c.lower() for c in df.columns]
    return df.astype(rules) if rules else df


@task(tags=["etl"])
def load_table(df: pd.DataFrame, target: str) -> int:
    df.to_sql(target.split(".")[1], "postgresql://warehouse/analytics",
              schema=target.split(".")[0], if_exists="replace", index=False)
    return len(df)


@task
def record_failure(table: str, run_date: str) -> None:
    with open("/var/log/etl/inventory_failures.csv", "a") as fh:
        fh.write(f"{run_date},{table}\n")


@task(persist_result=True)
def write_manifest(loaded: dict[str, int]) -> dict:
    return {"tables": loaded, "total_rows": sum(loaded.values())}


@flow(name="Inventory Snapshot", log_prints=True)
def inventory_snapshot(run_date: str) -> dict:
    logger = get_run_logger()
    loaded: dict[str, int] = {}
    failed: list[str] = []

    for table, cfg in TABLES.items():
        try:
            raw = extract_table(table, cfg["query"].format(run_date=run_date))
        except Exception as exc:  # noqa: BLE001 - any source error skips the table
            logger.warning("could not extract %s: %s", table, exc)
            record_failure(table, run_date)
            failed.append(table)
            continue
        clean = transform_table(raw, cfg.get("rules", {}))
        loaded[table] = load_table(clean, cfg["target"])

    manifest = write_manifest(loaded)
    print(f"loaded {len(loaded)} tables, {len(failed)} failed")
    if failed:
        raise RuntimeError(f"inventory snapshot incomplete, failed: {', '.join(failed)}")
    return manifest
