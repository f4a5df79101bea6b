"""The registry's plain data: keys, transactions, write and remote results.

Shared by the reading, writing and remote modules of `dagy_git.registry`, so none of
them needs another for a type.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from dagy_git.gitio import RefUpdate

if TYPE_CHECKING:
    # Annotations only: reading the registry must not load pydantic (see snapshot.py).
    from dagy_git.models import DeploymentRecord, DraftRecord, FlowRecord

__all__ = [
    "ACTIONS",
    "MOVES_TAG",
    "FlowVersionWrite",
    "Key",
    "PullResult",
    "PushResult",
    "RemoteState",
    "Transaction",
    "WriteResult",
]

Key = tuple[str, str]
"""`(flow_name, flow_version)`: one flow version."""

ACTIONS = ("registered", "updated", "metadata", "tags")
MOVES_TAG = ("registered", "updated")


@dataclass
class FlowVersionWrite:
    """One flow version to store. `source` None keeps the stored source; the version tag
    moves (to `record.source_commit`) when `action` is `registered` or `updated`.

    `source` is `(file name, bytes)` of the flow file, stored as `source/<file name>` (as
    format 1 always did); `closure` maps repo-relative paths (the flow file and the
    repository modules it imports) to their bytes, stored as `source/<path>` beside it.
    """

    record: FlowRecord
    spec: dict[str, object]
    tags: dict[str, str]
    source: tuple[str, bytes] | None
    action: str
    closure: dict[str, bytes] = field(default_factory=dict)

    @property
    def key(self) -> Key:
        """`(flow_name, flow_version)`."""
        return self.record.flow_name, self.record.flow_version


@dataclass
class Transaction:
    """Everything one command writes: becomes exactly one registry commit.

    `drafts` maps draft id → record (None deletes the draft); `retired` names deployments
    to remove (their history stays on the branch).
    """

    flows: list[FlowVersionWrite] = field(default_factory=list)
    deployments: list[DeploymentRecord] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)
    drafts: dict[str, DraftRecord | None] = field(default_factory=dict)
    subject: str = "dagy-git: update registry"
    author: tuple[str, str] | None = None  # (name, email); default: git's author identity
    extra_trailers: list[tuple[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class WriteResult:
    """A written registry commit and the ref moves that publish it (branch first)."""

    commit: str
    parent: str | None
    ref_updates: list[RefUpdate]
    # Nothing new was written: `commit`, the local registry the remote lacked, was pushed.
    pushed_pending: bool = False


@dataclass(frozen=True)
class RemoteState:
    """The remote's registry as `fetch` saw it: the values push leases expect."""

    remote: str
    namespace: str  # where fetch keeps the copies: refs/dagy-remote/<remote>/
    tip: str | None  # the remote branch's commit; None = no registry there yet
    tags: dict[str, str] = field(default_factory=dict)  # refs/tags/<prefix>… → object id

    def expected(self, ref: str, branch_ref: str) -> str:
        """What `ref` holds on the remote ("" = absent): the lease to push it with."""
        return (self.tip or "") if ref == branch_ref else self.tags.get(ref, "")


@dataclass(frozen=True)
class PushResult:
    """What a push sent: the branch commit, how many version tags, whether anything."""

    commit: str | None
    tags: int
    changed: bool
    refs: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class PullResult:
    """What a pull did to the local registry."""

    remote: str
    commit: str | None  # the local branch afterwards
    previous: str | None
    status: str  # created | fast-forward | up-to-date | ahead | no-remote-registry | reset
    tags_updated: int
    backup: str | None = None  # `pull --force`: where the local-only commits were kept
