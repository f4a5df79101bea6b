"""The version guard (`dagy-git guard`, the `dagy-git-version-guard` hook) and the deploy
refusal of `immutable_versions`, with real repositories, real deploys and real commits."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from dagy_git.guard import suggest_bump

from conftest import ORDER_ETL, commit_all, git, run_cli, snapshot_of_this_checkout, write

FLOW = "flows/orders/order_etl.py"
CHANGED = ORDER_ETL.replace("return load(clean)", "loaded = load(clean)\n    return loaded")
DEF_LINE = (
    ORDER_ETL.lstrip("\n").splitlines().index('def order_etl(source: str = "s3://data/orders/"):')
    + 1
)

LATEST = """
from dagy import flow, task


@task
def build(day: str) -> dict:
    ...


@flow(name="build_features")
def build_features(day: str = "today"):
    return build(day)
"""


@pytest.fixture
def deployed(repo: Path) -> Path:
    """order_etl@2.1.0 and build_features@latest, committed and deployed."""
    write(repo, FLOW, ORDER_ETL)
    write(repo, "flows/ml/features.py", LATEST)
    commit_all(repo, "add flows")
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def stage(repo: Path, rel: str, text: str) -> None:
    write(repo, rel, text)
    git(repo, "add", "--", rel)


def test_a_code_change_under_a_registered_version_is_refused(deployed: Path) -> None:
    stage(deployed, FLOW, CHANGED)
    proc = run_cli("guard", FLOW, cwd=deployed)
    assert proc.returncode == 1
    assert (
        f"{FLOW}:{DEF_LINE}: order_etl@2.1.0 is already registered with other code" in proc.stderr
    )
    assert 'bump version= in flows/orders/order_etl.py (e.g. "2.1.1")' in proc.stderr
    # no paths: every flow of the repository is checked
    assert run_cli("guard", cwd=deployed).returncode == 1


def test_bumping_the_version_passes(deployed: Path) -> None:
    stage(deployed, FLOW, CHANGED.replace('version="2.1.0"', 'version="2.1.1"'))
    proc = run_cli("guard", FLOW, cwd=deployed)
    assert proc.returncode == 0, proc.stderr
    assert "ok" in proc.stderr


def test_latest_may_change(deployed: Path) -> None:
    stage(
        deployed,
        "flows/ml/features.py",
        LATEST.replace("return build(day)", "x = build(day)\n    return x"),
    )
    proc = run_cli("guard", "flows/ml/features.py", cwd=deployed)
    assert proc.returncode == 0, proc.stderr


def test_configured_mutable_versions_may_change(repo: Path) -> None:
    write(repo, "dagy.toml", 'mutable_versions = ["dev"]\n')
    write(repo, FLOW, ORDER_ETL.replace('version="2.1.0"', 'version="dev"'))
    commit_all(repo, "dev flow")
    assert run_cli("deploy", FLOW, cwd=repo).returncode == 0
    stage(repo, FLOW, CHANGED.replace('version="2.1.0"', 'version="dev"'))
    assert run_cli("guard", FLOW, cwd=repo).returncode == 0


def test_unchanged_code_and_unregistered_versions_pass(deployed: Path) -> None:
    write(deployed, "flows/new.py", ORDER_ETL.replace('"order_etl"', '"brand_new"'))
    proc = run_cli("guard", FLOW, "flows/new.py", "README.md", "gone.py", cwd=deployed)
    assert proc.returncode == 0, proc.stderr


def test_without_a_registry_branch_it_passes_and_says_why(repo: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "add flow")
    proc = run_cli("guard", FLOW, cwd=repo)
    assert proc.returncode == 0
    assert "no registry branch 'dagy/registry'" in proc.stderr
    assert "nothing to guard" in proc.stderr


def test_a_version_set_by_a_manifest_deployment_is_guarded(repo: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    write(
        repo,
        "flows/orders/dagy.toml",
        '[[deployments]]\nname = "etl-prod"\nflow = "order_etl.py"\nflow_version = "3.0"\n',
    )
    commit_all(repo, "flow and manifest")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    stage(repo, FLOW, CHANGED)
    proc = run_cli("guard", FLOW, cwd=repo)
    assert proc.returncode == 1
    assert "order_etl@3.0 (the version deployment 'etl-prod' sets)" in proc.stderr
    assert 'bump flow_version in flows/orders/dagy.toml (e.g. "3.1")' in proc.stderr


def test_the_pre_commit_entry_point_reports_the_same(deployed: Path) -> None:
    stage(deployed, FLOW, CHANGED)
    proc = subprocess.run(
        [sys.executable, "-m", "dagy_git.cli.hook", "guard", FLOW],
        cwd=deployed,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 1
    assert "order_etl@2.1.0 is already registered with other code" in proc.stderr


@pytest.mark.parametrize(
    ("version", "bumped"),
    [
        ("2.1.0", "2.1.1"),
        ("v9", "v10"),
        ("1.0.0-rc1", "1.0.0-rc2"),
        ("007", "008"),
        ("2026-03-08", "2026-03-09"),
        ("abc", None),
    ],
)
def test_suggested_bumps(version: str, bumped: str | None) -> None:
    assert suggest_bump(version) == bumped


# ---------------------------------------------------------------------------------------
# immutable_versions: deploy itself refuses what the guard warns about


def test_immutable_versions_refuses_a_code_change_unless_forced(repo: Path) -> None:
    write(repo, "dagy.toml", "immutable_versions = true\n")
    write(repo, FLOW, ORDER_ETL)
    write(repo, "flows/ml/features.py", LATEST)
    commit_all(repo, "flows")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    before = git(repo, "rev-parse", "dagy/registry")
    write(repo, FLOW, CHANGED)
    write(repo, "flows/ml/features.py", LATEST + "\n# tweak\n")
    commit_all(repo, "change both")
    refused = run_cli("deploy", "--all", cwd=repo)
    assert refused.returncode == 1
    assert "order_etl@2.1.0 is already registered with other code" in refused.stderr
    assert "immutable_versions is on" in refused.stderr
    assert "bump the version (version= in the @flow of flows/orders/order_etl.py" in refused.stderr
    assert git(repo, "rev-parse", "dagy/registry") == before, "a refused deploy wrote"
    # latest stays mutable under immutable_versions
    assert run_cli("deploy", "flows/ml/features.py", cwd=repo).returncode == 0
    forced = run_cli("deploy", FLOW, "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert "updated" in forced.stdout


# ---------------------------------------------------------------------------------------
# through the real pre-commit framework


def test_the_hook_blocks_a_commit_through_pre_commit(deployed: Path, tmp_path: Path) -> None:
    rev = snapshot_of_this_checkout(tmp_path / "dagy-git")
    write(
        deployed,
        ".pre-commit-config.yaml",
        f"""
        repos:
          - repo: {tmp_path / "dagy-git"}
            rev: {rev}
            hooks:
              - id: dagy-git-version-guard
        """,
    )
    git(deployed, "add", ".pre-commit-config.yaml")
    git(deployed, "commit", "-q", "--no-verify", "-m", "pre-commit config")
    install = subprocess.run(
        [sys.executable, "-m", "pre_commit", "install"],
        cwd=deployed,
        capture_output=True,
        text=True,
        check=False,
    )
    assert install.returncode == 0, install.stdout + install.stderr
    stage(deployed, FLOW, CHANGED)
    blocked = subprocess.run(
        ["git", "commit", "-m", "sneaky change"],
        cwd=deployed,
        capture_output=True,
        text=True,
        check=False,
    )
    assert blocked.returncode != 0
    assert (
        "order_etl@2.1.0 is already registered with other code" in blocked.stdout + blocked.stderr
    )
    stage(deployed, FLOW, CHANGED.replace('version="2.1.0"', 'version="2.2.0"'))
    passed = subprocess.run(
        ["git", "commit", "-m", "new version"],
        cwd=deployed,
        capture_output=True,
        text=True,
        check=False,
    )
    assert passed.returncode == 0, passed.stdout + passed.stderr


SHARED = """
from dagy import task


