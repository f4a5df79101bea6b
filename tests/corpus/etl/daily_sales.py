"""Daily sales ETL: raw point-of-sale CSVs -> regional summary in the warehouse.

Runs every morning at 06:00 UTC for the previous day. See runbook: wiki/data/daily-sales.
"""

from __future__ import annotations

from datetime import timedelta

import pandas as pd

from dagy import flow, get_run_logger, task
from dagy.tasks import task_input_hash

RAW_BUCKET = "s3://acme-raw/sales"
REQUIRED_COLUMNS = ["order_id", "store_id", "region", "amount", "currency", "sold_at"]


@task(
    cache_key_fn=task_input_hash,
    cache_expiration=timedelta(hours=1),
    persist_result=True,
    tags=["etl", "sales"],
)
def extract_sales(path: str) -> pd.DataFrame:
    """Read one day of point-of-sale exports."""
    logger = get_run_logger()
    df = pd.read_csv(path, parse_dates=["sold_at"])
    logger.info("read %d rows from %s", len(df), path)
    missing = set(REQUIRED_COLUMNS) - set(df.columns)
    if missing:
        raise ValueError(f"missing columns in {path}: {sorted(missing)}")
    return df


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl"])
def clean_sales(df: pd.DataFrame) -> pd.DataFrame:
    df = df.dropna(subset=["order_id", "amount"])
    df = df[df["amount"] > 0]
    df["region"] = df["region"].str.strip().str.upper()
    return df.drop_duplicates(subset=["order_id"])


@task(tags=["etl"])
def aggregate_by_region(df: pd.DataFrame) -> pd.DataFrame:
    return (
        df.groupby(["region", "currency"], as_index=False)
        .agg(orders=("order_id", "nunique"), revenue=("amount", "sum"))
        .sort_values("revenue", ascending=False)
    )


@task(retries=2, retry_delay_seconds=30, tags=["etl", "warehouse"])
def load_to_warehouse(df: pd.DataFrame, table: str) -> int:
    # The real implementation uses the warehouse's bulk loader; to_sql keeps the sample small.
    df.to_sql(table, "postgresql://warehouse/analytics", if_exists="append", index=False)
    return len(df)


@flow(name="Daily Sales ETL", log_prints=True, flow_run_name="etl-{date}")
def daily_sales_etl(date: str = "2024-01-01", bucket: str = RAW_BUCKET) -> int:
    logger = get_run_logger()
    logger.info("Starting sales ETL for %s", date)

    raw = extract_sales(f"{bucket}/{date}.csv")
    print(f"Extracted {len(raw)} rows")

    clean = clean_sales(raw)
    dropped = len(raw) - len(clean)
    if dropped:
        logger.warning("dropped %d invalid rows", dropped)

    summary = aggregate_by_region(clean)
    rows = load_to_warehouse(summary, table="sales_by_region")
    logger.info("Loaded %d rows into sales_by_region", rows)
    return rows


if __name__ == "__main__":
    daily_sales_etl(date="2024-03-01")
