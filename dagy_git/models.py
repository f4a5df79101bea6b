"""The data models: the FlowSpec (frozen, it feeds `code_hash`) and the registry records.

`FlowSpec.to_json()` is the exact value that is hashed and stored as `spec.json`: every
field present, lists in a deterministic order. Adding, removing or renaming a FlowSpec field
changes every `code_hash`, so the FlowSpec shape is frozen (golden tests pin it).
"""

from __future__ import annotations

from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
)

__all__ = [
    "DeploymentRecord",
    "DraftRecord",
    "FlowRecord",
    "FlowSpec",
    "ParameterSpec",
    "TaskSpec",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ParameterSpec(_Frozen):
    """One flow parameter; annotation and default are kept as source text."""

    name: str
    annotation: str | None = None
    default: str | None = None
    required: bool = True


class TaskSpec(_Frozen):
    """One task node of a flow: a call site of a `@task` function."""

    id: str
    name: str
    function: str
    module: str | None = None
    description: str | None = None
    retries: int = 0
    retry_delay_seconds: float = 0.0
    timeout_seconds: float | None = None


class FlowSpec(_Frozen):
    """A flow's structure: name, version, parameters, tasks and data-flow edges."""

    name: str
    version: str = "latest"
    function: str
    description: str | None = None
    parameters: list[ParameterSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    edges: list[tuple[str, str]] = Field(default_factory=list)
    retries: int = 0
    retry_delay_seconds: float = 0.0
    timeout_seconds: float | None = None

    def to_json(self) -> dict[str, Any]:
        """The FlowSpec as JSON with every field present (what is hashed and stored)."""
        return self.model_dump(mode="json")


class _Record(BaseModel):
    # Records are read back from the registry branch, possibly written by a newer
    # dagy-git that added fields: keep what we know, ignore the rest.
    model_config = ConfigDict(extra="ignore")


class FlowRecord(_Record):
    """`record.json` of one registered flow version."""

    flow_name: str
    flow_version: str
    namespace: str = ""
    code_hash: str | None = None
    source_file_hash: str | None = None
    source_path: str | None = None
    source_commit: str | None = None
    dirty: bool = False
    registered_at: str
    updated_at: str
    # What the analysis of the flow's file was keyed on, and every flow it found there
    # (`registry_cache.py`): lets a fresh clone skip parsing unchanged files. Left out of
    # record.json while None.
    analysis: dict[str, Any] | None = None


class DeploymentRecord(_Record):
    """`deployments/<name>.json`: a named binding of a flow version to schedule and tags."""

    name: str
    flow_name: str
    flow_version: str
    namespace: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    schedule: str | None = None
    parameters: dict[str, Any] = Field(default_factory=dict)
    deployment_version: int = 1
    code_hash: str | None = None
    created_at: str
    updated_at: str
    timezone: str | None = None  # IANA name of the schedule's zone; None means UTC

    @model_serializer(mode="wrap")
    def _leave_out_unset(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Fields added after format 1 stay out of the JSON while unset, so a deployment
        written without them reads, diffs and compares exactly as before."""
        data: dict[str, Any] = handler(self)
        if data.get("timezone") is None:
            data.pop("timezone", None)
        return data


class DraftRecord(_Record):
    """`drafts/<id>.json`: a DAG draft from the canvas, with its tags."""

    name: str
    canvas_json: str = ""
    tags: dict[str, str] = Field(default_factory=dict)
    created_at: str
    updated_at: str
