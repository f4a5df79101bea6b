"""The runs API of `dagy-git serve`: trigger, list, show and cancel runs.

    POST /runs                   {"flow_name", "flow_version", "parameters"} or
                                 {"deployment", "parameters"} → RunResponse (the spec's name)
    GET  /runs                   ?flow_name=&flow_version=&deployment=&state=&limit=&offset=
    GET  /runs/{run_id}          RunDetailResponse: the run, its task runs and log
    POST /runs/{run_id}/cancel   RunResponse

Runs execute in a bounded pool of this server (`RunPool`): a run past its size waits as
PENDING. The router is built from the server's context (its settings, and its `auth` whose
`require_write` guards the writes); a user mistake is raised as `DagyError` for the app's
error handlers to answer (`{"error": {message, hint}}`), a missing run as a 404
(`HttpError`).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, Protocol

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from dagy_git.config import Settings
from dagy_git.errors import DagyError
from dagy_git.runs import launch
from dagy_git.runs.store import RunStore
from dagy_git.runs.types import STATES, RunRecord
from dagy_git.server.context import ERRORS
from dagy_git.server.http_errors import HttpError
from dagy_git.workspace import Workspace

__all__ = [
    "RunDetailResponse",
    "RunListResponse",
    "RunPool",
    "RunResponse",
    "RunTriggerRequest",
    "RunsContext",
    "ServerAuth",
    "TaskRunResponse",
    "make_runs_router",
    "open_runs_store",
]


DEFAULT_POOL_SIZE = 2


class ServerAuth(Protocol):
    """What the router needs of the server's auth (`server.auth.Auth`): its dependencies."""

    def require_write(self, request: Request) -> None:
        """Refuse the request unless it carries the write token."""

    def require_read(self, request: Request) -> None:
        """Refuse the request unless it may read (when the server has a read token)."""


class RunsContext(Protocol):
    """What the router needs of the server's context (`server.context.ServerContext`)."""

    @property
    def settings(self) -> Settings:
        """The repository's settings."""

    @property
    def auth(self) -> ServerAuth:
        """The server's tokens."""


class RunTriggerRequest(BaseModel):
    """POST /runs: a flow version (`flow_version` omitted: its latest) or a deployment."""

    flow_name: str | None = None
    flow_version: str | None = None
    deployment: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)


class RunResponse(BaseModel):
    """One run: which version it executed, how it was asked for and its state."""

    run_id: str
    flow_name: str
    flow_version: str
    state: str
    deployment_name: str | None = None
    deployment_version: int | None = None
    namespace: str = ""
    code_hash: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    source: str = "registry"
    scheduled_for: str | None = None
    created_at: str
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None


class TaskRunResponse(BaseModel):
    """One task run of a run."""

    task_id: str
    task_name: str
    state: str
    attempts: int
    started_at: str | None = None
    ended_at: str | None = None
    error: str | None = None


class RunDetailResponse(RunResponse):
    """A run with its task runs and (bounded) log."""

    task_runs: list[TaskRunResponse] = Field(default_factory=list)
    log: str = ""


class RunListResponse(BaseModel):
    """A page of runs, newest first."""

    items: list[RunResponse]
    limit: int
    offset: int


class RunPool:
    """A bounded pool of run executors; runs beyond `size` wait as PENDING.

    `stopping` is every run's cancel signal: `stop()` sets it, so runs in progress end
    CANCELLED and queued ones never start (the router records them CANCELLED too).
    """

    def __init__(self, size: int = DEFAULT_POOL_SIZE) -> None:
        if size < 1:
            raise ValueError("the run pool needs at least one worker")
        self.size = size
        self.stopping = threading.Event()
        self.executor = ThreadPoolExecutor(size, thread_name_prefix="dagy-run")

    def submit(self, fn: Callable[[], object]) -> Future[object]:
        """Queue one run's execution."""
        return self.executor.submit(fn)

    def drain(self) -> None:
        """Take no more runs and wait for every queued and running one to end."""
        self.executor.shutdown(wait=True)

    def stop(self) -> None:
        """Cancel the runs in progress and the queued ones, and wait for them to end."""
        self.stopping.set()
        self.executor.shutdown(wait=True, cancel_futures=True)


