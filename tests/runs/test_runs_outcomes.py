"""How runs end: retries then failure, timeouts, cancel, crashes, and dead owners."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from dagy_git.runs import launch
from dagy_git.runs.types import TaskRunRecord
from dagy_git.workspace import open_workspace

from conftest import commit_all, run_cli, write
from runs_harness import deploy, runs_json

FLOWS = """
import os, signal, time
from dagy import flow, task


@task(retries=2)
def flaky(counter: str) -> None:
    with open(counter, "a") as f:
        f.write("try\\n")
    raise ValueError("boom from flaky")


@flow(name="failing", version="1")
def failing(counter: str):
    flaky(counter)


@task
def nap(seconds: float) -> None:
    time.sleep(seconds)


@flow(name="slow", version="1")
def slow(seconds: float = 600):
    nap(seconds)


@flow(name="bounded", version="1", timeout_seconds=1)
def bounded():
    nap(600)


@flow(name="measure", version="1")
def measure(text: str):
    print("length", len(text))


@task
def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


@flow(name="crashing", version="1")
def crashing():
    die()
"""


def registered(repo: Path) -> Path:
    write(repo, "ops/flows.py", FLOWS)
    commit_all(repo)
    deploy(repo, "ops/flows.py")
    return repo


def test_failing_task_retries_then_fails_the_run_with_its_error(repo: Path) -> None:
    registered(repo)
    counter = repo.parent / "tries.txt"
    proc = run_cli("run", "failing", "--param", f"counter={counter}", cwd=repo)
    assert proc.returncode == 1
    assert counter.read_text() == "try\n" * 3  # one try and two retries
    assert "task flaky: RETRYING" in proc.stderr
    (run,) = runs_json(repo, "--state", "FAILED")
    assert run["error"] == "ValueError: boom from flaky"
    with launch.open_store(open_workspace(repo)) as store:
        detail = store.get(str(run["run_id"]))
    assert detail is not None
    (task,) = detail.task_runs
    assert (task.task_id, task.state, task.attempts) == ("flaky", "FAILED", 3)
    assert task.error == "ValueError: boom from flaky"
    assert "Traceback" in detail.log and "boom from flaky" in detail.log


def test_a_run_past_its_timeout_fails_and_its_child_is_stopped(repo: Path) -> None:
    registered(repo)
    proc = run_cli("run", "slow", "--timeout", "1", "--json", cwd=repo)
    assert proc.returncode == 1
    assert '"state": "FAILED"' in proc.stdout
    (run,) = runs_json(repo)
    assert run["error"] == "timed out after 1 seconds"
    # the flow's own timeout_seconds is enforced by the SDK inside the child
    ws = open_workspace(repo)
    request = launch.prepare(ws, flow_ref="bounded")
    with launch.open_store(ws) as store:
        final = launch.execute(ws, store, request, launch.create(store, request).run_id)
    assert final.state == "FAILED"
    # the SDK's RunTimeout (a TimeoutError) names itself in the recorded error
    assert final.error == "RunTimeout: flow 'bounded' did not finish within 1 seconds"


def test_cancel_stops_the_child_and_records_cancelled(repo: Path) -> None:
    registered(repo)
    ws = open_workspace(repo)
    request = launch.prepare(ws, flow_ref="slow")
    started: list[TaskRunRecord] = []
    with launch.open_store(ws) as store:
        run = launch.create(store, request)
        final = launch.execute(
            ws,
            store,
            request,
            run.run_id,
            # cancel as soon as the task is running: ordered by events, not by sleeping
            should_cancel=lambda: bool(started),
            on_task=started.append,
        )
    assert final.state == "CANCELLED"
    assert [(t.task_id, t.state) for t in final.task_runs] == [("nap", "CANCELLED")]
    # a PENDING run cancelled before it starts never runs
    with launch.open_store(ws) as store:
        pending = launch.create(store, request)
        assert store.request_cancel(pending.run_id) == "CANCELLED"
        final = launch.execute(ws, store, request, pending.run_id)
    assert final.state == "CANCELLED" and final.started_at is None


def test_a_child_that_dies_is_crashed(repo: Path) -> None:
    registered(repo)
    proc = run_cli("run", "crashing", cwd=repo)
    assert proc.returncode == 1
    (run,) = runs_json(repo)
    assert run["state"] == "CRASHED"
    assert run["error"] == "the flow's process was killed by SIGKILL"
    assert "task_runs" not in run  # a listing leaves them out
    with launch.open_store(open_workspace(repo)) as store:
        detail = store.get(str(run["run_id"]))
    assert detail is not None and [(t.task_id, t.state) for t in detail.task_runs] == [
        ("die", "CRASHED")
    ]


def test_a_run_whose_process_died_is_crashed_on_next_access(repo: Path) -> None:
    registered(repo)
    ws = open_workspace(repo)
    request = launch.prepare(ws, flow_ref="slow")
    with launch.open_store(ws) as store:
        run = launch.create(store, request)
        store.update(run.run_id, state="RUNNING")
    # the process that owned it is gone: a finished one stands in for a killed `dagy-git run`
    dead = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    db = sqlite3.connect(launch.store_path(ws))
    with db:
        db.execute("UPDATE runs SET owner_pid = ?, owner_token = NULL", (int(dead.stdout),))
    db.close()
    (listed,) = runs_json(repo)
    assert listed["state"] == "CRASHED"
    assert listed["error"] == f"the process running it (pid {int(dead.stdout)}) died"
    # a live owner is left alone
    with launch.open_store(ws) as store:
        alive = launch.create(store, request)
        store.update(alive.run_id, state="RUNNING")
        assert store.reap() == []
        assert os.getpid() == store.pid


def test_parameters_larger_than_a_command_line_argument(repo: Path) -> None:
    registered(repo)
    ws = open_workspace(repo)
    request = launch.prepare(ws, flow_ref="measure", params={"text": "x" * 300_000})
    with launch.open_store(ws) as store:
        final = launch.execute(ws, store, request, launch.create(store, request).run_id)
    assert final.state == "COMPLETED", final.log
    assert "length 300000" in final.log
