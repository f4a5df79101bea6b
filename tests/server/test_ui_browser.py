"""The Flows UI in a real browser: `dagy-git serve` over a CLI-made registry, driven by
Playwright in Debian's headless Chromium, clicking chips as a person would.

Screenshots go to the test's tmp dir, and also to `$DAGY_GIT_SCREENSHOTS` when set (CI keeps
that folder as an artifact). No browser is ever downloaded: `scripts/test.sh` installs
Debian's `chromium` when it is missing.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from conftest import commit_all, run_cli, write
from example_registry import make_registry

playwright = pytest.importorskip("playwright.sync_api")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
READY_ATTEMPTS = 600  # x 0.1 s of waiting on the server process: a failure guard, not a timing

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (scripts/test.sh)"),
]

REPORT = """
from dagy import flow, task


@task
def query(day: str) -> list:
    ...


@task
def render(rows: list) -> str:
    ...


@task
def mail(report: str, rows: list) -> None:
    ...


@flow(name="revenue_report", version="5")
def revenue_report(day: str = "today"):
    rows = query(day)
    mail(render(rows), rows)
"""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _wait_until_listening(proc: subprocess.Popen[bytes], port: int, log: Path) -> None:
    """Poll the port; waiting on the process between polls also notices it dying."""
    for _ in range(READY_ATTEMPTS):
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        try:
            proc.wait(timeout=0.1)
        except subprocess.TimeoutExpired:
            continue
        raise AssertionError(f"dagy-git serve exited {proc.returncode}: {log.read_text()}")
    raise AssertionError(f"dagy-git serve never listened on {port}: {log.read_text()}")


@pytest.fixture
def server(repo: Path, tmp_path: Path) -> Iterator[str]:
    """`dagy-git serve` on a free loopback port over the example registry."""
    make_registry(repo)
    write(repo, "data/reports/dagy.toml", '[tags]\nenv = "prod"\n')
    write(repo, "data/reports/revenue_report.py", REPORT)
    commit_all(repo, "reports")
    proc = run_cli("deploy", "data/reports/revenue_report.py", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    for name, tags in [("Orders v2 <draft>", ["project=migration", "status=wip"]), ("Idea", [])]:
        proc = run_cli("drafts", "create", name, *[f"--tag={t}" for t in tags], cwd=repo)
        assert proc.returncode == 0, proc.stderr
    port = _free_port()
    log = tmp_path / "serve.log"
    with log.open("wb") as out:
        serve = subprocess.Popen(
            [sys.executable, "-m", "dagy_git", "serve", "--host", "127.0.0.1", f"--port={port}"],
            cwd=repo,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        _wait_until_listening(serve, port, log)
        yield f"http://127.0.0.1:{port}"
    finally:
        serve.terminate()
        serve.wait(timeout=30)


@pytest.fixture
def shots(tmp_path: Path) -> Iterator[list[Path]]:
    """Screenshots taken by the test, copied to `$DAGY_GIT_SCREENSHOTS` at the end."""
    taken: list[Path] = []
    yield taken
    target = os.environ.get("DAGY_GIT_SCREENSHOTS")
    if target:
        Path(target).mkdir(parents=True, exist_ok=True)
        for shot in taken:
            shutil.copy2(shot, Path(target) / shot.name)


def _cards(page: object) -> list[str]:
    return sorted(page.locator("li.card").evaluate_all("els => els.map(e => e.dataset.flow)"))  # type: ignore[attr-defined]


def test_click_chips_to_filter_then_open_a_flow_and_its_dag(
    server: str, tmp_path: Path, shots: list[Path]
) -> None:
    def shoot(page: object, name: str) -> None:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=str(path), full_page=True)  # type: ignore[attr-defined]
        shots.append(path)

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            # A blocked style or script (the Content-Security-Policy) or a missing file
            # shows up as a console error.
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            page.goto(server + "/")
            every = ["hello", "load_orders", "order_etl", "revenue_report", "train_model"]
            assert _cards(page) == every
            shoot(page, "flows")

            card = page.locator('li.card[data-flow="order_etl"]')
            card.get_by_role("button", name="Filter by tag team:data-eng").click()
            page.wait_for_url("**/?tag=team%3Adata-eng")
            assert _cards(page) == ["load_orders", "order_etl", "revenue_report"]

            # The next chip by keyboard: chips are focusable and Enter presses them.
            card.get_by_role("button", name="Filter by tag env:prod").focus()
            page.keyboard.press("Enter")
            page.wait_for_url("**/?tag=team%3Adata-eng&tag=env%3Aprod")
            assert _cards(page) == ["order_etl", "revenue_report"]
            active = page.get_by_label("Active filters")
            assert active.get_by_role("link", name="Remove tag filter team:data-eng").is_visible()
            assert active.get_by_role("link", name="Remove tag filter env:prod").is_visible()
            shoot(page, "flows-filtered")

            # A namespace chip by keyboard too, with Space, as on a button.
            page.get_by_role("button", name="Filter by namespace data/orders").focus()
            page.keyboard.press(" ")
            page.wait_for_url("**namespace=data%2Forders")
            assert _cards(page) == ["order_etl"]
            active.get_by_role("link", name="Remove tag filter env:prod").click()
            page.wait_for_url("**/?tag=team%3Adata-eng&namespace=data%2Forders")
            assert _cards(page) == ["order_etl"]
            page.get_by_role("link", name="Clear all").click()
            assert _cards(page) == every

            page.get_by_role("link", name="order_etl", exact=True).click()
            page.wait_for_url("**/ui/flows/order_etl")
            dag = page.locator("svg.dag")
            assert dag.is_visible()
            boxes = dag.locator("g.dag-task")
            ids = boxes.evaluate_all("els => els.map(e => e.dataset.taskId)")
            assert ids == ["extract", "transform", "load"]
            arrows = dag.locator("g.dag-edge")
            pairs = arrows.evaluate_all("els => els.map(e => [e.dataset.source, e.dataset.target])")
            assert pairs == [["extract", "transform"], ["transform", "load"]]
            # Drawn where they belong: each arrow runs from its source box down to its target
            # (within the width of a stroke).
            for source, target in pairs:
                top = dag.locator(f'g.dag-task[data-task-id="{source}"] rect').bounding_box()
                bottom = dag.locator(f'g.dag-task[data-task-id="{target}"] rect').bounding_box()
                line = dag.locator(
                    f'g.dag-edge[data-source="{source}"][data-target="{target}"] path'
                ).bounding_box()
                assert top and bottom and line
                assert abs(line["y"] - (top["y"] + top["height"])) <= 3
                assert abs(line["y"] + line["height"] - bottom["y"]) <= 3
            shoot(page, "flow-order_etl")

            page.get_by_role("link", name="Drafts").click()
            page.wait_for_url("**/ui/drafts")
            assert page.locator("li.card").count() == 2
            assert page.get_by_text("Orders v2 <draft>").is_visible()
            page.get_by_role("button", name="Filter by tag status:wip").click()
            page.wait_for_url("**/ui/drafts?tag=status%3Awip")
            assert page.locator("li.card").count() == 1
            shoot(page, "drafts")
            assert errors == []

            phone = browser.new_page(viewport={"width": 390, "height": 844})
            phone.goto(server + "/?tag=team:data-eng")
            assert _cards(phone) == ["load_orders", "order_etl", "revenue_report"]
            overflow = phone.evaluate("document.documentElement.scrollWidth - innerWidth")
            assert overflow <= 0, "the Flows page scrolls sideways on a phone"
            shoot(phone, "flows-phone")
            phone.goto(server + "/ui/flows/revenue_report")
            assert phone.locator("g.dag-task").count() == 3
            shoot(phone, "flow-phone")
        finally:
            browser.close()
