"""`dagy-git tag FLOW@VERSION KEY=VALUE... [--unset KEY]`: change dagy tags."""

from __future__ import annotations

from pathlib import Path

from dagy_git.cli.output import note, print_json, short, tags_text
from dagy_git.cli.parsing import parse_tags
from dagy_git.errors import DagyError
from dagy_git.flow_tags import set_tags
from dagy_git.names import parse_flow_ref
from dagy_git.workspace import open_workspace


def run(
    ref: str,
    pairs: list[str],
    unset: list[str],
    push: bool,
    remote: str | None,
    json_out: bool,
    cwd: Path,
) -> int:
    """Set/unset tags of one flow version and report the new tags."""
    name, version = parse_flow_ref(ref)
    if version is None:
        raise DagyError(f"name the version: {name}@VERSION", hint="tags belong to a flow version")
    if not pairs and not unset:
        raise DagyError("give KEY=VALUE pairs to set or --unset KEY")
    ws = open_workspace(cwd)
    outcome = set_tags(
        ws.registry(), name, version, parse_tags(pairs), unset, push=push, remote=ws.remote(remote)
    )
    change = outcome.value
    if json_out:
        print_json(
            {
                "flow_name": name,
                "flow_version": version,
                "tags": change.after,
                "registry_commit": outcome.commit,
                "changed": change.after != change.before,
            }
        )
        return 0
    if change.after == change.before:
        note(f"{name}@{version}: tags unchanged")
    else:
        note(
            f"{name}@{version}: tags now "
            + (tags_text(change.after) or "(none)")
            + f" (registry commit {short(outcome.commit)})"
        )
    return 0
