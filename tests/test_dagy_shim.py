"""`install_dagy_shim()`: flow files written `from dagy import …` run on this SDK."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import dagy_git

from conftest import write

FLOW = """
from dagy import flow, task, get_run_logger, unmapped
import dagy

@task(name="Fetch Rows", retries=1, task_run_name="fetch-{n}")
def fetch(n, prefix):
    return [f"{prefix}{i}" for i in range(n)]

@flow(name="Shimmed ETL", log_prints=True)
def etl(sizes=(1, 2)):
    get_run_logger().info("start")
    rows = fetch.map(list(sizes), unmapped("r"))
    return [r.result() for r in rows]

print(etl(), dagy.__dagy_git_shim__, type(etl).__module__)
"""


def run(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_shim_runs_a_flow_written_for_dagy(tmp_path: Path) -> None:
    path = write(tmp_path, "flows/etl.py", FLOW)
    proc = run(
        "import runpy, dagy_git\n"
        "module = dagy_git.install_dagy_shim()\n"
        "assert dagy_git.install_dagy_shim() is module  # idempotent\n"
        f"runpy.run_path({str(path)!r})\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[['r0'], ['r0', 'r1']] True dagy_git.sdk"
    assert "Flow run 'Shimmed ETL-1' - start" in proc.stderr  # the default log handler


def test_shim_exposes_the_sdk_names(tmp_path: Path) -> None:
    proc = run(
        "import sys, dagy_git\n"
        "dagy = dagy_git.install_dagy_shim()\n"
        "assert sys.modules['dagy'] is dagy\n"
        "assert (dagy.flow, dagy.task) == (dagy_git.flow, dagy_git.task)\n"
        "assert (dagy.get_run_logger, dagy.unmapped) == "
        "(dagy_git.get_run_logger, dagy_git.unmapped)\n"
        "print(sorted(dagy.__all__))\n",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert "'flow', 'get_run_logger', 'task', 'unmapped'" in proc.stdout


def test_an_installed_dagy_is_never_shadowed(tmp_path: Path) -> None:
    write(tmp_path, "dagy/__init__.py", "REAL = True\n")
    proc = run(
        "import dagy_git\n"
        "module = dagy_git.install_dagy_shim()\n"
        "print(module.REAL, module.__file__)",
        tmp_path,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("True ") and "dagy/__init__.py" in proc.stdout


def test_the_public_api_names_the_runtime_helpers() -> None:
    assert {"get_run_logger", "unmapped", "install_dagy_shim"} <= set(dagy_git.__all__)
    assert callable(dagy_git.install_dagy_shim)
