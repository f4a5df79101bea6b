"""Geocode customer addresses in batches; retry the misses with a fallback provider."""

from __future__ import annotations

import os

import pandas as pd
import requests

from common.utils import chunked
from dagy import flow, get_run_logger, task, unmapped

PROVIDER = {"url": "https://geocoder.example-maps.com/v1/search", "key_env": "GEOCODER_KEY"}
FALLBACK_URL = "https://nominatim.example.org/search"


@task
def load_addresses(table: str) -> list[dict]:
    df = pd.read_sql(f"SELECT id, street, city, postcode, country FROM {table} "
                     "WHERE lat IS NULL", "postgresql://warehouse/crm")
    return df.to_dict("records")


@task(retries=2, retry_delay_seconds=3, tags=["geocoder"])
def geocode(address: dict, provider: dict) -> dict:
    query = f'{address["street"]}, {address["postcode"]} {address["city"]}, {address["country"]}'
    resp = requests.get(provider["url"], params={"q": query, "key": os.environ[provider["key_env"]]},
                        timeout=10)
    hits = resp.json().get("results", []) if resp.ok else []
    if not hits:
        return {**address, "status": "miss"}
    return {**address, "lat": hits[0]["lat"], "lon": hits[0]["lon"], "status": "ok"}


@task(retries=1)
def geocode_fallback(result: dict) -> dict:
    resp = requests.get(FALLBACK_URL, params={"q": result["street"], "format": "json"}, timeout=10)
    hits = resp.json() if resp.ok else []
    return {**result, "lat": hits[0]["lat"], "lon": hits[0]["lon"], "status": "fallback"} \
        if hits else result


@task(tags=["warehouse"])
def save_geocodes(results: list[dict], table: str) -> int:
    df = pd.DataFrame([r for r in results if r["status"] != "miss"])
    df.to_sql(f"{table}_geocodes", "postgresql://warehouse/crm", if_exists="append", index=False)
    return len(df)


@flow(name="Geocode Addresses")
def geocode_addresses(table: str = "customers", batch_size: int = 500) -> int:
    logger = get_run_logger()
    addresses = load_addresses(table)

    results = []
    for batch in chunked(addresses, batch_size):
        futures = geocode.map(batch, unmapped(PROVIDER))
        results.extend(f.result() for f in futures)

    failed = [r for r in results if r["status"] != "ok"]
    if failed:
        logger.info("%d addresses missed, trying the fallback", len(failed))
        retried = geocode_fallback.map(failed)
        results.extend(retried.result())

    return save_geocodes(results, table)
