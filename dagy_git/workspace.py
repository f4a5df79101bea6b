"""The workspace: one repository's root, settings and manifests, loaded once per command."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from dagy_git import gitio

if TYPE_CHECKING:
    from dagy_git.config import Settings
    from dagy_git.identity import ClosureFinder
    from dagy_git.manifests import Manifest
    from dagy_git.registry import Registry


@dataclass
class Workspace:
    """Where a command runs: the repository, its settings and (lazily) its manifests."""

    root: Path
    cwd: Path
    settings: Settings
    _files: list[str] | None = field(default=None, repr=False)

    @property
    def files(self) -> list[str]:
        """Tracked and untracked-but-not-ignored files, repo-relative (one `git ls-files`)."""
        if self._files is None:
            self._files = gitio.list_files(self.root)
        return self._files

    @cached_property
    def closures(self) -> ClosureFinder:
        """The repository's files and import closures, each file read and scanned once
        per command: the analysis cache keys, deploy's closures and dirty check share it."""
        from dagy_git.identity import ClosureFinder

        return ClosureFinder(self.root)

    @cached_property
    def manifests(self) -> list[Manifest]:
        """Every `dagy.toml` of the repository."""
        from dagy_git.manifests import load_manifests

        return load_manifests(self.root, self.files)

    def registry(self) -> Registry:
        """The registry of this repository, per its settings."""
        from dagy_git.registry import Registry

        return Registry.from_settings(self.settings)

    def unpulled_registry(self) -> tuple[str, str] | None:
        """`(name, commit)` of the remote-tracking registry branch when there is no local
        one (a fresh clone): read-only, it still says which versions are registered."""
        if self.registry().tip() is not None:
            return None
        ref = f"refs/remotes/{self.settings.remote}/{self.settings.registry_branch}"
        commit = gitio.list_refs(self.root, [ref]).get(ref)
        return (ref.removeprefix("refs/remotes/"), commit) if commit else None

    def remote(self, explicit: str | None) -> str:
        """The remote to talk to: the explicit one, else the configured one."""
        return explicit or self.settings.remote

    def rel(self, path: Path) -> str:
        """A path as repo-relative POSIX text."""
        return path.resolve().relative_to(self.root).as_posix()


def open_workspace(cwd: Path, *, within: Path | None = None) -> Workspace:
    """Find the repository around `within` (default: `cwd`) and load its settings."""
    from dagy_git.config import load_settings

    root = gitio.repo_root(within or cwd).resolve()
    return Workspace(root=root, cwd=cwd.resolve(), settings=load_settings(root))
