"""Running a flow in a child process: its own interpreter, a deadline, cancel and crash.

The child (`dagy_git.runs.child`) reports events on a private pipe; its stdout and stderr
together are the run's log. The parent owns the outcome:

- the child reported the flow's end → that state (COMPLETED / FAILED);
- the deadline passed → FAILED ("timed out"), child stopped;
- a cancel was asked for, or Ctrl-C → CANCELLED, child stopped;
- the child died without reporting → CRASHED.

The child runs in its own session, so a Ctrl-C at the terminal reaches only the parent,
which then stops the child's whole process group (and whatever it started) cleanly.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from dagy_git.runs.store import LOG_LIMIT
from dagy_git.runs.types import TaskRunRecord

__all__ = ["ChildJob", "Outcome", "run_child"]

_POLL = 0.1  # seconds between checks of the deadline and of cancel requests
_GRACE = 3.0  # seconds a stopped child gets between SIGTERM and SIGKILL
_DRAIN = 60.0  # seconds at most to read the events a finished child left in its pipe


@dataclass(frozen=True)
class ChildJob:
    """What the child runs: a flow function in a file, with parameters, in a folder."""

    flow_file: Path
    flow_rel: str
    function: str
    parameters: dict[str, Any]
    cwd: Path
    sys_path: tuple[str, ...] = ()

    def to_json(self) -> str:
        """The job as the child reads it."""
        return json.dumps(
            {
                "flow_file": str(self.flow_file),
                "flow_rel": self.flow_rel,
                "function": self.function,
                "parameters": self.parameters,
                "sys_path": list(self.sys_path),
            }
        )


@dataclass
class Outcome:
    """How a child run ended, its task runs and its log."""

    state: str
    error: str | None
    log: str
    task_runs: dict[str, TaskRunRecord] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


class _Events:
    """Reads the child's event pipe: task runs as they change, notes, the flow's end."""

    def __init__(
        self,
        on_task: Callable[[TaskRunRecord, int], None] | None,
        on_note: Callable[[str], None] | None,
    ) -> None:
        self.on_task = on_task
        self.on_note = on_note
        self.tasks: dict[str, TaskRunRecord] = {}
        self.notes: list[str] = []
        self.flow: dict[str, Any] | None = None
        self.failures: list[str] = []  # callbacks that raised (e.g. a locked store)

    def read(self, pipe: IO[bytes]) -> None:
        with pipe:
            self._read(pipe)

    def _read(self, pipe: IO[bytes]) -> None:
        for raw in pipe:
            try:
                event = json.loads(raw)
            except ValueError:
                continue  # a torn line from a dying child: the outcome says the rest
            try:
                self._handle(event)
            except Exception as exc:  # keep draining: a full pipe would block the child
                self.failures.append(f"{type(exc).__name__}: {exc}")

    def _handle(self, event: dict[str, Any]) -> None:
        kind = event.pop("event", None)
        if kind == "task":
            task = TaskRunRecord(**event)
            order = list(self.tasks)
            position = order.index(task.task_id) if task.task_id in order else len(order)
            self.tasks[task.task_id] = task
            if self.on_task is not None:
                self.on_task(task, position)
        elif kind == "note":
            self.notes.append(str(event.get("message")))
            if self.on_note is not None:
                self.on_note(str(event.get("message")))
        elif kind == "flow":
            self.flow = event


class _Log:
    """The child's output, keeping only the tail (a chatty flow must not fill memory)."""

    def __init__(self, on_output: Callable[[str], None] | None) -> None:
        self.on_output = on_output
        self.parts: list[str] = []
        self.size = 0
        self.dropped = 0

    def read(self, pipe: IO[bytes]) -> None:
        with pipe:
            self._read(pipe)

    def _read(self, pipe: IO[bytes]) -> None:
        while chunk := pipe.read1(65536) if hasattr(pipe, "read1") else pipe.read(65536):
            text = chunk.decode("utf-8", "replace")
            if self.on_output is not None:
                try:
                    self.on_output(text)
                except Exception:  # e.g. stdout closed: keep draining, stop echoing
                    self.on_output = None
            self.parts.append(text)
            self.size += len(text)
            if self.size > 2 * LOG_LIMIT:
                joined = "".join(self.parts)
                self.dropped += len(joined) - LOG_LIMIT
                self.parts, self.size = [joined[-LOG_LIMIT:]], LOG_LIMIT

    def text(self) -> str:
        body = "".join(self.parts)
        return f"[… {self.dropped} characters dropped …]\n{body}" if self.dropped else body


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Stop the child's process group: SIGTERM, then SIGKILL after a grace period."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except (ProcessLookupError, PermissionError):
            return
        try:
            proc.wait(_GRACE)
            return
        except subprocess.TimeoutExpired:
            continue


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _died(code: int) -> str:
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f"the flow's process was killed by {name}"
    return f"the flow's process exited with code {code} before the flow ended"


