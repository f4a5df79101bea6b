"""A bounded loopback load: 200 reads and 20 writes at once against one `dagy-git serve`,
while a CLI deploy runs: no errors, no lost writes, distinct deployment_versions."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest

from conftest import commit_all, git, run_cli, write
from example_registry import TOKEN, live_server, make_registry

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))
from serve_load import storm  # bench/ is a folder of scripts, not a package

READS = [
    "/flows",
    "/flows?tag=team:data-eng&tag=env:prod",
    "/flows?version=latest&q=o",
    "/flows/order_etl/2.1.0",
    "/flows/hello/log",
    "/deployments?tag=env:prod",
    "/drafts",
    "/health",
]


@pytest.mark.slow
def test_concurrent_reads_and_writes_lose_nothing(repo: Path) -> None:
    make_registry(repo)
    spec = json.loads(run_cli("spec", "hello.py", "--json", cwd=repo).stdout)[0]
    registers = [
        (
            "POST",
            "/flows",
            {
                "flow_spec": {**spec["flow_spec"], "name": f"api_flow_{i}"},
                "source_file_hash": spec["source_file_hash"],
                "tags": {"writer": str(i)},
            },
        )
        for i in range(10)
    ]
    # Ten writers of one deployment, each with other tags: every write changes it.
    redeploys = [
        ("POST", "/deployments", {"name": "shared", "flow_name": "hello", "tags": {"n": str(i)}})
        for i in range(10)
    ]
    write(repo, "late/late.py", (repo / "hello.py").read_text().replace("hello", "late"))
    commit_all(repo, "a flow deployed by the CLI during the load")

    with live_server(repo) as url:
        calls, cli = storm(
            url,
            [READS[i % len(READS)] for i in range(200)],
            registers + redeploys,
            token=TOKEN,
            alongside=lambda: run_cli("deploy", "late/late.py", "--json", cwd=repo),
        )

    statuses = Counter((c.kind, c.status) for c in calls)
    assert statuses == Counter({("read", 200): 200, ("write", 200): 20}), statuses
    assert cli.returncode == 0, cli.stderr
    assert json.loads(cli.stdout)["results"][0]["status"] == "registered"

    listed = {i["flow_name"] for i in json.loads(run_cli("list", "--json", cwd=repo).stdout)}
    assert {f"api_flow_{i}" for i in range(10)} | {"late", "hello"} <= listed
    versions = sorted(
        c.body["deployment_version"]
        for c in calls
        if c.kind == "write" and c.path == "/deployments"
    )
    assert versions == list(range(1, 11))  # distinct, none repeated or skipped
    deployments = json.loads(run_cli("deployments", "--json", cwd=repo).stdout)
    shared = next(d for d in deployments if d["name"] == "shared")
    assert shared["deployment_version"] == 10
    # One registry commit per write, plus the CLI's: the history tells the same story.
    trailers = git(
        repo, "log", "--format=%(trailers:key=Dagy-Deployment,valueonly)", "dagy/registry"
    )
    assert sorted(t for t in trailers.split() if t.startswith("shared#")) == sorted(
        f"shared#{v}" for v in range(1, 11)
    )
