"""Retire deployments: remove them from the registry (their history stays on the branch).

A deployment of a deleted flow, or one a team stopped running, would otherwise stay listed
as live forever: deploy only ever adds and updates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from dagy_git.errors import DagyError
from dagy_git.names import validate_name

if TYPE_CHECKING:
    from dagy_git.models import DeploymentRecord
    from dagy_git.registry import Registry, Snapshot, Transaction
    from dagy_git.registry.retry import Outcome


def retire(
    registry: Registry, names: list[str], *, push: bool, remote: str, dry_run: bool = False
) -> Outcome[list[DeploymentRecord]]:
    """Remove the named deployments in one registry commit (retried on a race)."""
    from dagy_git.registry import Transaction
    from dagy_git.registry.retry import commit_with_retry

    wanted = list(dict.fromkeys(validate_name(n, "deployment name") for n in names))
    if not wanted:
        raise DagyError("name the deployments to retire")

    def make(snap: Snapshot) -> tuple[list[DeploymentRecord], Transaction | None]:
        found = {d.name: d for d in snap.deployments() if d.name in wanted}
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
