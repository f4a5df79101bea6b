"""Start-up costs: what a `dagy-git` process pays before it does any work.

    python bench/startup.py [--runs 9] [--repo DIR]

Prints, for whole processes (median wall time and min CPU time over R runs): the bare
interpreter, importing typer, pydantic, typer + a pydantic TypeAdapter (what typer 0.2x
builds for every non-flag argument), pydantic's `BaseModel` and dagy-git's models, rich,
`dagy-git --version`, and — with `--repo`, a repository with a registry — `show`,
`deployments` and `deploy --all --dry-run` through the fast path and through the typer
app. Then the slowest imports of `show` and of `deploy` by `python -X importtime`, so a
new eager import shows up here before it shows up in the figures. Processes run with
bytecode caches, as an installed package does (`gen.bench_env`).
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # bench/ is a folder of scripts, not a package

PY = sys.executable
TYPER_MAIN = "from dagy_git.cli.app import main; main()"
ENV = gen.bench_env()  # bytecode cached, as an installed package runs
DEPLOY = ["deploy", "--all", "--dry-run"]


def cost(argv: list[str], runs: int, cwd: Path | None = None) -> tuple[float, float]:
    """(median wall seconds, min CPU seconds incl. children) of a whole process."""
    walls: list[float] = []
    cpus: list[float] = []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        proc = subprocess.run(argv, cwd=cwd, capture_output=True, env=ENV, check=False)
        walls.append(time.perf_counter() - t0)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
        if proc.returncode != 0:
            raise SystemExit(f"{argv} exited {proc.returncode}: {proc.stderr[-500:]!r}")
    return statistics.median(walls), min(cpus)


def slowest_imports(argv: list[str], cwd: Path | None, top: int) -> list[str]:
    """The `top` imports with the largest cumulative time under `-X importtime`."""
    proc = subprocess.run(
        [PY, "-X", "importtime", *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        env=ENV,
        check=False,
    )
    rows = []
    for line in proc.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((int(parts[1]), int(parts[0]), parts[2].strip()))
    rows.sort(reverse=True)
    return [f"{c / 1000:7.1f} ms cumulative {s / 1000:6.1f} ms self  {n}" for c, s, n in rows[:top]]


def main(argv: list[str] | None = None) -> int:
    """Measure and print."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=9)
    p.add_argument("--repo", type=Path, help="a repository with a registry (bench/gen.py)")
    p.add_argument("--flow", default="flow_0042", help="the flow `show` asks for")
    args = p.parse_args(argv)
    cases: list[tuple[str, list[str], Path | None]] = [
        ("python -c pass", [PY, "-c", "pass"], None),
        ("import typer", [PY, "-c", "import typer"], None),
        ("import pydantic", [PY, "-c", "import pydantic"], None),
        (
            "typer + one TypeAdapter",
            [PY, "-c", "import typer; from pydantic import TypeAdapter; TypeAdapter(str)"],
            None,
        ),
        (
            "from pydantic import BaseModel",
            [PY, "-c", "from pydantic import BaseModel"],
            None,
        ),
        ("import dagy_git.models", [PY, "-c", "import dagy_git.models"], None),
        ("import rich.console", [PY, "-c", "import rich.console"], None),
        ("dagy-git --version (fast path)", [PY, "-m", "dagy_git", "--version"], None),
        ("dagy-git --version (typer app)", [PY, "-c", TYPER_MAIN, "--version"], None),
    ]
    if args.repo is not None:
        cases += [
            ("show (fast path)", [PY, "-m", "dagy_git", "show", args.flow], args.repo),
            ("show (typer app)", [PY, "-c", TYPER_MAIN, "show", args.flow], args.repo),
            ("deployments (fast path)", [PY, "-m", "dagy_git", "deployments"], args.repo),
            ("deployments (typer app)", [PY, "-c", TYPER_MAIN, "deployments"], args.repo),
            ("deploy --all --dry-run (fast path)", [PY, "-m", "dagy_git", *DEPLOY], args.repo),
            ("deploy --all --dry-run (typer app)", [PY, "-c", TYPER_MAIN, *DEPLOY], args.repo),
        ]
    print(f"# start-up, {args.runs} runs each: median wall, min CPU (process + its children)")
    for label, cmd, cwd in cases:
        wall, cpu = cost(cmd, args.runs, cwd)
        print(f"{label:34} wall {wall * 1000:7.1f} ms  cpu {cpu * 1000:7.1f} ms", flush=True)
    if args.repo is not None:
        print(f"# slowest imports of `show {args.flow}` (python -X importtime)")
        for line in slowest_imports(["-m", "dagy_git", "show", args.flow], args.repo, 12):
            print(line)
        print("# slowest imports of `deploy --all --dry-run` (python -X importtime)")
        for line in slowest_imports(["-m", "dagy_git", *DEPLOY], args.repo, 12):
            print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
