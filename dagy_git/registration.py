"""Register a flow spec, or (re-)deploy a registered version, without a work tree.

What `POST /flows` and `POST /deployments` do. Both build the same `plan.Intent` a CLI deploy
builds and go through the same decision table (`plan.plan`), the same one-commit
transaction and the same retry loop (`registry.retry.commit_with_retry`), so a request
racing a CLI deploy loses nothing and `deployment_version` never repeats.

A spec registered here has no work-tree commit behind it, so unless the caller names a
commit of the repository as `source_commit` no version git tag is made (a tag on some
other commit would lie about the code).
"""

from __future__ import annotations

import posixpath
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from dagy_git.deploy import DeployOptions, check_options, read_state, utc_now
from dagy_git.errors import DagyError, InvalidNameError, NotFoundError, RegistryError
from dagy_git.gitobjects import parse_tree
from dagy_git.hashing import code_hash, source_file_hash
from dagy_git.models import FlowSpec
from dagy_git.names import (
    decode_version,
    encode_version,
    validate_name,
    validate_namespace,
    validate_parameters,
    validate_tags,
    validate_version,
)
from dagy_git.plan import Intent, Plan, plan

if TYPE_CHECKING:
    from dagy_git.config import Settings
    from dagy_git.registry import Registry, Snapshot, Transaction
    from dagy_git.registry.retry import Outcome

__all__ = ["Registration", "deploy_version", "register_flow", "spec_code_hash"]

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_COMMIT = re.compile(r"[0-9a-f]{40}([0-9a-f]{24})?\Z")


@dataclass(frozen=True)
class Registration:
    """A flow spec to register, with its source text or only the source's hash."""

    spec: FlowSpec
    source: bytes | None = None
    source_file_hash: str | None = None
    source_path: str | None = None  # repo-relative, e.g. "data/orders/order_etl.py"
    source_commit: str | None = None
    namespace: str | None = None  # None: the registered one, else ""
    tags: dict[str, str] = field(default_factory=dict)
    deployment: str | None = None
    deployment_tags: dict[str, str] = field(default_factory=dict)
    schedule: str | None = None
    parameters: dict[str, Any] | None = None


def check_spec(spec: FlowSpec) -> None:
    """Refuse a spec that names a bad flow or version, or whose edges do not fit its tasks."""
    validate_name(spec.name)
    validate_version(spec.version)
    ids = [t.id for t in spec.tasks]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InvalidNameError(f"flow_spec.tasks: task id {dup[0]!r} appears twice")
    known = set(ids)
    for i, (a, b) in enumerate(spec.edges):
        missing = next((x for x in (a, b) if x not in known), None)
        if missing is not None:
            raise InvalidNameError(f"flow_spec.edges[{i}]: {missing!r} is not a task id")


def spec_code_hash(reg: Registration) -> tuple[str, str]:
    """`(code_hash, source_file_hash)` by the spec's formula, from the source text or hash."""
    if reg.source is not None:
        shash = source_file_hash(reg.source)
        if reg.source_file_hash is not None and reg.source_file_hash != shash:
            raise InvalidNameError(
                f"source_file_hash {reg.source_file_hash[:12]}… does not match the source "
                f"text (whose hash is {shash[:12]}…)",
                hint="send one of them, or both computed from the same bytes",
            )
    elif reg.source_file_hash is not None:
        if not _HEX64.match(reg.source_file_hash):
            raise InvalidNameError("source_file_hash must be 64 lowercase hex digits (SHA-256)")
        shash = reg.source_file_hash
    else:
        raise InvalidNameError(
            "send the flow's source text (`source`) or its `source_file_hash`",
            hint="code_hash = SHA-256 of canonical_json(flow_spec) + '|' + source_file_hash",
        )
    try:
        return code_hash(reg.spec.to_json(), shash), shash
    except ValueError:  # NaN or Infinity: canonical JSON cannot hold them
        raise InvalidNameError(
            "flow_spec holds a number JSON cannot hold (NaN or Infinity)"
        ) from None


def _check_source_path(path: str | None) -> str | None:
    if path is None:
        return None
    norm = posixpath.normpath(path)
    if (
        not path
        or path != norm
        or path.startswith(("/", "../"))
        or path == ".."
        or "\\" in path
        or any(ord(c) < 0x20 or ord(c) == 0x7F for c in path)
        or not path.endswith(".py")
    ):
        raise InvalidNameError(
            f"source_path {path!r} must be a repo-relative '/'-separated path to a .py file"
        )
    return path


def register_flow(
    registry: Registry,
    settings: Settings,
    reg: Registration,
    *,
    force: bool = False,
    push: bool = False,
) -> Outcome[Plan]:
    """Register (or update) one flow version from a spec, per DESIGN.md's deploy table."""
    from dagy_git.registry.retry import commit_with_retry

    check_spec(reg.spec)
    chash, shash = spec_code_hash(reg)
    source_path = _check_source_path(reg.source_path)
    if reg.namespace is not None:
        validate_namespace(reg.namespace)
    flow_tags = validate_tags(reg.tags)
    deployment_tags = validate_tags(reg.deployment_tags)
    if reg.source_commit is not None and not _COMMIT.match(reg.source_commit):
        raise InvalidNameError("source_commit must be a full commit id (hex)")
    check_options(_as_options(reg), 1)
    # The file keeps its name on the registry branch; without one, the (checked) flow name.
    stored_name = posixpath.basename(source_path) if source_path else f"{reg.spec.name}.py"
    name, version = reg.spec.name, reg.spec.version

    def make(snap: Snapshot) -> tuple[Plan, Transaction | None]:
        record = snap.record(name, version)
        namespace = reg.namespace
        if namespace is None:
            namespace = record.namespace if record is not None else ""
        intent = Intent(
            spec=reg.spec,
            code_hash=chash,
            source_file_hash=shash,
            namespace=namespace,
            source_path=source_path or stored_name,
            source=reg.source or b"",
            dirty=False,
            manifest_tags=None,  # a request says nothing of manifests: their keys stay
            explicit_tags=flow_tags,
            deployment=reg.deployment,
            deployment_tags=deployment_tags,
            schedule=reg.schedule,
            parameters=reg.parameters,
        )
        p = plan(
            [intent],
            read_state(snap, [intent]),
            force=force,
            now=utc_now(),
            source_commit=reg.source_commit,
            mutable_versions=settings.mutable_versions,
            immutable_versions=settings.immutable_versions,
        )
        if reg.source is None:
            # Only the hash was sent: there is no file to store, and none to name.
            for fw in p.flows:
                if fw.source is not None:
                    fw.source = None
                    fw.record = fw.record.model_copy(update={"source_path": source_path})
        return p, _transaction(p, f"api: register {name}@{version}")

    return commit_with_retry(registry, make, push=push, remote=settings.remote)


