"""Plan a deploy: compare what targets want with one registry snapshot (pure).

DESIGN.md's table, per flow version: no record → register; a legacy record without
code_hash → register; code_hash differs → update; same code, other tags → metadata;
nothing differs → skip (unless forced). A deployment is written when anything it binds
changed, and its `deployment_version` then goes up by one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagy_git.errors import RefusedError
from dagy_git.models import DeploymentRecord, FlowRecord, FlowSpec

if TYPE_CHECKING:
    from dagy_git.registry import FlowVersionWrite, Snapshot

STATUSES = ("registered", "updated", "metadata", "skipped")


@dataclass(frozen=True)
class Intent:
    """What one target should look like in the registry."""

    spec: FlowSpec
    code_hash: str
    source_file_hash: str
    namespace: str
    source_path: str
    source: bytes
    dirty: bool
    flow_tags: dict[str, str]
    deployment: str | None = None
    deployment_tags: dict[str, str] = field(default_factory=dict)
    # None = keep what the deployment has (CLI/SDK); manifests always say (authoritative).
    schedule: str | None = None
    parameters: dict[str, Any] | None = None
    authoritative: bool = False
    timezone: str | None = None
    analysis: dict[str, Any] | None = None  # what record.json keeps (`registry_cache.py`)

    @property
    def key(self) -> tuple[str, str]:
        return self.spec.name, self.spec.version


@dataclass
class DeployResult:
    """One row of `deploy --json`: what happened to one target."""

    flow_name: str
    flow_version: str
    deployment_name: str | None
    namespace: str
    tags: dict[str, str]
    code_hash: str
    status: str
    deployment_version: int | None
    reason: str
    source_path: str = ""
    dirty: bool = False

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape (DESIGN.md); fields may be added, never renamed."""
        return dict(self.__dict__)


@dataclass
class Plan:
    """What to write, and what each target's result will be."""

    results: list[DeployResult]
    flows: list[FlowVersionWrite]
    deployments: list[DeploymentRecord]

    @property
    def writes(self) -> bool:
        return bool(self.flows or self.deployments)


def _flow_decision(
    intent: Intent,
    record: FlowRecord | None,
    stored_tags: dict[str, str],
    new_tags: dict[str, str],
    force: bool,
    immutable: bool,
) -> tuple[str, str]:
    """DESIGN.md's deploy table for a flow version: (action, reason)."""
    if record is None:
        return "registered", "first deploy"
    if record.code_hash is None:
        return "registered", "legacy record without code_hash"
    if record.code_hash != intent.code_hash:
        if immutable and not force:
            raise RefusedError(
                f"{intent.spec.name}@{intent.spec.version} is already registered with other code "
                f"(code_hash {record.code_hash[:12]}, now {intent.code_hash[:12]}) and "
                "immutable_versions is on",
                hint="bump the version (version= in the @flow of "
                f"{intent.source_path}, --flow-version, or flow_version in dagy.toml), "
                "or pass --force",
            )
        return "updated", "code_hash changed"
    if new_tags != stored_tags:
        return "metadata", "tags changed"
    if force:
        return "updated", "forced"
    return "skipped", "code_hash unchanged"


def _newer_reason(commit: str) -> str:
    return (
        f"the registry holds newer code, deployed from {commit[:12]}, a later commit than "
        "this checkout (--force deploys it anyway)"
    )


