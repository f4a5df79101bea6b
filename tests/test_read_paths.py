"""Read commands read only what they are asked about, and never load pydantic or typer.

"Only what is asked" is checked on the git commands a read runs (GIT_TRACE), not on
timings: `show`, `log FLOW`, `deployments NAME` and `tag` must never list the whole
registry tree, so their cost cannot grow with the number of flows (bench/ has the figures).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import commit_all, git, run_cli, write

FLOW = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="{name}", version="{version}")
def {name}(x: int = 1):
    return step(x)
"""


@pytest.fixture
def reg_repo(repo: Path) -> Path:
    """Twelve flows (more than a by-path read takes), one with an escaped version, and two
    deployments."""
    write(
        repo,
        "dagy.toml",
        """
        [tags]
        owner = "platform"

        [[deployments]]
        name = "f00-prod"
        flow = "flows/f00.py"
        tags = { env = "prod" }

        [[deployments]]
        name = "f01-staging"
        flow = "flows/f01.py"
        tags = { env = "staging" }
        """,
    )
    for i in range(12):
        write(repo, f"flows/f{i:02d}.py", FLOW.format(name=f"f{i:02d}", version="1.0"))
    write(repo, "flows/odd.py", FLOW.format(name="odd", version="2.0 beta/rc%1"))
    commit_all(repo, "flows")
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def traced(repo: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], list[list[str]]]:
    """Run the CLI with GIT_TRACE; return the process and the argv of every git it ran."""
    trace = repo.parent / "git-trace.txt"
    trace.unlink(missing_ok=True)
    proc = run_cli(*args, cwd=repo, env={"GIT_TRACE": str(trace)})
    runs = []
    for line in trace.read_text().splitlines():
        if "trace: built-in: git " in line:
            runs.append(line.split("trace: built-in: git ", 1)[1].split(" "))
    return proc, runs


def whole_tree_listings(runs: list[list[str]]) -> list[list[str]]:
    """`ls-tree -r` runs that name no folder: a listing of the whole registry."""
    return [r for r in runs if "ls-tree" in r and r[-1] == "--"]


@pytest.mark.parametrize(
    "args",
    [
        ("show", "f03"),
        ("show", "f03@1.0"),
        ("show", "odd"),
        ("log", "f03"),
        ("deployments", "f00-prod"),
        ("deployments",),
        ("tag", "f03@1.0", "stage=gold"),
    ],
)
def test_reads_of_one_thing_never_list_the_whole_registry(
    reg_repo: Path, args: tuple[str, ...]
) -> None:
    proc, runs = traced(reg_repo, *args)
    assert proc.returncode == 0, proc.stderr
    assert runs, "GIT_TRACE saw no git command"
    assert whole_tree_listings(runs) == []


def test_list_reads_the_whole_registry_once(reg_repo: Path) -> None:
    proc, runs = traced(reg_repo, "list", "--json")
    assert proc.returncode == 0, proc.stderr
    assert len(json.loads(proc.stdout)) == 13
    assert len(whole_tree_listings(runs)) == 1


def test_show_of_an_escaped_version_and_its_deployments(reg_repo: Path) -> None:
    shown = json.loads(run_cli("show", "odd", "--json", cwd=reg_repo).stdout)
    assert shown["flow_version"] == "2.0 beta/rc%1"
    assert shown["tags"] == {"owner": "platform"}
    assert shown["deployments"] == []
    f00 = json.loads(run_cli("show", "f00@1.0", "--json", cwd=reg_repo).stdout)
    assert f00["deployments"] == ["f00-prod"]
    assert f00["flow_spec"]["tasks"][0]["name"] == "step"


def test_deployments_by_name(reg_repo: Path) -> None:
    proc = run_cli("deployments", "f01-staging", "--json", cwd=reg_repo)
    assert proc.returncode == 0, proc.stderr
    items = json.loads(proc.stdout)
    assert [(i["name"], i["flow_name"], i["tags"]["env"]) for i in items] == [
        ("f01-staging", "f01", "staging")
    ]
    missing = run_cli("deployments", "nope", cwd=reg_repo)
    assert missing.returncode == 1
    assert "no deployment named 'nope'" in missing.stderr
    assert "Traceback" not in missing.stderr


def test_a_corrupt_record_is_named_by_the_plain_reader(reg_repo: Path) -> None:
    """Records checked without pydantic still refuse a bad field, naming branch:path."""
    tip = git(reg_repo, "rev-parse", "dagy/registry")
    bad = reg_repo.parent / "bad.json"
    bad.write_text(json.dumps({"flow_name": "f03", "flow_version": "1.0", "registered_at": 5}))
    blob = git(reg_repo, "hash-object", "-w", str(bad))
    index = {"GIT_INDEX_FILE": str(reg_repo.parent / "scratch-index")}
    git(reg_repo, "read-tree", tip, env=index)
    git(
        reg_repo,
        "update-index",
        "--cacheinfo",
        f"100644,{blob},flows/f03/1.0/record.json",
        env=index,
    )
    tree = git(reg_repo, "write-tree", env=index)
    commit = git(reg_repo, "commit-tree", tree, "-p", tip, "-m", "corrupt")
    git(reg_repo, "update-ref", "refs/heads/dagy/registry", commit)
    for args in (("show", "f03@1.0"), ("list",)):
        proc = run_cli(*args, cwd=reg_repo)
        assert proc.returncode == 1, proc.stderr
        assert "dagy/registry:flows/f03/1.0/record.json is not a valid FlowRecord" in proc.stderr
        assert "registered_at" in proc.stderr and "Traceback" not in proc.stderr


def imported_modules(repo: Path, *args: str) -> set[str]:
    """The modules a whole `python -m dagy_git ARGS` process imports (`-X importtime`)."""
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "dagy_git", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return {
        line.rsplit("|", 1)[1].strip()
        for line in proc.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


@pytest.mark.parametrize(
    "args",
    [
        ("--version",),
        ("show", "f03"),
        ("show", "f03@1.0", "--json"),
        ("log", "f03", "-n", "1"),
        ("deployments", "--tag", "env=prod"),
        ("list", "--tag", "owner=platform", "--json"),
    ],
)
def test_read_commands_import_neither_pydantic_nor_typer_nor_the_sdk(
    reg_repo: Path, args: tuple[str, ...]
) -> None:
    mods = imported_modules(reg_repo, *args)
    assert "dagy_git" in mods  # the measurement saw our imports at all
    heavy = {m for m in mods if m.split(".")[0] in {"pydantic", "pydantic_core", "typer", "rich"}}
    assert heavy == set()
    assert "dagy_git.sdk" not in mods and "dagy_git.models" not in mods
