"""The SDK runs `.submit()`, `.map()`, `wait_for=` and `.with_options()` as its users expect."""

from __future__ import annotations

import threading
from collections import defaultdict, namedtuple
from typing import Any

import pytest

from dagy_git import Task, flow, task, unmapped
from dagy_git.runtime import FutureList, State, TaskFuture


class ApiError(Exception):
    """What a flaky HTTP endpoint raises in these flows."""


def test_submit_fan_out_runs_concurrently_and_resolves_futures_in_arguments() -> None:
    """An API ingestion flow: one request per endpoint in parallel, then one merge."""
    both_started = threading.Barrier(2, timeout=10)  # only passes if two run at once

    @task
    def fetch(endpoint: str) -> list[dict[str, Any]]:
        if endpoint in ("users", "orders"):
            both_started.wait()
        return [{"endpoint": endpoint, "id": i} for i in range(2)]

    @task
    def merge(batches: dict[str, list[dict[str, Any]]], extra: list[Any]) -> dict[str, int]:
        assert not any(isinstance(v, TaskFuture) for v in batches.values())
        return {name: len(rows) for name, rows in batches.items()} | {"extra": len(extra)}

    @flow(name="API Ingestion")
    def ingest(endpoints: list[str]) -> dict[str, int]:
        futures = {e: fetch.submit(e) for e in endpoints}
        assert all(isinstance(f, TaskFuture) for f in futures.values())
        merged = merge.submit(futures, extra=[futures["users"], (futures["orders"],)])
        return merged.result()

    assert ingest(["users", "orders", "items"]) == {
        "users": 2,
        "orders": 2,
        "items": 2,
        "extra": 2,
    }


def test_future_api_result_wait_state_done() -> None:
    release = threading.Event()

    @task
    def slow(x: int) -> int:
        release.wait(10)
        return x * 2

    @flow
    def pipeline() -> tuple[object, ...]:
        future = slow.submit(21)
        before = (future.done(), future.state.is_final())
        release.set()
        state = future.wait()
        return (*before, future.done(), state.is_completed(), state.result(), future.result())

    assert pipeline() == (False, False, True, True, 42, 42)


def test_result_with_a_timeout_says_which_task_is_late() -> None:
    release = threading.Event()

    @task
    def slow() -> None:
        release.wait(10)

    future = slow.submit()
    try:
        with pytest.raises(TimeoutError, match=r"task 'slow' did not finish within 0\.01"):
            future.result(timeout=0.01)
        assert future.wait(timeout=0.01).is_running()
    finally:
        release.set()
    assert future.wait().is_completed()


def test_a_failed_future_raises_the_tasks_own_error() -> None:
    @task
    def call_api(path: str) -> str:
        raise ApiError(f"503 from {path}")

    @flow
    def pipeline() -> tuple[object, ...]:
        future = call_api.submit("/v1/orders")
        state = future.wait()
        error = future.result(raise_on_failure=False)
        with pytest.raises(ApiError, match="503 from /v1/orders"):
            future.result()
        return state.is_failed(), state.name, type(error).__name__

    assert pipeline() == (True, "Failed", "ApiError")


def test_a_downstream_of_a_failed_task_does_not_run_and_fails_with_its_error() -> None:
    ran: list[str] = []

    @task
    def extract() -> list[int]:
        raise ApiError("source down")

    @task
    def load(rows: list[int]) -> None:
        ran.append("load")

    @task
    def notify() -> None:
        ran.append("notify")

    @flow
    def etl() -> None:
        rows = extract.submit()
        load.submit(rows)
        notify.submit(wait_for=[rows])

    with pytest.raises(ApiError, match="source down"):
        etl()  # returns nothing: a failed task fails the flow
    assert ran == []


def test_a_flow_returning_a_future_returns_its_result() -> None:
    @task
    def total(xs: list[int]) -> int:
        return sum(xs)

    @flow
    def pipeline() -> Any:
        return {"total": total.submit([1, 2, 3])}

    assert pipeline() == {"total": 6}


def test_the_flow_run_waits_for_every_submitted_task() -> None:
    done: list[int] = []

    @task
    def write(i: int) -> None:
        done.append(i)

    @flow
    def pipeline() -> str:
        for i in range(20):
            write.submit(i)
        return "submitted"

    assert pipeline() == "submitted"
    assert sorted(done) == list(range(20))


