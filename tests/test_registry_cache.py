"""The registry is the cache (`registry_cache.py`): a fresh clone knows the flows of every
unchanged file from record.json and spec.json, without parsing, and never gets a result
that a fresh analysis would not give."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import commit_all, git, run_cli, write

TASKS = """
from dagy import task


@task(retries={retries})
def extract(day: str) -> list:
    return [day]
"""

FLOW = """
from dagy import flow
from pipelines.shared.tasks import extract


@flow(name="{name}", version="1")
def {name}(day: str = "today"):
    return extract(day)
"""

TWO = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="first", version="1")
def first(x: int = 1):
    return step(x)


@flow(name="second", version="1")
def second(x: int = 2):
    return step(x)
"""


@pytest.fixture
def origin(repo: Path, bare_remote: Path) -> Path:
    write(repo, "dagy.toml", 'namespace_root = "pipelines"\n')
    write(repo, "pipelines/__init__.py", "")
    write(repo, "pipelines/shared/__init__.py", "")
    write(repo, "pipelines/shared/tasks.py", TASKS.format(retries=1))
    for name in ("orders", "refunds"):
        write(repo, f"pipelines/etl/{name}.py", FLOW.format(name=name))
    write(repo, "pipelines/misc/two.py", TWO)
    commit_all(repo, "flows")
    git(repo, "remote", "add", "origin", str(bare_remote))
    return repo


def clone(origin: Path, tmp_path: Path, bare_remote: Path) -> Path:
    """What CI starts from: a fresh clone with the registry fetched, no local cache."""
    git(origin, "push", "-q", "origin", "HEAD:main", "dagy/registry", "--tags")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(bare_remote), str(fresh))
    assert run_cli("pull", cwd=fresh).returncode == 0
    return fresh


def deploy(repo: Path, *args: str) -> dict[str, str]:
    proc = run_cli("deploy", *args, "--json", cwd=repo, env={"DAGY_GIT_CACHE": "1"})
    assert proc.returncode == 0, proc.stderr
    return {
        f"{r['flow_name']}@{r['flow_version']}": r["status"]
        for r in json.loads(proc.stdout)["results"]
    }


def analysed_files(repo: Path) -> int:
    """How many files this clone has analysed (each clean analysis lands in the cache)."""
    folder = repo / ".git" / "dagy" / "cache" / "analysis"
    return sum(len(json.loads(s.read_text())) for s in folder.glob("*.json"))


def spec_json(repo: Path, *, cache: bool) -> object:
    env = {"DAGY_GIT_CACHE": "1" if cache else "0"}
    proc = run_cli("spec", "--json", cwd=repo, env=env)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_fresh_clone_parses_nothing_unchanged(
    origin: Path, tmp_path: Path, bare_remote: Path
) -> None:
    assert set(deploy(origin, "--all").values()) == {"registered"}
    fresh = clone(origin, tmp_path, bare_remote)
    assert deploy(fresh, "--all") == dict.fromkeys(
        ["orders@1", "refunds@1", "first@1", "second@1"], "skipped"
    )
    assert analysed_files(fresh) == 0  # every flow came from the registry
    assert spec_json(fresh, cache=True) == spec_json(fresh, cache=False)


def test_a_changed_task_module_is_analysed_again(
    origin: Path, tmp_path: Path, bare_remote: Path
) -> None:
    deploy(origin, "--all")
    fresh = clone(origin, tmp_path, bare_remote)
    write(fresh, "pipelines/shared/tasks.py", TASKS.format(retries=4))
    commit_all(fresh, "more retries")
    statuses = deploy(fresh, "--all")
    assert statuses["orders@1"] == statuses["refunds@1"] == "updated"
    assert statuses["first@1"] == "skipped"
    assert analysed_files(fresh) == 2


