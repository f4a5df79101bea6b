"""`dagy-git log`: the registry's history that answers questions (issue 8, item 8)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from dagy_git.registry.changes import deployment_changes, flow_changes, tag_changes

from conftest import commit_all, git, run_cli, write

TASKS = """
from dagy import task


@task
def extract(day: str) -> list:
    return [day]
"""

ETL = """
from dagy import flow
from flows.tasks import extract


@flow(name="order_etl", version="2.1.0")
def order_etl(day: str = "today"):
    return extract(day)
"""

MANIFEST = """
[tags]
team = "data"

[[deployments]]
name = "order-etl-prod"
flow = "flows/etl.py:order_etl"
schedule = "{schedule}"
"""


def log_json(repo: Path, *args: str) -> list[dict[str, Any]]:
    proc = run_cli("log", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    items: list[dict[str, Any]] = json.loads(proc.stdout)
    return items


def as_of(date: str, who: str = "Deployer") -> dict[str, str]:
    """The environment of a registry write made by `who` on `date`."""
    return {
        "GIT_AUTHOR_NAME": who,
        "GIT_COMMITTER_NAME": who,
        "GIT_AUTHOR_DATE": f"{date}T12:00:00Z",
        "GIT_COMMITTER_DATE": f"{date}T12:00:00Z",
    }


def deploy_all(repo: Path, *args: str, date: str) -> None:
    proc = run_cli("deploy", "--all", *args, cwd=repo, env=as_of(date))
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def history(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A flow deployed, then: its schedule changed, a tag set, a forced re-deploy. Built
    once for the module: tests that write copy it first (`own_copy`)."""
    repo = tmp_path_factory.mktemp("history") / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    write(repo, "flows/tasks.py", TASKS)
    write(repo, "flows/etl.py", ETL)
    write(repo, "dagy.toml", MANIFEST.format(schedule="0 6 * * *"))
    git(repo, "add", "-A")
    author = {"GIT_AUTHOR_NAME": "Ann Author", "GIT_AUTHOR_DATE": "2026-01-01T10:00:00Z"}
    git(repo, "commit", "-q", "-m", "flows", env=author)
    deploy_all(repo, date="2026-01-02")
    write(repo, "dagy.toml", MANIFEST.format(schedule="0 7 * * *"))
    commit_all(repo, "later")
    deploy_all(repo, date="2026-02-01")
    tagged = run_cli("tag", "order_etl@2.1.0", "owner=ann", cwd=repo, env=as_of("2026-03-01"))
    assert tagged.returncode == 0
    deploy_all(repo, "--force", date="2026-04-01")
    return repo


def test_log_flow_says_what_changed_in_each_entry(history: Path) -> None:
    items = log_json(history, "order_etl")
    kinds = [(i["kind"], i["action"]) for i in items]
    assert kinds == [
        ("flow", "updated"),  # the forced re-deploy
        ("flow", "tags"),
        ("deployment", "deployed"),  # the schedule: a deployment-only change
        ("flow", "registered"),
    ]
    forced, tagged, scheduled, first = items
    assert forced["changes"] == ["forced", "order-etl-prod: tags +owner"]
    assert forced["deployments"] == ["order-etl-prod#3"]
    assert tagged["changes"] == ["tags +owner"]
    assert scheduled["changes"] == ["schedule"]
    assert scheduled["deployment_name"] == "order-etl-prod"
    assert scheduled["deployment_version"] == 2
    assert first["changes"] == ["first deploy", "order-etl-prod: new deployment"]
    # who deployed, and who wrote the code that was deployed
    assert first["author"] == "Deployer" and first["source_author"] == "Ann Author"
    human = run_cli("log", "order_etl", cwd=history)
    assert "Deployer (code: Ann Author)" in human.stdout
    assert "tags +owner" in human.stdout


def test_log_without_a_flow_is_the_whole_registry(history: Path) -> None:
    everything = log_json(history)
    assert len(everything) == 4
    dates = [i["date"] for i in everything]
    assert dates == sorted(dates, reverse=True)
    assert len(log_json(history, "-n", "2")) == 2
    recent = log_json(history, "--since", "2026-02-15")
    assert [i["action"] for i in recent] == ["updated", "tags"]
    tsv = run_cli("log", "--format", "tsv", cwd=history)
    assert tsv.returncode == 0
    rows = [line.split("\t") for line in tsv.stdout.splitlines()]
    assert len(rows) == 4 and all(len(r) == 7 for r in rows)
    assert rows[-1][3] == "registered"


