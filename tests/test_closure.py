"""The import closure: a flow version is its file plus the repository modules it imports.

A change to a task module alone is new code (deploy updates, naming the module; the guard
refuses it under a registered version); the closure is stored with the version and in
build artifacts; a record from before closures is never redeployed just for lacking one.
"""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest

from dagy_git.hashing import closure_hash, source_file_hash
from dagy_git.identity import ClosureFinder
from dagy_git.registry import FlowVersionWrite, Registry, Transaction

from conftest import commit_all, git, run_cli, write

ETL = """
from dagy import flow

from flows.tasks import extract


@flow(name="etl", version="1.0")
def etl():
    return extract()
"""
TASKS = """
from dagy import task

from flows import helpers


@task
def extract() -> list:
    return helpers.rows()
"""
HELPERS = """
def rows() -> list:
    return [1, 2]
"""


@pytest.fixture
def etl_repo(repo: Path) -> Path:
    """flows/etl.py importing flows/tasks.py, which imports flows/helpers.py; deployed."""
    write(repo, "flows/__init__.py", "")
    write(repo, "flows/etl.py", ETL)
    write(repo, "flows/tasks.py", TASKS)
    write(repo, "flows/helpers.py", HELPERS)
    commit_all(repo, "flows")
    assert deploy(repo)["results"][0]["status"] == "registered"
    return repo


