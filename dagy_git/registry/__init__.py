"""The registry: the registry branch (format 1) plus the version git tags.

`Registry` (in `store`) is the front door; the other modules are its rooms, importing one
way: `types` (plain data) ← `log` (commit trailers), `plain` (records without pydantic),
`listing` (a commit's listing, kept) ← `commitread` (blobs of one commit), `versiontags` ←
`snapshot` (reading one commit) ← `write` (one commit per transaction) ← `refs` / `remote`
(fetch, push with leases, pull) ← `store` (`Registry`) ← `retry` (a command's plan,
re-planned when another writer wins).
"""

from dagy_git.registry.log import LogEntry
from dagy_git.registry.snapshot import Snapshot, TagInfo
from dagy_git.registry.store import Registry
from dagy_git.registry.types import (
    FlowVersionWrite,
    PullResult,
    PushResult,
    RemoteState,
    Transaction,
    WriteResult,
)

__all__ = [
    "FlowVersionWrite",
    "LogEntry",
    "PullResult",
    "PushResult",
    "Registry",
    "RemoteState",
    "Snapshot",
    "TagInfo",
    "Transaction",
    "WriteResult",
]
