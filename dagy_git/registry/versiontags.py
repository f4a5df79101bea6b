"""Version tag refs, and what a version tag's message says (`TagInfo`)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagy_git import gitio
from dagy_git.registry.log import parse_trailer_lines

__all__ = ["TagInfo", "version_tag_refs"]


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
