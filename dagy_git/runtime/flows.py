"""Flow calls: a flow run with its own context, its submitted tasks, and its outcome.

A flow called inside another flow runs as a child flow run (a subflow). A flow run ends when
every task it submitted has finished. Its result is its return value with futures replaced
by their results; a flow that returns nothing fails with the error of a task that failed,
as the SDK's users expect (a failure is never silently dropped).
"""

from __future__ import annotations

import functools
from typing import Any

from dagy_git.runtime.context import FlowRun, current_flow_run, entered, in_sync_run
from dagy_git.runtime.engine import Policy, RunTimeout, call_async, call_sync, run_coroutine
from dagy_git.runtime.futures import TaskFuture, first_failure, resolve
from dagy_git.runtime.states import State
from dagy_git.runtime.tasks import RunName, prints_option

__all__ = ["call_flow"]


def call_flow(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool,
) -> Any:
    """Run the flow; an `async def` flow gives a coroutine to await (`asyncio.run(f())`),
    except as a subflow of a synchronous flow, where it runs to completion."""
    args, kwargs = resolve(args), resolve(kwargs)
    if owner.is_async:
        coro = _run_async(owner, policy, run_name(args, kwargs), args, kwargs, return_state)
        return run_coroutine(coro) if in_sync_run() else coro
    run = FlowRun(
        owner.name, run_name(args, kwargs), False, current_flow_run(), prints_option(owner)
    )
    _use_runner(run, owner.options.get("task_runner"))

    def body(*a: Any, **k: Any) -> Any:
        start = len(run.futures)
        try:
            value = owner.fn(*a, **k)
        finally:
            run.wait_all()
        return _settle(value, run.futures[start:])

    with entered(run):
        timed_out = False
        try:
            value = call_sync(policy, body, args, kwargs, owner)
        except Exception as exc:
            timed_out = isinstance(exc, RunTimeout) and exc.label == policy.label
            if return_state:
                return State.failed(exc)
            raise
        finally:
            run.close(wait=not timed_out)  # a flow past its timeout returns now
    return State.completed(value) if return_state else value


async def _run_async(
    owner: Any,
    policy: Policy,
    name: str,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    return_state: bool,
) -> Any:
    import asyncio

    run = FlowRun(owner.name, name, True, current_flow_run(), prints_option(owner))
    _use_runner(run, owner.options.get("task_runner"))

    async def wait_all() -> None:
        # Submitted tasks run on threads: wait for them without blocking the loop.
        await asyncio.get_running_loop().run_in_executor(None, run.wait_all)

    async def body(*a: Any, **k: Any) -> Any:
        start = len(run.futures)
        try:
            value = await owner.fn(*a, **k)
        except asyncio.CancelledError:
            raise  # past its timeout: the flow returns now, without its tasks
        except BaseException:
            await wait_all()
            raise
        await wait_all()
        return _settle(value, run.futures[start:])

    with entered(run):
        timed_out = False
        try:
            value = await call_async(policy, body, args, kwargs, owner)
        except Exception as exc:
            timed_out = isinstance(exc, RunTimeout) and exc.label == policy.label
            if return_state:
                return State.failed(exc)
            raise
        finally:
            close = functools.partial(run.close, wait=not timed_out)
            await asyncio.get_running_loop().run_in_executor(None, close)
    return State.completed(value) if return_state else value


def _use_runner(run: FlowRun, runner: object) -> None:
    """Apply `task_runner=`: `SequentialTaskRunner` runs tasks one at a time as they are
    submitted; a runner's `max_workers` caps the thread pool (`ThreadPoolTaskRunner(4)`).
    Known by name and attribute: the SDK the flow was written for may be the one installed."""
    run.sequential = type(runner).__name__ == "SequentialTaskRunner"
    workers = getattr(runner, "max_workers", None)
    if isinstance(workers, int) and not isinstance(workers, bool) and workers > 0:
        run.max_workers = workers


def _settle(value: Any, futures: list[TaskFuture[Any]]) -> Any:
    """The flow's result: futures resolved; nothing returned and a task failed: its error."""
    if value is None:
        error = first_failure(futures)
        if error is not None:
            raise error
    return resolve(value)
