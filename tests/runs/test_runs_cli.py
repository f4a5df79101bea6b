"""`dagy-git run` end to end: the registered code runs, and `runs` shows what ran."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from dagy_git.runs import launch
from dagy_git.workspace import open_workspace

from conftest import commit_all, git, run_cli, write
from runs_harness import deploy, make_etl_repo, runs_json


@pytest.fixture
def etl_repo(repo: Path) -> Path:
    return make_etl_repo(repo)


def show(repo: Path, run_id: str) -> dict[str, object]:
    proc = run_cli("runs", "show", run_id, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def test_run_by_version_records_the_version_and_its_task_runs(etl_repo: Path) -> None:
    proc = run_cli("run", "order_etl@2.1.0", "--json", cwd=etl_repo)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert (run["flow_name"], run["flow_version"], run["state"]) == (
        "order_etl",
        "2.1.0",
        "COMPLETED",
    )
    assert run["deployment_name"] is None and run["source"] == "registry"
    assert run["namespace"] == "pipelines/data/orders"
    registered = json.loads(run_cli("show", "order_etl@2.1.0", "--json", cwd=etl_repo).stdout)
    assert run["code_hash"] == registered["code_hash"]
    assert [(t["task_id"], t["state"], t["attempts"]) for t in run["task_runs"]] == [
        ("extract", "COMPLETED", 1),
        ("transform", "COMPLETED", 1),
        ("load", "COMPLETED", 1),
    ]
    assert "etl code v1 reading s3://data/orders/" in run["log"]
    # said once: the flow imports `dagy`, which is not installed here
    assert proc.stderr.count("running with dagy-git's SDK standing in for dagy") == 1
    listed = runs_json(etl_repo, "--flow", "order_etl")
    assert [(r["run_id"], r["flow_version"]) for r in listed] == [(run["run_id"], "2.1.0")]
    human = run_cli("runs", "--flow", "order_etl", cwd=etl_repo)
    assert run["run_id"] in human.stdout and "2.1.0" in human.stdout
    assert show(etl_repo, run["run_id"])["task_runs"] == run["task_runs"]


def test_run_by_deployment_records_its_version_and_overlays_parameters(etl_repo: Path) -> None:
    # re-deploying with other parameters makes deployment_version 2
    deploy(
        etl_repo,
        "pipelines/data/orders/order_etl.py",
        "--deployment",
        "order-etl-prod",
        "--param",
        "source=s3://prod/v2/",
    )
    proc = run_cli("run", "--deployment", "order-etl-prod", "--json", cwd=etl_repo)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert (run["flow_version"], run["deployment_name"], run["deployment_version"]) == (
        "2.1.0",
        "order-etl-prod",
        2,
    )
    assert run["parameters"] == {"source": "s3://prod/v2/"}
    assert "reading s3://prod/v2/" in run["log"]
    proc = run_cli(
        "run", "--deployment", "order-etl-prod", "--param", "source=s3://adhoc/", cwd=etl_repo
    )
    assert proc.returncode == 0, proc.stderr
    assert "reading s3://adhoc/" in proc.stdout
    by_dep = runs_json(etl_repo, "--deployment", "order-etl-prod")
    assert [r["parameters"] for r in by_dep] == [
        {"source": "s3://adhoc/"},
        {"source": "s3://prod/v2/"},
    ]


def test_registered_code_runs_not_the_changed_work_tree(etl_repo: Path) -> None:
    path = etl_repo / "pipelines/data/orders/order_etl.py"
    path.write_text(path.read_text().replace("etl code v1", "etl code v2 (uncommitted)"))
    registered = run_cli("run", "order_etl", cwd=etl_repo)
    assert registered.returncode == 0, registered.stderr
    assert "etl code v1" in registered.stdout and "v2" not in registered.stdout
    local = run_cli("run", "order_etl", "--from-worktree", "--json", cwd=etl_repo)
    assert local.returncode == 0, local.stderr
    run = json.loads(local.stdout)
    assert "etl code v2 (uncommitted)" in run["log"]
    assert run["source"] == "worktree"
    assert [r["source"] for r in runs_json(etl_repo)] == ["worktree", "registry"]
    # a version bumped in the work tree is recorded as the file declares it
    path.write_text(path.read_text().replace('version="2.1.0"', 'version="2.2.0"'))
    bumped = run_cli("run", "order_etl", "--from-worktree", "--json", cwd=etl_repo)
    assert bumped.returncode == 0, bumped.stderr
    assert json.loads(bumped.stdout)["flow_version"] == "2.2.0"


def test_parameters_are_checked_before_anything_runs(etl_repo: Path) -> None:
    unknown = run_cli("run", "order_etl@2.1.0", "--param", "sauce=x", cwd=etl_repo)
    assert unknown.returncode == 1
    assert "order_etl@2.1.0 has no parameter 'sauce'" in unknown.stderr
    assert "its parameters: source" in unknown.stderr
    assert "Traceback" not in unknown.stderr
    write(
        etl_repo,
        "needs.py",
        """
        from dagy import flow

        @flow(name="needs", version="1")
        def needs(day: str, limit: int = 3):
            print(day, limit)
        """,
    )
    commit_all(etl_repo)
    deploy(etl_repo, "needs.py")
    missing = run_cli("run", "needs", cwd=etl_repo)
    assert missing.returncode == 1
    assert "needs@1 needs parameter 'day'" in missing.stderr
    missing_version = run_cli("run", "needs@9", cwd=etl_repo)
    assert missing_version.returncode == 1 and "needs@9 is not registered" in missing_version.stderr
    assert runs_json(etl_repo) == []  # nothing was recorded, nothing ran
    assert not (etl_repo / ".git" / "dagy" / "runs.sqlite3").exists()  # not even an empty store
    ok = run_cli("run", "needs", "--param", "day=mon", "--param", "limit=5", cwd=etl_repo)
    assert ok.returncode == 0, ok.stderr
    assert "mon 5" in ok.stdout


HANG = """
import os, time
from dagy import flow, task

