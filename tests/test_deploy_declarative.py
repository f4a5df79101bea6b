"""Manifests are declarative, and refusals say where and write nothing.

`deploy --all` lists deployments no manifest declares any more (`--prune` retires them in
the same commit); a key removed from a manifest's `[tags]` leaves the flows it tagged, while
tags set with `tag`/`--tag` stay. Plus the rough edges of issue 8 item 7: `log` of an
unknown flow, a manifest naming a missing file, `init` on a foreign branch, retiring a
corrupted record, a too deeply nested file, and what a dry run says.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ORDER_ETL, commit_all, git, run_cli, write

FLOW = "flows/orders/order_etl.py"
MANIFEST = """
[tags]
team = "data"
env = "dev"

[[deployments]]
name = "etl-prod"
flow = "order_etl.py"

[[deployments]]
name = "etl-staging"
flow = "order_etl.py"
"""


@pytest.fixture
def declared(repo: Path) -> Path:
    """order_etl with two manifest deployments and manifest tags, deployed."""
    write(repo, FLOW, ORDER_ETL)
    write(repo, "flows/orders/dagy.toml", MANIFEST)
    commit_all(repo, "flows")
    deploy(repo)
    return repo


def deploy(repo: Path, *args: str) -> dict:
    proc = run_cli("deploy", "--all", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def registry_json(repo: Path, path: str) -> dict:
    return json.loads(git(repo, "show", f"dagy/registry:{path}"))


def test_undeclared_deployments_are_listed_and_pruned_in_the_same_commit(
    declared: Path,
) -> None:
    prod_only = MANIFEST.rsplit("[[deployments]]", 1)[0]
    write(declared, "flows/orders/dagy.toml", prod_only)
    commit_all(declared, "staging is gone")
    out = deploy(declared)
    assert out["undeclared"] == ["etl-staging"] and out["retired"] == []
    text = run_cli("deploy", "--all", cwd=declared).stderr
    assert "no manifest declares any more: etl-staging" in text
    before = git(declared, "rev-parse", "dagy/registry")
    dry = deploy(declared, "--prune", "--dry-run")
    assert dry["retired"] == ["etl-staging"]
    assert git(declared, "rev-parse", "dagy/registry") == before
    out = deploy(declared, "--prune")
    assert out["retired"] == ["etl-staging"]
    assert git(declared, "rev-parse", "dagy/registry~1") == before  # one commit
    names = git(declared, "ls-tree", "--name-only", "dagy/registry", "deployments/")
    assert names.splitlines() == ["deployments/etl-prod.json"]
    message = git(declared, "log", "-1", "--format=%B", "dagy/registry")
    assert "Dagy-Deployment-Retired: etl-staging" in message
    assert deploy(declared)["undeclared"] == []
    proc = run_cli("deploy", FLOW, "--prune", cwd=declared)
    assert proc.returncode == 1 and "--prune works with --all" in proc.stderr


def test_a_tag_removed_from_the_manifest_leaves_the_flow_explicit_ones_stay(
    declared: Path,
) -> None:
    tags = "flows/order_etl/2.1.0/tags.json"
    assert registry_json(declared, tags) == {"team": "data", "env": "dev"}
    assert run_cli("tag", "order_etl@2.1.0", "owner=ana", cwd=declared).returncode == 0
    # a key the manifest set, then set by hand, is the user's from then on
    assert run_cli("tag", "order_etl@2.1.0", "team=ml", cwd=declared).returncode == 0
    manifest = MANIFEST.replace('env = "dev"\n', "").replace('team = "data"\n', "")
    write(declared, "flows/orders/dagy.toml", manifest)
    commit_all(declared, "no env tag any more")
    out = deploy(declared)
    assert {r["status"] for r in out["results"]} == {"metadata"}
    assert registry_json(declared, tags) == {"team": "ml", "owner": "ana"}
    record = registry_json(declared, "flows/order_etl/2.1.0/record.json")
    assert record["tags_from_manifest"] == []
    dep = registry_json(declared, "deployments/etl-prod.json")
    assert "env" not in dep["tags"] and dep["tags"]["owner"] == "ana"
    assert {r["status"] for r in deploy(declared)["results"]} == {"skipped"}


def test_log_of_an_unknown_flow_exits_1_like_show(declared: Path) -> None:
    for args in (("log", "nope"), ("show", "nope@1"), ("log", "order_etl", "--flow-version", "9")):
        proc = run_cli(*args, cwd=declared)
        assert proc.returncode == 1, (args, proc.stdout, proc.stderr)
        assert "is not registered" in proc.stderr
    assert run_cli("log", "order_etl", cwd=declared).returncode == 0


def test_a_manifest_naming_a_missing_file_is_named(declared: Path) -> None:
    write(
        declared,
        "flows/orders/dagy.toml",
        MANIFEST.replace('flow = "order_etl.py"\n\n', 'flow = "gone.py"\n\n', 1),
    )
    proc = run_cli("deploy", "--all", cwd=declared)
    assert proc.returncode == 1
    assert "flows/orders/dagy.toml:5" in proc.stderr and "flows/orders/gone.py" in proc.stderr
    assert "no such file" in proc.stderr


def test_init_on_a_branch_that_is_not_a_registry_writes_nothing(repo: Path) -> None:
    git(repo, "branch", "dagy/registry")  # a user's branch of that name
    proc = run_cli("init", cwd=repo)
    assert proc.returncode == 1 and "not a dagy registry" in proc.stderr
    assert not (repo / "dagy.toml").exists()


def test_retire_removes_a_corrupted_deployment_record(declared: Path) -> None:
    # corrupt deployments/etl-staging.json on the registry branch with plain git
    tmp = declared / ".git" / "bad.json"
    tmp.write_text("{not json")
    blob = git(declared, "hash-object", "-w", str(tmp))
    index = declared / ".git" / "dagy-index"
    env = {"GIT_INDEX_FILE": str(index)}
    git(declared, "read-tree", "dagy/registry", env=env)
    git(
        declared,
        "update-index",
        "--cacheinfo",
        f"100644,{blob},deployments/etl-staging.json",
        env=env,
    )
    tree = git(declared, "write-tree", env=env)
    commit = git(declared, "commit-tree", tree, "-p", "dagy/registry", "-m", "corrupt")
    git(declared, "update-ref", "refs/heads/dagy/registry", commit)
    assert run_cli("deployments", cwd=declared).returncode == 1  # it is corrupt
    proc = run_cli("retire", "etl-staging", cwd=declared)
    assert proc.returncode == 0, proc.stderr
    assert "unreadable record" in proc.stderr
    assert run_cli("deployments", cwd=declared).returncode == 0


def test_a_too_deeply_nested_file_gets_a_reason(repo: Path) -> None:
    write(repo, "flows/deep.py", "from dagy import flow\nx = " + "-" * 20000 + "1\n")
    proc = run_cli("validate", "flows/deep.py", cwd=repo)
    assert proc.returncode == 1
    assert "flows/deep.py:1:1: cannot be parsed: too deeply nested" in proc.stdout


def test_a_dry_run_never_says_flows_were_deployed(declared: Path) -> None:
    write(declared, FLOW, ORDER_ETL + "\n# uncommitted\n")
    dry = run_cli("deploy", "--all", "--dry-run", cwd=declared)
    assert dry.returncode == 0
    assert "were deployed" not in dry.stderr
    assert "would be deployed from uncommitted files" in dry.stderr
    real = run_cli("deploy", "--all", cwd=declared)
    assert "deployed from uncommitted files" in real.stderr
