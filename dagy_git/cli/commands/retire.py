"""`dagy-git retire NAME...`: remove deployments from the registry."""

from __future__ import annotations

from pathlib import Path

from dagy_git.cli.output import note, print_json, short
from dagy_git.retire import retire
from dagy_git.workspace import open_workspace


def run(
    names: list[str], push: bool, remote: str | None, dry_run: bool, json_out: bool, cwd: Path
) -> int:
    """Retire the named deployments in one registry commit and say which."""
    ws = open_workspace(cwd)
    outcome = retire(ws.registry(), names, push=push, remote=ws.remote(remote), dry_run=dry_run)
    retired = [
        {"name": d.name, "flow_name": d.flow_name, "flow_version": d.flow_version}
        for d in outcome.value
    ]
    if json_out:
        print_json({"registry_commit": outcome.commit, "retired": retired, "dry_run": dry_run})
        return 0
    verb = "would retire" if dry_run else "retired"
    for d in retired:
        flow = f"{d['flow_name']}@{d['flow_version']}" if d["flow_name"] else "unreadable record"
        note(f"{verb} {d['name']} ({flow})")
    if not dry_run:
        note(f"registry commit {short(outcome.commit)}" + (" pushed" if outcome.pushed else ""))
    return 0
