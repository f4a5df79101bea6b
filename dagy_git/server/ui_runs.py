"""The Flows UI's run pages: recent runs (filtered as `GET /runs` is) and one run with its
task runs and log, read from the runs store; rendered with the Flows UI's templates."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from dagy_git.runs.store import RunStore
from dagy_git.runs.types import STATES
from dagy_git.server.state import RegistryState
from dagy_git.server.ui import PAGE_HEADERS, environment

__all__ = ["PAGE_SIZE", "make_router", "runs_url"]

PAGE_SIZE = 100  # runs on one page, newest first


def runs_url(**filters: str | None) -> str:
    """The runs page filtered by flow_name, flow_version, deployment or state."""
    given = {k: v for k, v in filters.items() if v}
    return "/ui/runs" + (f"?{urlencode(given)}" if given else "")


def make_router(state: RegistryState, store: RunStore) -> APIRouter:
    """The run pages over `store` (the registry `state` names the commit in the header)."""
    env = environment()
    env.globals["runs_url"] = runs_url
    router = APIRouter(include_in_schema=False)

    def page(template: str, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(commit=state.view().commit, **context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    @router.get("/ui/runs", response_class=HTMLResponse)
    def runs_page(
        flow_name: str | None = None,
        flow_version: str | None = None,
        deployment: str | None = None,
        state: str | None = None,
    ) -> HTMLResponse:
        wanted = state if state in STATES else None
        runs = store.list_runs(
            flow_name=flow_name or None,
            flow_version=flow_version or None,
            deployment=deployment or None,
            state=wanted,
            limit=PAGE_SIZE,
        )
        filters = {
            "flow_name": flow_name,
            "flow_version": flow_version,
            "deployment": deployment,
            "state": wanted,
        }
        return page(
            "runs.html",
            page="runs",
            runs=runs,
            chosen=filters,
            filters={k: v for k, v in filters.items() if v},
            states=STATES,
            limit=PAGE_SIZE,
        )

    @router.get("/ui/runs/{run_id}", response_class=HTMLResponse)
    def run_page(run_id: str) -> HTMLResponse:
        run = store.get(run_id)
        if run is None:
            return page(
                "error.html",
                404,
                page="runs",
                title="No such run",
                message=f"no run {run_id!r}",
                hint="see the runs page",
            )
        return page("run.html", page="runs", run=run)

    return router
