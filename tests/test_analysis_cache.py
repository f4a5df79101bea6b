"""The local analysis cache (`analysis_cache.py`) never changes a result: a repository
analysed with and without it gives the same specs and hashes, and any change to a file or
to a module it imports is seen."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import commit_all, run_cli, write

TASKS = """
from dagy import task


@task(retries={retries})
def extract(day: str) -> list:
    return [day]


@task
def load(rows: list) -> int:
    return len(rows)
"""

FLOW = """
from dagy import flow
from pipelines.shared.tasks import extract, load


@flow(name="{name}", version="1")
def {name}(day: str = "today"):
    rows = extract(day)
    return load(rows)
"""

PLAIN = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="plain{i}", version="1")
def plain{i}(x: int = 1):
    return step(x)
"""


@pytest.fixture
def flows_repo(repo: Path) -> Path:
    write(repo, "dagy.toml", 'namespace_root = "pipelines"\n')
    write(repo, "pipelines/__init__.py", "")
    write(repo, "pipelines/shared/__init__.py", "")
    write(repo, "pipelines/shared/tasks.py", TASKS.format(retries=1))
    write(repo, "pipelines/etl/orders.py", FLOW.format(name="orders"))
    write(repo, "pipelines/etl/refunds.py", FLOW.format(name="refunds"))
    for i in range(3):
        write(repo, f"pipelines/misc/plain{i}.py", PLAIN.format(i=i))
    commit_all(repo, "flows")
    return repo


def specs(repo: Path, *, cache: bool) -> dict[str, dict[str, object]]:
    """`spec --json` of every flow, by flow name."""
    proc = run_cli("spec", "--json", cwd=repo, env={"DAGY_GIT_CACHE": "1" if cache else "0"})
    assert proc.returncode == 0, proc.stderr
    return {i["flow_spec"]["name"]: i for i in json.loads(proc.stdout)}


def segments(repo: Path) -> list[Path]:
    return sorted((repo / ".git" / "dagy" / "cache" / "analysis").glob("*.json"))


def entries(repo: Path) -> dict[str, object]:
    """Every cache entry, by key."""
    return {k: v for seg in segments(repo) for k, v in json.loads(seg.read_text()).items()}


def test_with_and_without_the_cache_every_spec_and_hash_is_the_same(flows_repo: Path) -> None:
    fresh = specs(flows_repo, cache=False)
    assert entries(flows_repo) == {}  # off means off
    filled = specs(flows_repo, cache=True)  # analyses and fills the cache
    assert len(entries(flows_repo)) == 5 and len(segments(flows_repo)) == 1
    warm = specs(flows_repo, cache=True)  # answered from the cache
    assert fresh == filled == warm
    assert set(fresh) == {"orders", "refunds", "plain0", "plain1", "plain2"}
    assert fresh["orders"]["flow_spec"]["tasks"][0]["retries"] == 1


def test_a_changed_task_module_is_seen_through_the_cache(flows_repo: Path) -> None:
    before = specs(flows_repo, cache=True)
    # Only the imported task module changes: the flow files' bytes stay the same.
    write(flows_repo, "pipelines/shared/tasks.py", TASKS.format(retries=5))
    after = specs(flows_repo, cache=True)
    assert after == specs(flows_repo, cache=False)
    assert after["orders"]["flow_spec"]["tasks"][0]["retries"] == 5
    assert after["orders"]["code_hash"] != before["orders"]["code_hash"]
    assert after["plain0"] == before["plain0"]


def test_a_changed_flow_file_and_a_damaged_entry_are_analysed_again(flows_repo: Path) -> None:
    specs(flows_repo, cache=True)
    write(flows_repo, "pipelines/misc/plain1.py", PLAIN.format(i=1).replace("x: int = 1", "x=2"))
    forged = {key: {"flows": [{"spec": {"name": "forged"}}]} for key in entries(flows_repo)}
    for segment in segments(flows_repo):
        segment.write_text(json.dumps(forged))
    assert specs(flows_repo, cache=True) == specs(flows_repo, cache=False)
    assert specs(flows_repo, cache=True)["plain1"]["flow_spec"]["parameters"][0]["default"] == "2"


def test_a_no_op_deploy_from_the_cache_skips_everything(flows_repo: Path) -> None:
    forced = {"DAGY_GIT_CACHE": "1"}
    assert run_cli("deploy", "--all", cwd=flows_repo, env=forced).returncode == 0
    proc = run_cli("deploy", "--all", "--json", cwd=flows_repo, env=forced)
    assert proc.returncode == 0, proc.stderr
    statuses = {r["flow_name"]: r["status"] for r in json.loads(proc.stdout)["results"]}
    assert statuses == dict.fromkeys(["orders", "refunds", "plain0", "plain1", "plain2"], "skipped")


def test_segments_are_merged_and_changed_files_dropped(flows_repo: Path) -> None:
    for i in range(10):  # every run changes one file: one new segment each
        write(flows_repo, "pipelines/misc/plain0.py", PLAIN.format(i=0) + f"# edit {i}\n")
        specs(flows_repo, cache=True)
    assert len(segments(flows_repo)) <= 8
    # Five files: the live entries, plus at most the edits since the last merge.
    assert 5 <= len(entries(flows_repo)) <= 5 + len(segments(flows_repo))
    assert specs(flows_repo, cache=True) == specs(flows_repo, cache=False)


SHARED = """
from dagy import flow
from shared_pkg.tasks import extract_table


@flow(name="shared_extract", version="1")
def shared_extract(table: str = "orders"):
    return extract_table(table)
"""


def test_a_change_of_task_modules_is_seen_through_both_caches(flows_repo: Path) -> None:
    # `task_modules` changes what the same bytes mean: a call into shared_pkg becomes a node.
    write(flows_repo, "pipelines/misc/shared_extract.py", SHARED)
    commit_all(flows_repo, "a flow calling an installed package")
    forced = {"DAGY_GIT_CACHE": "1"}
    assert run_cli("deploy", "--all", cwd=flows_repo, env=forced).returncode == 0
    assert specs(flows_repo, cache=True)["shared_extract"]["flow_spec"]["tasks"] == []
    write(
        flows_repo,
        "dagy.toml",
        'namespace_root = "pipelines"\ntask_modules = ["shared_pkg", "shared_pkg.*"]\n',
    )
    commit_all(flows_repo, "declare the shared task package")
    after = specs(flows_repo, cache=True)
    assert after == specs(flows_repo, cache=False)
    (node,) = after["shared_extract"]["flow_spec"]["tasks"]
    assert node["id"] == "shared_pkg.tasks.extract_table"
    proc = run_cli("deploy", "--all", "--json", cwd=flows_repo, env=forced)
    assert proc.returncode == 0, proc.stderr
    statuses = {r["flow_name"]: r["status"] for r in json.loads(proc.stdout)["results"]}
    assert statuses["shared_extract"] == "updated"
    assert statuses["orders"] == "skipped"
