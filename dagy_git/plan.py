"""Plan a deploy: compare what targets want with one registry state (a pure function).

DESIGN.md's table, per flow version, in the order it is decided:

| registry holds                                            | status       |
|-----------------------------------------------------------|--------------|
| the last deploy came from a later commit (rollback guard) | all skipped  |
| no record for name+version                                | registered   |
| a legacy record without code_hash                         | registered   |
| other code, registered from a later commit                | skipped      |
| another code_hash (refused when immutable, unless forced) | updated      |
| same code_hash, another closure_hash (an imported module) | updated      |
| same code, other tags                                     | metadata     |
| nothing differs, forced                                   | updated      |
| nothing differs                                           | skipped      |

A record written before closures (no `closure_hash`) is compared by code_hash only; its
closure is recorded on its next code-writing deploy. A deployment is written when anything
it binds changed, and its `deployment_version` then goes up by one.

`plan` reads nothing: `RegistryState` is a plain value (built from a registry snapshot by
`deploy.read_state`, or by hand in tests), so every row is testable without git.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from dagy_git.errors import RefusedError
from dagy_git.models import DeploymentRecord, FlowRecord, SpecLike
from dagy_git.results import STATUSES, DeployResult, DeployResultJson, Status

if TYPE_CHECKING:
    from dagy_git.identity import Closure
    from dagy_git.registry import FlowVersionWrite

Key = tuple[str, str]


@dataclass(frozen=True)
class Intent:
    """What one target should look like in the registry."""

    spec: SpecLike  # a FlowSpec, or one read back from the registry (validated if written)
    code_hash: str
    source_file_hash: str
    namespace: str
    source_path: str
    source: bytes
    dirty: bool
    # The [tags] of the manifests above its file; None: not known here (an API deploy of a
    # registered version), so no manifest key is removed and their list is kept.
    manifest_tags: dict[str, str] | None = field(default_factory=dict)
    explicit_tags: dict[str, str] = field(default_factory=dict)  # --tag, the SDK's tags=
    deployment: str | None = None
    deployment_tags: dict[str, str] = field(default_factory=dict)
    # None = keep what the deployment has (CLI/SDK); manifests always say (authoritative).
    schedule: str | None = None
    parameters: dict[str, Any] | None = None
    authoritative: bool = False
    timezone: str | None = None
    analysis: dict[str, Any] | None = None  # what record.json keeps (`registry_cache.py`)
    closure: Closure | None = None  # None: unknown (an artifact built before closures)

    @property
    def key(self) -> Key:
        return self.spec.name, self.spec.version

    @property
    def flow_tags(self) -> dict[str, str]:
        """The tags this deploy sets on the flow version (explicit ones win)."""
        return {**(self.manifest_tags or {}), **self.explicit_tags}


@dataclass(frozen=True)
class RegistryState:
    """What `plan` knows of the registry: plain data, read from one snapshot."""

    commit: str | None = None
    records: dict[Key, FlowRecord] = field(default_factory=dict)
    tags: dict[Key, dict[str, str]] = field(default_factory=dict)
    deployments: dict[str, DeploymentRecord] = field(default_factory=dict)  # those targeted
    # Every deployment's name (for `deploy --all`'s undeclared list); None: not read.
    deployment_names: frozenset[str] | None = None
    # `{path: source_file_hash}` of the stored closure, for versions whose closure differs.
    stored_closures: dict[Key, dict[str, str]] = field(default_factory=dict)
    last_source_head: str | None = None  # the commit the registry was last deployed from
    later: frozenset[str] = frozenset()  # commits known to be later than the one deployed


@dataclass
class Plan:
    """What to write, and what each target's result will be."""

    results: list[DeployResult]
    flows: list[FlowVersionWrite]
    deployments: list[DeploymentRecord]
    retired: list[str] = field(default_factory=list)  # deployments removed (`--prune`)
    undeclared: list[str] = field(default_factory=list)  # deployments no manifest declares

    @property
    def writes(self) -> bool:
        return bool(self.flows or self.deployments or self.retired)


