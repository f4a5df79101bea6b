"""Incremental load of orders from the OLTP database."""

from dagy_git import flow, task

BATCH_SIZE = 5000


@task(retries=3, retry_delay_seconds=10)
def fetch_changes(since: str, batch_size: int) -> list: ...


@task
def deduplicate(rows: list) -> list: ...


@task(timeout_seconds=300)
def upsert(rows: list, table: str) -> int: ...


@task
def record_watermark(count: int) -> None: ...


@flow(name="load_orders", version="1.0.0", description="Incremental order ingestion")
def load_orders(since: str = "1970-01-01", table: str = "raw.orders"):
    rows = fetch_changes(since, batch_size=BATCH_SIZE)
    unique = deduplicate(rows)
    count = upsert(unique, table=table)
    record_watermark(count)
