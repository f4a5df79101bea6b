"""The local runtime of `@flow` / `@task`: what happens when a flow is called.

Rooms, each one concept: `options` (the decorator options a run needs), `states`
(pending/running/completed/failed), `futures` (`submit`/`map` results and their resolution
inside arguments), `context` (the current flow/task run), `engine` (retries, delays,
timeouts, hooks), `tasks` and `flows` (the calling forms), `logs` (`get_run_logger`).
`dagy_git/sdk.py` builds the decorators on top. Only the standard library and the pure core
are imported, so `import dagy_git` stays cheap; `asyncio` loads only for async flows.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagy_git.runtime.futures import FutureList, TaskFuture, Unmapped, unmapped, wait
from dagy_git.runtime.states import State

if TYPE_CHECKING:
    import logging

__all__ = ["FutureList", "State", "TaskFuture", "Unmapped", "get_run_logger", "unmapped", "wait"]


def get_run_logger() -> logging.Logger:
    """The logger for the current flow or task run (`dagy` outside any run)."""
    # `logging` loads on first use, not with `import dagy_git`.
    from dagy_git.runtime.logs import get_run_logger as get

    return get()
