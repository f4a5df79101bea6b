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


def chunked_map(fn: Callable[[list[A]], list[R]], items: list[A]) -> list[R]:
    """`fn` over `items` in chunks, in worker processes when worth it; results in item order.

    `fn` must be a module-level function taking a list and returning one result per item.
    """
    workers = _workers(len(items))
    if workers == 1:
        return fn(items)
    import multiprocessing

    chunks = [items[i::workers] for i in range(workers)]
    # fork: the workers inherit the loaded modules, so they start in milliseconds.
    with multiprocessing.get_context("fork").Pool(workers) as pool:
        parts = pool.map(fn, chunks)
    out: list[R | None] = [None] * len(items)
    for i, part in enumerate(parts):
        out[i::workers] = part
    return out  # type: ignore[return-value]  # every slot is filled above


def _workers(n_items: int) -> int:
    # DAGY_GIT_WORKERS=1 forces one process (debugging, profiling); N caps the workers.
    cap = int(os.environ.get("DAGY_GIT_WORKERS") or MAX_WORKERS)
    if n_items < PARALLEL_MIN or sys.platform != "linux":
        return 1
    return max(1, min(cap, len(os.sched_getaffinity(0))))
