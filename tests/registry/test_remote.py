"""The registry through a remote: `deploy --push`, `push`, `pull`, and racing CI runs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import commit_all, git, run_cli, write

SIMPLE = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="{name}", version="1.0")
def {name}(x: int = {value}):
    return step(x)
"""


@pytest.fixture
def origin(tmp_path: Path, bare_remote: Path) -> Path:
    """A bare remote holding a main branch with six flows."""
    seed = tmp_path / "seed"
    seed.mkdir()
    git(seed, "init", "-q")
    for i in range(6):
        write(seed, f"flows/team{i}/flow{i}.py", SIMPLE.format(name=f"flow{i}", value=i))
    commit_all(seed, "flows")
    git(seed, "remote", "add", "origin", str(bare_remote))
    git(seed, "push", "-q", "origin", "main")
    return bare_remote


def clone(origin: Path, dest: Path) -> Path:
    git(dest.parent, "clone", "-q", str(origin), str(dest))
    return dest


def remote_refs(origin: Path) -> dict[str, str]:
    out = git(origin, "for-each-ref", "--format=%(objectname) %(refname)")
    return {ref: oid for oid, ref in (line.split() for line in out.splitlines())}


def deploy_json(repo: Path, *args: str) -> dict:
    proc = run_cli("deploy", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_deploy_push_from_fresh_clones(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    doc = deploy_json(a, "--all", "--push")
    assert doc["pushed"] is True
    refs = remote_refs(origin)
    assert refs["refs/heads/dagy/registry"] == doc["registry_commit"]
    assert {f"refs/tags/dagy/flow{i}/1.0" for i in range(6)} <= set(refs)
    # a fresh CI clone needs no set-up: it starts from the remote's registry
    b = clone(origin, tmp_path / "b")
    again = deploy_json(b, "--all", "--push")
    assert {r["status"] for r in again["results"]} == {"skipped"}
    assert remote_refs(origin)["refs/heads/dagy/registry"] == doc["registry_commit"]


def test_push_and_pull_carry_moved_tags(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    b = clone(origin, tmp_path / "b")
    assert run_cli("deploy", "--all", cwd=a).returncode == 0
    proc = run_cli("push", cwd=a)
    assert proc.returncode == 0, proc.stderr
    assert run_cli("pull", cwd=b).returncode == 0
    assert git(b, "rev-parse", "dagy/registry") == git(a, "rev-parse", "dagy/registry")
    old_tag = git(b, "rev-parse", "dagy/flow0/1.0")
    # a changes flow0 (same version) and pushes: the version tag moves on the remote
    write(a, "flows/team0/flow0.py", SIMPLE.format(name="flow0", value=42))
    commit_all(a, "flow0 default 42")
    git(a, "push", "-q", "origin", "main")
    doc = deploy_json(a, "flows/team0/flow0.py", "--push")
    assert doc["results"][0]["status"] == "updated"
    assert run_cli("pull", cwd=b).returncode == 0
    new_tag = git(b, "rev-parse", "dagy/flow0/1.0")
    assert new_tag != old_tag
    assert new_tag == git(a, "rev-parse", "dagy/flow0/1.0")
    listed = json.loads(run_cli("list", "--json", cwd=b).stdout)
    assert len(listed) == 6


def _spawn_deploy(repo: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "deploy", *args, "--push", "--json"],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


@pytest.mark.slow
def test_six_racing_clones_lose_nothing(origin: Path, tmp_path: Path) -> None:
    clones = [clone(origin, tmp_path / f"c{i}") for i in range(6)]
    procs = [
        _spawn_deploy(c, f"flows/team{i}/flow{i}.py", "--deployment", f"dep{i}")
        for i, c in enumerate(clones)
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (out, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
        assert json.loads(out)["results"][0]["status"] == "registered"
    check = clone(origin, tmp_path / "check")
    assert run_cli("pull", cwd=check).returncode == 0
    listed = json.loads(run_cli("list", "--json", cwd=check).stdout)
    assert sorted(i["flow_name"] for i in listed) == [f"flow{i}" for i in range(6)]
    deps = json.loads(run_cli("deployments", "--json", cwd=check).stdout)
    assert sorted(d["name"] for d in deps) == [f"dep{i}" for i in range(6)]
    # linear history: one root, six deploy commits, no merges
    history = git(check, "rev-list", "--parents", "dagy/registry").splitlines()
    assert all(len(line.split()) <= 2 for line in history)
    assert len(history) in (6, 7)


@pytest.mark.slow
def test_racing_redeploys_never_repeat_a_deployment_version(origin: Path, tmp_path: Path) -> None:
    first = clone(origin, tmp_path / "first")
    deploy_json(first, "flows/team0/flow0.py", "--deployment", "prod", "--push")
    clones = [clone(origin, tmp_path / f"r{i}") for i in range(4)]
    procs = [
        _spawn_deploy(c, "flows/team0/flow0.py", "--deployment", "prod", "--force") for c in clones
    ]
    versions = []
    for p in procs:
        out, err = p.communicate(timeout=240)
        assert p.returncode == 0, err
        versions.append(json.loads(out)["results"][0]["deployment_version"])
    assert sorted(versions) == [2, 3, 4, 5], "a deployment_version repeated or was skipped"
    check = clone(origin, tmp_path / "check")
    assert run_cli("pull", cwd=check).returncode == 0
    deps = json.loads(run_cli("deployments", "--json", cwd=check).stdout)
    assert deps[0]["deployment_version"] == 5


def test_a_dry_run_with_push_plans_against_the_remote_only(origin: Path, tmp_path: Path) -> None:
    a = clone(origin, tmp_path / "a")
    b = clone(origin, tmp_path / "b")
    # a's local registry diverges from the remote's (a local, never pushed deploy made
    # while the remote had no registry yet)
    assert run_cli("deploy", "flows/team0/flow0.py", cwd=a).returncode == 0
    deploy_json(b, "flows/team1/flow1.py", "--push")
    real = run_cli("deploy", "--all", "--push", cwd=a)
    assert real.returncode == 1 and "diverged" in real.stderr
    dry = deploy_json(a, "--all", "--push", "--dry-run")
    status = {r["flow_name"]: r["status"] for r in dry["results"]}
    assert status["flow1"] == "skipped"  # on the remote already
    assert status["flow0"] == "registered"  # only in a's local registry


def test_a_refused_push_says_what_the_remote_said(origin: Path, tmp_path: Path) -> None:
    hook = origin / "hooks" / "pre-receive"
    hook.write_text("#!/bin/sh\necho 'policy: no pushes today' >&2\nexit 1\n")
    hook.chmod(0o755)
    a = clone(origin, tmp_path / "a")
    proc = run_cli("deploy", "--all", "--push", cwd=a)
    assert proc.returncode == 1
    assert "policy: no pushes today" in proc.stderr
    assert "the remote refused the push" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "dagy/registry" not in git(a, "for-each-ref", "--format=%(refname)", "refs/heads/")
