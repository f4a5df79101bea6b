"""Deploy: compare what the work tree holds with the registry, then write what changed.

`make_intents` turns targets into what each should look like in the registry (pure, from
the work tree); `plan` compares intents with one registry snapshot and decides, per
DESIGN.md's table, what to write (pure); `deploy` runs plan → write, re-planning against
the new state whenever another writer won a race (locally or on the remote).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from . import gitio
from .errors import DagyError, RefusedError
from .hashing import code_hash
from .names import validate_name, validate_namespace, validate_tags, validate_version
from .spec import DeploymentRecord, FlowRecord, FlowSpec

if TYPE_CHECKING:
    from .analyze import AnalyzedFlow
    from .registry import FlowVersionWrite, Snapshot, Transaction
    from .targets import Target
    from .workspace import Workspace

STATUSES = ("registered", "updated", "metadata", "skipped")


@dataclass(frozen=True)
class DeployOptions:
    """What the caller asked for, beyond the targets themselves."""

    deployment: str | None = None
    namespace: str | None = None
    flow_name: str | None = None
    flow_version: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    schedule: str | None = None
    parameters: dict[str, Any] | None = None
    force: bool = False
    dry_run: bool = False
    push: bool = False
    remote: str | None = None
    atomic: bool = True


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
class DeployReport:
    """The outcome of one deploy command."""

    registry_commit: str | None
    results: list[DeployResult]
    dry_run: bool = False
    pushed: bool = False
    attempts: int = 1

    def to_json(self) -> dict[str, Any]:
        """`{registry_commit, results: [...]}` plus a few extra fields."""
        return {
            "registry_commit": self.registry_commit,
            "results": [r.to_json() for r in self.results],
            "dry_run": self.dry_run,
            "pushed": self.pushed,
        }

    def count(self, *statuses: str) -> int:
        """How many results have one of these statuses."""
        return sum(r.status in statuses for r in self.results)


def utc_now() -> str:
    """The registry's timestamp format: ISO 8601, UTC, milliseconds."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


# ---------------------------------------------------------------------------------------
# intents: from the work tree


def make_intents(ws: Workspace, targets: list[Target], opts: DeployOptions) -> list[Intent]:
    """Resolve namespace, version, name and tags of every target; validate everything."""
    from .config import inherited_tags
    from .namespace import resolve_namespace

    explicit_tags = validate_tags(opts.tags)
    if opts.deployment is not None:
        validate_name(opts.deployment, "deployment name")
        if len(targets) != 1:
            raise DagyError(
                f"--deployment names one deployment, but {len(targets)} flows were given"
            )
    if opts.flow_name is not None:
        validate_name(opts.flow_name)
    if opts.flow_version is not None:
        validate_version(opts.flow_version)
    if opts.namespace is not None:
        validate_namespace(opts.namespace)
    if opts.schedule is not None:
        from .config import validate_schedule

        validate_schedule(opts.schedule)
    dirty = gitio.dirty_paths(ws.root, sorted({t.rel_path for t in targets if t.source is None}))
    intents: list[Intent] = []
    for target in targets:
        entry = target.deployment
        spec = target.flow.spec
        name = opts.flow_name or spec.name
        version = opts.flow_version or (entry.flow_version if entry else None) or spec.version
        if (name, version) != (spec.name, spec.version):
            spec = spec.model_copy(update={"name": name, "version": version})
        chash = code_hash(spec.to_json(), target.flow.source_file_hash)
        explicit_ns = opts.namespace or (entry.namespace if entry else None) or target.namespace
        namespace = resolve_namespace(explicit_ns, target.file_path, ws.settings, ws.cwd)
        flow_tags = {**inherited_tags(ws.manifests, target.rel_path), **explicit_tags}
        intents.append(
            Intent(
                spec=spec,
                code_hash=chash,
                source_file_hash=target.flow.source_file_hash,
                namespace=namespace,
                source_path=target.rel_path,
                source=target.read_source(),
                dirty=target.source is None and target.rel_path in dirty,
                flow_tags=flow_tags,
                deployment=entry.name if entry else opts.deployment,
                deployment_tags=dict(entry.tags) if entry else explicit_tags,
                schedule=entry.schedule if entry else opts.schedule,
                parameters=dict(entry.parameters) if entry else opts.parameters,
                authoritative=entry is not None,
            )
        )
    _check_consistent(intents)
    return intents


