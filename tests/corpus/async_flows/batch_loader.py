"""Load a large table in offset batches with bounded concurrency.

Uses `import dagy` and an async helper that takes an already-created task coroutine.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

import asyncpg

import dagy

T = TypeVar("T")
SOURCE_DSN = "postgresql://legacy-db.internal/erp"
TARGET_DSN = "postgresql://warehouse.internal/erp"


async def bounded(sem: asyncio.Semaphore, coro: Awaitable[T]) -> T:
    """Await `coro` while holding one slot of `sem`."""
    async with sem:
        return await coro


@dagy.task
async def count_rows(source: str) -> int:
    conn = await asyncpg.connect(SOURCE_DSN)
    try:
        return await conn.fetchval(f"SELECT count(*) FROM {source}")
    finally:
        await conn.close()


@dagy.task(retries=3, retry_delay_seconds=[5, 20, 60])
async def load_batch(source: str, offset: int, size: int) -> int:
    src = await asyncpg.connect(SOURCE_DSN)
    dst = await asyncpg.connect(TARGET_DSN)
    try:
        rows = await src.fetch(f"SELECT * FROM {source} ORDER BY id OFFSET $1 LIMIT $2",
                               offset, size)
        await dst.copy_records_to_table(source, records=rows)
        return len(rows)
    finally:
        await src.close()
        await dst.close()


@dagy.task
async def verify_load(source: str, loaded: int, expected: int) -> None:
    if loaded != expected:
        raise ValueError(f"{source}: loaded {loaded} rows, expected {expected}")


@dagy.flow(name="Async Batch Loader")
async def async_batch_loader(source: str, batch_size: int = 5000, concurrency: int = 8) -> int:
    logger = dagy.get_run_logger()
    total = await count_rows(source)
    offsets = list(range(0, total, batch_size))
    logger.info("%s: %d rows in %d batches", source, total, len(offsets))

    sem = asyncio.Semaphore(concurrency)
    loaded = await asyncio.gather(
        *[bounded(sem, load_batch(source, off, batch_size)) for off in offsets]
    )
    await verify_load(source, sum(loaded), total)
    return sum(loaded)


if __name__ == "__main__":
    asyncio.run(async_batch_loader("public.invoice_lines"))
