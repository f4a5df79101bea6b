"""Async flows and tasks: `await t(x)`, `asyncio.gather`, async subflows, async submit."""

from __future__ import annotations

import asyncio
import threading

import pytest

from dagy_git import flow, get_run_logger, task
from dagy_git.runtime import engine


@task(retries=2, retry_delay_seconds=[0.01, 0.01])
async def fetch_page(url: str, attempts: dict[str, int]) -> dict[str, str]:
    """An async HTTP call that fails once per URL before it answers."""
    attempts[url] = attempts.get(url, 0) + 1
    await asyncio.sleep(0)
    if attempts[url] == 1:
        raise ConnectionResetError(url)
    return {"url": url, "body": url.upper()}


@task
def store(pages: list[dict[str, str]]) -> int:
    get_run_logger().info("storing %d pages", len(pages))
    return len(pages)


@flow(name="Async Ingestion")
async def ingest(urls: list[str]) -> int:
    attempts: dict[str, int] = {}
    first = await fetch_page(urls[0], attempts)
    rest = await asyncio.gather(*(fetch_page(u, attempts) for u in urls[1:]))
    assert all(n == 2 for n in attempts.values())
    return store([first, *rest])


def test_async_flow_runs_with_asyncio_run_and_gather() -> None:
    assert asyncio.run(ingest(["a", "b", "c"])) == 3


def test_async_flow_awaited_inside_another_async_flow() -> None:
    @flow
    async def parent() -> list[int]:
        return list(await asyncio.gather(ingest(["x"]), ingest(["y", "z"])))

    assert asyncio.run(parent()) == [1, 2]


def test_async_subflow_and_task_called_from_a_sync_flow_run_to_completion() -> None:
    @task
    async def double(x: int) -> int:
        await asyncio.sleep(0)
        return 2 * x

    @flow
    def sync_parent() -> tuple[int, int]:
        return ingest(["p", "q"]), double(21)

    assert sync_parent() == (2, 42)


def test_async_task_submitted_and_mapped() -> None:
    @task
    async def square(x: int) -> int:
        await asyncio.sleep(0)
        return x * x

    @flow
    async def squares() -> tuple[int, list[int]]:
        one = square.submit(3)
        many = square.map([1, 2, 3])
        return one.result(), many.result()

    assert asyncio.run(squares()) == (9, [1, 4, 9])


def test_async_timeout_and_failure_carry_the_tasks_error() -> None:
    @task(timeout_seconds=0.01)
    async def stuck() -> None:
        await asyncio.sleep(10)

    @task
    async def broken() -> None:
        raise LookupError("no such partition")

    @flow
    async def pipeline(which: str) -> None:
        await (stuck() if which == "stuck" else broken())

    with pytest.raises(TimeoutError, match=r"task 'stuck' did not finish within 0\.01 seconds"):
        asyncio.run(pipeline("stuck"))
    with pytest.raises(LookupError, match="no such partition"):
        asyncio.run(pipeline("broken"))


def test_async_retry_delays_follow_the_list(monkeypatch: pytest.MonkeyPatch) -> None:
    waited: list[float] = []

    async def record(seconds: float) -> None:
        waited.append(seconds)

    monkeypatch.setattr(engine, "_asleep", record)
    calls: list[int] = []

    @task(retries=3, retry_delay_seconds=[3, 7])
    async def flaky() -> str:
        calls.append(1)
        if len(calls) < 4:
            raise ConnectionError("again")
        return "ok"

    assert asyncio.run(flaky()) == "ok"
    assert waited == [3.0, 7.0, 7.0]


def test_sync_flow_called_from_async_code_still_runs_async_tasks() -> None:
    """A sync subflow inside an async flow: its async task cannot reuse the running loop."""

    @task
    async def ping() -> str:
        return threading.current_thread().name

    @flow
    def sync_child() -> str:
        return ping()

    @flow
    async def async_parent() -> str:
        return sync_child()

    assert asyncio.run(async_parent()) == "dagy coroutine"
