"""A clone shares its remote's registry: local writes start from it, pending commits are
pushed, a diverged registry has a way out, and the registry branch is never moved under a
work tree that has it checked out."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ORDER_ETL, commit_all, git, run_cli, write

FLOW = "flows/orders/order_etl.py"
OTHER = ORDER_ETL.replace('name="order_etl"', 'name="other"')


@pytest.fixture
def origin(tmp_path: Path, bare_remote: Path) -> Path:
    """A remote whose main holds two flows and whose registry already has both."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q")
    write(seed, FLOW, ORDER_ETL)
    write(seed, "flows/other.py", OTHER)
    commit_all(seed, "flows")
    git(seed, "remote", "add", "origin", str(bare_remote))
    git(seed, "push", "-q", "origin", "main")
    assert run_cli("deploy", "--all", "--push", cwd=seed).returncode == 0
    return bare_remote


def clone(origin: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(origin), str(dest))
    return dest


def deploy(repo: Path, *args: str) -> dict:
    proc = run_cli("deploy", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_plain_deploy_in_a_fresh_clone_continues_the_remote_registry(
    origin: Path, tmp_path: Path
) -> None:
    a = clone(origin, tmp_path / "a")
    remote_tip = git(origin, "rev-parse", "dagy/registry")
    dry = deploy(a, "--all", "--dry-run")  # plans against the remote's, moves nothing
    assert {r["status"] for r in dry["results"]} == {"skipped"}
    assert git(a, "for-each-ref", "refs/heads/dagy/") == ""
    out = deploy(a, "--all")
    assert {r["status"] for r in out["results"]} == {"skipped"}  # not "first deploy"
    assert git(a, "rev-parse", "dagy/registry") == remote_tip
    assert git(a, "rev-parse", "dagy/order_etl/2.1.0") == git(
        origin, "rev-parse", "dagy/order_etl/2.1.0"
    )
    # a change deployed locally builds on the remote's registry, so it pushes cleanly
    write(a, FLOW, ORDER_ETL + "\n# changed\n")
    commit_all(a, "change")
    assert deploy(a, FLOW)["results"][0]["status"] == "updated"
    assert git(a, "rev-parse", "dagy/registry~1") == remote_tip
    assert run_cli("push", cwd=a).returncode == 0


def test_a_behind_local_registry_catches_up_before_writing(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    b = clone(origin, tmp_path / "b")
    assert run_cli("pull", cwd=a).returncode == 0
    write(b, "flows/other.py", OTHER + "\n# b\n")
    commit_all(b, "b")
    deploy(b, "flows/other.py", "--push")
    git(a, "pull", "-q", "origin", "main")
    write(a, FLOW, ORDER_ETL + "\n# a\n")
    commit_all(a, "a")
    deploy(a, FLOW)  # local: must start from b's pushed commit, not a's stale one
    assert git(a, "rev-parse", "dagy/registry~1") == git(origin, "rev-parse", "dagy/registry")
    assert run_cli("push", cwd=a).returncode == 0


def test_an_unreachable_remote_without_any_copy_is_refused(repo: Path, tmp_path: Path) -> None:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "flow")
    git(repo, "remote", "add", "origin", str(tmp_path / "missing.git"))
    proc = run_cli("deploy", FLOW, cwd=repo)
    assert proc.returncode == 1
    assert "cannot reach origin" in proc.stderr and "dagy-git pull" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(repo, "for-each-ref", "refs/heads/dagy/") == ""


def test_deploy_push_with_nothing_new_pushes_pending_commits(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    write(a, FLOW, ORDER_ETL + "\n# changed\n")
    commit_all(a, "change")
    deploy(a, FLOW)  # local only: the remote lacks it
    assert git(origin, "rev-parse", "dagy/registry") != git(a, "rev-parse", "dagy/registry")
    out = deploy(a, FLOW, "--push")
    assert out["results"][0]["status"] == "skipped"
    assert out["pushed"] and out["pushed_pending"]
    assert git(origin, "rev-parse", "dagy/registry") == git(a, "rev-parse", "dagy/registry")
    assert git(origin, "rev-parse", "dagy/order_etl/2.1.0") == git(
        a, "rev-parse", "dagy/order_etl/2.1.0"
    )
    text = run_cli("deploy", FLOW, "--push", cwd=a)
    assert "pushed the local registry commits" not in text.stderr  # nothing pending now
    proc = run_cli("deploy", FLOW, cwd=a)
    assert proc.returncode == 0


def test_the_pending_push_is_said_in_the_table(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    write(a, FLOW, ORDER_ETL + "\n# changed\n")
    commit_all(a, "change")
    deploy(a, FLOW)
    proc = run_cli("deploy", FLOW, "--push", cwd=a)
    assert proc.returncode == 0, proc.stderr
    assert "pushed the local registry commits the remote lacked" in proc.stderr


def test_pull_force_is_the_way_out_of_a_diverged_registry(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    b = clone(origin, tmp_path / "b")
    git(a, "remote", "set-url", "origin", str(tmp_path / "away.git"))  # a works offline
    assert run_cli("pull", cwd=b).returncode == 0
    write(a, FLOW, ORDER_ETL + "\n# a\n")
    commit_all(a, "a")
    deploy(a, FLOW)  # on top of the clone's copy of the remote registry
    write(b, FLOW, ORDER_ETL + "\n# b\n")
    commit_all(b, "b")
    deploy(b, FLOW, "--push")
    git(a, "remote", "set-url", "origin", str(origin))
    local = git(a, "rev-parse", "dagy/registry")
    refused = run_cli("pull", cwd=a)
    assert refused.returncode == 1 and "pull --force" in refused.stderr
    proc = run_cli("pull", "--force", cwd=a)
    assert proc.returncode == 0, proc.stderr
    backup = f"refs/dagy-backup/dagy/registry/{local}"
    assert backup in proc.stderr
    assert git(a, "rev-parse", f"{backup}/branch") == local
    assert git(a, "rev-parse", "dagy/registry") == git(origin, "rev-parse", "dagy/registry")
    assert deploy(a, FLOW)["results"][0]["status"] == "updated"  # re-applies a's code
    assert run_cli("push", cwd=a).returncode == 0


@pytest.mark.parametrize("how", ["checkout", "worktree"])
def test_a_checked_out_registry_branch_is_never_moved(
    origin: Path, tmp_path: Path, how: str
) -> None:
    a = clone(origin, tmp_path / "a")
    assert run_cli("pull", cwd=a).returncode == 0
    if how == "checkout":  # the main work tree holds the registry, flows are elsewhere
        git(a, "checkout", "-q", "dagy/registry")
        flows, where = tmp_path / "flows-tree", a
        git(a, "worktree", "add", "-q", str(flows), "main")
    else:  # `git worktree add` of the registry branch
        flows, where = a, tmp_path / "registry-tree"
        git(a, "worktree", "add", "-q", str(where), "dagy/registry")
    tip = git(a, "rev-parse", "dagy/registry")
    write(flows, FLOW, ORDER_ETL + "\n# changed\n")
    commit_all(flows, "change")
    for args in (("deploy", FLOW), ("pull",), ("tag", "order_etl@2.1.0", "owner=ana")):
        proc = run_cli(*args, cwd=flows)
        assert proc.returncode == 1, (args, proc.stderr)
        assert f"is checked out in {where}" in proc.stderr, proc.stderr
        assert "Traceback" not in proc.stderr
    assert git(a, "rev-parse", "dagy/registry") == tip
    assert git(where, "status", "--porcelain") == ""


def test_init_in_a_clone_takes_the_remote_registry(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    proc = run_cli("init", cwd=a)
    assert proc.returncode == 0, proc.stderr
    assert git(a, "rev-parse", "dagy/registry") == git(origin, "rev-parse", "dagy/registry")
    # offline, with nothing to take, init still starts a registry: that is what it is for
    write(tmp_path / "b", "README.md", "b\n")
    git(tmp_path / "b", "init", "-q")
    commit_all(tmp_path / "b", "b")
    git(tmp_path / "b", "remote", "add", "origin", str(tmp_path / "missing.git"))
    assert run_cli("init", cwd=tmp_path / "b").returncode == 0
    assert git(tmp_path / "b", "for-each-ref", "--format=%(refname)", "refs/heads/dagy/")