def run_child(
    job: ChildJob,
    *,
    timeout: float | None = None,
    should_cancel: Callable[[], bool] | None = None,
    on_task: Callable[[TaskRunRecord, int], None] | None = None,
    on_note: Callable[[str], None] | None = None,
    on_output: Callable[[str], None] | None = None,
    python: str = sys.executable,
) -> Outcome:
    """Run `job` in a child interpreter and wait for it, within `timeout` seconds.

    `on_task` sees each task run as it changes, `on_note` the child's remarks, `on_output`
    its output as it comes (all called from reader threads)."""
    # The job goes in a file: parameters may be larger than one command-line argument.
    with tempfile.TemporaryDirectory(prefix="dagy-job-") as folder:
        job_file = Path(folder) / "job.json"
        job_file.write_text(job.to_json(), encoding="utf-8")
        return _run(job, job_file, timeout, should_cancel, on_task, on_note, on_output, python)


def _run(
    job: ChildJob,
    job_file: Path,
    timeout: float | None,
    should_cancel: Callable[[], bool] | None,
    on_task: Callable[[TaskRunRecord, int], None] | None,
    on_note: Callable[[str], None] | None,
    on_output: Callable[[str], None] | None,
    python: str,
) -> Outcome:
    read_end, write_end = os.pipe()
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONDONTWRITEBYTECODE": "1"}
    try:
        proc = subprocess.Popen(
            [python, "-m", "dagy_git.runs.child", str(job_file), str(write_end)],
            cwd=job.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            pass_fds=(write_end,),
            start_new_session=True,
        )
    finally:
        os.close(write_end)
    events, log = _Events(on_task, on_note), _Log(on_output)
    assert proc.stdout is not None  # stdout=PIPE
    readers = [
        threading.Thread(target=events.read, args=(os.fdopen(read_end, "rb"),), daemon=True),
        threading.Thread(target=log.read, args=(proc.stdout,), daemon=True),
    ]
    for reader in readers:
        reader.start()
    stopped: str | None = None
    deadline = None if timeout is None else time.monotonic() + timeout
    try:
        while proc.poll() is None:
            if deadline is not None and time.monotonic() >= deadline:
                stopped = "timeout"
            elif should_cancel is not None and should_cancel():
                stopped = "cancel"
            if stopped:
                _stop(proc)
                break
            # Never sleep past the deadline: a run of `--timeout 0.5` stops at 0.5 s.
            pause = _POLL if deadline is None else min(_POLL, max(deadline - time.monotonic(), 0))
            try:
                proc.wait(pause)
            except subprocess.TimeoutExpired:
                continue
    except KeyboardInterrupt:
        stopped = "cancel"
        _stop(proc)
    code = proc.wait()
    # The events pipe closes with the child: drain it whole, however busy the machine is.
    # A grandchild the flow started may hold the output open: don't wait for that forever.
    readers[0].join(_DRAIN)
    readers[1].join(_GRACE)
    error: str | None
    if stopped == "cancel":
        state, error = "CANCELLED", "cancelled"
    elif stopped == "timeout":
        state, error = "FAILED", f"timed out after {timeout:g} seconds"
    elif events.flow is not None:
        state, error = str(events.flow["state"]), _text(events.flow.get("error"))
    else:
        state, error = "CRASHED", _died(code)
    if state in ("CANCELLED", "FAILED", "CRASHED"):
        for task in events.tasks.values():
            if task.state in ("PENDING", "RUNNING", "RETRYING"):
                task.state = "CRASHED" if state == "CRASHED" else "CANCELLED"
                if on_task is not None:
                    on_task(task, list(events.tasks).index(task.task_id))
    text = log.text()
    if events.failures:
        text += "\n[dagy-git: recording events failed: " + "; ".join(events.failures[:3]) + "]\n"
    return Outcome(state, error, text, events.tasks, events.notes)
