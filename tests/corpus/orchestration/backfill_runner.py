"""Quarter backfills: re-run existing flows as subflows under backfill-specific names.

`with_options(name=...)` gives each re-run its own name in the UI, so a backfill of orders is
easy to tell from the nightly full refresh.
"""

from __future__ import annotations

import pandas as pd

from dagy import flow, get_run_logger, task
from etl.marketing_spend import marketing_spend_backfill
from etl.orders_incremental import orders_full_refresh


@task
def plan_partitions(start: str, end: str) -> list[str]:
    """Month starts between start and end, inclusive."""
    months = pd.date_range(start, end, freq="MS")
    if months.empty:
        raise ValueError(f"no month start between {start} and {end}")
    return [m.strftime("%Y-%m-%d") for m in months]


@task
def mark_backfilled(results: list, start: str, end: str) -> None:
    with open("/var/lib/etl/backfills.log", "a") as fh:
        fh.write(f"{start}..{end}: {results}\n")


@flow(name="Quarterly Backfill", description="Re-run orders, returns and spend for a quarter")
def quarterly_backfill(start: str, end: str) -> None:
    logger = get_run_logger()
    months = plan_partitions(start, end)
    logger.info("backfilling %d months: %s", len(months), months)

    orders = orders_full_refresh.with_options(name="orders-refresh-backfill", retries=2)(
        table="orders"
    )
    returns = orders_full_refresh.with_options(name="returns-refresh-backfill")(table="returns")
    spend = marketing_spend_backfill(months[0], end)

    mark_backfilled([orders, returns, spend], start, end)
