"""Smoke test of `bench/runtime.py --quick`: every SDK runtime figure is measured and printed.

It checks that the bench still runs against the SDK (and that its results were right, or
it exits 3), not how fast the runtime is.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(
    r"^(?P<name>sdk\.[a-z_]+): median \d+\.\d{3} s \(min \d+\.\d{3}, max \d+\.\d{3}\)"
)


def test_quick_runtime_bench_prints_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "runtime.py"), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    names = [m["name"] for line in proc.stdout.splitlines() if (m := LINE.match(line))]
    assert names == ["sdk.task_calls", "sdk.submit", "sdk.map", "sdk.fan_out", "sdk.import"]
    fan_out = next(line for line in proc.stdout.splitlines() if line.startswith("sdk.fan_out"))
    assert "ratio" in fan_out
