"""Benchmark the runs store: `GET /runs?flow_name=` and `dagy-git runs --flow` over many runs.

    python bench/runs.py [--runs-total 100000] [--flows 1000] [--repeat 20] [--quick] [--keep]

Builds a runs store of N runs (1,000 flows, three task runs each, states and deployments
mixed) in a temporary folder through `RunStore` (schema, indexes) plus one bulk insert, then
prints one line per figure, in bench/run.py's format:

- `runs.api_list_flow`: one `GET /runs?flow_name=…&limit=50` through the FastAPI router
  (in-process TestClient: routing, validation, the query, JSON), interleaved with its floor
  `floor.sqlite_list_flow`: the same indexed SELECT on a raw sqlite3 connection;
- `runs.api_show`: one `GET /runs/{run_id}` with its task runs;
- `runs.api_deep_page`: `GET /runs?flow_name=…&offset=50` (the second page);
- `runs.cli_list_flow`: the whole process `dagy-git runs --flow … --json`, as a user runs it.

Every request's answer is checked first (the right flow, 50 items, newest first): a fast
wrong answer voids the figure (exit 3).
"""

from __future__ import annotations

import argparse
import json
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient

from dagy_git.config import load_settings
from dagy_git.runs.store import RunStore
from dagy_git.server.auth import Auth
from dagy_git.server.context import ServerContext
from dagy_git.server.http_errors import install_handlers
from dagy_git.server.runs_api import RunPool, make_runs_router
from dagy_git.server.state import RegistryState

STATES = ("COMPLETED", "COMPLETED", "COMPLETED", "FAILED", "CANCELLED", "CRASHED")
TARGET_API = 0.05  # seconds per GET /runs?flow_name= at 100,000 runs
TARGET_CLI = 1.5  # seconds for the whole `dagy-git runs --flow` process


def build_store(path: Path, total: int, flows: int) -> None:
    """A store with `total` runs over `flows` flows, written in one transaction."""
    RunStore(path).close()  # schema, indexes, WAL
    db = sqlite3.connect(path)
    runs = []
    tasks = []
    for i in range(total):
        flow = f"flow_{i % flows:04d}"
        run_id = f"{i:032x}"
        minute, second = divmod(i, 60)
        day, hour = 1 + minute // 1440 % 28, minute // 60 % 24
        at = f"2026-01-{day:02d}T{hour:02d}:{minute % 60:02d}:{second:02d}.000Z"
        dep = f"{flow}-prod" if i % 3 == 0 else None
        runs.append(
            (
                run_id,
                flow,
                f"{1 + i % 4}.0",
                dep,
                1 if dep else None,
                "ab" * 32,
                "team/data",
                json.dumps({"day": i % 7}),
                STATES[i % len(STATES)],
                at,
                at,
                at,
            )
        )
        for pos, task in enumerate(("extract", "transform", "load")):
            tasks.append((run_id, task, task, "COMPLETED", 1, at, at, None, pos))
    with db:
        db.executemany(
            "INSERT INTO runs (run_id, flow_name, flow_version, deployment_name, "
            "deployment_version, code_hash, namespace, parameters, state, created_at, "
            "started_at, ended_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            runs,
        )
        db.executemany(
            "INSERT INTO task_runs (run_id, task_id, task_name, state, attempts, started_at, "
            "ended_at, error, position) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            tasks,
        )
    db.execute("ANALYZE")
    db.close()


def timed(fn: Callable[[], object]) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def line(name: str, samples: list[float], target: float | None, extra: str = "") -> str:
    med = statistics.median(samples)
    text = f"{name}: median {med:.4f} s (min {min(samples):.4f}, max {max(samples):.4f})"
    if target is not None:
        text += f" [target < {target:g} s] {'OK' if med < target else 'MISS'}"
    else:
        text += " [info]"
    return text + extra


class BenchError(RuntimeError):
    """A measured request answered wrongly."""


