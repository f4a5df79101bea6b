"""`validate` on real repositories: problem levels, and files Python itself would refuse.

Errors stop a file (exit 1, `path:line:col: message`, nothing written, no traceback);
warnings say where a spec is approximate and do not fail the run.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dagy_git.validation import check_repo

from conftest import commit_all, git, run_cli, write

APPROXIMATE = """\
import os
from dagy import flow, task

@task(retries=int(os.environ.get("RETRIES", "2")))
def extract(): ...

@flow(name="Approximate Flow", log_prints=True)
def approx():
    extract()
"""


def test_warnings_have_a_level_and_do_not_fail(repo: Path) -> None:
    write(repo, "flows/approx.py", APPROXIMATE)
    commit_all(repo)
    report = check_repo(repo)
    (problem,) = report.problems
    assert (problem.path, problem.line, problem.col, problem.level) == (
        "flows/approx.py",
        4,
        15,
        "warning",
    )
    assert "option retries: the value is computed" in problem.message
    assert problem.hint
    assert report.errors == []
    proc = run_cli("validate", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "flows/approx.py:4:15: warning: @task option retries" in proc.stdout


REFUSED = [
    # (source, line, col, message): what CPython would not compile, and bad values
    ("import dagy\nasync def f():\n    pass\nawait f()\n", 4, 1, "'await' outside function"),
    ("from dagy import flow\n@flow\ndef f():\n    pass\nreturn 1\n", 5, 1, "'return' outside"),
    (
        "from dagy import flow\n@flow\ndef f():\n    x = 1\n    global x\n",
        5,
        5,
        "name 'x' is assigned to before global declaration",
    ),
    (
        'from dagy import flow\n@flow(name="x", name="y")\ndef f(): ...\n',
        2,
        17,
        "keyword argument repeated: name",
    ),
    ('from dagy import task\n@task(name="\\ud800")\ndef t(): ...\n', 2, 12, "lone surrogate"),
    (
        "from dagy import task\n@task(timeout_seconds=1" + "0" * 400 + ")\ndef t(): ...\n",
        2,
        23,
        "timeout_seconds is too large",
    ),
    (
        "from dagy import task\n@task(retry_delay_seconds=[1, 1" + "0" * 400 + "])\ndef t(): ...\n",
        2,
        27,
        "retry_delay_seconds is too large",
    ),
]


@pytest.mark.parametrize(("source", "line", "col", "message"), REFUSED)
def test_files_python_would_refuse_are_clear_errors(
    repo: Path, source: str, line: int, col: int, message: str
) -> None:
    write(repo, "flows/bad.py", source)
    commit_all(repo)
    proc = run_cli("validate", cwd=repo)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    (shown,) = proc.stdout.splitlines()
    assert shown.startswith(f"flows/bad.py:{line}:{col}: ") and message in shown, shown
    assert "Traceback" not in proc.stderr
    # deploy refuses the file too, and writes nothing.
    proc = run_cli("deploy", "flows/bad.py", cwd=repo)
    assert proc.returncode == 1, (proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr
    assert "dagy/registry" not in run_git_branches(repo)


def test_non_utf8_bytes_are_a_clear_error(repo: Path) -> None:
    (repo / "flows").mkdir()
    (repo / "flows" / "latin.py").write_bytes(b"from dagy import flow\n# caf\xe9\n")
    commit_all(repo)
    proc = run_cli("validate", cwd=repo)
    assert proc.returncode == 1
    assert "flows/latin.py:2:6: not UTF-8 text" in proc.stdout
    assert "Traceback" not in proc.stderr


def run_git_branches(repo: Path) -> str:
    return git(repo, "branch", "--list", "--all")
