"""Smoke test of `bench/serve.py --quick`: every figure is measured and printed, and the
load's correctness checks pass (a void run exits 3)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
FIGURES = {
    "serve.view_cold",
    "serve.flows_warm",
    "serve.flows_tags_warm",
    "serve.flows_tags_1000",
    "serve.flows_latest_warm",
    "serve.load_total",
    "serve.load_read",
    "serve.load_write",
}
LINE = re.compile(r"^(?P<name>serve\.[a-z_0-9]+): median \d+\.\d{3} s .* p99 \d+\.\d{3} s \[")


@pytest.mark.slow
def test_quick_serve_bench_prints_every_figure(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "serve.py"), "--quick", "--runs", "3"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = {m["name"] for line in proc.stdout.splitlines() if (m := LINE.match(line))}
    assert printed == FIGURES, proc.stdout
    assert not list(tmp_path.iterdir())  # nothing left behind