def expect(cond: bool, message: str) -> None:
    if not cond:
        raise BenchError(message)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-total", type=int, default=100_000)
    parser.add_argument("--flows", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--quick", action="store_true", help="2,000 runs, 3 repeats")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)
    if args.quick:
        args.runs_total, args.flows, args.repeat = 2000, 40, 3
    tmp = Path(tempfile.mkdtemp(prefix="dagy-bench-runs-"))
    try:
        repo = tmp / "repo"
        repo.mkdir()
        subprocess.run(["git", "init", "-q"], cwd=repo, check=True)
        db_path = tmp / "runs.sqlite3"
        t0 = time.perf_counter()
        build_store(db_path, args.runs_total, args.flows)
        print(
            f"# store: {args.runs_total:,} runs, {args.flows:,} flows, built in "
            f"{time.perf_counter() - t0:.1f} s; load {Path('/proc/loadavg').read_text().split()[0]}"
            if Path("/proc/loadavg").exists()
            else f"# store: {args.runs_total:,} runs"
        )
        store = RunStore(db_path)
        pool = RunPool(1)
        app = FastAPI()
        settings = load_settings(repo)
        context = ServerContext(settings, RegistryState(settings), Auth())
        install_handlers(app)
        app.include_router(make_runs_router(context, store=store, pool=pool))
        client = TestClient(app)
        flow = "flow_0007"
        per_flow = args.runs_total // args.flows

        def api_list() -> None:
            res = client.get("/runs", params={"flow_name": flow, "limit": 50})
            items = res.json()["items"]
            expect(res.status_code == 200, f"GET /runs answered {res.status_code}")
            expect(len(items) == min(50, per_flow), f"{len(items)} items")
            expect(all(i["flow_name"] == flow for i in items), "another flow's runs")
            expect(items == sorted(items, key=lambda i: i["run_id"], reverse=True), "order")

        floor_db = sqlite3.connect(db_path)

        def floor() -> None:
            rows = floor_db.execute(
                "SELECT * FROM runs WHERE flow_name = ? ORDER BY seq DESC LIMIT 50", (flow,)
            ).fetchall()
            expect(len(rows) == min(50, per_flow), "floor rows")

        run_id = f"{7:032x}"

        def api_show() -> None:
            res = client.get(f"/runs/{run_id}")
            expect(len(res.json()["task_runs"]) == 3, "task runs")

        def api_page() -> None:
            res = client.get("/runs", params={"flow_name": flow, "limit": 50, "offset": 50})
            expect(res.status_code == 200, "page")

        cli = [
            sys.executable,
            "-m",
            "dagy_git",
            "runs",
            "--flow",
            flow,
            "-n",
            "50",
            "--json",
            "--runs-db",
            str(db_path),
        ]

        def cli_list() -> None:
            out = subprocess.run(cli, cwd=repo, capture_output=True, check=False)
            expect(out.returncode == 0, out.stderr.decode()[-500:])
            expect(len(json.loads(out.stdout)) == min(50, per_flow), "cli items")

        for warm in (api_list, floor, api_show, api_page, cli_list):
            warm()  # warm-up and correctness check
        api, base = [], []
        for _ in range(args.repeat):
            api.append(timed(api_list))
            base.append(timed(floor))
        ratio = statistics.median(a / b for a, b in zip(api, base, strict=True))
        print(line("floor.sqlite_list_flow", base, None))
        print(
            line(
                "runs.api_list_flow",
                api,
                TARGET_API,
                f"; ratio {ratio:.1f}x floor.sqlite_list_flow  "
                f"(GET /runs?flow_name={flow}&limit=50 over {args.runs_total:,} runs)",
            )
        )
        print(
            line(
                "runs.api_show",
                [timed(api_show) for _ in range(args.repeat)],
                TARGET_API,
                "  (GET /runs/{run_id} with 3 task runs)",
            )
        )
        print(
            line(
                "runs.api_deep_page",
                [timed(api_page) for _ in range(args.repeat)],
                TARGET_API,
                "  (second page, offset=50)",
            )
        )
        cli_runs = max(3, args.repeat // 4)
        print(
            line(
                "runs.cli_list_flow",
                [timed(cli_list) for _ in range(cli_runs)],
                TARGET_CLI,
                "  (whole process: dagy-git runs --flow … --json)",
            )
        )
        floor_db.close()
        client.close()
        pool.stop()
        store.close()
    except BenchError as exc:
        print(f"bench: wrong answer: {exc}", file=sys.stderr)
        return 3
    finally:
        if args.keep:
            print(f"# kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
