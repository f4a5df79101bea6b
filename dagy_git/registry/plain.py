"""Registry records read as plain dicts, checked field by field without pydantic.

Read commands (`list`, `show`, `deployments`) only print what the registry holds: loading
pydantic and building the models costs more than the whole read (~0.1 s per process), so
they check each record against the field tables below instead. The tables mirror
`models.FlowRecord` and `models.DeploymentRecord` (a test keeps them in step): the same
fields, the same defaults, the same "unknown fields are ignored" rule.
"""

from __future__ import annotations

from typing import Any

__all__ = ["DEPLOYMENT_FIELDS", "FLOW_RECORD_FIELDS", "REQUIRED", "check_fields"]


class _Required:
    """The default of a field that must be present."""

    def __repr__(self) -> str:
        return "REQUIRED"


REQUIRED: Any = _Required()

# field: (accepted JSON types, default). `None` in the types means JSON null is accepted.
_Fields = dict[str, tuple[tuple[type | None, ...], Any]]

FLOW_RECORD_FIELDS: _Fields = {
    "flow_name": ((str,), REQUIRED),
    "flow_version": ((str,), REQUIRED),
    "namespace": ((str,), ""),
    "code_hash": ((str, None), None),
    "source_file_hash": ((str, None), None),
    "source_path": ((str, None), None),
    "source_commit": ((str, None), None),
    "dirty": ((bool,), False),
    "registered_at": ((str,), REQUIRED),
    "updated_at": ((str,), REQUIRED),
    "analysis": ((dict, None), None),
    "closure_hash": ((str, None), None),
    "tags_from_manifest": ((list, None), None),
}

DEPLOYMENT_FIELDS: _Fields = {
    "name": ((str,), REQUIRED),
    "flow_name": ((str,), REQUIRED),
    "flow_version": ((str,), REQUIRED),
    "namespace": ((str,), ""),
    "tags": ((dict,), {}),
    "schedule": ((str, None), None),
    "parameters": ((dict,), {}),
    "deployment_version": ((int,), 1),
    "code_hash": ((str, None), None),
    "created_at": ((str,), REQUIRED),
    "updated_at": ((str,), REQUIRED),
    "timezone": ((str, None), None),
}


_MISSING = object()
_EXACT: dict[int, list[tuple[str, frozenset[type], Any]]] = {}


def _exact(fields: _Fields) -> list[tuple[str, frozenset[type], Any]]:
    """A table as `(name, exact JSON types, default)`: JSON values have exact types (a
    JSON true is a `bool`, never an `int`), so one set lookup checks a field."""
    compiled = _EXACT.get(id(fields))
    if compiled is None:
        compiled = [
            (name, frozenset(type(None) if t is None else t for t in types), default)
            for name, (types, default) in fields.items()
        ]
        _EXACT[id(fields)] = compiled
    return compiled


def check_fields(value: Any, fields: _Fields) -> dict[str, Any] | str:
    """The known fields of a JSON object with defaults filled in, or what is wrong with it
    (as `field: problem`, the way a pydantic error names it). Runs once per record of a
    `list` (25,000 at 5,000 flows): kept to a dict lookup and a set lookup per field."""
    if type(value) is not dict:
        return "(top level): not a JSON object"
    out: dict[str, Any] = {}
    for name, types, default in _exact(fields):
        item = value.get(name, _MISSING)
        if item is _MISSING:
            if default is REQUIRED:
                return f"{name}: Field required"
            item = dict(default) if type(default) is dict else default
        elif type(item) not in types:
            wanted = " or ".join(sorted("null" if t is type(None) else t.__name__ for t in types))
            return f"{name}: expected {wanted}, got {type(item).__name__}"
        out[name] = item
    tags = out.get("tags")
    if tags and not all(type(v) is str for v in tags.values()):
        return "tags: expected a table of strings"
    return out
