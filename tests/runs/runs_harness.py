"""Helpers of the runs tests: repositories with registered flows (deployed with the real CLI)."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import ORDER_ETL, commit_all, run_cli, write

# The spec's order_etl, printing what it did so a run's log shows which code ran.
ETL = ORDER_ETL.replace("    ...\n", "    return source\n", 1).replace(
    "    raw = extract(source)",
    '    print("etl code v1 reading", source)\n    raw = extract(source)',
)


def deploy(repo: Path, *args: str) -> dict[str, object]:
    """Deploy with the real CLI and return its `--json` result."""
    proc = run_cli("deploy", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def runs_json(repo: Path, *args: str) -> list[dict[str, object]]:
    """`dagy-git runs … --json`."""
    proc = run_cli("runs", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)  # type: ignore[no-any-return]


def make_etl_repo(repo: Path) -> Path:
    """order_etl@2.1.0 registered, with deployment `order-etl-prod` of it."""
    write(repo, "pipelines/data/orders/order_etl.py", ETL)
    commit_all(repo, "add order_etl")
    deploy(
        repo,
        "pipelines/data/orders/order_etl.py",
        "--deployment",
        "order-etl-prod",
        "--param",
        "source=s3://prod/orders/",
    )
    return repo
