"""DAG drafts: canvases saved with a name and tags, on the registry branch (`drafts/<id>.json`).

One registry commit per create, update or delete, retried like every other write when
another writer moves the branch first; `--push`/`push=True` sends it to the remote. The
HTTP API (`POST /drafts`, …) and `dagy-git drafts` both call these functions.
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagy_git.deploy import utc_now
from dagy_git.errors import InvalidNameError, NotFoundError
from dagy_git.models import DraftRecord
from dagy_git.names import validate_tags

if TYPE_CHECKING:
    from dagy_git.registry import Registry, Snapshot, Transaction
    from dagy_git.registry.retry import Outcome

__all__ = [
    "MAX_CANVAS",
    "Draft",
    "create_draft",
    "delete_draft",
    "get_draft",
    "list_drafts",
    "new_draft_id",
    "update_draft",
    "validate_draft_id",
    "validate_draft_name",
]

MAX_DRAFT_NAME = 200
MAX_CANVAS = 1_000_000  # characters of canvas JSON: a canvas, not a data set
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A draft id is a file name on the registry branch: a strict alphabet, whatever names allow.
_DRAFT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,127}\Z")


@dataclass(frozen=True)
class Draft:
    """A draft and its id."""

    id: str
    record: DraftRecord


def validate_draft_name(name: object) -> str:
    """A draft name is free text (spaces welcome), 1-200 characters, one line."""
    if not isinstance(name, str) or not name.strip():
        raise InvalidNameError("draft name must be a non-empty string")
    if len(name) > MAX_DRAFT_NAME:
        raise InvalidNameError(f"draft name {name[:40]!r}… is longer than {MAX_DRAFT_NAME}")
    if _CONTROL.search(name):
        raise InvalidNameError(f"draft name {name!r} contains a control character")
    return name


def validate_draft_id(draft_id: object) -> str:
    """A draft id: letters, digits, `_` and `-`, at most 128, starting with a letter or digit."""
    if not isinstance(draft_id, str) or not _DRAFT_ID.match(draft_id):
        raise InvalidNameError(
            f"invalid draft id {draft_id!r}",
            hint="draft ids use letters, digits, '_' and '-' (see `dagy-git drafts list`)",
        )
    return draft_id


def _validate_canvas(canvas_json: object) -> str:
    if not isinstance(canvas_json, str):
        raise InvalidNameError("canvas_json must be a string (the canvas as JSON text)")
    if len(canvas_json) > MAX_CANVAS:
        raise InvalidNameError(f"canvas_json is longer than {MAX_CANVAS} characters")
    return canvas_json


def get_draft(snap: Snapshot, draft_id: str) -> Draft:
    """One draft by id (NotFoundError when there is none)."""
    record = snap.draft(validate_draft_id(draft_id))
    if record is None:
        raise NotFoundError(f"no draft with id {draft_id!r}", hint="see `dagy-git drafts list`")
    return Draft(draft_id, record)


def list_drafts(snap: Snapshot, tags: dict[str, str] | None = None) -> list[Draft]:
    """Every draft whose tags include all of `tags`, by name then id."""
    wanted = tags or {}
    found = [
        Draft(i, r)
        for i, r in snap.drafts().items()
        if all(r.tags.get(k) == v for k, v in wanted.items())
    ]
    return sorted(found, key=lambda d: (d.record.name, d.id))


def new_draft_id() -> str:
    """A fresh draft id: 16 random hex digits (ids never collide in practice, and a
    collision is still caught: create refuses an id that exists)."""
    return secrets.token_hex(8)


def create_draft(
    registry: Registry,
    name: str,
    canvas_json: str = "",
    tags: dict[str, str] | None = None,
    *,
    push: bool = False,
    remote: str = "origin",
    draft_id: str | None = None,
) -> Outcome[Draft]:
    """Save a new draft in one registry commit; its id is new unless given."""
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    name = validate_draft_name(name)
    canvas_json = _validate_canvas(canvas_json)
    clean_tags = validate_tags(tags or {})
    new_id = validate_draft_id(draft_id) if draft_id is not None else new_draft_id()

    def make(snap: Snapshot) -> tuple[Draft, Transaction | None]:
        if snap.draft(new_id) is not None:
            raise InvalidNameError(f"a draft with id {new_id!r} exists already")
        now = utc_now()
        record = DraftRecord(
            name=name, canvas_json=canvas_json, tags=clean_tags, created_at=now, updated_at=now
        )
        txn = Transaction(drafts={new_id: record}, subject=f"draft: create {new_id} ({name})")
        return Draft(new_id, record), txn

    return commit_with_retry(registry, make, push=push, remote=remote)


def update_draft(
    registry: Registry,
    draft_id: str,
    *,
    name: str | None = None,
    canvas_json: str | None = None,
    tags: dict[str, str] | None = None,
    push: bool = False,
    remote: str = "origin",
) -> Outcome[Draft]:
    """Replace the given fields of a draft (tags as a whole) in one registry commit;
    nothing is written when nothing changes."""
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    validate_draft_id(draft_id)
    changes: dict[str, object] = {}
    if name is not None:
        changes["name"] = validate_draft_name(name)
    if canvas_json is not None:
        changes["canvas_json"] = _validate_canvas(canvas_json)
    if tags is not None:
        changes["tags"] = validate_tags(tags)

    def make(snap: Snapshot) -> tuple[Draft, Transaction | None]:
        old = get_draft(snap, draft_id).record
        new = old.model_copy(update=changes)
        if new == old:
            return Draft(draft_id, old), None
        new = new.model_copy(update={"updated_at": utc_now()})
        txn = Transaction(drafts={draft_id: new}, subject=f"draft: update {draft_id} ({new.name})")
        return Draft(draft_id, new), txn

    return commit_with_retry(registry, make, push=push, remote=remote)


def delete_draft(
    registry: Registry, draft_id: str, *, push: bool = False, remote: str = "origin"
) -> Outcome[Draft]:
    """Remove a draft in one registry commit (its history stays on the branch)."""
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    validate_draft_id(draft_id)

    def make(snap: Snapshot) -> tuple[Draft, Transaction | None]:
        old = get_draft(snap, draft_id)
        subject = f"draft: delete {draft_id} ({old.record.name})"
        return old, Transaction(drafts={draft_id: None}, subject=subject)

    return commit_with_retry(registry, make, push=push, remote=remote)
