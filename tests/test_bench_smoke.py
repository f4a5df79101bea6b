"""Smoke test of the benchmark suite: `bench/run.py --quick` measures and prints every figure.

Tiny sizes (20 flows, 2 versions, 50 registry commits, 1 run), so it checks that the bench
still works against the CLI, not how fast the CLI is.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FIGURES = (
    "floor.read_hash",
    "specs.validate",
    "specs.spec_json",
    "specs.spec_one",
    "analysis.big_file",
    "floor.read_hash_lstree",
    "registry.deploy_noop",
    "registry.deploy_first",
    "registry.list_tags",
    "registry.show",
    "registry.log",
)
LINE = re.compile(
    r"^(?P<name>[a-z_.]+): median \d+\.\d{3} s \(min \d+\.\d{3}, max \d+\.\d{3}\) "
    r"\[(target < [\d.]+ s\] (OK|MISS)|info\])"
)


@pytest.mark.slow
def test_quick_bench_prints_every_figure_and_exits_0(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    printed = {m["name"]: line for line in proc.stdout.splitlines() if (m := LINE.match(line))}
    assert set(printed) == set(FIGURES), proc.stdout
    # The gated figures compare against their floor within the same loop.
    assert "ratio" in printed["registry.deploy_noop"]
    assert "[target <= 3x]" in printed["registry.deploy_noop"]
    assert "ratio" in printed["specs.validate"]
    # The log figure really ran on a grown registry: 50 commits in total.
    assert "registry of 50 commits" in printed["registry.log"]
    # Nothing is left behind in the checkout or the working directory.
    assert not list(tmp_path.iterdir())


def test_bench_refuses_nonsense_sizes() -> None:
    proc = subprocess.run(
        [sys.executable, str(ROOT / "bench" / "run.py"), "--quick", "--n", "0"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert proc.returncode == 2
    assert "at least 1" in proc.stderr


@pytest.mark.slow
def test_scale_bench_prints_every_figure_with_its_floor(tmp_path: Path) -> None:
    """bench/scale.py at a tiny size: every figure of issue 12, each against its floor."""
    proc = subprocess.run(
        [
            sys.executable,
            str(ROOT / "bench" / "scale.py"),
            "--sizes",
            "12",
            "--versions",
            "2",
            "--runs",
            "1",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    figures = {m[1] for m in re.finditer(r"^(\w+)\[12\]: median", proc.stdout, re.MULTILINE)}
    assert figures == {
        "version", "show", "show_bare", "deployments_name", "deployments", "log",
        "list_tags", "list_tags_cold", "list_all", "validate_one", "deploy_noop", "deploy_one",
    }  # fmt: skip
    assert all("x floor" in line for line in proc.stdout.splitlines() if ": median" in line)
    assert "# figure: N=12" in proc.stdout
    assert not list(tmp_path.iterdir())
