"""Benchmark `dagy-git serve`: warm reads server-side, and latency under a loopback load.

    python bench/serve.py                # 1,000 flows x 5 versions (built with the real CLI)
    python bench/serve.py --quick        # smoke run: 20 flows x 2 versions
    python bench/serve.py --strict       # exit 1 when a target is missed

Server-side figures run the app in-process (FastAPI's test client: no sockets), after one
warm-up request, so they measure the handler, the per-request "did the branch move?"
check and the JSON encoding. The load figure starts a real `dagy-git serve` on a loopback
port and releases 200 reads and 20 writes (10 new flows, 10 re-deploys of one deployment)
at once while a CLI deploy runs; its correctness is checked (every answer 200, versions
1..10) or the figure is void (exit 3). Lines look like `bench/run.py`'s.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # bench/ is a folder of scripts, not a package
import serve_load

TOKEN = "bench-token"


class Void(RuntimeError):
    """A measured thing did the wrong thing: its figure means nothing."""


def expect(cond: bool, message: str) -> None:
    """Void the run unless `cond`."""
    if not cond:
        raise Void(message)


def line(name: str, samples: list[float], target: float | None, what: str) -> tuple[str, bool]:
    """One figure: median, min, max, p99 and the target verdict."""
    med = statistics.median(samples)
    p99 = serve_load.percentile(samples, 99)
    ok = target is None or med < target
    verdict = f"[target < {target} s] {'OK' if ok else 'MISS'}" if target else "[info]"
    text = (
        f"{name}: median {med:.3f} s (min {min(samples):.3f}, max {max(samples):.3f}) "
        f"p99 {p99:.3f} s {verdict}  ({what})"
    )
    return text, ok


def timed(call: Callable[[], Any], runs: int, check: Callable[[Any], None]) -> list[float]:
    """Call once untimed (warm-up and correctness check), then `runs` timed calls."""
    check(call())
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        call()
        samples.append(time.perf_counter() - start)
    return samples


def server_side(repo: Path, n: int, versions: int, runs: int) -> list[tuple[str, bool]]:
    """Warm GET figures with the app in-process."""
    from fastapi.testclient import TestClient

    from dagy_git.server.app import create_app

    app = create_app(repo, token=TOKEN)
    total = n * versions
    start = time.perf_counter()
    view = app.state.dagy.state.view()
    cold = time.perf_counter() - start
    # (a reused repository also holds the flows an earlier load registered)
    expect(len(view.flows) >= total, f"the view holds {len(view.flows)} of {total} versions")
    api = TestClient(app)
    latest = gen.version_of(versions - 1)
    team = sum(1 for i in range(n) if gen.flow_dir(i)[0] == "data-eng")

    def ok_page(expected: int) -> Callable[[Any], None]:
        def check(resp: Any) -> None:
            expect(resp.status_code == 200, f"status {resp.status_code}")
            expect(resp.json()["total"] == expected, f"total {resp.json()['total']}")

        return check

    def ok_detail(resp: Any) -> None:
        expect(resp.status_code == 200 and resp.json()["flow_version"] == latest, resp.text)

    out = [line("serve.view_cold", [cold], None, f"first read of {total:,} flow versions")]
    cases = [
        ("serve.flows_warm", "/flows", ok_page(len(view.flows)), 0.05, "GET /flows, page of 100"),
        (
            "serve.flows_tags_warm",
            "/flows?tag=team:data-eng&tag=env:prod",
            ok_page(team * versions),
            0.05,
            f"two tag chips (AND): {team * versions} versions match, page of 100",
        ),
        (
            "serve.flows_tags_1000",
            "/flows?tag=team:data-eng&tag=env:prod&limit=1000",
            ok_page(team * versions),
            None,
            "the same, all of them in one page of up to 1000",
        ),
        (
            "serve.flows_latest_warm",
            "/flows?version=latest&namespace=data-eng&q=flow_00",
            ok_page(sum(1 for i in range(min(n, 100)) if gen.flow_dir(i)[0] == "data-eng")),
            0.05,
            "latest versions in a namespace, by name",
        ),
        ("serve.detail_warm", f"/flows/flow_0042/{latest}", ok_detail, 0.05, "one flow version"),
    ]
    if n <= 42:
        cases.pop()  # no flow_0042 in a tiny repository
    for name, path, check, target, what in cases:
        samples = timed(lambda path=path: api.get(path), runs, check)
        out.append(line(name, samples, target, f"{what}, over {total:,} flow versions"))
    return out


def live(repo: Path, port: int) -> tuple[subprocess.Popen[str], threading.Thread]:
    """`dagy-git serve` on a loopback port, once uvicorn says it runs."""
    env = {**gen.bench_env(), "DAGY_GIT_TOKEN": TOKEN}
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "serve", "--port", str(port)],
        cwd=repo,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert proc.stderr is not None
    for text in proc.stderr:
        if "Uvicorn running on" in text:
            break
    else:
        raise Void("dagy-git serve did not start")
    drain = threading.Thread(target=proc.stderr.read, daemon=True)
    drain.start()
    return proc, drain


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def load(repo: Path, n: int, versions: int) -> list[tuple[str, bool]]:
    """200 reads + 20 writes at once over loopback while a CLI deploy runs."""
    first = gen.flow_relpath(0)
    spec = json.loads(gen.dagy(repo, "spec", first, "--json"))[0]
    latest = gen.version_of(versions - 1)
    reads = [
        "/flows",
        "/flows?tag=team:data-eng&tag=env:prod",
        f"/flows/{gen.flow_name(min(n - 1, 42))}/{latest}",
        "/deployments",
    ]
    writes: list[tuple[str, str, Any]] = [
        (
            "POST",
            "/flows",
            {
                "flow_spec": {**spec["flow_spec"], "name": f"api_flow_{i}"},
                "source_file_hash": spec["source_file_hash"],
            },
        )
        for i in range(10)
    ] + [
        (
            "POST",
            "/deployments",
            {"name": "bench-shared", "flow_name": gen.flow_name(0), "tags": {"n": str(i)}},
        )
        for i in range(10)
    ]
    # A change the CLI deploys while the server is busy.
    with (repo / first).open("a") as fh:
        fh.write("\n# edited during the load\n")
    gen.git(repo, "commit", "-q", "-am", "edit one flow")
    port = free_port()
    proc, drain = live(repo, port)
    start = time.perf_counter()
    try:
        calls, cli = serve_load.storm(
            f"http://127.0.0.1:{port}",
            [reads[i % len(reads)] for i in range(200)],
            writes,
            token=TOKEN,
            alongside=lambda: subprocess.run(
                [sys.executable, "-m", "dagy_git", "deploy", first],
                cwd=repo,
                env=gen.bench_env(),
                capture_output=True,
                text=True,
                check=False,
            ),
        )
        wall = time.perf_counter() - start
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        drain.join(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    bad = [(c.method, c.path, c.status) for c in calls if c.status != 200]
    expect(not bad, f"{len(bad)} requests failed: {bad[:5]}")
    expect(cli.returncode == 0, f"the CLI deploy failed: {cli.stderr}")
    got = sorted(
        c.body["deployment_version"]
        for c in calls
        if c.kind == "write" and c.path == "/deployments"
    )
    # Distinct and consecutive: none repeated, none lost (a reused repository starts higher).
    expect(got == list(range(got[0], got[0] + 10)), f"deployment_versions {got}")
    read_s = [c.seconds for c in calls if c.kind == "read"]
    write_s = [c.seconds for c in calls if c.kind == "write"]
    what = f"200 reads + 20 writes at once, a CLI deploy alongside; {n * versions:,} versions"
    return [
        line("serve.load_total", [wall], None, f"wall time of the whole load: {what}"),
        line("serve.load_read", read_s, None, what),
        line("serve.load_write", write_s, None, "the 20 writes of that load, one commit each"),
    ]


def main(argv: list[str] | None = None) -> int:
    """Build the repository, measure, print one line per figure."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, help="flows (default 1000; --quick 20)")
    p.add_argument("--versions", type=int, help="registered versions per flow (default 5)")
    p.add_argument("--runs", type=int, help="timed requests per figure (default 200)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the generated repository")
    p.add_argument(
        "--repo", type=Path, help="reuse a repository made by `gen.py N --versions V` (kept)"
    )
    args = p.parse_args(argv)
    n = args.n or (20 if args.quick else 1000)
    versions = args.versions or (2 if args.quick else 5)
    runs = args.runs or (20 if args.quick else 200)
    if n < 1 or versions < 1 or runs < 1:
        print("serve: error: --n, --versions and --runs must be at least 1", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="dagy-bench-serve-"))
    os.environ.update(gen.IDENTITY)
    print(f"# load average {os.getloadavg()[0]:.2f}; {n} flows x {versions} versions", flush=True)
    ok = True
    try:
        repo = args.repo.resolve() if args.repo else tmp / "repo"
        if args.repo is None:
            gen.generate(repo, n, versions, progress=True)
        for text, good in server_side(repo, n, versions, runs) + load(repo, n, versions):
            print(text, flush=True)
            ok = ok and good
    except (Void, gen.GenError) as exc:
        print(f"serve: void: {exc}", file=sys.stderr)
        return 3
    finally:
        if args.keep:
            print(f"# kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    print(f"# load average {os.getloadavg()[0]:.2f}", flush=True)
    return 1 if args.strict and not ok else 0


if __name__ == "__main__":
    sys.exit(main())
