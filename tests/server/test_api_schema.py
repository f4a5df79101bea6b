"""schemathesis against the live OpenAPI schema of a real `dagy-git serve`: every operation,
hundreds of generated requests (with the write token, so writes run too), no 5xx, and
every answer matches the status codes, content types and schemas the schema declares."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

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
def served_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A live server over a registry made by the CLI (module-wide: generated writes pile up)."""
    repo = make_registry(new_repo(tmp_path_factory.mktemp("schema") / "repo"))
    with live_server(repo) as url:
        yield url
    # The registry is still one the CLI reads after hundreds of generated writes.
    assert run_cli("list", "--json", cwd=repo).returncode == 0
    assert Path(repo / ".git").is_dir()


def operations(url: str) -> list[schemathesis.schemas.APIOperation]:
    """Every operation the live server's /openapi.json declares."""
    schema = schemathesis.openapi.from_url(f"{url}/openapi.json")
    return [result.ok() for result in schema.get_all_operations()]


@pytest.mark.slow
def test_every_operation_conforms_and_never_fails(served_url: str) -> None:
    ops = operations(served_url)
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
    # Generated bodies get past validation too: some writes really happen.
    written = {(m, p) for m, p, status in seen if 200 <= status < 300 and m != "GET"}
    assert {("POST", "/flows"), ("POST", "/drafts")} <= written
