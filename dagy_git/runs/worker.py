"""The worker loop: fire due schedules, run what was claimed, until told to stop.

Shared by `dagy-git worker` and (in a thread) `dagy-git serve --worker`. It reports through
a callback, never prints, and sleeps on the `stop` event so stopping is immediate: runs in
progress see `stop` as a cancel request.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone

from dagy_git.errors import DagyError
from dagy_git.runs import launch
from dagy_git.runs.scheduler import Claimed, Scheduler, Tick
from dagy_git.runs.store import RunStore
from dagy_git.workspace import Workspace

__all__ = ["work"]

_MAX_SLEEP = 30.0  # seconds: deployments may change on the registry meanwhile


def work(
    ws: Workspace,
    store: RunStore,
    *,
    report: Callable[[str], None],
    stop: threading.Event,
    catch_up: bool = False,
    once: bool = False,
    concurrency: int = 2,
) -> bool:
    """Fire and run due schedules until `stop` is set (or once); False if anything failed."""
    scheduler = Scheduler(ws, store, catch_up=catch_up)
    ok = True
    with ThreadPoolExecutor(concurrency, thread_name_prefix="dagy-run") as pool:
        running: list[Future[bool]] = []
        try:
            while not stop.is_set():
                tick = scheduler.tick()
                ok &= _report(tick, report)
                running += [pool.submit(_execute, ws, store, c, stop, report) for c in tick.claimed]
                if once:
                    ok &= all(f.result() for f in running)
                    break
                running = [f for f in running if not f.done()]
                stop.wait(_pause(scheduler.next_due()))
        except BaseException:
            stop.set()  # Ctrl-C: runs in progress are cancelled before the pool is joined
            raise
    return ok


def _pause(moment: datetime | None) -> float:
    if moment is None:
        return _MAX_SLEEP
    wait = (moment - datetime.now(timezone.utc)).total_seconds()
    return min(max(wait, 0.5), _MAX_SLEEP)


def _report(tick: Tick, report: Callable[[str], None]) -> bool:
    for name, slots in tick.missed.items():
        shown = ", ".join(s.isoformat() for s in slots[:5]) + (" …" if len(slots) > 5 else "")
        report(f"{name}: {len(slots)} slot(s) missed while no worker ran: {shown}")
        report("  (pass --catch-up to run missed slots)")
    for name, exc in tick.errors.items():
        report(f"{name}: error: {exc}")
    for claimed in tick.claimed:
        run = claimed.run
        report(f"{run.deployment_name} @ {run.scheduled_for}: run {run.run_id}")
    return not tick.errors


def _execute(
    ws: Workspace,
    store: RunStore,
    claimed: Claimed,
    stop: threading.Event,
    report: Callable[[str], None],
) -> bool:
    run = claimed.run
    try:
        final = launch.execute(ws, store, claimed.request, run.run_id, should_cancel=stop.is_set)
    except DagyError as exc:
        report(f"run {run.run_id}: error: {exc}")
        return False
    report(f"run {run.run_id} ({run.deployment_name}): {final.state}")
    return final.state == "COMPLETED"
