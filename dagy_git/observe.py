"""Watching task runs: the interface a runtime calls so a run can record its task runs.

The SDK runtime stays unaware of who listens: when a task is called it asks `task_run(name)`
for a `TaskRunWatch` (None when nobody observes, the usual case) and reports each attempt to
it. `dagy_git.runs.child` installs an observer for the duration of a run with `observing`.
A contextvar keeps observers of concurrent runs in one process apart.
"""

from __future__ import annotations

import contextvars
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Protocol

__all__ = ["RunObserver", "TaskRunWatch", "observing", "task_run"]


class TaskRunWatch(Protocol):
    """One call of a task, as the observer sees it: attempts start and end."""

    def attempt_started(self, attempt: int) -> None:
        """Attempt `attempt` (1-based) begins."""

    def attempt_ended(self, attempt: int, error: BaseException | None, final: bool) -> None:
        """Attempt `attempt` ended: `error` None is success; `final` False means a retry follows."""


class RunObserver(Protocol):
    """Receives the task runs of one flow run."""

    def task_run(self, task_name: str) -> TaskRunWatch:
        """A task named `task_name` was called: the watch for this call."""


_current: contextvars.ContextVar[RunObserver | None] = contextvars.ContextVar(
    "dagy_run_observer", default=None
)


def task_run(task_name: str) -> TaskRunWatch | None:
    """The watch for one task call, or None when no run is being observed."""
    observer = _current.get()
    return None if observer is None else observer.task_run(task_name)


@contextmanager
def observing(observer: RunObserver) -> Iterator[None]:
    """Report every task call made inside the block to `observer`."""
    token = _current.set(observer)
    try:
        yield
    finally:
        _current.reset(token)
