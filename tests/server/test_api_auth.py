"""Tokens, read-only servers and body limits: refused writes write nothing, tokens never leak."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dagy_git.server.app import create_app

from conftest import run_cli
from example_registry import AUTH, TOKEN, client, make_registry, new_repo, tip

DRAFT = {"name": "Draft", "canvas_json": "{}"}


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One registry; every test here checks that nothing was written to it."""
    return make_registry(new_repo(tmp_path_factory.mktemp("auth") / "repo"))


def assert_error(resp: object, status: int, message: str) -> None:
    assert resp.status_code == status, resp.text  # type: ignore[attr-defined]
    err = resp.json()["error"]  # type: ignore[attr-defined]
    assert message in err["message"]
    assert TOKEN not in resp.text  # type: ignore[attr-defined]


def test_without_a_token_the_server_is_read_only(shared: Path) -> None:
    before = tip(shared)
    api = TestClient(create_app(shared))
    assert api.get("/flows").status_code == 200
    assert api.get("/health").json()["read_only"] is True
    resp = api.post("/drafts", json=DRAFT, headers=AUTH)
    assert_error(resp, 403, "this server is read-only: no write token is configured")
    assert "DAGY_GIT_TOKEN" in resp.json()["error"]["hint"]
    assert tip(shared) == before


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": f"Bearer {TOKEN}x"},
        {"Authorization": f"Basic {TOKEN}"},
        {"Authorization": "Bearer"},
    ],
)
def test_writes_need_the_write_token(shared: Path, headers: dict[str, str]) -> None:
    before = tip(shared)
    api = client(shared)
    for method, path, body in [
        ("POST", "/drafts", DRAFT),
        ("POST", "/flows", {"flow_spec": {"name": "x", "function": "x"}}),
        ("POST", "/deployments", {"name": "x", "flow_name": "hello"}),
        ("PATCH", "/flows/hello/0.1/tags", {"set": {"a": "b"}}),
        ("PUT", "/drafts/abc", {"name": "y"}),
        ("DELETE", "/drafts/abc", None),
    ]:
        resp = api.request(method, path, json=body, headers=headers)
        assert_error(resp, 401, "writes need `Authorization: Bearer <token>`")
        assert resp.headers["www-authenticate"] == "Bearer"
    assert tip(shared) == before


def test_a_read_token_closes_reads_but_not_the_schema(shared: Path) -> None:
    api = client(shared, read_token="reader")
    assert_error(api.get("/flows"), 401, "reads need `Authorization: Bearer <token>`")
    assert api.get("/drafts").status_code == 401
    assert api.get("/flows", headers={"Authorization": "Bearer reader"}).status_code == 200
    assert api.get("/flows", headers=AUTH).status_code == 200  # the write token reads too
    reader = {"Authorization": "Bearer reader"}
    assert api.post("/drafts", json=DRAFT, headers=reader).status_code == 401
    assert api.get("/openapi.json").status_code == 200


def test_bodies_over_the_limit_get_413_and_write_nothing(shared: Path) -> None:
    before = tip(shared)
    api = client(shared, max_body=4096)
    big = {"name": "big", "canvas_json": "x" * 5000}
    assert_error(api.post("/drafts", json=big, headers=AUTH), 413, "larger than 4096 bytes")

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"name": "big", "canvas_json": "'
        for _ in range(10):
            yield b"x" * 1000
        yield b'"}'

    streamed = api.post(
        "/drafts", content=chunks(), headers={**AUTH, "content-type": "application/json"}
    )
    assert streamed.status_code == 413
    assert tip(shared) == before


def test_serve_reads_the_token_file_and_refuses_a_bad_one(shared: Path, tmp_path: Path) -> None:
    empty = tmp_path / "empty"
    empty.write_text("\n")
    proc = run_cli("serve", "--token-file", str(empty), cwd=shared)
    assert proc.returncode == 1
    assert f"error: the token file {empty} must hold one token" in proc.stderr
    proc = run_cli("serve", "--token-file", str(tmp_path / "missing"), cwd=shared)
    assert proc.returncode == 1 and "cannot read the token file" in proc.stderr
    assert "Traceback" not in proc.stderr
