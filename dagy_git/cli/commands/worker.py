"""`dagy-git worker`: fire each deployment's schedule, once per scheduled time, and run it."""

from __future__ import annotations

import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

from dagy_git.cli.output import note
from dagy_git.errors import DagyError
from dagy_git.runs import launch
from dagy_git.runs.scheduler import Claimed, Scheduler, Tick
from dagy_git.runs.store import RunStore
from dagy_git.workspace import Workspace, open_workspace

_MAX_SLEEP = 30.0  # seconds: deployments may change on the registry meanwhile


def run(catch_up: bool, once: bool, concurrency: int, runs_db: Path | None, cwd: Path) -> int:
    """Fire due schedules until interrupted (or once, with `--once`)."""
    ws = open_workspace(cwd)
    stop = threading.Event()
    failed = False
    with (
        launch.open_store(ws, runs_db) as store,
        ThreadPoolExecutor(concurrency, thread_name_prefix="dagy-run") as pool,
    ):
        scheduler = Scheduler(ws, store, catch_up=catch_up)
        running: list[Future[bool]] = []
        try:
            while True:
                tick = scheduler.tick()
                failed |= _report(tick)
                running += [pool.submit(_execute, ws, store, c, stop) for c in tick.claimed]
                if once:
                    failed |= not all(f.result() for f in running)
                    break
                running = [f for f in running if not f.done()]
                _sleep_until(scheduler.next_due())
        except KeyboardInterrupt:
            note("worker: stopping; cancelling the runs in progress")
            stop.set()
    return 1 if failed else 0


def _report(tick: Tick) -> bool:
    for name, slots in tick.missed.items():
        shown = ", ".join(s.isoformat() for s in slots[:5]) + (" …" if len(slots) > 5 else "")
        note(f"worker: {name}: {len(slots)} slot(s) missed while no worker ran: {shown}")
        note("hint: pass --catch-up to run missed slots")
    for name, exc in tick.errors.items():
        note(f"worker: {name}: error: {exc}")
    for claimed in tick.claimed:
        run = claimed.run
        note(f"worker: {run.deployment_name} @ {run.scheduled_for}: run {run.run_id}")
    return bool(tick.errors)


def _execute(ws: Workspace, store: RunStore, claimed: Claimed, stop: threading.Event) -> bool:
    run = claimed.run
    try:
        final = launch.execute(ws, store, claimed.request, run.run_id, should_cancel=stop.is_set)
    except DagyError as exc:
        note(f"worker: run {run.run_id}: error: {exc}")
        return False
    note(f"worker: run {run.run_id} ({run.deployment_name}): {final.state}")
    return final.state == "COMPLETED"


def _sleep_until(moment: datetime | None) -> None:
    now = datetime.now(timezone.utc)
    wait = _MAX_SLEEP if moment is None else (moment - now).total_seconds()
    time.sleep(min(max(wait, 0.5), _MAX_SLEEP))