def test_wait_for_orders_a_direct_call_after_submitted_tasks() -> None:
    events: list[str] = []
    gate = threading.Event()

    @task
    def create_table() -> None:
        gate.wait(10)
        events.append("table")

    @task
    def insert_rows() -> None:
        events.append("rows")

    @flow
    def setup() -> None:
        table = create_table.submit()
        gate.set()
        insert_rows(wait_for=[table])

    setup()
    assert events == ["table", "rows"]


def test_map_with_unmapped_and_chained_maps() -> None:
    """A mapped pipeline: one run per file, the same config for every run, then a total."""

    @task
    def download(name: str, config: dict[str, str]) -> str:
        return f"{config['bucket']}/{name}"

    @task
    def size(path: str, factor: int = 1) -> int:
        return len(path) * factor

    @task
    def total(sizes: list[int]) -> int:
        return sum(sizes)

    @flow
    def sizes(names: list[str]) -> tuple[list[str], int, int]:
        paths = download.map(names, unmapped({"bucket": "s3://b"}))
        assert isinstance(paths, FutureList) and len(paths) == len(names)
        measured = size.map(paths, factor=unmapped(2))  # a list of futures maps item by item
        return paths.result(), total(measured), total.submit(measured).result()

    paths, doubled, again = sizes(["a.csv", "bb.csv"])
    assert paths == ["s3://b/a.csv", "s3://b/bb.csv"]
    assert doubled == again == 2 * (len("s3://b/a.csv") + len("s3://b/bb.csv"))


def test_map_over_a_future_maps_its_result_and_keyword_iterables() -> None:
    @task
    def list_partitions() -> list[str]:
        return ["2024-01", "2024-02", "2024-03"]

    @task
    def process(partition: str, region: str) -> str:
        return f"{region}:{partition}"

    @flow
    def backfill() -> list[str]:
        partitions = list_partitions.submit()
        return process.map(partitions, region=["eu", "us", "ap"]).result()

    assert backfill() == ["eu:2024-01", "us:2024-02", "ap:2024-03"]


