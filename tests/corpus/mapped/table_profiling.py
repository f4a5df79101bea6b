"""Profile every table of a schema: mapped profiling, mapped null report, one summary."""

from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from dagy import flow, task, unmapped

WAREHOUSE = "postgresql://warehouse.internal/analytics"


@task
def get_connection_info(schema: str) -> dict:
    return {"url": WAREHOUSE, "schema": schema, "sample_rows": 100_000}


@task
def list_tables(conn: dict) -> list[str]:
    engine = sa.create_engine(conn["url"])
    return sa.inspect(engine).get_table_names(schema=conn["schema"])


@task(retries=2, retry_delay_seconds=10, tags=["profiling"])
def profile_table(table: str, conn: dict) -> dict:
    df = pd.read_sql(f'SELECT * FROM {conn["schema"]}."{table}" LIMIT {conn["sample_rows"]}',
                     conn["url"])
    return {"table": table, "rows": len(df), "null_ratio": df.isna().mean().to_dict(),
            "distinct": df.nunique().to_dict()}


@task
def null_report(profile: dict) -> list[str]:
    return [f'{profile["table"]}.{col}' for col, r in profile["null_ratio"].items() if r > 0.5]


@task
def compile_report(profiles: list[dict], nulls: list[list[str]]) -> pd.DataFrame:
    df = pd.DataFrame([{"table": p["table"], "rows": p["rows"]} for p in profiles])
    df["mostly_null_columns"] = [len(n) for n in nulls]
    return df


@task
def publish_report(report: pd.DataFrame) -> str:
    path = "s3://acme-governance/profiles/latest.csv"
    report.to_csv(path, index=False)
    return path


@flow(name="Table Profiling")
def table_profiling(schema: str = "analytics") -> str:
    conn = get_connection_info(schema)
    tables = list_tables(conn)
    profiles = profile_table.map(tables, unmapped(conn))
    nulls = null_report.map(profiles)
    report = compile_report(profiles, nulls)
    return publish_report(report, wait_for=[nulls])
