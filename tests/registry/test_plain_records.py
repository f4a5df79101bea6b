"""The plain record tables (`registry/plain.py`) stay in step with the pydantic models the
writers use: the same fields, the same required ones, the same defaults, and the same
verdict on the records a registry may hold."""

from __future__ import annotations

from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from dagy_git.models import DeploymentRecord, FlowRecord
from dagy_git.registry.plain import DEPLOYMENT_FIELDS, FLOW_RECORD_FIELDS, REQUIRED, check_fields

TABLES: list[tuple[type[BaseModel], Any]] = [
    (FlowRecord, FLOW_RECORD_FIELDS),
    (DeploymentRecord, DEPLOYMENT_FIELDS),
]


@pytest.mark.parametrize(("model", "table"), TABLES)
def test_tables_mirror_the_models(model: type[BaseModel], table: Any) -> None:
    assert list(table) == list(model.model_fields)
    for name, info in model.model_fields.items():
        default = table[name][1]
        if info.is_required():
            assert default is REQUIRED, name
        else:
            assert default == info.get_default(call_default_factory=True), name


FLOW = {
    "flow_name": "etl",
    "flow_version": "1.0",
    "namespace": "data",
    "code_hash": "ab" * 32,
    "registered_at": "2026-01-01T00:00:00.000Z",
    "updated_at": "2026-01-02T00:00:00.000Z",
}


@pytest.mark.parametrize(
    "doc",
    [
        FLOW,
        {**FLOW, "future_field": [1, 2]},  # a newer dagy-git's field: ignored
        {**FLOW, "dirty": True, "source_commit": None},
        {**FLOW, "analysis": {"key": "k", "flows": []}},
        {k: v for k, v in FLOW.items() if k != "namespace"},
        {k: v for k, v in FLOW.items() if k != "registered_at"},
        {**FLOW, "code_hash": 5},
        {**FLOW, "dirty": "yes"},
        {**FLOW, "namespace": None},
        ["not", "an", "object"],
    ],
)
def test_the_plain_check_agrees_with_the_model(doc: Any) -> None:
    """What the model refuses, the plain check refuses; what the plain check accepts, it
    reads exactly as the model does. (It is stricter only where pydantic would coerce a
    string, `"yes"` for a bool, which no dagy-git writes.)"""
    checked = check_fields(doc, FLOW_RECORD_FIELDS)
    try:
        model = FlowRecord.model_validate(doc)
    except ValidationError:
        assert isinstance(checked, str)
        return
    if isinstance(checked, str):
        assert checked == "dirty: expected bool, got str"
        return
    assert checked == model.model_dump(mode="json")


def test_deployment_tags_must_be_strings() -> None:
    doc = {
        "name": "d",
        "flow_name": "etl",
        "flow_version": "1",
        "tags": {"env": 1},
        "created_at": "t",
        "updated_at": "t",
    }
    assert check_fields(doc, DEPLOYMENT_FIELDS) == "tags: expected a table of strings"
    with pytest.raises(ValidationError):
        DeploymentRecord.model_validate(doc)
