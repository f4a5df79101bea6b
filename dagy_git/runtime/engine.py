"""Running one task or flow call: retries with their delays, a timeout, hooks, states.

Synchronous calls run in the caller's thread (a timeout moves the call to a worker thread
and stops waiting for it; Python cannot kill a thread, so a timed-out call keeps running in
the background until it returns, its result dropped). Coroutine functions run on the
caller's event loop, with `asyncio.wait_for` for the timeout.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Coroutine
from typing import Any, NamedTuple, Protocol, TypeVar

from dagy_git.runtime.context import current
from dagy_git.runtime.options import Delays, delay_for
from dagy_git.runtime.states import State

__all__ = ["AttemptWatch", "Policy", "RunTimeout", "call_async", "call_sync", "run_coroutine"]

R = TypeVar("R")

# Looked up at call time, so tests can record the delays instead of waiting them out.
_sleep = time.sleep


async def _asleep(seconds: float) -> None:
    import asyncio

    await asyncio.sleep(seconds)


class AttemptWatch(Protocol):
    """Who observes one call's attempts (a runs worker recording task runs, say)."""

    def attempt_started(self, attempt: int) -> None:
        """Attempt `attempt` (1-based) begins."""

    def attempt_ended(self, attempt: int, error: BaseException | None, final: bool) -> None:
        """Attempt `attempt` ended (`error` None: success); `final` False: a retry follows."""


class RunTimeout(TimeoutError):
    """A call that did not finish within its `timeout_seconds`; `label` names the call."""

    def __init__(self, label: str, timeout: float) -> None:
        super().__init__(f"{label} did not finish within {timeout:g} seconds")
        self.label = label


class Policy(NamedTuple):
    """How one call runs: what it is called in messages, its retries, delays and timeout."""

    label: str
    retries: int = 0
    delays: Delays = 0.0
    timeout: float | None = None
    retry_condition: Callable[..., object] | None = None
    hooks: dict[str, list[Callable[..., object]]] | None = None

    def should_retry(self, attempt: int, error: BaseException, owner: object, run: object) -> bool:
        """Whether a failed attempt (1-based) is tried again."""
        if attempt > self.retries or not isinstance(error, Exception):
            return False
        if self.retry_condition is None:
            return True
        return bool(self.retry_condition(owner, run, State.failed(error)))


def call_sync(
    policy: Policy,
    fn: Callable[..., R],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    owner: Any,
    watch: AttemptWatch | None = None,
) -> R:
    """Call `fn` under `policy` in this thread; raises the last attempt's error. Each
    attempt is reported to `watch` when something observes the run."""
    run = current()
    attempt = 0
    while True:
        attempt += 1
        if watch is not None:
            watch.attempt_started(attempt)
        try:
            if policy.timeout is None:
                value = fn(*args, **kwargs)
            else:
                value = _with_timeout(policy, fn, args, kwargs)
        except BaseException as exc:
            retry = policy.should_retry(attempt, exc, owner, run)
            if watch is not None:
                watch.attempt_ended(attempt, exc, final=not retry)
            if retry:
                delay = delay_for(policy.delays, attempt)
                if delay > 0:
                    _sleep(delay)
                continue
            _hooks(policy, "on_failure", owner, run, State.failed(exc))
            raise
        if watch is not None:
            watch.attempt_ended(attempt, None, final=True)
        _hooks(policy, "on_completion", owner, run, State.completed(value))
        return value


async def call_async(
    policy: Policy,
    fn: Callable[..., Coroutine[Any, Any, R]],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
    owner: Any,
    watch: AttemptWatch | None = None,
) -> R:
    """Await `fn` under `policy` on the running event loop (attempts reported to `watch`)."""
    import asyncio

    run = current()
    attempt = 0
    while True:
        attempt += 1
        if watch is not None:
            watch.attempt_started(attempt)
        try:
            if policy.timeout is None:
                value = await fn(*args, **kwargs)
            else:
                try:
                    value = await asyncio.wait_for(fn(*args, **kwargs), policy.timeout)
                except asyncio.TimeoutError:
                    raise _timeout_error(policy) from None
        except BaseException as exc:
            retry = policy.should_retry(attempt, exc, owner, run)
            if watch is not None:
                watch.attempt_ended(attempt, exc, final=not retry)
            if retry:
                delay = delay_for(policy.delays, attempt)
                if delay > 0:
                    await _asleep(delay)
                continue
            _hooks(policy, "on_failure", owner, run, State.failed(exc))
            raise
        if watch is not None:
            watch.attempt_ended(attempt, None, final=True)
        _hooks(policy, "on_completion", owner, run, State.completed(value))
        return value


def run_coroutine(coro: Coroutine[Any, Any, R]) -> R:
    """Run a coroutine to completion from synchronous code, in or outside an event loop."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coro)
    # This thread already runs a loop (sync code called from async code): a loop cannot be
    # nested, so the coroutine gets its own loop on a helper thread.
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(asyncio.run, coro)
        except BaseException as exc:
            outcome["error"] = exc

    helper = threading.Thread(target=target, name="dagy coroutine")
    helper.start()
    helper.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]


def _hooks(policy: Policy, kind: str, owner: object, run: object, state: State) -> None:
    """Call the `on_completion` / `on_failure` hooks; a failing hook is logged, not raised."""
    for hook in (policy.hooks or {}).get(kind, ()):
        try:
            hook(owner, run, state)
        except Exception:
            from dagy_git.runtime.logs import get_run_logger

            get_run_logger().exception("%s hook %r of %s failed", kind, hook, policy.label)


def _timeout_error(policy: Policy) -> RunTimeout:
    return RunTimeout(policy.label, policy.timeout or 0.0)


def _with_timeout(
    policy: Policy, fn: Callable[..., R], args: tuple[Any, ...], kwargs: dict[str, Any]
) -> R:
    outcome: dict[str, Any] = {}
    context = contextvars.copy_context()

    def target() -> None:
        try:
            outcome["value"] = context.run(fn, *args, **kwargs)
        except BaseException as exc:  # handed to the caller's thread below
            outcome["error"] = exc

    # A daemon thread: a call that never returns must not keep the interpreter alive.
    worker = threading.Thread(target=target, name=f"dagy {policy.label}", daemon=True)
    worker.start()
    worker.join(policy.timeout)
    if worker.is_alive():
        raise _timeout_error(policy)
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
