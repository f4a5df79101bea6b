"""The nightly platform run: source checks, the ETL flows, then dbt.

Every ETL step is a subflow imported from its own file, so each keeps its own runs, logs
and retries in the UI.
"""

from __future__ import annotations

from datetime import date, timedelta

import requests

from common.notifications import page_oncall, record_run
from dagy import flow, get_run_logger, task
from dagy.task_runners import ConcurrentTaskRunner
from etl.daily_sales import daily_sales_etl
from etl.inventory_snapshot import inventory_snapshot
from orchestration.dbt_build import dbt_build

FRESHNESS_API = "http://metadata.internal/api/freshness"
STATUS_PAGE = "http://status.internal/api/components/nightly"


@task(retries=3, retry_delay_seconds=[60, 120, 300])
def check_source_freshness(sources: list[str]) -> dict[str, bool]:
    resp = requests.get(FRESHNESS_API, params={"source": sources}, timeout=30)
    resp.raise_for_status()
    return {s: resp.json()[s]["fresh"] for s in sources}


@task
def publish_status(results: dict) -> None:
    requests.post(STATUS_PAGE, json={"status": "ok", "details": str(results)}, timeout=10)


@flow(
    name="Nightly Platform Run",
    task_runner=ConcurrentTaskRunner(),
    on_failure=[page_oncall],
    on_completion=[record_run],
    timeout_seconds=21600,  # six hours
)
def nightly_platform(run_date: str | None = None) -> dict:
    logger = get_run_logger()
    run_date = run_date or (date.today() - timedelta(days=1)).isoformat()

    fresh = check_source_freshness(["sales", "inventory"])
    stale = [name for name, ok in fresh.items() if not ok]
    if stale:
        raise RuntimeError(f"stale sources, not running: {stale}")

    sales_rows = daily_sales_etl(date=run_date, wait_for=[fresh])
    inventory = inventory_snapshot(run_date, wait_for=[fresh])
    models = dbt_build(select="tag:nightly", wait_for=[sales_rows, inventory])

    results = {"sales": sales_rows, "inventory": inventory, "dbt": models}
    logger.info("nightly run finished: %s", results)
    publish_status(results)
    return results
