"""Which flow run and task run the current code runs in.

A context variable, so worker threads (each started in a copy of the submitter's context)
and asyncio tasks (each with its own copy) see their own run: the run logger and subflows
know their parent without anything being passed around.
"""

from __future__ import annotations

import contextvars
import itertools
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # only for annotations: the executor module is imported when first needed
    from concurrent.futures import ThreadPoolExecutor

    from dagy_git.runtime.futures import TaskFuture

__all__ = ["FlowRun", "TaskRun", "current", "current_flow_run", "entered"]

_ids = itertools.count(1)
# Submitted tasks are mostly I/O (HTTP calls, queries, file transfers): a wide pool lets a
# fan-out of them wait at once. Threads start only when work is waiting; tasks never block
# a worker on their upstream futures (they start when those are done), so no deadlock.
MAX_WORKERS = 32


class FlowRun:
    """One run of a flow: its name, its parent flow run, and the tasks it submitted."""

    def __init__(
        self,
        flow_name: str,
        name: str,
        is_async: bool,
        parent: FlowRun | None,
        log_prints: bool | None = None,
    ) -> None:
        self.flow_name = flow_name
        self.name = name
        self.is_async = is_async
        self.parent = parent
        # `log_prints=None` inherits: a subflow prints as its parent does.
        inherited = parent.log_prints if parent is not None else False
        self.log_prints: bool = inherited if log_prints is None else bool(log_prints)
        self.id = next(_ids)
        self.futures: list[TaskFuture[Any]] = []
        # `task_runner=SequentialTaskRunner()`: submitted tasks run at once, one at a time;
        # `ThreadPoolTaskRunner(max_workers=4)`: at most that many at a time.
        self.sequential = False
        self.max_workers = MAX_WORKERS
        self._executor: ThreadPoolExecutor | None = None
        self._closed = False
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"FlowRun({self.name!r})"

    def executor(self) -> ThreadPoolExecutor:
        """The worker threads of this run's submitted tasks (started on first use)."""
        with self._lock:
            if self._closed:  # e.g. the body of a timed-out flow, still running
                raise RuntimeError(f"flow run {self.name!r} has ended: nothing more can run")
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(
                    self.max_workers, thread_name_prefix=f"dagy {self.name}"
                )
            return self._executor

    def track(self, future: TaskFuture[Any]) -> None:
        """Remember a submitted task, so the run waits for it before it ends."""
        with self._lock:
            self.futures.append(future)

    def wait_all(self) -> list[TaskFuture[Any]]:
        """Wait for every task submitted so far (and those they submit); return them all."""
        from dagy_git.runtime.futures import wait

        seen = 0
        while True:
            with self._lock:
                pending = self.futures[seen:]
                seen = len(self.futures)
            if not pending:
                return list(self.futures)
            wait(pending)

    def close(self, wait: bool = True) -> None:
        """Wait for every submitted task (unless `wait` is false), then stop the workers.

        Without waiting (the flow run timed out), running tasks go on in the background, as
        a timed-out call does, and tasks not started yet fail when their turn comes.
        """
        if wait:
            self.wait_all()
        with self._lock:
            executor, self._executor = self._executor, None
            self._closed = True
        if executor is not None:
            executor.shutdown(wait=wait)


class TaskRun:
    """One run of a task, inside `flow_run` (None when a task is called outside any flow)."""

    def __init__(
        self, task_name: str, name: str, flow_run: FlowRun | None, log_prints: bool | None = None
    ) -> None:
        self.task_name = task_name
        self.name = name
        self.flow_run = flow_run
        # `log_prints=None` (the default) inherits the flow run's.
        inherited = flow_run.log_prints if flow_run is not None else False
        self.log_prints = inherited if log_prints is None else bool(log_prints)
        self.id = next(_ids)

    def __repr__(self) -> str:
        return f"TaskRun({self.name!r})"


_current: contextvars.ContextVar[FlowRun | TaskRun | None] = contextvars.ContextVar(
    "dagy_run", default=None
)


def current() -> FlowRun | TaskRun | None:
    """The innermost run the calling code is part of, if any."""
    return _current.get()


def current_flow_run() -> FlowRun | None:
    """The flow run the calling code is part of (through a task run too), if any."""
    run = _current.get()
    return run.flow_run if isinstance(run, TaskRun) else run


def in_sync_run() -> bool:
    """Whether the caller runs inside a synchronous flow or task (not an async flow)."""
    run = _current.get()
    if run is None:
        return False
    return isinstance(run, TaskRun) or not run.is_async


@contextmanager
def entered(run: FlowRun | TaskRun) -> Iterator[None]:
    """Make `run` the current run for the duration of the block."""
    token = _current.set(run)
    try:
        yield
    finally:
        _current.reset(token)
