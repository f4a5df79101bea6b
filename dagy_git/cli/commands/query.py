"""`dagy-git list | show | log | deployments`: read-only questions to the registry."""

from __future__ import annotations

from collections.abc import Sequence, Sized
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagy_git import queries
from dagy_git.cli.output import note, print_json, print_table, say, short, tags_text
from dagy_git.cli.parsing import parse_tags
from dagy_git.errors import DagyError
from dagy_git.hashing import canonical_json
from dagy_git.names import (
    parse_flow_ref,
    parse_key_value,
    validate_name,
    validate_namespace,
    validate_version,
)
from dagy_git.workspace import Workspace, open_workspace

if TYPE_CHECKING:
    from dagy_git.registry import Registry


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
    namespace: str | None,
    tags: list[str],
    any_tags: list[str],
    json_out: bool,
    cwd: Path,
    fmt: str = "table",
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
    print_table(("flow", "version", "namespace", "tags", "hash", "updated"), rows, fmt=fmt)
    if fmt != "tsv":
        note(f"{len(items)} flow version{_s(items)}")
    return 0


def show(ref: str, json_out: bool, cwd: Path) -> int:
    """Show one flow version."""
    name, version = parse_flow_ref(ref)
    ws = _open(cwd)
    with ws.registry().snapshot() as snap:
        detail = queries.flow_detail(snap, name, version)
        schedules = (
            {} if json_out else queries.schedules_in_words(snap, name, detail["flow_version"])
        )
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
    for dep, when in schedules.items():
        say(f"{'  ' + dep + ':':18}{when}")
    spec = detail["flow_spec"] or {}
    tasks = spec.get("tasks", [])
    say(f"{'tasks:':18}" + (", ".join(t["id"] for t in tasks) or "-"))
    say(f"{'edges:':18}" + (", ".join(f"{a} -> {b}" for a, b in spec.get("edges", [])) or "-"))
    say(f"{'spec:':18}{canonical_json(spec)}")
    return 0


def log(
    flow: str | None,
    version: str | None,
    deployment: str | None,
    limit: int | None,
    since: str | None,
    json_out: bool,
    fmt: str,
    cwd: Path,
) -> int:
    """The registry's history, newest first: all of it, one flow's, or one deployment's."""
    from dagy_git.registry.log import HistoryQuery

    if flow is not None:
        validate_name(flow)
    if version is not None:
        if flow is None:
            raise DagyError(
                "--flow-version needs a FLOW", hint="dagy-git log FLOW --flow-version V"
            )
        validate_version(version)
    if deployment is not None:
        if flow is not None:
            raise DagyError("give a FLOW or --deployment, not both")
        validate_name(deployment, "deployment name")
    if since is not None and not since.strip():
        raise DagyError("--since needs a date, e.g. 2026-01-31 or '2 weeks ago'")
    ws = _open(cwd)
    registry = ws.registry()
    query = HistoryQuery(flow_name=flow, version=version, deployment=deployment, since=since)
    items = queries.history(registry, query, limit)
    if not items and since is None:
        _unknown(registry, flow, version, deployment)
    if json_out:
        print_json(items)
        return 0
    rows = [
        (
            i["date"],
            _who(i),
            _what(i),
            i["action"],
            "; ".join(i["changes"]) or "-",
            short(i["source_commit"]),
            short(i["commit"]),
        )
        for i in items
    ]
    print_table(("date", "by", "what", "action", "changes", "source", "registry"), rows, fmt=fmt)
    if fmt != "tsv":
        note(f"{len(items)} entr{'y' if len(items) == 1 else 'ies'}")
    return 0


def _who(item: dict[str, Any]) -> str:
    """Who deployed, and who wrote the deployed commit when that was someone else."""
    source = item.get("source_author")
    if source and source != item["author"]:
        return f"{item['author']} (code: {source})"
    return str(item["author"])


def _what(item: dict[str, Any]) -> str:
    """The flow version or deployment an entry is about."""
    if item["kind"] == "deployment":
        return f"{item['deployments'][0]} {item['flow_name']}@{item['flow_version']}"
    if item["kind"] == "retired":
        return str(item["deployment_name"])
    if item["kind"] == "registry":
        return "registry"
    what = f"{item['flow_name']}@{item['flow_version']}"
    return what + (f" {', '.join(item['deployments'])}" if item["deployments"] else "")


def _unknown(registry: Registry, flow: str | None, version: str | None, dep: str | None) -> None:
    """An empty history of something never registered is a mistake, as `show` says."""
    with registry.snapshot() as snap:
        if flow is not None:
            known = sorted(v for n, v in snap.flow_versions() if n == flow)
            if not known:
                raise DagyError(f"flow {flow!r} is not registered", hint="see `dagy-git list`")
            if version is not None and version not in known:
                raise DagyError(
                    f"{flow}@{version} is not registered",
                    hint=f"registered versions: {', '.join(known)}",
                )
        if dep is not None and snap.deployment(dep) is None:
            raise DagyError(
                f"deployment {dep!r} was never deployed", hint="see `dagy-git deployments`"
            )


def list_deployments(
    tags: list[str], json_out: bool, cwd: Path, fmt: str = "table", names: Sequence[str] = ()
) -> int:
    """List deployments (all, or the named ones: a read of those alone) by tags."""
    for name in names:
        validate_name(name, "deployment name")
    tag_filter = _filter(tags, [])
    ws = _open(cwd)
    with ws.registry().snapshot() as snap:
        items = queries.list_deployments(snap, tag_filter, list(names) or None)
        missing = [n for n in names if not snap.deployment_dicts([n])]
    if missing:
        raise DagyError(
            f"no deployment named {', '.join(map(repr, missing))}",
            hint="see `dagy-git deployments`",
        )
    if json_out:
        print_json(items)
        return 0
    rows = [
        (
            i["name"],
            f"{i['flow_name']}@{i['flow_version']}",
            i["namespace"] or '""',
            _schedule(i, fmt),
            i["deployment_version"],
            tags_text(i["tags"]),
            i["updated_at"],
        )
        for i in items
    ]
    print_table(
        ("deployment", "flow", "namespace", "schedule", "dv", "tags", "updated"), rows, fmt=fmt
    )
    if fmt != "tsv":
        note(f"{len(items)} deployment{_s(items)}")
    return 0


def _schedule(item: dict[str, Any], fmt: str) -> str:
    """The schedule as written and, for people, in words with its time zone."""
    if not item["schedule"]:
        return "-"
    if fmt == "tsv":
        return str(item["schedule"])
    return f"{item['schedule']}: {item['schedule_description']}"


def _s(items: Sized) -> str:
    return "" if len(items) == 1 else "s"
