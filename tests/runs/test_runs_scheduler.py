"""Schedules fire once per slot, however many workers race; missed slots are reported."""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from dagy_git.runs.launch import execute, open_store, store_path
from dagy_git.runs.scheduler import Scheduler, slots_between
from dagy_git.runs.store import RunStore
from dagy_git.runs.worker import work
from dagy_git.workspace import open_workspace

from conftest import commit_all, run_cli, write
from runs_harness import deploy, make_etl_repo, runs_json

UTC = timezone.utc


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def scheduled(repo: Path) -> Path:
    make_etl_repo(repo)
    deploy(
        repo,
        "pipelines/data/orders/order_etl.py",
        "--deployment",
        "order-etl-prod",
        "--schedule",
        "*/5 * * * *",
    )
    return repo


def test_slots_between_follows_cron_and_timezone() -> None:
    start = datetime(2026, 1, 1, 5, 0, tzinfo=UTC)
    assert slots_between("0 6 * * *", UTC, start, start + timedelta(days=2)) == [
        datetime(2026, 1, 1, 6, 0, tzinfo=UTC),
        datetime(2026, 1, 2, 6, 0, tzinfo=UTC),
    ]
    from zoneinfo import ZoneInfo

    # 06:00 in New York is 11:00 UTC in winter
    ny = slots_between("0 6 * * *", ZoneInfo("America/New_York"), start, start + timedelta(days=1))
    assert ny == [datetime(2026, 1, 1, 11, 0, tzinfo=UTC)]


def test_two_workers_racing_create_one_run_per_slot(scheduled: Path) -> None:
    ws = open_workspace(scheduled)
    path = store_path(ws)
    clock = Clock(datetime(2026, 1, 1, 12, 0, 30, tzinfo=UTC))
    with RunStore(path) as one, RunStore(path) as two:
        workers = [Scheduler(ws, one, clock=clock), Scheduler(ws, two, clock=clock)]
        claimed = []
        for minute in (0, 5, 10):
            clock.now = datetime(2026, 1, 1, 12, minute, 20, tzinfo=UTC)
            for worker in workers:
                tick = worker.tick()
                assert tick.errors == {} and tick.missed == {}
                claimed += [c.run.scheduled_for for c in tick.claimed]
            # the same slot again (a restart): nothing new
            assert workers[0].tick().claimed == []
        assert claimed == [
            "2026-01-01T12:00:00.000Z",
            "2026-01-01T12:05:00.000Z",
            "2026-01-01T12:10:00.000Z",
        ]
        runs = one.list_runs(deployment="order-etl-prod")
    assert sorted(r.scheduled_for or "" for r in runs) == claimed
    assert {(r.flow_version, r.deployment_version, r.state) for r in runs} == {
        ("2.1.0", 2, "SCHEDULED")
    }


def test_missed_slots_are_reported_and_run_only_with_catch_up(scheduled: Path) -> None:
    ws = open_workspace(scheduled)
    clock = Clock(datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC))
    with open_store(ws) as store:
        assert len(Scheduler(ws, store, clock=clock).tick().claimed) == 1
        clock.now = datetime(2026, 1, 1, 12, 30, 10, tzinfo=UTC)  # the worker was down
        tick = Scheduler(ws, store, clock=clock).tick()
        assert [s.minute for s in tick.missed["order-etl-prod"]] == [5, 10, 15, 20, 25]
        assert [c.run.scheduled_for for c in tick.claimed] == ["2026-01-01T12:30:00.000Z"]
        clock.now = datetime(2026, 1, 1, 13, 0, 10, tzinfo=UTC)
        tick = Scheduler(ws, store, clock=clock, catch_up=True).tick()
        assert tick.missed == {}
        assert len(tick.claimed) == 6  # 12:35 … 13:00
        # a claimed slot runs the deployment's pinned version
        final = execute(ws, store, tick.claimed[0].request, tick.claimed[0].run.run_id)
    assert final.state == "COMPLETED"
    assert (final.deployment_name, final.scheduled_for) == (
        "order-etl-prod",
        "2026-01-01T12:35:00.000Z",
    )


@pytest.mark.slow
def test_worker_once_fires_the_due_slot(repo: Path) -> None:
    make_etl_repo(repo)
    deploy(
        repo,
        "pipelines/data/orders/order_etl.py",
        "--deployment",
        "every-minute",
        "--schedule",
        "* * * * *",
    )
    proc = run_cli("worker", "--once", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    (run,) = runs_json(repo, "--deployment", "every-minute")
    assert run["state"] == "COMPLETED" and run["scheduled_for"]
    assert f"run {run['run_id']} (every-minute): COMPLETED" in proc.stderr
    shown = json.loads(run_cli("runs", "show", str(run["run_id"]), "--json", cwd=repo).stdout)
    assert "etl code v1" in shown["log"]


@pytest.mark.slow
def test_worker_loop_runs_until_stopped(repo: Path) -> None:
    make_etl_repo(repo)
    deploy(
        repo,
        "pipelines/data/orders/order_etl.py",
        "--deployment",
        "every-minute",
        "--schedule",
        "* * * * *",
    )
    ws = open_workspace(repo)
    stop = threading.Event()
    said: list[str] = []

    def report(message: str) -> None:
        said.append(message)
        if message.endswith("COMPLETED"):
            stop.set()  # stop once the first scheduled run is done

    with open_store(ws) as store:
        assert work(ws, store, report=report, stop=stop)
        runs = store.list_runs(deployment="every-minute")
    # the first slot's run completed (a minute boundary may have fired a second meanwhile)
    first = runs[-1]
    assert first.state == "COMPLETED"
    assert f"run {first.run_id} (every-minute): COMPLETED" in said
    assert len({r.scheduled_for for r in runs}) == len(runs)


def test_a_schedule_fires_in_its_deployments_timezone(repo: Path) -> None:
    make_etl_repo(repo)
    write(
        repo,
        "pipelines/data/orders/dagy.toml",
        """
        [[deployments]]
        name = "ny-morning"
        flow = "order_etl.py:order_etl"
        schedule = "0 6 * * *"
        timezone = "America/New_York"
        """,
    )
    commit_all(repo, "a deployment in New York time")
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    ws = open_workspace(repo)
    clock = Clock(datetime(2026, 1, 15, 6, 0, 30, tzinfo=UTC))  # 06:00 UTC: 01:00 in New York
    with open_store(ws) as store:
        assert Scheduler(ws, store, clock=clock).tick().claimed == []
        clock.now = datetime(2026, 1, 15, 11, 0, 30, tzinfo=UTC)  # 06:00 in New York
        (claimed,) = Scheduler(ws, store, clock=clock).tick().claimed
    assert claimed.run.deployment_name == "ny-morning"
    assert claimed.run.scheduled_for == "2026-01-15T11:00:00.000Z"
