"""The HTTP API's shapes, named as the spec names them (they are the OpenAPI schema names).

Field names follow the spec and DESIGN.md's `--json` shapes: a FlowListItem here is what
`list --json` prints, a FlowDetailResponse what `show --json` prints, plus a few fields.
Requests refuse unknown fields (a typo must not be silently ignored); responses may grow.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from dagy_git.models import FlowSpec

__all__ = [
    "DagDraftCreateRequest",
    "DagDraftResponse",
    "DagDraftUpdateRequest",
    "DeploymentRequest",
    "DeploymentResponse",
    "ErrorResponse",
    "FlowDetailResponse",
    "FlowListItem",
    "FlowListResponse",
    "FlowLogEntry",
    "FlowRegisterRequest",
    "FlowRegisterResponse",
    "FlowSpecModel",
    "FlowTagsRequest",
    "FlowTagsResponse",
    "HealthResponse",
]

# Patterns published in the schema for clients and generators (schemathesis); the server
# itself checks names with the CLI's rules and words (`dagy_git.names`), not with these.
NAME_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
VERSION_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._+-]{0,31}$"
NAMESPACE_PATTERN = r"^([A-Za-z0-9_-]+(/[A-Za-z0-9_-]+)*)?$"
TAG_KEY_PATTERN = r"^[A-Za-z0-9_./-]{1,128}$"
DRAFT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
HEX64_PATTERN = r"^[0-9a-f]{64}$"

Tags = Annotated[
    dict[str, str],
    Field(json_schema_extra={"propertyNames": {"pattern": TAG_KEY_PATTERN}}),
]


def _hint(pattern: str) -> Any:
    return Field(json_schema_extra={"pattern": pattern})


class _Request(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _spec_hints(schema: dict[str, Any]) -> None:
    props = schema.get("properties", {})
    props.get("name", {})["pattern"] = NAME_PATTERN
    props.get("version", {})["pattern"] = VERSION_PATTERN


class FlowSpecModel(FlowSpec):
    """A flow's structure (the FlowSpec `dagy-git spec --json` prints): hashed as given."""

    model_config = ConfigDict(json_schema_extra=_spec_hints)


class FlowRegisterRequest(_Request):
    """`POST /flows`: register a flow spec, with its source text or the source's hash."""

    model_config = ConfigDict(
        extra="forbid",
        # One of the two, so the code_hash can follow the spec's formula.
        json_schema_extra={"oneOf": [{"required": ["source"]}, {"required": ["source_file_hash"]}]},
    )

    flow_spec: FlowSpecModel
    namespace: str | None = Field(
        None,
        description="Explicit namespace; default: the registered one, else the root.",
        json_schema_extra={"pattern": NAMESPACE_PATTERN},
    )
    deployment_name: str | None = Field(
        None,
        description="Also deploy it under this name.",
        json_schema_extra={"pattern": NAME_PATTERN},
    )
    tags: Tags | None = Field(None, description="Dagy tags of the flow version and deployment.")
    source: str | None = Field(None, description="The flow file's text (stored, and hashed).")
    source_file_hash: str | None = Field(
        None,
        description="SHA-256 hex of the flow file (CRLF → LF), when the text is not sent.",
        json_schema_extra={"pattern": HEX64_PATTERN},
    )
    source_path: str | None = Field(None, description="Repo-relative path of the flow file.")
    source_commit: str | None = Field(
        None, description="A commit of the repository holding this code: gets the version tag."
    )
    schedule: str | None = Field(None, description="Cron schedule of the deployment.")
    parameters: dict[str, Any] | None = Field(None, description="Parameters of the deployment.")


class FlowRegisterResponse(BaseModel):
    """What `POST /flows` did: a `deploy --json` result plus the registry commit."""

    flow_name: str
    flow_version: str
    namespace: str | None
    tags: Tags | None
    code_hash: str
    source_file_hash: str
    status: str = Field(description="registered | updated | metadata | skipped")
    reason: str
    deployment_name: str | None = None
    deployment_version: int | None = None
    registry_commit: str | None = None


