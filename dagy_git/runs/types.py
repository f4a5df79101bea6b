"""Plain data of runs: states, a run, its task runs, and the registry's timestamp format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from typing import Any

__all__ = [
    "FINAL_STATES",
    "LIVE_STATES",
    "STATES",
    "RunRecord",
    "TaskRunRecord",
    "exit_code",
    "iso",
    "now_iso",
]

STATES = ("SCHEDULED", "PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED", "CRASHED")
FINAL_STATES = frozenset({"COMPLETED", "FAILED", "CANCELLED", "CRASHED"})
# States in which some process is responsible for the run: when it dies, the run crashed.
LIVE_STATES = frozenset({"SCHEDULED", "PENDING", "RUNNING"})


def iso(moment: datetime) -> str:
    """A time as the registry writes it: ISO 8601, UTC, milliseconds (sorts as text)."""
    moment = moment.astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def now_iso() -> str:
    """The current time, as `iso` writes it."""
    return iso(datetime.now(timezone.utc))


def exit_code(state: str) -> int:
    """The command's exit status for a run's final state (130 for a cancel, as for Ctrl-C)."""
    return {"COMPLETED": 0, "CANCELLED": 130}.get(state, 1)


@dataclass
class TaskRunRecord:
    """One call of a task within a run: its state, attempts, times and last error."""

    task_id: str
    task_name: str
    state: str
    attempts: int = 0
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The task run as the API and `--json` show it."""
        return asdict(self)


@dataclass
class RunRecord:
    """One run of a flow version: what ran, how it was asked for, and how it ended."""

    run_id: str
    flow_name: str
    flow_version: str
    state: str
    created_at: str
    namespace: str = ""
    code_hash: str | None = None
    deployment_name: str | None = None
    deployment_version: int | None = None
    parameters: dict[str, Any] = field(default_factory=dict)
    source: str = "registry"  # where the code came from: registry, git-archive or worktree
    scheduled_for: str | None = None
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None
    log: str = ""
    task_runs: list[TaskRunRecord] = field(default_factory=list)

    def to_json(self, *, detail: bool = True) -> dict[str, Any]:
        """The run as the API and `--json` show it; without `detail`, no log or task runs
        (a listing's `RunResponse`)."""
        data = asdict(self)
        data["task_runs"] = [t.to_json() for t in self.task_runs]
        if not detail:
            del data["log"], data["task_runs"]
        return data
