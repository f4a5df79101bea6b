"""Server-side time of the Flows UI's pages over a generated registry.

    python bench/ui.py [--n 1000] [--versions 5] [--runs 20] [--repo DIR]

Builds the registry with bench/gen.py (the real CLI: `deploy --all` V times) unless `--repo`
names one already built, then renders the pages in-process through the ASGI app (FastAPI's
test client: no socket, no browser), once untimed to warm the registry view and check the
page, then R times. Prints median, p90 and max per page. The view is cached per registry
commit, so this is what every request costs while the branch stays put.
"""

from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # bench/ is a folder of scripts, not a package
from fastapi import FastAPI
from fastapi.testclient import TestClient

from dagy_git.config import load_settings
from dagy_git.server.state import RegistryState
from dagy_git.server.ui import make_router


def pages(n: int) -> list[tuple[str, str, int]]:
    """(figure, URL, expected cards): every page a person opens first."""
    team = gen.TEAMS[0]
    members = sum(1 for i in range(n) if gen.flow_dir(i)[0] == team)
    return [
        ("ui.flows_all", "/", n),
        ("ui.flows_team_env", f"/?tag=team:{team}&tag=env:prod", members),
        ("ui.flows_search", f"/?q={gen.flow_name(min(42, n - 1))}", 1),
        ("ui.flow_page", f"/ui/flows/{gen.flow_name(min(42, n - 1))}", 0),
    ]


def main(argv: list[str] | None = None) -> int:
    """Generate (or reuse) a registry, render each page, print one line per figure."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--n", type=int, default=1000)
    p.add_argument("--versions", type=int, default=5)
    p.add_argument("--runs", type=int, default=20)
    p.add_argument("--repo", type=Path, help="a repository gen.py already built")
    args = p.parse_args(argv)
    repo = args.repo
    if repo is None:
        repo = Path(tempfile.mkdtemp(prefix="dagy-bench-ui-"))
        gen.generate(repo, args.n, args.versions, 0, progress=False)
    client = TestClient(FastAPI(routes=make_router(RegistryState(load_settings(repo))).routes))
    for figure, url, cards in pages(args.n):
        first = time.perf_counter()
        page = client.get(url)
        cold = time.perf_counter() - first
        shown = len(re.findall(r'<li class="card" data-flow=', page.text))
        if page.status_code != 200 or (cards and shown != min(cards, page_limit(page.text))):
            print(f"{figure}: FAILED: status {page.status_code}, {shown} cards", file=sys.stderr)
            return 3
        times = []
        for _ in range(args.runs):
            start = time.perf_counter()
            client.get(url)
            times.append(time.perf_counter() - start)
        times.sort()
        print(
            f"{figure}: median {statistics.median(times) * 1000:.1f} ms "
            f"(p90 {times[int(len(times) * 0.9) - 1] * 1000:.1f}, max {times[-1] * 1000:.1f}; "
            f"first {cold * 1000:.0f} ms) {len(page.content) // 1024} KiB, {shown} cards  ({url})"
        )
    return 0


def page_limit(html: str) -> int:
    """How many cards the page says it shows at most (all of them when it does not cap)."""
    found = re.search(r'data-card-limit="(\d+)"', html)
    return int(found.group(1)) if found else 10**9


if __name__ == "__main__":
    sys.exit(main())
