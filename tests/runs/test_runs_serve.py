"""`dagy-git serve --worker`: the server fires schedules too, and /runs shows the runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from conftest import ORDER_ETL, commit_all, write
from runs_harness import deploy


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.mark.slow
def test_serve_with_worker_fires_a_schedule_and_serves_its_run(repo: Path) -> None:
    write(repo, "etl/order_etl.py", ORDER_ETL)
    commit_all(repo)
    deploy(repo, "etl/order_etl.py", "--deployment", "every-minute", "--schedule", "* * * * *")
    port = free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagy_git", "serve", "--port", str(port), "--worker"],
        cwd=repo,
        env={**os.environ, "DAGY_GIT_TOKEN": "s3cret"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stderr is not None
        seen: list[str] = []
        for line in proc.stderr:  # ordered by the server's own log, not by sleeping
            seen.append(line)
            if "(every-minute): COMPLETED" in line:
                break
        else:
            raise AssertionError("no scheduled run completed:\n" + "".join(seen))
        run_id = line.split()[2]  # "worker: run <id> (every-minute): COMPLETED"
        # the log says it once the server listens too; the run ended, so it is up by now
        answer = httpx.get(
            f"http://127.0.0.1:{port}/runs", params={"deployment": "every-minute"}, timeout=30
        )
        assert answer.status_code == 200, answer.text
        (run,) = [r for r in answer.json()["items"] if r["run_id"] == run_id]
        assert (run["flow_version"], run["state"]) == ("2.1.0", "COMPLETED")
        assert run["scheduled_for"] is not None
    finally:
        proc.terminate()
        proc.wait(timeout=60)
        if proc.stderr is not None:
            proc.stderr.close()
    # a clean exit on SIGTERM (143 = 128 + SIGTERM, as a shell reports it), not a kill
    assert proc.returncode in (0, 143)
