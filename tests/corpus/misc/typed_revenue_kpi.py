"""Net revenue KPI for one region and day.

Typed throughout, with a frozen dataclass as the flow parameter, `Optional` defaults and a
`__main__` block; logging is configured at import time.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Optional

import pandas as pd

from dagy import flow, task

logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
LOG = logging.getLogger(__name__)

WAREHOUSE = "postgresql://warehouse.internal/analytics"


@dataclass(frozen=True)
class ReportConfig:
    """Which slice of the business the KPI is computed for."""

    region: str
    currency: str = "EUR"
    include_returns: bool = True


@task(retries=2, retry_delay_seconds=30)
def fetch_orders(cfg: ReportConfig, day: date) -> list[dict]:
    """Completed orders of the region for the day."""
    sql = "SELECT total, currency FROM orders WHERE region = %(r)s AND order_date = %(d)s"
    return pd.read_sql(sql, WAREHOUSE, params={"r": cfg.region, "d": day}).to_dict("records")


@task(retries=2, retry_delay_seconds=30)
def fetch_returns(cfg: ReportConfig, day: date) -> list[dict]:
    """Refunds booked for the region on the day."""
    sql = "SELECT amount AS total, currency FROM refunds WHERE region = %(r)s AND day = %(d)s"
    return pd.read_sql(sql, WAREHOUSE, params={"r": cfg.region, "d": day}).to_dict("records")


@task
def net_revenue(orders: list[dict], returns: Optional[list[dict]]) -> Decimal:
    """Orders minus returns, to the cent."""
    gross = sum(Decimal(str(o["total"])) for o in orders)
    refunded = sum(Decimal(str(r["total"])) for r in returns or [])
    return (gross - refunded).quantize(Decimal("0.01"))


@task
def save_kpi(value: Decimal, cfg: ReportConfig, day: date) -> str:
    """Store the KPI; returns its key."""
    key = f"net_revenue/{cfg.region}/{day.isoformat()}"
    LOG.info("%s = %s %s", key, value, cfg.currency)
    return key


@flow(name="Typed Revenue KPI", version="1.0.0",
      description="Net revenue for one region and day")
def revenue_kpi(cfg: ReportConfig = ReportConfig(region="emea"),
                day: Optional[date] = None) -> str:
    """Compute and store net revenue.

    Args:
        cfg: the region and currency to report on.
        day: the business day; today when omitted.
    """
    run_day: date = day or date.today()
    orders: list[dict] = fetch_orders(cfg, run_day)

    returns: Optional[list[dict]] = None
    if cfg.include_returns:
        returns = fetch_returns(cfg, run_day)

    value: Decimal = net_revenue(orders, returns)
    LOG.info("net revenue for %s on %s: %s", cfg.region, run_day, value)
    return save_kpi(value, cfg, run_day)


if __name__ == "__main__":
    print(revenue_kpi(ReportConfig(region="amer", currency="USD")))
