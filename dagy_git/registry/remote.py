"""Sharing the registry through a remote: fetch, push with leases, pull, adopt.

`fetch` copies the remote's registry branch and version tags into a private namespace,
`refs/dagy-remote/<remote>/{heads,tags}/…`, so it never clobbers the user's refs, and
returns their values (`RemoteState`). A push is a compare-and-swap on those values: every
ref goes with `--force-with-lease=<ref>:<value fetch saw>` in one `--atomic` push, so when
another writer pushed first nothing lands and the caller gets `ConflictError` (fetch,
re-plan, retry). After a push, `adopt` moves the local refs to what was pushed.
"""

from __future__ import annotations

import hashlib
import re

from dagy_git import gitio
from dagy_git.errors import ConflictError, GitError, RegistryError
from dagy_git.gitio import RefUpdate
from dagy_git.registry.refs import RegistryRefs
from dagy_git.registry.snapshot import Snapshot, version_tag_refs
from dagy_git.registry.types import PullResult, PushResult, RemoteState, WriteResult

__all__ = ["adopt", "base_snapshot", "catch_up", "fetch", "follow", "pull", "push"]


def _slug(remote: str) -> str:
    """A ref-safe name for a remote name or URL."""
    if re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}", remote):
        return remote
    return "url-" + hashlib.sha256(remote.encode("utf-8", "surrogateescape")).hexdigest()[:16]


def fetch(reg: RegistryRefs, remote: str) -> RemoteState:
    """Fetch the remote's registry branch and version tags (a remote without a registry
    yet is fine: `tip` None)."""
    ns = f"refs/dagy-remote/{_slug(remote)}/"
    branch_copy = f"{ns}heads/{reg.branch}"
    tags = f"+refs/tags/{reg.tag_prefix}*:{ns}tags/{reg.tag_prefix}*"
    try:
        gitio.fetch(reg.root, remote, [f"+{reg.branch_ref}:{branch_copy}", tags])
    except gitio.MissingRemoteRefError:
        gitio.fetch(reg.root, remote, [tags])
        stale = gitio.list_refs(reg.root, [branch_copy]).get(branch_copy)
        if stale:  # the remote lost its branch since the last fetch
            gitio.update_refs(reg.root, [RefUpdate(branch_copy, reg.zero, stale)])
    refs = gitio.list_refs(reg.root, [ns])
    tag_refs = {"refs/" + r[len(ns) :]: v for r, v in refs.items() if r.startswith(ns + "tags/")}
    return RemoteState(remote, ns, refs.get(branch_copy), tag_refs)


def _local_tags(reg: RegistryRefs) -> dict[str, str]:
    return version_tag_refs(reg.root, reg.tag_prefix)


def _diverged(reg: RegistryRefs, state: RemoteState, local: str) -> RegistryError:
    return RegistryError(
        f"the local registry branch {reg.branch} ({local[:12]}) and {state.remote}'s "
        f"({(state.tip or '')[:12]}) have diverged: each has commits the other lacks",
        hint=f"`dagy-git pull --force` takes {state.remote}'s registry and keeps the "
        "local-only commits on a backup ref (it says which); then deploy again, which "
        "re-applies what this checkout holds",
    )


def base_snapshot(reg: RegistryRefs, state: RemoteState, *, remote_only: bool = False) -> Snapshot:
    """The snapshot a push-bound write builds on: the remote tip, or the local tip when it
    is ahead (its unpushed commits and tags then travel with the write).

    `remote_only` ignores the local registry: what a fresh CI clone would plan against
    (a dry run's question, e.g. in the pre-push hook).
    """
    local = None if remote_only else reg.tip()
    base, carry, label = state.tip, {}, f"{state.remote}/{reg.branch}"
    if local is not None and local != state.tip:
        if state.tip is None or gitio.is_ancestor(reg.root, state.tip, local):
            base, label = local, reg.branch
            carry = {r: v for r, v in _local_tags(reg).items() if state.tags.get(r) != v}
        elif not gitio.is_ancestor(reg.root, local, state.tip):
            raise _diverged(reg, state, local)
    snap = Snapshot(
        reg.root, base, label=label, tag_prefix=reg.tag_prefix, remote=state, carry=carry
    )
    try:
        snap.check_format()
    except BaseException:
        snap.close()
        raise
    return snap


