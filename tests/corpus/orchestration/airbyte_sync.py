"""Trigger every Airbyte connection, wait for the jobs, then build the dbt models on top."""

from __future__ import annotations

import os

import httpx

from dagy import flow, get_run_logger, task
from dagy.task_runners import ConcurrentTaskRunner
from orchestration.dbt_build import dbt_build

AIRBYTE = os.environ.get("AIRBYTE_URL", "http://airbyte-server:8001/api/v1")
CONNECTIONS = {
    "postgres_shop": "1b2c4d8e-0001-4c1d-9a51-6f0e2d0b1111",
    "hubspot": "1b2c4d8e-0002-4c1d-9a51-6f0e2d0b2222",
    "google_sheets_budget": "1b2c4d8e-0003-4c1d-9a51-6f0e2d0b3333",
}


@task
def trigger_sync(connection_id: str) -> int:
    resp = httpx.post(f"{AIRBYTE}/connections/sync", json={"connectionId": connection_id},
                      timeout=30)
    resp.raise_for_status()
    return resp.json()["job"]["id"]


@task(retries=60, retry_delay_seconds=30)
def wait_for_job(job_id: int) -> dict:
    """Poll by failing until the job is done; the retries are the polling loop."""
    job = httpx.post(f"{AIRBYTE}/jobs/get", json={"id": job_id}, timeout=30).json()["job"]
    if job["status"] in ("pending", "running", "incomplete"):
        raise RuntimeError(f"job {job_id} still {job['status']}")
    if job["status"] != "succeeded":
        raise ValueError(f"job {job_id} ended {job['status']}")
    return {"job_id": job_id, "rows": job.get("rowsSynced", 0)}


@task
def record_sync_metrics(jobs: dict[str, dict]) -> None:
    for name, job in jobs.items():
        print(f"{name}: {job['rows']} rows (job {job['job_id']})")


@flow(name="airbyte-connection-sync")
def airbyte_connection_sync(connection_id: str) -> dict:
    job_id = trigger_sync.with_options(retries=5, retry_delay_seconds=20)(connection_id)
    return wait_for_job(job_id)


@flow(name="Airbyte Syncs", task_runner=ConcurrentTaskRunner(), log_prints=True)
def airbyte_syncs(connections: dict[str, str] = CONNECTIONS, run_dbt: bool = True) -> None:
    logger = get_run_logger()
    jobs = {}
    for name, conn_id in connections.items():
        logger.info("syncing %s", name)
        jobs[name] = airbyte_connection_sync(conn_id)

    if run_dbt:
        dbt_build(select="source:airbyte+", wait_for=list(jobs.values()))
    record_sync_metrics(jobs)
