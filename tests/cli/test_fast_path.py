"""The fast path (`cli/fast.py`) parses exactly what the typer app declares, prints exactly
what the typer app prints, and leaves help and usage errors to typer."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import typer

from dagy_git.cli import fast
from dagy_git.cli.app import app

from conftest import ORDER_ETL, commit_all, run_cli, write


def test_the_fast_table_matches_the_typer_commands() -> None:
    # typer carries its own copy of click: read its command objects by their attributes.
    group: Any = typer.main.get_command(app)
    for name, spec in fast.COMMANDS.items():
        params = group.commands[name].params
        options = [p for p in params if p.param_type_name == "option"]
        opts = {o for p in options for o in p.opts} - {"--help"}
        assert opts == set(spec.flags) | set(spec.values), name
        assert {o for p in options if p.is_flag for o in p.opts} == set(spec.flags), name
        assert {p.name for p in options if p.multiple} == set(spec.repeated), name
        args = [p for p in params if p.param_type_name == "argument"]
        low, high = spec.positional
        if high == 0:
            assert args == [], name
        else:
            assert len(args) == 1, name
            assert (args[0].nargs == -1) == (high is None), name
            assert args[0].required == (low > 0), name


@pytest.mark.parametrize(
    ("argv", "taken"),
    [
        (["show", "x@1"], True),
        (["show", "x", "--json"], True),
        (["show"], False),
        (["show", "a", "b"], False),
        (["show", "--help"], False),
        (["log", "x", "-n", "3", "--flow-version=1.0"], True),
        (["log", "--deployment", "d", "--since", "2 weeks ago", "--format", "tsv"], True),
        (["list", "--format", "xml"], False),
        (["log", "x", "-n", "0"], False),
        (["log", "x", "-n3"], False),
        (["log", "x", "--max-count"], False),
        (["list", "--tag", "k=v", "--tag=k2=v2", "--any-tag", "a=b"], True),
        (["list", "extra"], False),
        (["deployments", "a", "b", "--tag", "env=prod"], True),
        (["--debug", "show", "x"], False),
        (["deploy", "--all"], True),
        (["deploy", "a.py", "b.py:main", "--tag", "k=v", "--param=n=1", "-q"], True),
        (["deploy", "--all", "--dry-run", "--json", "--prune", "--keep-going"], True),
        (["deploy"], False),  # neither targets nor --all: typer's usage error
        (["deploy", "a.py", "--all"], False),
        (["deploy", "--all", "--tag"], False),
        (["deploy", "--all", "--help"], False),
        (["show", "--", "x"], False),
        (["validate", "a.py", "b.py"], True),
        (["validate", "--json", "--strict", "--format", "github"], True),
        (["validate", "--format"], False),
        (["validate", "--no-such-option"], False),
    ],
)
def test_what_the_fast_path_takes(argv: list[str], taken: bool) -> None:
    assert (fast.parse(argv) is not None) == taken


def test_repeated_and_last_wins_values() -> None:
    parsed = fast.parse(
        ["list", "--tag", "k=v", "--tag=k2=v2", "--namespace", "a", "--namespace=b"]
    )
    assert parsed is not None
    assert parsed.values["tag"] == ["k=v", "k2=v2"]
    assert parsed.one("namespace") == "b"


@pytest.fixture
def deployed(repo: Path) -> Path:
    write(repo, "dagy.toml", '[tags]\nteam = "data"\n')
    write(repo, "etl/order_etl.py", ORDER_ETL)
    write(
        repo,
        "etl/dagy.toml",
        '[[deployments]]\nname = "orders-prod"\nflow = "order_etl.py"\ntags = { env = "prod" }\n',
    )
    commit_all(repo, "flows")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    return repo


def through_typer(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The same command line, parsed by the typer app (no fast path)."""
    return subprocess.run(
        [sys.executable, "-c", "from dagy_git.cli.app import main; main()", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.mark.parametrize(
    "args",
    [
        ("show", "order_etl"),
        ("show", "order_etl@2.1.0", "--json"),
        ("show", "nope"),
        ("log", "order_etl", "--json"),
        ("log", "order_etl", "-n", "1", "--flow-version", "2.1.0"),
        ("deployments", "--format", "tsv"),
        ("list", "--tag", "team=data", "--json"),
        ("list", "--namespace", "etl"),
        ("deployments", "orders-prod", "--json"),
        ("deployments", "--tag", "env=prod"),
        ("--version",),
        ("validate",),
        ("validate", "etl/order_etl.py"),
        ("validate", "nope.py"),
        ("validate", "--json", "nope.py"),
        ("validate", "--strict", "--format", "github", "nope.py"),
        ("validate", "--format", "xml"),
    ],
)
def test_fast_and_typer_print_the_same(deployed: Path, args: tuple[str, ...]) -> None:
    fast_run = run_cli(*args, cwd=deployed)
    slow_run = through_typer(deployed, *args)
    assert (fast_run.returncode, fast_run.stdout, fast_run.stderr) == (
        slow_run.returncode,
        slow_run.stdout,
        slow_run.stderr,
    )


def test_usage_errors_and_help_stay_typers(deployed: Path) -> None:
    assert run_cli("log", "order_etl", "-n", "0", cwd=deployed).returncode == 2
    assert run_cli("show", cwd=deployed).returncode == 2
    helped = run_cli("show", "--help", cwd=deployed)
    assert helped.returncode == 0 and "FLOW[@VERSION]" in helped.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("deploy", "--all"),
        ("deploy", "--all", "--json", "--dry-run"),
        ("deploy", "etl/order_etl.py", "--deployment", "x", "--tag", "a=b", "--param", "n=1"),
        ("deploy", "etl/order_etl.py", "--flow-version", "9", "--namespace", "ns", "-q"),
        ("deploy", "nope.py", "--json"),
        ("deploy", "--all", "--schedule", "0 6 * * *"),  # refused: no --deployment
        ("deploy", "--all", "--keep-going", "--changed-only", "--force", "--no-atomic"),
    ],
)
def test_fast_and_typer_deploy_the_same(repo: Path, tmp_path: Path, args: tuple[str, ...]) -> None:
    write(repo, "etl/order_etl.py", ORDER_ETL)
    commit_all(repo, "flows")
    twin = tmp_path / "twin"
    shutil.copytree(repo, twin, symlinks=True)
    fast_run = run_cli(*args, cwd=repo)
    slow_run = through_typer(twin, *args)
    assert fast.parse(list(args)) is not None
    assert fast_run.returncode == slow_run.returncode
    # Commit ids and timestamps differ between the two registries; the words may not.
    assert scrub(fast_run.stdout) == scrub(slow_run.stdout)
    assert scrub(fast_run.stderr) == scrub(slow_run.stderr)
    assert registry_files(repo) == registry_files(twin)
    if fast_run.returncode == 0 and "--dry-run" not in args:
        assert "record.json" in registry_files(repo)


def registry_files(repo: Path) -> str:
    """What the registry branch holds (empty when there is none)."""
    proc = subprocess.run(
        ["git", "ls-tree", "-r", "--name-only", "dagy/registry"],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )
    return proc.stdout


def scrub(text: str) -> str:
    """Output with commit ids and times blanked."""
    text = re.sub(r"\b[0-9a-f]{12,64}\b", "<oid>", text)
    return re.sub(r"\d{4}-\d\d-\d\dT[\d:.]+Z", "<time>", text)
