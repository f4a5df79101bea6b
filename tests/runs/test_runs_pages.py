"""The Flows UI's run pages, in the real app (`create_app`): recent runs and one run."""

from __future__ import annotations

import json
from pathlib import Path

from fastapi.testclient import TestClient

from dagy_git.server.app import create_app

from conftest import run_cli
from runs_harness import make_etl_repo


def test_runs_page_and_run_page_show_what_ran(repo: Path) -> None:
    make_etl_repo(repo)
    ran = run_cli("run", "--deployment", "order-etl-prod", "--json", cwd=repo)
    assert ran.returncode == 0, ran.stderr
    run = json.loads(ran.stdout)
    failed = run_cli("run", "order_etl", "--timeout", "0.001", cwd=repo)
    assert failed.returncode == 1
    app = create_app(repo)
    with TestClient(app) as client:
        listing = client.get("/ui/runs")
        assert listing.status_code == 200
        page = listing.text
        assert page.count('<tr data-run="') == 2
        assert f'href="/ui/runs/{run["run_id"]}"' in page
        assert "order-etl-prod" in page and "COMPLETED" in page and "FAILED" in page
        assert 'href="/ui/flows/order_etl/2.1.0"' in page  # the version's flow page
        assert listing.headers["Content-Security-Policy"].startswith("default-src 'none'")
        only_failed = client.get("/ui/runs", params={"state": "FAILED"}).text
        assert only_failed.count('<tr data-run="') == 1
        by_dep = client.get("/ui/runs", params={"deployment": "order-etl-prod"}).text
        assert by_dep.count('<tr data-run="') == 1 and "deployment: order-etl-prod" in by_dep
        detail = client.get(f"/ui/runs/{run['run_id']}").text
        assert [f'data-task="{t}"' in detail for t in ("extract", "transform", "load")] == [
            True,
            True,
            True,
        ]
        assert "etl code v1 reading s3://prod/orders/" in detail  # the log
        assert "order-etl-prod</code> #1" in detail
        missing = client.get("/ui/runs/nope")
        assert missing.status_code == 404 and "no run &#39;nope&#39;" in missing.text
        flow_page = client.get("/ui/flows/order_etl/2.1.0").text
        assert 'href="/ui/runs?flow_name=order_etl&amp;flow_version=2.1.0"' in flow_page
        assert 'href="/ui/runs"' in client.get("/").text  # in the header of every page
    app.state.run_pool.stop()
    app.state.run_store.close()


def test_a_flow_name_with_markup_is_escaped(repo: Path) -> None:
    make_etl_repo(repo)
    app = create_app(repo)
    with TestClient(app) as client:
        page = client.get("/ui/runs", params={"flow_name": "<script>x</script>"}).text
        assert "<script>x</script>" not in page
        assert "&lt;script&gt;x&lt;/script&gt;" in page
    app.state.run_pool.stop()
    app.state.run_store.close()
