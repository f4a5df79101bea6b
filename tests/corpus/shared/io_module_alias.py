"""Filter and summarise a parquet file with the shared IO tasks, imported as a module alias.

`sio.load` / `sio.save` are tasks (from `shared_pkg.io`); the pandas calls in between are
ordinary code in the flow body.
"""

from __future__ import annotations

import pandas as pd

import shared_pkg.io as sio
from dagy import flow, get_run_logger

MIN_AMOUNT = 0


@flow(name="Shared IO Roundtrip", log_prints=True)
def shared_io_roundtrip(src: str = "s3://acme-finance/in/payments.parquet",
                        dst: str = "s3://acme-finance/out/payments_by_region.parquet") -> int:
    logger = get_run_logger()
    df = sio.load(src)

    df = df[df["amount"] > MIN_AMOUNT]
    df["region"] = df["region"].fillna("unknown")
    summary = (df.groupby("region", as_index=False)
                 .agg(total=("amount", "sum"), payments=("payment_id", "count")))
    print(summary.to_string(index=False))

    sio.save(summary, dst)
    sio.save(df, dst.replace("payments_by_region", "payments_filtered"))
    logger.info("wrote %d regions", len(summary))
    return len(summary)
