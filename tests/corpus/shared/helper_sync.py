"""Sync table pairs with a same-file helper around the shared tasks, then write an audit
record to S3 with boto3 straight from the flow body (ordinary code, not a task)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import boto3

from dagy import flow, task
from shared_pkg.tasks import extract_table, load_table

PAIRS = [
    ("erp.suppliers", "dw.dim_supplier"),
    ("erp.purchase_orders", "dw.fact_purchase_order"),
]


@task
def audit_log(results: list) -> None:
    with open("/var/log/etl/shared_sync.jsonl", "a") as fh:
        fh.write(json.dumps({"at": datetime.now(timezone.utc).isoformat(),
                             "results": results}, default=str) + "\n")


def sync_one(table: str, target: str):
    """Extract a table and load it into its target; returns the load result."""
    df = extract_table(table)
    return load_table(df, target)


@flow(name="Shared Helper Sync")
def shared_helper_sync(pairs: list[tuple[str, str]] = PAIRS,
                       bucket: str = "acme-audit") -> list:
    s3 = boto3.client("s3")
    results = []
    for src, dst in pairs:
        results.append(sync_one(src, dst))

    body = json.dumps(results, default=str)
    s3.put_object(Bucket=bucket, Key="shared-sync/latest.json", Body=body.encode())
    audit_log(results)
    return results