def _response(run: RunRecord) -> RunResponse:
    return RunResponse(**run.to_json(detail=False))


def _workspace(ctx: RunsContext) -> Workspace:
    root = ctx.settings.repo_root
    return Workspace(root=root, cwd=root, settings=ctx.settings)


def open_runs_store(ctx: RunsContext) -> RunStore:
    """The runs store of the server's repository (`runs_db`, else `.git/dagy/`)."""
    return launch.open_store(_workspace(ctx))


def make_runs_router(
    ctx: RunsContext, *, store: RunStore | None = None, pool: RunPool | None = None
) -> APIRouter:
    """The `/runs` routes of a server: its repository, the runs store (default: the
    repository's) and a pool of `DEFAULT_POOL_SIZE` run workers unless one is given. The
    caller owns `pool`'s shutdown and `store`'s close when it passes them in."""
    ws = _workspace(ctx)
    store = store if store is not None else launch.open_store(ws)
    runner = pool if pool is not None else RunPool()
    write = [Depends(ctx.auth.require_write)]
    read = [Depends(ctx.auth.require_read)]
    router = APIRouter(tags=["runs"], responses=ERRORS)

    def execute(request: launch.RunRequest, run_id: str) -> None:
        # A refusal (e.g. hostile registry source) is recorded as the run's error by execute.
        with contextlib.suppress(DagyError):
            launch.execute(ws, store, request, run_id, should_cancel=runner.stopping.is_set)

    def never_started(run_id: str, future: Future[object]) -> None:
        if future.cancelled():  # the server stopped while the run waited for a worker
            store.finish(run_id, "CANCELLED", "the server stopped before the run started", "")

    @router.post("/runs", response_model=RunResponse, status_code=201, dependencies=write)
    def trigger(body: RunTriggerRequest) -> RunResponse:
        """Start a run of a flow version, or of a deployment's pinned version."""
        if (body.deployment is None) == (body.flow_name is None):
            raise DagyError("give either flow_name (and flow_version) or deployment")
        ref = None
        if body.flow_name is not None:
            if "@" in body.flow_name:
                raise DagyError("flow_name cannot contain '@'; give flow_version apart")
            ref = body.flow_name + (f"@{body.flow_version}" if body.flow_version else "")
        request = launch.prepare(
            ws, flow_ref=ref, deployment=body.deployment, params=body.parameters
        )
        run = launch.create(store, request)
        future = runner.submit(lambda: execute(request, run.run_id))
        future.add_done_callback(lambda done: never_started(run.run_id, done))
        return _response(run)

    @router.get("/runs", response_model=RunListResponse, dependencies=read)
    def list_runs(
        flow_name: str | None = None,
        flow_version: str | None = None,
        deployment: str | None = None,
        state: str | None = None,
        limit: int = Query(50, ge=1, le=500),
        offset: int = Query(0, ge=0, le=1_000_000_000),
    ) -> RunListResponse:
        """Runs newest first, filtered by flow, version, deployment and state (indexed)."""
        if state is not None and state not in STATES:
            raise DagyError(f"unknown state {state!r}", hint=f"states: {', '.join(STATES)}")
        found = store.list_runs(
            flow_name=flow_name,
            flow_version=flow_version,
            deployment=deployment,
            state=state,
            limit=limit,
            offset=offset,
        )
        return RunListResponse(items=[_response(r) for r in found], limit=limit, offset=offset)

    @router.get("/runs/{run_id}", response_model=RunDetailResponse, dependencies=read)
    def show_run(run_id: str) -> RunDetailResponse:
        """One run with its task runs and log."""
        run = store.get(run_id)
        if run is None:
            raise HttpError(404, f"no run {run_id!r}", hint="see GET /runs")
        return RunDetailResponse(**run.to_json())

    @router.post("/runs/{run_id}/cancel", response_model=RunResponse, dependencies=write)
    def cancel_run(run_id: str) -> RunResponse:
        """Ask a run to stop: PENDING ones are CANCELLED at once, RUNNING ones shortly."""
        if store.request_cancel(run_id) is None:
            raise HttpError(404, f"no run {run_id!r}", hint="see GET /runs")
        run = store.get(run_id)
        assert run is not None  # just seen
        return _response(run)

    return router
