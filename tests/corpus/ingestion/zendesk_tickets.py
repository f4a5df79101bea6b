"""Zendesk tickets export: count the pages first, then fetch them all concurrently."""

from __future__ import annotations

import os

import pandas as pd
import requests

from dagy import flow, get_run_logger, task
from dagy.futures import wait

OUT = "s3://acme-support/zendesk/tickets.parquet"


def _auth() -> tuple[str, str]:
    return f"{os.environ['ZENDESK_EMAIL']}/token", os.environ["ZENDESK_TOKEN"]


@task
def get_page_count(base: str, per_page: int) -> int:
    count = requests.get(f"{base}/tickets/count.json", auth=_auth(), timeout=30).json()
    return -(-count["count"]["value"] // per_page)


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["zendesk"])
def fetch_tickets_page(base: str, page: int, per_page: int) -> list[dict]:
    resp = requests.get(f"{base}/tickets.json", params={"page": page, "per_page": per_page},
                        auth=_auth(), timeout=60)
    if resp.status_code == 429:
        raise RuntimeError("rate limited")  # retried
    resp.raise_for_status()
    return resp.json()["tickets"]


@task
def flatten(pages: list[list[dict]]) -> pd.DataFrame:
    return pd.json_normalize([t for page in pages for t in page])


@task
def write_tickets(df: pd.DataFrame, path: str) -> int:
    df.to_parquet(path, index=False)
    return len(df)


@flow(name="Zendesk Tickets")
def zendesk_tickets(base: str = "https://acme.zendesk.com/api/v2", per_page: int = 100) -> int:
    logger = get_run_logger()
    n_pages = get_page_count(base, per_page)
    futures = [fetch_tickets_page.submit(base, p, per_page) for p in range(1, n_pages + 1)]

    done, not_done = wait(futures, timeout=600)
    if not_done:
        logger.warning("%d pages did not finish in time and are skipped", len(not_done))

    pages = [f.result() for f in done]
    frame = flatten(pages)
    return write_tickets(frame, OUT)