def _local_result(reg: RegistryRefs, state: RemoteState) -> WriteResult:
    """The whole local registry as a write to push: the branch and every differing tag."""
    local = reg.tip()
    if local is None:
        raise RegistryError(
            f"there is no local registry branch {reg.branch} to push",
            hint="deploy something first, or `dagy-git pull`",
        )
    if state.tip is not None and local != state.tip:
        if gitio.is_ancestor(reg.root, local, state.tip):
            raise RegistryError(
                f"{state.remote}'s registry is ahead of the local one",
                hint="run `dagy-git pull` first",
            )
        if not gitio.is_ancestor(reg.root, state.tip, local):
            raise _diverged(reg, state, local)
    zero = reg.zero
    updates = [RefUpdate(reg.branch_ref, local, state.tip or zero)]
    updates += [
        RefUpdate(r, v, state.tags.get(r, zero))
        for r, v in sorted(_local_tags(reg).items())
        if state.tags.get(r) != v
    ]
    return WriteResult(local, state.tip, updates)


def push(
    reg: RegistryRefs,
    remote: str,
    result: WriteResult | None,
    *,
    expected: RemoteState,
    atomic: bool = True,
    update_local: bool = True,
) -> PushResult:
    """Push `result` (None: the local registry), each ref leased to its `expected` value."""
    if result is None:
        result = _local_result(reg, expected)
    elif (
        expected.tip is not None
        and result.commit != expected.tip
        and not gitio.is_ancestor(reg.root, expected.tip, result.commit)
    ):
        # A lease would let this overwrite the remote's history: refuse, never force.
        raise _diverged(reg, expected, result.commit)
    todo = [
        u
        for u in result.ref_updates
        if u.new != (expected.expected(u.ref, reg.branch_ref) or reg.zero)
    ]
    if todo:
        leases = {u.ref: expected.expected(u.ref, reg.branch_ref) for u in todo}
        specs = {u.ref: (f"{u.new}:{u.ref}" if u.new != reg.zero else f":{u.ref}") for u in todo}
        try:
            if not atomic:
                raise gitio.AtomicUnsupportedError("atomic push not asked for")
            gitio.push(reg.root, remote, list(specs.values()), leases, atomic=True)
        except gitio.AtomicUnsupportedError:
            # Tags first, the branch last: a failure part-way leaves the remote's branch,
            # which readers trust, at its old commit.
            tags = [r for r in specs if r != reg.branch_ref]
            for group in (tags, [r for r in specs if r == reg.branch_ref]):
                if group:
                    gitio.push(
                        reg.root,
                        remote,
                        [specs[r] for r in group],
                        {r: leases[r] for r in group},
                        atomic=False,
                    )
    if update_local:
        adopt(reg, result)
    tag_count = sum(1 for u in todo if u.ref != reg.branch_ref)
    return PushResult(result.commit, tag_count, bool(todo), [u.ref for u in todo])


def adopt(reg: RegistryRefs, result: WriteResult) -> bool:
    """Move the local branch and the result's tags to a pushed write.

    The remote already has it, so this never raises on a race: it re-reads and retries,
    and leaves a local branch that diverged alone (returns False).
    """
    tags = [u for u in result.ref_updates if u.ref != reg.branch_ref]
    for _ in range(5):
        current = gitio.list_refs(reg.root, [reg.branch_ref, *(u.ref for u in tags)])
        local = current.get(reg.branch_ref)
        if (
            local is not None
            and local != result.commit
            and not gitio.is_ancestor(reg.root, local, result.commit)
        ):
            return False
        updates = [RefUpdate(reg.branch_ref, result.commit, local or reg.zero)]
        updates = [u for u in updates if u.old != u.new]
        updates += [
            RefUpdate(u.ref, u.new, current.get(u.ref, reg.zero))
            for u in tags
            if current.get(u.ref, reg.zero) != u.new
        ]
        try:
            reg.update_refs(updates)
            return True
        except ConflictError:
            continue
    return False


def follow(reg: RegistryRefs, remote: str) -> RemoteState | None:
    """The remote's registry as a local write should see it: fetched when `remote` is
    configured and answers, else the last copy this clone has of it (None: no remote).

    Unreachable with no copy and no local registry, it refuses: a write would start a
    second registry beside one the remote may hold.
    """
    if not gitio.has_remote(reg.root, remote):
        return None
    try:
        return fetch(reg, remote)
    except ConflictError:
        problem = None  # another process fetched it just now: its copy is fresh
    except GitError as exc:
        problem = exc.message
    ours = f"refs/dagy-remote/{_slug(remote)}/heads/{reg.branch}"
    clone = f"refs/remotes/{remote}/{reg.branch}"
    known = gitio.list_refs(reg.root, [ours, clone])
    tip = known.get(ours) or known.get(clone)
    if tip is None and reg.tip() is None and problem is not None:
        raise RegistryError(
            f"cannot reach {remote} to see whether it holds a registry ({problem}); "
            "nothing was written",
            hint=f"run `dagy-git pull` once {remote} is reachable, then deploy; "
            "or deploy with --remote naming a reachable remote",
        )
    return RemoteState(remote, f"refs/dagy-remote/{_slug(remote)}/", tip, {})


