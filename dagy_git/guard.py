"""The version guard: catch a code change to a flow version that is already registered.

A registered `flow_name@flow_version` is meant to be immutable (the spec). Re-deploying
changed code under the same version silently replaces what that version means, so this
guard runs before a commit: it hashes each flow as the file declares it (and as manifest
deployments re-version it), reads the LOCAL registry branch, and reports every flow whose
name+version is registered with another code_hash, or with another closure (a repository
module it imports changed: deploy would update it, so the version would change meaning).
Mutable versions (`latest`, or those in `mutable_versions`) are expected to move and are
never reported.

Statically, like everything else: no user code runs. Cost: one `git ls-files` when no paths
are given, each flow file read once, one batched registry read.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dagy_git.analysis import AnalyzedFlow, build_flows
from dagy_git.hashing import source_file_hash
from dagy_git.identity import ClosureFinder, versioned

if TYPE_CHECKING:
    from dagy_git.manifests import DeploymentEntry
    from dagy_git.workspace import Workspace

__all__ = ["GuardReport", "Violation", "check_versions", "suggest_bump"]

Key = tuple[str, str]
# (name, version), code_hash, the flow, the manifest deployment that sets the version
Candidate = tuple[Key, str, AnalyzedFlow, "DeploymentEntry | None"]


@dataclass(frozen=True)
class Violation:
    """A flow version registered with other code than the file now holds."""

    flow_name: str
    flow_version: str
    path: str  # repo-relative POSIX
    line: int
    registered_hash: str
    code_hash: str
    via: str | None = None  # the manifest deployment that sets this version, if any
    manifest: str | None = None  # and the dagy.toml that holds it
    modules: tuple[str, ...] = ()  # same code_hash, but these imported modules changed

    @property
    def message(self) -> str:
        """What is wrong, naming the flow and where it is."""
        how = f" (the version deployment {self.via!r} sets)" if self.via else ""
        if self.registered_hash == self.code_hash:
            changed = ", ".join(self.modules) or "a repository module it imports"
            return (
                f"{self.flow_name}@{self.flow_version}{how} is already registered with other "
                f"code: {changed} changed since (closure_hash)"
            )
        return (
            f"{self.flow_name}@{self.flow_version}{how} is already registered with other code "
            f"(registered code_hash {self.registered_hash[:12]}, now {self.code_hash[:12]})"
        )

    @property
    def hint(self) -> str:
        """How to fix it: bump the version (with a suggestion when one is obvious)."""
        bumped = suggest_bump(self.flow_version)
        where = f"flow_version in {self.manifest}" if self.via else f"version= in {self.path}"
        target = f' (e.g. "{bumped}")' if bumped else ""
        return f"bump {where}{target} to register a new version; a registered version is immutable"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass
class GuardReport:
    """What the guard checked and found."""

    violations: list[Violation] = field(default_factory=list)
    checked: int = 0  # flow versions compared
    registry_commit: str | None = None  # None: no local registry branch, nothing to guard
    registry_branch: str = ""


_TRAILING_NUMBER = re.compile(r"^(.*?)(\d+)(\D*)$")


def suggest_bump(version: str) -> str | None:
    """The next version after `version` by its last number ("2.1.0" -> "2.1.1"), if any."""
    match = _TRAILING_NUMBER.match(version)
    if not match:
        return None
    head, number, tail = match.groups()
    return f"{head}{int(number) + 1:0{len(number)}d}{tail}"


def _flow_files(ws: Workspace, paths: list[str] | None) -> list[str]:
    """Repo-relative flow files: the given ones (relative to cwd), or every discovered one."""
    from dagy_git.discovery import discover_flow_files

    if paths is None:
        return discover_flow_files(ws.settings, ws.files)
    chosen: list[str] = []
    for text in paths:
        full = (ws.cwd / text).resolve()
        if full.suffix != ".py" or not full.is_file():
            continue  # deleted, or not Python: nothing of it can be registered
        try:
            chosen.append(full.relative_to(ws.root).as_posix())
        except ValueError:
            continue
    # The same rule as deploy --all: `flow_paths` globs, else files that mention dagy.
    return discover_flow_files(ws.settings, sorted(set(chosen))) if chosen else []


def _candidates(ws: Workspace, files: list[str], widen: bool) -> list[Candidate]:
    """Each (name, version) the files would register, with its code_hash, flow and deployment.

    With `widen`, a task module among `files` (a file without flows) adds the flow files
    that import it: changing a task changes the spec of every flow that calls it.
    """
    from dagy_git.discovery import discover_flow_files, importers

    by_file: dict[str, list[AnalyzedFlow]] = {
        rel: build_flows(ws.root / rel, repo_root=ws.root, display_path=rel, settings=ws.settings)
        for rel in files
    }
    modules = [rel for rel, flows in by_file.items() if not flows]
    if widen and modules:
        every = discover_flow_files(ws.settings, ws.files)
        for rel in importers(ws.root, every, modules):
            if rel not in by_file:
                by_file[rel] = build_flows(
                    ws.root / rel, repo_root=ws.root, display_path=rel, settings=ws.settings
                )
    wanted = set(by_file)
    out: list[Candidate] = []
    for flows in by_file.values():
        out += [((f.spec.name, f.spec.version), f.code_hash, f, None) for f in flows]
    # A manifest deployment may register the flow under another version: hash it as deploy
    # would (the version is part of the spec, so part of the hash).
    for manifest in ws.manifests:
        for entry in manifest.deployments:
            if entry.flow_version is None or entry.flow_path not in wanted:
                continue
            for flow in by_file[entry.flow_path]:
                if entry.function not in (None, flow.spec.function):
                    continue
                spec, chash = versioned(flow, version=entry.flow_version)
                out.append(((spec.name, spec.version), chash, flow, entry))
    return out


def check_versions(ws: Workspace, paths: list[str] | None = None) -> GuardReport:
    """Compare the flows of `paths` (default: all) with the local registry branch (or, in
    a fresh clone without one, its remote-tracking copy)."""
    settings = ws.settings
    report = GuardReport(registry_branch=settings.registry_branch)
    files = _flow_files(ws, paths)
    commit = None  # the local registry branch's tip
    tracking = ws.unpulled_registry()
    if tracking is not None:
        report.registry_branch, commit = tracking
    with ws.registry().snapshot(commit) as snap:
        report.registry_commit = snap.commit
        if snap.commit is None or not files:
            return report
        mutable = {"latest", *settings.mutable_versions}
        candidates = [
            c for c in _candidates(ws, files, paths is not None) if c[0][1] not in mutable
        ]
        records = snap.records(sorted({key for key, *_ in candidates}))
        finder = ClosureFinder(ws.root)
        changed: dict[Key, tuple[str, ...]] = {}  # same code, other closure: what changed
        for key, chash, flow, _entry in candidates:
            record = records.get(key)
            if record is None or record.closure_hash is None or record.code_hash != chash:
                continue
            closure = finder.closure(flow)
            if closure.hash != record.closure_hash:
                stored = {p: source_file_hash(d) for p, d in snap.closure_sources(*key).items()}
                changed[key] = tuple(p for p in closure.changed_from(stored) if p != flow.path)
    seen: set[tuple[Key, str]] = set()
    for key, chash, flow, entry in candidates:
        if (key, chash) in seen:
            continue
        seen.add((key, chash))
        report.checked += 1
        record = records.get(key)
        if record is None or record.code_hash is None:
            continue
        if record.code_hash == chash and key not in changed:
            continue
        report.violations.append(
            Violation(
                key[0],
                key[1],
                flow.path,
                flow.line,
                record.code_hash,
                chash,
                entry.name if entry else None,
                entry.manifest if entry else None,
                changed.get(key, ()) if record.code_hash == chash else (),
            )
        )
    report.violations.sort(key=lambda v: (v.path, v.line, v.flow_version))
    return report
