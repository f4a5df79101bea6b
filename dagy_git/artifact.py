"""Build artifacts: `dist/<flow>-<version>.zip` with `metadata.json` and the flow's source.

`source/` holds the flow file and every repository module it imports (its closure, at
repo-relative paths), so a registered version can be rebuilt from the artifact alone;
`metadata.json` names them with their hashes, and reading an artifact back checks them.

The same code always gives a byte-identical zip (fixed entry order, timestamps and modes),
so an artifact's checksum can be compared across machines and CI runs.
"""

from __future__ import annotations

import io
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagy_git.analysis import AnalyzedFlow
from dagy_git.errors import DagyError
from dagy_git.hashing import canonical_bytes, closure_hash, source_file_hash
from dagy_git.identity import Closure, spec_hash
from dagy_git.models import FlowSpec
from dagy_git.names import encode_name, encode_version, validate_name, validate_version


@dataclass(frozen=True)
class Artifact:
    """What a checked artifact holds: the flow, its source and where it came from."""

    flow: AnalyzedFlow
    source_path: str  # repo-relative, as built
    source: bytes
    namespace: str | None
    closure: dict[str, bytes] | None = None  # None: built before closures were stored


ARTIFACT_FORMAT = 1
_EPOCH = (1980, 1, 1, 0, 0, 0)


def artifact_name(spec: FlowSpec) -> str:
    """The artifact's file name: `<flow>-<escaped version>.zip`."""
    return f"{encode_name(spec.name)}-{encode_version(spec.version)}.zip"


def metadata(
    flow: AnalyzedFlow,
    rel_path: str,
    spec: FlowSpec,
    chash: str,
    namespace: str,
    closure: Closure | None = None,
) -> dict[str, Any]:
    """The `metadata.json` document of a flow's artifact."""
    meta: dict[str, Any] = {
        "format": ARTIFACT_FORMAT,
        "flow_name": spec.name,
        "flow_version": spec.version,
        "namespace": namespace,
        "code_hash": chash,
        "source_file_hash": flow.source_file_hash,
        "source_path": rel_path,
        "flow_spec": spec.to_json(),
    }
    if closure is not None:
        meta["closure_hash"] = closure.hash
        meta["closure"] = sorted([p, h] for p, h in closure.hashes.items())
    return meta


def build_artifact(
    flow: AnalyzedFlow,
    rel_path: str,
    source: bytes,
    spec: FlowSpec,
    chash: str,
    namespace: str,
    closure: Closure | None = None,
) -> bytes:
    """The zip bytes of one flow's artifact (deterministic)."""
    buf = io.BytesIO()
    meta = metadata(flow, rel_path, spec, chash, namespace, closure)
    files = {**(closure.files if closure else {}), rel_path: source}
    entries = [("metadata.json", canonical_bytes(meta))]
    entries += [(f"source/{path}", files[path]) for path in sorted(files)]
    with zipfile.ZipFile(buf, "w") as zf:
        for name, data in entries:
            info = zipfile.ZipInfo(name, date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            info.create_system = 3
            zf.writestr(info, data, compresslevel=9)
    return buf.getvalue()


def read_artifact(path: Path) -> Artifact:
    """An artifact's content, after checking that its hashes are intact."""
    where = str(path)
    closure: dict[str, bytes] | None = None
    try:
        with zipfile.ZipFile(path) as zf:
            meta = json.loads(zf.read("metadata.json").decode("utf-8"))
            source_path = meta["source_path"]
            source = zf.read(f"source/{source_path}")
            listed = meta.get("closure") if _clean_source_path(source_path) else None
            if listed is not None:
                closure = {p: zf.read(f"source/{p}") for p, _ in listed}
    except FileNotFoundError:
        raise DagyError(f"{where}: no such file") from None
    except (zipfile.BadZipFile, KeyError, ValueError, TypeError) as exc:
        raise DagyError(f"{where}: not a dagy-git artifact ({exc})") from None
    if not isinstance(meta, dict) or meta.get("format") != ARTIFACT_FORMAT:
        raise DagyError(f"{where}: unknown artifact format {meta.get('format')!r}")
    try:
        spec = FlowSpec.model_validate(meta["flow_spec"])
    except Exception as exc:
        raise DagyError(f"{where}: metadata.json has an invalid flow_spec: {exc}") from None
    shash = source_file_hash(source)
    chash = spec_hash(spec, shash)
    intact = (shash, chash) == (meta.get("source_file_hash"), meta.get("code_hash"))
    if closure is not None:
        hashes = {p: source_file_hash(d) for p, d in closure.items()}
        intact = intact and (
            sorted([p, h] for p, h in hashes.items()) == meta["closure"]
            and closure_hash(hashes) == meta.get("closure_hash")
            and all(_clean_source_path(p) for p in closure)
            and closure.get(source_path) == source
        )
    if not intact:
        raise DagyError(
            f"{where}: hashes do not match its content (was it edited?)",
            hint="rebuild it with `dagy-git build`",
        )
    if not _clean_source_path(source_path):
        raise DagyError(
            f"{where}: invalid source_path {source_path!r}",
            hint="a repo-relative POSIX path of a .py file, as `dagy-git build` writes it",
        )
    try:
        validate_name(spec.name)
        validate_version(spec.version)
    except DagyError as exc:
        raise DagyError(f"{where}: {exc.message}") from None
    flow = AnalyzedFlow(
        spec=spec, path=source_path, line=1, source_file_hash=shash, code_hash=chash
    )
    namespace = meta.get("namespace")
    return Artifact(
        flow, source_path, source, namespace if isinstance(namespace, str) else None, closure
    )


def _clean_source_path(path: object) -> bool:
    """A normalised, repo-relative POSIX path of a `.py` file (what `build` writes; every
    closure member is a `.py` module, packages as `__init__.py`)."""
    if not isinstance(path, str) or not path.endswith(".py") or "\\" in path:
        return False
    parts = path.split("/")
    return all(p not in ("", ".", "..", ".git") for p in parts)
