"""The registry is the cache: the flows of a file that a registered version was analysed from.

A deploy keeps in each record.json an `analysis` field: the key its flow file was analysed
under (`AnalysisCache.registry_key`: the file's path and the bytes of it and of every
repository module it may import) and every flow that analysis found in the file, as
`[function, flow_name, flow_version, line]`. When today's file has the same key, the
registry already holds its flows: their specs are read from spec.json instead of parsing
the file. Unlike the local cache this works on a fresh CI clone.

The registry must vouch for the whole file, or the file is analysed: every flow the record
lists must be registered under its own name and version (not a `--flow-version` override)
with the same key and the same source_file_hash.
Candidates are found by blob id: the listing of the registry (which a deploy reads anyway)
names the blob of every deployed flow file, so only matching records are read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dagy_git import hashing
from dagy_git.analysis import AnalyzedFlow
from dagy_git.errors import DagyError
from dagy_git.gitobjects import blob_id
from dagy_git.models import FlowSpec, StoredSpec

if TYPE_CHECKING:
    from pathlib import Path

    from dagy_git.analysis_cache import AnalysisCache
    from dagy_git.registry import Snapshot
    from dagy_git.workspace import Workspace

__all__ = ["analysis_record", "prefetch", "registry_flows"]

Key = tuple[str, str]


def analysis_record(
    cache: AnalysisCache,
    path: Path,
    rel: str,
    flows: list[AnalyzedFlow],
    source: bytes | None = None,
) -> dict[str, Any] | None:
    """What record.json keeps of the analysis of a file's flows (None: nothing to keep);
    `source` is the file's bytes when already read. An approximate analysis (with
    warnings) is not kept: such a file is analysed anew, so its warnings are always said."""
    if not flows or any(f.warnings for f in flows):
        return None
    if source is None:
        try:
            source = path.read_bytes()
        except OSError:
            return None
    return {
        "key": cache.registry_key(rel, source),
        "flows": sorted(
            [f.spec_ref.function, f.spec_ref.name, f.spec_ref.version, f.line] for f in flows
        ),
    }


def registry_flows(
    ws: Workspace, cache: AnalysisCache, rels: list[str], sources: dict[str, bytes]
) -> dict[str, list[AnalyzedFlow]]:
    """The files among `rels` whose flows the registry holds for today's bytes (files
    read here are added to `sources`)."""
    if not cache.enabled or not rels:
        return {}
    registry = ws.registry()
    commit = _vouching_commit(ws)
    if commit is None:
        return {}
    for rel in rels:
        if rel not in sources:
            try:
                sources[rel] = (ws.root / rel).read_bytes()
            except OSError:
                continue  # the analysis says why
    wanted = {rel: sources[rel] for rel in rels if rel in sources}
    try:
        with registry.snapshot(commit) as snap:
            return _known(snap, cache, wanted, registry.object_format)
    except DagyError:
        return {}  # a registry that cannot be read vouches for nothing: analyse


def prefetch(ws: Workspace, cache: AnalysisCache, n_files: int) -> None:
    """Start listing the registry in the background before `n_files` flow files are read:
    by the time `registry_flows` needs the listing, git has made it on another core."""
    commit = _vouching_commit(ws) if cache.worth(n_files) else None
    if commit is not None:
        ws.registry().prefetch(commit)


def _vouching_commit(ws: Workspace) -> str | None:
    """The registry commit whose records vouch for files: the tip, or on a fresh clone
    before `pull` the remote-tracking copy."""
    commit = ws.registry().tip()
    if commit is None:
        tracking = ws.unpulled_registry()
        commit = tracking[1] if tracking else None
    return commit


def _known(
    snap: Snapshot, cache: AnalysisCache, sources: dict[str, bytes], fmt: str
) -> dict[str, list[AnalyzedFlow]]:
    # Each file's key and blob id first: while they are worked out, git is still listing the
    # registry on the other core (`prefetch`).
    keys = {rel: cache.registry_key(rel, data) for rel, data in sources.items() if data}
    blobs = {rel: blob_id(sources[rel], fmt) for rel in keys}
    by_blob = snap.source_blobs()
    candidates = {rel: by_blob.get(blob, []) for rel, blob in blobs.items()}
    records = snap.record_dicts(sorted({k for found in candidates.values() for k in found}))
    # The analysis each file's candidates recorded under today's key, and the keys it lists.
    listed: dict[str, list[Any]] = {}
    for rel, found in candidates.items():
        for k in found:
            analysis = (records.get(k) or {}).get("analysis") or {}
            if analysis.get("key") == keys[rel] and isinstance(analysis.get("flows"), list):
                listed[rel] = analysis["flows"]
                break
    wanted = sorted(
        {(str(f[1]), str(f[2])) for flows in listed.values() for f in flows if len(f) == 4}
    )
    records.update(snap.record_dicts([k for k in wanted if k not in records]))
    specs = snap.spec_bytes(wanted)
    out: dict[str, list[AnalyzedFlow]] = {}
    for rel, flows in listed.items():
        got = _vouched(rel, keys[rel], sources[rel], flows, records, specs)
        if got:
            out[rel] = got
    return out


def _vouched(
    rel: str,
    key: str,
    source: bytes,
    flows: list[Any],
    records: dict[Key, dict[str, Any]],
    specs: dict[Key, bytes],
) -> list[AnalyzedFlow] | None:
    """The file's flows, if the registry holds every one as analysed from these bytes."""
    sfh = hashing.source_file_hash(source)
    out: list[AnalyzedFlow] = []
    for item in flows:
        if not (
            isinstance(item, list)
            and len(item) == 4
            and all(isinstance(x, str) for x in item[:3])
            and isinstance(item[3], int)
        ):
            return None
        function, name, version, line = item
        record, spec = records.get((name, version)), specs.get((name, version))
        if record is None or spec is None:
            return None  # a flow of the file that was never deployed as itself
        analysis = record.get("analysis") or {}
        # (The record's code_hash is trusted as read from git, as `show` trusts it.)
        if (
            analysis.get("key") != key
            or record["source_file_hash"] != sfh
            or not record["code_hash"]
        ):
            return None
        where = f"the spec.json of {name}@{version} on the registry branch"
        stored = StoredSpec(spec, function=function, name=name, version=version, where=where)
        out.append(_StoredFlow(stored, rel, line, sfh, record["code_hash"]))
    return out or None


class _StoredFlow(AnalyzedFlow):
    """A flow of an unchanged file, as the registry holds it: its spec is validated from
    spec.json only when something reads it (a write, an override, `guard`). A no-op deploy
    of 5,000 flows reads none: validating them all took 0.27 s."""

    _stored: StoredSpec

    def __init__(self, stored: StoredSpec, path: str, line: int, sfh: str, code_hash: str):
        # The dataclass's own fields but `spec`, set as its frozen __init__ would.
        for name, value in (
            ("path", path),
            ("line", line),
            ("source_file_hash", sfh),
            ("code_hash", code_hash),
            ("repo_imports", []),
            ("warnings", []),
            ("_stored", stored),
        ):
            object.__setattr__(self, name, value)

    @property
    def spec(self) -> FlowSpec:  # a field of AnalyzedFlow, read lazily here
        return self._stored.get()

    @property
    def spec_ref(self) -> StoredSpec:
        return self._stored
