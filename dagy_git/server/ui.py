"""The Flows UI: server-rendered pages over the registry view (`/`, `/ui/flows/…`,
`/ui/drafts`), the chips of `ui_model` and the DAG pictures of `dag_svg`.

Pages read the same cached `RegistryView` as the API, so they cost no git call while the
branch stays put. Jinja2 escapes every value; the few pieces of markup made in Python (the
SVG) escape their own text. The page needs no script: chips are links to filtered URLs.
"""

from __future__ import annotations

from datetime import datetime, timezone
from importlib import resources
from typing import Any
from urllib.parse import quote, unquote_to_bytes

import jinja2
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from markupsafe import Markup

from dagy_git.errors import DagyError
from dagy_git.server.dag_svg import render_dag, spec_graph
from dagy_git.server.state import RegistryState, RegistryView
from dagy_git.server.ui_filters import Filters, parse_filters
from dagy_git.server.ui_model import FlowRow, FlowSummary, TagChip, build_grid, summarize

__all__ = ["flow_ref", "flow_url", "make_router"]

_STATIC_TYPES = {"ui.css": "text/css; charset=utf-8", "ui.js": "text/javascript; charset=utf-8"}
_FLOWS_PREFIX = b"/ui/flows/"
DRAFTS = "/ui/drafts"
# Flow names, versions, tags and descriptions come from repositories: besides escaping,
# the browser runs only our own script and style, and no other site may frame the pages.
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}
# More cards than this make a page of megabytes that no one scrolls: the chips and the
# search narrow it, and "show all" is one click away.
CARD_LIMIT = 200


def flow_url(name: str, version: str | None = None) -> str:
    """The page of a flow (its latest version) or of one version. Each part is one path
    segment, so `/` and `%` in a name or version are encoded, and decoded from the raw path."""
    url = "/ui/flows/" + quote(name, safe="")
    return url if version is None else url + "/" + quote(version, safe="")


def _when(stamp: str | None) -> str:
    """An ISO 8601 time as people read it, in UTC to the minute."""
    if not stamp:
        return "unknown"
    try:
        moment = datetime.fromisoformat(stamp.replace("Z", "+00:00"))
    except ValueError:
        return stamp
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")


