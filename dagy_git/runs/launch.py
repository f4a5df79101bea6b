"""The runs front door: resolve what to run, check parameters, record it, run it.

    request = prepare(ws, flow_ref="order_etl@2.1.0", params={"source": "s3://…"})
    request = prepare(ws, deployment="order-etl-prod", params={})
    with open_store(ws) as store:
        run = create(store, request)                # PENDING, nothing executed yet
        run = execute(ws, store, request, run.run_id)   # materialise, child, final state

`prepare` does every check (names, the version, the deployment, parameters) before anything
is written or run; `execute` materialises the registered code into a temporary folder (or,
`from_worktree`, uses the work tree's file), runs it in a child and records the outcome.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagy_git import gitio, queries
from dagy_git.analysis import build_flows
from dagy_git.errors import DagyError, RegistryError
from dagy_git.models import FlowRecord, FlowSpec
from dagy_git.names import parse_flow_ref, validate_name, validate_parameters
from dagy_git.registry import Snapshot
from dagy_git.runs.materialise import materialise
from dagy_git.runs.runner import ChildJob, run_child
from dagy_git.runs.store import RunStore
from dagy_git.runs.types import RunRecord, TaskRunRecord, now_iso
from dagy_git.workspace import Workspace

__all__ = [
    "RunRequest",
    "check_parameters",
    "create",
    "execute",
    "open_store",
    "prepare",
    "store_path",
]

# Seconds past the flow's own timeouts before the child is killed: the SDK enforces those
# inside the child; this backstop covers interpreter start-up on a busy machine too.
_TIMEOUT_GRACE = 30.0


@dataclass(frozen=True)
class RunRequest:
    """A run, resolved and checked: which version, which code, which parameters."""

    flow_name: str
    flow_version: str
    namespace: str
    code_hash: str | None
    spec: FlowSpec
    parameters: dict[str, Any]
    registry_commit: str | None
    deployment_name: str | None = None
    deployment_version: int | None = None
    worktree_file: str | None = None  # repo-relative flow file for --from-worktree
    timeout: float | None = None

    def new_run(self, state: str, scheduled_for: str | None = None) -> RunRecord:
        """A fresh run record for this request."""
        return RunRecord(
            run_id=uuid.uuid4().hex,
            flow_name=self.flow_name,
            flow_version=self.flow_version,
            state=state,
            created_at=now_iso(),
            namespace=self.namespace,
            code_hash=self.code_hash,
            deployment_name=self.deployment_name,
            deployment_version=self.deployment_version,
            parameters=self.parameters,
            source="worktree" if self.worktree_file else "registry",
            scheduled_for=scheduled_for,
        )


def store_path(ws: Workspace, explicit: Path | None = None) -> Path:
    """Where the runs store lives: `--runs-db`, else `runs_db` from the config, else
    `dagy/runs.sqlite3` in the repository's git directory (shared by its worktrees)."""
    if explicit is not None:
        return explicit
    if ws.settings.runs_db:
        return ws.root / ws.settings.runs_db
    return gitio.git_common_dir(ws.root) / "dagy" / "runs.sqlite3"


def open_store(ws: Workspace, explicit: Path | None = None) -> RunStore:
    """The runs store of a workspace (created on first use)."""
    return RunStore(store_path(ws, explicit))


def check_parameters(spec: FlowSpec, params: dict[str, Any], label: str) -> dict[str, Any]:
    """Parameters checked against the flow's: none unknown, every required one given."""
    validate_parameters(params)
    known = {p.name: p for p in spec.parameters}
    unknown = sorted(set(params) - set(known))
    if unknown:
        raise DagyError(
            f"{label} has no parameter {', '.join(map(repr, unknown))}",
            hint=f"its parameters: {', '.join(known) or '(none)'}",
        )
    missing = [p.name for p in spec.parameters if p.required and p.name not in params]
    if missing:
        raise DagyError(
            f"{label} needs parameter {', '.join(map(repr, missing))}",
            hint="pass it with --param KEY=VALUE",
        )
    return dict(params)


