"""Customer 360 assembled from three services, queried concurrently."""

from __future__ import annotations

import asyncio

import httpx
import pandas as pd

from dagy import flow, get_run_logger, task

PROFILE_API = "http://profiles.internal/api"
ORDERS_API = "http://orders.internal/api"
SUPPORT_API = "http://support.internal/api"


async def _post(url: str, payload: dict) -> list[dict]:
    async with httpx.AsyncClient(timeout=60) as client:
        resp = await client.post(url, json=payload)
        resp.raise_for_status()
        return resp.json()["items"]


@task(retries=2)
async def fetch_profiles(customer_ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(await _post(f"{PROFILE_API}/profiles:batchGet", {"ids": customer_ids}))


@task(retries=2)
async def fetch_orders(customer_ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(await _post(f"{ORDERS_API}/orders:search", {"customer_ids": customer_ids}))


@task(retries=2)
async def fetch_support_tickets(customer_ids: list[int]) -> pd.DataFrame:
    return pd.DataFrame(await _post(f"{SUPPORT_API}/tickets:search", {"requester": customer_ids}))


@task
async def join_profiles_orders(profiles: pd.DataFrame, orders: pd.DataFrame) -> pd.DataFrame:
    totals = orders.groupby("customer_id").agg(orders=("order_id", "count"), ltv=("total", "sum"))
    return profiles.set_index("customer_id").join(totals, how="left").fillna(0).reset_index()


@task
async def score_customers(df: pd.DataFrame) -> pd.Series:
    return (df["ltv"].rank(pct=True) * 0.7 + df["orders"].rank(pct=True) * 0.3).round(3)


@task
async def publish_360(joined: pd.DataFrame, scores: pd.Series, tickets: pd.DataFrame) -> int:
    open_tickets = tickets[tickets["status"] == "open"].groupby("requester").size()
    out = joined.assign(score=scores, open_tickets=joined["customer_id"].map(open_tickets))
    out.to_parquet("s3://acme-crm/customer_360/latest.parquet", index=False)
    return len(out)


@flow(name="Async Customer 360")
async def customer_360(customer_ids: list[int]) -> int:
    logger = get_run_logger()
    profiles, orders = await asyncio.gather(
        fetch_profiles(customer_ids),
        fetch_orders(customer_ids),
    )
    joined = await join_profiles_orders(profiles, orders)
    scores = await score_customers(joined)

    tickets = await fetch_support_tickets(customer_ids)
    published = await publish_360(joined, scores, tickets)
    logger.info("published %d customer rows", published)
    return published
