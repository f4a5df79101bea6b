"""Marketing spend per channel, converted to USD.

Two flows: the daily run, and a backfill over a date range that ops trigger by hand.
"""

from __future__ import annotations

import pandas as pd
import requests

from dagy import flow, get_run_logger, task

CHANNELS = ["google_ads", "meta_ads", "linkedin", "tiktok"]
SPEND_API = "https://marketing-gateway.internal/api/v1/spend"
FX_API = "https://fx.internal/api/rates"


@task(retries=3, retry_delay_seconds=[10, 30, 60], tags=["marketing"])
def pull_channel_spend(channel: str, day: str) -> pd.DataFrame:
    resp = requests.get(SPEND_API, params={"channel": channel, "day": day}, timeout=30)
    resp.raise_for_status()
    return pd.DataFrame(resp.json()["rows"])


@task
def combine_frames(frames: list[pd.DataFrame]) -> pd.DataFrame:
    return pd.concat(frames, ignore_index=True)


@task(retries=2, retry_delay_seconds=10)
def fetch_fx_rates(day: str) -> dict[str, float]:
    resp = requests.get(FX_API, params={"date": day, "base": "USD"}, timeout=10)
    resp.raise_for_status()
    return resp.json()["rates"]


@task
def convert_currency(df: pd.DataFrame, rates: dict[str, float]) -> pd.DataFrame:
    df = df.copy()
    df["spend_usd"] = df["spend"] / df["currency"].map(rates)
    return df


@task(tags=["warehouse"])
def upsert_spend(df: pd.DataFrame, day: str) -> int:
    df.assign(load_day=day).to_sql("marketing_spend", "postgresql://warehouse/marketing",
                                   if_exists="append", index=False)
    return len(df)


@flow(name="marketing-spend-daily", log_prints=True)
def marketing_spend_daily(day: str) -> int:
    frames = []
    for channel in CHANNELS:
        frames.append(pull_channel_spend(channel, day))
    combined = combine_frames(frames)
    print(f"{len(combined)} spend rows for {day}")

    fx = fetch_fx_rates(day)
    usd = convert_currency(combined, fx)
    return upsert_spend(usd, day)


@flow(name="marketing-spend-backfill")
def marketing_spend_backfill(start: str, end: str) -> int:
    logger = get_run_logger()
    days = pd.date_range(start, end).strftime("%Y-%m-%d").tolist()
    logger.info("backfilling %d days", len(days))

    converted = {}
    for day in days:
        spend = pull_channel_spend("all", day)
        fx = fetch_fx_rates(day)
        converted[day] = convert_currency(spend, fx)

    backfill = pd.concat(converted.values(), ignore_index=True)
    return upsert_spend(backfill, start)
