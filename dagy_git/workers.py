"""Spread per-file work over the machine's cores, for repositories with many flow files.

Analysing a flow file is CPU-bound (`ast.parse` is most of it), so a 1,000-flow `deploy
--all` or `validate` runs it in forked worker processes. Small inputs, and platforms
without a safe `fork`, run in this process; `DAGY_GIT_WORKERS=1` forces that.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TypeVar

A = TypeVar("A")
R = TypeVar("R")

# Below this many items, starting worker processes costs more than it saves.
PARALLEL_MIN = 200
MAX_WORKERS = 4
# With an observer, work is handed out in pieces this big so progress can be reported.
PROGRESS_PIECE = 25

Progress = Callable[[int, int], None]
"""`(done, total)` items, called as pieces of work finish."""

_observers: list[Progress] = []


def observe(observer: Progress | None) -> None:
    """Report the progress of every `chunked_map` to `observer` (None: stop reporting).
    The core never prints; the interface decides what progress looks like."""
    _observers.clear()
    if observer is not None:
        _observers.append(observer)


def chunked_map(fn: Callable[[list[A]], list[R]], items: list[A]) -> list[R]:
    """`fn` over `items` in chunks, in worker processes when worth it; results in item order.

    `fn` must be a module-level function taking a list and returning one result per item.
    """
    workers = _workers(len(items))
    observer = _observers[0] if _observers else None
    if observer is None:
        if workers == 1:
            return fn(items)
        return _strided(fn, items, workers, workers, None)
    pieces = max(workers, -(-len(items) // PROGRESS_PIECE))
    if workers == 1:
        out: list[R] = []
        for start in range(0, len(items), PROGRESS_PIECE):
            out += fn(items[start : start + PROGRESS_PIECE])
            observer(len(out), len(items))
        return out
    return _strided(fn, items, workers, pieces, observer)


def _strided(
    fn: Callable[[list[A]], list[R]],
    items: list[A],
    workers: int,
    pieces: int,
    observer: Progress | None,
) -> list[R]:
    """`fn` over `pieces` strided slices of `items` in `workers` forked processes."""
    import multiprocessing

    chunks = [items[i::pieces] for i in range(pieces)]
    out: list[R | None] = [None] * len(items)
    done = 0
    # fork: the workers inherit the loaded modules, so they start in milliseconds.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        for i, part in enumerate(pool.imap(fn, chunks)):
            out[i::pieces] = part
            done += len(part)
            if observer is not None:
                observer(done, len(items))
    return out  # type: ignore[return-value]  # every slot is filled above


def _workers(n_items: int) -> int:
    # DAGY_GIT_WORKERS=1 forces one process (debugging, profiling); N caps the workers.
    cap = int(os.environ.get("DAGY_GIT_WORKERS") or MAX_WORKERS)
    if n_items < PARALLEL_MIN or sys.platform != "linux":
        return 1
    return max(1, min(cap, len(os.sched_getaffinity(0))))
