"""End-of-day ticker prices with a backup provider and split adjustment."""

from __future__ import annotations

from datetime import date

import httpx

from dagy import flow, task

SYMBOLS = ["ACME", "GLOBX", "INITECH", "UMBR"]
PRIMARY = "https://api.primary-quotes.example/v3/eod"
BACKUP = "https://api.backup-quotes.example/eod"


@task(retries=1)
async def fetch_quotes(symbols: list[str], day: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=20) as client:
        resp = await client.get(PRIMARY, params={"symbols": ",".join(symbols), "date": day})
        resp.raise_for_status()
        return {q["symbol"]: q["close"] for q in resp.json()["quotes"]}


@task(retries=3, retry_delay_seconds=[5, 15, 30])
async def fetch_quotes_backup(symbols: list[str], day: str) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=60) as client:
        out = {}
        for symbol in symbols:
            resp = await client.get(f"{BACKUP}/{symbol}/{day}")
            out[symbol] = resp.raise_for_status().json()["close"]
        return out


@task
async def fetch_splits(symbols: list[str]) -> dict[str, float]:
    async with httpx.AsyncClient(timeout=20) as client:
        resp = await client.get(f"{PRIMARY}/splits", params={"symbols": ",".join(symbols)})
        return resp.json() if resp.status_code == 200 else {}


@task
async def adjust_for_splits(quotes: dict[str, float], splits: dict[str, float]) -> dict:
    return {s: round(p / splits.get(s, 1.0), 4) for s, p in quotes.items()}


@task(tags=["warehouse"])
async def upsert_prices(prices: dict[str, float], day: str) -> int:
    async with httpx.AsyncClient(base_url="http://warehouse-gateway.internal") as client:
        rows = [{"day": day, "symbol": s, "close": p} for s, p in prices.items()]
        await client.post("/upsert", json={"table": "eod_prices", "rows": rows})
    return len(prices)


@flow(name="async-ticker-prices", log_prints=True)
async def ticker_prices(symbols: list[str] = SYMBOLS, day: str | None = None) -> int:
    day = day or date.today().isoformat()
    try:
        quotes = await fetch_quotes.with_options(retries=5)(symbols, day)
    except httpx.HTTPError as exc:
        print(f"primary provider failed ({exc}); using the backup")
        quotes = await fetch_quotes_backup(symbols, day)

    adjusted = await adjust_for_splits(quotes, await fetch_splits(symbols))
    return await upsert_prices(adjusted, day)
