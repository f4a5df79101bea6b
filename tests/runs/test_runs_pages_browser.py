"""The run pages in a real browser: Debian's headless Chromium driven by Playwright, from
the header's Runs link to a run's task runs and log, as a person would click."""

from __future__ import annotations

import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import run_cli
from runs_harness import make_etl_repo

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh)"),
]


@pytest.fixture
def served(repo: Path) -> Iterator[str]:
    """`dagy-git serve` over a repository with one completed and one failed run."""
    make_etl_repo(repo)
    assert run_cli("run", "--deployment", "order-etl-prod", cwd=repo).returncode == 0
    assert run_cli("run", "order_etl", "--param", "nope=1", cwd=repo).returncode == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "serve", f"--port={port}"],
        cwd=repo,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        for line in proc.stderr:  # ready when uvicorn says so, not after a guessed sleep
            if "Uvicorn running on" in line:
                break
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if proc.stderr is not None:
            proc.stderr.close()


def test_from_the_header_to_a_run_and_its_task_runs(served: str, tmp_path: Path) -> None:
    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 800})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(served + "/")
            page.get_by_role("link", name="Runs", exact=True).click()
            page.wait_for_url("**/ui/runs")
            rows = page.locator("tr[data-run]")
            assert rows.count() == 1  # the refused run never ran, so it is not there
            page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
            page.get_by_role("link", name="COMPLETED").click()  # the state filter chip
            page.wait_for_url("**/ui/runs?state=COMPLETED")
            assert page.locator("tr[data-run]").count() == 1
            rows.first.locator("td").first.get_by_role("link").click()
            page.wait_for_url("**/ui/runs/*")
            tasks = page.locator("tr[data-task]").evaluate_all(
                "els => els.map(e => e.dataset.task)"
            )
            assert tasks == ["extract", "transform", "load"]
            assert "etl code v1 reading s3://prod/orders/" in page.locator("pre.log").inner_text()
            page.screenshot(path=str(tmp_path / "run.png"), full_page=True)
            page.get_by_role("link", name="2.1.0").click()  # on to the version's flow page
            page.wait_for_url("**/ui/flows/order_etl/2.1.0")
            assert page.get_by_role("link", name="Runs of this version").is_visible()
            assert errors == []  # no style or script blocked by the Content-Security-Policy
        finally:
            browser.close()