def environment() -> jinja2.Environment:
    """The templates, autoescaped; an undefined name fails loudly instead of rendering ''."""
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("dagy_git.server", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.globals.update(
        flow_url=flow_url,
        static=lambda name: f"/ui/static/{name}",
        tag_url=lambda k, v: Filters(tags=((k, v),)).url(),
        namespace_url=lambda ns: Filters(namespace=ns).url(),
    )
    return env


def _rows(view: RegistryView) -> list[FlowRow]:
    """Every flow version as the Flows page needs it; who last deployed a flow and when come
    from the registry's log (one `git log` per registry commit, cached by the view)."""
    rows: list[FlowRow] = []
    for f in view.flows:
        change = view.last_change(f.flow_name, f.flow_version) if f.is_latest else None
        rows.append(
            FlowRow(
                flow_name=f.flow_name,
                flow_version=f.flow_version,
                namespace=f.namespace,
                tags=f.tags,
                code_hash=f.code_hash,
                updated_at=change.date if change else f.updated_at,
                is_latest=f.is_latest,
                registered_at=f.registered_at,
                deployments=f.deployments,
                updated_by=change.author if change else "",
            )
        )
    return rows


def _flow_page(view: RegistryView, name: str, version: str | None) -> dict[str, Any]:
    """Everything the flow page shows about one version (raises DagyError if unknown)."""
    item = view.latest(name) if version is None else view.flow(name, version)
    detail = view.detail(item.flow_name, item.flow_version) if item is not None else None
    if item is None or detail is None:
        known = [v.flow_version for v in view.versions(name)]
        raise DagyError(
            f"flow {name!r}"
            + (f" version {version!r}" if version is not None else "")
            + " is not registered",
            hint=f"registered versions: {', '.join(known)}" if known else None,
        )
    tasks, edges = spec_graph(detail.flow_spec)
    versions = [
        {
            "flow_version": v.flow_version,
            "code_hash": v.code_hash,
            "updated_at": v.updated_at,
            "current": v.flow_version == item.flow_version,
            "status": (["latest"] if v.is_latest else [])
            + (["deployed"] if v.deployments else [])
            + ([] if v.is_latest or v.deployments else ["registered"]),
        }
        for v in view.versions(name)
    ]
    return {
        "name": item.flow_name,
        "version": item.flow_version,
        "namespace": item.namespace,
        "tags": item.tags,
        "code_hash": item.code_hash,
        "source_path": item.source_path,
        "source_commit": item.source_commit,
        "registered_at": item.registered_at,
        "updated_at": item.updated_at,
        "is_latest": item.is_latest,
        "spec": detail.flow_spec,
        "svg": Markup(
            render_dag(detail.flow_spec, title=f"DAG of {item.flow_name}", link=flow_url)
        ),
        "task_count": len(tasks),
        "edge_count": len(edges),
        "versions": versions,
        "deployments": [d for d in view.deployments if d.flow_name == name],
        "history": view.log(name),
    }


def flow_ref(request: Request) -> tuple[str, str | None] | None:
    """Name and version from the raw path: `%2F` inside a segment stays part of the name."""
    raw: bytes = request.scope.get("raw_path") or request.url.path.encode()
    raw = raw.split(b"?", 1)[0]
    at = raw.find(_FLOWS_PREFIX)
    parts = raw[at + len(_FLOWS_PREFIX) :].split(b"/") if at >= 0 else []
    if not 1 <= len(parts) <= 2 or not all(parts):
        return None
    try:
        decoded = [unquote_to_bytes(p).decode("utf-8") for p in parts]
    except UnicodeDecodeError:
        return None
    return decoded[0], decoded[1] if len(decoded) == 2 else None


def make_router(state: RegistryState) -> APIRouter:
    """The Flows UI's routes, over `state`'s cached registry view."""
    env = environment()
    router = APIRouter(include_in_schema=False)

    def page(template: str, view: RegistryView, status: int = 200, **context: Any) -> HTMLResponse:
        html = env.get_template(template).render(commit=view.commit, **context)
        return HTMLResponse(html, status_code=status, headers=PAGE_HEADERS)

    def error(view: RegistryView, status: int, title: str, exc: DagyError) -> HTMLResponse:
        return page(
            "error.html", view, status, page="", title=title, message=str(exc), hint=exc.hint
        )

    memo: dict[str, tuple[str | None, list[FlowSummary]]] = {}

    def flows_of(view: RegistryView) -> list[FlowSummary]:
        # The summaries of the newest registry commit seen; one dict item swapped whole, so
        # concurrent requests at worst compute it twice.
        held = memo.get("flows")
        if held is None or held[0] != view.commit:
            held = (view.commit, summarize(_rows(view)))
            memo["flows"] = held
        return held[1]

    @router.get("/", response_class=HTMLResponse)
    def flows_page(
        tag: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's way to declare it
        namespace: str | None = None,
        q: str | None = None,
        show_all: str = Query(default="", alias="all"),
    ) -> HTMLResponse:
        view = state.view()
        try:
            filters = parse_filters(tag, namespace, q)
        except DagyError as exc:
            return error(view, 400, "Bad filter", exc)
        limit = 10**9 if show_all not in ("", "0", "false") else CARD_LIMIT
        grid = build_grid(flows_of(view), filters, limit)
        clear_q = Filters(tags=filters.tags, namespace=filters.namespace).url()
        show_all_url = filters.url() + ("&" if filters.active else "?") + "all=1"
        return page(
            "flows.html",
            view,
            page="flows",
            grid=grid,
            clear_q_url=clear_q,
            show_all_url=show_all_url,
        )

    @router.get("/ui/flows/{rest:path}", response_class=HTMLResponse)
    def flow_page(request: Request, rest: str) -> HTMLResponse:
        view = state.view()
        ref = flow_ref(request)
        if ref is None:
            return error(view, 404, "Not found", DagyError(f"no flow page at {rest!r}"))
        try:
            flow = _flow_page(view, *ref)
        except DagyError as exc:
            return error(view, 404, "Flow not found", exc)
        return page("flow.html", view, page="flow", flow=flow)

    @router.get("/ui/drafts", response_class=HTMLResponse)
    def drafts_page(
        tag: list[str] = Query(default=[]),  # noqa: B008 - FastAPI's way to declare it
        q: str | None = None,
    ) -> HTMLResponse:
        view = state.view()
        try:
            filters = parse_filters(tag, None, q)
        except DagyError as exc:
            return error(view, 400, "Bad filter", exc)
        drafts = [
            {
                "draft": d,
                "chips": [
                    TagChip(k, v, filters.has_tag(k, v), filters.toggle_tag(k, v).url(DRAFTS))
                    for k, v in sorted(d.tags.items())
                ],
            }
            for d in sorted(view.drafts, key=lambda d: d.updated_at, reverse=True)
            if filters.matches(d.name, "", d.tags)
        ]
        active = [
            TagChip(k, v, True, filters.without_tag(k, v).url(DRAFTS)) for k, v in filters.tags
        ]
        return page(
            "drafts.html",
            view,
            page="drafts",
            drafts=drafts,
            total=len(view.drafts),
            filters=filters,
            active_tags=active,
        )

    @router.get("/ui/static/{name}")
    def static(name: str) -> Response:
        # A fixed list, not a folder: no path from a URL ever reaches the file system.
        if name not in _STATIC_TYPES:
            return Response("not found", status_code=404, media_type="text/plain")
        body = resources.files("dagy_git.server").joinpath("static").joinpath(name).read_bytes()
        return Response(
            body,
            media_type=_STATIC_TYPES[name],
            headers={"Cache-Control": "public, max-age=300", "X-Content-Type-Options": "nosniff"},
        )

    return router