def _deadline(spec: FlowSpec, explicit: float | None) -> float | None:
    """The child's hard deadline: explicit, else the flow's timeout over all its tries."""
    if explicit is not None:
        return explicit
    if spec.timeout_seconds is None:
        return None
    tries = spec.retries + 1
    delays = spec.retry_delay_seconds
    if isinstance(delays, list):  # one delay per retry, the last one repeating
        waited = sum(delays[min(i, len(delays) - 1)] for i in range(spec.retries)) if delays else 0
    else:
        waited = delays * spec.retries
    return spec.timeout_seconds * tries + waited + _TIMEOUT_GRACE


def prepare(
    ws: Workspace,
    *,
    flow_ref: str | None = None,
    deployment: str | None = None,
    params: dict[str, Any] | None = None,
    from_worktree: bool = False,
    timeout: float | None = None,
) -> RunRequest:
    """Resolve and check a run of `FLOW[@VERSION]` or of a deployment; runs nothing."""
    if (flow_ref is None) == (deployment is None):
        raise DagyError("name a flow (FLOW[@VERSION]) or a deployment (--deployment), not both")
    if timeout is not None and timeout <= 0:
        raise DagyError(f"timeout must be positive, got {timeout:g}")
    with ws.registry().snapshot() as snap:
        dep_name = dep_version = None
        version: str | None
        given = dict(params or {})
        if deployment is not None:
            validate_name(deployment, "deployment name")
            dep = snap.deployment(deployment)
            if dep is None:
                raise DagyError(
                    f"deployment {deployment!r} does not exist", hint="see `dagy-git deployments`"
                )
            name, version = dep.flow_name, dep.flow_version
            dep_name, dep_version = dep.name, dep.deployment_version
            given = {**dep.parameters, **given}
        else:
            assert flow_ref is not None  # checked above
            name, version = parse_flow_ref(flow_ref)
            if version is None and not from_worktree:
                version = queries.resolve_version(snap, name, None)
        chash: str | None
        rel: str | None = None
        if from_worktree:
            # The work tree's file, under the version it declares (or the one named); a flow
            # never registered runs too. Its registered record, if any, says where it lives.
            latest = snap.latest_version(name) if version is None else version
            known = snap.record(name, latest) if latest is not None else None
            spec, chash, rel = _worktree_flow(ws, name, version, known)
            version = spec.version
            record = snap.record(name, version)
        else:
            assert version is not None  # resolved above
            record = snap.record(name, version)
            if record is None:
                raise DagyError(f"{name}@{version} is not registered", hint="see `dagy-git list`")
            spec, chash = _registered_spec(snap, name, version), record.code_hash
        label = f"{name}@{version}"
        checked = check_parameters(spec, given, label)
        return RunRequest(
            flow_name=name,
            flow_version=version,
            namespace=record.namespace if record else "",
            code_hash=chash,
            spec=spec,
            parameters=checked,
            registry_commit=snap.commit,
            deployment_name=dep_name,
            deployment_version=dep_version,
            worktree_file=rel,
            timeout=_deadline(spec, timeout),
        )


def _registered_spec(snap: Snapshot, name: str, version: str) -> FlowSpec:
    data = snap.spec(name, version)
    if data is None:
        raise RegistryError(f"{name}@{version} has no spec.json on {snap.label}")
    try:
        return FlowSpec.model_validate(data)
    except ValueError as exc:
        raise RegistryError(
            f"{snap.label}: the spec of {name}@{version} is invalid: {exc}"
        ) from None


def _worktree_flow(
    ws: Workspace, name: str, version: str | None, record: FlowRecord | None
) -> tuple[FlowSpec, str, str]:
    """The work tree's flow `name`: its spec, code_hash and repo-relative file."""
    from dagy_git.targets import discovered

    if record is not None and record.source_path and (ws.root / record.source_path).is_file():
        rel = record.source_path
        flows = build_flows(
            ws.root / rel, repo_root=ws.root, display_path=rel, settings=ws.settings
        )
        candidates = [(f, rel) for f in flows if f.spec.name == name]
    else:
        candidates = [(t.flow, t.rel_path) for t in discovered(ws) if t.flow.spec.name == name]
    if not candidates:
        raise DagyError(f"no flow named {name!r} in the work tree", hint="see `dagy-git spec`")
    flow, rel = candidates[0]
    spec = flow.spec if version is None else flow.spec.model_copy(update={"version": version})
    return spec, flow.code_hash, rel