def plan(
    intents: list[Intent],
    snap: Snapshot,
    *,
    force: bool,
    now: str,
    source_commit: str | None,
    mutable_versions: tuple[str, ...] = ("latest",),
    immutable_versions: bool = False,
    newer: Callable[[str], bool] = lambda commit: False,
) -> Plan:
    """Decide, per target, what the registry needs (DESIGN.md "Deploy").

    `newer(commit)` says whether a registered source commit is a later commit than the
    one being deployed: code registered from it is never replaced by this older code
    (a CI run of an older commit that finishes last must not roll prod back).
    """
    from dagy_git.registry import FlowVersionWrite

    keys = sorted({i.key for i in intents})
    records = snap.records(keys)
    stored = snap.flow_tags_many([k for k in keys if k in records])
    flow_writes: dict[tuple[str, str], FlowVersionWrite] = {}
    flow_outcome: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {}
    stale: set[tuple[str, str]] = set()
    for intent in intents:
        if intent.key in flow_outcome:
            continue
        name, version = intent.key
        record = records.get(intent.key)
        if record is not None and record.namespace != intent.namespace:
            raise RefusedError(
                f"{name}@{version} is registered in namespace {record.namespace!r}; "
                f"this deploy would put it in {intent.namespace!r} ({intent.source_path})",
                hint="a flow version's namespace never changes: deploy it as a new version, "
                "or give this flow its registered namespace (--namespace when deploying it "
                "alone, or namespace = in its [[deployments]] entry)",
            )
        stored_tags = stored.get(intent.key, {})
        new_tags = {**stored_tags, **intent.flow_tags}
        immutable = immutable_versions and version not in mutable_versions
        if (
            not force
            and record is not None
            and record.code_hash not in (None, intent.code_hash)
            and record.source_commit
            and newer(record.source_commit)
        ):
            stale.add(intent.key)
            flow_outcome[intent.key] = ("skipped", _newer_reason(record.source_commit), stored_tags)
            continue
        action, reason = _flow_decision(intent, record, stored_tags, new_tags, force, immutable)
        flow_outcome[intent.key] = (action, reason, new_tags)
        if action == "skipped":
            continue
        code_changed = action in ("registered", "updated")
        flow_writes[intent.key] = FlowVersionWrite(
            record=FlowRecord(
                flow_name=name,
                flow_version=version,
                namespace=intent.namespace,
                code_hash=intent.code_hash,
                source_file_hash=intent.source_file_hash,
                source_path=intent.source_path if code_changed else record.source_path,  # type: ignore[union-attr]
                source_commit=source_commit if code_changed else record.source_commit,  # type: ignore[union-attr]
                dirty=intent.dirty if code_changed else record.dirty,  # type: ignore[union-attr]
                registered_at=record.registered_at if record else now,
                updated_at=now,
                analysis=intent.analysis or (record.analysis if record else None),
            ),
            spec=intent.spec.to_json(),
            tags=new_tags,
            source=(Path(intent.source_path).name, intent.source) if code_changed else None,
            action=action,
        )

    results: list[DeployResult] = []
    dep_writes: list[DeploymentRecord] = []
    for intent in intents:
        action, reason, tags = flow_outcome[intent.key]
        status, dep_version = action, None
        if intent.deployment and intent.key in stale:
            # its deployments stay bound to the newer code too
            current = snap.deployment(intent.deployment)
            dep_version = current.deployment_version if current else None
        elif intent.deployment:
            dep, dep_action, dep_reason = _deployment(intent, snap, tags, force, now, action)
            dep_version = dep.deployment_version
            if dep_action != "skipped":
                dep_writes.append(dep)
                if status in ("skipped", "metadata"):
                    status, reason = dep_action, dep_reason
            tags = dep.tags
        results.append(
            DeployResult(
                flow_name=intent.spec.name,
                flow_version=intent.spec.version,
                deployment_name=intent.deployment,
                namespace=intent.namespace,
                tags=tags,
                code_hash=intent.code_hash,
                status=status,
                deployment_version=dep_version,
                reason=reason,
                source_path=intent.source_path,
                dirty=intent.dirty,
            )
        )
    return Plan(results, list(flow_writes.values()), dep_writes)


def _deployment(
    intent: Intent,
    snap: Snapshot,
    flow_tags: dict[str, str],
    force: bool,
    now: str,
    flow_action: str,
) -> tuple[DeploymentRecord, str, str]:
    """The deployment record an intent asks for, and whether it is new, changed or the same."""
    name = intent.deployment or ""
    old = snap.deployment(name)
    if old is not None and old.flow_name != intent.spec.name and not force:
        raise RefusedError(
            f"deployment {name!r} deploys flow {old.flow_name!r}, "
            f"not {intent.spec.name!r} ({intent.source_path})",
            hint=f"if the flow was renamed, pass --force to move {name!r} to it; "
            "otherwise choose another deployment name",
        )
    keep = old is not None and not intent.authoritative
    schedule = intent.schedule if intent.schedule is not None or not keep else old.schedule  # type: ignore[union-attr]
    parameters = (
        intent.parameters if intent.parameters is not None or not keep else old.parameters  # type: ignore[union-attr]
    ) or {}
    tags = {**flow_tags, **intent.deployment_tags}
    tz = intent.timezone if intent.timezone is not None or not keep else old.timezone  # type: ignore[union-attr]
    new = DeploymentRecord(
        name=name,
        flow_name=intent.spec.name,
        flow_version=intent.spec.version,
        namespace=intent.namespace,
        tags=tags,
        schedule=schedule,
        parameters=parameters,
        deployment_version=1,
        code_hash=intent.code_hash,
        created_at=old.created_at if old else now,
        updated_at=now,
        timezone=tz,
    )
    if old is None:
        return new, "registered", "new deployment"
    same = new.model_dump(
        exclude={"deployment_version", "created_at", "updated_at"}
    ) == old.model_dump(exclude={"deployment_version", "created_at", "updated_at"})
    if same and not force and flow_action in ("skipped", "metadata"):
        return old, "skipped", "unchanged"
    bumped = new.model_copy(update={"deployment_version": old.deployment_version + 1})
    changed = [
        f
        for f in (
            *("flow_version", "namespace", "code_hash", "tags", "schedule", "timezone"),
            "parameters",
        )
        if getattr(new, f) != getattr(old, f)
    ]
    return bumped, "metadata", (f"{', '.join(changed)} changed" if changed else "forced")
