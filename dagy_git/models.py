"""The data models: the FlowSpec (frozen, it feeds `code_hash`) and the registry records.

`FlowSpec.to_json()` is the exact value that is hashed and stored as `spec.json`: every
format-1 field present, lists in a deterministic order. Removing or renaming a FlowSpec field
changes every `code_hash`, so the format-1 shape is frozen (golden tests pin it); a field
added later is left out of the JSON while it holds its default, so unchanged code keeps its
hash.
"""

from __future__ import annotations

from typing import Any, Protocol

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    model_serializer,
    model_validator,
)

__all__ = [
    "DeploymentRecord",
    "DraftRecord",
    "FlowRecord",
    "FlowSpec",
    "ParameterSpec",
    "SpecLike",
    "StoredSpec",
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
    """One node of a flow: a call site of a `@task` function, or of a `@flow` (a subflow).

    `kind` says which; a subflow names the child flow (`name`) and its `flow_version`, and
    is not inlined. `mapped` marks a `.map()` call (one node for every mapped run).
    `options` holds the decorator's (and `.with_options(...)`'s) other keywords as their
    source text.
    """

    id: str
    name: str
    function: str
    module: str | None = None
    description: str | None = None
    retries: int = 0
    retry_delay_seconds: float | list[float] = 0.0
    timeout_seconds: float | None = None
    # Added after format 1: left out of the JSON while they hold their defaults.
    kind: str = "task"
    flow_version: str | None = None
    mapped: bool = False
    options: dict[str, str] = Field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The node as JSON: format-1 fields always, later ones only when not default."""
        return _without_defaults(self.model_dump(mode="json"), _TASK_ADDED)


class FlowSpec(BaseModel):
    """A flow's structure: name, version, parameters, tasks and data-flow edges.

    The flow decorator's other keywords (`log_prints=True`, …) are kept as `options`
    (name → source text), read with `flow_options`. `options` is deliberately an allowed
    extra rather than a declared field: the declared fields are format 1's, pinned by the
    golden tests, and an extra is left out of the JSON while it is empty.
    """

    model_config = ConfigDict(extra="allow", frozen=True)

    name: str
    version: str = "latest"
    function: str
    description: str | None = None
    parameters: list[ParameterSpec] = Field(default_factory=list)
    tasks: list[TaskSpec] = Field(default_factory=list)
    edges: list[tuple[str, str]] = Field(default_factory=list)
    retries: int = 0
    retry_delay_seconds: float | list[float] = 0.0
    timeout_seconds: float | None = None

    @model_validator(mode="after")
    def _known_extras(self) -> FlowSpec:
        extra = self.model_extra
        if not extra:
            return self  # most specs: nothing added (and thousands are read per deploy)
        unknown = sorted(set(extra) - set(_FLOW_ADDED))
        if unknown:
            raise ValueError(f"unknown FlowSpec field(s): {', '.join(unknown)}")
        options = extra.get("options", {})
        if not isinstance(options, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in options.items()
        ):
            raise ValueError("FlowSpec options must map names to source text")
        return self

    @property
    def flow_options(self) -> dict[str, str]:
        """The flow decorator's keywords other than the typed ones, as source text."""
        options = (self.model_extra or {}).get("options", {})
        return dict(options)

    def to_json(self) -> dict[str, Any]:
        """The FlowSpec as JSON (what is hashed and stored): every format-1 field present,
        fields added later only when they differ from their default."""
        out = _without_defaults(self.model_dump(mode="json", exclude={"tasks"}), _FLOW_ADDED)
        out["tasks"] = [task.to_json() for task in self.tasks]
        return out


class SpecLike(Protocol):
    """What a deploy's plan reads of a spec: its name and version, and its JSON to write."""

    @property
    def name(self) -> str: ...

    @property
    def version(self) -> str: ...

    def to_json(self) -> dict[str, Any]: ...


class StoredSpec:
    """A FlowSpec as the registry stores it (spec.json), validated when first needed.

    Its name, version and function are known without it (the record that vouches for it
    lists them), so a no-op deploy of 5,000 flows, which writes none of them, never pays
    ~50 us each for pydantic. A stored spec that does not validate is a `RegistryError`
    naming `where`.
    """

    __slots__ = ("_data", "_spec", "function", "name", "version", "where")

    def __init__(self, data: bytes, *, function: str, name: str, version: str, where: str):
        self._data = data
        self._spec: FlowSpec | None = None
        self.function, self.name, self.version, self.where = function, name, version, where

    def get(self) -> FlowSpec:
        """The validated FlowSpec (once)."""
        if self._spec is None:
            from dagy_git.errors import RegistryError

            hint = (
                "fix or revert the commit that wrote it on the registry branch, or deploy "
                "with DAGY_GIT_CACHE=0 to build the spec from the flow file again"
            )
            try:
                spec = FlowSpec.model_validate_json(self._data)
            except ValueError as exc:
                first = str(exc).splitlines()[1:2] or [str(exc)]
                message = f"{self.where} is not a valid FlowSpec: {first[0]}"
                raise RegistryError(message, hint=hint) from None
            if (spec.function, spec.name, spec.version) != (self.function, self.name, self.version):
                raise RegistryError(
                    f"{self.where} names {spec.function}, {spec.name}@{spec.version}; its record "
                    f"says {self.function}, {self.name}@{self.version}",
                    hint=hint,
                )
            self._spec = spec
        return self._spec

    def to_json(self) -> dict[str, Any]:
        """The spec as JSON, as `FlowSpec.to_json`."""
        return self.get().to_json()


# Fields added after format 1 and their defaults; see `_without_defaults`.
_TASK_ADDED: dict[str, Any] = {"kind": "task", "flow_version": None, "mapped": False, "options": {}}
_FLOW_ADDED: dict[str, Any] = {"options": {}}


def _without_defaults(data: dict[str, Any], added: dict[str, Any]) -> dict[str, Any]:
    """Drop the later fields that hold their default, so unchanged code keeps its code_hash."""
    for key, default in added.items():
        if key in data and data[key] == default:
            del data[key]
    return data


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
    # Added after format 1 was frozen: left out of record.json while they hold their default,
    # so a record written before them reads, and is written back, byte for byte the same.
    closure_hash: str | None = None  # DESIGN.md "Hashes"; None: recorded before closures
    tags_from_manifest: list[str] | None = None  # tag keys a manifest's [tags] set

    def to_json(self) -> dict[str, Any]:
        """record.json's content: every format-1 field, later ones only when set."""
        later = {"analysis", "closure_hash", "tags_from_manifest"}
        return self.model_dump(mode="json", exclude={f for f in later if getattr(self, f) is None})


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
