"""Lakehouse refresh: bronze -> silver -> gold, each layer its own flow."""

from __future__ import annotations

import pyarrow.dataset as ds
import pyarrow.parquet as pq

from dagy import flow, get_run_logger, task
from dagy.task_runners import ConcurrentTaskRunner

SOURCES = ["s3://acme-raw/orders", "s3://acme-raw/customers", "s3://acme-raw/products"]
LAKE = "s3://acme-lake"


@task(retries=2)
def copy_raw(source: str) -> str:
    name = source.rstrip("/").rsplit("/", 1)[-1]
    target = f"{LAKE}/bronze/{name}"
    ds.write_dataset(ds.dataset(source, format="json"), target, format="parquet",
                     existing_data_behavior="overwrite_or_ignore")
    return target


@task
def clean_partition(path: str) -> str:
    table = pq.read_table(path).drop_null()
    out = path.replace("/bronze/", "/silver/")
    pq.write_table(table, f"{out}/part-0.parquet")
    return out


@task
def compact_tables(paths: list[str]) -> list[str]:
    for path in paths:
        pq.write_table(pq.read_table(path), f"{path}/compacted.parquet")
    return paths


@task(timeout_seconds=3600)
def build_aggregates(tables: list[str]) -> list[str]:
    return [t.replace("/silver/", "/gold/") for t in tables]


@task
def optimize_tables(tables: list[str]) -> None:
    print(f"optimizing {len(tables)} tables")


@task
def vacuum_old_versions(tables: list[str], retain_hours: int) -> None:
    print(f"vacuum {tables} keeping {retain_hours}h")


@task(retries=3, retry_delay_seconds=[10, 30, 60])
def refresh_bi_cache(tables: list[str]) -> None:
    print(f"refreshing BI extracts for {tables}")


@flow(name="bronze-ingest")
def bronze_ingest(sources: list[str]) -> list[str]:
    paths = []
    for src in sources:
        paths.append(copy_raw(src))
    return paths


@flow(name="silver-transform")
def silver_transform(paths: list[str]) -> list[str]:
    cleaned = [clean_partition.submit(p) for p in paths]
    return compact_tables([c.result() for c in cleaned])


@flow(name="gold-aggregates")
def gold_aggregates(tables: list[str]) -> list[str]:
    agg = build_aggregates(tables)
    optimize_tables.submit(agg)
    return agg


@flow(name="Lakehouse Refresh", task_runner=ConcurrentTaskRunner(), log_prints=True)
def lakehouse_refresh(sources: list[str] = SOURCES) -> list[str]:
    logger = get_run_logger()
    paths = bronze_ingest(sources)
    silver = silver_transform(paths)
    gold = gold_aggregates.with_options(name="gold-aggregates-nightly", retries=1)(silver)
    logger.info("gold tables: %s", gold)

    vacuum_old_versions.submit(gold, retain_hours=168)
    refresh_bi_cache(gold)
    return gold
