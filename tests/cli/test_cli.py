"""The CLI surface: help text everywhere, version, init, spec."""

from __future__ import annotations

import json
from pathlib import Path

from dagy_git import __version__

from conftest import ORDER_ETL, commit_all, git, run_cli, write


def test_version() -> None:
    proc = run_cli("--version", cwd=Path.cwd())
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"dagy-git {__version__}"


def test_init_creates_config_and_registry_branch(repo: Path) -> None:
    head = git(repo, "rev-parse", "HEAD")
    proc = run_cli("init", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert (repo / "dagy.toml").is_file()
    assert git(repo, "show", "dagy/registry:dagy-registry.json") == '{"format":1}'
    assert git(repo, "rev-list", "--count", "dagy/registry") == "1"
    assert git(repo, "rev-parse", "HEAD") == head
    # idempotent, and it never overwrites a config
    (repo / "dagy.toml").write_text('registry_branch = "dagy/registry"\n')
    assert run_cli("init", cwd=repo).returncode == 0
    assert (repo / "dagy.toml").read_text() == 'registry_branch = "dagy/registry"\n'
    assert git(repo, "rev-list", "--count", "dagy/registry") == "1"


def test_spec_prints_canonical_spec_and_hashes(repo: Path) -> None:
    write(repo, "pipelines/data/orders/order_etl.py", ORDER_ETL)
    commit_all(repo)
    pipelines = repo / "pipelines"
    proc = run_cli("spec", "data/orders/order_etl.py:order_etl", "--json", cwd=pipelines)
    assert proc.returncode == 0, proc.stderr
    (item,) = json.loads(proc.stdout)
    public = {"flow_spec", "code_hash", "source_file_hash", "namespace", "path"}
    assert set(item) == public | {"closure_hash"}  # fields may be added, never renamed
    assert item["namespace"] == "data/orders"  # derived from the working directory
    assert item["path"] == "pipelines/data/orders/order_etl.py"
    assert item["flow_spec"]["name"] == "order_etl"
    human = run_cli("spec", "data/orders/order_etl.py", cwd=pipelines)
    assert item["code_hash"] in human.stdout
    missing = run_cli("spec", "data/orders/order_etl.py:nope", cwd=pipelines)
    assert missing.returncode == 1 and "no flow function 'nope'" in missing.stderr


def test_spec_without_targets_covers_every_flow(repo: Path) -> None:
    write(repo, "a/one.py", ORDER_ETL)
    write(repo, "b/two.py", ORDER_ETL.replace('name="order_etl"', 'name="other"'))
    write(repo, "b/notes.py", "print('no flows here')\n")
    commit_all(repo)
    items = json.loads(run_cli("spec", "--json", cwd=repo).stdout)
    assert [(i["path"], i["flow_spec"]["name"], i["namespace"]) for i in items] == [
        ("a/one.py", "order_etl", "a"),
        ("b/two.py", "other", "b"),
    ]
    both = json.loads(run_cli("spec", "a/one.py", "b/two.py:order_etl", "--json", cwd=repo).stdout)
    assert [i["path"] for i in both] == ["a/one.py", "b/two.py"]
