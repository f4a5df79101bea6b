"""dbt orchestration: deps -> seed/snapshot (a subflow) -> build -> docs.

`dbt-build` is also called as a subflow by the nightly platform run and the Airbyte sync.
"""

from __future__ import annotations

import json
import shlex
import subprocess

from common.notifications import notify_failure
from dagy import flow, get_run_logger, task

PROJECT_DIR = "/opt/dbt/acme_analytics"


@task(retries=2, retry_delay_seconds=60, tags=["dbt"])
def dbt_command(cmd: str, project_dir: str) -> str:
    """Run one dbt CLI command; fail the task on a non-zero exit."""
    logger = get_run_logger()
    logger.info("$ %s", cmd)
    proc = subprocess.run(
        shlex.split(cmd) + ["--project-dir", project_dir, "--profiles-dir", project_dir],
        capture_output=True,
        text=True,
        check=False,
    )
    logger.info(proc.stdout[-5000:])
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd} failed with exit code {proc.returncode}:\n{proc.stderr}")
    return proc.stdout


@task
def parse_run_results(path: str) -> dict:
    with open(path) as fh:
        results = json.load(fh)["results"]
    statuses: dict[str, int] = {}
    for r in results:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    return statuses


@flow(name="dbt-seed-and-snapshot")
def dbt_seed_and_snapshot(project_dir: str = PROJECT_DIR) -> str:
    seeded = dbt_command("dbt seed", project_dir)
    return dbt_command("dbt snapshot", project_dir, wait_for=[seeded])


@flow(name="dbt-build", on_failure=[notify_failure])
def dbt_build(select: str = "tag:nightly", project_dir: str = PROJECT_DIR,
              full_refresh: bool = False) -> dict:
    logger = get_run_logger()
    deps = dbt_command("dbt deps", project_dir)
    prep = dbt_seed_and_snapshot(project_dir, wait_for=[deps])

    cmd = f"dbt build --select {select}" + (" --full-refresh" if full_refresh else "")
    build_out = dbt_command(cmd, project_dir, wait_for=[prep])
    results = parse_run_results(f"{project_dir}/target/run_results.json", wait_for=[build_out])
    logger.info("dbt results: %s", results)

    # Docs are nice to have: a failure here must not fail the nightly build.
    try:
        dbt_command("dbt docs generate", project_dir, wait_for=[results])
    except RuntimeError as exc:
        logger.warning("docs generation failed: %s", exc)
    return results
