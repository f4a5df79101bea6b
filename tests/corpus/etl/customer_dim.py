"""Customer dimension (SCD type 2) built from the CRM and the address book."""

from __future__ import annotations

from datetime import date

import pandas as pd

from dagy import flow, get_run_logger, task

COUNTRY_LOOKUP = "s3://acme-reference/countries.csv"
CRM_DSN = "postgresql://crm-replica:5432/crm"


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl", "crm"])
def extract_customers(snapshot_date: str) -> pd.DataFrame:
    sql = "SELECT * FROM customers WHERE updated_at::date <= %(d)s"
    return pd.read_sql(sql, CRM_DSN, params={"d": snapshot_date})


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl", "crm"])
def extract_addresses(snapshot_date: str) -> pd.DataFrame:
    sql = "SELECT customer_id, street, city, country_code FROM addresses WHERE valid_from <= %(d)s"
    return pd.read_sql(sql, CRM_DSN, params={"d": snapshot_date})


@task
def deduplicate(df: pd.DataFrame) -> pd.DataFrame:
    """Keep the most recently updated row per customer."""
    return df.sort_values("updated_at").drop_duplicates("customer_id", keep="last")


@task
def apply_scd2(df: pd.DataFrame, snapshot_date: str) -> pd.DataFrame:
    df = df.copy()
    df["valid_from"] = pd.Timestamp(snapshot_date)
    df["valid_to"] = pd.Timestamp("9999-12-31")
    df["is_current"] = True
    return df


@task(tags=["warehouse"])
def load_dimension(df: pd.DataFrame, table: str) -> int:
    df.to_sql(table, "postgresql://warehouse/analytics", if_exists="append", index=False)
    return len(df)


@flow(name="Customer Dimension", description="Rebuild dim_customer for one snapshot date")
def customer_dimension(snapshot_date: str | None = None,
                       countries_csv: str = COUNTRY_LOOKUP) -> int:
    logger = get_run_logger()
    snapshot_date = snapshot_date or date.today().isoformat()
    # Small static lookup: read inline rather than as a task.
    countries = pd.read_csv(countries_csv, dtype={"country_code": str})

    customers = extract_customers(snapshot_date)
    addresses = extract_addresses(snapshot_date)
    logger.info("%d customers, %d addresses", len(customers), len(addresses))

    merged = customers.merge(addresses, on="customer_id", how="left")
    merged = merged.merge(countries, on="country_code", how="left")
    unknown = merged["country_name"].isna().sum()
    if unknown:
        logger.warning("%d customers have an unknown country code", unknown)

    deduped = deduplicate(merged)
    scd = apply_scd2(deduped, snapshot_date)
    return load_dimension(scd, "dim_customer")