def catch_up(reg: RegistryRefs, state: RemoteState) -> None:
    """Before a local write: fast-forward a missing or behind local registry to the
    remote's (its version tags too, as `pull` does); refuse a diverged one."""
    local = reg.tip()
    if state.tip is None or local == state.tip:
        return
    if local is not None and gitio.is_ancestor(reg.root, state.tip, local):
        return  # ahead: unpushed local commits, written on top of
    with base_snapshot(reg, state):  # checks the format, refuses a diverged local branch
        pass
    _take(reg, state, local)


def pull(reg: RegistryRefs, remote: str, *, force: bool = False) -> PullResult:
    """Fetch; fast-forward the local branch to the remote's and set the local version tags
    to the remote's (moved ones included), all in one ref transaction.

    Diverged, `force` keeps the local branch and its differing tags under
    `refs/dagy-backup/<branch>/<local commit>/` and takes the remote's: nothing is lost,
    and re-deploying re-applies what the work tree holds.
    """
    state = fetch(reg, remote)
    local = reg.tip()
    if state.tip is None:
        return PullResult(remote, local, local, "no-remote-registry", 0)
    if force and local is not None and _diverges(reg, local, state.tip):
        return _reset(reg, state, local)
    with base_snapshot(reg, state):  # checks the format, refuses a diverged local branch
        pass
    if local == state.tip:
        status = "up-to-date"
    elif local is None:
        status = "created"
    elif gitio.is_ancestor(reg.root, local, state.tip):
        status = "fast-forward"
    else:
        status = "ahead"  # local has unpushed commits: keep them, and their tags
    zero = reg.zero
    updates = []
    if status in ("created", "fast-forward"):
        updates.append(RefUpdate(reg.branch_ref, state.tip, local or zero))
    local_tags = _local_tags(reg)
    updates += [
        RefUpdate(r, v, local_tags.get(r, zero))
        for r, v in sorted(state.tags.items())
        if local_tags.get(r) != v and (status != "ahead" or r not in local_tags)
    ]
    reg.update_refs(updates)
    new_tip = state.tip if status in ("created", "fast-forward") else local
    return PullResult(
        remote, new_tip, local, status, sum(1 for u in updates if u.ref != reg.branch_ref)
    )


def _diverges(reg: RegistryRefs, local: str, remote_tip: str) -> bool:
    """Each side has commits the other lacks."""
    return not gitio.is_ancestor(reg.root, local, remote_tip) and not gitio.is_ancestor(
        reg.root, remote_tip, local
    )


def _take(reg: RegistryRefs, state: RemoteState, local: str | None) -> int:
    """Move the local branch to the remote's tip and every version tag to the remote's
    value, in one transaction; the number of tags moved."""
    assert state.tip is not None
    zero = reg.zero
    local_tags = _local_tags(reg)
    updates = [RefUpdate(reg.branch_ref, state.tip, local or zero)]
    updates += [
        RefUpdate(r, v, local_tags.get(r, zero))
        for r, v in sorted(state.tags.items())
        if local_tags.get(r) != v
    ]
    reg.update_refs(updates)
    return len(updates) - 1


def _reset(reg: RegistryRefs, state: RemoteState, local: str) -> PullResult:
    """`pull --force` on a diverged registry: back up, then take the remote's."""
    backup = f"refs/dagy-backup/{reg.branch}/{local}"
    zero = reg.zero
    saved = [RefUpdate(f"{backup}/branch", local, zero)]
    saved += [
        RefUpdate(f"{backup}/{r.removeprefix('refs/')}", v, zero)
        for r, v in sorted(_local_tags(reg).items())
        if state.tags.get(r) != v
    ]
    existing = gitio.list_refs(reg.root, [backup + "/"])
    reg.update_refs([u for u in saved if u.ref not in existing])
    moved = _take(reg, state, local)
    return PullResult(state.remote, state.tip, local, "reset", moved, backup)
