"""Deploy: compare what the work tree holds with the registry, then write what changed.

`make_intents` turns targets into what each should look like in the registry (from the
work tree); `plan.plan` compares intents with one registry snapshot and decides what to
write (pure); `run_deploy` runs plan → write, re-planning against the new state whenever
another writer won a race (locally or on the remote).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from dagy_git import gitio
from dagy_git.errors import DagyError, GitError, RefusedError
from dagy_git.hashing import source_file_hash
from dagy_git.identity import Closure, ClosureFinder, versioned, versioned_ref
from dagy_git.models import FlowSpec, SpecLike
from dagy_git.names import (
    validate_name,
    validate_namespace,
    validate_parameters,
    validate_tags,
    validate_version,
)
from dagy_git.plan import DeployResult, Intent, Plan, RegistryState, Status, plan
from dagy_git.registry.log import SOURCE_HEAD, last_source_head
from dagy_git.results import DeployResultJson

if TYPE_CHECKING:
    from dagy_git.analysis import AnalyzedFlow
    from dagy_git.registry import Snapshot, Transaction
    from dagy_git.targets import Target
    from dagy_git.workspace import Workspace


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
    every: bool = False  # `--all`: also list deployments no manifest declares any more
    prune: bool = False  # and retire them in the same commit


class DeployReportJson(TypedDict):
    """`deploy --json` (DESIGN.md; fields may be added, never renamed)."""

    registry_commit: str | None
    results: list[DeployResultJson]
    dry_run: bool
    pushed: bool
    pushed_pending: bool
    undeclared: list[str]
    retired: list[str]


@dataclass
class DeployReport:
    """The outcome of one deploy command."""

    registry_commit: str | None
    results: list[DeployResult]
    dry_run: bool = False
    pushed: bool = False
    attempts: int = 1
    # Nothing to deploy, but local registry commits the remote lacked were pushed.
    pushed_pending: bool = False
    undeclared: list[str] = field(default_factory=list)  # deployments no manifest declares
    retired: list[str] = field(default_factory=list)  # ... retired by `--prune`

    def to_json(self) -> DeployReportJson:
        """`{registry_commit, results: [...]}` plus a few extra fields."""
        return DeployReportJson(
            registry_commit=self.registry_commit,
            results=[r.to_json() for r in self.results],
            dry_run=self.dry_run,
            pushed=self.pushed,
            pushed_pending=self.pushed_pending,
            undeclared=list(self.undeclared),
            retired=list(self.retired),
        )

    def count(self, *statuses: Status) -> int:
        """How many results have one of these statuses."""
        return sum(r.status in statuses for r in self.results)


def utc_now() -> str:
    """The registry's timestamp format: ISO 8601, UTC, milliseconds."""
    now = datetime.now(timezone.utc)
    return now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"


def identity(ws: Workspace, target: Target, opts: DeployOptions) -> tuple[FlowSpec, str, str]:
    """A target's spec, code_hash and namespace after `--flow-name`/`--flow-version`/
    `--namespace` and its manifest entry (explicit values win, in that order)."""
    version, namespace = _overrides(ws, target, opts)
    spec, chash = versioned(target.flow, name=opts.flow_name, version=version)
    return spec, chash, namespace


def _identity_ref(ws: Workspace, target: Target, opts: DeployOptions) -> tuple[SpecLike, str, str]:
    """`identity` for the plan, which validates a stored spec only if it writes it."""
    version, namespace = _overrides(ws, target, opts)
    spec, chash = versioned_ref(target.flow, name=opts.flow_name, version=version)
    return spec, chash, namespace


def _overrides(ws: Workspace, target: Target, opts: DeployOptions) -> tuple[str | None, str]:
    """The version a target is registered under (None: as declared), and its namespace."""
    from dagy_git.namespace import resolve_namespace

    entry = target.deployment
    version = _first(opts.flow_version, entry.flow_version if entry else None)
    explicit = _first(opts.namespace, entry.namespace if entry else None, target.namespace)
    return version, resolve_namespace(explicit, target.file_path, ws.settings, ws.cwd)


def _first(*values: str | None) -> str | None:
    """The first value that is given (an empty string is given: the root namespace)."""
    return next((v for v in values if v is not None), None)


def check_options(opts: DeployOptions, n_targets: int) -> None:
    """Validate the caller's options before anything is read from the registry."""
    if opts.deployment is not None:
        validate_name(opts.deployment, "deployment name")
        if n_targets != 1:
            raise DagyError(f"--deployment names one deployment, but {n_targets} flows were given")
    if opts.flow_name is not None:
        validate_name(opts.flow_name)
    if opts.flow_version is not None:
        validate_version(opts.flow_version)
    if opts.namespace is not None:
        validate_namespace(opts.namespace)
    if opts.parameters is not None:
        validate_parameters(opts.parameters)
    if (opts.schedule is not None or opts.parameters is not None) and opts.deployment is None:
        raise DagyError(
            "--schedule and --param belong to a deployment: name it with --deployment",
            hint="or set schedule/parameters in a [[deployments]] entry of dagy.toml",
        )
    if opts.schedule is not None:
        from dagy_git.cron import validate_schedule

        validate_schedule(opts.schedule)


