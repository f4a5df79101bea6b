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

if TYPE_CHECKING:
    from pydantic import BaseModel

__all__ = ["CommitReader"]

M = TypeVar("M", bound="BaseModel")
_BY_PATH_MAX = 8  # past this many paths, one `ls-tree -r` and reads by id are cheaper
# Past this many folders, one listing of the whole tree is cheaper than naming each folder
# to `ls-tree` (git matches every entry against every pathspec).
_FOLDERS_MAX = 64


# Commits never change, so their listings are shared by the snapshots of one process.
_LISTINGS: dict[tuple[str, str], dict[str, str]] = {}


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
        """Every blob of the commit, `{path: blob id}` (one `ls-tree -r` per commit and
        process: a deploy's registry cache and its plan read the same commit)."""
        if self._listing is None:
            if self.commit is None:
                self._listing = {}
            else:
                where = (str(self.root), self.commit)
                if where not in _LISTINGS:
                    _LISTINGS.clear()  # one commit at a time is all a command reads
                    _LISTINGS[where] = gitio.ls_tree_blobs(self.root, self.commit)
                self._listing = _LISTINGS[where]
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
        if ids is not None:
            unique = list(dict.fromkeys(i for i in ids if i is not None))
            by_id = dict(zip(unique, self.reader.read_many(unique), strict=True))
            got = [by_id[i] if i is not None else None for i in ids]
        else:
            got = self.reader.read_many([f"{self.commit}:{p}" for p in paths])
        return {
            p: (o.data if o is not None and o.type == "blob" else None)
            for p, o in zip(paths, got, strict=True)
        }

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