@dataclass(frozen=True)
class _FlowOutcome:
    status: Status
    reason: str
    tags: dict[str, str]
    stale: bool = False  # the registry holds newer code: its deployments stay too


def _newer_reason(commit: str) -> str:
    return (
        f"the registry holds newer code, deployed from {commit[:12]}, a later commit than "
        "this checkout (--force deploys it anyway)"
    )


def _tags(intent: Intent, record: FlowRecord | None, stored: dict[str, str]) -> dict[str, str]:
    """The flow version's new tags: a key a manifest set and no longer sets goes away
    (manifests are declarative); keys set explicitly (`tag`, `--tag`) stay until unset."""
    from_manifest = set(record.tags_from_manifest or []) if record else set()
    if intent.manifest_tags is None:
        from_manifest = set()  # what the manifests say is not known: remove nothing
    dropped = from_manifest - (intent.manifest_tags or {}).keys() - intent.explicit_tags.keys()
    kept = {k: v for k, v in stored.items() if k not in dropped}
    return {**kept, **intent.flow_tags}


def _code_change(intent: Intent, record: FlowRecord, state: RegistryState) -> str | None:
    """Why the code differs from the record's (None: it does not)."""
    if record.code_hash != intent.code_hash:
        return "code_hash changed"
    closure = intent.closure
    if record.closure_hash is None or closure is None or record.closure_hash == closure.hash:
        return None  # a record from before closures compares by code_hash only
    stored = state.stored_closures.get(intent.key, {})
    changed = [p for p in closure.changed_from(stored) if p != intent.source_path]
    if not stored or not changed:
        return "an imported repository module changed (closure_hash)"
    noun = "module" if len(changed) == 1 else "modules"
    return f"imported {noun} {', '.join(changed)} changed"


def _flow_decision(
    intent: Intent,
    record: FlowRecord | None,
    state: RegistryState,
    tags_changed: bool,
    force: bool,
    immutable: bool,
) -> tuple[Status, str, bool]:
    """DESIGN.md's deploy table for one flow version: (status, reason, stale)."""
    if record is None:
        return "registered", "first deploy", False
    if record.code_hash is None:
        return "registered", "legacy record without code_hash", False
    change = _code_change(intent, record, state)
    if change is not None and not force and record.source_commit in state.later:
        return "skipped", _newer_reason(record.source_commit or ""), True
    if change is not None:
        if immutable and not force:
            raise RefusedError(
                f"{intent.spec.name}@{intent.spec.version} is already registered with other code "
                f"({change}; code_hash {record.code_hash[:12]}, now {intent.code_hash[:12]}) "
                "and immutable_versions is on",
                hint="bump the version (version= in the @flow of "
                f"{intent.source_path}, --flow-version, or flow_version in dagy.toml), "
                "or pass --force",
            )
        return "updated", change, False
    if tags_changed:
        return "metadata", "tags changed", False
    if force:
        return "updated", "forced", False
    return "skipped", "code_hash unchanged", False


def _check_namespace(intent: Intent, record: FlowRecord | None) -> None:
    if record is not None and record.namespace != intent.namespace:
        name, version = intent.key
        raise RefusedError(
            f"{name}@{version} is registered in namespace {record.namespace!r}; "
            f"this deploy would put it in {intent.namespace!r} ({intent.source_path})",
            hint="a flow version's namespace never changes: deploy it as a new version, "
            "or give this flow its registered namespace (--namespace when deploying it "
            "alone, or namespace = in its [[deployments]] entry)",
        )


