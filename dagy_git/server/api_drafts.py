"""`/drafts`: DAG drafts (name, canvas_json, tags) on the registry branch."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response

from dagy_git import drafts
from dagy_git.errors import NotFoundError
from dagy_git.server.context import (
    ERRORS,
    DraftId,
    ServerContext,
    TagQuery,
    check_text,
    parse_tag_filter,
)
from dagy_git.server.models import DagDraftCreateRequest, DagDraftResponse, DagDraftUpdateRequest

__all__ = ["make_router"]


def _response(draft: drafts.Draft, commit: str | None) -> DagDraftResponse:
    return DagDraftResponse(id=draft.id, **draft.record.model_dump(), registry_commit=commit)


def make_router(ctx: ServerContext) -> APIRouter:
    """The `/drafts` routes over one server's state."""
    router = APIRouter(tags=["drafts"], responses=ERRORS)
    read = [Depends(ctx.auth.require_read)]
    write = [Depends(ctx.auth.require_write)]
    remote = ctx.settings.remote

    @router.get("/drafts", dependencies=read)
    def list_drafts(tag: TagQuery = None) -> list[DagDraftResponse]:
        """Drafts whose tags match every `tag=key:value`, by name."""
        filters = parse_tag_filter(tag)
        return [DagDraftResponse(**d.to_json()) for d in ctx.state.view().select_drafts(filters)]

    @router.post("/drafts", status_code=201, dependencies=write)
    async def create(request: DagDraftCreateRequest) -> DagDraftResponse:
        """Save a new draft; the answer carries its id."""
        check_text(request)
        outcome = await ctx.write(
            lambda: drafts.create_draft(
                ctx.state.registry,
                request.name,
                request.canvas_json,
                request.tags,
                push=ctx.push,
                remote=remote,
            )
        )
        return _response(outcome.value, outcome.commit)

    @router.get("/drafts/{draft_id}", dependencies=read)
    def show(draft_id: DraftId) -> DagDraftResponse:
        """One draft by id."""
        drafts.validate_draft_id(draft_id)
        found = ctx.state.view().draft(draft_id)
        if found is None:
            raise NotFoundError(f"no draft with id {draft_id!r}", hint="see GET /drafts")
        return DagDraftResponse(**found.to_json())

    @router.put("/drafts/{draft_id}", dependencies=write)
    async def update(draft_id: DraftId, request: DagDraftUpdateRequest) -> DagDraftResponse:
        """Replace the fields given (tags as a whole); unchanged fields stay."""
        check_text(request)
        drafts.validate_draft_id(draft_id)
        outcome = await ctx.write(
            lambda: drafts.update_draft(
                ctx.state.registry,
                draft_id,
                name=request.name,
                canvas_json=request.canvas_json,
                tags=request.tags,
                push=ctx.push,
                remote=remote,
            )
        )
        return _response(outcome.value, outcome.commit)

    @router.delete("/drafts/{draft_id}", status_code=204, dependencies=write)
    async def delete(draft_id: DraftId) -> Response:
        """Remove a draft (its history stays on the registry branch)."""
        drafts.validate_draft_id(draft_id)
        await ctx.write(
            lambda: drafts.delete_draft(ctx.state.registry, draft_id, push=ctx.push, remote=remote)
        )
        return Response(status_code=204)

    return router