def deploy(repo: Path, *args: str) -> dict:
    proc = run_cli("deploy", "--all", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def registry_file(repo: Path, path: str) -> str:
    return git(repo, "show", f"dagy/registry:flows/etl/1.0/{path}")


def test_the_closure_is_hashed_and_stored_with_the_version(etl_repo: Path) -> None:
    record = json.loads(registry_file(etl_repo, "record.json"))
    files = ["flows/__init__.py", "flows/etl.py", "flows/helpers.py", "flows/tasks.py"]
    hashes = {p: source_file_hash((etl_repo / p).read_bytes()) for p in files}
    assert record["closure_hash"] == closure_hash(hashes)
    listing = git(etl_repo, "ls-tree", "-r", "--name-only", "dagy/registry", "flows/etl/1.0/source")
    prefix = "flows/etl/1.0/source/"
    assert sorted(listing.splitlines()) == sorted([prefix + "etl.py", *(prefix + p for p in files)])
    assert registry_file(etl_repo, "source/flows/tasks.py") == TASKS.lstrip("\n").rstrip("\n")


def test_a_changed_task_module_alone_updates_and_is_named(etl_repo: Path) -> None:
    before = json.loads(registry_file(etl_repo, "record.json"))
    write(etl_repo, "flows/helpers.py", HELPERS.replace("[1, 2]", "[1, 2, 3]"))
    commit_all(etl_repo, "helpers changed")
    result = deploy(etl_repo)["results"][0]
    assert result["status"] == "updated"
    assert result["reason"] == "imported module flows/helpers.py changed"
    after = json.loads(registry_file(etl_repo, "record.json"))
    assert after["code_hash"] == before["code_hash"]  # the spec's formula is untouched
    assert after["closure_hash"] != before["closure_hash"]
    assert "[1, 2, 3]" in registry_file(etl_repo, "source/flows/helpers.py")
    # the version tag moved to the commit that holds the new module
    assert git(etl_repo, "rev-parse", "dagy/etl/1.0^{commit}") == git(etl_repo, "rev-parse", "HEAD")
    assert deploy(etl_repo)["results"][0]["status"] == "skipped"


def test_a_record_from_before_closures_is_not_redeployed_for_lacking_one(etl_repo: Path) -> None:
    reg = Registry(etl_repo)
    with reg.snapshot() as snap:
        record = snap.record("etl", "1.0")
        assert record is not None
        old = record.model_copy(update={"closure_hash": None, "tags_from_manifest": None})
        legacy = FlowVersionWrite(old, snap.spec("etl", "1.0") or {}, {}, None, "metadata")
        reg.write(snap, Transaction(flows=[legacy]))
    assert "closure_hash" not in json.loads(registry_file(etl_repo, "record.json"))
    assert deploy(etl_repo)["results"][0]["status"] == "skipped"
    # documented limit: such a record compares by code_hash until its next real change
    write(etl_repo, "flows/helpers.py", HELPERS.replace("[1, 2]", "[2]"))
    commit_all(etl_repo, "helpers")
    assert deploy(etl_repo)["results"][0]["status"] == "skipped"
    write(etl_repo, "flows/etl.py", ETL + "\n# touched\n")
    commit_all(etl_repo, "flow")
    assert deploy(etl_repo)["results"][0]["status"] == "updated"
    assert "closure_hash" in json.loads(registry_file(etl_repo, "record.json"))


def test_build_artifacts_carry_the_closure(etl_repo: Path, tmp_path: Path) -> None:
    out = tmp_path / "dist"
    assert run_cli("build", "flows/etl.py", "--out", str(out), cwd=etl_repo).returncode == 0
    art = out / "etl-1.0.zip"
    with zipfile.ZipFile(art) as zf:
        names = zf.namelist()
        meta = json.loads(zf.read("metadata.json"))
    assert "source/flows/helpers.py" in names and "source/flows/tasks.py" in names
    record = json.loads(registry_file(etl_repo, "record.json"))
    assert meta["closure_hash"] == record["closure_hash"]
    # deploying the artifact is the same code: nothing to do
    proc = run_cli("deploy", str(art), "--json", cwd=etl_repo)
    assert json.loads(proc.stdout)["results"][0]["status"] == "skipped", proc.stderr
    # an edited module inside the artifact is caught
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(art) as src, zipfile.ZipFile(bad, "w") as dst:
        for name in src.namelist():
            data = src.read(name)
            dst.writestr(name, data + b"#" if name.endswith("helpers.py") else data)
    proc = run_cli("deploy", str(bad), cwd=etl_repo)
    assert proc.returncode == 1 and "hashes do not match" in proc.stderr


def test_the_guard_refuses_a_task_module_change_under_a_registered_version(
    etl_repo: Path,
) -> None:
    write(etl_repo, "flows/tasks.py", TASKS.replace("helpers.rows()", "helpers.rows()[:1]"))
    git(etl_repo, "add", "-A")
    proc = run_cli("guard", "flows/tasks.py", cwd=etl_repo)
    assert proc.returncode == 1, proc.stderr
    assert "etl@1.0 is already registered with other code: flows/tasks.py changed" in proc.stderr


def test_closure_paths_follow_every_import_form(tmp_path: Path) -> None:
    root = tmp_path
    write(root, "pkg/__init__.py", "")
    write(root, "pkg/flow.py", "from . import a\nfrom .sub import b\nimport pkg.c\n")
    write(root, "pkg/a.py", "def f():\n    from pkg import lazy\n")
    write(root, "pkg/lazy.py", "import pkg.flow\n")  # a cycle back to the flow
    write(root, "pkg/sub/__init__.py", "")
    write(root, "pkg/sub/b.py", "import os, json\nfrom outside_the_repo import x\n")
    # a broken file is still in the closure, with what its imports name
    write(root, "pkg/c.py", "from pkg.multi import (\n    one,\n    two as three,\n)\nx = (\n")
    write(root, "pkg/multi.py", "from pkg \\\n    import cont  # a continuation\n")
    write(root, "pkg/cont.py", "")
    write(root, "pkg/unused.py", "")
    assert ClosureFinder(root).paths("pkg/flow.py") == [
        "pkg/__init__.py",
        "pkg/a.py",
        "pkg/c.py",
        "pkg/cont.py",
        "pkg/flow.py",
        "pkg/lazy.py",
        "pkg/multi.py",
        "pkg/sub/__init__.py",
        "pkg/sub/b.py",
    ]