def _check_consistent(intents: list[Intent]) -> None:
    """One command may not ask for two different things under one name."""
    by_key: dict[tuple[str, str], Intent] = {}
    by_deployment: dict[str, Intent] = {}
    for intent in intents:
        other = by_key.setdefault(intent.key, intent)
        if other is not intent and (
            other.code_hash != intent.code_hash or other.namespace != intent.namespace
        ):
            raise RefusedError(
                f"{intent.key[0]}@{intent.key[1]} is defined twice with different code or "
                f"namespace: {other.source_path} and {intent.source_path}",
                hint="give one of them another name or version",
            )
        if intent.deployment:
            seen = by_deployment.setdefault(intent.deployment, intent)
            if seen is not intent:
                raise RefusedError(
                    f"deployment {intent.deployment!r} is targeted twice in one deploy "
                    f"({seen.source_path} and {intent.source_path})"
                )


# ---------------------------------------------------------------------------------------
# plan: intents vs one registry snapshot (pure)


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
    opts: DeployOptions,
    immutable: bool,
) -> tuple[str, str]:
    """DESIGN.md's deploy table for a flow version: (action, reason)."""
    if record is None:
        return "registered", "first deploy"
    if record.code_hash is None:
        return "registered", "legacy record without code_hash"
    if record.code_hash != intent.code_hash:
        if immutable and not opts.force:
            raise RefusedError(
                f"{intent.spec.name}@{intent.spec.version} is already registered with other code "
                f"(code_hash {record.code_hash[:12]}, now {intent.code_hash[:12]}) and "
                "immutable_versions is on",
                hint=f"bump version= in {intent.source_path}, or pass --force",
            )
        return "updated", "code_hash changed"
    if new_tags != stored_tags:
        return "metadata", "tags changed"
    if opts.force:
        return "updated", "forced"
    return "skipped", "code_hash unchanged"


def plan(
    intents: list[Intent],
    snap: Snapshot,
    opts: DeployOptions,
    now: str,
    source_commit: str | None,
    mutable_versions: tuple[str, ...] = ("latest",),
    immutable_versions: bool = False,
) -> Plan:
    """Decide, per target, what the registry needs (DESIGN.md "Deploy")."""
    from .registry import FlowVersionWrite

    records = snap.records(sorted({i.key for i in intents}))
    flow_writes: dict[tuple[str, str], FlowVersionWrite] = {}
    flow_outcome: dict[tuple[str, str], tuple[str, str, dict[str, str]]] = {}
    for intent in intents:
        if intent.key in flow_outcome:
            continue
        name, version = intent.key
        record = records.get(intent.key)
        if record is not None and record.namespace != intent.namespace:
            raise RefusedError(
                f"{name}@{version} is registered in namespace {record.namespace!r}; "
                f"this deploy would put it in {intent.namespace!r} ({intent.source_path})",
                hint="a flow version's namespace never changes: deploy a new version, or pass "
                f"--namespace {record.namespace!r}"
                if record.namespace
                else "a flow version's namespace never changes: deploy a new version",
            )
        stored_tags = snap.flow_tags(name, version) if record else {}
        new_tags = {**stored_tags, **intent.flow_tags}
        immutable = immutable_versions and version not in mutable_versions
        action, reason = _flow_decision(intent, record, stored_tags, new_tags, opts, immutable)
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
        if intent.deployment:
            dep, dep_action, dep_reason = _deployment(intent, snap, tags, opts, now, action)
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
    opts: DeployOptions,
    now: str,
    flow_action: str,
) -> tuple[DeploymentRecord, str, str]:
    """The deployment record an intent asks for, and whether it is new, changed or the same."""
    assert intent.deployment is not None  # callers check; not user input
    old = snap.deployment(intent.deployment)
    if old is not None and old.flow_name != intent.spec.name:
        raise RefusedError(
            f"deployment {intent.deployment!r} deploys flow {old.flow_name!r}, "
            f"not {intent.spec.name!r} ({intent.source_path})",
            hint="choose another deployment name",
        )
    keep = old is not None and not intent.authoritative
    schedule = intent.schedule if intent.schedule is not None or not keep else old.schedule  # type: ignore[union-attr]
    parameters = (
        intent.parameters if intent.parameters is not None or not keep else old.parameters  # type: ignore[union-attr]
    ) or {}
    tags = {**flow_tags, **intent.deployment_tags}
    new = DeploymentRecord(
        name=intent.deployment,
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
    )
    if old is None:
        return new, "registered", "new deployment"
    same = new.model_dump(
        exclude={"deployment_version", "created_at", "updated_at"}
    ) == old.model_dump(exclude={"deployment_version", "created_at", "updated_at"})
    if same and not opts.force and flow_action in ("skipped", "metadata"):
        return old, "skipped", "unchanged"
    bumped = new.model_copy(update={"deployment_version": old.deployment_version + 1})
    changed = [
        f
        for f in ("flow_version", "namespace", "code_hash", "tags", "schedule", "parameters")
        if getattr(new, f) != getattr(old, f)
    ]
    return bumped, "metadata", (f"{', '.join(changed)} changed" if changed else "forced")


