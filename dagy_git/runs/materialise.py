"""A registered version's code, written into a temporary folder so exactly it can run.

The registry keeps what was deployed under `flows/<name>/<version>/source/` (the flow file
and its repository imports, at their repo-relative paths; older registries hold the flow
file alone, and then the Python files of the version's source commit fill in what it
imports). A registry without a stored source falls back to the source commit entirely.
Either way the bytes come from git objects, never from the user's work tree.

Registry content is not trusted: a stored path that is absolute, holds `..`, is a symlink or
a submodule, or would land outside the folder is refused before anything is written. What
was written is then analysed again and its code_hash compared with the registered one.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dagy_git.analysis import analyze_source
from dagy_git.errors import RefusedError, RegistryError
from dagy_git.hashing import canonical_json, code_hash, source_file_hash
from dagy_git.registry.snapshot import flow_dir

if TYPE_CHECKING:
    from dagy_git.analysis.settings import ModuleSettings
    from dagy_git.models import FlowRecord, FlowSpec
    from dagy_git.registry import Snapshot

__all__ = ["Materialised", "materialise", "safe_parts"]

_FILE_MODES = {"100644", "100755"}
_TREE_MODE = "40000"
_MAX_FILES = 20_000  # a source closure is a few files; a huge one is a broken registry


@dataclass(frozen=True)
class Materialised:
    """Code of one flow version written under `root`, its flow file and how it was found."""

    root: Path
    flow_file: Path
    spec: FlowSpec
    code_hash: str
    source: str  # "registry" (its stored source) or "git-archive" (the source commit)


def safe_parts(path: str, where: str) -> list[str]:
    """The components of a relative path, refusing anything that could leave its folder."""
    parts = path.split("/")
    for part in parts:
        if (
            part in ("", ".", "..")
            or part.lower() == ".git"
            or any(c in part for c in "\\\0:")
            or os.path.isabs(part)
        ):
            raise RefusedError(
                f"{where}: refusing the stored path {path!r}: it could escape its folder",
                hint="the registry entry is corrupt or malicious; do not run it",
            )
    return parts


def _files(
    snap: Snapshot,
    tree: str,
    where: str,
    *,
    strict: bool = True,
    keep: Callable[[list[str]], bool] | None = None,
) -> list[tuple[list[str], str, str]]:
    """Every file below tree `tree` as `(path parts, blob id, where)`. Links and submodules
    are refused (`strict`: stored source) or skipped (a source commit's other files)."""
    out: list[tuple[list[str], str, str]] = []
    todo: list[tuple[list[str], str]] = [([], tree)]
    while todo:
        prefix, oid = todo.pop()
        for name, (mode, child) in sorted(snap.read_tree(oid).items()):
            parts = [*prefix, name]
            rel = "/".join(parts)
            safe_parts(rel, where)
            if mode == _TREE_MODE:
                todo.append((parts, child))
            elif mode in _FILE_MODES:
                if keep is None or keep(parts):
                    out.append((parts, child, where))
            elif strict:
                kind = "symlink" if mode == "120000" else f"mode {mode} entry"
                raise RefusedError(
                    f"{where}/{rel} is a {kind}; only plain files can be run",
                    hint="the registry entry is corrupt or malicious; do not run it",
                )
            if len(out) > _MAX_FILES:
                raise RefusedError(f"{where} holds more than {_MAX_FILES} files")
    return out


def _write_all(
    snap: Snapshot, root: Path, files: list[tuple[list[str], str, str]]
) -> dict[str, bytes]:
    """Write files under `root`, each checked to land inside it; `{rel path: bytes}`."""
    blobs = snap.reader.read_many([oid for _, oid, _ in files])
    base = os.path.realpath(root)
    written: dict[str, bytes] = {}
    for (parts, _, where), blob in zip(files, blobs, strict=True):
        rel = "/".join(parts)
        if blob is None or blob.type != "blob":
            raise RegistryError(f"{where}/{rel} is missing from the repository")
        target = root.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Belt and braces: nothing written so far is a link, but check where it resolves.
        if os.path.commonpath([base, os.path.realpath(target.parent)]) != base:
            raise RefusedError(f"{where}/{rel} would be written outside the run's folder")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            fd = os.open(target, flags, 0o644)
        except OSError as exc:
            raise RefusedError(f"{where}/{rel} cannot be written: {exc.strerror}") from None
        with os.fdopen(fd, "wb") as out:
            out.write(blob.data)
        written[rel] = blob.data
    return written


def _tree(snap: Snapshot, name: str) -> str | None:
    obj = snap.reader.read(name)
    return obj.oid if obj is not None and obj.type == "tree" else None


def _plan(
    snap: Snapshot, record: FlowRecord, flow_parts: list[str]
) -> tuple[dict[str, tuple[list[str], str, str]], str]:
    """Which blob goes where: `{rel path: (parts, blob id, where)}`, and the code's origin.

    The stored source comes first. Until deploy stores the import closure (records without
    `closure_hash`), the source commit's other Python files fill in what the flow imports:
    a commit is immutable, so that is still the code as it was at deploy.
    """
    plan: dict[str, tuple[list[str], str, str]] = {}
    folder = f"{flow_dir(record.flow_name, record.flow_version)}/source"
    stored = _tree(snap, f"{snap.commit}:{folder}") if snap.commit else None
    if stored is not None:
        files = _files(snap, stored, f"{snap.label}:{folder}")
        if len(flow_parts) > 1 and [f[0] for f in files] == [flow_parts[-1:]]:
            # The format before the closure: the flow file alone, under its basename.
            files = [(flow_parts, files[0][1], files[0][2])]
        plan = {"/".join(parts): (parts, oid, where) for parts, oid, where in files}
        rel, base = "/".join(flow_parts), flow_parts[-1]
        if len(flow_parts) > 1 and rel in plan and plan.get(base, ("", ""))[1] == plan[rel][1]:
            del plan[base]  # the flow file is stored twice: by its basename, and in place
    closure = _closure_of(record)
    commit = _tree(snap, f"{record.source_commit}^{{tree}}") if record.source_commit else None
    if commit is not None and (stored is None or closure is None):
        assert record.source_commit is not None  # commit came from it
        where = f"commit {record.source_commit[:12]}"
        for parts, oid, at in _files(
            snap,
            commit,
            where,
            strict=False,
            keep=lambda p: p[-1].endswith(".py") or p == flow_parts,
        ):
            plan.setdefault("/".join(parts), (parts, oid, at))
    return plan, "registry" if stored is not None else "git-archive"


def _closure_of(record: FlowRecord) -> str | None:
    # `closure_hash` is a newer record field: absent from older records (and models).
    value = getattr(record, "closure_hash", None)
    return value if isinstance(value, str) else None


def closure_hash(files: dict[str, bytes]) -> str:
    """DESIGN.md's closure_hash of `{repo-relative path: bytes}`."""
    pairs = sorted([path, source_file_hash(data)] for path, data in files.items())
    return hashlib.sha256(canonical_json(pairs).encode("utf-8")).hexdigest()


def materialise(
    snap: Snapshot,
    record: FlowRecord,
    spec: FlowSpec,
    root: Path,
    settings: ModuleSettings | None = None,
) -> Materialised:
    """Write the registered code of `record` under the empty folder `root`, checked; the
    code_hash is recomputed with the repository's analyser `settings`, as deploy did."""
    label = f"{record.flow_name}@{record.flow_version}"
    if not record.source_path:
        raise RegistryError(f"{label} has no source_path", hint="re-deploy the flow version")
    flow_parts = safe_parts(record.source_path, f"{label} source_path")
    rel = "/".join(flow_parts)
    plan, kind = _plan(snap, record, flow_parts)
    if rel not in plan:
        raise RegistryError(
            f"{label}: neither its stored source nor its source commit holds {rel}",
            hint="re-deploy the flow version",
        )
    written = _write_all(snap, root, list(plan.values()))
    expected = _closure_of(record)
    if kind == "registry" and expected is not None and closure_hash(written) != expected:
        raise RefusedError(
            f"the source stored for {label} does not match its registered closure_hash",
            hint="the registry's source was changed after deploy; re-deploy the version",
        )
    flow_file = root.joinpath(*flow_parts)
    chash, flow_spec = _rehash(written[rel], rel, root, flow_file, spec, record, settings)
    if chash is None or chash != record.code_hash:
        raise RefusedError(
            f"the code materialised for {label} does not match its registered code_hash "
            f"({(chash or 'none')[:12]} != {(record.code_hash or 'none')[:12]})",
            hint="the registry's source was changed after deploy; re-deploy the version",
        )
    return Materialised(root, flow_file, flow_spec, chash, kind)


def _rehash(
    source: bytes,
    rel: str,
    root: Path,
    flow_file: Path,
    spec: FlowSpec,
    record: FlowRecord,
    settings: ModuleSettings | None,
) -> tuple[str | None, FlowSpec]:
    """The code_hash of the flow in `source` that the registered spec names."""
    result = analyze_source(source, rel, repo_root=root, file_path=flow_file, settings=settings)
    for flow in result.flows:
        if flow.spec.function == spec.function:
            found = flow.spec
            if (found.name, found.version) != (record.flow_name, record.flow_version):
                # Deployed under --flow-name/--flow-version: hashed with those (deploy.py).
                found = found.model_copy(
                    update={"name": record.flow_name, "version": record.flow_version}
                )
            return code_hash(found.to_json(), flow.source_file_hash), found
    return None, spec
