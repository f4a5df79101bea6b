"""The registry read back through GitPython, an implementation independent of `gitio.py`.

dagy-git writes the registry with its own plumbing (objects encoded in Python, one pack,
one `update-ref --stdin`) and reads it with the same module. Here GitPython reads the
branch, its trees, the annotated version tags and the commit trailers, and what it finds
must be what `dagy-git list / show / deployments / log` report, so a bug in `gitio.py`
cannot hide behind itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import git as gitpython
import pytest

from conftest import ORDER_ETL, commit_all, run_cli, write

MANIFEST = """
[tags]
team = "data"

[[deployments]]
name = "order-etl-prod"
flow = "orders/order_etl.py"
schedule = "0 6 * * *"
parameters = {{ day = "{day}" }}
"""

OTHER = ORDER_ETL.replace('name="order_etl", version="2.1.0"', 'name="invoices", version="1.0"')


def cli_json(repo: Path, *args: str) -> Any:
    proc = run_cli(*args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def registry(repo: Path) -> Path:
    """Two flows and a deployment, deployed twice (the second time with new code), then
    re-tagged: five kinds of registry write."""
    write(repo, "orders/order_etl.py", ORDER_ETL)
    write(repo, "billing/invoices.py", OTHER)
    write(repo, "dagy.toml", MANIFEST.format(day="today"))
    commit_all(repo, "flows")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    flow = repo / "orders/order_etl.py"
    flow.write_text(flow.read_text().replace("@task\ndef load", "@task(retries=2)\ndef load"))
    write(repo, "dagy.toml", MANIFEST.format(day="yesterday"))
    commit_all(repo, "retry load")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    assert run_cli("tag", "invoices@1.0", "owner=ann", cwd=repo).returncode == 0
    return repo


def blob_json(tree: gitpython.Tree, path: str) -> Any:
    return json.loads(tree[path].data_stream.read())


def stored_source(folder: gitpython.Tree, path: str) -> bytes:
    """The flow file kept under `source/`: at its repo-relative path (DESIGN.md), or by its
    file name as registries written before the import closure keep it."""
    try:
        blob = folder[path]
    except KeyError:
        blob = folder[path.rsplit("/", 1)[-1]]
    data: bytes = blob.data_stream.read()
    return data


def test_the_branch_and_its_trees_hold_what_dagy_git_reports(registry: Path) -> None:
    repo = gitpython.Repo(registry)
    head = repo.commit("refs/heads/dagy/registry")
    tree = head.tree
    assert blob_json(tree, "dagy-registry.json") == {"format": 1}
    listed = {(i["flow_name"], i["flow_version"]): i for i in cli_json(registry, "list")}
    stored = {(t.name, v.name) for t in tree["flows"].trees for v in t.trees}
    assert stored == set(listed) == {("order_etl", "2.1.0"), ("invoices", "1.0")}
    for (name, version), item in listed.items():
        folder = f"flows/{name}/{version}"
        record = blob_json(tree, f"{folder}/record.json")
        shown = cli_json(registry, "show", f"{name}@{version}")
        assert record["code_hash"] == item["code_hash"] == shown["code_hash"]
        assert record["source_commit"] == shown["source_commit"]
        assert blob_json(tree, f"{folder}/tags.json") == item["tags"] == shown["tags"]
        assert blob_json(tree, f"{folder}/spec.json") == shown["flow_spec"]
        # the source as deployed, byte for byte, at its repo-relative path
        source = stored_source(tree[f"{folder}/source"], record["source_path"])
        deployed = repo.commit(record["source_commit"]).tree[record["source_path"]]
        assert source == deployed.data_stream.read()
        # every JSON file is canonical JSON plus a final newline
        raw = tree[f"{folder}/record.json"].data_stream.read()
        canonical = json.dumps(record, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        assert raw == canonical.encode() + b"\n"
    (dep,) = cli_json(registry, "deployments")
    assert blob_json(tree, "deployments/order-etl-prod.json")["parameters"] == {"day": "yesterday"}
    assert (
        dep["deployment_version"]
        == blob_json(tree, "deployments/order-etl-prod.json")["deployment_version"]
    )
    # one commit per operation, a linear history, the user's branch untouched
    history = list(repo.iter_commits("refs/heads/dagy/registry"))
    assert len(history) == 3 and all(len(c.parents) <= 1 for c in history)
    assert repo.head.ref.name == "main" and not repo.is_dirty(untracked_files=False)


def test_version_tags_are_annotated_and_point_at_the_deployed_commits(registry: Path) -> None:
    repo = gitpython.Repo(registry)
    registry_commits = {c.hexsha for c in repo.iter_commits("refs/heads/dagy/registry")}
    tags = {t.name: t for t in repo.tags if t.name.startswith("dagy/")}
    assert set(tags) == {"dagy/order_etl/2.1.0", "dagy/invoices/1.0"}
    for name, tag in tags.items():
        flow, version = name.removeprefix("dagy/").split("/")
        shown = cli_json(registry, "show", f"{flow}@{version}")
        assert tag.tag is not None, f"{name} is a lightweight tag"
        assert tag.commit.hexsha == shown["source_commit"]
        message = tag.tag.message
        assert f"Dagy-Code-Hash: {shown['code_hash']}" in message
        assert f"Dagy-Namespace: {shown['namespace']}" in message
        named = message.split("Dagy-Registry-Commit: ", 1)[1].split()[0]
        assert named in registry_commits
    # the re-deployed version's tag moved to the commit with the new code
    assert "retries=2" in repo.git.show("dagy/order_etl/2.1.0:orders/order_etl.py")


def test_trailers_tell_the_story_log_tells(registry: Path) -> None:
    repo = gitpython.Repo(registry)
    commits = list(repo.iter_commits("refs/heads/dagy/registry"))
    logged = cli_json(registry, "log")
    by_commit: dict[str, list[dict[str, Any]]] = {}
    for item in logged:
        by_commit.setdefault(item["commit"], []).append(item)
    assert [c.hexsha for c in commits] == list(by_commit)
    for commit in commits:
        trailers = commit.trailers_dict
        flows = trailers.get("Dagy-Flow", [])
        items = by_commit[commit.hexsha]
        assert sorted(flows) == sorted(
            f"{i['flow_name']}@{i['flow_version']}" for i in items if i["kind"] == "flow"
        )
        hashes = trailers.get("Dagy-Code-Hash", [])
        assert sorted(h for h in hashes if h) == sorted(
            i["code_hash"] for i in items if i["kind"] == "flow" and i["code_hash"]
        )
        deployed = trailers.get("Dagy-Deployment", [])
        assert sorted(deployed) == sorted(d for i in items for d in i["deployments"])
        assert commit.author.name == items[0]["author"]
    tag_commit = commits[0]
    assert tag_commit.trailers_dict["Dagy-Action"] == ["tags"]
    assert by_commit[tag_commit.hexsha][0]["changes"] == ["tags +owner"]
