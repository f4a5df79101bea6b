"""Retire deployments: remove them from the registry (their history stays on the branch).

A deployment of a deleted flow, or one a team stopped running, would otherwise stay listed
as live forever: deploy only ever adds and updates.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagy_git.errors import DagyError, RegistryError
from dagy_git.names import validate_name

if TYPE_CHECKING:
    from dagy_git.registry import Registry, Snapshot, Transaction
    from dagy_git.registry.retry import Outcome


@dataclass(frozen=True)
class Retired:
    """A retired deployment; flow name and version are None when its record was corrupt."""

    name: str
    flow_name: str | None
    flow_version: str | None


def retire(
    registry: Registry, names: list[str], *, push: bool, remote: str, dry_run: bool = False
) -> Outcome[list[Retired]]:
    """Remove the named deployments in one registry commit (retried on a race).

    A record that no longer parses can be retired too: only its name is needed.
    """
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    wanted = list(dict.fromkeys(validate_name(n, "deployment name") for n in names))
    if not wanted:
        raise DagyError("name the deployments to retire")

    def read(snap: Snapshot, name: str) -> Retired:
        try:
            record = snap.deployment(name)
        except RegistryError:  # corrupted: retiring it is the way to get rid of it
            return Retired(name, None, None)
        return Retired(name, *((record.flow_name, record.flow_version) if record else (None, None)))

    def make(snap: Snapshot) -> tuple[list[Retired], Transaction | None]:
        present = set(snap.deployment_names())
        found = {n: read(snap, n) for n in wanted if n in present}
        missing = [n for n in wanted if n not in found]
        if missing:
            raise DagyError(
                f"no deployment named {', '.join(repr(n) for n in missing)} in the registry",
                hint="see `dagy-git deployments`",
            )
        retired = [found[n] for n in wanted]
        subject = "retire: " + ", ".join(wanted)
        return retired, Transaction(retired=wanted, subject=subject)

    return commit_with_retry(registry, make, push=push, remote=remote, dry_run=dry_run)
