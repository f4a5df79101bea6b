"""What every router shares: the settings, the cached registry state, tokens, the write lock.

Writes of one server go one at a time (a lock) so they never race each other through the
registry's retry loop; a race with another process (a CLI deploy, a CI push) is still
settled by that loop. A write moves the branch, so the writer's next read sees it.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Path, Query
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel

from dagy_git.config import Settings
from dagy_git.errors import InvalidNameError
from dagy_git.names import validate_tag
from dagy_git.queries import TagFilter
from dagy_git.server.auth import Auth
from dagy_git.server.models import (
    DRAFT_ID_PATTERN,
    NAME_PATTERN,
    VERSION_PATTERN,
    ErrorResponse,
)
from dagy_git.server.state import RegistryState

__all__ = [
    "ERRORS",
    "DeploymentName",
    "DraftId",
    "FlowName",
    "FlowVersion",
    "ServerContext",
    "TagQuery",
    "check_text",
    "parse_tag_filter",
]

T = TypeVar("T")

# Every route may answer these, always as an ErrorResponse (documented for OpenAPI clients);
# 502: git failed under a well-formed request (a push to an unreachable remote).
ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorResponse} for code in (401, 403, 404, 409, 413, 422, 502)
}
TAG_PAIR_PATTERN = r"^[A-Za-z0-9_./-]{1,64}[:=].{0,64}$"
TagQuery = Annotated[
    list[str] | None,
    Query(
        description="key:value; repeat for more (all must match: AND)",
        max_length=100,
        json_schema_extra={"items": {"type": "string", "pattern": TAG_PAIR_PATTERN}},
    ),
]
FlowName = Annotated[str, Path(json_schema_extra={"pattern": NAME_PATTERN})]
FlowVersion = Annotated[str, Path(json_schema_extra={"pattern": VERSION_PATTERN})]
DeploymentName = Annotated[str, Path(json_schema_extra={"pattern": NAME_PATTERN})]
DraftId = Annotated[str, Path(json_schema_extra={"pattern": DRAFT_ID_PATTERN})]


@dataclass
class ServerContext:
    """One server's settings, state and tokens (routers are built from it)."""

    settings: Settings
    state: RegistryState
    auth: Auth
    push: bool = False
    # An asyncio lock: writers waiting their turn hold no worker thread, so reads never
    # queue behind a line of writes.
    write_lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def write(self, action: Callable[[], T]) -> T:
        """Run one registry write (blocking git work, in a worker thread), one at a time;
        the next read sees it, since it moved the branch."""
        async with self.write_lock:
            return await run_in_threadpool(action)


def _pair(item: str) -> tuple[str, str]:
    """`key:value` (the spec's form) or `key=value` (the CLI's): a key has neither sign."""
    cut = min((i for i in (item.find(":"), item.find("=")) if i >= 0), default=-1)
    if cut <= 0:
        raise InvalidNameError(f"tag filter {item!r} is not key:value")
    return validate_tag(item[:cut], item[cut + 1 :])


def parse_tag_filter(tags: list[str] | None, any_tags: list[str] | None = None) -> TagFilter:
    """`tag=` items (all must match) and `any_tag=` items (one must) as a `TagFilter`."""
    all_of: dict[str, str] = {}
    for item in tags or []:
        key, value = _pair(item)
        if all_of.get(key, value) != value:
            all_of[key] = "\0"  # two values for one key: nothing can match both
        else:
            all_of[key] = value
    return TagFilter(all_of, [_pair(i) for i in any_tags or []])


def check_text(request: BaseModel) -> None:
    """Refuse a body whose strings cannot be stored as UTF-8 (JSON allows lone surrogates
    such as "\\ud800"; a registry file cannot hold them)."""
    try:
        json.dumps(request.model_dump(mode="json"), ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidNameError(
            "the request holds text that is not valid Unicode (a lone surrogate)"
        ) from None
