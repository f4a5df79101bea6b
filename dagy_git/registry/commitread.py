"""Reading the blobs of one commit: batched, and only the folders asked about.

A few paths are read by path through one long-lived `git cat-file --batch`; more are read
by blob id after one `git ls-tree -r` of just the folders they live in; only a question
about everything lists the whole tree (once per commit and process). `Snapshot` gives
these blobs their registry meaning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from dagy_git import gitio
from dagy_git.errors import RegistryError
from dagy_git.gitobjects import parse_tree
from dagy_git.registry.listing import listing

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["CommitReader"]

M = TypeVar("M", bound="BaseModel")
_BY_PATH_MAX = 8  # past this many paths, one `ls-tree -r` and reads by id are cheaper
# Past this many folders, one listing of the whole tree is cheaper than naming each folder
# to `ls-tree` (git matches every entry against every pathspec).
_FOLDERS_MAX = 64


# Blobs never change: one deploy reads a record for its registry cache and again for its plan
# (another snapshot of the same commit), so blobs read by id are kept, up to a bound.
_BLOBS: dict[str, bytes] = {}
_BLOBS_MAX_BYTES = 64 << 20
_blobs_size = 0


def _remember(oid: str, data: bytes) -> None:
    global _blobs_size
    if _blobs_size + len(data) > _BLOBS_MAX_BYTES:
        _BLOBS.clear()  # a long-running server reads many commits: start afresh
        _blobs_size = 0
    _BLOBS[oid] = data
    _blobs_size += len(data)


def _folder_of(path: str) -> str:
    """The folder a path is listed with: `flows/<name>` for a flow's files, else its top."""
    parts = path.split("/", 2)
    if parts[0] == "flows" and len(parts) == 3:
        return f"flows/{parts[1]}"
    return parts[0]


class CommitReader:
    """Batched, lazy reads of the blobs and trees of one commit (`commit` None: empty)."""

    def __init__(self, root: Path, commit: str | None, *, label: str) -> None:
        self.root = root
        self.commit = commit
        self.label = label  # how messages name the branch: `dagy/registry`, `origin/dagy/registry`
        self.reader = gitio.CatFile(root)
        self._listing: dict[str, str] | None = None  # path -> blob id, the whole tree
        self._known: dict[str, str] = {}  # path -> blob id, from listings of some folders
        self._listed: set[str] = set()  # the folders `_known` holds completely

    def _where(self, path: str) -> str:
        return f"{self.label}:{path}"

    def listing(self) -> dict[str, str]:
        """Every blob of the commit, `{path: blob id}` (`registry/listing.py`: read once
        per commit, and kept)."""
        if self._listing is None:
            self._listing = {} if self.commit is None else listing(self.root, self.commit)
        return self._listing

    def _blob_ids(self, paths: list[str]) -> list[str | None] | None:
        """Blob ids of `paths` from a listing, or None when reading by path is cheaper.

        Only the folders the paths live in are listed (`flows/<name>`, `deployments`):
        many folders, or a listing of the whole tree already made, use the whole tree.
        """
        if self._listing is not None:
            return [self._listing.get(p) for p in paths]
        folders = {_folder_of(p) for p in paths}
        missing = folders - self._listed
        if missing:
            if len(paths) <= _BY_PATH_MAX:
                return None
            if len(missing) > _FOLDERS_MAX:
                listing = self.listing()
                return [listing.get(p) for p in paths]
            self._known.update(gitio.ls_tree_blobs(self.root, self.commit or "", sorted(missing)))
            self._listed |= missing
        return [self._known.get(p) for p in paths]

    def _blobs(self, paths: list[str]) -> dict[str, bytes | None]:
        """Blob contents by path, in one batch (None where absent).

        A few paths are read as `<commit>:<path>`; more are read by blob id after one
        `ls-tree -r` of their folders, each distinct blob once (by path, git walks the tree
        for every one, which costs ~0.5 ms each in a large registry).
        """
        if self.commit is None or not paths:
            return dict.fromkeys(paths)
        ids = self._blob_ids(paths)
        if ids is None:
            got = self.reader.read_many([f"{self.commit}:{p}" for p in paths])
            return {
                p: (o.data if o is not None and o.type == "blob" else None)
                for p, o in zip(paths, got, strict=True)
            }
        have: dict[str | None, bytes] = {}
        missing: list[str] = []
        for oid in dict.fromkeys(i for i in ids if i is not None):
            data = _BLOBS.get(oid)  # one lookup: another thread may clear the cache
            if data is None:
                missing.append(oid)
            else:
                have[oid] = data
        for oid, obj in zip(missing, self.reader.read_many(missing), strict=True):
            if obj is not None and obj.type == "blob":
                have[oid] = obj.data
                _remember(oid, obj.data)
        return {p: have.get(i) for p, i in zip(paths, ids, strict=True)}

    def _subtree(self, folder: str) -> dict[str, tuple[str, str]]:
        """The entries of one folder of the commit, `{name: (mode, oid)}` ({} if absent):
        one tree object read by path, whatever the size of the rest of the registry."""
        if self.commit is None:
            return {}
        obj = self.reader.read(f"{self.commit}:{folder}")
        if obj is None or obj.type != "tree":
            return {}
        return parse_tree(obj.data, len(obj.oid) // 2)

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
        from pydantic import ValidationError

        try:
            return cls.model_validate_json(data)  # one step: ~2x faster than json + validate
        except ValidationError:
            pass  # say why in the words below
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
