"""Figures of the SDK runtime: what calling a flow costs over calling plain functions.

    python bench/runtime.py [--runs 5] [--quick]

In-process figures (the runtime is a library, not a command): each runs R times, interleaved
with its floor where it has one, and prints the median, min and max like bench/run.py.
`sdk.import` times whole processes (`python -c "import dagy_git"` against `python -c pass`).
Every figure checks its result first: a fast runtime that computes the wrong thing voids it
(exit 3).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from collections.abc import Callable

from dagy_git import flow, task


def timed(fn: Callable[[], object]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def figure(
    name: str,
    what: str,
    run: Callable[[], object],
    runs: int,
    floor: Callable[[], object] | None = None,
) -> None:
    """Time `run` (and its floor, interleaved) `runs` times; print one line."""
    times, ratios = [], []
    for _ in range(runs):
        times.append(timed(run))
        if floor is not None:
            ratios.append(times[-1] / max(timed(floor), 1e-9))
    line = (
        f"{name}: median {statistics.median(times):.3f} s "
        f"(min {min(times):.3f}, max {max(times):.3f}) [info]"
    )
    if ratios:
        line += f"; ratio {statistics.median(ratios):.2f}x floor"
    print(f"{line}  ({what})", flush=True)


def expect(cond: bool, message: str) -> None:
    if not cond:
        print(f"bench: wrong result: {message}", file=sys.stderr)
        raise SystemExit(3)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure (default 5)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    args = p.parse_args(argv)
    runs = 1 if args.quick else args.runs
    n = 200 if args.quick else 10_000  # calls per figure
    items = 50 if args.quick else 1_000  # mapped items
    fan = 8 if args.quick else 50  # I/O-bound tasks submitted at once
    io_wait = 0.02

    def plain(x: int) -> int:
        return x + 1

    inc = task(plain)

    @task
    def wait_io(i: int) -> int:
        time.sleep(io_wait)  # an HTTP call, say
        return i

    @flow
    def calls() -> int:
        return sum(inc(i) for i in range(n))

    @flow
    def submits() -> int:
        return sum(f.result() for f in [inc.submit(i) for i in range(n // 10)])

    @flow
    def mapped() -> list[int]:
        return inc.map(range(items)).result()

    @flow
    def fan_out() -> list[int]:
        return [f.result() for f in [wait_io.submit(i) for i in range(fan)]]

    def floor_calls() -> int:
        return sum(plain(i) for i in range(n))

    def floor_fan() -> list[int]:
        return [time.sleep(io_wait) or i for i in range(fan)]

    expect(calls() == floor_calls(), "direct task calls")
    expect(submits() == sum(range(1, n // 10 + 1)), "submit + result")
    expect(mapped() == list(range(1, items + 1)), "map")
    expect(fan_out() == list(range(fan)), "fan-out")
    print(f"# dagy-git runtime bench: {runs} runs; Python {sys.version.split()[0]}", flush=True)
    figure(
        "sdk.task_calls",
        f"one flow run, {n} direct task calls; floor: {n} plain calls",
        calls,
        runs,
        floor_calls,
    )
    figure("sdk.submit", f"one flow run, {n // 10} x submit + result", submits, runs)
    figure("sdk.map", f"one flow run, map over {items} items + result", mapped, runs)
    figure(
        "sdk.fan_out",
        f"{fan} I/O-bound tasks ({io_wait * 1000:g} ms each) submitted at once; "
        "floor: the same waits one after another",
        fan_out,
        runs,
        floor_fan,
    )

    def proc(code: str) -> Callable[[], object]:
        return lambda: subprocess.run([sys.executable, "-c", code], check=True)

    figure(
        "sdk.import",
        "python -c 'import dagy_git' (whole process); floor: python -c pass",
        proc("import dagy_git"),
        runs,
        proc("pass"),
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
