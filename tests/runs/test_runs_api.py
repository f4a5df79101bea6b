"""The runs API on a small FastAPI app: trigger by version or deployment, list, show, cancel."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dagy_git.config import load_settings
from dagy_git.runs.launch import open_store
from dagy_git.server.auth import Auth
from dagy_git.server.context import ServerContext
from dagy_git.server.http_errors import install_handlers
from dagy_git.server.runs_api import RunPool, make_runs_router
from dagy_git.server.state import RegistryState
from dagy_git.workspace import open_workspace

from conftest import commit_all, write
from runs_harness import deploy, make_etl_repo

TOKEN = {"Authorization": "Bearer s3cret"}


class Api:
    """The runs router on a small app with the server's own context, tokens and error
    handlers, and a pool whose runs the test can wait for."""

    def __init__(self, repo: Path, size: int) -> None:
        self.ws = open_workspace(repo)
        self.store = open_store(self.ws)
        self.pool = RunPool(size)
        settings = load_settings(self.ws.root)
        context = ServerContext(settings, RegistryState(settings), Auth("s3cret"))
        app = FastAPI()
        install_handlers(app)
        app.include_router(make_runs_router(context, store=self.store, pool=self.pool))
        self.client = TestClient(app)

    def wait(self) -> None:
        """Let every queued run finish (no polling, no sleeps)."""
        self.pool.drain()

    def close(self) -> None:
        self.pool.stop()
        self.client.close()
        self.store.close()


@pytest.fixture
def api(repo: Path) -> Iterator[Api]:
    make_etl_repo(repo)
    made = Api(repo, size=2)
    yield made
    made.close()


def test_post_runs_by_version_and_by_deployment(api: Api) -> None:
    by_version = api.client.post(
        "/runs",
        json={
            "flow_name": "order_etl",
            "flow_version": "2.1.0",
            "parameters": {"source": "s3://x/"},
        },
        headers=TOKEN,
    )
    assert by_version.status_code == 201, by_version.text
    body = by_version.json()
    assert {k: body[k] for k in ("flow_name", "flow_version", "state")} == {
        "flow_name": "order_etl",
        "flow_version": "2.1.0",
        "state": "PENDING",
    }
    by_dep = api.client.post("/runs", json={"deployment": "order-etl-prod"}, headers=TOKEN)
    assert by_dep.status_code == 201, by_dep.text
    assert by_dep.json()["flow_version"] == "2.1.0"  # resolved from the deployment
    assert by_dep.json()["deployment_version"] == 1
    api.wait()
    detail = api.client.get(f"/runs/{by_dep.json()['run_id']}").json()
    assert detail["state"] == "COMPLETED"
    assert detail["parameters"] == {"source": "s3://prod/orders/"}
    assert [t["task_id"] for t in detail["task_runs"]] == ["extract", "transform", "load"]
    assert "etl code v1 reading s3://prod/orders/" in detail["log"]
    listed = api.client.get("/runs", params={"flow_name": "order_etl"}).json()
    assert [r["run_id"] for r in listed["items"]] == [by_dep.json()["run_id"], body["run_id"]]
    only_dep = api.client.get("/runs", params={"deployment": "order-etl-prod"}).json()
    assert [r["deployment_name"] for r in only_dep["items"]] == ["order-etl-prod"]
    page = api.client.get("/runs", params={"limit": 1, "offset": 1}).json()
    assert [r["run_id"] for r in page["items"]] == [body["run_id"]]


def test_writes_need_the_token_and_bad_requests_are_clear(api: Api) -> None:
    anonymous = api.client.post("/runs", json={"deployment": "order-etl-prod"})
    assert anonymous.status_code == 401
    unknown = api.client.post(
        "/runs", json={"flow_name": "order_etl", "parameters": {"nope": 1}}, headers=TOKEN
    )
    assert unknown.status_code == 422
    assert "has no parameter 'nope'" in unknown.json()["error"]["message"]
    assert unknown.json()["error"]["hint"] == "its parameters: source"
    missing = api.client.post("/runs", json={"deployment": "ghost"}, headers=TOKEN)
    assert missing.status_code == 422
    assert "deployment 'ghost' does not exist" in missing.json()["error"]["message"]
    both = api.client.post(
        "/runs", json={"deployment": "order-etl-prod", "flow_name": "order_etl"}, headers=TOKEN
    )
    assert both.status_code == 422
    assert api.client.get("/runs").json()["items"] == []  # nothing was recorded
    assert api.client.get("/runs/nope").status_code == 404
    assert api.client.get("/runs", params={"state": "DONE"}).status_code == 422
    assert api.client.post("/runs/nope/cancel", headers=TOKEN).status_code == 404


HANG = """
import time
from dagy import flow, task

@task
def wait() -> None:
    time.sleep(600)

@flow(name="hang", version="1")
def hang():
    wait()
"""


def hanging(repo: Path) -> Path:
    make_etl_repo(repo)
    write(repo, "hang.py", HANG)
    commit_all(repo)
    deploy(repo, "hang.py")
    return repo


def test_runs_beyond_the_pool_wait_pending_and_cancel(repo: Path) -> None:
    hanging(repo)
    api = Api(repo, size=1)
    try:
        first = api.client.post("/runs", json={"flow_name": "hang"}, headers=TOKEN).json()
        second = api.client.post("/runs", json={"flow_name": "hang"}, headers=TOKEN).json()
        # one worker: the second run waits its turn
        queued = api.client.get(f"/runs/{second['run_id']}").json()
        assert queued["state"] == "PENDING"
        cancelled = api.client.post(f"/runs/{second['run_id']}/cancel", headers=TOKEN).json()
        assert cancelled["state"] == "CANCELLED"
        stop = api.client.post(f"/runs/{first['run_id']}/cancel", headers=TOKEN)
        assert stop.status_code == 200
        api.wait()
        assert api.client.get(f"/runs/{first['run_id']}").json()["state"] == "CANCELLED"
        assert api.client.get(f"/runs/{second['run_id']}").json()["started_at"] is None
    finally:
        api.close()


def test_stopping_the_pool_cancels_running_and_queued_runs(repo: Path) -> None:
    hanging(repo)
    api = Api(repo, size=1)
    try:
        ids = [
            api.client.post("/runs", json={"flow_name": "hang"}, headers=TOKEN).json()["run_id"]
            for _ in range(2)
        ]
        api.pool.stop()  # what `dagy-git serve` does when it exits
        runs = [api.client.get(f"/runs/{run_id}").json() for run_id in ids]
        assert [r["state"] for r in runs] == ["CANCELLED", "CANCELLED"]
        assert runs[1]["error"] == "the server stopped before the run started"
    finally:
        api.close()


def test_reads_need_the_read_token_when_the_server_has_one(repo: Path) -> None:
    make_etl_repo(repo)
    settings = load_settings(repo)
    context = ServerContext(settings, RegistryState(settings), Auth("s3cret", "r3ad"))
    app = FastAPI()
    install_handlers(app)
    pool = RunPool(1)
    with open_store(open_workspace(repo)) as store:
        app.include_router(make_runs_router(context, store=store, pool=pool))
        with TestClient(app) as client:
            assert client.get("/runs").status_code == 401
            assert client.get("/runs", headers={"Authorization": "Bearer r3ad"}).status_code == 200
            assert (
                client.get("/runs/x", headers={"Authorization": "Bearer r3ad"}).status_code == 404
            )
            # the read token does not open writes
            refused = client.post(
                "/runs", json={"flow_name": "order_etl"}, headers={"Authorization": "Bearer r3ad"}
            )
            assert refused.status_code == 401
        pool.stop()
