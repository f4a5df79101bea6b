"""`dagy-git list | show | log | deployments`: read-only questions to the registry."""

from __future__ import annotations

from collections.abc import Sized
from pathlib import Path

from dagy_git import queries
from dagy_git.cli.output import note, print_json, print_table, say, short, tags_text
from dagy_git.cli.parsing import parse_tags
from dagy_git.hashing import canonical_json
from dagy_git.names import (
    parse_flow_ref,
    parse_key_value,
    validate_name,
    validate_namespace,
    validate_version,
)
from dagy_git.workspace import Workspace, open_workspace


def _open(cwd: Path) -> Workspace:
    """The workspace, with a note when the registry exists only as a remote-tracking copy."""
    ws = open_workspace(cwd)
    tracking = ws.unpulled_registry()
    if tracking is not None:
        note(
            f"note: no local {ws.settings.registry_branch} branch yet, but {tracking[0]} "
            "exists: run `dagy-git pull` to read it"
        )
    return ws


def _filter(tags: list[str], any_tags: list[str]) -> queries.TagFilter:
    return queries.TagFilter(parse_tags(tags), [parse_key_value(t) for t in any_tags])


def list_flows(
    namespace: str | None, tags: list[str], any_tags: list[str], json_out: bool, cwd: Path
) -> int:
    """List flow versions by namespace and tags."""
    if namespace:
        validate_namespace(namespace.strip("/"))
    tag_filter = _filter(tags, any_tags)
    ws = _open(cwd)
    with ws.registry().snapshot() as snap:
        items = queries.list_flows(snap, namespace, tag_filter)
    if json_out:
        print_json(items)
        return 0
    rows = [
        (
            i["flow_name"],
            i["flow_version"],
            i["namespace"] or '""',
            tags_text(i["tags"]),
            short(i["code_hash"]),
            i["updated_at"],
        )
        for i in items
    ]
    print_table(("flow", "version", "namespace", "tags", "hash", "updated"), rows)
    note(f"{len(items)} flow version{_s(items)}")
    return 0


def show(ref: str, json_out: bool, cwd: Path) -> int:
    """Show one flow version."""
    name, version = parse_flow_ref(ref)
    ws = _open(cwd)
    with ws.registry().snapshot() as snap:
        detail = queries.flow_detail(snap, name, version)
    if json_out:
        print_json(detail)
        return 0
    for key in (
        "flow_name",
        "flow_version",
        "namespace",
        "code_hash",
        "source_file_hash",
        "source_path",
        "source_commit",
        "dirty",
        "registered_at",
        "updated_at",
    ):
        shown = '""' if detail[key] == "" else detail[key]
        say(f"{key + ':':18}{shown}")
    tags = detail["tags"]
    say(f"{'tags:':18}" + (tags_text(tags) or "-"))
    say(f"{'deployments:':18}" + (", ".join(detail["deployments"]) or "-"))
    spec = detail["flow_spec"] or {}
    tasks = spec.get("tasks", [])
    say(f"{'tasks:':18}" + (", ".join(t["id"] for t in tasks) or "-"))
    say(f"{'edges:':18}" + (", ".join(f"{a} -> {b}" for a, b in spec.get("edges", [])) or "-"))
    say(f"{'spec:':18}{canonical_json(spec)}")
    return 0


def log(flow: str, version: str | None, limit: int | None, json_out: bool, cwd: Path) -> int:
    """Every registration and update of a flow, newest first."""
    validate_name(flow)
    if version is not None:
        validate_version(version)
    ws = _open(cwd)
    entries = ws.registry().log(flow, version, limit)
    items = [e.to_json() for e in entries]
    if json_out:
        print_json(items)
        return 0
    rows = [
        (
            i["date"],
            i["author"],
            i["flow_version"],
            i["action"],
            i["namespace"] or '""',
            short(i["code_hash"]),
            short(i["source_commit"]),
            short(i["commit"]),
        )
        for i in items
    ]
    print_table(
        ("date", "author", "version", "action", "namespace", "hash", "source", "registry"), rows
    )
    if not items:
        note(f"no history for {flow}" + (f"@{version}" if version else ""))
    return 0


def list_deployments(tags: list[str], json_out: bool, cwd: Path) -> int:
    """List deployments by tags."""
    tag_filter = _filter(tags, [])
    ws = _open(cwd)
    with ws.registry().snapshot() as snap:
        items = queries.list_deployments(snap, tag_filter)
    if json_out:
        print_json(items)
        return 0
    rows = [
        (
            i["name"],
            f"{i['flow_name']}@{i['flow_version']}",
            i["namespace"] or '""',
            i["schedule"] or "-",
            i["deployment_version"],
            tags_text(i["tags"]),
            i["updated_at"],
        )
        for i in items
    ]
    print_table(("deployment", "flow", "namespace", "schedule", "dv", "tags", "updated"), rows)
    note(f"{len(items)} deployment{_s(items)}")
    return 0


def _s(items: Sized) -> str:
    return "" if len(items) == 1 else "s"
