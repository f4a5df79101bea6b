"""schemathesis against the live OpenAPI schema of a real `dagy-git serve`: every operation,
hundreds of generated requests (with the write token, so writes run too), no 5xx, and
every answer matches the status codes, content types and schemas the schema declares."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from conftest import run_cli
from example_registry import AUTH, live_server, make_registry, new_repo

CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Path]]:
    """A live server over a registry made by the CLI (module-wide: generated writes pile up)."""
    repo = make_registry(new_repo(tmp_path_factory.mktemp("schema") / "repo"))
    with live_server(repo) as url:
        yield url, repo
    # The registry is still one the CLI reads after hundreds of generated writes.
    assert run_cli("list", "--json", cwd=repo).returncode == 0


def operations(url: str) -> list[schemathesis.schemas.APIOperation]:
    """Every operation the live server's /openapi.json declares."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_every_operation_conforms_and_never_fails(served: tuple[str, Path]) -> None:
    url, _ = served
    ops = operations(url)
    assert len(ops) >= 14  # flows, versions, log, tags, deployments, drafts, health

    seen: list[tuple[str, str, int]] = []
    for op in ops:
        # One hypothesis run per operation (schemathesis's pytest plugin does the same).
        @settings(
            max_examples=30,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )
        @given(case=op.as_strategy())
        def check(case: schemathesis.Case) -> None:
            resp = case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=60)
            seen.append((case.method.upper(), case.path, resp.status_code))

        check()
    assert len(seen) >= 300


@pytest.mark.slow
def test_successful_answers_match_the_schema(served: tuple[str, Path]) -> None:
    """Generated requests mostly meet validation; these known-good ones succeed for sure,
    and their answers are checked against the schema the same way."""
    url, repo = served
    ops = {(op.method.upper(), op.path): op for op in operations(url)}
    spec = json.loads(run_cli("spec", "hello.py", "--json", cwd=repo).stdout)[0]
    flow = {"flow_name": "hello", "flow_version": "9.9"}

    def call(method: str, path: str, **parts: Any) -> Any:
        case = ops[(method, path)].Case(**parts)
        resp = case.call_and_validate(headers=AUTH, checks=CHECKS, timeout=60)
        assert 200 <= resp.status_code < 300, (method, path, resp.text)
        return resp.json() if resp.status_code != 204 else None

    body = {"flow_spec": {**spec["flow_spec"], "version": "9.9"}, "source": "x = 1\n"}
    assert call("POST", "/flows", body=body)["status"] == "registered"
    call("GET", "/flows", query={"tag": ["team:data-eng"], "version": "latest"})
    call("GET", "/flows/{flow_name}/{flow_version}", path_parameters=flow)
    call("GET", "/flows/{flow_name}/versions/{flow_version}", path_parameters=flow)
    call("GET", "/flows/{flow_name}/versions", path_parameters={"flow_name": "hello"})
    call("GET", "/flows/{flow_name}/log", path_parameters={"flow_name": "hello"})
    tags = {"set": {"owner": "ana"}, "unset": []}
    call("PATCH", "/flows/{flow_name}/{flow_version}/tags", path_parameters=flow, body=tags)
    deployment = {"name": "schema-dep", "flow_name": "hello", "tags": {"env": "dev"}}
    assert call("POST", "/deployments", body=deployment)["deployment_version"] == 1
    call("GET", "/deployments", query={"tag": ["env:dev"]})
    call("GET", "/deployments/{name}", path_parameters={"name": "schema-dep"})
    draft = call("POST", "/drafts", body={"name": "Schema draft", "tags": {"k": "v"}})
    ref = {"draft_id": draft["id"]}
    call("PUT", "/drafts/{draft_id}", path_parameters=ref, body={"canvas_json": "{}"})
    call("GET", "/drafts/{draft_id}", path_parameters=ref)
    call("GET", "/drafts", query={"tag": ["k:v"]})
    call("DELETE", "/drafts/{draft_id}", path_parameters=ref)
    call("GET", "/health")
