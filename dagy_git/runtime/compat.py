"""The small helpers flow files import next to `flow` and `task`, from the SDK they were
written for: cache keys, backoff delays, task runners.

They make such files run here. Caching and result persistence do not exist in a local run,
so `task_input_hash` only computes the key. A flow run submits its tasks to its own thread
pool, except under `SequentialTaskRunner`, where each runs at once in the flow's thread.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import Any

__all__ = [
    "ConcurrentTaskRunner",
    "SequentialTaskRunner",
    "ThreadPoolTaskRunner",
    "exponential_backoff",
    "task_input_hash",
]


def task_input_hash(context: object, arguments: dict[str, Any]) -> str | None:
    """A cache key from a task's arguments (`cache_key_fn=task_input_hash`); None when an
    argument has no stable text form."""
    try:
        text = repr(sorted(arguments.items()))
    except Exception:  # unorderable or unprintable arguments: no key, as if not cached
        return None
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()


def exponential_backoff(backoff_factor: float) -> Callable[[int], list[float]]:
    """`retry_delay_seconds=exponential_backoff(10)`: 10, 20, 40, … seconds per retry."""

    def delays(retries: int) -> list[float]:
        return [backoff_factor * 2**i for i in range(retries)]

    return delays


class ThreadPoolTaskRunner:
    """`task_runner=ThreadPoolTaskRunner(max_workers=8)`: submitted tasks run on threads,
    at most `max_workers` at a time (default: the flow run's usual pool)."""

    def __init__(self, max_workers: int | None = None) -> None:
        self.max_workers = max_workers

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class ConcurrentTaskRunner(ThreadPoolTaskRunner):
    """`task_runner=ConcurrentTaskRunner()`: the same thread pool, under its older name."""


class SequentialTaskRunner(ThreadPoolTaskRunner):
    """`task_runner=SequentialTaskRunner()`: each submitted task runs when it is submitted,
    in the flow's own thread, one at a time."""
