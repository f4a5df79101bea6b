"""`create_app`: the FastAPI application of `dagy-git serve`.

One `RegistryState` per app; the API routers (`/flows`, `/deployments`, `/drafts`), the
Flows UI (`ui.make_router`, when that module is installed) and `/health`. OpenAPI is at
`/openapi.json`, its pages at `/docs`. Writes need the write token; reads need the read
token when one is set; bodies over `max_body` bytes get 413.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
from pathlib import Path

from fastapi import Depends, FastAPI

from dagy_git import __version__
from dagy_git.config import Settings, load_settings
from dagy_git.errors import DagyError
from dagy_git.server import api_deployments, api_drafts, api_flows
from dagy_git.server.auth import Auth
from dagy_git.server.context import ServerContext
from dagy_git.server.http_errors import install_handlers
from dagy_git.server.limits import DEFAULT_MAX_BODY, BodyLimit
from dagy_git.server.models import HealthResponse
from dagy_git.server.state import RegistryState

__all__ = ["create_app", "run_server"]

log = logging.getLogger("dagy_git.server")

DESCRIPTION = """\
The registry of a git repository, over HTTP: the flow versions, deployments and DAG drafts
of its registry branch, with the spec's model names. Reads come from the branch's current
commit; writes go through the same registry code as `dagy-git deploy` (one commit per
request). Writes need `Authorization: Bearer <token>`.
"""


def _optional(module: str) -> object | None:
    """A sibling module that may not be installed yet (the UI, runs), or None."""
    if importlib.util.find_spec(module) is None:
        return None
    return importlib.import_module(module)


def create_app(
    settings: Settings | Path,
    *,
    token: str | None = None,
    read_token: str | None = None,
    push: bool = False,
    max_body: int = DEFAULT_MAX_BODY,
    run_workers: int = 2,
) -> FastAPI:
    """The server of one repository's registry (`settings`, or a repository root); runs
    triggered over `/runs` execute `run_workers` at a time (`app.state.run_pool`)."""
    if isinstance(settings, Path):
        settings = load_settings(settings)
    ctx = ServerContext(settings, RegistryState(settings), Auth(token, read_token), push)
    app = FastAPI(title="dagy-git", version=__version__, description=DESCRIPTION)
    app.state.dagy = ctx
    install_handlers(app)
    for make in (api_flows.make_router, api_deployments.make_router, api_drafts.make_router):
        app.include_router(make(ctx))

    @app.get("/health", tags=["server"])
    def health() -> HealthResponse:
        """Whether the server is up, which registry commit it serves, whether writes are open."""
        return HealthResponse(
            status="ok",
            registry_commit=ctx.state.view().commit,
            read_only=ctx.auth.read_only,
            push=ctx.push,
        )

    read = [Depends(ctx.auth.require_read)]
    ui = _optional("dagy_git.server.ui")
    if ui is not None:  # the Flows UI: `/`, flow pages, drafts page, static files
        app.include_router(ui.make_router(ctx.state), dependencies=read)  # type: ignore[attr-defined]
    runs = _optional("dagy_git.server.runs_api")
    if runs is not None:  # `/runs`: `make_runs_router(ctx)` gets the same context
        # The pool belongs to the app: whoever serves it stops it (`run_pool.stop()`).
        app.state.run_pool = runs.RunPool(run_workers)  # type: ignore[attr-defined]
        app.state.run_store = runs.open_runs_store(ctx)  # type: ignore[attr-defined]
        router = runs.make_runs_router(  # type: ignore[attr-defined]
            ctx, store=app.state.run_store, pool=app.state.run_pool
        )
        app.include_router(router)
        ui_runs = _optional("dagy_git.server.ui_runs") if ui is not None else None
        if ui_runs is not None:  # the run pages of the Flows UI, over the same store
            pages = ui_runs.make_router(ctx.state, app.state.run_store)  # type: ignore[attr-defined]
            app.include_router(pages, dependencies=read)
    app.add_middleware(BodyLimit, max_body=max_body)
    return app


def run_server(app: FastAPI, host: str, port: int) -> None:
    """Serve `app` with uvicorn until interrupted (its access log has paths, never headers).

    The registry is read before the port opens, so the first request finds it warm.
    """
    import uvicorn

    ctx: ServerContext = app.state.dagy
    try:
        ctx.state.view()
    except DagyError as exc:  # a broken registry: say so on every request, not at start
        log.warning("the registry cannot be read yet: %s", exc)
    uvicorn.run(app, host=host, port=port, log_level="info", server_header=False)
