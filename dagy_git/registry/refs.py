"""Where a registry lives: its repository, branch and tag prefix, and moving its refs.

The one piece every registry module needs (readers for the tip, writers and remotes to
move refs), so they take a `RegistryRefs` rather than the whole `Registry`.
"""

from __future__ import annotations

from pathlib import Path

from dagy_git import gitio
from dagy_git.errors import RegistryError
from dagy_git.gitio import RefBlockedError, RefUpdate
from dagy_git.gitobjects import valid_refname

__all__ = ["RegistryRefs"]

# Creating this many version tags at once packs the tag refs afterwards: listing
# thousands of loose refs is several times slower than one packed-refs file.
_PACK_REFS_AFTER = 64


class RegistryRefs:
    """The registry branch and version-tag prefix of one repository."""

    def __init__(
        self,
        repo_root: Path,
        branch: str = "dagy/registry",
        tag_prefix: str = "dagy/",
    ) -> None:
        if not valid_refname(f"refs/heads/{branch}") or branch.startswith("-"):
            raise RegistryError(
                f"invalid registry branch name {branch!r}",
                hint="set `registry_branch` to a valid git branch name",
            )
        if not valid_refname(f"refs/tags/{tag_prefix}x"):
            raise RegistryError(
                f"invalid tag prefix {tag_prefix!r}",
                hint="set `tag_prefix` to something like `dagy/`",
            )
        self.root = Path(repo_root)
        self.branch = branch
        self.tag_prefix = tag_prefix
        self.branch_ref = f"refs/heads/{branch}"
        self._object_format: str | None = None

    def __repr__(self) -> str:
        return f"Registry({str(self.root)!r}, {self.branch!r}, {self.tag_prefix!r})"

    @property
    def object_format(self) -> str:
        """`sha1` or `sha256`, asked of git once."""
        if self._object_format is None:
            self._object_format = gitio.object_format(self.root)
        return self._object_format

    @property
    def zero(self) -> str:
        """The all-zero id: "no such ref" in ref updates."""
        return "0" * (64 if self.object_format == "sha256" else 40)

    def tip(self) -> str | None:
        """The local registry branch's commit, or None when there is no registry yet."""
        return gitio.list_refs(self.root, [self.branch_ref]).get(self.branch_ref)

    def update_refs(self, updates: list[RefUpdate]) -> None:
        """Move refs in one `update-ref --stdin` transaction checking old values."""
        try:
            gitio.update_refs(self.root, updates)
        except RefBlockedError as exc:
            hint = (
                "set `registry_branch` in dagy.toml to another name"
                if exc.ref == self.branch_ref
                else f"rename or delete the ref {exc.blocker}, or set `tag_prefix` in dagy.toml"
            )
            raise RegistryError(
                f"cannot create {exc.ref}: the ref {exc.blocker} is in the way", hint=hint
            ) from None
        created = sum(1 for u in updates if u.ref.startswith("refs/tags/") and u.old == self.zero)
        if created >= _PACK_REFS_AFTER:
            gitio.pack_refs(self.root)

    def _check_creatable(self) -> None:
        """Refuse early when a user ref blocks the branch (`refs/heads/dagy` vs `dagy/…`)."""
        parts = self.branch_ref.split("/")
        ancestors = ["/".join(parts[:i]) for i in range(3, len(parts))]
        for ref in gitio.list_refs(self.root, [*ancestors, self.branch_ref]):
            if ref in ancestors or ref.startswith(self.branch_ref + "/"):
                raise RegistryError(
                    f"cannot create the registry branch {self.branch}: the ref {ref} is in the way",
                    hint="set `registry_branch` in dagy.toml to another name "
                    "(e.g. `dagy-registry`), or rename that branch",
                )
