"""Stripe charges -> staging table -> merge, one window per day, fetched in parallel."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone

import httpx

from dagy import flow, get_run_logger, task

STRIPE_API = "https://api.stripe.com/v1"
STAGING = "staging.stripe_charges"


def _day_windows(start: date, end: date) -> Iterator[tuple[int, int]]:
    """(created[gte], created[lt]) unix-second pairs, one per day."""
    day = start
    while day < end:
        lo = datetime(day.year, day.month, day.day, tzinfo=timezone.utc)
        yield int(lo.timestamp()), int((lo + timedelta(days=1)).timestamp())
        day += timedelta(days=1)


@task
def create_staging_table(table: str) -> str:
    with httpx.Client(base_url="http://warehouse-gateway.internal") as client:
        client.post("/sql", json={"sql": f"CREATE TABLE IF NOT EXISTS {table} (raw jsonb)"})
    return table


@task(retries=5, retry_delay_seconds=[5, 15, 45, 120, 300], tags=["stripe"])
def fetch_window(endpoint: str, lo: int, hi: int, api_key: str) -> list[dict]:
    """Every object created in [lo, hi), following Stripe's cursor pagination."""
    rows: list[dict] = []
    params: dict = {"created[gte]": lo, "created[lt]": hi, "limit": 100}
    with httpx.Client(base_url=STRIPE_API, auth=(api_key, ""), timeout=30) as client:
        while True:
            page = client.get(f"/{endpoint}", params=params).raise_for_status().json()
            rows.extend(page["data"])
            if not page["has_more"]:
                return rows
            params["starting_after"] = page["data"][-1]["id"]


@task
def stage_records(records: list[dict], table: str) -> int:
    with httpx.Client(base_url="http://warehouse-gateway.internal") as client:
        client.post("/bulk", json={"table": table, "rows": records})
    return len(records)


@task(timeout_seconds=1200)
def merge_staging(table: str) -> int:
    with httpx.Client(base_url="http://warehouse-gateway.internal", timeout=1200) as client:
        return client.post("/merge", json={"from": table, "into": "raw.stripe_charges"}).json()["rows"]


@task
def update_cursor_state(until: str) -> None:
    with open("/var/lib/etl/stripe_cursor", "w") as fh:
        fh.write(until)


@flow(name="Stripe Payments Ingest", retries=1, retry_delay_seconds=300)
def stripe_payments(start: str, end: str, endpoint: str = "charges") -> int:
    logger = get_run_logger()
    api_key = os.environ.get("STRIPE_API_KEY", "")
    if not api_key:
        raise RuntimeError("STRIPE_API_KEY is not set")

    ready = create_staging_table(STAGING)

    staged = []
    for lo, hi in _day_windows(date.fromisoformat(start), date.fromisoformat(end)):
        page = fetch_window.submit(endpoint, lo, hi, api_key)
        staged.append(stage_records.submit(page, STAGING, wait_for=[ready]))

    merged = merge_staging(STAGING, wait_for=staged)
    logger.info("merged %s rows from %s to %s", merged, start, end)
    update_cursor_state(end, wait_for=[merged])
    return merged
