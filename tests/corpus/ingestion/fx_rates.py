"""Daily FX rates against a base currency, one request per quote currency."""

from __future__ import annotations

import httpx
import pandas as pd

from dagy import flow, task, unmapped

RATES_API = "https://rates.example-bank.com/v2"


@task
def ensure_table(table: str) -> str:
    ddl = (f"CREATE TABLE IF NOT EXISTS {table} "
           "(day date, base text, quote text, rate numeric, PRIMARY KEY (day, base, quote))")
    httpx.post("http://warehouse-gateway.internal/sql", json={"sql": ddl}, timeout=30)
    return table


@task
def get_currencies() -> list[str]:
    return pd.read_csv("s3://acme-reference/currencies.csv")["iso_code"].tolist()


@task(retries=3, retry_delay_seconds=10, tags=["fx"])
def fetch_rate(base: str, quote: str, day: str) -> dict:
    resp = httpx.get(f"{RATES_API}/{day}", params={"base": base, "symbols": quote}, timeout=15)
    resp.raise_for_status()
    return {"day": day, "base": base, "quote": quote, "rate": resp.json()["rates"][quote]}


@task
def write_rates(rates: list[dict], table: str) -> int:
    httpx.post("http://warehouse-gateway.internal/bulk",
               json={"table": table, "rows": rates}, timeout=60)
    return len(rates)


@flow(name="fx-rates-ingest", flow_run_name="fx-{day}")
def fx_rates_ingest(day: str, base: str = "USD") -> int:
    table_ready = ensure_table("fx_rates")
    quotes = get_currencies()
    rates = fetch_rate.map(unmapped(base), quotes, unmapped(day))
    return write_rates(rates, "fx_rates", wait_for=[table_ready])
