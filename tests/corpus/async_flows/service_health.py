"""Service health metrics: ping every configured service, collect metrics for live ones.

The flow is async; `load_config` and `write_metrics` are ordinary sync tasks.
"""

from __future__ import annotations

import asyncio

import httpx
import yaml

from dagy import flow, get_run_logger, task


@task
def load_config(path: str) -> dict:
    with open(path) as fh:
        return yaml.safe_load(fh)


@task(retries=1, retry_delay_seconds=2)
async def ping_service(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{url}/healthz")).status_code == 200
    except httpx.TransportError:
        return False


@task(retries=2)
async def collect_metrics(url: str, window_minutes: int) -> dict:
    async with httpx.AsyncClient(timeout=30) as client:
        resp = await client.get(f"{url}/metrics/summary", params={"window": window_minutes})
        return {"url": url, **resp.raise_for_status().json()}


@task(tags=["warehouse"])
def write_metrics(metrics: list[dict], table: str) -> int:
    import pandas as pd

    pd.DataFrame(metrics).to_sql(table, "postgresql://warehouse/ops", if_exists="append",
                                 index=False)
    return len(metrics)


@flow(name="Service Health Metrics")
async def service_health(config_path: str = "conf/services.yaml",
                         window_minutes: int = 15) -> int:
    logger = get_run_logger()
    cfg = load_config(config_path)
    services = cfg["services"]

    statuses = await asyncio.gather(*[ping_service(s["url"]) for s in services])
    healthy = [s for s, ok in zip(services, statuses) if ok]
    if len(healthy) < len(services):
        logger.warning("%d service(s) down", len(services) - len(healthy))

    metrics = await asyncio.gather(*[collect_metrics(s["url"], window_minutes) for s in healthy])
    return write_metrics(list(metrics), "service_metrics")
