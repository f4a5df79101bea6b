"""Per-region sync as an async subflow; the global flow runs the regions concurrently."""

from __future__ import annotations

import asyncio

import asyncpg

from dagy import flow, get_run_logger, task

REGION_DSN = {
    "us": "postgresql://replica-us.internal/app",
    "eu": "postgresql://replica-eu.internal/app",
    "apac": "postgresql://replica-apac.internal/app",
}
CENTRAL_DSN = "postgresql://central.internal/app"


@task(retries=2, retry_delay_seconds=15)
async def pull_region(region: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(REGION_DSN[region])
    try:
        return await conn.fetch("SELECT * FROM accounts WHERE updated_at > now() - interval '1 day'")
    finally:
        await conn.close()


@task(retries=2, retry_delay_seconds=15)
async def push_region(region: str, rows: list) -> int:
    conn = await asyncpg.connect(CENTRAL_DSN)
    try:
        await conn.copy_records_to_table("accounts_staging", records=rows)
        await conn.execute("CALL merge_accounts($1)", region)
    finally:
        await conn.close()
    return len(rows)


@task
async def report_total(total: int) -> None:
    logger = get_run_logger()
    logger.info("synced %d accounts in total", total)


@flow(name="sync-region")
async def sync_region(region: str) -> int:
    rows = await pull_region(region)
    return await push_region(region, rows)


@flow(name="Global Sync", timeout_seconds=3600)
async def global_sync(regions: tuple[str, ...] = ("us", "eu", "apac")) -> int:
    counts = await asyncio.gather(*(sync_region(r) for r in regions))
    total = sum(counts)
    await report_total(total)
    return total


if __name__ == "__main__":
    asyncio.run(global_sync())