def deploy_version(
    registry: Registry,
    settings: Settings,
    deployment: str,
    flow_name: str,
    flow_version: str | None,
    *,
    tags: dict[str, str] | None = None,
    schedule: str | None = None,
    parameters: dict[str, Any] | None = None,
    force: bool = False,
    push: bool = False,
) -> Outcome[Plan]:
    """Create or re-deploy a deployment of a registered flow version (default: its latest);
    `deployment_version` goes up by one whenever the deployment changes."""
    from dagy_git.registry.retry import commit_with_retry

    validate_name(deployment, "deployment name")
    validate_name(flow_name)
    if flow_version is not None:
        validate_version(flow_version)
    deployment_tags = validate_tags(tags or {})
    if parameters is not None:
        validate_parameters(parameters)
    if schedule is not None:
        from dagy_git.cron import validate_schedule

        validate_schedule(schedule)

    def make(snap: Snapshot) -> tuple[Plan, Transaction | None]:
        version = flow_version or _latest(snap, flow_name)
        record = snap.record(flow_name, version) if version else None
        if record is None or version is None:
            what = f"{flow_name}@{flow_version}" if flow_version else f"flow {flow_name!r}"
            raise NotFoundError(f"{what} is not registered", hint="register it first")
        if record.code_hash is None:
            raise RegistryError(
                f"{flow_name}@{version} has no code_hash (a legacy record)",
                hint="deploy it once with `dagy-git deploy` first",
            )
        try:
            spec = FlowSpec.model_validate(snap.spec(flow_name, version) or {})
        except ValueError as exc:
            raise RegistryError(f"the stored spec of {flow_name}@{version} is unreadable") from exc
        intent = Intent(
            spec=spec,
            code_hash=record.code_hash,
            source_file_hash=record.source_file_hash or "",
            namespace=record.namespace,
            source_path=record.source_path or "",
            source=b"",
            dirty=record.dirty,
            manifest_tags=None,  # the flow version's tags stay as they are
            deployment=deployment,
            deployment_tags=deployment_tags,
            schedule=schedule,
            parameters=parameters,
        )
        p = plan(
            [intent],
            read_state(snap, [intent]),
            force=False,
            now=utc_now(),
            source_commit=record.source_commit,
            mutable_versions=settings.mutable_versions,
            immutable_versions=settings.immutable_versions,
        )
        if force and not p.deployments:
            p = _forced(intent, snap, p)
        return p, _transaction(p, f"api: deploy {deployment} ({flow_name}@{version})")

    return commit_with_retry(registry, make, push=push, remote=settings.remote)


def _latest(snap: Snapshot, name: str) -> str | None:
    """A flow's most recently deployed version (as `Snapshot.latest_version`), reading only
    its own folder: the whole registry's listing costs ~0.1 s per 1,000 flows."""
    if snap.commit is None:
        return None
    folder = snap.reader.read(f"{snap.commit}:flows/{name}")
    if folder is None or folder.type != "tree":
        return None
    keys = []
    for entry in parse_tree(folder.data, len(folder.oid) // 2):
        try:
            version = decode_version(entry)
            if encode_version(version) == entry:
                keys.append((name, validate_version(version)))
        except (ValueError, UnicodeDecodeError, InvalidNameError):
            continue  # not a version folder dagy-git wrote
    records = snap.records(keys)
    if not records:
        return None
    return max(records.values(), key=lambda r: (r.updated_at, r.flow_version)).flow_version


def _forced(intent: Intent, snap: Snapshot, p: Plan) -> Plan:
    """Re-plan with `force` for the deployment only: the flow version itself is never
    rewritten by a deployment request."""
    forced = plan(
        [intent], read_state(snap, [intent]), force=True, now=utc_now(), source_commit=None
    )
    results = [replace(r, status="metadata", reason="forced") for r in forced.results]
    return Plan(results, [], forced.deployments)


def _transaction(p: Plan, subject: str) -> Transaction | None:
    from dagy_git.registry import Transaction

    if not p.writes:
        return None
    return Transaction(flows=p.flows, deployments=p.deployments, subject=subject)


def _as_options(reg: Registration) -> DeployOptions:
    """The deploy options `check_options` validates (deployment name, schedule, params)."""
    if (reg.schedule is not None or reg.parameters is not None) and reg.deployment is None:
        raise DagyError(
            "schedule and parameters belong to a deployment: name it with deployment_name"
        )
    return DeployOptions(
        deployment=reg.deployment, schedule=reg.schedule, parameters=reg.parameters
    )
