"""Reading one registry commit: the `Snapshot`, and the version tags it knows about.

Every read is lazy, batched and limited to what is asked: blobs come from one long-lived
`git cat-file --batch` process (a few by path, `<commit>:<path>`; more by id after one
`git ls-tree -r` of just the folders they live in), one flow's versions from its own tree
object, the whole tree is listed only by questions about every flow (`list`), tags come
from one `for-each-ref` over just the refs asked for. So `show`, `log`, `tag` and the deploy
of a few flows cost the same in a registry of 100 flows or of 5,000. Keys read from git are
trusted as they are (decoded once, not re-validated). Anything that does not parse is a
`RegistryError` naming `<branch>:<path>`.

pydantic is imported only when a model is asked for (`records`, `deployments`, `drafts`):
the read commands use the plain-dict readers (`record_dicts`, `deployment_dicts`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from dagy_git import gitio
from dagy_git.errors import RegistryError
from dagy_git.names import (
    decode_name,
    decode_version,
    encode_name,
    encode_version,
    validate_name,
    validate_version,
)
from dagy_git.registry.commitread import CommitReader
from dagy_git.registry.plain import DEPLOYMENT_FIELDS, FLOW_RECORD_FIELDS, check_fields
from dagy_git.registry.types import Key, RemoteState
from dagy_git.registry.versiontags import TagInfo, version_tag_refs

if TYPE_CHECKING:
    from types import TracebackType

    from dagy_git.models import DeploymentRecord, DraftRecord, FlowRecord

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


def flow_dir(name: str, version: str) -> str:
    """The folder of one flow version on the registry branch (name and version escaped)."""
    return f"flows/{encode_name(name)}/{encode_version(version)}"


class Snapshot(CommitReader):
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
        super().__init__(root, commit, label=label)
        self.tag_prefix = tag_prefix
        self.remote = remote
        # Local version tags the remote lacks, pushed along with the next write (see remote.py).
        self.carry = dict(carry or {})
        self._dirs: dict[Key, str] = {}  # flow version -> its folder, as read from git

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
        # Records first: four in five paths of a registry are sources and specs.
        records = [p for p in self.listing() if p.endswith("/record.json")]
        for path in records:
            if path.startswith("flows/"):
                parts = path.split("/")
                if len(parts) == 4:
                    # names are escaped like versions (`Daily%20Sales%20ETL`)
                    name = decode_name(parts[1]) if "%" in parts[1] else parts[1]
                    key = (name, self._decode_key(path, parts[2]))
                    self._dirs[key] = f"flows/{parts[1]}/{parts[2]}"
                    keys.append(key)
        return sorted(keys)

    def versions(self, name: str) -> list[str]:
        """The registered versions of one flow, sorted: one read of that flow's folder."""
        folder = f"flows/{encode_name(validate_name(name))}"
        found: list[str] = []
        for key, (mode, _) in self._subtree(folder).items():
            if mode == "40000":
                version = self._decode_key(f"{folder}/{key}", key)
                self._dirs[(name, version)] = f"{folder}/{key}"
                found.append(version)
        return sorted(found)

    def _decode_key(self, path: str, key: str) -> str:
        # Trusted as read from git: only escaped keys need decoding (no re-encoding check).
        if "%" not in key:
            return key
        try:
            return decode_version(key)
        except (ValueError, UnicodeDecodeError):
            raise RegistryError(
                f"{self._where(path)}: {key!r} is not an escaped version",
                hint="fix or revert the commit that wrote it",
            ) from None

    def _dir(self, key: Key) -> str:
        """The folder of a flow version: as read from git, or built from a checked key."""
        folder = self._dirs.get(key)
        if folder is None:
            folder = flow_dir(*self._key(*key))
        return folder

    def _record_blobs(self, keys: list[Key] | None) -> list[tuple[Key, str, bytes]]:
        wanted = self.flow_versions() if keys is None else keys
        paths = [f"{self._dir(k)}/record.json" for k in wanted]
        blobs = self._blobs(paths)
        return [
            (k, p, d) for k, p in zip(wanted, paths, strict=True) if (d := blobs[p]) is not None
        ]

    def _check_key(self, key: Key, path: str, name: str, version: str) -> None:
        if (name, version) != key:
            raise RegistryError(
                f"{self._where(path)} names {name}@{version} but is stored as {key[0]}@{key[1]}",
                hint="fix or revert the commit that wrote it",
            )

    def records(self, keys: list[Key] | None = None) -> dict[Key, FlowRecord]:
        """Records of `keys` (default: all) that exist, read in one batch."""
        from dagy_git.models import FlowRecord

        out: dict[Key, FlowRecord] = {}
        for key, path, data in self._record_blobs(keys):
            rec = self._model(FlowRecord, path, data)
            self._check_key(key, path, rec.flow_name, rec.flow_version)
            out[key] = rec
        return out

    def record_dicts(self, keys: list[Key] | None = None) -> dict[Key, dict[str, Any]]:
        """Like `records`, as plain dicts checked without pydantic (for read commands)."""
        out: dict[Key, dict[str, Any]] = {}
        for key, path, data in self._record_blobs(keys):
            rec = self._plain(FLOW_RECORD_FIELDS, "FlowRecord", path, data)
            self._check_key(key, path, rec["flow_name"], rec["flow_version"])
            out[key] = rec
        return out

    def _plain(self, fields: Any, what: str, path: str, data: bytes) -> dict[str, Any]:
        checked = check_fields(self._json(path, data), fields)
        if isinstance(checked, str):
            raise RegistryError(
                f"{self._where(path)} is not a valid {what}: {checked}",
                hint="fix or revert the commit that wrote it on the registry branch",
            )
        return checked

    def record(self, name: str, version: str) -> FlowRecord | None:
        """The record of one flow version, or None."""
        return self.records([(name, version)]).get((name, version))

    def spec(self, name: str, version: str) -> dict[str, Any] | None:
        """The stored FlowSpec JSON of one flow version, or None."""
        path = f"{self._dir((name, version))}/spec.json"
        data = self._blobs([path])[path]
        if data is None:
            return None
        value = self._json(path, data)
        if not isinstance(value, dict):
            raise RegistryError(f"{self._where(path)} is not a JSON object")
        return value

    def spec_bytes(self, keys: list[Key]) -> dict[Key, bytes]:
        """The stored spec.json bytes of `keys` that exist, read in one batch (validated by
        whoever needs them, in one pydantic step: `models.StoredSpec`)."""
        paths = [f"{self._dir(k)}/spec.json" for k in keys]
        blobs = self._blobs(paths)
        return {
            key: data
            for key, path in zip(keys, paths, strict=True)
            if (data := blobs[path]) is not None
        }

    def source_blobs(self) -> dict[str, list[Key]]:
        """`{blob id: flow versions}` of the deployed flow files (`source/<file>`), from
        the listing of the whole tree: which versions were deployed from given bytes."""
        self.flow_versions()  # fills the folder of every key
        by_folder = {folder: key for key, folder in self._dirs.items()}
        out: dict[str, list[Key]] = {}
        for path, oid in self.listing().items():
            folder, sep, _ = path.partition("/source/")
            if sep and folder in by_folder:
                out.setdefault(oid, []).append(by_folder[folder])
        return out

    def flow_tags(self, name: str, version: str) -> dict[str, str]:
        """The dagy tags of one flow version (`{}` when none or not registered)."""
        return self.flow_tags_many([(name, version)])[(name, version)]

    def flow_tags_many(self, keys: list[Key] | None = None) -> dict[Key, dict[str, str]]:
        """The dagy tags of `keys` (default: every registered version), in one batch."""
        keys = self.flow_versions() if keys is None else keys
        paths = [f"{self._dir(k)}/tags.json" for k in keys]
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
        folder = f"{self._dir((name, version))}/source"
        files = dict(
            sorted((n, oid) for n, (mode, oid) in self._subtree(folder).items() if mode != "40000")
        )
        if not files:
            return None
        # Beside the flow file may sit modules it imports (a flow at the repository root
        # importing `a.py`): the record says which file is the flow's.
        record = self.record(name, version)
        base = next(iter(files))
        if record is not None and record.source_path:
            own = record.source_path.rpartition("/")[2]
            if record.closure_hash is not None:  # stored at its repo-relative path too
                data = self._blobs([f"{folder}/{record.source_path}"])
                if data[f"{folder}/{record.source_path}"] is not None:
                    return own, data[f"{folder}/{record.source_path}"]  # type: ignore[return-value]
            base = own if own in files else base
        blob = self.reader.read(files[base])
        return (base, blob.data) if blob is not None else None

    def closure_sources(self, name: str, version: str) -> dict[str, bytes]:
        """The stored closure of one flow version: `{repo-relative path: bytes}` of the flow
        file and the repository modules it imported, as deployed (empty when not stored)."""
        record = self.record(name, version) if self.commit is not None else None
        if record is None or record.closure_hash is None or not record.source_path:
            return {}  # written before closures: only the flow file, under its basename
        prefix = f"{self._dir((name, version))}/source/"
        ids = {p[len(prefix) :]: oid for p, oid in self.listing().items() if p.startswith(prefix)}
        # `source/<basename>` is the format-1 copy of the flow file (same blob), not a module.
        base = record.source_path.rpartition("/")[2]
        if base != record.source_path and ids.get(base) == ids.get(record.source_path):
            ids.pop(base, None)
        blobs = self._blobs([prefix + rel for rel in ids])
        return {p[len(prefix) :]: d for p, d in blobs.items() if d is not None}

    def latest_version(self, name: str) -> str | None:
        """The most recently updated version of a flow (ties: the greatest version): reads
        that flow's folder and records only."""
        recs = self.record_dicts([(name, v) for v in self.versions(name)])
        if not recs:
            return None
        latest = max(recs.values(), key=lambda r: (r["updated_at"], r["flow_version"]))
        return str(latest["flow_version"])

    @staticmethod
    def _key(name: str, version: str) -> Key:
        return validate_name(name), validate_version(version)

    # -- deployments and drafts -------------------------------------------------------

    def deployment(self, name: str) -> DeploymentRecord | None:
        """One deployment by name, or None."""
        from dagy_git.models import DeploymentRecord

        path = f"deployments/{validate_name(name, 'deployment name')}.json"
        data = self._blobs([path])[path]
        return None if data is None else self._named(DeploymentRecord, path, data, name)

    def deployment_names(self) -> list[str]:
        """The name of every deployment, sorted, without reading (or judging) any record."""
        return sorted(
            p[len("deployments/") : -len(".json")]
            for p in self.listing()
            if p.startswith("deployments/") and p.endswith(".json") and p.count("/") == 1
        )

    def deployments(self) -> list[DeploymentRecord]:
        """Every deployment, by name."""
        from dagy_git.models import DeploymentRecord

        return [self._named(DeploymentRecord, p, d, n) for n, p, d in self._folder("deployments")]

    def deployment_dicts(self, names: list[str] | None = None) -> list[dict[str, Any]]:
        """Deployments (default: every one) as plain dicts checked without pydantic, by
        name; reads the `deployments` folder only, a named few by path."""
        if names is None:
            found = self._folder("deployments")
        else:
            paths = [f"deployments/{validate_name(n, 'deployment name')}.json" for n in names]
            blobs = self._blobs(paths)
            found = [(n, p, d) for n, p in zip(names, paths, strict=True) if (d := blobs[p])]
        out = []
        for name, path, data in sorted(found):
            rec = self._plain(DEPLOYMENT_FIELDS, "DeploymentRecord", path, data)
            if rec["name"] != name:
                raise RegistryError(
                    f"{self._where(path)} names deployment {rec['name']!r}",
                    hint="fix or revert the commit that wrote it",
                )
            out.append(rec)
        return out

    def draft(self, draft_id: str) -> DraftRecord | None:
        """One DAG draft by id, or None."""
        from dagy_git.models import DraftRecord

        path = f"drafts/{validate_name(draft_id, 'draft id')}.json"
        data = self._blobs([path])[path]
        return None if data is None else self._model(DraftRecord, path, data)

    def drafts(self) -> dict[str, DraftRecord]:
        """Every DAG draft, `{draft_id: record}`."""
        from dagy_git.models import DraftRecord

        return {n: self._model(DraftRecord, p, d) for n, p, d in self._folder("drafts")}

    def _folder(self, folder: str) -> list[tuple[str, str, bytes]]:
        """`(name, path, bytes)` of the `.json` files of one top folder, by name: one read
        of that folder's tree, then its blobs by id."""
        if self._listing is not None:
            entries = {
                p[len(folder) + 1 :]: oid
                for p, oid in self._listing.items()
                if p.startswith(folder + "/") and p.count("/") == 1
            }
        else:
            entries = {
                n: oid for n, (mode, oid) in self._subtree(folder).items() if mode != "40000"
            }
        names = sorted(n for n in entries if n.endswith(".json"))
        objs = self.reader.read_many([entries[n] for n in names])
        return [
            (n[:-5], f"{folder}/{n}", o.data)
            for n, o in zip(names, objs, strict=True)
            if o is not None and o.type == "blob"
        ]

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
        return f"refs/tags/{self.tag_prefix}{encode_name(name)}/{encode_version(version)}"

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
        refs = {self.tag_ref(*(k if k in self._dirs else self._key(*k))): k for k in keys}
        values = self.tag_values(list(refs))
        objs = self.reader.read_many(list(values.values()))
        return {
            refs[ref]: TagInfo.parse(ref, obj)
            for (ref, oid), obj in zip(values.items(), objs, strict=True)
            if obj is not None
        }
