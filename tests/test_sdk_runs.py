"""Flow and task runs: retries with delay lists, timeouts, hooks, subflows, the run logger."""

from __future__ import annotations

import asyncio
import logging
import threading

import pytest

from dagy_git import flow, get_run_logger, task
from dagy_git.runtime import engine


class Flaky(Exception):
    """A transient failure (a dropped connection, a 503)."""


@pytest.fixture
def delays(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The retry delays the runtime waited, recorded instead of slept through."""
    waited: list[float] = []
    monkeypatch.setattr(engine, "_sleep", waited.append)
    return waited


def failing_times(n: int, value: str = "ok") -> tuple[list[int], object]:
    calls: list[int] = []

    def fn() -> str:
        calls.append(1)
        if len(calls) <= n:
            raise Flaky(f"attempt {len(calls)}")
        return value

    return calls, fn


def test_retry_delay_list_gives_the_delay_of_each_retry(delays: list[float]) -> None:
    calls, fn = failing_times(3)
    fetch = task(retries=3, retry_delay_seconds=[1, 5, 30])(fn)  # type: ignore[type-var]
    assert fetch() == "ok"
    assert (len(calls), delays) == (4, [1.0, 5.0, 30.0])
    assert fetch.retry_delay_seconds == (1.0, 5.0, 30.0)


def test_a_short_delay_list_repeats_its_last_delay(delays: list[float]) -> None:
    _, fn = failing_times(4)
    fetch = task(retries=5, retry_delay_seconds=[2, 10])(fn)  # type: ignore[type-var]
    assert fetch() == "ok"
    assert delays == [2.0, 10.0, 10.0, 10.0]


def test_retry_delay_as_a_backoff_function_and_a_number(delays: list[float]) -> None:
    def backoff(retries: int) -> list[float]:
        return [10 * 2**i for i in range(retries)]

    _, fn = failing_times(2)
    assert task(retries=3, retry_delay_seconds=backoff)(fn)() == "ok"  # type: ignore[type-var]
    _, fn = failing_times(2)
    assert task(retries=2, retry_delay_seconds=0.5)(fn)() == "ok"  # type: ignore[type-var]
    assert delays == [10.0, 20.0, 0.5, 0.5]


def test_real_delays_are_waited() -> None:
    calls, fn = failing_times(2)
    assert task(retries=2, retry_delay_seconds=[0.01, 0.01])(fn)() == "ok"  # type: ignore[type-var]
    assert len(calls) == 3


def test_retries_exhausted_raise_the_last_error(delays: list[float]) -> None:
    calls, fn = failing_times(10)
    with pytest.raises(Flaky, match="attempt 3"):
        task(retries=2, retry_delay_seconds=[1])(fn)()  # type: ignore[type-var]
    assert (len(calls), delays) == (3, [1.0, 1.0])


def test_retry_condition_decides_whether_to_retry() -> None:
    seen: list[str] = []

    def only_transient(task_obj: object, run: object, state: object) -> bool:
        seen.append(type(state.result(raise_on_failure=False)).__name__)  # type: ignore[attr-defined]
        return isinstance(state.result(raise_on_failure=False), Flaky)  # type: ignore[attr-defined]

    @task(retries=5, retry_condition_fn=only_transient)
    def parse(text: str) -> int:
        if not seen:
            raise Flaky("first")
        return int(text)

    with pytest.raises(ValueError, match="invalid literal"):
        parse("not a number")
    assert seen == ["Flaky", "ValueError"]


def test_a_timed_out_task_fails_its_flow_with_a_timeout_error() -> None:
    release = threading.Event()

    @task(timeout_seconds=0.05)
    def hang() -> None:
        release.wait(10)

    @flow(name="Stuck ETL")
    def etl() -> None:
        hang()

    try:
        with pytest.raises(TimeoutError, match=r"task 'hang' did not finish within 0\.05"):
            etl()
        with pytest.raises(TimeoutError, match="task 'hang'"):
            etl.with_options().__call__()
    finally:
        release.set()


def test_a_timed_out_submitted_task_fails_its_future() -> None:
    release = threading.Event()

    @task(timeout_seconds=0.05)
    def hang() -> None:
        release.wait(10)

    @flow
    def fan_out() -> object:
        return hang.submit().result(raise_on_failure=False)

    try:
        assert isinstance(fan_out(), TimeoutError)
    finally:
        release.set()


def test_hooks_are_called_with_the_final_state() -> None:
    log: list[tuple[str, str, bool]] = []

    def completed(obj: object, run: object, state: object) -> None:
        log.append(("done", obj.name, state.is_completed()))  # type: ignore[attr-defined]

    def failed(obj: object, run: object, state: object) -> None:
        log.append(("failed", obj.name, state.is_failed()))  # type: ignore[attr-defined]

    def broken_hook(*_: object) -> None:
        raise RuntimeError("a hook's own bug is logged, not raised")

    @task(on_completion=[completed], on_failure=[failed, broken_hook])
    def step(ok: bool) -> bool:
        if not ok:
            raise Flaky("no")
        return ok

    @flow(on_failure=[failed])
    def pipeline(ok: bool) -> bool:
        return step(ok)

    assert pipeline(True) is True
    with pytest.raises(Flaky):
        pipeline(False)
    assert log == [
        ("done", "step", True),
        ("failed", "step", True),
        ("failed", "pipeline", True),
    ]


def test_nested_subflows_run_as_child_flow_runs(caplog: pytest.LogCaptureFixture) -> None:
    """dbt-style orchestration: a parent flow runs a staging subflow and a marts subflow."""

    @task(task_run_name="run-{model}")
    def dbt_run(model: str) -> str:
        get_run_logger().info("building %s", model)
        return model

    @flow(name="dbt staging", flow_run_name="staging-{target}")
    def staging(target: str) -> list[str]:
        get_run_logger().info("staging for %s", target)
        return [dbt_run(m) for m in ("stg_orders", "stg_users")]

    @flow(name="dbt marts")
    def marts(upstream: list[str]) -> str:
        return dbt_run.submit("fct_orders", wait_for=upstream).result()

    @flow(name="Nightly dbt")
    def nightly(target: str = "prod") -> dict[str, object]:
        staged = staging(target)
        return {"staged": staged, "mart": marts(staged)}

    with caplog.at_level(logging.INFO, logger="dagy"):
        assert nightly() == {"staged": ["stg_orders", "stg_users"], "mart": "fct_orders"}
    records = [
        (r.name, r.flow_name, r.flow_run_name, r.task_run_name, r.getMessage())  # type: ignore[attr-defined]
        for r in caplog.records
    ]
    assert records == [
        ("dagy.flow_runs", "dbt staging", "staging-prod", "", "staging for prod"),
        ("dagy.task_runs", "dbt staging", "staging-prod", "run-stg_orders", "building stg_orders"),
        ("dagy.task_runs", "dbt staging", "staging-prod", "run-stg_users", "building stg_users"),
        ("dagy.task_runs", "dbt marts", records[3][2], "run-fct_orders", "building fct_orders"),
    ]
    assert records[3][2].startswith("dbt marts-")


def test_a_failing_subflow_fails_its_parent_with_the_tasks_error() -> None:
    @task
    def load(table: str) -> None:
        raise PermissionError(f"cannot write {table}")

    @flow
    def child() -> None:
        load("orders")

    @flow
    def parent() -> None:
        child()

    with pytest.raises(PermissionError, match="cannot write orders"):
        parent()


def test_flow_retries_rerun_the_body_and_forget_the_failed_attempts_futures() -> None:
    attempts: list[int] = []

    @task
    def extract() -> int:
        attempts.append(1)
        if len(attempts) == 1:
            raise Flaky("first run")
        return len(attempts)

    @flow(retries=1)
    def pipeline() -> None:
        extract.submit()

    pipeline()  # the second attempt's task succeeded: the flow completes
    assert len(attempts) == 2


def test_get_run_logger_is_a_logger_everywhere(caplog: pytest.LogCaptureFixture) -> None:
    outside = get_run_logger()
    assert isinstance(outside, logging.Logger) and outside.name == "dagy"

    @task
    def step() -> str:
        logger = get_run_logger()
        logger.warning("inside a task")
        return logger.name

    with caplog.at_level(logging.INFO, logger="dagy"):
        assert step() == "dagy.task_runs"
    (record,) = caplog.records
    assert (record.task_name, record.flow_name, record.dagy_run) == (  # type: ignore[attr-defined]
        "step",
        "",
        f"Task run {record.task_run_name!r}",  # type: ignore[attr-defined]
    )


def test_task_run_name_template_that_does_not_fit_falls_back() -> None:
    names: list[str] = []

    @task(task_run_name="load-{missing}")
    def load(table: str) -> None:
        from dagy_git.runtime.context import current

        names.append(current().name)  # type: ignore[union-attr]

    load("orders")
    assert names == ["load-1"]


def test_a_flow_past_its_timeout_returns_without_waiting_for_its_tasks() -> None:
    release = threading.Event()

    @task
    def hang() -> None:
        release.wait(30)

    @flow(timeout_seconds=0.05)
    def sync_flow() -> None:
        hang.submit()
        release.wait(30)

    @flow(timeout_seconds=0.05)
    async def async_flow() -> None:
        hang.submit()
        await asyncio.sleep(30)

    try:
        with pytest.raises(TimeoutError, match="flow 'sync_flow' did not finish"):
            sync_flow()
        with pytest.raises(TimeoutError, match="flow 'async_flow' did not finish"):
            asyncio.run(async_flow())
    finally:
        release.set()


def test_log_prints_sends_prints_to_the_run_logger(
    caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    import sys

    @task
    def inherits(x: int) -> None:
        print("row", x)

    @task(log_prints=False)
    def opts_out() -> None:
        print("plain output")

    @flow(log_prints=True)
    def chatty() -> None:
        print("starting", "now", sep="-")
        inherits(1)
        opts_out()
        print("to stderr", file=sys.stderr)

    with caplog.at_level(logging.INFO, logger="dagy"):
        chatty()
        print("after the run")
    logged = [(r.name, r.getMessage()) for r in caplog.records]
    assert logged == [("dagy.flow_runs", "starting-now"), ("dagy.task_runs", "row 1")]
    out, err = capsys.readouterr()
    assert (out, err) == ("plain output\nafter the run\n", "to stderr\n")


def test_a_single_hook_function_counts_as_a_list_of_one() -> None:
    seen: list[str] = []

    @task(on_completion=lambda t, run, state: seen.append(t.name))
    def step() -> int:
        return 1

    assert step() == 1 and seen == ["step"]


def test_each_attempt_is_reported_to_a_watch(delays: list[float]) -> None:
    """The hook a runs worker uses to record task runs: every attempt, and whether a retry
    follows."""
    from dagy_git.runtime.engine import Policy, call_sync

    seen: list[tuple[object, ...]] = []

    class Watch:
        def attempt_started(self, attempt: int) -> None:
            seen.append(("start", attempt))

        def attempt_ended(self, attempt: int, error: BaseException | None, final: bool) -> None:
            seen.append(("end", attempt, type(error).__name__ if error else None, final))

    _, fn = failing_times(1)
    assert call_sync(Policy("task 'x'", retries=2), fn, (), {}, None, Watch()) == "ok"  # type: ignore[arg-type]
    assert seen == [("start", 1), ("end", 1, "Flaky", False), ("start", 2), ("end", 2, None, True)]
