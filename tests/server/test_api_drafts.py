"""DAG drafts: the API and `dagy-git drafts` on the same registry files."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import git, run_cli
from example_registry import AUTH, client, make_registry, tip


def test_draft_lifecycle_over_http(repo: Path) -> None:
    make_registry(repo)
    api = client(repo)
    canvas = json.dumps({"nodes": [{"id": "a"}], "edges": []})
    created = api.post(
        "/drafts",
        json={"name": "My Draft Pipeline", "canvas_json": canvas, "tags": {"status": "wip"}},
        headers=AUTH,
    )
    assert created.status_code == 201
    draft = created.json()
    draft_id = draft["id"]
    stored = json.loads(git(repo, "show", f"{tip(repo)}:drafts/{draft_id}.json"))
    assert stored == {
        k: draft[k] for k in ("name", "canvas_json", "tags", "created_at", "updated_at")
    }
    assert git(repo, "log", "-1", "--format=%B", "dagy/registry").endswith(
        f"Dagy-Draft: {draft_id}"
    )

    assert api.get(f"/drafts/{draft_id}").json() == {**draft, "registry_commit": None}
    assert [d["id"] for d in api.get("/drafts", params={"tag": "status:wip"}).json()] == [draft_id]
    assert api.get("/drafts", params={"tag": "status:done"}).json() == []

    renamed = api.put(
        f"/drafts/{draft_id}", json={"name": "Renamed", "tags": {"status": "done"}}, headers=AUTH
    ).json()
    assert (renamed["name"], renamed["canvas_json"], renamed["tags"]) == (
        "Renamed",
        canvas,
        {"status": "done"},
    )
    assert renamed["created_at"] == draft["created_at"]
    unchanged = api.put(f"/drafts/{draft_id}", json={"name": "Renamed"}, headers=AUTH).json()
    assert unchanged["registry_commit"] == renamed["registry_commit"]  # nothing written

    assert api.delete(f"/drafts/{draft_id}", headers=AUTH).status_code == 204
    assert api.get(f"/drafts/{draft_id}").status_code == 404
    assert api.delete(f"/drafts/{draft_id}", headers=AUTH).status_code == 404


def test_draft_errors(repo: Path) -> None:
    make_registry(repo)
    api = client(repo)
    before = tip(repo)
    cases = [
        ("POST", "/drafts", {"name": "   "}, 422, "draft name must be a non-empty string"),
        ("POST", "/drafts", {"name": "x", "tags": {"a b": "c"}}, 422, "invalid tag key 'a b'"),
        ("POST", "/drafts", {"name": "x", "canvas": "{}"}, 422, "body: unknown field 'canvas'"),
        ("POST", "/drafts", {"name": "a\nb"}, 422, "contains a control character"),
        ("PUT", "/drafts/nope", {"name": "y"}, 404, "no draft with id 'nope'"),
        ("PUT", "/drafts/%2E%2E", {"name": "y"}, 422, "invalid draft id '..'"),
        ("GET", "/drafts/a.b", None, 422, "invalid draft id 'a.b'"),
        ("DELETE", "/drafts/-x", None, 422, "invalid draft id '-x'"),
    ]
    for method, path, body, status, message in cases:
        headers = AUTH if method != "GET" else {}
        resp = api.request(method, path, json=body, headers=headers)
        assert resp.status_code == status, (path, resp.text)
        assert message in resp.json()["error"]["message"], path
    assert tip(repo) == before


def test_drafts_cli_shares_the_api_records(repo: Path, tmp_path: Path) -> None:
    make_registry(repo)
    canvas = tmp_path / "canvas.json"
    canvas.write_text('{"nodes": []}')
    proc = run_cli(
        "drafts",
        "create",
        "From CLI",
        "--canvas",
        str(canvas),
        "--tag",
        "project=m",
        "--json",
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stderr
    made = json.loads(proc.stdout)
    api = client(repo)
    assert api.get(f"/drafts/{made['id']}").json()["canvas_json"] == '{"nodes": []}'

    over_http = api.post("/drafts", json={"name": "From API"}, headers=AUTH).json()
    listed = json.loads(run_cli("drafts", "list", "--json", cwd=repo).stdout)
    assert [d["name"] for d in listed] == ["From API", "From CLI"]
    only = json.loads(run_cli("drafts", "list", "--tag", "project=m", "--json", cwd=repo).stdout)
    assert [d["id"] for d in only] == [made["id"]]

    proc = run_cli("drafts", "update", over_http["id"], "--tag", "x=y", "--json", cwd=repo)
    assert json.loads(proc.stdout)["tags"] == {"x": "y"}
    shown = json.loads(run_cli("drafts", "show", over_http["id"], "--json", cwd=repo).stdout)
    assert shown == {
        k: v
        for k, v in api.get(f"/drafts/{over_http['id']}").json().items()
        if k != "registry_commit"
    }
    assert run_cli("drafts", "delete", made["id"], cwd=repo).returncode == 0
    assert api.get(f"/drafts/{made['id']}").status_code == 404

    missing = run_cli("drafts", "show", "nope", cwd=repo)
    assert missing.returncode == 1
    assert missing.stderr.startswith("error: no draft with id 'nope'")
    nothing = run_cli("drafts", "update", over_http["id"], cwd=repo)
    assert (nothing.returncode, "nothing to change" in nothing.stderr) == (1, True)
    human = run_cli("drafts", "create", "Plain", cwd=repo)
    assert human.stderr.startswith(f"created draft {human.stdout.strip()} (Plain)")
    shown_plain = run_cli("drafts", "show", human.stdout.strip(), cwd=repo)
    assert "name:       Plain" in shown_plain.stdout
