"""Fetch a set of endpoints, falling back to a mirror per endpoint on timeouts.

Two levels of helpers: `fetch_all` calls `fetch_with_fallback`, which calls the tasks.
"""

from __future__ import annotations

import logging

import hvac
import requests

from dagy import flow, task

LOG = logging.getLogger(__name__)
VAULT_PATH = "secret/data/partners/api"
ENDPOINTS = ["/v1/catalog", "/v1/stock", "/v1/prices"]
PRIMARY = "https://api.partner.example"
MIRROR = "https://mirror.partner.example"


@task
def get_token(path: str) -> str:
    client = hvac.Client()
    return client.secrets.kv.v2.read_secret_version(path=path)["data"]["data"]["token"]


@task(retries=1, timeout_seconds=30)
def fetch_primary(endpoint: str, token: str) -> dict:
    resp = requests.get(f"{PRIMARY}{endpoint}", headers={"Authorization": f"Bearer {token}"},
                        timeout=25)
    return resp.raise_for_status().json()


@task(retries=3, retry_delay_seconds=10)
def fetch_mirror(endpoint: str) -> dict:
    # The mirror is public and a few minutes behind.
    return requests.get(f"{MIRROR}{endpoint}", timeout=60).raise_for_status().json()


@task
def merge_payloads(payloads: dict[str, dict]) -> dict:
    return {ep.strip("/").replace("/", "_"): body for ep, body in payloads.items()}


@task
def store_payloads(merged: dict) -> None:
    for name, body in merged.items():
        LOG.info("storing %s (%d keys)", name, len(body))


def fetch_with_fallback(endpoint: str, token: str) -> dict:
    try:
        return fetch_primary(endpoint, token)
    except TimeoutError:
        LOG.warning("%s timed out, using the mirror", endpoint)
        return fetch_mirror(endpoint)


def fetch_all(endpoints: list[str], token: str) -> dict[str, dict]:
    results = {}
    for ep in endpoints:
        results[ep] = fetch_with_fallback(ep, token)
    return results


@flow(name="Resilient Fetch")
def resilient_fetch(endpoints: list[str] = ENDPOINTS) -> None:
    token = get_token(VAULT_PATH)
    payloads = fetch_all(endpoints, token)
    merged = merge_payloads(payloads)
    store_payloads(merged)
