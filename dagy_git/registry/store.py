"""The `Registry` front door: snapshots, writes with retry, log, remotes, init.

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

from dagy_git import gitio
from dagy_git.config import Settings
from dagy_git.errors import ConflictError, RegistryError
from dagy_git.names import validate_name, validate_version
from dagy_git.registry import remote
from dagy_git.registry.log import LogEntry, read_log
from dagy_git.registry.refs import RegistryRefs
from dagy_git.registry.snapshot import Snapshot
from dagy_git.registry.types import (
    PullResult,
    PushResult,
    RemoteState,
    Transaction,
    WriteResult,
)
from dagy_git.registry.write import build, check

__all__ = ["Registry", "backoff"]


class Registry(RegistryRefs):
    """The registry of one repository: its branch, version tags and remotes."""

    @classmethod
    def from_settings(cls, settings: Settings) -> Registry:
        """The registry a `config.Settings` describes."""
        return cls(settings.repo_root, settings.registry_branch, settings.tag_prefix)

    # -- reading ----------------------------------------------------------------------

    def prefetch(self, commit: str) -> None:
        """Start reading the listing of `commit` (a registry commit id) in the background,
        for a command that reads all of it later (`registry/listing.py`)."""
        from dagy_git.registry.listing import prefetch

        prefetch(self.root, commit)

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
        self.check_not_checked_out()
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

    def init(self, *, follow: str | None = None) -> str:
        """Create the registry branch (a root commit holding `dagy-registry.json`) if it is
        missing; return the branch's commit.

        With `follow`, a registry that remote already holds is taken instead of a new one
        being started beside it (a remote that cannot be reached: created here, as asked).
        """
        if follow is not None and self.tip() is None:
            try:
                state = remote.follow(self, follow)
            except RegistryError:
                state = None  # unreachable, and no copy: starting one is what init is for
            if state is not None and state.tip is not None:
                self.check_not_checked_out()
                remote.catch_up(self, state)
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
        follow: str | None = None,
    ) -> WriteResult | None:
        """Plan against the registry and write; when another writer wins, re-plan (bounded,
        jittered backoff). `plan` returning None means nothing to write.

        With `remote_name`, the registry is the remote's: fetch → plan against it → write
        objects only → push with leases → adopt locally. `remote_only` plans against the
        remote's tip even when the local registry is ahead (for dry runs). With nothing
        new to write, local commits the remote lacks are pushed (`pushed_pending`).

        With `follow` (a local write), the local registry first catches up with that
        remote's when it is missing or behind (`remote.follow`); a dry run only plans
        against the newer of the two.
        """
        followed = None
        if follow is not None and remote_name is None:
            followed = remote.follow(self, follow)
            if followed is not None and not remote_only:
                self.check_not_checked_out()
                for _ in range(attempts):
                    try:
                        remote.catch_up(self, followed)
                        break
                    except ConflictError:  # another local writer moved it: look again
                        continue
                followed = None
        for attempt in range(1, attempts + 1):
            state = self.fetch(remote_name) if remote_name else followed
            with self.base_snapshot(state, remote_only=remote_only and followed is None) as snap:
                txn = plan(snap)
                if txn is None:
                    if remote_name and state is not None and not remote_only:
                        pending = self._push_pending(remote_name, snap, state, atomic)
                        if pending is not None:
                            return pending if isinstance(pending, WriteResult) else None
                        if attempt == attempts:  # the remote kept moving: say so
                            raise ConflictError(f"{remote_name}'s registry kept moving")
                    else:
                        return None
                else:
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

    def _push_pending(
        self, remote_name: str, snap: Snapshot, state: RemoteState, atomic: bool
    ) -> WriteResult | bool | None:
        """Push the local registry commits and tags the remote lacks, when `snap` (the
        base the plan found nothing to add to) is ahead of it. False when nothing was
        pending, None when the remote moved meanwhile."""
        if snap.commit is None or (snap.commit == state.tip and not snap.carry):
            return False
        try:
            pushed = remote.push(
                self, remote_name, None, expected=state, atomic=atomic, update_local=False
            )
        except ConflictError:
            return None
        if not pushed.changed:
            return False
        return WriteResult(snap.commit, state.tip, [], pushed_pending=True)

    def check_not_checked_out(self) -> None:
        """Refuse to move the registry branch under a work tree that has it checked out:
        git would show every registry file as changed there, and a commit would fork it."""
        where = gitio.checked_out_branches(self.root).get(self.branch_ref)
        if where is not None:
            raise RegistryError(
                f"the registry branch {self.branch} is checked out in {where}; "
                "dagy-git will not move it under a work tree, so nothing was written",
                hint=f"check out another branch there (`git -C {where} switch -`), then run "
                "this again; read the registry with `dagy-git list` or "
                f"`git show {self.branch}:<path>` instead of checking it out",
            )

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

    def pull(self, remote_name: str, *, force: bool = False) -> PullResult:
        """Fetch, fast-forward the local branch and set local version tags to the remote's.

        `force` is the way out of a diverged registry that loses nothing: the local branch
        and tags are kept on a backup ref (`PullResult.backup`), then take the remote's.
        """
        self.check_not_checked_out()
        return remote.pull(self, remote_name, force=force)

    def adopt(self, result: WriteResult) -> bool:
        """Move local refs to a pushed write (False if the local branch diverged: left alone)."""
        return remote.adopt(self, result)


def backoff(attempt: int) -> float:
    """Jittered exponential backoff in seconds, capped at 2 s (jitter breaks lock-step)."""
    return min(2.0, 0.05 * 2.0**attempt) * (0.5 + random.random())