# ---------------------------------------------------------------------------------------
# apply: plan against the registry, write, retry when another writer won


def run_deploy(ws: Workspace, targets: list[Target], opts: DeployOptions) -> DeployReport:
    """Deploy `targets`: one registry commit for all of them (or none when nothing changed)."""
    from .publish import commit_with_retry
    from .registry import Transaction

    intents = make_intents(ws, targets, opts)
    source_commit = gitio.head_commit(ws.root)
    if source_commit is None:
        raise DagyError("the repository has no commit yet", hint="commit your flows, then deploy")
    settings = ws.settings

    def attempt(snap: Snapshot) -> tuple[Plan, Transaction | None]:
        p = plan(
            intents,
            snap,
            opts,
            utc_now(),
            source_commit,
            settings.mutable_versions,
            settings.immutable_versions,
        )
        if not p.writes:
            return p, None
        return p, Transaction(
            flows=p.flows, deployments=p.deployments, drafts={}, subject=_subject(p)
        )

    outcome = commit_with_retry(
        ws.registry(),
        attempt,
        push=opts.push,
        remote=ws.remote(opts.remote),
        atomic=opts.atomic,
        dry_run=opts.dry_run,
    )
    return DeployReport(
        registry_commit=outcome.commit,
        results=outcome.value.results,
        dry_run=opts.dry_run,
        pushed=outcome.pushed,
        attempts=outcome.attempts,
    )


def _subject(p: Plan) -> str:
    counts = {s: sum(r.status == s for r in p.results) for s in STATUSES[:3]}
    parts = [f"{n} {s}" for s, n in counts.items() if n]
    return "deploy: " + (", ".join(parts) or "no changes")


def deploy_sdk(
    flow: AnalyzedFlow,
    file_path: Path,
    *,
    name: str | None = None,
    namespace: str | None = None,
    tags: dict[str, str] | None = None,
    schedule: str | None = None,
    parameters: dict[str, Any] | None = None,
    force: bool = False,
    push: bool = False,
    flow_version: str | None = None,
    dry_run: bool = False,
    remote: str | None = None,
) -> DeployResult:
    """`my_flow.deploy(...)`: the CLI's deploy of one flow, returning its one result."""
    from .targets import Target
    from .workspace import open_workspace

    file_path = file_path.resolve()
    ws = open_workspace(Path.cwd(), within=file_path.parent)
    opts = DeployOptions(
        deployment=name,
        namespace=namespace,
        flow_version=flow_version,
        tags=dict(tags or {}),
        schedule=schedule,
        parameters=parameters,
        force=force,
        dry_run=dry_run,
        push=push,
        remote=remote,
    )
    report = run_deploy(ws, [Target(flow, file_path, ws.rel(file_path))], opts)
    return report.results[0]
