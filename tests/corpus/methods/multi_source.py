"""Read several typed sources (dataclass parameters) with a Reader/Writer pair of classes
whose methods are tasks."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from dagy import flow, task


@dataclass
class Source:
    name: str
    url: str
    fmt: str = "csv"
    options: dict = field(default_factory=dict)


DEFAULT_SOURCES = [
    Source("stores", "s3://acme-ref/stores.csv"),
    Source("regions", "s3://acme-ref/regions.json", fmt="json"),
    Source("targets", "s3://acme-finance/targets.parquet", fmt="parquet"),
]


class Reader:
    @task(retries=2, retry_delay_seconds=10)
    def read(self, source: Source) -> pd.DataFrame:
        readers = {"csv": pd.read_csv, "json": pd.read_json, "parquet": pd.read_parquet}
        df = readers[source.fmt](source.url, **source.options)
        return df.assign(_source=source.name)


class Writer:
    def __init__(self, root: str) -> None:
        self.root = root.rstrip("/")

    @task
    def write(self, df: pd.DataFrame, name: str) -> str:
        path = f"{self.root}/{name}.parquet"
        df.to_parquet(path, index=False)
        return path


@task
def harmonize(frames: list[pd.DataFrame]) -> pd.DataFrame:
    frames = [f.rename(columns=str.lower) for f in frames]
    return pd.concat(frames, ignore_index=True, sort=False)


@flow(name="Multi-Source Reader")
def multi_source(sources: list[Source] = DEFAULT_SOURCES,
                 out_root: str = "s3://acme-lake/harmonized") -> str:
    reader = Reader()
    frames = [reader.read(s) for s in sources]
    combined = harmonize(frames)
    return Writer(out_root).write(combined, "reference_combined")
