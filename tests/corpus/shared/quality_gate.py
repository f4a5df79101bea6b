"""Pull rows from a partner API, gate them with the shared quality checks, then load.

`requests` and `pandas` calls are ordinary code; everything under `shared_pkg` is a task.
"""

from __future__ import annotations

import pandas as pd
import requests

import shared_pkg.tasks
from dagy import flow, get_run_logger, task
from shared_pkg import quality
from shared_pkg.notify import post_message

API_URL = "https://partner.example.com/api/v2/rows"


@task(retries=3, retry_delay_seconds=[10, 30, 60])
def fetch_api_rows(url: str) -> list[dict]:
    resp = requests.get(url, params={"limit": 10_000}, timeout=60)
    resp.raise_for_status()
    return resp.json()["rows"]


@flow(name="Shared Quality Gate")
def quality_gate(url: str = API_URL, table: str = "partner.api_rows") -> dict:
    logger = get_run_logger()
    # A cheap reachability probe in the flow body itself: plain requests, not a task.
    requests.head(url, timeout=5).raise_for_status()

    rows = fetch_api_rows(url)
    frame = pd.DataFrame(rows)
    report = quality.run_checks(frame, suite="partner_default")

    if not report["passed"]:
        post_message(f"Quality gate failed for {table}: {report['failures']}",
                     channel="#partner-data")
        logger.error("not loading %s", table)
        return report

    shared_pkg.tasks.load_table(frame, table)
    return report