def _flow_write(
    intent: Intent,
    record: FlowRecord | None,
    status: Status,
    tags: dict[str, str],
    now: str,
    source_commit: str | None,
) -> FlowVersionWrite:
    """The flow version files a decision writes (code only when the code is written)."""
    from dagy_git.registry import FlowVersionWrite

    code = status in ("registered", "updated") or record is None
    closure = intent.closure if code else None
    old = record
    new = FlowRecord(
        flow_name=intent.spec.name,
        flow_version=intent.spec.version,
        namespace=intent.namespace,
        code_hash=intent.code_hash,
        source_file_hash=intent.source_file_hash,
        source_path=intent.source_path if code or old is None else old.source_path,
        source_commit=source_commit if code or old is None else old.source_commit,
        dirty=intent.dirty if code or old is None else old.dirty,
        registered_at=old.registered_at if old else now,
        updated_at=now,
        closure_hash=closure.hash
        if closure
        else (None if code or old is None else old.closure_hash),
        tags_from_manifest=_manifest_keys(intent, old),
        analysis=intent.analysis or (old.analysis if old else None),
    )
    return FlowVersionWrite(
        record=new,
        spec=intent.spec.to_json(),
        tags=tags,
        source=(PurePosixPath(intent.source_path).name, intent.source) if code else None,
        action=status,
        closure=dict(closure.files) if closure else {},
    )


def _manifest_keys(intent: Intent, record: FlowRecord | None) -> list[str] | None:
    """The tag keys the manifests own after this write (explicit keys are the user's)."""
    if intent.manifest_tags is not None:
        return sorted(k for k in intent.manifest_tags if k not in intent.explicit_tags)
    if record is None or record.tags_from_manifest is None:
        return None
    return [k for k in record.tags_from_manifest if k not in intent.explicit_tags]


def plan(
    intents: list[Intent],
    state: RegistryState,
    *,
    force: bool,
    now: str,
    source_commit: str | None,
    mutable_versions: tuple[str, ...] = ("latest",),
    immutable_versions: bool = False,
    declared: frozenset[str] | None = None,
    prune: bool = False,
) -> Plan:
    """Decide, per target, what the registry needs (DESIGN.md "Deploy").

    `declared` (for `deploy --all`) names every deployment the manifests declare: the
    registry's others are listed as undeclared, and retired in the same commit with `prune`.
    """
    last = state.last_source_head
    if not force and last is not None and last in state.later:
        # The registry was last deployed from a later commit: this older run must not roll
        # its code, schedules or parameters back (CI runs finishing out of order).
        reason = (
            f"the registry was last deployed from {last[:12]}, a later commit than this "
            "checkout (--force deploys it anyway)"
        )
        return _all_skipped(intents, state, reason, declared)
    flow_writes: dict[Key, FlowVersionWrite] = {}
    outcomes: dict[Key, _FlowOutcome] = {}
    for intent in intents:
        if intent.key in outcomes:
            continue
        record = state.records.get(intent.key)
        _check_namespace(intent, record)
        stored = state.tags.get(intent.key, {})
        new_tags = _tags(intent, record, stored)
        immutable = immutable_versions and intent.key[1] not in mutable_versions
        status, reason, stale = _flow_decision(
            intent, record, state, new_tags != stored, force, immutable
        )
        outcomes[intent.key] = _FlowOutcome(status, reason, stored if stale else new_tags, stale)
        if status != "skipped":
            flow_writes[intent.key] = _flow_write(
                intent, record, status, new_tags, now, source_commit
            )

    results: list[DeployResult] = []
    dep_writes: list[DeploymentRecord] = []
    for intent in intents:
        out = outcomes[intent.key]
        status, reason, tags, dep_version = out.status, out.reason, out.tags, None
        if intent.deployment and out.stale:
            current = state.deployments.get(intent.deployment)  # stays bound to the newer code
            dep_version = current.deployment_version if current else None
        elif intent.deployment:
            dep, dep_status, dep_reason = _deployment(intent, state, tags, force, now, status)
            dep_version = dep.deployment_version
            if dep_status != "skipped":
                dep_writes.append(dep)
                if status in ("skipped", "metadata"):
                    status, reason = dep_status, dep_reason
            tags = dep.tags
        results.append(_result(intent, status, reason, tags, dep_version))
    undeclared = _undeclared(intents, state, declared)
    return Plan(
        results, list(flow_writes.values()), dep_writes, undeclared if prune else [], undeclared
    )


