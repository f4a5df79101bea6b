"""`/flows`: list, show, history, register and re-tag flow versions."""

from __future__ import annotations

import base64
import binascii
import bisect
import json
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse

from dagy_git.errors import InvalidNameError, NotFoundError
from dagy_git.flow_tags import TagChange, set_tags
from dagy_git.hashing import canonical_json
from dagy_git.models import FlowSpec
from dagy_git.names import validate_name, validate_namespace, validate_tag, validate_version
from dagy_git.registration import Registration, register_flow, spec_code_hash
from dagy_git.registry.retry import Outcome
from dagy_git.server.context import (
    ERRORS,
    TAG_PAIR_PATTERN,
    FlowName,
    FlowVersion,
    ServerContext,
    TagQuery,
    check_text,
    parse_tag_filter,
)
from dagy_git.server.models import (
    NAMESPACE_PATTERN,
    FlowDetailResponse,
    FlowListItem,
    FlowListResponse,
    FlowLogEntry,
    FlowRegisterRequest,
    FlowRegisterResponse,
    FlowTagsRequest,
    FlowTagsResponse,
)
from dagy_git.server.state import RegistryView

__all__ = ["make_router"]


def encode_cursor(name: str, version: str) -> str:
    """An opaque cursor for the page after `name@version` (stable while flows are added)."""
    return base64.urlsafe_b64encode(canonical_json([name, version]).encode()).decode()


def decode_cursor(cursor: str) -> tuple[str, str]:
    """The `(flow_name, flow_version)` a cursor continues after."""
    try:
        value = json.loads(base64.urlsafe_b64decode(cursor.encode("ascii")))
    except (ValueError, binascii.Error, UnicodeError):
        value = None
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, str) for v in value)):
        raise InvalidNameError("cursor is not one this server gave", hint="use next_cursor")
    return value[0], value[1]


def _detail(view: RegistryView, name: str, version: str) -> FlowDetailResponse:
    detail = view.detail(name, version)
    if detail is None:
        known = [f.flow_version for f in view.versions(name)]
        raise NotFoundError(
            f"{name}@{version} is not registered",
            hint=f"registered versions: {', '.join(known)}" if known else "see GET /flows",
        )
    return FlowDetailResponse(**detail.to_json())


