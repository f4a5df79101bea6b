"""Authenticated API pull: the client is built from a task's result, and its `fetch`
method is a task, so `fetch` depends on `get_credentials` through `self`."""

from __future__ import annotations

import json
import os

import boto3
import requests

from dagy import flow, get_run_logger, task

BASE_URL = "https://billing.partner.example/api"


@task
def get_credentials(secret_name: str) -> dict:
    sm = boto3.client("secretsmanager")
    return json.loads(sm.get_secret_value(SecretId=secret_name)["SecretString"])


class ApiClient:
    def __init__(self, creds: dict, base_url: str) -> None:
        self.session = requests.Session()
        self.session.auth = (creds["client_id"], creds["client_secret"])
        self.base_url = base_url

    @task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["billing-api"])
    def fetch(self, resource: str, params: dict | None = None) -> list[dict]:
        resp = self.session.get(f"{self.base_url}/{resource}", params=params, timeout=60)
        resp.raise_for_status()
        return resp.json()["data"]


@task
def save_records(records: list[dict], resource: str) -> str:
    path = os.path.join("/data/billing", f"{resource}.jsonl")
    with open(path, "w") as fh:
        fh.writelines(json.dumps(r) + "\n" for r in records)
    return path


@flow(name="Authenticated API Pull")
def api_pull(resources: tuple[str, ...] = ("invoices", "payments")) -> None:
    logger = get_run_logger()
    creds = get_credentials("billing-api")
    client = ApiClient(creds, BASE_URL)
    for resource in resources:
        records = client.fetch(resource, params={"limit": 500})
        path = save_records(records, resource)
        logger.info("saved %s", path)