class FlowListItem(BaseModel):
    """One registered flow version (as `list --json`, plus a few fields)."""

    flow_name: str
    flow_version: str
    namespace: str | None
    tags: Tags | None
    code_hash: str | None
    updated_at: str
    registered_at: str
    source_path: str | None = None
    source_commit: str | None = None
    deployments: list[str] = Field(default_factory=list)
    is_latest: bool = Field(False, description="The flow's most recently deployed version.")


class FlowListResponse(BaseModel):
    """A page of `GET /flows`."""

    items: list[FlowListItem]
    total: int = Field(description="How many flow versions pass the filters, on every page.")
    limit: int
    offset: int
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page.")
    registry_commit: str | None = None


class FlowDetailResponse(FlowListItem):
    """One flow version in full (as `show --json`): the list fields plus the spec."""

    flow_spec: dict[str, Any]
    source_file_hash: str | None = None
    dirty: bool = False


class FlowLogEntry(BaseModel):
    """One change of a flow (as `log --json`), newest first."""

    commit: str
    date: str
    author: str
    flow_name: str
    flow_version: str
    code_hash: str | None
    namespace: str | None
    source_commit: str | None
    action: str
    subject: str
    author_email: str = ""
    # What `log --json` added since (see docs/registry.md "History"):
    kind: str = "flow"
    deployment_name: str | None = None
    deployment_version: int | None = None
    changes: list[str] = Field(default_factory=list)
    deployments: list[str] = Field(default_factory=list)
    source_author: str | None = None


class FlowTagsRequest(_Request):
    """`PATCH /flows/{flow_name}/{flow_version}/tags`: keys to set and keys to remove."""

    set: Tags = Field(default_factory=dict)
    unset: list[Annotated[str, _hint(TAG_KEY_PATTERN)]] = Field(default_factory=list)


class FlowTagsResponse(BaseModel):
    """A flow version's tags after a change."""

    flow_name: str
    flow_version: str
    tags: Tags
    changed: bool
    registry_commit: str | None = None


class DeploymentRequest(_Request):
    """`POST /deployments`: deploy a registered flow version under a name."""

    name: Annotated[str, _hint(NAME_PATTERN)]
    flow_name: Annotated[str, _hint(NAME_PATTERN)]
    flow_version: str | None = Field(
        None,
        description="Default: the flow's latest version.",
        json_schema_extra={"pattern": VERSION_PATTERN},
    )
    tags: Tags | None = None
    schedule: str | None = None
    parameters: dict[str, Any] | None = None


class DeploymentResponse(BaseModel):
    """One deployment (as `deployments --json`); after a write, what the write did."""

    name: str
    flow_name: str
    flow_version: str
    namespace: str | None
    tags: Tags | None
    schedule: str | None
    parameters: dict[str, Any]
    deployment_version: int
    code_hash: str | None
    created_at: str
    updated_at: str
    status: str | None = Field(None, description="After a write: registered | metadata | skipped")
    reason: str | None = None
    registry_commit: str | None = None


class DagDraftCreateRequest(_Request):
    """`POST /drafts`: a new DAG draft."""

    name: str
    canvas_json: str = ""
    tags: Tags | None = None


class DagDraftUpdateRequest(_Request):
    """`PUT /drafts/{id}`: the fields to replace (tags as a whole)."""

    name: str | None = None
    canvas_json: str | None = None
    tags: Tags | None = None


class DagDraftResponse(BaseModel):
    """One DAG draft."""

    id: str
    name: str
    canvas_json: str
    tags: Tags | None
    created_at: str
    updated_at: str
    registry_commit: str | None = None


class ErrorBody(BaseModel):
    """What went wrong, where, and what to do (the CLI's `error:` and `hint:` lines)."""

    message: str
    hint: str | None = None
    path: str | None = None
    line: int | None = None


class ErrorResponse(BaseModel):
    """Every error answer: `{"error": {...}}`."""

    error: ErrorBody


class HealthResponse(BaseModel):
    """`GET /health`: the registry commit served and whether writes are open."""

    status: str
    registry_commit: str | None
    read_only: bool
    push: bool
