"""`dagy-git run | runs | runs show`: run a registered version, and look at runs."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from dagy_git.cli.output import note, print_json, print_table, say, short, stream
from dagy_git.cli.parsing import parse_params
from dagy_git.errors import DagyError
from dagy_git.runs import launch
from dagy_git.runs.types import STATES, RunRecord, TaskRunRecord, exit_code
from dagy_git.workspace import open_workspace


def run(
    flow: str | None,
    deployment: str | None,
    params: list[str],
    from_worktree: bool,
    timeout: float | None,
    runs_db: Path | None,
    json_out: bool,
    cwd: Path,
) -> int:
    """Run a flow version (or a deployment's) to its end; the exit status follows its state."""
    ws = open_workspace(cwd)
    request = launch.prepare(
        ws,
        flow_ref=flow,
        deployment=deployment,
        params=parse_params(params) or {},
        from_worktree=from_worktree,
        timeout=timeout,
    )
    with launch.open_store(ws, runs_db) as store:
        created = launch.create(store, request)
        where = "the work tree" if from_worktree else "its registered code"
        via = f", deployment {request.deployment_name}#{request.deployment_version}"
        note(
            f"run {created.run_id}: {request.flow_name}@{request.flow_version} from {where}"
            + (via if request.deployment_name else "")
        )
        final = launch.execute(
            ws,
            store,
            request,
            created.run_id,
            on_note=note,
            on_task=_task_line,
            on_output=None if json_out else stream,  # humans see the log as it comes
        )
    if json_out:
        print_json(final.to_json())
    else:
        note(f"run {final.run_id}: {final.state}" + (f": {final.error}" if final.error else ""))
    return exit_code(final.state)


def _task_line(task: TaskRunRecord) -> None:
    tries = f" (attempt {task.attempts})" if task.attempts > 1 else ""
    error = f": {task.error}" if task.error else ""
    note(f"  task {task.task_id}: {task.state}{tries}{error}")


def list_runs(
    flow: str | None,
    version: str | None,
    deployment: str | None,
    state: str | None,
    limit: int,
    runs_db: Path | None,
    json_out: bool,
    cwd: Path,
) -> int:
    """List runs, newest first."""
    if state is not None and state.upper() not in STATES:
        raise DagyError(f"unknown state {state!r}", hint=f"states: {', '.join(STATES)}")
    ws = open_workspace(cwd)
    if not launch.store_path(ws, runs_db).exists():  # nothing ran yet: create nothing
        found: list[RunRecord] = []
    else:
        with launch.open_store(ws, runs_db) as store:
            found = store.list_runs(
                flow_name=flow,
                flow_version=version,
                deployment=deployment,
                state=state.upper() if state else None,
                limit=limit,
            )
    if json_out:
        print_json([r.to_json(detail=False) for r in found])
        return 0
    print_table(("run", "flow", "version", "deployment", "state", "created", "code"), _rows(found))
    note(f"{len(found)} run{'' if len(found) == 1 else 's'}")
    return 0


def _rows(found: list[RunRecord]) -> list[tuple[Any, ...]]:
    return [
        (
            r.run_id,
            r.flow_name,
            r.flow_version,
            f"{r.deployment_name}#{r.deployment_version}" if r.deployment_name else "-",
            r.state,
            r.created_at,
            short(r.code_hash),
        )
        for r in found
    ]


def show_run(run_id: str, runs_db: Path | None, json_out: bool, cwd: Path) -> int:
    """Show one run with its task runs and log."""
    ws = open_workspace(cwd)
    found = None
    if launch.store_path(ws, runs_db).exists():
        with launch.open_store(ws, runs_db) as store:
            found = store.get(run_id)
    if found is None:
        raise DagyError(f"no run {run_id!r}", hint="see `dagy-git runs`")
    if json_out:
        print_json(found.to_json())
        return 0
    data = found.to_json()
    for key in (
        "run_id",
        "flow_name",
        "flow_version",
        "deployment_name",
        "deployment_version",
        "namespace",
        "code_hash",
        "source",
        "parameters",
        "state",
        "scheduled_for",
        "created_at",
        "started_at",
        "ended_at",
        "error",
    ):
        say(f"{key + ':':20}{'-' if data[key] is None else data[key]}")
    print_table(
        ("task", "state", "attempts", "started", "ended", "error"),
        [
            (t.task_id, t.state, t.attempts, t.started_at, t.ended_at, t.error)
            for t in found.task_runs
        ],
    )
    if found.log:
        say("log:")
        say(found.log.rstrip("\n"))
    return 0
