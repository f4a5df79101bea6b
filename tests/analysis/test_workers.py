"""Large repositories are analysed on several cores, with the same results as on one."""

from __future__ import annotations

import json
from pathlib import Path

from dagy_git.workers import PARALLEL_MIN

from conftest import commit_all, run_cli, write

GOOD = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="flow_{i}", version="1")
def flow_{i}(x: int = {i}):
    return step(step(x))
"""


def test_parallel_and_serial_analysis_agree(repo: Path) -> None:
    n = PARALLEL_MIN + 20
    for i in range(n):
        text = GOOD.format(i=i)
        if i % 50 == 7:
            # a task fed its own result through a loop: a cycle, still an error
            text = text.replace(
                "return step(step(x))", "for _ in range(2):\n        x = step(x)\n    return x"
            )
        write(repo, f"flows/f{i:03d}.py", text)
    commit_all(repo)
    serial = {"DAGY_GIT_WORKERS": "1"}
    for args in (["validate"], ["spec", "--json"]):
        parallel_run = run_cli(*args, cwd=repo)
        serial_run = run_cli(*args, cwd=repo, env=serial)
        assert parallel_run.returncode == serial_run.returncode == 1
        assert parallel_run.stdout == serial_run.stdout
        assert parallel_run.stderr == serial_run.stderr
    shown = run_cli("validate", cwd=repo).stdout.splitlines()
    problems = [line for line in shown if not line.startswith("  hint: ")]
    assert len(problems) == len([i for i in range(n) if i % 50 == 7])
    assert problems[0].startswith("flows/f007.py:")
    # fix the broken files: spec --json now lists every flow, in path order, either way
    for i in range(n):
        write(repo, f"flows/f{i:03d}.py", GOOD.format(i=i))
    parallel_items = json.loads(run_cli("spec", "--json", cwd=repo).stdout)
    serial_items = json.loads(run_cli("spec", "--json", cwd=repo, env=serial).stdout)
    assert parallel_items == serial_items
    assert [i["flow_spec"]["name"] for i in parallel_items] == [f"flow_{i}" for i in range(n)]
