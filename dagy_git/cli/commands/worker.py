"""`dagy-git worker`: fire each deployment's schedule, once per scheduled time, and run it."""

from __future__ import annotations

import threading
from pathlib import Path

from dagy_git.cli.output import note
from dagy_git.runs import launch
from dagy_git.runs.worker import work
from dagy_git.workspace import open_workspace


def run(catch_up: bool, once: bool, concurrency: int, runs_db: Path | None, cwd: Path) -> int:
    """Fire due schedules until interrupted (or once, with `--once`)."""
    ws = open_workspace(cwd)
    stop = threading.Event()

    def report(message: str) -> None:
        note(f"worker: {message}")

    with launch.open_store(ws, runs_db) as store:
        try:
            ok = work(
                ws,
                store,
                report=report,
                stop=stop,
                catch_up=catch_up,
                once=once,
                concurrency=concurrency,
            )
        except KeyboardInterrupt:
            report("stopping; runs in progress are cancelled")
            stop.set()
            return 130
    return 0 if ok else 1
