"""Git objects in pure Python: blobs, trees, commits, tags, and the pack that carries them.

The registry writes thousands of small objects per operation. Hashing and encoding them
here and handing git one pack stream (`gitio.store_pack`) costs one subprocess, however
many objects there are. Nothing here runs git; `gitio` does.
"""

from __future__ import annotations

import hashlib
import re
import struct
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "BLOB_MODE",
    "TREE_MODE",
    "ObjectSet",
    "blob_id",
    "parse_tree",
    "valid_refname",
]

TREE_MODE = "40000"
BLOB_MODE = "100644"
_TYPES = {"commit": 1, "tree": 2, "blob": 3, "tag": 4}
_HASHES: dict[str, tuple[Callable[..., Any], int]] = {
    "sha1": (hashlib.sha1, 20),
    "sha256": (hashlib.sha256, 32),
}


@dataclass
class ObjectSet:
    """Objects to add to a repository, keyed by id, in the order they were made."""

    object_format: str = "sha1"
    objects: dict[str, tuple[str, bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.object_format not in _HASHES:
            raise ValueError(f"unsupported object format {self.object_format!r}")
        self._new, self.raw_len = _HASHES[self.object_format]

    @property
    def zero(self) -> str:
        """The all-zero object id (a ref that does not exist)."""
        return "0" * (2 * self.raw_len)

    def add(self, kind: str, data: bytes) -> str:
        """Hash one object the way git does and remember it; return its hex id."""
        oid: str = self._new(b"%s %d\0%s" % (kind.encode(), len(data), data)).hexdigest()
        self.objects.setdefault(oid, (kind, data))
        return oid

    def blob(self, data: bytes) -> str:
        """A blob of `data`."""
        return self.add("blob", data)

    def tree(self, entries: dict[str, tuple[str, str]]) -> str:
        """A tree of `{name: (mode, oid)}`, sorted as git sorts (a subtree as `name/`)."""

        def key(item: tuple[str, tuple[str, str]]) -> bytes:
            name, (mode, _) = item
            raw = name.encode("utf-8", "surrogateescape")
            return raw + b"/" if mode == TREE_MODE else raw

        body = b"".join(
            b"%s %s\0%s"
            % (mode.encode(), name.encode("utf-8", "surrogateescape"), bytes.fromhex(oid))
            for name, (mode, oid) in sorted(entries.items(), key=key)
        )
        return self.add("tree", body)

    def commit(
        self, tree: str, parents: Iterable[str], author: str, committer: str, message: str
    ) -> str:
        """A commit; `author`/`committer` are git idents (`Name <email> 1700000000 +0000`)."""
        lines = [
            f"tree {tree}",
            *(f"parent {p}" for p in parents),
            f"author {author}",
            f"committer {committer}",
        ]
        return self.add("commit", ("\n".join(lines) + "\n\n" + message).encode("utf-8"))

    def tag(self, target: str, target_type: str, name: str, tagger: str, message: str) -> str:
        """An annotated tag object named `name` (without `refs/tags/`) on `target`."""
        head = f"object {target}\ntype {target_type}\ntag {name}\ntagger {tagger}\n\n"
        return self.add("tag", (head + message).encode("utf-8"))

    def pack(self) -> bytes:
        """Every object as one version-2 pack stream (no deltas; zlib level 1 for speed)."""
        parts = [b"PACK", struct.pack(">II", 2, len(self.objects))]
        for kind, data in self.objects.values():
            size = len(data)
            byte = (_TYPES[kind] << 4) | (size & 0x0F)
            size >>= 4
            header = bytearray()
            while size:
                header.append(byte | 0x80)
                byte = size & 0x7F
                size >>= 7
            header.append(byte)
            parts.append(bytes(header))
            parts.append(zlib.compress(data, 1))
        body = b"".join(parts)
        digest: bytes = self._new(body).digest()
        return body + digest


def blob_id(data: bytes, object_format: str = "sha1") -> str:
    """The id git gives a blob of `data` (without storing it)."""
    new, _ = _HASHES[object_format]
    digest: str = new(b"blob %d\0%s" % (len(data), data)).hexdigest()
    return digest


def parse_tree(data: bytes, raw_len: int = 20) -> dict[str, tuple[str, str]]:
    """Decode a raw tree object into `{name: (mode, oid)}`."""
    entries: dict[str, tuple[str, str]] = {}
    pos, end = 0, len(data)
    while pos < end:
        space = data.index(b" ", pos)
        nul = data.index(b"\0", space)
        mode = data[pos:space].decode()
        name = data[space + 1 : nul].decode("utf-8", "surrogateescape")
        oid = data[nul + 1 : nul + 1 + raw_len].hex()
        entries[name] = (mode, oid)
        pos = nul + 1 + raw_len
    return entries


_BAD_REF = re.compile(r"[\x00-\x20\x7f~^:?*\[\\]|\.\.|@\{|//|/\.|\.lock/|\.lock\Z|\A[/.]|[/.]\Z")


def valid_refname(ref: str) -> bool:
    """Whether `ref` obeys git-check-ref-format's rules for a full ref name (pure check)."""
    return bool(ref) and ref != "@" and "/" in ref and not _BAD_REF.search(ref)
