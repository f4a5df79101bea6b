"""Change the dagy tags of a registered flow version (tags are mutable)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from dagy_git.deploy import utc_now
from dagy_git.errors import DagyError
from dagy_git.names import validate_tag

if TYPE_CHECKING:
    from dagy_git.registry import Registry, Snapshot, Transaction
    from dagy_git.registry.retry import Outcome


@dataclass(frozen=True)
class TagChange:
    """The tags of one flow version before and after a `tag` command."""

    flow_name: str
    flow_version: str
    before: dict[str, str]
    after: dict[str, str]


def set_tags(
    registry: Registry,
    name: str,
    version: str,
    set_: dict[str, str],
    unset: list[str],
    *,
    push: bool,
    remote: str,
) -> Outcome[TagChange]:
    """Set and remove tags of `name@version` in one registry commit (retried on a race)."""
    from dagy_git.registry import FlowVersionWrite, Transaction
    from dagy_git.registry.retry import commit_with_retry

    for key, value in set_.items():
        validate_tag(key, value)
    for key in unset:
        validate_tag(key, "")

    def make(snap: Snapshot) -> tuple[TagChange, Transaction | None]:
        record = snap.record(name, version)
        if record is None:
            raise DagyError(f"{name}@{version} is not registered", hint="see `dagy-git list`")
        before = snap.flow_tags(name, version)
        after = {k: v for k, v in {**before, **set_}.items() if k not in unset}
        change = TagChange(name, version, before, after)
        if after == before:
            return change, None
        # A key set or unset here is explicit from now on: a manifest no longer owns it.
        owned = record.tags_from_manifest
        if owned is not None:
            owned = [k for k in owned if k not in set_ and k not in unset]
        write = FlowVersionWrite(
            record=record.model_copy(update={"updated_at": utc_now(), "tags_from_manifest": owned}),
            spec=snap.spec(name, version) or {},
            tags=after,
            source=None,
            action="tags",
        )
        return change, Transaction(
            flows=[write], deployments=[], drafts={}, subject=f"tag: {name}@{version}"
        )

    return commit_with_retry(registry, make, push=push, remote=remote)
