"""Reading one registry commit: the `Snapshot`, and the version tags it knows about.

Every read is lazy and batched: blobs come from one long-lived `git cat-file --batch`
process (by path, `<commit>:<path>`, until a listing is needed, then by id), listings from
one `git ls-tree -r` of the whole tree, tags from one `for-each-ref` over just the refs
asked for. Anything that does not parse is a `RegistryError` naming `<branch>:<path>`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError

from dagy_git import gitio
from dagy_git.errors import RegistryError
from dagy_git.gitobjects import parse_tree
from dagy_git.models import DeploymentRecord, DraftRecord, FlowRecord
from dagy_git.names import decode_version, encode_version, validate_name, validate_version
from dagy_git.registry.log import parse_trailer_lines
from dagy_git.registry.types import Key, RemoteState

if TYPE_CHECKING:
    from types import TracebackType

__all__ = [
    "FORMAT",
    "MARKER",
    "Snapshot",
    "TagInfo",
    "flow_dir",
    "version_tag_refs",
]

MARKER = "dagy-registry.json"
FORMAT = 1
M = TypeVar("M", bound=BaseModel)
_BY_PATH_MAX = 8  # past this many paths, one `ls-tree -r` and reads by id are cheaper


def flow_dir(name: str, version: str) -> str:
    """The folder of one flow version on the registry branch."""
    return f"flows/{name}/{encode_version(version)}"


def version_tag_refs(root: Path, tag_prefix: str) -> dict[str, str]:
    """Every local ref under `refs/tags/<tag_prefix>` (one for-each-ref)."""
    full = f"refs/tags/{tag_prefix}"
    # for-each-ref matches a literal pattern only up to a `/`: a prefix like `dagy-` needs
    # the whole refs/tags/ listing, filtered here.
    pattern = full if full.endswith("/") else full.rpartition("/")[0] + "/"
    return {r: v for r, v in gitio.list_refs(root, [pattern]).items() if r.startswith(full)}


@dataclass(frozen=True)
class TagInfo:
    """What a version tag ref points at and what its message says."""

    ref: str
    oid: str  # what the ref holds: a tag object, or a commit for a lightweight tag
    annotated: bool
    target: str | None  # the object the tag object names (the source commit)
    code_hash: str | None
    namespace: str | None
    registry_commit: str | None

    @property
    def made_by_dagy(self) -> bool:
        """An annotated tag whose message carries dagy-git's trailers."""
        return self.annotated and self.code_hash is not None

    @classmethod
    def parse(cls, ref: str, obj: gitio.GitObject) -> TagInfo:
        """Read a tag ref's object (a tag object, or a commit for a lightweight tag)."""
        if obj.type != "tag":
            return cls(ref, obj.oid, False, obj.oid, None, None, None)
        text = obj.data.decode("utf-8", "replace")
        head, _, message = text.partition("\n\n")
        target = next((ln[7:] for ln in head.split("\n") if ln.startswith("object ")), None)
        trailers = dict(parse_trailer_lines(message))
        return cls(
            ref,
            obj.oid,
            True,
            target,
            trailers.get("Dagy-Code-Hash"),
            trailers.get("Dagy-Namespace"),
            trailers.get("Dagy-Registry-Commit"),
        )


