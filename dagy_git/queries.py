"""Questions asked of the registry: which flow versions, filtered by namespace and tags."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dagy_git.cron import describe_schedule
from dagy_git.errors import DagyError

if TYPE_CHECKING:
    from dagy_git.registry import Registry, Snapshot
    from dagy_git.registry.log import HistoryQuery


@dataclass(frozen=True)
class TagFilter:
    """`--tag` pairs that must all match (AND) and `--any-tag` pairs of which one must (OR)."""

    all_of: dict[str, str]
    any_of: list[tuple[str, str]]

    def matches(self, tags: dict[str, str]) -> bool:
        """Whether a tag mapping passes this filter."""
        if any(tags.get(k) != v for k, v in self.all_of.items()):
            return False
        return not self.any_of or any(tags.get(k) == v for k, v in self.any_of)


def in_namespace(namespace: str, wanted: str | None) -> bool:
    """`wanted` matches itself and everything below it (`data` ⊃ `data/orders`, not `database`)."""
    if wanted is None or wanted == "":
        return True
    wanted = wanted.strip("/")
    return namespace == wanted or namespace.startswith(wanted + "/")


def list_item(record: Mapping[str, Any], tags: dict[str, str]) -> dict[str, Any]:
    """A FlowListItem (the spec's API model) from a record (a `FlowRecord` dump or the
    plain dict `Snapshot.record_dicts` reads)."""
    return {
        "flow_name": record["flow_name"],
        "flow_version": record["flow_version"],
        "namespace": record["namespace"],
        "tags": tags,
        "code_hash": record["code_hash"],
        "updated_at": record["updated_at"],
    }


def list_flows(snap: Snapshot, namespace: str | None, tags: TagFilter) -> list[dict[str, Any]]:
    """FlowListItems of every registered version that passes the filters, by name and version."""
    all_tags = snap.all_flow_tags()
    keys = [k for k, t in all_tags.items() if tags.matches(t)]
    records = snap.record_dicts(keys)
    items = [
        list_item(rec, all_tags[key])
        for key, rec in records.items()
        if in_namespace(rec["namespace"], namespace)
    ]
    return sorted(items, key=lambda i: (i["flow_name"], i["flow_version"]))


def resolve_version(snap: Snapshot, name: str, version: str | None) -> str:
    """The version a `FLOW[@VERSION]` means: a bare FLOW is its most recently deployed one."""
    if version is not None:
        return version
    latest = snap.latest_version(name)
    if latest is None:
        raise DagyError(f"flow {name!r} is not registered", hint="see `dagy-git list`")
    return latest


def flow_detail(snap: Snapshot, name: str, version: str | None) -> dict[str, Any]:
    """A FlowDetailResponse: the list fields plus spec, source and registration time.

    Reads that flow version's files and the deployments folder, never the whole registry.
    """
    version = resolve_version(snap, name, version)
    record = snap.record_dicts([(name, version)]).get((name, version))
    if record is None:
        known = snap.versions(name)
        raise DagyError(
            f"{name}@{version} is not registered",
            hint=f"registered versions: {', '.join(known)}" if known else "see `dagy-git list`",
        )
    mine = _deployments_of(snap, name, version)
    detail = list_item(record, snap.flow_tags(name, version))
    detail.update(
        flow_spec=snap.spec(name, version),
        source_path=record["source_path"],
        source_commit=record["source_commit"],
        registered_at=record["registered_at"],
        source_file_hash=record["source_file_hash"],
        dirty=record["dirty"],
        deployments=[d["name"] for d in mine],
    )
    return detail


def _deployments_of(snap: Snapshot, name: str, version: str) -> list[dict[str, Any]]:
    return [
        d
        for d in snap.deployment_dicts()
        if d["flow_name"] == name and d["flow_version"] == version
    ]


def schedules_in_words(snap: Snapshot, name: str, version: str) -> dict[str, str]:
    """`{deployment: "0 6 * * 1-5 (At 06:00, Monday through Friday (UTC))"}` for the
    scheduled deployments of one flow version, for people reading `show`."""
    return {
        d["name"]: f"{d['schedule']}  ({describe_schedule(d['schedule'], d['timezone'])})"
        for d in _deployments_of(snap, name, version)
        if d["schedule"]
    }


def deployment_item(d: Mapping[str, Any]) -> dict[str, Any]:
    """A deployment as `deployments --json` prints it (from a `DeploymentRecord` dump or
    the plain dict `Snapshot.deployment_dicts` reads)."""
    schedule, zone = d["schedule"], d.get("timezone")
    return {
        "name": d["name"],
        "flow_name": d["flow_name"],
        "flow_version": d["flow_version"],
        "namespace": d["namespace"],
        "tags": d["tags"],
        "schedule": schedule,
        "timezone": zone,
        "schedule_description": describe_schedule(schedule, zone) if schedule else None,
        "parameters": d["parameters"],
        "deployment_version": d["deployment_version"],
        "code_hash": d["code_hash"],
        "updated_at": d["updated_at"],
    }


def list_deployments(
    snap: Snapshot, tags: TagFilter, names: list[str] | None = None
) -> list[dict[str, Any]]:
    """Deployments (only `names`, when given) whose tags pass the filter, by name."""
    return [deployment_item(d) for d in snap.deployment_dicts(names) if tags.matches(d["tags"])]


def history(
    registry: Registry, query: HistoryQuery, limit: int | None = None
) -> list[dict[str, Any]]:
    """`log --json` items, newest first: the registry's history as `query` narrows it, each
    saying what changed and who wrote the source commit deployed (`source_author`)."""
    from dagy_git.registry.log import read_history

    return [e.to_json() for e in read_history(registry.root, registry.tip(), query, limit)]
