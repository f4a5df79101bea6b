"""Export every daily partition of several tables, then write one manifest."""

from __future__ import annotations

import json

import pandas as pd

from dagy import flow, task, unmapped

TABLES = ["orders", "order_lines", "shipments"]
EXPORT_ROOT = "s3://acme-exports/partner-x"


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["export"])
def export_partition(table: str, day: str) -> str:
    df = pd.read_sql(f"SELECT * FROM {table} WHERE created_at::date = %(d)s",
                     "postgresql://warehouse/shop", params={"d": day})
    path = f"{EXPORT_ROOT}/{table}/dt={day}/data.csv.gz"
    df.to_csv(path, index=False, compression="gzip")
    return path


@task
def write_manifest(exported: dict[str, list[str]]) -> str:
    # Futures passed in a task's arguments arrive resolved: lists of paths here.
    manifest = {table: sorted(paths) for table, paths in exported.items()}
    path = f"{EXPORT_ROOT}/_manifest.json"
    pd.io.common.get_handle(path, "w").handle.write(json.dumps(manifest))
    return path


@task(retries=2)
def notify_downstream(manifest_path: str) -> None:
    print(f"partner notified: {manifest_path}")


@flow(name="partitioned-export")
def partitioned_export(start: str, end: str, tables: list[str] = TABLES) -> str:
    days = [d.strftime("%Y-%m-%d") for d in pd.date_range(start, end)]

    exported = {}
    for table in tables:
        exported[table] = export_partition.map(unmapped(table), days)

    for futures in exported.values():
        futures.wait()

    manifest = write_manifest(exported)
    notify_downstream(manifest)
    return manifest
