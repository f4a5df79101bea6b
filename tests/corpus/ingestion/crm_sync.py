"""Incremental sync of CRM entities (accounts, contacts, deals) into the warehouse.

Each entity is fetched concurrently; one failing entity does not stop the others.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import httpx

from dagy import flow, get_run_logger, task

ENTITIES = {
    "accounts": "/v2/accounts",
    "contacts": "/v2/contacts",
    "deals": "/v2/deals",
}
STATE_FILE = "/var/lib/etl/crm_last_sync.json"


@task
def get_last_sync() -> str:
    try:
        with open(STATE_FILE) as fh:
            return json.load(fh)["since"]
    except FileNotFoundError:
        return "1970-01-01T00:00:00Z"


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["crm"])
def fetch_entity(base_url: str, path: str, since: str) -> list[dict]:
    headers = {"Authorization": f"Bearer {os.environ['CRM_TOKEN']}"}
    out: list[dict] = []
    url: str | None = f"{base_url}{path}?updated_since={since}"
    with httpx.Client(headers=headers, timeout=60) as client:
        while url:
            body = client.get(url).raise_for_status().json()
            out.extend(body["results"])
            url = body.get("next")
    return out


@task(tags=["warehouse"])
def upsert_entity(name: str, records: list[dict]) -> int:
    with httpx.Client(base_url="http://warehouse-gateway.internal") as client:
        client.post("/upsert", json={"table": f"crm.{name}", "key": "id", "rows": records})
    return len(records)


@task
def log_sync_run(summary: dict[str, int]) -> None:
    with open(STATE_FILE, "w") as fh:
        json.dump({"since": datetime.now(timezone.utc).isoformat(), "last_run": summary}, fh)


@flow(name="CRM Sync", retries=2, retry_delay_seconds=120)
def crm_sync(base_url: str = "https://crm.example.com/api") -> dict[str, int]:
    logger = get_run_logger()
    since = get_last_sync()
    futures = {name: fetch_entity.submit(base_url, path, since) for name, path in ENTITIES.items()}

    summary: dict[str, int] = {}
    for name in ENTITIES:
        try:
            records = futures[name].result()
        except Exception:  # noqa: BLE001 - keep syncing the other entities
            logger.exception("fetching %s failed", name)
            summary[name] = -1
            continue
        summary[name] = upsert_entity(name, records)

    log_sync_run(summary)
    return summary
