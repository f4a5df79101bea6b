"""Smoke test of `bench/runs.py --quick`: it builds a store, checks answers, prints figures."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
FIGURES = (
    "floor.sqlite_list_flow",
    "runs.api_list_flow",
    "runs.api_show",
    "runs.api_deep_page",
    "runs.cli_list_flow",
)


def test_quick_runs_bench_prints_every_figure(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "runs.py"), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    names = re.findall(r"^([a-z_.]+): median \d+\.\d{4} s", proc.stdout, re.MULTILINE)
    assert tuple(names) == FIGURES
    assert list(tmp_path.iterdir()) == []  # nothing left behind