@task(retries={retries})
def {name}(x: int) -> int:
    return x
"""

IMPORTER = """
from dagy import flow

from common.tasks import shared


@flow(name="imp", version="1.0")
def imp(x: int = 1):
    return shared(x)
"""


def test_a_changed_task_module_checks_the_flows_that_import_it(repo: Path) -> None:
    write(repo, "common/tasks.py", SHARED.format(retries=1, name="shared"))
    write(repo, "flows/imp/imp.py", IMPORTER)
    commit_all(repo, "shared task")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    # more retries on the shared task: imp@1.0 would change its code_hash
    stage(repo, "common/tasks.py", SHARED.format(retries=5, name="shared"))
    proc = run_cli("guard", "common/tasks.py", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert "imp@1.0 is already registered with other code" in proc.stderr
    # renaming the task breaks the importing flow: validate of the module alone says so
    stage(repo, "common/tasks.py", SHARED.format(retries=1, name="shared2"))
    proc = run_cli("validate", "common/tasks.py", cwd=repo)
    assert proc.returncode == 1
    assert proc.stdout.startswith("flows/imp/imp.py:")


def test_a_fresh_clone_is_guarded_by_the_remote_tracking_registry(
    deployed: Path, tmp_path: Path, bare_remote: Path
) -> None:
    git(deployed, "remote", "add", "origin", str(bare_remote))
    git(deployed, "push", "-q", "origin", "HEAD:main")
    assert run_cli("push", cwd=deployed).returncode == 0
    clone = tmp_path / "clone"
    git(tmp_path, "clone", "-q", str(bare_remote), str(clone))
    stage(clone, FLOW, CHANGED)
    proc = run_cli("guard", FLOW, cwd=clone)
    assert proc.returncode == 1, proc.stderr
    assert "order_etl@2.1.0 is already registered with other code" in proc.stderr
    assert "origin/dagy/registry" in proc.stderr
