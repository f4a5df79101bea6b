"""Regional sales: helpers defined inside the flow body (closures over its parameters)."""

from __future__ import annotations

import pandas as pd
import requests

from dagy import flow, get_run_logger, task

REGION_CCY = {"emea": "EUR", "amer": "USD", "apac": "JPY"}
SALES_API = "http://sales-api.internal/v1/daily"


@task(retries=2)
def pull_region_sales(region: str, day: str) -> pd.DataFrame:
    resp = requests.get(SALES_API, params={"region": region, "day": day}, timeout=60)
    return pd.DataFrame(resp.raise_for_status().json()["rows"])


@task
def normalize_currency(df: pd.DataFrame, currency: str) -> pd.DataFrame:
    return df.assign(currency=currency, amount=df["amount"].round(2))


@task
def load_fx_rates(day: str) -> dict[str, float]:
    return requests.get("http://fx.internal/rates", params={"day": day}, timeout=10).json()


@task
def apply_fx(df: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    return df.assign(amount_usd=df["amount"] / df["currency"].map(rates))


@task
def combine(left: pd.DataFrame, right: pd.DataFrame) -> pd.DataFrame:
    return pd.concat([left, right], ignore_index=True)


@task
def combine_many(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


@task(tags=["publish"])
def publish(df: pd.DataFrame) -> int:
    df.to_parquet("s3://acme-sales/regional/latest.parquet", index=False)
    return len(df)


@flow(name="Nested Helper Flow")
def nested_helper_flow(day: str = "2024-01-01") -> int:
    logger = get_run_logger()

    def process(region: str) -> pd.DataFrame:
        raw = pull_region_sales(region, day)
        return normalize_currency(raw, REGION_CCY[region])

    emea = process("emea")
    amer = process("amer")
    combined = combine(emea, amer)
    logger.info("%d rows", len(combined))
    return publish(combined)


@flow(name="Nested Closure Flow")
def nested_closure_flow(day: str = "2024-01-01") -> int:
    fx = load_fx_rates(day)

    def to_usd(region: str) -> pd.DataFrame:
        # `fx` comes from the enclosing flow: apply_fx depends on load_fx_rates.
        raw = pull_region_sales(region, day)
        return apply_fx(raw, fx)

    frames = [to_usd(region) for region in REGION_CCY]
    return publish(combine_many(frames))