@task
def wait(pidfile: str) -> None:
    with open(pidfile, "w") as f:
        f.write(str(os.getpid()))
    print("waiting", flush=True)
    time.sleep(600)

@flow(name="hang", version="1")
def hang(pidfile: str):
    wait(pidfile)
"""


def start_hanging_run(repo: Path) -> tuple[subprocess.Popen[str], str, Path]:
    """`dagy-git run hang` in the background, returned once its task is running:
    the process, the run id and the file holding the child's pid."""
    write(repo, "hang.py", HANG)
    commit_all(repo)
    deploy(repo, "hang.py")
    pidfile = repo.parent / "child.pid"
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "run", "hang", "--param", f"pidfile={pidfile}"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stderr is not None
    run_id = proc.stderr.readline().split()[1].rstrip(":")  # "run <id>: hang@1 from …"
    for line in proc.stdout:  # the flow's own output, streamed
        if line.startswith("waiting"):
            break
    return proc, run_id, pidfile


def assert_stopped(pidfile: Path) -> None:
    """The child process is gone (not even a zombie: its parent reaped it)."""
    child = int(pidfile.read_text())
    stat = Path(f"/proc/{child}/stat")
    assert not stat.exists() or stat.read_text().rpartition(")")[2].split()[0] == "Z"


@pytest.mark.slow
def test_ctrl_c_cancels_the_run_and_stops_the_child(repo: Path) -> None:
    proc, run_id, pidfile = start_hanging_run(repo)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert f"run {run_id}: CANCELLED" in err
    (run,) = runs_json(repo)
    assert (run["run_id"], run["state"]) == (run_id, "CANCELLED")
    assert_stopped(pidfile)
    assert git(repo, "status", "--porcelain") == ""


@pytest.mark.slow
def test_another_process_can_cancel_a_run(repo: Path) -> None:
    proc, run_id, pidfile = start_hanging_run(repo)
    with launch.open_store(open_workspace(repo)) as store:  # as `POST /runs/{id}/cancel` does
        assert store.request_cancel(run_id) == "RUNNING"
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert runs_json(repo)[0]["state"] == "CANCELLED"
    assert_stopped(pidfile)


def test_runs_db_from_the_config_or_the_command_line(etl_repo: Path, tmp_path: Path) -> None:
    write(etl_repo, "dagy.toml", 'runs_db = "ops/runs.sqlite3"\n')
    assert run_cli("run", "order_etl", cwd=etl_repo).returncode == 0
    assert (etl_repo / "ops" / "runs.sqlite3").is_file()
    assert not (etl_repo / ".git" / "dagy" / "runs.sqlite3").exists()
    assert len(runs_json(etl_repo)) == 1
    elsewhere = tmp_path / "elsewhere.sqlite3"
    proc = run_cli("run", "order_etl", "--runs-db", str(elsewhere), cwd=etl_repo)
    assert proc.returncode == 0, proc.stderr
    assert len(runs_json(etl_repo, "--runs-db", str(elsewhere))) == 1
    assert len(runs_json(etl_repo)) == 1  # the configured store did not see that run
    write(etl_repo, "dagy.toml", 'runs_db = " "\n')
    bad = run_cli("runs", cwd=etl_repo)
    assert bad.returncode == 1
    assert "dagy.toml:1:1: setting 'runs_db': must be a path to the runs database" in bad.stderr


def test_from_worktree_runs_a_flow_never_registered(repo: Path) -> None:
    write(
        repo,
        "draft.py",
        """
        from dagy import flow

        @flow(name="draft", version="0.1")
        def draft():
            print("draft ran")
        """,
    )
    unregistered = run_cli("run", "draft", cwd=repo)
    assert unregistered.returncode == 1 and "flow 'draft' is not registered" in unregistered.stderr
    proc = run_cli("run", "draft", "--from-worktree", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert (run["flow_version"], run["source"]) == ("0.1", "worktree")
    assert "draft ran" in run["log"]