class Snapshot:
    """An immutable view of one registry commit (`commit` None: no registry yet).

    Use as a context manager, or call `close()`, to end its `cat-file` process.
    """

    def __init__(
        self,
        root: Path,
        commit: str | None,
        *,
        label: str,
        tag_prefix: str,
        remote: RemoteState | None = None,
        carry: dict[str, str] | None = None,
    ) -> None:
        self.root = root
        self.commit = commit
        self.label = label  # how messages name the branch: `dagy/registry`, `origin/dagy/registry`
        self.tag_prefix = tag_prefix
        self.remote = remote
        # Local version tags the remote lacks, pushed along with the next write (see remote.py).
        self.carry = dict(carry or {})
        self.reader = gitio.CatFile(root)
        self._listing: dict[str, str] | None = None  # path -> blob id

    # -- lifecycle --------------------------------------------------------------------

    def close(self) -> None:
        """End the batch process (idempotent)."""
        self.reader.close()

    def __enter__(self) -> Snapshot:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Snapshot({self.label}@{(self.commit or 'none')[:12]})"

    def check_format(self) -> None:
        """Refuse a commit that is not a format-1 registry (missing or unknown marker)."""
        if self.commit is None:
            return
        obj = self.reader.read(self.commit)
        if obj is None or obj.type != "commit":
            raise RegistryError(
                f"{self.label} points at {self.commit[:12]}, which is not a commit",
                hint="the registry branch must hold dagy-git's commits",
            )
        data = self._blobs([MARKER])[MARKER]
        if data is None:
            raise RegistryError(
                f"{self.label}:{MARKER} is missing: this branch is not a dagy registry",
                hint="set `registry_branch` in dagy.toml to a branch dagy-git may own",
            )
        marker = self._json(MARKER, data)
        fmt = marker.get("format") if isinstance(marker, dict) else None
        if fmt != FORMAT:
            raise RegistryError(
                f"{self.label}:{MARKER} has format {fmt!r}; this dagy-git reads format {FORMAT}",
                hint="upgrade dagy-git to read this registry",
            )

    # -- raw access -------------------------------------------------------------------

    def _where(self, path: str) -> str:
        return f"{self.label}:{path}"

    def listing(self) -> dict[str, str]:
        """Every blob of the commit, `{path: blob id}` (one `ls-tree -r`, cached)."""
        if self._listing is None:
            if self.commit is None:
                self._listing = {}
            else:
                entries = gitio.ls_tree(self.root, self.commit)
                self._listing = {e.path: e.oid for e in entries if e.type == "blob"}
        return self._listing

    def _blobs(self, paths: list[str]) -> dict[str, bytes | None]:
        """Blob contents by path, in one batch (None where absent).

        A few paths are read as `<commit>:<path>`; more go through one `ls-tree -r` and are
        read by blob id, each distinct blob once (by path, git walks the tree for every
        one, which costs ~0.5 ms each in a large registry).
        """
        if self.commit is None or not paths:
            return dict.fromkeys(paths)
        if self._listing is None and len(paths) > _BY_PATH_MAX:
            self.listing()
        if self._listing is not None:
            ids = [self._listing.get(p) for p in paths]
            unique = list(dict.fromkeys(i for i in ids if i is not None))
            by_id = dict(zip(unique, self.reader.read_many(unique), strict=True))
            got = [by_id[i] if i is not None else None for i in ids]
        else:
            got = self.reader.read_many([f"{self.commit}:{p}" for p in paths])
        return {
            p: (o.data if o is not None and o.type == "blob" else None)
            for p, o in zip(paths, got, strict=True)
        }

    def read_tree(self, oid: str) -> dict[str, tuple[str, str]]:
        """One tree object as `{name: (mode, oid)}`."""
        obj = self.reader.read(oid)
        if obj is None or obj.type != "tree":
            raise RegistryError(
                f"{self.label}: tree {oid[:12]} is missing from the repository",
                hint="run `git fsck`; fetch the registry again",
            )
        return parse_tree(obj.data, len(oid) // 2)

    def _json(self, path: str, data: bytes) -> Any:
        try:
            return json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise RegistryError(
                f"{self._where(path)} is not valid JSON ({exc})",
                hint="fix or revert the commit that wrote it on the registry branch",
            ) from None

    def _model(self, cls: type[M], path: str, data: bytes) -> M:
        value = self._json(path, data)
        try:
            return cls.model_validate(value)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"]) or "(top level)"
            raise RegistryError(
                f"{self._where(path)} is not a valid {cls.__name__}: {where}: {first['msg']}",
                hint="fix or revert the commit that wrote it on the registry branch",
            ) from None

    def _tags_json(self, path: str, data: bytes | None) -> dict[str, str]:
        if data is None:
            return {}
        value = self._json(path, data)
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise RegistryError(
                f"{self._where(path)} is not a table of strings",
                hint="fix or revert the commit that wrote it",
            )
        return value

    # -- flow versions ----------------------------------------------------------------

    def flow_versions(self) -> list[Key]:
        """Every registered `(flow_name, flow_version)`, sorted (from one `ls-tree -r`)."""
        keys: list[Key] = []
        for path in self.listing():
            parts = path.split("/")
            if len(parts) == 4 and parts[0] == "flows" and parts[3] == "record.json":
                keys.append((parts[1], self._decode_key(path, parts[2])))
        return sorted(keys)

    def _decode_key(self, path: str, key: str) -> str:
        try:
            version = decode_version(key)
        except (ValueError, UnicodeDecodeError):
            version = None
        if version is None or encode_version(version) != key:
            raise RegistryError(
                f"{self._where(path)}: {key!r} is not an escaped version",
                hint="fix or revert the commit that wrote it",
            )
        return version

    def records(self, keys: list[Key] | None = None) -> dict[Key, FlowRecord]:
        """Records of `keys` (default: all) that exist, read in one batch."""
        wanted = self.flow_versions() if keys is None else [self._key(*k) for k in keys]
        paths = [f"{flow_dir(n, v)}/record.json" for n, v in wanted]
        out: dict[Key, FlowRecord] = {}
        blobs = self._blobs(paths)
        for (name, version), path in zip(wanted, paths, strict=True):
            data = blobs[path]
            if data is None:
                continue
            rec = self._model(FlowRecord, path, data)
            if (rec.flow_name, rec.flow_version) != (name, version):
                raise RegistryError(
                    f"{self._where(path)} names {rec.flow_name}@{rec.flow_version} "
                    f"but is stored as {name}@{version}",
                    hint="fix or revert the commit that wrote it",
                )
            out[(name, version)] = rec
        return out

    def record(self, name: str, version: str) -> FlowRecord | None:
        """The record of one flow version, or None."""
        return self.records([(name, version)]).get((name, version))

    def spec(self, name: str, version: str) -> dict[str, Any] | None:
        """The stored FlowSpec JSON of one flow version, or None."""
        path = f"{flow_dir(*self._key(name, version))}/spec.json"
        data = self._blobs([path])[path]
        if data is None:
            return None
        value = self._json(path, data)
        if not isinstance(value, dict):
            raise RegistryError(f"{self._where(path)} is not a JSON object")
        return value

    def flow_tags(self, name: str, version: str) -> dict[str, str]:
        """The dagy tags of one flow version (`{}` when none or not registered)."""
        return self.flow_tags_many([(name, version)])[(name, version)]

    def flow_tags_many(self, keys: list[Key] | None = None) -> dict[Key, dict[str, str]]:
        """The dagy tags of `keys` (default: every registered version), in one batch."""
        keys = self.flow_versions() if keys is None else [self._key(*k) for k in keys]
        paths = [f"{flow_dir(n, v)}/tags.json" for n, v in keys]
        blobs = self._blobs(paths)
        # Many versions share one tags.json text (a team's manifest tags): parse each once.
        parsed: dict[bytes | None, dict[str, str]] = {}
        out: dict[Key, dict[str, str]] = {}
        for key, path in zip(keys, paths, strict=True):
            data = blobs[path]
            if data not in parsed:
                parsed[data] = self._tags_json(path, data)
            out[key] = dict(parsed[data])
        return out

    def all_flow_tags(self) -> dict[Key, dict[str, str]]:
        """The dagy tags of every registered flow version, read in one batch."""
        return self.flow_tags_many()

    def source(self, name: str, version: str) -> tuple[str, bytes] | None:
        """The deployed flow file of one flow version: `(basename, bytes)`, or None."""
        if self.commit is None:
            return None
        folder = f"{flow_dir(*self._key(name, version))}/source"
        obj = self.reader.read(f"{self.commit}:{folder}")
        if obj is None or obj.type != "tree":
            return None
        files = sorted(
            (n, oid)
            for n, (mode, oid) in parse_tree(obj.data, len(obj.oid) // 2).items()
            if mode != "40000"
        )
        if not files:
            return None
        blob = self.reader.read(files[0][1])
        return (files[0][0], blob.data) if blob is not None else None

    def latest_version(self, name: str) -> str | None:
        """The most recently updated version of a flow (ties: the greatest version)."""
        validate_name(name)
        keys = [k for k in self.flow_versions() if k[0] == name]
        recs = self.records(keys)
        if not recs:
            return None
        return max(recs.values(), key=lambda r: (r.updated_at, r.flow_version)).flow_version

    @staticmethod
    def _key(name: str, version: str) -> Key:
        return validate_name(name), validate_version(version)

    # -- deployments and drafts -------------------------------------------------------

    def deployment(self, name: str) -> DeploymentRecord | None:
        """One deployment by name, or None."""
        path = f"deployments/{validate_name(name, 'deployment name')}.json"
        data = self._blobs([path])[path]
        return None if data is None else self._named(DeploymentRecord, path, data, name)

    def deployments(self) -> list[DeploymentRecord]:
        """Every deployment, by name."""
        return [self._named(DeploymentRecord, p, d, n) for n, p, d in self._folder("deployments")]

    def draft(self, draft_id: str) -> DraftRecord | None:
        """One DAG draft by id, or None."""
        path = f"drafts/{validate_name(draft_id, 'draft id')}.json"
        data = self._blobs([path])[path]
        return None if data is None else self._model(DraftRecord, path, data)

    def drafts(self) -> dict[str, DraftRecord]:
        """Every DAG draft, `{draft_id: record}`."""
        return {n: self._model(DraftRecord, p, d) for n, p, d in self._folder("drafts")}

    def _folder(self, folder: str) -> list[tuple[str, str, bytes]]:
        paths = sorted(
            p
            for p in self.listing()
            if p.startswith(folder + "/") and p.endswith(".json") and p.count("/") == 1
        )
        blobs = self._blobs(paths)
        return [(p[len(folder) + 1 : -5], p, d) for p, d in blobs.items() if d is not None]

    def _named(
        self, cls: type[DeploymentRecord], path: str, data: bytes, name: str
    ) -> DeploymentRecord:
        rec = self._model(cls, path, data)
        if rec.name != name:
            raise RegistryError(
                f"{self._where(path)} names deployment {rec.name!r}",
                hint="fix or revert the commit that wrote it",
            )
        return rec

    # -- version tags -----------------------------------------------------------------

    def tag_ref(self, name: str, version: str) -> str:
        """The ref of a flow version's git tag."""
        return f"refs/tags/{self.tag_prefix}{name}/{encode_version(version)}"

    def tag_values(self, refs: list[str]) -> dict[str, str]:
        """`{ref: object id}` of the version tags among `refs` that exist, as this snapshot
        sees them: the local repository's, or the remote's (plus carried local ones)."""
        if self.remote is not None:
            seen = {**self.remote.tags, **self.carry}
            return {r: seen[r] for r in refs if r in seen}
        wanted = set(refs)
        # Exact names are prefix patterns to for-each-ref; past a few hundred, listing the
        # prefix once is cheaper than a huge command line.
        if len(refs) <= 200:
            found = gitio.list_refs(self.root, refs)
        else:
            found = version_tag_refs(self.root, self.tag_prefix)
        return {r: oid for r, oid in found.items() if r in wanted}

    def version_tags(self, keys: list[Key]) -> dict[Key, TagInfo]:
        """The git tags of `keys` that exist, with what their messages say."""
        refs = {self.tag_ref(*self._key(n, v)): (n, v) for n, v in keys}
        values = self.tag_values(list(refs))
        objs = self.reader.read_many(list(values.values()))
        return {
            refs[ref]: TagInfo.parse(ref, obj)
            for (ref, oid), obj in zip(values.items(), objs, strict=True)
            if obj is not None
        }
