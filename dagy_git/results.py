"""The typed outcome of a deploy: statuses and the rows of `deploy --json`.

The JSON shapes are public (scripts and the GitHub Action parse them): fields may be added,
never renamed, and `tests/test_deploy.py` pins them.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, TypedDict

__all__ = ["STATUSES", "DeployResult", "DeployResultJson", "Status"]

Status = Literal["registered", "updated", "metadata", "skipped"]
STATUSES: tuple[Status, ...] = ("registered", "updated", "metadata", "skipped")


class DeployResultJson(TypedDict):
    """One row of `deploy --json` (DESIGN.md; fields may be added, never renamed)."""

    flow_name: str
    flow_version: str
    deployment_name: str | None
    namespace: str
    tags: dict[str, str]
    code_hash: str
    status: Status
    deployment_version: int | None
    reason: str
    source_path: str
    dirty: bool


@dataclass
class DeployResult:
    """One row of `deploy --json`: what happened to one target."""

    flow_name: str
    flow_version: str
    deployment_name: str | None
    namespace: str
    tags: dict[str, str]
    code_hash: str
    status: Status
    deployment_version: int | None
    reason: str
    source_path: str = ""
    dirty: bool = False

    def to_json(self) -> DeployResultJson:
        """The public JSON shape (DESIGN.md); fields may be added, never renamed."""
        return DeployResultJson(
            flow_name=self.flow_name,
            flow_version=self.flow_version,
            deployment_name=self.deployment_name,
            namespace=self.namespace,
            tags=dict(self.tags),
            code_hash=self.code_hash,
            status=self.status,
            deployment_version=self.deployment_version,
            reason=self.reason,
            source_path=self.source_path,
            dirty=self.dirty,
        )
