"""Task calls: direct (`t(x)`), submitted (`t.submit(x)` → a future) and mapped (`t.map(xs)`).

A submitted task starts on a worker thread of its flow run once every future among its
arguments and `wait_for` is done; when one of them failed, the task does not run and its
future fails with that upstream error, so the failure reaches whoever asks for the result.
"""

from __future__ import annotations

import contextvars
import io
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from dagy_git import observe
from dagy_git.runtime.context import (
    MAX_WORKERS,
    FlowRun,
    TaskRun,
    current_flow_run,
    entered,
    in_sync_run,
)
from dagy_git.runtime.engine import Policy, call_async, call_sync, run_coroutine
from dagy_git.runtime.futures import (
    FutureList,
    TaskFuture,
    Unmapped,
    first_failure,
    futures_in,
    resolve,
)
from dagy_git.runtime.prints import capture_prints
from dagy_git.runtime.states import State

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

__all__ = ["call_task", "map_task", "submit_task"]

RunName = Callable[[tuple[Any, ...], dict[str, Any]], str]


def call_task(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: object,
    return_state: bool,
) -> Any:
    """A direct call: runs now, or for an `async def` task gives a coroutine to await
    (run to completion instead when called from a synchronous flow or task)."""
    if owner.is_async:
        coro = _run_async(owner, policy, run_name, args, kwargs, wait_for, return_state)
        return run_coroutine(coro) if in_sync_run() else coro
    return _run_sync(owner, policy, run_name, args, kwargs, wait_for, return_state)


def submit_task(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: object,
) -> TaskFuture[Any]:
    """Start the task on a worker thread when its upstream futures are done; return its future."""
    future: TaskFuture[Any] = TaskFuture(owner.name)
    flow_run = current_flow_run()
    sequential = flow_run is not None and flow_run.sequential
    if flow_run is not None:
        flow_run.track(future)  # the flow run waits for it before it ends
    upstream = futures_in((args, kwargs, wait_for))
    context = contextvars.copy_context()

    def body() -> None:
        if not future._start():
            return
        try:
            if owner.is_async:
                coro = _run_async(owner, policy, run_name, args, kwargs, None, False)
                value = run_coroutine(coro)
            else:
                value = _run_sync(owner, policy, run_name, args, kwargs, None, False)
        except BaseException as exc:
            future._fail(exc)
        else:
            future._finish(value)

    def launch() -> None:
        error = first_failure(upstream)
        if error is not None:
            future._fail(error)
            return
        try:
            _executor(flow_run).submit(context.run, body)
        except RuntimeError as exc:  # the flow run already ended
            future._fail(exc)

    if sequential:
        for up in upstream:
            up.wait()
        error = first_failure(upstream)
        if error is not None:
            future._fail(error)
        else:
            context.run(body)  # now, in this thread: one task at a time, in call order
        return future
    _when_done(upstream, launch)
    return future


def map_task(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: object,
) -> FutureList:
    """One submitted run per item of the iterable arguments (`unmapped(x)` passed whole)."""
    # A future passed whole stands for its result, which is what gets iterated.
    args = tuple(a.result() if isinstance(a, TaskFuture) else a for a in args)
    kwargs = {k: v.result() if isinstance(v, TaskFuture) else v for k, v in kwargs.items()}
    mapped = {
        key: list(value)
        for key, value in [*enumerate(args), *kwargs.items()]
        if _iterable(value) and not isinstance(value, Unmapped)
    }
    if not mapped:
        raise ValueError(f"task {owner.name!r}: .map() needs at least one iterable argument")
    lengths = {len(items) for items in mapped.values()}
    if len(lengths) > 1:
        shown = ", ".join(f"{k!r}: {len(v)}" for k, v in mapped.items())
        raise ValueError(f"task {owner.name!r}: mapped arguments differ in length ({shown})")
    futures = FutureList()
    for i in range(lengths.pop()):
        item_args = tuple(mapped[n][i] if n in mapped else _whole(a) for n, a in enumerate(args))
        item_kwargs = {k: mapped[k][i] if k in mapped else _whole(v) for k, v in kwargs.items()}
        futures.append(submit_task(owner, policy, run_name, item_args, item_kwargs, wait_for))
    return futures


def _run_sync(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: object,
    return_state: bool,
) -> Any:
    _wait_upstream(wait_for)
    args, kwargs = resolve(args), resolve(kwargs)
    run = TaskRun(owner.name, run_name(args, kwargs), current_flow_run(), prints_option(owner))
    with entered(run):
        try:
            watch = observe.task_run(owner.name)
            value = call_sync(policy, owner.fn, args, kwargs, owner, watch=watch)
        except Exception as exc:
            if return_state:
                return State.failed(exc)
            raise
    return State.completed(value) if return_state else value


async def _run_async(
    owner: Any,
    policy: Policy,
    run_name: RunName,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    wait_for: object,
    return_state: bool,
) -> Any:
    _wait_upstream(wait_for)
    args, kwargs = resolve(args), resolve(kwargs)
    run = TaskRun(owner.name, run_name(args, kwargs), current_flow_run(), prints_option(owner))
    with entered(run):
        try:
            watch = observe.task_run(owner.name)
            value = await call_async(policy, owner.fn, args, kwargs, owner, watch=watch)
        except Exception as exc:
            if return_state:
                return State.failed(exc)
            raise
    return State.completed(value) if return_state else value


def prints_option(owner: Any) -> bool | None:
    """The `log_prints` option of a task or flow (None: as its parent run)."""
    value = owner.options.get("log_prints")
    if value:
        capture_prints()
    return None if value is None else bool(value)


def _wait_upstream(wait_for: object) -> None:
    """Block until the futures in `wait_for` are done; a failed one's error stops the call."""
    if wait_for is None:
        return
    futures = futures_in(wait_for)
    for future in futures:
        future.wait()
    error = first_failure(futures)
    if error is not None:
        raise error


def _when_done(upstream: list[TaskFuture[Any]], then: Callable[[], None]) -> None:
    """Call `then()` once every future in `upstream` is done (now, if none is pending)."""
    if not upstream:
        then()
        return
    remaining = [len(upstream)]
    lock = threading.Lock()

    def one_done(_: TaskFuture[Any]) -> None:
        with lock:
            remaining[0] -= 1
            last = remaining[0] == 0
        if last:
            then()

    for future in upstream:
        future.add_done_callback(one_done)


def _iterable(value: object) -> bool:
    """Whether `.map()` iterates over `value` (strings and files are single values)."""
    if isinstance(value, (str, bytes, bytearray, io.IOBase)):
        return False
    try:
        iter(value)  # type: ignore[call-overload]
    except TypeError:
        return False
    return True


def _whole(value: object) -> object:
    return value.value if isinstance(value, Unmapped) else value


_shared: ThreadPoolExecutor | None = None
_shared_lock = threading.Lock()


def _executor(flow_run: FlowRun | None) -> ThreadPoolExecutor:
    """The flow run's worker threads, or the shared ones outside any flow run."""
    return flow_run.executor() if flow_run is not None else _shared_executor()


def _shared_executor() -> ThreadPoolExecutor:
    """Workers for tasks submitted outside any flow run (the SDK's users do it in tests)."""
    global _shared
    with _shared_lock:
        if _shared is None:
            from concurrent.futures import ThreadPoolExecutor

            _shared = ThreadPoolExecutor(MAX_WORKERS, thread_name_prefix="dagy tasks")
        return _shared