def test_map_refuses_iterables_of_different_lengths() -> None:
    @task
    def pair(a: int, b: int) -> int:
        return a + b

    with pytest.raises(ValueError, match=r"task 'pair': mapped arguments differ in length"):
        pair.map([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="at least one iterable"):
        pair.map(1, "no strings are iterated")


def test_futures_resolve_inside_nested_containers() -> None:
    Pair = namedtuple("Pair", "left right")

    @task
    def num(x: int) -> int:
        return x

    @task
    def echo(value: object) -> object:
        return value

    @flow
    def nested() -> object:
        a, b = num.submit(1), num.submit(2)
        return echo({"pair": Pair(a, b), "set": {a}, "list": [[b]], "plain": (3,)})

    assert nested() == {"pair": (1, 2), "set": {1}, "list": [[2]], "plain": (3,)}
    assert isinstance(nested()["pair"], Pair)  # type: ignore[index]

    @flow
    def grouped() -> object:
        groups: defaultdict[str, list[object]] = defaultdict(list)
        groups["eu"].append(num.submit(1))
        return echo(groups)

    assert grouped() == {"eu": [1]}


def test_with_options_returns_a_copy_with_other_options() -> None:
    attempts: list[str] = []

    @task(name="fetch", retries=0, tags=["api"])
    def fetch(url: str) -> str:
        attempts.append(url)
        if len(attempts) < 3:
            raise ApiError("flaky")
        return "ok"

    patient = fetch.with_options(name="fetch-with-retries", retries=2)
    assert (patient.name, patient.retries, patient.options) == (
        "fetch-with-retries",
        2,
        {"tags": ["api"]},
    )
    assert (fetch.name, fetch.retries) == ("fetch", 0)  # the original is unchanged
    assert patient.fn is fetch.fn and patient.__name__ == "fetch"
    with pytest.raises(ApiError):
        fetch("u")

    @flow(name="nightly", version="1")
    def nightly() -> str:
        return patient.submit("u").result()

    assert nightly() == "ok"
    assert len(attempts) == 3
    hourly = nightly.with_options(name="Hourly Sync", timeout_seconds=60)
    assert (hourly.name, hourly.version, hourly.timeout_seconds) == ("Hourly Sync", "1", 60.0)
    with pytest.raises(Exception, match="retries must be a whole number"):
        fetch.with_options(retries=-1)


def test_fn_calls_the_undecorated_function() -> None:
    calls: list[int] = []

    @task(retries=3)
    def double(x: int) -> int:
        calls.append(x)
        return 2 * x

    @flow
    def pipeline(x: int) -> int:
        return double(x)

    assert double.fn(4) == 8
    assert pipeline.fn(5) == 10  # no flow run: the plain function, which calls the task
    assert calls == [4, 5]


def test_return_state_gives_the_state_instead_of_raising() -> None:
    @task
    def check(value: int) -> int:
        if value < 0:
            raise ValueError("negative")
        return value

    @flow
    def quality() -> list[State]:
        return [check(1, return_state=True), check(-1, return_state=True)]

    good, bad = quality()
    assert good.is_completed() and good.result() == 1
    assert bad.is_failed() and "negative" in bad.message


def test_submit_outside_a_flow_runs_too() -> None:
    @task
    def square(x: int) -> int:
        return x * x

    assert square.submit(7).result() == 49
    assert square.map([1, 2, 3]).result() == [1, 4, 9]


def test_task_methods_run_with_self_bound() -> None:
    """`Loader().load(x)`: a `@task` method of a class, static and class methods too."""

    class Loader:
        def __init__(self, table: str) -> None:
            self.table = table

        @task(retries=1, task_run_name="load-{rows}")
        def load(self, rows: int) -> str:
            return f"{rows} rows into {self.table}"

        @staticmethod
        @task
        def normalise(name: str) -> str:
            return name.lower()

        @classmethod
        def default(cls) -> Loader:
            return cls("staging.orders")

    @flow
    def pipeline() -> list[str]:
        loader = Loader.default()
        table = Loader.normalise("ORDERS")
        return [
            loader.load(3),
            loader.load.submit(4).result(),
            *loader.load.map([5]).result(),
            table,
        ]

    assert pipeline() == [
        "3 rows into staging.orders",
        "4 rows into staging.orders",
        "5 rows into staging.orders",
        "orders",
    ]
    assert isinstance(Loader.load, Task) and Loader.load.fn.__name__ == "load"
    assert Loader("u").load.fn(1) == "1 rows into u"  # .fn: the bound method


def test_sequential_task_runner_runs_submitted_tasks_one_at_a_time_in_order() -> None:
    from dagy_git.runtime.compat import ConcurrentTaskRunner, SequentialTaskRunner

    ran: list[tuple[int, str]] = []

    @task
    def write(i: int) -> int:
        ran.append((i, threading.current_thread().name))
        return i

    @flow(task_runner=SequentialTaskRunner())
    def ordered() -> list[int]:
        futures = [write.submit(i) for i in range(5)]
        done = all(f.done() for f in futures)  # each ran when it was submitted
        return [int(done), *write.map(futures).result()]

    here = threading.current_thread().name
    assert ordered() == [1, 0, 1, 2, 3, 4]
    assert ran == [(i % 5, here) for i in range(10)]
    ran.clear()
    assert ordered.with_options(task_runner=ConcurrentTaskRunner())()[1:] == [0, 1, 2, 3, 4]
    assert all(thread.startswith("dagy ") for _, thread in ran)  # the flow run's workers


def test_thread_pool_task_runner_caps_how_many_tasks_run_at_once() -> None:
    """A rate-limited API: at most two calls in flight, however many are submitted."""
    from dagy_git.runtime.compat import ThreadPoolTaskRunner

    lock = threading.Lock()
    running, peak = [0], [0]
    both = threading.Barrier(2, timeout=10)

    @task
    def call_api(i: int) -> int:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        if i < 2:
            both.wait()  # the first two overlap: the cap is reached, not just respected
        with lock:
            running[0] -= 1
        return i

    @flow(task_runner=ThreadPoolTaskRunner(max_workers=2))
    def limited() -> list[int]:
        return call_api.map(range(8)).result()

    assert limited() == list(range(8))
    assert peak[0] == 2
