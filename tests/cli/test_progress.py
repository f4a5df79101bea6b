"""Long work shows progress on a terminal and nothing elsewhere; deploy can be quiet."""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from dagy_git import workers

from conftest import commit_all, run_cli, write

FLOW = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="flow_{i}", version="1")
def flow_{i}(x: int = 1):
    return step(x)
"""


def many_flows(repo: Path, n: int) -> None:
    for i in range(n):
        write(repo, f"flows/f{i}.py", FLOW.format(i=i))
    commit_all(repo)


def on_a_terminal(repo: Path, *args: str) -> tuple[int, str, str]:
    """Run the CLI with stderr on a pseudo-terminal; return (code, stdout, what the terminal
    showed)."""
    main, side = pty.openpty()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", *args],
        cwd=repo,
        stdout=subprocess.PIPE,
        stderr=side,
        env={**os.environ, "COLUMNS": "100", "TERM": "xterm"},
    )
    os.close(side)
    shown = b""
    while True:
        try:
            chunk = os.read(main, 65536)
        except OSError:  # the other side closed: Linux reports EIO
            break
        if not chunk:
            break
        shown += chunk
    out, _ = proc.communicate()
    os.close(main)
    return proc.returncode, out.decode(), shown.decode("utf-8", "replace")


@pytest.mark.slow
def test_a_terminal_sees_a_progress_bar_and_a_pipe_does_not(repo: Path) -> None:
    many_flows(repo, 150)
    code, out, shown = on_a_terminal(repo, "validate")
    assert code == 0 and out == ""
    assert "analysing flow files" in shown and "150/150" in shown
    piped = run_cli("validate", cwd=repo)
    assert piped.stderr == "checked 150 flows in 150 files: ok\n"
    quiet = on_a_terminal(repo, "deploy", "--all", "--quiet")
    assert quiet[0] == 0 and quiet[1] == "" and "analysing" not in quiet[2]


def test_deploy_quiet_and_changed_only(repo: Path) -> None:
    many_flows(repo, 3)
    quiet = run_cli("deploy", "--all", "-q", cwd=repo)
    assert (quiet.returncode, quiet.stdout, quiet.stderr) == (0, "", "")
    flow = repo / "flows/f1.py"
    flow.write_text(flow.read_text().replace("return x", "return x + 1"))
    commit_all(repo)
    changed = run_cli("deploy", "--all", "--changed-only", cwd=repo)
    assert changed.returncode == 0
    rows = changed.stdout.splitlines()[1:]
    assert len(rows) == 1 and "flow_1@1" in rows[0] and "updated" in rows[0]
    assert "1 deployed, 2 unchanged" in changed.stderr
    nothing = run_cli("deploy", "--all", "--changed-only", cwd=repo)
    assert nothing.stdout == "" and "0 deployed, 3 unchanged" in nothing.stderr
    full = json.loads(run_cli("deploy", "--all", "--json", "--changed-only", cwd=repo).stdout)
    assert len(full["results"]) == 3  # the JSON document stays whole


def double(items: list[int]) -> list[int]:
    return [2 * i for i in items]


@pytest.mark.parametrize("n", [10, 260])
def test_progress_is_reported_and_results_keep_their_order(
    n: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGY_GIT_WORKERS", "2")
    seen: list[tuple[int, int]] = []
    workers.observe(lambda done, total: seen.append((done, total)))
    try:
        assert workers.chunked_map(double, list(range(n))) == [2 * i for i in range(n)]
    finally:
        workers.observe(None)
    assert seen[-1] == (n, n)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen)
    assert workers.chunked_map(double, list(range(n))) == [2 * i for i in range(n)]