def own_copy(history: Path, tmp_path: Path) -> Path:
    """A copy of the shared history for a test that writes to it."""
    copy = tmp_path / "repo"
    shutil.copytree(history, copy, symlinks=True)
    return copy


def test_log_of_one_deployment(history: Path, tmp_path: Path) -> None:
    history = own_copy(history, tmp_path)
    items = log_json(history, "--deployment", "order-etl-prod")
    assert [i["deployment_version"] for i in items] == [3, 2, 1]
    assert [i["changes"] for i in items] == [["tags +owner"], ["schedule"], ["new deployment"]]
    assert run_cli("retire", "order-etl-prod", cwd=history).returncode == 0
    retired = log_json(history, "--deployment", "order-etl-prod")
    assert retired[0]["kind"] == "retired" and len(retired) == 4
    missing = run_cli("log", "--deployment", "nope", cwd=history)
    assert missing.returncode == 1 and "'nope' was never deployed" in missing.stderr


def test_commit_subjects_say_what_happened(history: Path) -> None:
    subjects = git(history, "log", "--format=%s", "dagy/registry").splitlines()
    assert subjects == [
        "deploy order_etl@2.1.0 (forced), order-etl-prod#3 (flow updated)",
        "tag: order_etl@2.1.0",
        "deploy order-etl-prod#2 (schedule)",
        "deploy order_etl@2.1.0 (new), order-etl-prod#1 (new)",
    ]


def test_unknown_names_and_bad_options_are_errors(history: Path) -> None:
    for args, said in (
        (("nope",), "flow 'nope' is not registered"),
        (("order_etl", "--flow-version", "9"), "order_etl@9 is not registered"),
        (("--flow-version", "9"), "--flow-version needs a FLOW"),
        (("order_etl", "--deployment", "x"), "not both"),
    ):
        proc = run_cli("log", *args, cwd=history)
        assert proc.returncode == 1, args
        assert said in proc.stderr and "Traceback" not in proc.stderr
    bad = run_cli("log", "--format", "xml", cwd=history)
    assert bad.returncode == 2 and "tsv" in bad.stderr


# -- the words, from the stored JSON before and after -------------------------------------


def blob(data: dict[str, Any]) -> bytes:
    return json.dumps(data).encode()


def test_flow_changes_name_the_module_that_changed() -> None:
    old = {"code_hash": "a", "closure_hash": "1", "source_path": "flows/etl.py"}
    new = {**old, "closure_hash": "2"}
    sources = ["flows/etl.py", "flows/tasks.py"]
    assert flow_changes((blob(old), blob(new)), None, sources, "updated") == [
        "module flows/tasks.py"
    ]
    both = {**new, "code_hash": "b"}
    assert flow_changes((blob(old), blob(both)), None, ["flows/etl.py"], "updated") == [
        "code",
        "imported modules",
    ]
    assert flow_changes((blob(old), blob(old)), None, [], "updated") == ["forced"]
    assert flow_changes((None, blob(new)), None, sources, "registered") == ["first deploy"]


def test_tag_and_deployment_changes() -> None:
    assert tag_changes({"a": "1", "b": "2"}, {"a": "9", "c": "3"}) == "tags +c -b ~a"
    assert tag_changes({"a": "1"}, {"a": "1"}) is None
    old = {"flow_version": "1", "schedule": "@daily", "parameters": {}, "tags": {}}
    new = {**old, "flow_version": "2", "parameters": {"x": 1}, "timezone": "Europe/Paris"}
    assert deployment_changes(blob(old), blob(new)) == ["version 1 -> 2", "timezone", "parameters"]
    assert deployment_changes(blob(old), None) == ["retired"]
    assert deployment_changes(blob(old), b"not json") == ["retired"]
    assert deployment_changes(blob(old), blob({**old, "updated_at": "now"})) == ["forced"]


def test_list_and_deployments_print_tsv_for_scripts(history: Path) -> None:
    listed = run_cli("list", "--format", "tsv", cwd=history)
    assert listed.returncode == 0 and listed.stderr == ""
    (row,) = [line.split("\t") for line in listed.stdout.splitlines()]
    assert row[:3] == ["order_etl", "2.1.0", "flows"] and "owner=ann" in row[3]
    deps = run_cli("deployments", "--format", "tsv", cwd=history)
    (dep,) = [line.split("\t") for line in deps.stdout.splitlines()]
    assert dep[0] == "order-etl-prod" and dep[3] == "0 7 * * *"
