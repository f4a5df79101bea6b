"""Registered code is materialised only inside the run's folder, and only if it is intact.

The malicious registry entries are built with plain git plumbing (`mktree`, `commit-tree`),
the way an attacker with push access to the registry branch could write them.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path

import pytest

from dagy_git.models import FlowRecord

from conftest import commit_all, git, run_cli, write
from runs_harness import deploy, make_etl_repo, runs_json

FLOW_DIR = "flows/order_etl/2.1.0"
BRANCH = "refs/heads/dagy/registry"


@pytest.fixture
def etl_repo(repo: Path) -> Path:
    return make_etl_repo(repo)


def blob(repo: Path, data: bytes) -> str:
    proc = subprocess.run(
        ["git", "hash-object", "-w", "--stdin"],
        cwd=repo,
        input=data,
        capture_output=True,
        check=True,
    )
    return proc.stdout.decode().strip()


def mktree(repo: Path, entries: list[tuple[str, str, str, str]]) -> str:
    """A tree from `(mode, type, oid, name)` entries (`git mktree` accepts a `..` name)."""
    text = "".join(f"{m} {t} {o}\t{n}\n" for m, t, o, n in entries)
    proc = subprocess.run(
        ["git", "mktree"], cwd=repo, input=text, text=True, capture_output=True, check=True
    )
    return proc.stdout.strip()


def replace(repo: Path, tree: str, path: list[str], new: tuple[str, str, str] | None) -> str:
    """`tree` with the entry at `path` replaced by `(mode, type, oid)` (None: removed)."""
    entries = []
    for line in git(repo, "ls-tree", tree).splitlines():
        meta, name = line.split("\t", 1)
        mode, kind, oid = meta.split()
        if name == path[0]:
            if len(path) > 1:
                entries.append((mode, kind, replace(repo, oid, path[1:], new), name))
            continue
        entries.append((mode, kind, oid, name))
    if len(path) == 1 and new is not None:
        entries.append((*new, path[0]))
    return mktree(repo, entries)


def rewrite_registry(repo: Path, path: str, new: tuple[str, str, str] | None) -> None:
    """Commit a registry whose entry at `path` is `new`, as a hostile writer would."""
    tip = git(repo, "rev-parse", BRANCH)
    tree = replace(repo, git(repo, "rev-parse", f"{tip}^{{tree}}"), path.split("/"), new)
    commit = git(repo, "commit-tree", tree, "-p", tip, "-m", "tamper")
    git(repo, "update-ref", BRANCH, commit, tip)


def run_refused(repo: Path, message: str) -> None:
    proc = run_cli("run", "order_etl@2.1.0", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert "etl code" not in proc.stdout  # the flow never ran
    assert [r["state"] for r in runs_json(repo)] == ["FAILED"]


def test_source_entry_named_dotdot_is_refused(etl_repo: Path, tmp_path: Path) -> None:
    payload = blob(etl_repo, b"open('/tmp/pwned', 'w')\n")
    inner = mktree(etl_repo, [("100644", "blob", payload, "escaped.py")])
    up = mktree(etl_repo, [("040000", "tree", inner, "..")])
    source = mktree(etl_repo, [("040000", "tree", up, "..")])
    rewrite_registry(etl_repo, f"{FLOW_DIR}/source", ("040000", "tree", source))
    run_refused(etl_repo, "could escape its folder")
    assert not list(tmp_path.rglob("escaped.py"))


def test_symlink_in_stored_source_is_refused(etl_repo: Path, tmp_path: Path) -> None:
    target = tmp_path / "outside"
    target.mkdir()
    link = blob(etl_repo, str(target).encode())
    rewrite_registry(
        etl_repo,
        f"{FLOW_DIR}/source/pipelines/data/orders/order_etl.py"
        if _nested(etl_repo)
        else f"{FLOW_DIR}/source/order_etl.py",
        ("120000", "blob", link),
    )
    run_refused(etl_repo, "is a symlink; only plain files can be run")
    assert list(target.iterdir()) == []


def test_escaping_source_path_in_the_record_is_refused(etl_repo: Path) -> None:
    record = json.loads(git(etl_repo, "show", f"dagy/registry:{FLOW_DIR}/record.json"))
    for bad in ("../../evil.py", "/tmp/evil.py"):
        record["source_path"] = bad
        data = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        rewrite_registry(
            etl_repo, f"{FLOW_DIR}/record.json", ("100644", "blob", blob(etl_repo, data))
        )
        proc = run_cli("run", "order_etl@2.1.0", cwd=etl_repo)
        assert proc.returncode == 1
        assert f"refusing the stored path {bad!r}" in proc.stderr


def test_changed_stored_source_fails_the_code_hash_check(etl_repo: Path) -> None:
    rel = "pipelines/data/orders/order_etl.py" if _nested(etl_repo) else "order_etl.py"
    stored = git(etl_repo, "show", f"dagy/registry:{FLOW_DIR}/source/{rel}") + "\n"
    tampered = stored.replace("etl code v1", "etl code tampered").encode()
    rewrite_registry(
        etl_repo, f"{FLOW_DIR}/source/{rel}", ("100644", "blob", blob(etl_repo, tampered))
    )
    # with the closure stored, the closure check (over every file) is the one that fires
    run_refused(etl_repo, "does not match its registered")


def test_without_stored_source_the_source_commit_runs(etl_repo: Path) -> None:
    rewrite_registry(etl_repo, f"{FLOW_DIR}/source", None)
    proc = run_cli("run", "order_etl@2.1.0", "--json", cwd=etl_repo)
    assert proc.returncode == 0, proc.stderr
    run = json.loads(proc.stdout)
    assert run["source"] == "git-archive"
    assert "etl code v1" in run["log"]


def _nested(repo: Path) -> bool:
    """Whether the registry keeps sources at repo-relative paths (the import closure)."""
    listing = git(repo, "ls-tree", "-r", "--name-only", "dagy/registry", f"{FLOW_DIR}/source")
    return "/pipelines/" in listing


def test_repository_imports_come_from_the_deployed_commit(repo: Path) -> None:
    write(repo, "pipelines/helpers.py", "def greet():\n    return 'helper v1'\n")
    write(
        repo,
        "pipelines/hello.py",
        """
        from dagy import flow, task
        from pipelines.helpers import greet

        @task
        def say() -> None:
            print(greet())

        @flow(name="hello", version="1")
        def hello():
            say()
        """,
    )
    (repo / "docs").mkdir()
    (repo / "docs" / "link.md").symlink_to("/etc/hostname")  # elsewhere in the repo: harmless
    commit_all(repo)
    deploy(repo, "pipelines/hello.py")
    write(repo, "pipelines/helpers.py", "def greet():\n    return 'helper v2 (uncommitted)'\n")
    proc = run_cli("run", "hello", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "helper v1" in proc.stdout and "v2" not in proc.stdout


def closure_hash(files: dict[str, bytes]) -> str:
    """DESIGN.md's formula, computed here independently of dagy-git."""
    pairs = sorted(
        [p, hashlib.sha256(d.replace(b"\r\n", b"\n")).hexdigest()] for p, d in files.items()
    )
    text = json.dumps(pairs, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


@pytest.mark.skipif(
    "closure_hash" not in FlowRecord.model_fields, reason="records carry no closure_hash yet"
)
def test_a_stored_closure_runs_and_is_checked_against_its_hash(repo: Path) -> None:
    write(repo, "pipelines/helpers.py", "def greet():\n    return 'helper from the commit'\n")
    flow = write(
        repo,
        "pipelines/hello.py",
        """
        from dagy import flow, task
        from pipelines.helpers import greet

        @task
        def say() -> None:
            print(greet())

        @flow(name="hello", version="1")
        def hello():
            say()
        """,
    ).read_bytes()
    commit_all(repo)
    deploy(repo, "pipelines/hello.py")
    folder = "flows/hello/1"
    helpers = b"def greet():\n    return 'helper from the stored closure'\n"

    def store(closure: dict[str, bytes], hashed: dict[str, bytes]) -> None:
        """Registry source = `closure` (plus the flow file by its basename), record hashed
        over `hashed`, written with plumbing."""
        pipelines = mktree(
            repo, [("100644", "blob", blob(repo, d), p.split("/")[1]) for p, d in closure.items()]
        )
        source = mktree(
            repo,
            [
                ("100644", "blob", blob(repo, flow), "hello.py"),
                ("040000", "tree", pipelines, "pipelines"),
            ],
        )
        rewrite_registry(repo, f"{folder}/source", ("040000", "tree", source))
        record = json.loads(git(repo, "show", f"dagy/registry:{folder}/record.json"))
        record["closure_hash"] = closure_hash(hashed)
        data = (json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n").encode()
        rewrite_registry(repo, f"{folder}/record.json", ("100644", "blob", blob(repo, data)))

    closure = {"pipelines/hello.py": flow, "pipelines/helpers.py": helpers}
    store(closure, closure)
    proc = run_cli("run", "hello", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "helper from the stored closure" in proc.stdout  # not the commit's module
    tampered = {**closure, "pipelines/helpers.py": b"def greet():\n    return 'evil'\n"}
    store(tampered, closure)
    refused = run_cli("run", "hello", cwd=repo)
    assert refused.returncode == 1
    assert "does not match its registered closure_hash" in refused.stderr
    assert "evil" not in refused.stdout