def make_router(ctx: ServerContext) -> APIRouter:
    """The `/flows` routes over one server's state."""
    router = APIRouter(tags=["flows"], responses=ERRORS)
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]

    # The busiest route answers with plain JSON: its items are already the list shape,
    # and validating thousands of them again would cost more than finding them.
    @router.get("/flows", response_model=FlowListResponse, dependencies=read)
    def list_flows(
        namespace: Annotated[
            str | None,
            Query(
                description="This namespace and everything below it.",
                json_schema_extra={"pattern": NAMESPACE_PATTERN},
            ),
        ] = None,
        tag: TagQuery = None,
        any_tag: Annotated[
            list[str] | None,
            Query(
                description="key:value; any of them (OR)",
                max_length=100,
                json_schema_extra={"items": {"type": "string", "pattern": TAG_PAIR_PATTERN}},
            ),
        ] = None,
        q: Annotated[str | None, Query(description="Flow name contains (any case).")] = None,
        version: Annotated[
            Literal["latest", "all"], Query(description="Each flow's latest version, or all.")
        ] = "all",
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
        offset: Annotated[int | None, Query(ge=0)] = None,
        cursor: Annotated[str | None, Query(description="next_cursor of the last page.")] = None,
    ) -> JSONResponse:
        """Registered flow versions by name and version, filtered, one page at a time."""
        if namespace:
            validate_namespace(namespace.strip("/"))
        if offset is not None and cursor is not None:
            raise InvalidNameError("give offset or cursor, not both")
        filters = parse_tag_filter(tag, any_tag)
        view = ctx.state.view()
        found = view.select(namespace=namespace, tags=filters, q=q, latest_only=version == "latest")
        start = offset or 0
        if cursor is not None:
            keys = [(f.flow_name, f.flow_version) for f in found]
            start = bisect.bisect_right(keys, decode_cursor(cursor))
        page = found[start : start + limit]
        last = page[-1] if page and start + limit < len(found) else None
        doc = {
            "items": [f.to_json() for f in page],
            "total": len(found),
            "limit": limit,
            "offset": start,
            "next_cursor": encode_cursor(last.flow_name, last.flow_version) if last else None,
            "registry_commit": view.commit,
        }
        return JSONResponse(doc)

    @router.post("/flows", dependencies=write)
    async def register(
        request: FlowRegisterRequest,
        force: Annotated[bool, Query(description="Write even when nothing changed.")] = False,
    ) -> FlowRegisterResponse:
        """Register a flow spec; the deploy decision table says registered/updated/metadata/
        skipped. code_hash = SHA-256(canonical_json(flow_spec) | source_file_hash)."""
        check_text(request)
        reg = Registration(
            spec=FlowSpec.model_validate(request.flow_spec.model_dump()),
            source=request.source.encode("utf-8") if request.source is not None else None,
            source_file_hash=request.source_file_hash,
            source_path=request.source_path,
            source_commit=request.source_commit,
            namespace=request.namespace,
            tags=request.tags or {},
            deployment=request.deployment_name,
            deployment_tags=request.tags or {},
            schedule=request.schedule,
            parameters=request.parameters,
        )
        outcome = await ctx.write(
            lambda: register_flow(ctx.state.registry, ctx.settings, reg, force=force, push=ctx.push)
        )
        result = outcome.value.results[0]
        return FlowRegisterResponse(
            flow_name=result.flow_name,
            flow_version=result.flow_version,
            namespace=result.namespace,
            tags=result.tags,
            code_hash=result.code_hash,
            source_file_hash=spec_code_hash(reg)[1],
            status=result.status,
            reason=result.reason,
            deployment_name=result.deployment_name,
            deployment_version=result.deployment_version,
            registry_commit=outcome.commit,
        )

    @router.get("/flows/{flow_name}/versions", dependencies=read)
    def versions(flow_name: FlowName) -> list[FlowListItem]:
        """Every version of a flow, most recently deployed first."""
        validate_name(flow_name)
        found = ctx.state.view().versions(flow_name)
        if not found:
            raise NotFoundError(f"flow {flow_name!r} is not registered", hint="see GET /flows")
        return [FlowListItem(**f.to_json()) for f in found]

    @router.get("/flows/{flow_name}/log", dependencies=read)
    def log(
        flow_name: FlowName,
        limit: Annotated[int | None, Query(ge=1, le=10_000)] = None,
    ) -> list[FlowLogEntry]:
        """Every registration, update, metadata and tags change of a flow, newest first."""
        validate_name(flow_name)
        entries = ctx.state.view().log(flow_name)
        return [FlowLogEntry(**e.to_json()) for e in entries[:limit]]

    @router.get("/flows/{flow_name}/versions/{flow_version:path}", dependencies=read)
    def show_version(flow_name: FlowName, flow_version: FlowVersion) -> FlowDetailResponse:
        """One flow version (for versions named `versions` or `log` too)."""
        validate_name(flow_name)
        validate_version(flow_version)
        return _detail(ctx.state.view(), flow_name, flow_version)

    @router.patch("/flows/{flow_name}/{flow_version:path}/tags", dependencies=write)
    async def patch_tags(
        flow_name: FlowName, flow_version: FlowVersion, request: FlowTagsRequest
    ) -> FlowTagsResponse:
        """Set and remove dagy tags of a flow version (tags are mutable), in one commit."""
        check_text(request)
        validate_name(flow_name)
        validate_version(flow_version)
        for key in request.unset:
            validate_tag(key, "")

        def action() -> Outcome[TagChange]:
            view = ctx.state.view()
            if view.flow(flow_name, flow_version) is None:
                _detail(view, flow_name, flow_version)  # raises the 404, naming the versions
            return set_tags(
                ctx.state.registry,
                flow_name,
                flow_version,
                request.set,
                request.unset,
                push=ctx.push,
                remote=ctx.settings.remote,
            )

        outcome = await ctx.write(action)
        change = outcome.value
        return FlowTagsResponse(
            flow_name=flow_name,
            flow_version=flow_version,
            tags=change.after,
            changed=change.after != change.before,
            registry_commit=outcome.commit,
        )

    @router.get("/flows/{flow_name}/{flow_version:path}", dependencies=read)
    def show(flow_name: FlowName, flow_version: FlowVersion) -> FlowDetailResponse:
        """One flow version: its spec, source path and commit, deployments and tags."""
        validate_name(flow_name)
        validate_version(flow_version)
        return _detail(ctx.state.view(), flow_name, flow_version)

    return router
