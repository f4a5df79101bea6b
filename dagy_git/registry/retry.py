"""Run a writing command's plan through the registry's retry loop and keep its outcome.

Every writing command (deploy, tag) gives a `make(snapshot)` function that plans against
one registry state and returns what it decided plus the transaction to write. When another
writer moves the registry first (a local process, or a CI run pushing to the same remote),
the registry re-reads and `make` plans again: a racing deploy of the same flow may turn an
update into a skip, and `deployment_version` never repeats or skips.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from dagy_git.registry.snapshot import Snapshot
from dagy_git.registry.store import Registry
from dagy_git.registry.types import Transaction

T = TypeVar("T")


@dataclass
class Outcome(Generic[T]):
    """What a write did: the last plan's value, the registry commit, push, and tries."""

    value: T
    commit: str | None
    pushed: bool
    attempts: int
    pushed_pending: bool = False  # nothing new, but unpushed local registry commits went


def commit_with_retry(
    registry: Registry,
    make: Callable[[Snapshot], tuple[T, Transaction | None]],
    *,
    push: bool,
    remote: str,
    atomic: bool = True,
    dry_run: bool = False,
) -> Outcome[T]:
    """Plan with `make` and write (and push); the outcome of the plan that was written."""
    last: list[tuple[T, str | None]] = []

    def plan(snap: Snapshot) -> Transaction | None:
        value, txn = make(snap)
        last.append((value, snap.commit))
        if dry_run and txn is not None:
            registry.check(snap, txn)  # refused where the real run would be
            return None
        return txn

    # A dry run with push asks what the remote's registry would get, as a fresh CI clone
    # would plan it: local registry commits (pushed or not) do not count. A local write
    # follows the remote: it starts from the remote's registry when the local one is
    # missing or behind (a fresh clone must not start a second registry).
    result = registry.write_with_retry(
        plan,
        remote_name=remote if push else None,
        atomic=atomic,
        remote_only=dry_run,
        follow=None if push else remote,
    )
    value, base = last[-1]
    if result is None:
        return Outcome(value, base, False, len(last))
    return Outcome(value, result.commit, push, len(last), result.pushed_pending)