def make_intents(
    ws: Workspace, targets: list[Target], opts: DeployOptions, head: str
) -> list[Intent]:
    """Resolve namespace, version, name, tags and closure of every target; validate all."""
    from dagy_git.manifests import inherited_tags

    check_options(opts, len(targets))
    explicit_tags = validate_tags(opts.tags)
    finder = ws.closures
    sources = {t.rel_path: _source(finder, t) for t in targets}
    closures = {t.rel_path: target_closure(finder, t, sources[t.rel_path]) for t in targets}
    # A file is dirty when it, or a module it imports, differs from the commit deployed.
    every_file = dict(sources)
    for closure in closures.values():
        for rel, data in (closure.files if closure else {}).items():
            every_file.setdefault(rel, data)
    dirty = gitio.differs_from(ws.root, head, every_file)
    intents: list[Intent] = []
    for target in targets:
        entry = target.deployment
        spec, chash, namespace = _identity_ref(ws, target, opts)
        closure = closures[target.rel_path]
        files = closure.files if closure else {target.rel_path: b""}
        intents.append(
            Intent(
                spec=spec,
                code_hash=chash,
                source_file_hash=target.flow.source_file_hash,
                namespace=namespace,
                source_path=target.rel_path,
                source=sources[target.rel_path],
                dirty=any(rel in dirty for rel in files),
                manifest_tags=inherited_tags(ws.manifests, target.rel_path),
                explicit_tags=explicit_tags,
                deployment=entry.name if entry else opts.deployment,
                deployment_tags=dict(entry.tags) if entry else explicit_tags,
                schedule=entry.schedule if entry else opts.schedule,
                parameters=dict(entry.parameters) if entry else opts.parameters,
                authoritative=entry is not None,
                timezone=entry.timezone if entry else None,
                analysis=target.analysis,
                closure=closure,
            )
        )
    _check_consistent(intents)
    return intents


def _source(finder: ClosureFinder, target: Target) -> bytes:
    """The bytes a target deploys: the ones this command read already (analysed, keyed,
    hashed), so every part of one deploy sees the same file."""
    if target.source is None:
        data = finder.read(target.rel_path)
        if data is not None:
            return data
    return target.read_source()


def target_closure(finder: ClosureFinder, target: Target, source: bytes) -> Closure | None:
    """A target's closure: from its artifact, else from the work tree (`source` is the
    flow file's bytes as deployed)."""
    if target.closure is not None:
        return Closure(dict(target.closure))
    if target.source is not None:
        return None  # an artifact built before closures: compared by code_hash only
    return finder.closure(target.flow, source, target.rel_path)


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


def run_deploy(ws: Workspace, targets: list[Target], opts: DeployOptions) -> DeployReport:
    """Deploy `targets`: one registry commit for all of them (or none when nothing changed)."""
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    if opts.prune and not opts.every:
        raise DagyError("--prune works with --all", hint="dagy-git deploy --all --prune")
    source_commit = gitio.head_commit(ws.root)
    if source_commit is None:
        raise DagyError("the repository has no commit yet", hint="commit your flows, then deploy")
    intents = make_intents(ws, targets, opts, source_commit)
    settings = ws.settings
    head = source_commit
    newer = _LaterThan(ws.root, head)
    declared = (
        frozenset(e.name for m in ws.manifests for e in m.deployments) if opts.every else None
    )

    def attempt(snap: Snapshot) -> tuple[Plan, Transaction | None]:
        state = read_state(snap, intents, newer, every=opts.every, force=opts.force)
        p = plan(
            intents,
            state,
            force=opts.force,
            now=utc_now(),
            source_commit=head,
            mutable_versions=settings.mutable_versions,
            immutable_versions=settings.immutable_versions,
            declared=declared,
            prune=opts.prune,
        )
        if not p.writes:
            return p, None
        return p, Transaction(
            flows=p.flows,
            deployments=p.deployments,
            retired=p.retired,
            drafts={},
            subject=_subject(p),
            extra_trailers=[(SOURCE_HEAD, head)],
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
        pushed_pending=outcome.pushed_pending,
        undeclared=outcome.value.undeclared,
        retired=outcome.value.retired,
    )


