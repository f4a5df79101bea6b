"""`dagy-git drafts list | show | create | update | delete`: DAG drafts on the registry."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from dagy_git import drafts
from dagy_git.cli.output import note, print_json, print_table, say, short, tags_text
from dagy_git.cli.parsing import parse_tags
from dagy_git.errors import DagyError
from dagy_git.workspace import open_workspace


def _item(draft: drafts.Draft) -> dict[str, Any]:
    """A DagDraftResponse, as the API answers it."""
    return {"id": draft.id, **draft.record.model_dump()}


def read_canvas(path: str | None) -> str | None:
    """The canvas JSON text of `--canvas FILE` (`-` = stdin), or None."""
    if path is None:
        return None
    if path == "-":
        return sys.stdin.read()
    try:
        return Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DagyError(f"cannot read the canvas file {path}: {exc.__class__.__name__}") from None


def list_(tags: list[str], json_out: bool, cwd: Path) -> int:
    """List drafts, filtered by tags."""
    wanted = parse_tags(tags)
    ws = open_workspace(cwd)
    with ws.registry().snapshot() as snap:
        found = drafts.list_drafts(snap, wanted)
    if json_out:
        print_json([_item(d) for d in found])
        return 0
    rows = [(d.id, d.record.name, tags_text(d.record.tags), d.record.updated_at) for d in found]
    print_table(("id", "name", "tags", "updated"), rows)
    note(f"{len(found)} draft{'' if len(found) == 1 else 's'}")
    return 0


def show(draft_id: str, json_out: bool, cwd: Path) -> int:
    """Show one draft."""
    ws = open_workspace(cwd)
    with ws.registry().snapshot() as snap:
        draft = drafts.get_draft(snap, draft_id)
    if json_out:
        print_json(_item(draft))
        return 0
    item = _item(draft)
    for key in ("id", "name", "created_at", "updated_at"):
        say(f"{key + ':':12}{item[key]}")
    say(f"{'tags:':12}" + (tags_text(draft.record.tags) or "-"))
    say(f"{'canvas:':12}{draft.record.canvas_json or '-'}")
    return 0


def _done(verb: str, draft: drafts.Draft, commit: str | None, json_out: bool) -> int:
    if json_out:
        print_json({**_item(draft), "registry_commit": commit})
        return 0
    note(f"{verb} draft {draft.id} ({draft.record.name}), registry commit {short(commit)}")
    if verb == "created":
        say(draft.id)  # on stdout, for `ID=$(dagy-git drafts create …)`
    return 0


def create(
    name: str,
    canvas: str | None,
    tags: list[str],
    push: bool,
    remote: str | None,
    json_out: bool,
    cwd: Path,
) -> int:
    """Save a new draft in one registry commit."""
    parsed = parse_tags(tags)
    canvas_json = read_canvas(canvas) or ""
    ws = open_workspace(cwd)
    outcome = drafts.create_draft(
        ws.registry(), name, canvas_json, parsed, push=push, remote=ws.remote(remote)
    )
    return _done("created", outcome.value, outcome.commit, json_out)


def update(
    draft_id: str,
    name: str | None,
    canvas: str | None,
    tags: list[str] | None,
    push: bool,
    remote: str | None,
    json_out: bool,
    cwd: Path,
) -> int:
    """Replace a draft's name, canvas or tags (tags as a whole)."""
    parsed = parse_tags(tags) if tags is not None else None
    canvas_json = read_canvas(canvas)
    if name is None and canvas_json is None and parsed is None:
        raise DagyError("nothing to change", hint="give --name, --canvas or --tag")
    ws = open_workspace(cwd)
    outcome = drafts.update_draft(
        ws.registry(),
        draft_id,
        name=name,
        canvas_json=canvas_json,
        tags=parsed,
        push=push,
        remote=ws.remote(remote),
    )
    return _done("updated", outcome.value, outcome.commit, json_out)


def delete(draft_id: str, push: bool, remote: str | None, json_out: bool, cwd: Path) -> int:
    """Remove a draft in one registry commit."""
    ws = open_workspace(cwd)
    outcome = drafts.delete_draft(ws.registry(), draft_id, push=push, remote=ws.remote(remote))
    return _done("deleted", outcome.value, outcome.commit, json_out)
