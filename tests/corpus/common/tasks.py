"""Tasks shared by several teams' flows.

These are plain `@task`s: flows import them directly (`from common.tasks import read_table`)
or call them through the helpers in `common.utils`.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from datetime import timedelta
from typing import Any

import pandas as pd
import requests

from dagy import task
from dagy.tasks import task_input_hash

LOG = logging.getLogger(__name__)

WAREHOUSE_DSN = os.environ.get("WAREHOUSE_DSN", "postgresql://warehouse:5432/analytics")
SLACK_WEBHOOK = os.environ.get("SLACK_WEBHOOK_URL", "")


@task(retries=2, retry_delay_seconds=15, cache_key_fn=task_input_hash,
      cache_expiration=timedelta(minutes=30))
def read_table(name: str, columns: list[str] | None = None) -> pd.DataFrame:
    """Read a whole warehouse table (or a `table/partition` path) into a DataFrame."""
    query = f"SELECT {', '.join(columns) if columns else '*'} FROM {name.replace('/', '_')}"
    LOG.info("reading %s", name)
    return pd.read_sql(query, WAREHOUSE_DSN)


@task(name="write-table", retries=3, retry_delay_seconds=[10, 30, 60])
def write_table(df: pd.DataFrame, name: str, mode: str = "append") -> str:
    """Write a DataFrame to the warehouse; returns the fully qualified table name."""
    schema, _, table = name.rpartition(".")
    df.to_sql(table, WAREHOUSE_DSN, schema=schema or None, if_exists=mode, index=False)
    return f"{schema or 'public'}.{table}"


@task
def validate_schema(df: pd.DataFrame, schema: dict[str, str]) -> list[str]:
    """Compare a frame with the expected {column: dtype}; returns the problems found."""
    problems = []
    for column, dtype in schema.items():
        if column not in df.columns:
            problems.append(f"missing column {column}")
        elif str(df[column].dtype) != dtype:
            problems.append(f"{column}: expected {dtype}, got {df[column].dtype}")
    return problems


@task(retries=2, retry_delay_seconds=5, tags=["notifications"])
def send_slack(message: str, channel: str = "#data-alerts") -> None:
    """Post a message to Slack (a no-op when no webhook is configured)."""
    if not SLACK_WEBHOOK:
        LOG.info("[slack %s] %s", channel, message)
        return
    payload: dict[str, Any] = {"channel": channel, "text": message}
    requests.post(SLACK_WEBHOOK, data=json.dumps(payload), timeout=10).raise_for_status()


@task(name="archive-file")
def archive_file(path: str, archive_root: str = "/mnt/archive") -> str:
    """Move an exported file to the archive volume; returns its new path."""
    target = os.path.join(archive_root, os.path.basename(path))
    shutil.move(path, target)
    return target
