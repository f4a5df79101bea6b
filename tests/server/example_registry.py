"""A registry made by the real CLI: the spec's example flows in several namespaces, tagged.

`data/orders/order_etl.py` (order_etl 2.1.0, deployment order-etl-prod, env=prod),
`data/ingestion/load_orders.py` (load_orders 1.0.0, deployment load-orders-staging),
`ml/train.py` (train_model, team ml-ops) and `hello.py` at the root; `[tags] team` comes
from each folder's dagy.toml, as a team would write it.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from dagy_git.server.app import create_app

from conftest import ORDER_ETL, commit_all, git, run_cli, write

LOAD_ORDERS = """
from dagy import flow, task


@task
def read_bucket(path: str) -> list:
    ...


@task
def write_table(rows: list) -> int:
    ...


@flow(name="load_orders", version="1.0.0")
def load_orders(path: str = "s3://raw/orders/"):
    return write_table(read_bucket(path))
"""

TRAIN = """
from dagy import flow, task


@task
def features() -> list:
    ...


@task
def fit(rows: list) -> dict:
    ...


@flow(name="train_model")
def train_model():
    return fit(features())
"""

HELLO = """
from dagy import flow, task


@task
def say() -> str:
    return "hi"


@flow(name="hello", version="0.1")
def hello():
    return say()
"""


def make_registry(repo: Path) -> Path:
    """Write the example flows and manifests, commit, and `deploy --all` with the CLI."""
    write(repo, "dagy.toml", 'registry_branch = "dagy/registry"\n')
    write(repo, "data/dagy.toml", '[tags]\nteam = "data-eng"\n')
    write(
        repo,
        "data/orders/dagy.toml",
        """
        [tags]
        env = "prod"

        [[deployments]]
        name = "order-etl-prod"
        flow = "order_etl.py:order_etl"
        schedule = "0 6 * * *"
        tags = { criticality = "high" }
        """,
    )
    write(
        repo,
        "data/ingestion/dagy.toml",
        """
        [tags]
        env = "staging"

        [[deployments]]
        name = "load-orders-staging"
        flow = "load_orders.py"
        """,
    )
    write(repo, "ml/dagy.toml", '[tags]\nteam = "ml-ops"\nenv = "prod"\n')
    write(repo, "data/orders/order_etl.py", ORDER_ETL)
    write(repo, "data/ingestion/load_orders.py", LOAD_ORDERS)
    write(repo, "ml/train.py", TRAIN)
    write(repo, "hello.py", HELLO)
    commit_all(repo, "flows")
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


TOKEN = "t0ken-for-tests"
AUTH = {"Authorization": f"Bearer {TOKEN}"}


def new_repo(path: Path) -> Path:
    """An empty repository with one commit (what the `repo` fixture makes), at `path`."""
    path.mkdir(parents=True)
    git(path, "init", "-q")
    write(path, "README.md", "demo\n")
    commit_all(path, "initial")
    return path


def client(repo: Path, **options: Any) -> TestClient:
    """A test client of `create_app` over `repo`, with the write token unless told."""
    options.setdefault("token", TOKEN)
    return TestClient(create_app(repo, **options))


def tip(repo: Path) -> str:
    """The registry branch's commit (read with plain git)."""
    return git(repo, "rev-parse", "refs/heads/dagy/registry")


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextlib.contextmanager
def live_server(
    repo: Path, *args: str, token: str | None = TOKEN, log: list[str] | None = None
) -> Iterator[str]:
    """`dagy-git serve` as a real process on a free loopback port; yields its base URL.
    Its log lines (stdout and stderr) go to `log` when given, complete once the block ends.

    Ready when uvicorn says it is running (read from its log, not guessed by a sleep);
    stopped by its own pid at the end.
    """
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k != "DAGY_GIT_TOKEN"}
    if token is not None:
        env["DAGY_GIT_TOKEN"] = token
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "serve", "--port", str(port), *args],
        cwd=repo,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,  # uvicorn's access log goes to stdout, the rest to stderr
        text=True,
    )
    drain: threading.Thread | None = None
    try:
        assert proc.stdout is not None
        seen = []
        for line in proc.stdout:
            seen.append(line)
            if "Uvicorn running on" in line:
                break
        else:
            raise AssertionError("dagy-git serve did not start:\n" + "".join(seen))
        # Keep draining its log so a chatty server never blocks on a full pipe.
        lines = log if log is not None else []
        lines.extend(seen)
        drain = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        drain.start()
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        if drain is not None:
            drain.join(timeout=30)
        if proc.stdout is not None:
            proc.stdout.close()
