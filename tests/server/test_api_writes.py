"""Writes over HTTP: POST /flows, POST /deployments, PATCH tags, through deploy's own code."""

from __future__ import annotations

import json
import urllib.parse
from pathlib import Path
from typing import Any

import pytest

from conftest import git, run_cli
from example_registry import AUTH, client, make_registry, new_repo, tip


@pytest.fixture(scope="module")
def shared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One registry for the tests that must write nothing (each checks that it did not)."""
    return make_registry(new_repo(tmp_path_factory.mktemp("refusals") / "repo"))


def spec_of(repo: Path, target: str) -> dict[str, Any]:
    """What `dagy-git spec --json` says of one flow file."""
    proc = run_cli("spec", target, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)[0]  # type: ignore[no-any-return]


def test_register_a_new_flow_hashes_like_the_cli_then_skips(repo: Path) -> None:
    make_registry(repo)
    (repo / "extra").mkdir()
    source = (repo / "hello.py").read_text().replace("hello", "greet")
    (repo / "extra" / "greet.py").write_text(source)
    cli = spec_of(repo, "extra/greet.py")
    api = client(repo)
    body = {
        "flow_spec": cli["flow_spec"],
        "source": source,
        "source_path": "extra/greet.py",
        "namespace": "extra",
        "tags": {"team": "platform"},
    }
    first = api.post("/flows", json=body, headers=AUTH)
    assert first.status_code == 200, first.text
    out = first.json()
    assert (out["status"], out["code_hash"]) == ("registered", cli["code_hash"])
    assert out["source_file_hash"] == cli["source_file_hash"]
    shown = json.loads(run_cli("show", "greet@0.1", "--json", cwd=repo).stdout)
    assert (shown["namespace"], shown["tags"], shown["source_path"]) == (
        "extra",
        {"team": "platform"},
        "extra/greet.py",
    )
    assert shown["source_commit"] is None  # no commit holds this code: no version tag
    assert git(repo, "tag", "--list", "dagy/greet/*") == ""
    stored = git(repo, "show", f"{tip(repo)}:flows/greet/0.1/source/greet.py")
    assert stored == source.strip()
    again = api.post("/flows", json=body, headers=AUTH).json()
    assert (again["status"], again["registry_commit"]) == ("skipped", out["registry_commit"])
    forced = api.post("/flows", params={"force": "true"}, json=body, headers=AUTH).json()
    assert forced["status"] == "updated" and forced["registry_commit"] != out["registry_commit"]


def test_register_with_only_the_source_hash(repo: Path) -> None:
    make_registry(repo)
    cli = spec_of(repo, "hello.py")
    spec = {**cli["flow_spec"], "version": "0.9"}
    body = {"flow_spec": spec, "source_file_hash": cli["source_file_hash"]}
    out = client(repo).post("/flows", json=body, headers=AUTH).json()
    assert out["status"] == "registered"
    shown = json.loads(run_cli("show", "hello@0.9", "--json", cwd=repo).stdout)
    assert shown["code_hash"] == out["code_hash"] != cli["code_hash"]  # the version is hashed
    assert (shown["source_path"], shown["namespace"]) == (None, "")
    # A deployment without a version binds the most recently deployed one: now 0.9.
    dep = client(repo).post("/deployments", json={"name": "h", "flow_name": "hello"}, headers=AUTH)
    assert dep.json()["flow_version"] == "0.9"


def test_registered_flow_keeps_its_namespace_and_new_tags_are_metadata(repo: Path) -> None:
    make_registry(repo)
    cli = spec_of(repo, "data/orders/order_etl.py")
    api = client(repo)
    source = (repo / "data/orders/order_etl.py").read_text()
    body = {"flow_spec": cli["flow_spec"], "source": source, "tags": {"owner": "ana"}}
    out = api.post("/flows", json=body, headers=AUTH).json()
    assert (out["status"], out["namespace"]) == ("metadata", "data/orders")
    assert out["tags"] == {"team": "data-eng", "env": "prod", "owner": "ana"}
    before = tip(repo)
    moved = api.post("/flows", json={**body, "namespace": "elsewhere"}, headers=AUTH)
    assert moved.status_code == 409
    assert "is registered in namespace 'data/orders'" in moved.json()["error"]["message"]
    assert tip(repo) == before


def test_register_with_a_deployment_counts_deployment_versions(repo: Path) -> None:
    make_registry(repo)
    cli = spec_of(repo, "hello.py")
    source = (repo / "hello.py").read_text()
    api = client(repo)
    body = {
        "flow_spec": cli["flow_spec"],
        "source": source,
        "deployment_name": "hello-nightly",
        "schedule": "0 2 * * *",
        "parameters": {"n": 1},
    }
    first = api.post("/flows", json=body, headers=AUTH).json()
    assert (first["deployment_name"], first["deployment_version"]) == ("hello-nightly", 1)
    second = api.post("/flows", json={**body, "parameters": {"n": 2}}, headers=AUTH).json()
    assert second["deployment_version"] == 2
    dep = api.get("/deployments/hello-nightly").json()
    assert (dep["schedule"], dep["parameters"], dep["deployment_version"]) == (
        "0 2 * * *",
        {"n": 2},
        2,
    )


@pytest.mark.parametrize(
    ("change", "status", "message"),
    [
        ({"bogus": 1}, 422, "body: unknown field 'bogus'"),
        ({"flow_spec": {"name": "x"}}, 422, "body.flow_spec.function: Field required"),
        ({"source": None}, 422, "send the flow's source text (`source`) or its `source_file_hash`"),
        ({"source_file_hash": "0" * 64}, 422, "source_file_hash 000000000000… does not match"),
        ({"namespace": "../up"}, 422, "invalid namespace '../up'"),
        ({"tags": {"bad key": "v"}}, 422, "invalid tag key 'bad key'"),
        ({"source_path": "../x.py"}, 422, "source_path '../x.py' must be a repo-relative"),
        ({"source_path": "a\nb.py"}, 422, "source_path 'a\\nb.py' must be a repo-relative"),
        ({"deployment_name": "no/slash"}, 422, "invalid deployment name 'no/slash'"),
        ({"schedule": "0 2 * * *"}, 422, "schedule and parameters belong to a deployment"),
        ({"source": "\ud800"}, 422, "the request holds text that is not valid Unicode"),
        ({"source_commit": "f" * 40}, 409, "source commit ffffffffffffffffffff"),
    ],
)
def test_bad_registrations_are_refused_and_write_nothing(
    shared: Path, change: dict[str, Any], status: int, message: str
) -> None:
    repo = shared
    cli = spec_of(repo, "hello.py")
    body = {
        "flow_spec": {**cli["flow_spec"], "version": "0.5"},
        "source": (repo / "hello.py").read_text(),
        **change,
    }
    if body["source"] is None:
        del body["source"]
    before = tip(repo)
    # Sent as ASCII JSON: a lone surrogate travels as the escape "\\ud800", as it can.
    headers = {**AUTH, "content-type": "application/json"}
    resp = client(repo).post("/flows", content=json.dumps(body), headers=headers)
    assert resp.status_code == status, resp.text
    assert resp.json()["error"]["message"].startswith(message)
    assert tip(repo) == before


def test_bad_spec_names_and_edges(shared: Path) -> None:
    repo = shared
    before = tip(repo)
    api = client(repo)
    base = spec_of(repo, "hello.py")["flow_spec"]
    source = (repo / "hello.py").read_text()
    cases = [
        ({**base, "name": "a@b"}, "invalid flow name 'a@b'"),
        ({**base, "edges": [["say", "nope"]]}, "flow_spec.edges[0]: 'nope' is not a task id"),
        ({**base, "tasks": base["tasks"] * 2}, "flow_spec.tasks: task id 'say' appears twice"),
        ({**base, "retries": "many"}, "body.flow_spec.retries: Input should be a valid integer"),
    ]
    for spec, message in cases:
        resp = api.post("/flows", json={"flow_spec": spec, "source": source}, headers=AUTH)
        assert resp.status_code == 422
        assert resp.json()["error"]["message"].startswith(message), spec
    assert tip(repo) == before


def test_patch_tags_sets_and_unsets(repo: Path) -> None:
    make_registry(repo)
    api = client(repo)
    resp = api.patch(
        "/flows/order_etl/2.1.0/tags",
        json={"set": {"owner": "ana", "env": "dev"}, "unset": ["team"]},
        headers=AUTH,
    )
    assert resp.status_code == 200
    assert resp.json()["tags"] == {"env": "dev", "owner": "ana"} and resp.json()["changed"]
    cli = json.loads(run_cli("show", "order_etl@2.1.0", "--json", cwd=repo).stdout)
    assert cli["tags"] == {"env": "dev", "owner": "ana"}
    same = api.patch("/flows/order_etl/2.1.0/tags", json={"set": {"env": "dev"}}, headers=AUTH)
    assert same.json()["changed"] is False
    missing = api.patch("/flows/order_etl/7/tags", json={"set": {"a": "b"}}, headers=AUTH)
    assert missing.status_code == 404
    bad = api.patch("/flows/order_etl/2.1.0/tags", json={"unset": ["a b"]}, headers=AUTH)
    assert bad.status_code == 422


def test_post_deployments_creates_bumps_and_skips(repo: Path) -> None:
    make_registry(repo)
    api = client(repo)
    body = {"name": "etl-adhoc", "flow_name": "order_etl", "tags": {"env": "dev"}}
    first = api.post("/deployments", json=body, headers=AUTH).json()
    assert (first["status"], first["deployment_version"], first["flow_version"]) == (
        "registered",
        1,
        "2.1.0",
    )
    assert first["tags"] == {"team": "data-eng", "env": "dev"}  # flow tags, overlaid
    second = api.post("/deployments", json={**body, "schedule": "*/5 * * * *"}, headers=AUTH)
    assert (second.json()["status"], second.json()["deployment_version"]) == ("metadata", 2)
    third = api.post("/deployments", json=body, headers=AUTH).json()
    assert (third["status"], third["deployment_version"]) == ("skipped", 2)
    assert third["schedule"] == "*/5 * * * *"  # not given: kept
    forced = api.post("/deployments", params={"force": True}, json=body, headers=AUTH).json()
    assert (forced["status"], forced["deployment_version"]) == ("metadata", 3)
    listed = json.loads(run_cli("deployments", "--json", "--tag", "env=dev", cwd=repo).stdout)
    assert [(d["name"], d["deployment_version"]) for d in listed] == [("etl-adhoc", 3)]
    by_tag = api.get("/deployments", params={"tag": "env:dev"}).json()
    assert [d["name"] for d in by_tag] == ["etl-adhoc"]


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        ({"name": "x", "flow_name": "nope"}, 404, "flow 'nope' is not registered"),
        ({"name": "x", "flow_name": "hello", "flow_version": "7"}, 404, "hello@7 is not regis"),
        ({"name": "-x", "flow_name": "hello"}, 422, "invalid deployment name '-x'"),
        ({"name": "x", "flow_name": "hello", "schedule": "often"}, 422, "schedule"),
        ({"name": "x", "flow_name": "hello", "extra": 1}, 422, "body: unknown field 'extra'"),
        ({"name": "order-etl-prod", "flow_name": "hello"}, 409, "deployment 'order-etl-prod'"),
    ],
)
def test_bad_deployments_are_refused(
    shared: Path, body: dict[str, Any], status: int, message: str
) -> None:
    repo = shared
    before = tip(repo)
    resp = client(repo).post("/deployments", json=body, headers=AUTH)
    assert resp.status_code == status, resp.text
    assert message in resp.json()["error"]["message"]
    assert tip(repo) == before


def test_unknown_deployment_is_404(shared: Path) -> None:
    resp = client(shared).get("/deployments/nope")
    assert resp.status_code == 404
    assert resp.json()["error"]["message"] == "no deployment named 'nope'"


def test_with_push_every_write_reaches_the_remote(repo: Path, bare_remote: Path) -> None:
    make_registry(repo)
    git(repo, "remote", "add", "origin", str(bare_remote))
    assert run_cli("push", cwd=repo).returncode == 0
    api = client(repo, push=True)
    made = api.post("/drafts", json={"name": "Pushed"}, headers=AUTH).json()
    remote_tip = git(bare_remote, "rev-parse", "refs/heads/dagy/registry")
    assert remote_tip == made["registry_commit"] == tip(repo)
    spec = spec_of(repo, "hello.py")
    body = {"flow_spec": {**spec["flow_spec"], "version": "0.7"}, "source": "x = 1\n"}
    out = api.post("/flows", json=body, headers=AUTH).json()
    assert git(bare_remote, "rev-parse", "refs/heads/dagy/registry") == out["registry_commit"]
    assert api.get("/health").json()["push"] is True


def test_a_repository_without_a_registry_serves_empty_lists_and_writes_create_it(
    repo: Path,
) -> None:
    api = client(repo)
    assert api.get("/flows").json()["total"] == 0
    assert api.get("/deployments").json() == api.get("/drafts").json() == []
    made = api.post("/drafts", json={"name": "First"}, headers=AUTH)
    assert made.status_code == 201
    assert tip(repo) == made.json()["registry_commit"]
    assert json.loads(run_cli("drafts", "list", "--json", cwd=repo).stdout)[0]["name"] == "First"


def test_free_form_versions_travel_in_paths(repo: Path) -> None:
    make_registry(repo)
    api = client(repo)
    cli = spec_of(repo, "hello.py")
    # ("%2F" travels in test_serve.py: the test client decodes paths twice, uvicorn once)
    for version in ("2024/01 β", "log", ".."):
        spec = {**cli["flow_spec"], "version": version}
        body = {"flow_spec": spec, "source_file_hash": cli["source_file_hash"]}
        assert api.post("/flows", json=body, headers=AUTH).json()["status"] == "registered"
        # Dots too: a client would otherwise resolve a ".." segment before sending it.
        quoted = urllib.parse.quote(version, safe="").replace(".", "%2E")
        got = api.get(f"/flows/hello/versions/{quoted}")
        assert got.status_code == 200, (version, got.text)
        assert got.json()["flow_version"] == version
    shown = json.loads(run_cli("show", "hello@2024/01 β", "--json", cwd=repo).stdout)
    assert shown["flow_version"] == "2024/01 β"
    assert api.get("/flows/hello/2024%2F01%20%CE%B2").json()["flow_version"] == "2024/01 β"
    tagged = api.patch("/flows/hello/2024/01 β/tags", json={"set": {"a": "b"}}, headers=AUTH)
    assert tagged.json()["tags"] == {"a": "b"}


def test_a_push_that_fails_is_502_and_writes_nothing(repo: Path) -> None:
    make_registry(repo)
    before = tip(repo)
    git(repo, "remote", "add", "origin", str(repo.parent / "no-such-remote.git"))
    resp = client(repo, push=True).post("/drafts", json={"name": "Lost"}, headers=AUTH)
    assert resp.status_code == 502, resp.text
    assert "origin" in resp.json()["error"]["message"]
    assert tip(repo) == before
