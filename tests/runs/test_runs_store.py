"""The SQLite runs store: schema versions, WAL, filters, slots, bounded logs."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from dagy_git.errors import DagyError
from dagy_git.runs.schema import MIGRATIONS
from dagy_git.runs.store import LOG_LIMIT, RunStore
from dagy_git.runs.types import RunRecord, TaskRunRecord


def make(run_id: str, flow: str = "order_etl", version: str = "2.1.0", **kw: object) -> RunRecord:
    return RunRecord(
        run_id=run_id,
        flow_name=flow,
        flow_version=version,
        state=str(kw.pop("state", "PENDING")),
        created_at=f"2026-01-01T00:00:{len(run_id):02d}.000Z",
        **kw,  # type: ignore[arg-type]
    )


def test_schema_is_versioned_migrated_once_and_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "deep" / "runs.sqlite3"
    with RunStore(path) as store:
        assert store.schema_version == len(MIGRATIONS)
        store.create(make("a"))
    with RunStore(path) as again:  # opening again migrates nothing and keeps the data
        assert [r.run_id for r in again.list_runs()] == ["a"]
    db = sqlite3.connect(path)
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    indexes = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"runs_by_flow", "runs_by_version", "runs_by_deployment", "runs_by_time"} <= indexes
    plan = db.execute(
        "EXPLAIN QUERY PLAN SELECT * FROM runs WHERE flow_name = ? ORDER BY seq DESC LIMIT 50",
        ("x",),
    ).fetchall()
    assert "runs_by_flow" in str(plan)
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(DagyError, match="this dagy-git knows up to"):
        RunStore(path)


def test_filters_order_and_pages(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite3") as store:
        store.create(make("r1", version="1.0"))
        store.create(make("r2", deployment_name="prod", deployment_version=3))
        store.create(make("r3", flow="other", state="COMPLETED"))
        store.create(make("r4"))
        assert [r.run_id for r in store.list_runs()] == ["r4", "r3", "r2", "r1"]
        assert [r.run_id for r in store.list_runs(flow_name="order_etl")] == ["r4", "r2", "r1"]
        assert [r.run_id for r in store.list_runs(flow_version="1.0")] == ["r1"]
        assert [r.run_id for r in store.list_runs(deployment="prod")] == ["r2"]
        assert [r.run_id for r in store.list_runs(state="COMPLETED")] == ["r3"]
        assert [r.run_id for r in store.list_runs(limit=2, offset=1)] == ["r3", "r2"]
        assert store.list_runs(deployment="prod")[0].deployment_version == 3


def test_one_run_per_deployment_slot(tmp_path: Path) -> None:
    path = tmp_path / "runs.sqlite3"
    with RunStore(path) as one, RunStore(path) as two:
        slot = "2026-01-01T06:00:00.000Z"
        assert one.create(make("a", deployment_name="prod", scheduled_for=slot))
        assert not two.create(make("b", deployment_name="prod", scheduled_for=slot))
        assert two.create(make("c", deployment_name="staging", scheduled_for=slot))
        assert one.create(make("d", deployment_name="prod"))  # unscheduled runs never clash
        assert one.create(make("e", deployment_name="prod"))


def test_task_runs_log_bound_and_final_state(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite3") as store:
        store.create(make("a", state="RUNNING"))
        store.save_task_run("a", TaskRunRecord("load", "load", "RUNNING", 1), 1)
        store.save_task_run("a", TaskRunRecord("extract", "extract", "COMPLETED", 1), 0)
        store.save_task_run("a", TaskRunRecord("load", "load", "FAILED", 2, error="E: x"), 1)
        store.finish("a", "FAILED", "E: x", "x" * (LOG_LIMIT + 10))
        store.finish("a", "COMPLETED", None, "")  # a finished run stays finished
        run = store.get("a")
    assert run is not None
    assert (run.state, run.error) == ("FAILED", "E: x")
    assert [(t.task_id, t.state, t.attempts) for t in run.task_runs] == [
        ("extract", "COMPLETED", 1),
        ("load", "FAILED", 2),
    ]
    assert run.log.startswith("[… 10 characters dropped …]\n")
    assert len(run.log) < LOG_LIMIT + 100


def test_cancel_request(tmp_path: Path) -> None:
    with RunStore(tmp_path / "runs.sqlite3") as store:
        store.create(make("pending"))
        store.create(make("running", state="RUNNING"))
        store.create(make("done", state="COMPLETED"))
        assert store.request_cancel("pending") == "CANCELLED"
        assert store.request_cancel("running") == "RUNNING"
        assert store.cancel_requested("running")
        assert store.request_cancel("done") == "COMPLETED"
        assert not store.cancel_requested("done")
        assert store.request_cancel("nope") is None