def test_a_file_with_a_flow_never_deployed_is_analysed(
    origin: Path, tmp_path: Path, bare_remote: Path
) -> None:
    deploy(origin, "pipelines/misc/two.py:first")
    deploy(origin, "pipelines/etl/orders.py", "--flow-version", "9.9")
    fresh = clone(origin, tmp_path, bare_remote)
    statuses = deploy(fresh, "--all")
    # `second` was never deployed and orders@1 only as 9.9: the registry cannot vouch.
    assert statuses["second@1"] == "registered"
    assert statuses["orders@1"] == "registered"
    assert statuses["first@1"] == "skipped"


def registry_blob(repo: Path, path: str) -> str:
    return git(repo, "rev-parse", f"dagy/registry:{path}")


def test_a_metadata_change_of_a_vouched_flow_keeps_its_spec(
    origin: Path, tmp_path: Path, bare_remote: Path
) -> None:
    """A flow the registry vouches for is written back (new tags) with its spec as stored,
    and an override of its version builds a new spec from it."""
    deploy(origin, "--all")
    fresh = clone(origin, tmp_path, bare_remote)
    before = registry_blob(fresh, "flows/orders/1/spec.json")
    write(fresh, "pipelines/etl/dagy.toml", '[tags]\nteam = "etl"\n')
    commit_all(fresh, "tags")
    statuses = deploy(fresh, "--all")
    assert statuses["orders@1"] == statuses["refunds@1"] == "metadata"
    assert analysed_files(fresh) == 0  # still nothing parsed
    assert registry_blob(fresh, "flows/orders/1/spec.json") == before
    tags = json.loads(git(fresh, "cat-file", "-p", "dagy/registry:flows/orders/1/tags.json"))
    assert tags["team"] == "etl"
    assert deploy(fresh, "pipelines/etl/orders.py", "--flow-version", "2") == {
        "orders@2": "registered"
    }
    spec = json.loads(git(fresh, "cat-file", "-p", "dagy/registry:flows/orders/2/spec.json"))
    old = json.loads(git(fresh, "cat-file", "-p", f"{before}"))
    assert spec == {**old, "version": "2"}


def test_a_damaged_stored_spec_is_never_written_back(
    origin: Path, tmp_path: Path, bare_remote: Path
) -> None:
    """A no-op deploy never reads the specs it does not write (so a damaged one costs
    nothing there); a deploy that would write it stops with an error naming it."""
    deploy(origin, "--all")
    fresh = clone(origin, tmp_path, bare_remote)
    # Damage orders@1's spec.json on the registry branch, as a bad hand edit would.
    tree = git(fresh, "rev-parse", "dagy/registry^{tree}")
    index = tmp_path / "index"
    env = {"GIT_INDEX_FILE": str(index)}
    git(fresh, "read-tree", tree, env=env)
    blob = git(fresh, "hash-object", "-w", "--stdin", env=env)  # empty: not JSON
    git(fresh, "update-index", "--cacheinfo", f"100644,{blob},flows/orders/1/spec.json", env=env)
    damaged = git(
        fresh,
        "commit-tree",
        git(fresh, "write-tree", env=env),
        "-p",
        "dagy/registry",
        "-m",
        "hand edit",
    )
    git(fresh, "update-ref", "refs/heads/dagy/registry", damaged)
    assert set(deploy(fresh, "--all").values()) == {"skipped"}
    write(fresh, "pipelines/etl/dagy.toml", '[tags]\nteam = "etl"\n')
    commit_all(fresh, "tags")
    proc = run_cli("deploy", "--all", cwd=fresh, env={"DAGY_GIT_CACHE": "1"})
    assert proc.returncode == 1, proc.stderr
    assert "the spec.json of orders@1 on the registry branch is not a valid FlowSpec" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(fresh, "rev-parse", "dagy/registry") == damaged  # nothing written
    # The way out the hint gives: build the spec from the file again.
    proc = run_cli("deploy", "--all", cwd=fresh, env={"DAGY_GIT_CACHE": "0"})
    assert proc.returncode == 0, proc.stderr
    spec = git(fresh, "cat-file", "-p", "dagy/registry:flows/orders/1/spec.json")
    assert json.loads(spec)["name"] == "orders"