def read_state(
    snap: Snapshot,
    intents: list[Intent],
    newer: Callable[[str], bool] | None = None,
    *,
    every: bool = False,
    force: bool = False,
) -> RegistryState:
    """What `plan` needs of one snapshot, read in a few batches: the targets' records,
    tags and deployments, stored closures where they differ, and (given `newer`, which
    says whether a commit is later than the one deployed) the rollback guard's commits."""
    keys = sorted({i.key for i in intents})
    records = snap.records(keys)
    tags = snap.flow_tags_many([k for k in keys if k in records])
    deployments = {}
    for name in sorted({i.deployment for i in intents if i.deployment}):
        found = snap.deployment(name)
        if found is not None:
            deployments[name] = found
    closures: dict[tuple[str, str], dict[str, str]] = {}
    asked: set[str] = set()
    for intent in intents:
        rec = records.get(intent.key)
        if rec is None or rec.code_hash is None:
            continue
        closure_differs = (
            rec.closure_hash is not None
            and intent.closure is not None
            and rec.closure_hash != intent.closure.hash
        )
        if rec.code_hash == intent.code_hash and closure_differs and intent.key not in closures:
            stored = snap.closure_sources(*intent.key)
            closures[intent.key] = {p: source_file_hash(d) for p, d in stored.items()}
        if (rec.code_hash != intent.code_hash or closure_differs) and rec.source_commit:
            asked.add(rec.source_commit)  # other code: is it newer than ours?
    last = None if force or newer is None else last_source_head(snap.root, snap.commit)
    if last is not None:
        asked.add(last)
    return RegistryState(
        commit=snap.commit,
        records=records,
        tags=tags,
        deployments=deployments,
        deployment_names=frozenset(snap.deployment_names()) if every else None,
        stored_closures=closures,
        last_source_head=last,
        later=frozenset(c for c in sorted(asked) if newer is not None and newer(c)),
    )


class _LaterThan:
    """Whether a commit is a later commit than `head` (a descendant of it), memoised."""

    def __init__(self, root: Path, head: str) -> None:
        self.root, self.head = root, head
        self.seen: dict[str, bool] = {}

    def __call__(self, commit: str) -> bool:
        if commit not in self.seen:
            try:
                later = commit != self.head and gitio.is_ancestor(self.root, self.head, commit)
            except GitError:  # a commit this clone lacks (shallow, or not fetched): unknown
                later = False
            self.seen[commit] = later
        return self.seen[commit]


def _subject(p: Plan) -> str:
    """The registry commit's subject: what was deployed and why, in a few words
    (`deploy order_etl@2.1.0 (code changed), order-etl-prod#5 (schedule)`)."""
    written = {fw.key: fw.action for fw in p.flows}
    deployed = {d.name: d.deployment_version for d in p.deployments}
    parts: list[str] = []
    seen: set[str] = set()
    for r in p.results:
        key = (r.flow_name, r.flow_version)
        if key in written and f"{r.flow_name}@{r.flow_version}" not in seen:
            seen.add(f"{r.flow_name}@{r.flow_version}")
            action = written[key]
            why = {"registered": "new", "metadata": "tags"}.get(action, r.reason)
            if action == "updated" and r.reason.startswith(("schedule", "parameters", "tags")):
                why = "forced"
            parts.append(f"{r.flow_name}@{r.flow_version} ({why.replace('code_hash', 'code')})")
        name = r.deployment_name
        if name in deployed and name not in seen:
            seen.add(name)
            number = deployed[name]
            if number == 1:
                why = "new"
            elif key in written:
                why = "flow " + ("updated" if written[key] != "metadata" else "tags")
            else:
                why = r.reason.replace(" changed", "").replace("code_hash", "code")
            parts.append(f"{name}#{number} ({why})")
    parts += [f"retired {name}" for name in p.retired]
    if len(parts) > 4:
        parts = [*parts[:3], f"and {len(parts) - 3} more"]
    return "deploy " + (", ".join(parts) or "(no changes)")


def deploy_flow(flow: AnalyzedFlow, file_path: Path, opts: DeployOptions) -> DeployResult:
    """`my_flow.deploy(...)`: the CLI's deploy of one flow, returning its one result."""
    from dagy_git.targets import Target
    from dagy_git.workspace import open_workspace

    file_path = file_path.resolve()
    ws = open_workspace(Path.cwd(), within=file_path.parent)
    if (
        opts.namespace is None
        and ws.settings.namespace_root is None
        and not ws.cwd.is_relative_to(ws.root)
    ):
        # A namespace derived from a folder outside the repository would depend on the
        # machine, and a registered namespace can never change.
        raise DagyError(
            f"cannot derive a namespace for {ws.rel(file_path)}: the working directory "
            f"{ws.cwd} is outside the repository {ws.root}",
            hint="run from inside the repository, set namespace_root in dagy.toml, "
            "or pass namespace=",
        )
    report = run_deploy(ws, [Target(flow, file_path, ws.rel(file_path))], opts)
    return report.results[0]
