"""The plain records the server's read model is made of: flow versions, deployments, drafts.

Frozen dataclasses with `to_json()` giving the API's field names (the spec's FlowListItem,
FlowDetailResponse, DagDraftResponse and `deployments --json`); no web framework here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagy_git.models import DeploymentRecord, DraftRecord

__all__ = ["DeploymentItem", "DraftItem", "FlowDetail", "FlowItem"]


@dataclass(frozen=True)
class FlowItem:
    """One registered flow version, as lists show it (the spec's FlowListItem, plus more)."""

    flow_name: str
    flow_version: str
    namespace: str
    tags: dict[str, str]
    code_hash: str | None
    updated_at: str
    registered_at: str
    source_path: str | None
    source_commit: str | None
    deployments: tuple[str, ...]
    is_latest: bool

    def to_json(self) -> dict[str, Any]:
        """The FlowListItem fields (as `list --json`), then the extra ones."""
        return {
            "flow_name": self.flow_name,
            "flow_version": self.flow_version,
            "namespace": self.namespace,
            "tags": dict(self.tags),
            "code_hash": self.code_hash,
            "updated_at": self.updated_at,
            "registered_at": self.registered_at,
            "source_path": self.source_path,
            "source_commit": self.source_commit,
            "deployments": list(self.deployments),
            "is_latest": self.is_latest,
        }


@dataclass(frozen=True)
class FlowDetail:
    """One flow version in full: its list item, stored FlowSpec and record details."""

    item: FlowItem
    flow_spec: dict[str, Any]
    source_file_hash: str | None
    dirty: bool

    @property
    def tags(self) -> dict[str, str]:
        """The flow version's dagy tags."""
        return self.item.tags

    @property
    def deployments(self) -> tuple[str, ...]:
        """Names of the deployments bound to this flow version."""
        return self.item.deployments

    @property
    def source_path(self) -> str | None:
        """Where the flow file was, repo-relative, when it was deployed."""
        return self.item.source_path

    @property
    def source_commit(self) -> str | None:
        """The commit the flow was deployed from (None for an API registration)."""
        return self.item.source_commit

    def to_json(self) -> dict[str, Any]:
        """A FlowDetailResponse (as `show --json`), plus the list item's extra fields."""
        out = self.item.to_json()
        out.update(
            flow_spec=self.flow_spec,
            source_file_hash=self.source_file_hash,
            dirty=self.dirty,
        )
        return out


@dataclass(frozen=True)
class DeploymentItem:
    """One deployment (as `deployments --json`)."""

    name: str
    flow_name: str
    flow_version: str
    namespace: str
    tags: dict[str, str]
    schedule: str | None
    parameters: dict[str, Any]
    deployment_version: int
    code_hash: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, d: DeploymentRecord) -> DeploymentItem:
        """From the stored record."""
        return cls(**d.model_dump())

    def to_json(self) -> dict[str, Any]:
        """`deployments --json` fields plus `created_at`."""
        return {**self.__dict__, "tags": dict(self.tags), "parameters": dict(self.parameters)}


@dataclass(frozen=True)
class DraftItem:
    """One DAG draft (the spec's DagDraftResponse)."""

    id: str
    name: str
    canvas_json: str
    tags: dict[str, str]
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, draft_id: str, d: DraftRecord) -> DraftItem:
        """From the stored record and its id."""
        return cls(id=draft_id, **d.model_dump())

    def to_json(self) -> dict[str, Any]:
        """The DagDraftResponse fields."""
        return {**self.__dict__, "tags": dict(self.tags)}
