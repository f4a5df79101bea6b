"""Options computed at import time (environment, timedelta, f-strings).

A static reader cannot evaluate these, so the specs of the flows that use them are
approximate. `Plain Snapshot Push` uses only literal options and is exact.
"""

from __future__ import annotations

import os
from datetime import timedelta

import requests

from dagy import flow, get_run_logger, task


@task(timeout_seconds=timedelta(minutes=5).total_seconds())
def pull_snapshot(url: str) -> list[dict]:
    resp = requests.get(url, timeout=60)
    resp.raise_for_status()
    return resp.json()["items"]


@task(name=f"normalize_rows", retries=int(os.environ.get("NORMALIZE_RETRIES", 3)))
def normalize_rows(rows: list[dict]) -> list[dict]:
    return [{k.lower(): v for k, v in row.items()} for row in rows]


@task(retries=2, retry_delay_seconds=10)
def push_snapshot(rows: list[dict], target: str) -> int:
    requests.post(target, json={"rows": rows}, timeout=120).raise_for_status()
    return len(rows)


@flow(name="Computed Options", retries=int(os.environ.get("FLOW_RETRIES", "1")))
def computed_options(url: str = "http://inventory.internal/api/snapshot",
                     target: str = "http://warehouse-gateway.internal/snapshots") -> int:
    logger = get_run_logger()
    rows = pull_snapshot(url)
    normalized = normalize_rows(rows)
    pushed = push_snapshot(normalized, target)
    logger.info("pushed %d rows", pushed)
    return pushed


@flow(name="Plain Snapshot Push", retries=1)
def plain_snapshot_push(rows: list[dict], target: str) -> int:
    return push_snapshot(rows, target)
