"""Fan out over a list of JSON endpoints with asyncio, then transform and save once."""

from __future__ import annotations

import asyncio
import json

import aiofiles
import httpx

from dagy import flow, get_run_logger, task

ENDPOINTS = [
    "https://status.example-cdn.com/api/v2/summary.json",
    "https://status.example-pay.com/api/v2/summary.json",
    "https://status.example-mail.com/api/v2/summary.json",
]
CLIENT = {"timeout": 15.0, "headers": {"User-Agent": "acme-dagy/1.0"}}
OUT = "/data/vendors/status.json"


@task(retries=3, retry_delay_seconds=[1, 5, 10])
async def fetch_json(client_cfg: dict, url: str) -> dict:
    async with httpx.AsyncClient(**client_cfg) as client:
        resp = await client.get(url)
        resp.raise_for_status()
        return resp.json()


@task
async def transform(payloads: list[dict]) -> list[dict]:
    rows = []
    for payload in payloads:
        for component in payload.get("components", []):
            rows.append({"page": payload["page"]["name"], "component": component["name"],
                         "status": component["status"]})
    return rows


@task
async def save(rows: list[dict], path: str) -> str:
    async with aiofiles.open(path, "w") as fh:
        await fh.write(json.dumps(rows, indent=2))
    return path


@flow(name="async-api-fanout")
async def async_api_fanout(endpoints: list[str] = ENDPOINTS) -> str:
    logger = get_run_logger()
    payloads = await asyncio.gather(*[fetch_json(CLIENT, url) for url in endpoints])
    logger.info("fetched %d status pages", len(payloads))
    rows = await transform(payloads)
    return await save(rows, OUT)


if __name__ == "__main__":
    asyncio.run(async_api_fanout())
