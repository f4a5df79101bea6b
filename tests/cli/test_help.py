"""Help that reads well: every command and option explained, `-h`, completion, metavars."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from dagy_git.cli.app import app

from conftest import run_cli


def all_commands() -> dict[str, Any]:
    """The root command (as "") and every subcommand, hidden ones included."""
    group = typer.main.get_command(app)
    return {"": group, **group.commands}  # type: ignore[attr-defined]


def test_every_command_option_and_argument_has_help() -> None:
    missing = []
    for name, command in all_commands().items():
        if not (command.help or "").strip():
            missing.append(name or "dagy-git")
        for param in command.params:
            if not (getattr(param, "help", None) or "").strip():
                missing.append(f"{name or 'dagy-git'} {param.name}")
    assert missing == []


def test_dash_h_is_help_everywhere() -> None:
    root = run_cli("-h", cwd=Path.cwd())
    assert root.returncode == 0 and "Usage: dagy-git" in root.stdout
    for name in ("deploy", "log", "list", "schema"):
        proc = run_cli(name, "-h", cwd=Path.cwd())
        assert proc.returncode == 0, (name, proc.stderr)
        assert f"Usage: dagy-git {name}" in proc.stdout


def test_the_action_command_is_hidden_and_completion_is_offered() -> None:
    root = run_cli("--help", cwd=Path.cwd())
    assert "action-deploy" not in root.stdout
    assert "--install-completion" in root.stdout
    assert "action-deploy" in all_commands()  # still there for the action


def test_one_spelling_for_the_flow_version_option() -> None:
    spellings = {
        opt
        for name, command in all_commands().items()
        if name
        for param in command.params
        for opt in getattr(param, "opts", [])
        if "version" in opt
    }
    assert spellings == {"--flow-version"}


def test_metavars_read_as_words() -> None:
    usage = {
        name: run_cli(name, "--help", cwd=Path.cwd()).stdout.splitlines()[0]
        for name in ("deploy", "show", "log", "tag")
    }
    assert "[TARGET]..." in usage["deploy"]
    assert "FLOW[@VERSION]" in usage["show"]
    assert "[FLOW]" in usage["log"]
    assert "FLOW@VERSION" in usage["tag"] and "[KEY=VALUE]..." in usage["tag"]
