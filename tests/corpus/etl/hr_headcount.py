"""Monthly HR headcount report, with a fallback when Workday is unavailable."""

from __future__ import annotations

import json
import os

import pandas as pd
import requests

from dagy import flow, get_run_logger, task

WORKDAY_URL = "https://wd5-services.workday.example/ccx/service/acme/Human_Resources"
SNAPSHOT_DIR = "/data/hr/snapshots"


@task(retries=2, retry_delay_seconds=60, timeout_seconds=900)
def extract_from_workday(month: str) -> pd.DataFrame:
    token = os.environ["WORKDAY_TOKEN"]
    resp = requests.get(f"{WORKDAY_URL}/workers", params={"asOf": f"{month}-01"},
                        headers={"Authorization": f"Bearer {token}"}, timeout=120)
    resp.raise_for_status()
    return pd.json_normalize(resp.json()["workers"])


@task
def load_last_snapshot(month: str) -> pd.DataFrame:
    files = sorted(f for f in os.listdir(SNAPSHOT_DIR) if f <= f"{month}.parquet")
    return pd.read_parquet(os.path.join(SNAPSHOT_DIR, files[-1]))


@task(cache_expiration=None)
def extract_departments() -> pd.DataFrame:
    return pd.read_csv("s3://acme-hr/reference/departments.csv")


@task
def build_headcount(employees: pd.DataFrame, departments: pd.DataFrame) -> pd.DataFrame:
    df = employees.merge(departments, on="department_id", how="left")
    return (df.groupby(["division", "department_name"])
              .agg(headcount=("worker_id", "nunique"), fte=("fte", "sum"))
              .reset_index())


@task(name="Save HR report")
def save_report(report: pd.DataFrame, month: str) -> str:
    path = f"s3://acme-hr/reports/headcount_{month}.xlsx"
    report.to_excel(path, index=False)
    return path


@task(name="Notify HR")
def notify_hr(message: str) -> None:
    requests.post("https://hooks.slack.example/hr-analytics",
                  data=json.dumps({"text": message}), timeout=10)


@flow(name="HR Headcount Report", flow_run_name="headcount-{month}")
def hr_headcount(month: str) -> str:
    logger = get_run_logger()
    try:
        employees = extract_from_workday(month)
    except (ConnectionError, requests.HTTPError):
        logger.warning("Workday unavailable, falling back to the last snapshot")
        employees = load_last_snapshot(month)

    departments = extract_departments()
    report = build_headcount(employees, departments)
    saved = save_report(report, month)

    notify_hr(f"Headcount report for {month} is ready", wait_for=[saved])
    return saved
