"""`/deployments`: list deployments by tag, and deploy a registered flow version."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from dagy_git.errors import NotFoundError
from dagy_git.names import validate_name
from dagy_git.registration import deploy_version
from dagy_git.server.context import (
    ERRORS,
    DeploymentName,
    ServerContext,
    TagQuery,
    check_text,
    parse_tag_filter,
)
from dagy_git.server.models import DeploymentRequest, DeploymentResponse

__all__ = ["make_router"]


def make_router(ctx: ServerContext) -> APIRouter:
    """The `/deployments` routes over one server's state."""
    router = APIRouter(tags=["deployments"], responses=ERRORS)
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]

    @router.get("/deployments", dependencies=read)
    def list_deployments(tag: TagQuery = None) -> list[DeploymentResponse]:
        """Deployments whose tags match every `tag=key:value`, by name."""
        filters = parse_tag_filter(tag)
        return [
            DeploymentResponse(**d.to_json()) for d in ctx.state.view().select_deployments(filters)
        ]

    @router.get("/deployments/{name}", dependencies=read)
    def show_deployment(name: DeploymentName) -> DeploymentResponse:
        """One deployment by name."""
        validate_name(name, "deployment name")
        found = ctx.state.view().deployment(name)
        if found is None:
            raise NotFoundError(f"no deployment named {name!r}", hint="see GET /deployments")
        return DeploymentResponse(**found.to_json())

    @router.post("/deployments", dependencies=write)
    async def deploy(
        request: DeploymentRequest,
        force: Annotated[bool, Query(description="Re-deploy even when nothing changed.")] = False,
    ) -> DeploymentResponse:
        """Deploy a registered flow version under a name: a new deployment starts at
        deployment_version 1, and every change adds one; an unchanged one is skipped."""
        check_text(request)

        def action() -> DeploymentResponse:
            outcome = deploy_version(
                ctx.state.registry,
                ctx.settings,
                request.name,
                request.flow_name,
                request.flow_version,
                tags=request.tags,
                schedule=request.schedule,
                parameters=request.parameters,
                force=force,
                push=ctx.push,
            )
            result = outcome.value.results[0]
            written = next((d for d in outcome.value.deployments if d.name == request.name), None)
            if written is not None:
                doc = written.model_dump()
            else:  # skipped: the deployment is as it was
                current = ctx.state.view().deployment(request.name)
                if current is None:  # pragma: no cover - a skipped deployment exists
                    raise NotFoundError(f"no deployment named {request.name!r}")
                doc = current.to_json()
            return DeploymentResponse(
                **doc, status=result.status, reason=result.reason, registry_commit=outcome.commit
            )

        return await ctx.write(action)

    return router
