"""One error handler for every entry point: the CLI, the pre-commit hook and the action."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagy_git.cli import app as cli_app
from dagy_git.cli import hook
from dagy_git.cli.errors import exit_code, exit_codes
from dagy_git.errors import DagyError

from conftest import run_cli


def boom() -> int:
    raise RuntimeError("disk on fire\nsecond line")


def test_a_user_error_is_a_message_and_exit_1(capsys: pytest.CaptureFixture[str]) -> None:
    seen: list[DagyError] = []
    with pytest.raises(SystemExit) as stop, exit_codes(on_error=seen.append):
        raise DagyError("bad thing", hint="do this", path="a.py", line=3)
    assert stop.value.code == 1
    assert capsys.readouterr().err == "error: a.py:3:1: bad thing\nhint: do this\n"
    assert [str(e) for e in seen] == ["a.py:3:1: bad thing"]


def test_an_unexpected_error_is_one_line_and_exit_3(capsys: pytest.CaptureFixture[str]) -> None:
    assert exit_code(boom) == 3
    err = capsys.readouterr().err
    assert (
        err.splitlines()[0] == "error: unexpected failure: RuntimeError: disk on fire second line"
    )
    assert "Traceback" not in err and "--debug" in err
    with pytest.raises(RuntimeError):
        exit_code(boom, debug=True)


def test_interrupt_exits_130(capsys: pytest.CaptureFixture[str]) -> None:
    def interrupted() -> int:
        raise KeyboardInterrupt

    assert exit_code(interrupted) == 130
    assert capsys.readouterr().err == "error: interrupted\n"


def test_the_cli_turns_a_crash_into_exit_3_and_debug_shows_it(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from dagy_git.cli.commands import init

    monkeypatch.setattr(init, "run", lambda cwd: boom())
    with pytest.raises(SystemExit) as stop:
        cli_app.main(["init"])
    assert stop.value.code == 3
    assert "unexpected failure: RuntimeError" in capsys.readouterr().err
    with pytest.raises(RuntimeError):
        cli_app.main(["--debug", "init"])


def test_the_hook_and_the_action_use_the_same_handler(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from dagy_git.cli.commands import validate

    monkeypatch.setattr(validate, "run", lambda files, cwd, **options: boom())
    assert hook.main(["validate"]) == 3
    assert "unexpected failure: RuntimeError" in capsys.readouterr().err
    monkeypatch.setenv("DAGY_GIT_DEBUG", "1")
    with pytest.raises(RuntimeError):
        hook.main(["validate"])


def test_the_action_annotates_a_user_error(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    proc = run_cli(
        "action-deploy",
        cwd=tmp_path,
        env={"INPUT_FORCE": "maybe", "GITHUB_STEP_SUMMARY": str(summary)},
    )
    assert proc.returncode == 1
    assert proc.stdout.startswith("::error::input 'force' must be true or false")
    assert proc.stderr.startswith("error: input 'force' must be true or false")
    assert "dagy-git deploy failed" in summary.read_text()


def test_a_user_error_with_json_prints_an_error_document(tmp_path: Path) -> None:
    proc = run_cli("list", "--json", cwd=tmp_path)
    assert proc.returncode == 1
    assert '"error"' in proc.stdout and "not inside a git repository" in proc.stdout
    assert "Traceback" not in proc.stderr
