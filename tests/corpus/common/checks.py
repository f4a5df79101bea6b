"""Data-quality checks, looked up by name (`check_<kind>`) by the dynamic checks flow."""

from __future__ import annotations

import pandas as pd

from dagy import task


@task
def check_nulls(df: pd.DataFrame, max_ratio: float = 0.01) -> dict:
    """Columns whose share of nulls is above `max_ratio`."""
    ratios = df.isna().mean()
    bad = ratios[ratios > max_ratio]
    return {"check": "nulls", "passed": bad.empty, "columns": bad.to_dict()}


@task
def check_duplicates(df: pd.DataFrame, keys: list[str] | None = None) -> dict:
    """Rows duplicated on `keys` (all columns when None)."""
    dupes = int(df.duplicated(subset=keys).sum())
    return {"check": "duplicates", "passed": dupes == 0, "count": dupes}


@task
def check_freshness(df: pd.DataFrame, column: str = "updated_at", max_hours: int = 26) -> dict:
    """Whether the newest row is recent enough."""
    newest = pd.to_datetime(df[column]).max()
    age_hours = (pd.Timestamp.now(tz="UTC") - newest).total_seconds() / 3600
    return {"check": "freshness", "passed": age_hours <= max_hours, "age_hours": age_hours}
