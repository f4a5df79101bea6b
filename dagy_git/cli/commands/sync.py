"""`dagy-git push` / `dagy-git pull`: share the registry through a remote."""

from __future__ import annotations

from pathlib import Path

from dagy_git.cli.output import note, short
from dagy_git.workspace import open_workspace


def push(remote: str | None, atomic: bool, cwd: Path) -> int:
    """Push the registry branch and its version tags (atomically, with leases)."""
    ws = open_workspace(cwd)
    name = ws.remote(remote)
    result = ws.registry().push_all(name, atomic=atomic)
    note(
        f"pushed {ws.settings.registry_branch} ({short(result.commit)}) and "
        f"{result.tags} version tags to {name}"
        if result.changed
        else f"{name} is up to date"
    )
    return 0


def pull(remote: str | None, cwd: Path, *, force: bool = False) -> int:
    """Fetch the registry branch and version tags, moved ones included."""
    ws = open_workspace(cwd)
    name = ws.remote(remote)
    result = ws.registry().pull(name, force=force)
    branch = ws.settings.registry_branch
    said = {
        "no-remote-registry": f"{name} has no registry branch {branch} yet: nothing to pull",
        "ahead": f"the local {branch} is ahead of {name}'s: run `dagy-git push` to share it",
        "up-to-date": f"{branch} is up to date with {name}",
        "created": f"{branch} created from {name} at {short(result.commit)}",
        "fast-forward": f"{branch} fast-forwarded to {short(result.commit)} from {name}",
        "reset": f"{branch} diverged from {name}'s: took {name}'s ({short(result.commit)}); "
        f"the local-only commits are kept on {result.backup}/branch (and their tags "
        f"beside it); deploy again to re-apply what this checkout holds",
    }.get(result.status, f"registry at {short(result.commit)} from {name}")
    note(f"{said}; {result.tags_updated} version tags updated")
    return 0