def create(store: RunStore, request: RunRequest, scheduled_for: str | None = None) -> RunRecord:
    """Record a new PENDING run of `request` (it runs when `execute` is called)."""
    run = request.new_run("PENDING", scheduled_for)
    if not store.create(run):
        raise DagyError(f"a run of {request.deployment_name} at {scheduled_for} already exists")
    return run


def execute(
    ws: Workspace,
    store: RunStore,
    request: RunRequest,
    run_id: str,
    *,
    should_cancel: Callable[[], bool] | None = None,
    on_note: Callable[[str], None] | None = None,
    on_task: Callable[[TaskRunRecord], None] | None = None,
    on_output: Callable[[str], None] | None = None,
) -> RunRecord:
    """Run a created run to its end and return its final record (callbacks: see
    `runner.run_child`)."""

    def cancelled() -> bool:
        return store.cancel_requested(run_id) or (should_cancel is not None and should_cancel())

    def task_changed(task: TaskRunRecord, position: int) -> None:
        store.save_task_run(run_id, task, position)
        if on_task is not None:
            on_task(task)

    # The move to RUNNING is conditional, so a cancel that lands first always wins.
    if (should_cancel is not None and should_cancel()) or not store.start(run_id):
        store.finish(run_id, "CANCELLED", "cancelled", "")
        return _final(store, run_id)
    try:
        with tempfile.TemporaryDirectory(prefix="dagy-run-") as tmp:
            job, source = _job(ws, request, Path(tmp))
            if source != "registry":
                store.update(run_id, source=source)
            outcome = run_child(
                job,
                timeout=request.timeout,
                should_cancel=cancelled,
                on_task=task_changed,
                on_note=on_note,
                on_output=on_output,
            )
    except DagyError as exc:
        store.finish(run_id, "FAILED", str(exc), "")
        raise
    except KeyboardInterrupt:
        store.finish(run_id, "CANCELLED", "cancelled", "")
        raise
    except BaseException as exc:
        store.finish(run_id, "CRASHED", f"{type(exc).__name__}: {exc}", "")
        raise
    store.finish(run_id, outcome.state, outcome.error, outcome.log)
    return _final(store, run_id)


def _final(store: RunStore, run_id: str) -> RunRecord:
    run = store.get(run_id)
    if run is None:  # pragma: no cover - created by this process
        raise RegistryError(f"run {run_id} disappeared from {store.path}")
    return run


def _job(ws: Workspace, request: RunRequest, tmp: Path) -> tuple[ChildJob, str]:
    """The child's job: the work tree's file, or the registered code materialised in `tmp`;
    and where the code came from."""
    if request.worktree_file is not None:
        flow_file = ws.root / request.worktree_file
        job = ChildJob(
            flow_file=flow_file,
            flow_rel=request.worktree_file,
            function=request.spec.function,
            parameters=request.parameters,
            cwd=ws.root,
            sys_path=(str(flow_file.parent), str(ws.root)),
        )
        return job, "worktree"
    code = tmp / "code"
    code.mkdir()
    with ws.registry().snapshot(request.registry_commit) as snap:
        record = snap.record(request.flow_name, request.flow_version)
        if record is None:
            raise RegistryError(f"{request.flow_name}@{request.flow_version} is not registered")
        done = materialise(snap, record, request.spec, code, ws.settings)
    rel = done.flow_file.relative_to(code).as_posix()
    job = ChildJob(
        flow_file=done.flow_file,
        flow_rel=rel,
        function=request.spec.function,
        parameters=request.parameters,
        cwd=code,
        sys_path=(str(done.flow_file.parent), str(code)),
    )
    return job, done.source
