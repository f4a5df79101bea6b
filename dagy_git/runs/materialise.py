"""A registered version's code, written into a temporary folder so exactly it can run.

The registry keeps what was deployed under `flows/<name>/<version>/source/` (the flow file
and its repository imports, at their repo-relative paths; older registries hold the flow
file alone). A registry without a stored source falls back to the version's source commit.
Either way the bytes come from git objects, never from the user's work tree.

Registry content is not trusted: a stored path that is absolute, holds `..`, is a symlink or
a submodule, or would land outside the folder is refused before anything is written. What
was written is then analysed again and its code_hash compared with the registered one.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from dagy_git.analysis import analyze_source
from dagy_git.errors import RefusedError, RegistryError
from dagy_git.hashing import code_hash
from dagy_git.registry.snapshot import flow_dir

if TYPE_CHECKING:
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


def _files(snap: Snapshot, tree: str, where: str) -> list[tuple[list[str], str]]:
    """Every file below tree `tree` as `(path parts, blob id)`; refuses links and modules."""
    out: list[tuple[list[str], str]] = []
    todo: list[tuple[list[str], str]] = [([], tree)]
    while todo:
        prefix, oid = todo.pop()
        for name, (mode, child) in sorted(snap.read_tree(oid).items()):
            rel = "/".join([*prefix, name])
            safe_parts(rel, where)
            if mode == _TREE_MODE:
                todo.append(([*prefix, name], child))
            elif mode in _FILE_MODES:
                out.append(([*prefix, name], child))
            else:
                kind = "symlink" if mode == "120000" else f"mode {mode} entry"
                raise RefusedError(
                    f"{where}/{rel} is a {kind}; only plain files can be run",
                    hint="the registry entry is corrupt or malicious; do not run it",
                )
            if len(out) > _MAX_FILES:
                raise RefusedError(f"{where} holds more than {_MAX_FILES} files")
    return out


def _write_all(
    snap: Snapshot, root: Path, files: list[tuple[list[str], str]], where: str
) -> dict[str, bytes]:
    """Write files under `root`, each checked to land inside it; `{rel path: bytes}`."""
    blobs = snap.reader.read_many([oid for _, oid in files])
    base = os.path.realpath(root)
    written: dict[str, bytes] = {}
    for (parts, _), blob in zip(files, blobs, strict=True):
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


def _source_tree(snap: Snapshot, record: FlowRecord) -> tuple[str, str, str] | None:
    """`(tree id, label, kind)` of the stored source, else of the source commit."""
    folder = f"{flow_dir(record.flow_name, record.flow_version)}/source"
    if snap.commit is not None:
        obj = snap.reader.read(f"{snap.commit}:{folder}")
        if obj is not None and obj.type == "tree":
            return obj.oid, f"{snap.label}:{folder}", "registry"
    if record.source_commit:
        obj = snap.reader.read(f"{record.source_commit}^{{tree}}")
        if obj is not None and obj.type == "tree":
            return obj.oid, f"commit {record.source_commit[:12]}", "git-archive"
    return None


def materialise(snap: Snapshot, record: FlowRecord, spec: FlowSpec, root: Path) -> Materialised:
    """Write the registered code of `record` under the empty folder `root`, checked."""
    label = f"{record.flow_name}@{record.flow_version}"
    found = _source_tree(snap, record)
    if found is None or not record.source_path:
        raise RegistryError(
            f"{label} has no stored source and no source commit to run",
            hint="re-deploy the flow version",
        )
    tree, where, kind = found
    flow_parts = safe_parts(record.source_path, f"{label} source_path")
    files = _files(snap, tree, where)
    if kind == "git-archive":
        # A whole commit: keep what Python code needs, not the repository's data files.
        files = [f for f in files if f[0][-1].endswith(".py") or f[0] == flow_parts]
    written = _write_all(snap, root, files, where)
    rel = "/".join(flow_parts)
    if rel not in written:
        # Registries written before the import closure keep only the flow file's basename.
        base = flow_parts[-1]
        if base not in written:
            raise RegistryError(f"{where} does not hold the flow file {record.source_path}")
        target = root.joinpath(*flow_parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            (root / base).replace(target)
            written[rel] = written.pop(base)
    flow_file = root.joinpath(*flow_parts)
    chash, flow_spec = _rehash(written[rel], rel, root, flow_file, spec, record)
    if chash is None or chash != record.code_hash:
        raise RefusedError(
            f"the code materialised for {label} does not match its registered code_hash "
            f"({(chash or 'none')[:12]} != {(record.code_hash or 'none')[:12]})",
            hint="the registry's source was changed after deploy; re-deploy the version",
        )
    return Materialised(root, flow_file, flow_spec, chash, kind)


def _rehash(
    source: bytes, rel: str, root: Path, flow_file: Path, spec: FlowSpec, record: FlowRecord
) -> tuple[str | None, FlowSpec]:
    """The code_hash of the flow in `source` that the registered spec names."""
    result = analyze_source(source, rel, repo_root=root, file_path=flow_file)
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
