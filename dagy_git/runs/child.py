"""The child process of a run: import the flow file, call the flow, report as it goes.

    python -m dagy_git.runs.child JOB_FILE EVENTS_FD

`JOB_FILE` (JSON) names the flow file, its function, the parameters and the folders to import
from. Events go out as JSON lines on file descriptor `EVENTS_FD` (a pipe the parent
reads), so whatever the flow prints stays the run's log, never mixed with the protocol:

    {"event": "note", "message": …}
    {"event": "task", "task_id": …, "task_name": …, "state": …, "attempts": …,
     "started_at": …, "ended_at": …, "error": …}
    {"event": "flow", "state": "COMPLETED" | "FAILED", "error": …}

Task runs are seen through `dagy_git.observe`, which this package's SDK calls.
"""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import os
import re
import sys
import threading
import traceback
from collections import Counter
from pathlib import Path
from typing import IO, Any

from dagy_git.observe import observing
from dagy_git.runs.types import TaskRunRecord, now_iso

SHIM_NOTE = "running with dagy-git's SDK standing in for dagy"
_IMPORTS_DAGY = re.compile(rb"^\s*(from\s+dagy[\s.]|import\s+dagy\b)", re.MULTILINE)


def install_dagy_shim() -> bool:
    """Make `import dagy` work: the Dagy SDK when installed, else this package's SDK.

    True when dagy-git's SDK stands in. Uses the SDK's own shim (`dagy_git.shim`) where this
    dagy-git has one, else registers `dagy_git` itself as `dagy`.
    """
    if importlib.util.find_spec("dagy_git.shim") is not None:
        module = importlib.import_module("dagy_git.shim").install_dagy_shim()
        return bool(getattr(module, "__dagy_git_shim__", False))
    if "dagy" in sys.modules or importlib.util.find_spec("dagy") is not None:
        return False
    import dagy_git

    sys.modules["dagy"] = dagy_git
    return True


class Reporter:
    """Writes events to the parent, and is the run's task-run observer."""

    def __init__(self, out: IO[str]) -> None:
        self.out = out
        self.lock = threading.Lock()
        self.calls: Counter[str] = Counter()

    def send(self, event: dict[str, Any]) -> None:
        """One JSON line to the parent."""
        line = json.dumps(event, default=repr) + "\n"
        with self.lock:
            self.out.write(line)
            self.out.flush()

    def task_run(self, task_name: str) -> _Watch:
        """A task was called: number it like the analyser does (`name`, `name#2`, …)."""
        with self.lock:
            self.calls[task_name] += 1
            count = self.calls[task_name]
        task_id = task_name if count == 1 else f"{task_name}#{count}"
        return _Watch(self, TaskRunRecord(task_id, task_name, "PENDING"))


class _Watch:
    """One task call's attempts, sent to the parent as they start and end."""

    def __init__(self, reporter: Reporter, record: TaskRunRecord) -> None:
        self.reporter = reporter
        self.record = record

    def _send(self) -> None:
        self.reporter.send({"event": "task", **self.record.to_json()})

    def attempt_started(self, attempt: int) -> None:
        """The task is running its `attempt`-th try."""
        if self.record.started_at is None:
            self.record.started_at = now_iso()
        self.record.state = "RUNNING"
        self.record.attempts = attempt
        self._send()

    def attempt_ended(self, attempt: int, error: BaseException | None, final: bool) -> None:
        """An attempt ended: COMPLETED, FAILED, or RETRYING when another try follows."""
        self.record.attempts = attempt
        self.record.error = None if error is None else describe(error)
        if error is None:
            self.record.state = "COMPLETED"
        else:
            self.record.state = "FAILED" if final else "RETRYING"
        if final:
            self.record.ended_at = now_iso()
        self._send()


def describe(error: BaseException) -> str:
    """An exception as one line: `Type: message`."""
    text = str(error)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__


def _module_name(rel: str) -> str:
    """`pkg/mod.py` → `pkg.mod` when every part is an identifier, so package-relative
    imports work; otherwise a private name."""
    parts = rel.removesuffix(".py").split("/")
    return ".".join(parts) if all(p.isidentifier() for p in parts) else "_dagy_run_flow"


def _load(job: dict[str, Any]) -> Any:
    """Import the flow file and return its flow object."""
    path = Path(job["flow_file"])
    name = _module_name(job["flow_rel"])
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot import {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return getattr(module, job["function"])


def run(job: dict[str, Any], reporter: Reporter) -> None:
    """Run the job's flow, reporting task runs and the flow's outcome."""
    shim = install_dagy_shim()
    if shim and _IMPORTS_DAGY.search(Path(job["flow_file"]).read_bytes()):
        reporter.send({"event": "note", "message": SHIM_NOTE})
    sys.path[:0] = job["sys_path"]
    try:
        flow = _load(job)
        with observing(reporter):
            result = flow(**job["parameters"])
            if inspect.iscoroutine(result):  # an async flow: calling it gave a coroutine
                asyncio.run(result)
    except BaseException as exc:  # the flow's failure is the run's outcome, not ours
        traceback.print_exc()
        reporter.send({"event": "flow", "state": "FAILED", "error": describe(exc)})
        return
    reporter.send({"event": "flow", "state": "COMPLETED", "error": None})


def main(argv: list[str]) -> None:
    """Entry point: `JOB_FILE EVENTS_FD`."""
    job = json.loads(Path(argv[0]).read_text(encoding="utf-8"))
    out = os.fdopen(int(argv[1]), "w", encoding="utf-8")
    try:
        run(job, Reporter(out))
        sys.stdout.flush()
        sys.stderr.flush()
        out.flush()
    except BrokenPipeError:
        pass  # the parent is gone: nobody to tell
    # A timed-out task's thread may still be running: it must not keep the run alive.
    os._exit(0)


if __name__ == "__main__":
    main(sys.argv[1:])
