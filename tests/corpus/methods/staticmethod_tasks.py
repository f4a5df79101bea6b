"""Column transforms grouped on a class as static-method tasks."""

from __future__ import annotations

import pandas as pd

from dagy import flow, task

DATE_COLUMNS = ["created_at", "shipped_at", "delivered_at"]


class Transforms:
    """Reusable, stateless DataFrame transforms."""

    @staticmethod
    @task
    def strip_whitespace(df: pd.DataFrame) -> pd.DataFrame:
        text = df.select_dtypes(include="object").columns
        df[text] = df[text].apply(lambda s: s.str.strip())
        return df

    @staticmethod
    @task(name="cast-dates")
    def cast_dates(df: pd.DataFrame, columns: list[str]) -> pd.DataFrame:
        for column in columns:
            df[column] = pd.to_datetime(df[column], errors="coerce", utc=True)
        return df

    @staticmethod
    def describe(df: pd.DataFrame) -> str:
        """Not a task: a plain static helper."""
        return f"{len(df)} rows x {len(df.columns)} columns"


@task
def read_source(path: str) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str)


@task
def write_target(df: pd.DataFrame, path: str) -> str:
    df.to_parquet(path, index=False)
    return path


@flow(name="Static Method Transforms", log_prints=True)
def static_transforms(src: str = "data/shipments.csv",
                      dst: str = "data/shipments.parquet") -> str:
    df = read_source(src)
    df = Transforms.strip_whitespace(df)
    df = Transforms.cast_dates(df, DATE_COLUMNS)
    print(Transforms.describe(df))
    return write_target(df, dst)
