"""Nightly order ETL: the example from the Dagy docs."""

from dagy import flow, task


@task
def extract(source: str) -> list:
    """Read raw order rows from the source bucket."""
    ...


@task(retries=2, retry_delay_seconds=30)
def transform(records: list) -> list:
    """Clean and normalise orders."""
    ...


@task(timeout_seconds=600)
def load(records: list) -> dict:
    """Load orders into the warehouse."""
    ...


@flow(name="order_etl", version="2.1.0")
def order_etl(source: str = "s3://data/orders/"):
    raw = extract(source)
    clean = transform(raw)
    return load(clean)
