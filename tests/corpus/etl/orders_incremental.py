"""Orders: incremental load driven by a watermark, plus a full refresh flow."""

from __future__ import annotations

import pandas as pd

from dagy import flow, get_run_logger, task

SOURCE_DSN = "mysql+pymysql://shop-replica/shop"
STATE_TABLE = "etl_state.watermarks"
ORDER_SCHEMA = {
    "order_id": "int64",
    "customer_id": "int64",
    "status": "string",
    "total": "float64",
    "updated_at": "datetime64[ns]",
}


@task
def get_watermark(table: str) -> str | None:
    df = pd.read_sql(f"SELECT value FROM {STATE_TABLE} WHERE name = %(t)s",
                     "postgresql://warehouse/etl", params={"t": table})
    return None if df.empty else df["value"].iloc[0]


@task(retries=3, retry_delay_seconds=[10, 30, 60])
def extract_orders_since(table: str, watermark: str | None) -> pd.DataFrame:
    where = f"WHERE updated_at > '{watermark}'" if watermark else ""
    return pd.read_sql(f"SELECT * FROM {table} {where}", SOURCE_DSN)


@task
def cast_types(df: pd.DataFrame, schema: dict[str, str]) -> pd.DataFrame:
    return df[list(schema)].astype(schema)


@task(retries=2, timeout_seconds=3600)
def merge_into_warehouse(df: pd.DataFrame, table: str) -> int:
    df.to_sql(f"{table}_staging", "postgresql://warehouse/shop", if_exists="replace",
              index=False)
    # MERGE from staging happens in the warehouse; see sql/merge_orders.sql
    return len(df)


@task
def truncate_table(table: str) -> None:
    pd.io.sql.execute(f"TRUNCATE TABLE {table}", "postgresql://warehouse/shop")


@task
def set_watermark(table: str, value) -> None:
    pd.DataFrame([{"name": table, "value": str(value)}]).to_sql(
        "watermarks", "postgresql://warehouse/etl", schema="etl_state", if_exists="append",
        index=False)


@flow(name="Orders Incremental Load", version="1.4.0")
def orders_incremental(table: str = "orders") -> int:
    logger = get_run_logger()
    wm = get_watermark(table)
    batch = extract_orders_since(table, wm)
    if batch.empty:
        logger.info("no new rows since %s", wm)
        return 0

    typed = cast_types(batch, ORDER_SCHEMA)
    n = merge_into_warehouse(typed, table)
    new_wm = typed["updated_at"].max()
    set_watermark(table, new_wm)
    logger.info("merged %d rows, watermark now %s", n, new_wm)
    return n


@flow(name="Orders Full Refresh", version="1.4.0")
def orders_full_refresh(table: str = "orders") -> int:
    batch = extract_orders_since(table, None)
    typed = cast_types(batch, ORDER_SCHEMA)
    truncated = truncate_table(table)
    n = merge_into_warehouse(typed, table, wait_for=[truncated])
    set_watermark(table, typed["updated_at"].max(), wait_for=[n])
    return n