def _result(
    intent: Intent, status: Status, reason: str, tags: dict[str, str], version: int | None
) -> DeployResult:
    return DeployResult(
        flow_name=intent.spec.name,
        flow_version=intent.spec.version,
        deployment_name=intent.deployment,
        namespace=intent.namespace,
        tags=tags,
        code_hash=intent.code_hash,
        status=status,
        deployment_version=version,
        reason=reason,
        source_path=intent.source_path,
        dirty=intent.dirty,
    )


def _undeclared(
    intents: list[Intent], state: RegistryState, declared: frozenset[str] | None
) -> list[str]:
    if declared is None or state.deployment_names is None:
        return []
    targeted = {i.deployment for i in intents if i.deployment}
    return sorted(state.deployment_names - declared - targeted)


def _all_skipped(
    intents: list[Intent], state: RegistryState, reason: str, declared: frozenset[str] | None
) -> Plan:
    """Nothing written: every target skipped, deployments at their current version."""
    results = []
    for intent in intents:
        current = state.deployments.get(intent.deployment) if intent.deployment else None
        version = current.deployment_version if current else None
        tags = current.tags if current else state.tags.get(intent.key, {})
        results.append(_result(intent, "skipped", reason, tags, version))
    return Plan(results, [], [], [], _undeclared(intents, state, declared))


def _deployment(
    intent: Intent,
    state: RegistryState,
    flow_tags: dict[str, str],
    force: bool,
    now: str,
    flow_status: Status,
) -> tuple[DeploymentRecord, Status, str]:
    """The deployment record an intent asks for, and whether it is new, changed or the same."""
    name = intent.deployment or ""
    old = state.deployments.get(name)
    if old is not None and old.flow_name != intent.spec.name and not force:
        raise RefusedError(
            f"deployment {name!r} deploys flow {old.flow_name!r}, "
            f"not {intent.spec.name!r} ({intent.source_path})",
            hint=f"if the flow was renamed, pass --force to move {name!r} to it; "
            "otherwise choose another deployment name",
        )
    keep = old is not None and not intent.authoritative
    schedule = intent.schedule
    parameters = intent.parameters
    tz = intent.timezone
    if old is not None and keep:
        schedule = schedule if schedule is not None else old.schedule
        parameters = parameters if parameters is not None else old.parameters
        tz = tz if tz is not None else old.timezone
    new = DeploymentRecord(
        name=name,
        flow_name=intent.spec.name,
        flow_version=intent.spec.version,
        namespace=intent.namespace,
        tags={**flow_tags, **intent.deployment_tags},
        schedule=schedule,
        parameters=parameters or {},
        deployment_version=1,
        code_hash=intent.code_hash,
        created_at=old.created_at if old else now,
        updated_at=now,
        timezone=tz,
    )
    if old is None:
        return new, "registered", "new deployment"
    fields = (
        *("flow_version", "namespace", "code_hash", "tags", "schedule", "timezone"),
        "parameters",
    )
    changed = [f for f in fields if getattr(new, f) != getattr(old, f)]
    same = not changed and new.flow_name == old.flow_name
    if same and not force and flow_status in ("skipped", "metadata"):
        return old, "skipped", "unchanged"
    bumped = new.model_copy(update={"deployment_version": old.deployment_version + 1})
    if changed:
        return bumped, "metadata", f"{', '.join(changed)} changed"
    return bumped, "metadata", "forced" if force else "flow code changed"


__all__ = [
    "STATUSES",
    "DeployResult",
    "DeployResultJson",
    "Intent",
    "Plan",
    "RegistryState",
    "Status",
    "plan",
]
