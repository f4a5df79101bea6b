"""The registry: the registry branch (format 1) plus the version git tags.

The front door for every reader and writer (DESIGN.md "The registry branch")::

    reg = Registry(repo_root, "dagy/registry", "dagy/")      # or Registry.from_settings(s)
    with reg.snapshot() as snap:                              # one commit, lazily read
        snap.flow_versions(); snap.records(keys); snap.record(name, version)
        snap.spec(..); snap.flow_tags(..); snap.all_flow_tags(); snap.source(..)
        snap.deployment(name); snap.deployments(); snap.draft(id); snap.drafts()
        snap.latest_version(name); snap.version_tags(keys)
        result = reg.write(snap, Transaction(flows=[FlowVersionWrite(...)], ...))
    reg.log(flow_name, version=None, limit=None)             # newest first, one `git log`
    reg.init()                                                # root commit if missing

`write` checks the transaction and the version tags it moves, writes all objects as one
pack, then (with `update_local`) moves the branch and every moved tag in ONE `git
update-ref --stdin` transaction that checks old values; `ConflictError` means another
writer won: read a new snapshot, re-plan, retry (`write_with_retry` does this).

Remotes (`remote.py`) follow the same compare-and-swap, with push leases::

    state = reg.fetch(remote)              # branch + tags into refs/dagy-remote/<remote>/
    with reg.base_snapshot(state) as snap: # what the next push builds on
        result = reg.write(snap, plan(snap), update_local=False)   # objects only
    reg.push(remote, result, expected=state)   # atomic, --force-with-lease per ref;
                                               # ConflictError → fetch and re-plan
    reg.adopt(result)                      # then move the local refs (push does by default)

`write_with_retry(plan, remote_name=...)` is that loop, bounded and with jittered backoff;
`push_all` / `pull` share a whole registry. The user's work tree, index, HEAD and config
are never touched.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from . import gitio, remote
from .errors import ConflictError, RegistryError
from .gitio import RefBlockedError, RefUpdate
from .gitobjects import valid_refname
from .names import validate_name, validate_version
from .registry_log import LogEntry, read_log
from .registry_snapshot import Snapshot, TagInfo
from .registry_write import FlowVersionWrite, Transaction, WriteResult, build, check
from .remote import PullResult, PushResult, RemoteState

if TYPE_CHECKING:
    from .config import Settings

__all__ = [
    "FlowVersionWrite",
    "LogEntry",
    "PullResult",
    "PushResult",
    "RefUpdate",
    "Registry",
    "RemoteState",
    "Snapshot",
    "TagInfo",
    "Transaction",
    "WriteResult",
]

# Creating this many version tags at once packs the tag refs afterwards: listing
# thousands of loose refs is several times slower than one packed-refs file.
_PACK_REFS_AFTER = 64


class Registry:
    """The registry of one repository: its branch, version tags and remotes."""

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

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The registry a `config.Settings` describes."""
        return cls(settings.repo_root, settings.registry_branch, settings.tag_prefix)

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

    # -- reading ----------------------------------------------------------------------

    def tip(self) -> str | None:
        """The local registry branch's commit, or None when there is no registry yet."""
        return gitio.list_refs(self.root, [self.branch_ref]).get(self.branch_ref)

    def snapshot(self, commit: str | None = None) -> Snapshot:
        """A view of `commit` (default: the branch tip), its format checked."""
        snap = Snapshot(self.root, None, label=self.branch, tag_prefix=self.tag_prefix)
        try:
            rev = commit if commit is not None else self.tip()
            if rev is not None:
                obj = snap.reader.read(f"{rev}^{{commit}}") if "\n" not in rev else None
                if obj is None:
                    raise RegistryError(
                        f"{rev!r} is not a commit of this repository",
                        hint="name a commit of the registry branch",
                    )
                snap.commit = obj.oid
            snap.check_format()
        except BaseException:
            snap.close()
            raise
        return snap

    def base_snapshot(self, state: RemoteState | None, *, remote_only: bool = False) -> Snapshot:
        """What the next write builds on: the local tip, or for a push the remote's
        state from `fetch` (the local tip if it is ahead, unless `remote_only`; diverged →
        RegistryError)."""
        if state is None:
            return self.snapshot()
        return remote.base_snapshot(self, state, remote_only=remote_only)

    def log(
        self, flow_name: str, version: str | None = None, limit: int | None = None
    ) -> list[LogEntry]:
        """Every registration, update, metadata and tags change of a flow, newest first."""
        validate_name(flow_name)
        if version is not None:
            validate_version(version)
        return read_log(self.root, self.tip(), flow_name, version, limit)

    # -- writing ----------------------------------------------------------------------

    def write(self, base: Snapshot, txn: Transaction, *, update_local: bool = True) -> WriteResult:
        """Write `txn` as one commit on top of `base` (plus its version tags).

        With `update_local`, move the local branch and tags at once (ConflictError if any
        moved since `base`); without, only write objects, for `push` then `adopt`.
        """
        # A branch about to be created here (now, or by `adopt` after a push) must not be
        # blocked by a user ref: refuse before anything is written or pushed.
        if (base.commit is None or not update_local) and self.tip() is None:
            self._check_creatable()
        result = build(
            self.root, base, txn, branch_ref=self.branch_ref, object_format=self.object_format
        )
        if update_local:
            self.update_refs(result.ref_updates)
        return result

    def check(self, base: Snapshot, txn: Transaction) -> None:
        """Refuse `txn` on top of `base` exactly where `write` would, writing nothing."""
        check(base, txn)

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

    def init(self) -> str:
        """Create the registry branch (a root commit holding `dagy-registry.json`) if it is
        missing; return the branch's commit."""
        for _ in range(3):
            with self.snapshot() as snap:
                if snap.commit is not None:
                    return snap.commit
                txn = Transaction(
                    subject="Initialize the dagy registry",
                    extra_trailers=[("Dagy-Registry-Format", "1")],
                )
                try:
                    return self.write(snap, txn).commit
                except ConflictError:
                    continue  # created meanwhile: return theirs
        raise ConflictError("the registry branch kept changing while it was created")

    def write_with_retry(
        self,
        plan: Callable[[Snapshot], Transaction | None],
        *,
        remote_name: str | None = None,
        atomic: bool = True,
        attempts: int = 8,
        remote_only: bool = False,
    ) -> WriteResult | None:
        """Plan against the registry and write; when another writer wins, re-plan (bounded,
        jittered backoff). `plan` returning None means nothing to write.

        With `remote_name`, the registry is the remote's: fetch → plan against it → write
        objects only → push with leases → adopt locally. `remote_only` plans against the
        remote's tip even when the local registry is ahead (for dry runs).
        """
        for attempt in range(1, attempts + 1):
            state = self.fetch(remote_name) if remote_name else None
            with self.base_snapshot(state, remote_only=remote_only) as snap:
                txn = plan(snap)
                if txn is None:
                    return None
                try:
                    result = self.write(snap, txn, update_local=state is None)
                    if remote_name and state is not None:
                        self.push(remote_name, result, expected=state, atomic=atomic)
                    return result
                except ConflictError:
                    if attempt == attempts:
                        raise
            time.sleep(backoff(attempt))
        return None  # pragma: no cover - the loop returns or raises

    # -- remotes (remote.py) ----------------------------------------------------------

    def fetch(self, remote_name: str) -> RemoteState:
        """Fetch the remote's branch and version tags into `refs/dagy-remote/<remote>/`."""
        return remote.fetch(self, remote_name)

    def push(
        self,
        remote_name: str,
        result: WriteResult | None = None,
        *,
        expected: RemoteState,
        atomic: bool = True,
        update_local: bool = True,
    ) -> PushResult:
        """Push a write (or, with None, the local registry) guarded by leases from
        `expected`; ConflictError when the remote moved. Then `adopt` it locally."""
        return remote.push(
            self, remote_name, result, expected=expected, atomic=atomic, update_local=update_local
        )

    def push_all(self, remote_name: str, *, atomic: bool = True) -> PushResult:
        """Fetch, then push the local branch and every version tag the remote lacks."""
        return remote.push(
            self,
            remote_name,
            None,
            expected=self.fetch(remote_name),
            atomic=atomic,
            update_local=False,
        )

    def pull(self, remote_name: str) -> PullResult:
        """Fetch, fast-forward the local branch and set local version tags to the remote's."""
        return remote.pull(self, remote_name)

    def adopt(self, result: WriteResult) -> bool:
        """Move local refs to a pushed write (False if the local branch diverged: left alone)."""
        return remote.adopt(self, result)


def backoff(attempt: int) -> float:
    """Jittered exponential backoff in seconds, capped at 2 s (jitter breaks lock-step)."""
    return min(2.0, 0.05 * 2.0**attempt) * (0.5 + random.random())
