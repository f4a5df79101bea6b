"""Report export configured by module-level constants and the environment.

Decorator options use module-level constants assigned literals (exact); the environment is
only read in the flow body, which is ordinary code.
"""

from __future__ import annotations

import csv
import os

import boto3
import psycopg2

from dagy import flow, get_run_logger, task

RETRIES = 3
TIMEOUT = 600
ENV = os.environ.get("DAGY_ENV", "dev")
BUCKETS = {"prod": "acme-reports", "staging": "acme-reports-staging"}

DAILY_SQL = "SELECT * FROM reporting.daily_kpis WHERE day = current_date - 1"
WEEKLY_SQL = "SELECT * FROM reporting.weekly_kpis WHERE week = date_trunc('week', now()) - interval '1 week'"


@task(retries=RETRIES, timeout_seconds=TIMEOUT)
def run_query(sql: str, env: str) -> list[tuple]:
    with psycopg2.connect(os.environ[f"REPORTING_DSN_{env.upper()}"]) as conn:
        with conn.cursor() as cur:
            cur.execute(sql)
            return cur.fetchall()


@task
def export_csv(rows: list[tuple], path: str) -> str:
    with open(path, "w", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return path


@task(retries=RETRIES)
def upload(path: str, bucket: str) -> str:
    key = f"exports/{os.path.basename(path)}"
    boto3.client("s3").upload_file(path, bucket, key)
    return f"s3://{bucket}/{key}"


@flow(name="Env Config Export", version="0.9.1")
def env_export(report: str = "daily", out_dir: str = "/tmp/exports") -> str:
    logger = get_run_logger()
    match report:
        case "daily":
            sql = DAILY_SQL
        case "weekly":
            sql = WEEKLY_SQL
        case _:
            raise ValueError(f"unknown report {report!r}")

    rows = run_query(sql, ENV)
    path = export_csv(rows, os.path.join(out_dir, f"{report}.csv"))

    with open(os.path.join(out_dir, "manifest.txt"), "a") as fh:
        fh.write(f"{report}\n")

    if ENV in BUCKETS:
        return upload(path, BUCKETS[ENV])
    logger.info("env %s: not uploading %s", ENV, path)
    return path
