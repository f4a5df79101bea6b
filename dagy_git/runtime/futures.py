"""Futures of submitted tasks, and the resolution of futures inside task arguments.

`task.submit(...)` returns a `TaskFuture` at once; the task runs on a worker thread when its
upstream futures are done. A future passed as an argument (also inside a list, tuple, set or
dict) stands for its result, as the SDK's users expect, so `load.submit(extract.submit())`
gets the extracted value.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from dagy_git.runtime.states import PENDING, RUNNING, State

if TYPE_CHECKING:
    import concurrent.futures

__all__ = ["FutureList", "TaskFuture", "Unmapped", "futures_in", "resolve", "unmapped", "wait"]

R = TypeVar("R")
_ids = itertools.count(1)


class TaskFuture(Generic[R]):
    """The eventual result of one submitted task run."""

    def __init__(self, task_name: str) -> None:
        self.task_name = task_name
        self.task_run_id = next(_ids)
        # Imported here: `concurrent.futures` loads `logging`, a cost flows without
        # `.submit()` need not pay when they `import dagy_git`.
        import concurrent.futures

        self._future: concurrent.futures.Future[R] = concurrent.futures.Future()

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> R:
        """Wait for the task and return its value; a failed task raises its own error.

        With `raise_on_failure=False` a failed task's error is returned instead of raised.
        """
        import concurrent.futures

        done, _ = concurrent.futures.wait([self._future], timeout)
        if not done:
            raise TimeoutError(f"task {self.task_name!r} did not finish within {timeout:g} seconds")
        # Checked, not caught: the task's own error may be a TimeoutError too.
        error = self._future.exception()
        if error is None:
            return self._future.result()
        if raise_on_failure:
            raise error
        return error  # type: ignore[return-value]

    def wait(self, timeout: float | None = None) -> State:
        """Wait until the task is done (or `timeout` passed); return its state."""
        import concurrent.futures

        concurrent.futures.wait([self._future], timeout)
        return self.state

    def done(self) -> bool:
        """Whether the task finished (completed or failed)."""
        return self._future.done()

    @property
    def state(self) -> State:
        """The task run's current state."""
        future = self._future
        if not future.done():
            return State(RUNNING if future.running() else PENDING)
        error = future.exception()
        if error is not None:
            return State.failed(error)
        return State.completed(future.result())

    def add_done_callback(self, fn: Callable[[TaskFuture[R]], object]) -> None:
        """Call `fn(future)` when the task is done (at once if it already is)."""
        self._future.add_done_callback(lambda _: fn(self))

    def __repr__(self) -> str:
        return f"TaskFuture({self.task_name!r}, state={self.state.name})"

    # -- the runtime's side ---------------------------------------------------------------
    def _start(self) -> bool:
        return self._future.set_running_or_notify_cancel()

    def _finish(self, value: R) -> None:
        self._future.set_result(value)

    def _fail(self, error: BaseException) -> None:
        if not self._future.running() and not self._future.done():
            self._future.set_running_or_notify_cancel()
        self._future.set_exception(error)


class FutureList(list[TaskFuture[Any]]):
    """The futures of one `task.map(...)`, in input order."""

    def result(self, timeout: float | None = None, raise_on_failure: bool = True) -> list[Any]:
        """Every mapped run's value, in order; the first failure raises its error."""
        return [f.result(timeout, raise_on_failure) for f in self]

    def wait(self, timeout: float | None = None) -> None:
        """Wait until every mapped run is done."""
        wait(self, timeout)


class Unmapped(Generic[R]):
    """An argument of `task.map(...)` passed whole to every run instead of iterated."""

    def __init__(self, value: R) -> None:
        self.value = value

    def __repr__(self) -> str:
        return f"unmapped({self.value!r})"


def unmapped(value: R) -> Unmapped[R]:
    """Mark a `task.map(...)` argument as the same for every mapped run."""
    return Unmapped(value)


def wait(futures: Iterable[TaskFuture[Any]], timeout: float | None = None) -> None:
    """Wait until every future is done (or `timeout` passed)."""
    import concurrent.futures

    concurrent.futures.wait([f._future for f in futures], timeout)


_CONTAINERS = (list, tuple, set, frozenset, dict)


def futures_in(value: object) -> list[TaskFuture[Any]]:
    """Every future inside `value`, looking into lists, tuples, sets and dicts."""
    found: list[TaskFuture[Any]] = []
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, TaskFuture):
            found.append(item)
        elif isinstance(item, Unmapped):
            stack.append(item.value)
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, _CONTAINERS):
            stack.extend(item)
    return found


def resolve(value: Any) -> Any:
    """`value` with every future replaced by its result (a failed one raises its error).

    Containers without futures are returned as they are, not copied.
    """
    if isinstance(value, TaskFuture):
        return value.result()
    if isinstance(value, Unmapped):
        return resolve(value.value)
    if not isinstance(value, _CONTAINERS) or not futures_in(value):
        return value
    if isinstance(value, dict):
        pairs = [(resolve(k), resolve(v)) for k, v in value.items()]
        return _rebuilt(value, pairs, dict)
    items = [resolve(v) for v in value]
    if isinstance(value, tuple) and hasattr(value, "_fields"):  # a namedtuple
        return type(value)(*items)
    base = next(t for t in _CONTAINERS if isinstance(value, t))
    return _rebuilt(value, items, base)


def _rebuilt(value: Any, items: list[Any], base: type) -> Any:
    """A container of `value`'s type holding `items`; its base type when that type cannot
    be built from items (a `defaultdict` wants its factory first)."""
    try:
        return type(value)(items)
    except TypeError:
        return base(items)


def first_failure(futures: Iterable[TaskFuture[Any]]) -> BaseException | None:
    """The error of the first failed future among finished ones, if any."""
    for future in futures:
        if future.done() and (error := future._future.exception()) is not None:
            return error
    return None
