"""Warehouse maintenance: vacuum the fullest volumes, dump, rotate old backups.

Shell commands run through one generic task; per-call settings use `with_options`.
"""

from __future__ import annotations

import shutil
import subprocess

from common.notifications import log_completion
from dagy import flow, get_run_logger, task
from dagy.task_runners import ConcurrentTaskRunner

DATA_PATHS = ["/pgdata/warehouse", "/pgdata/staging", "/pgdata/archive"]


@task
def run_shell(command: str, cwd: str | None = None) -> str:
    proc = subprocess.run(command, shell=True, cwd=cwd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"`{command}` exited {proc.returncode}: {proc.stderr.strip()}")
    return proc.stdout


@task
def disk_usage(path: str) -> float:
    usage = shutil.disk_usage(path)
    return usage.used / usage.total


@task(retries=2)
def alert(message: str) -> None:
    subprocess.run(["/usr/local/bin/notify-ops", "--channel", "#dba", message], check=True)


@flow(
    name="Warehouse Maintenance",
    task_runner=ConcurrentTaskRunner(),
    on_completion=[log_completion],
)
def warehouse_maintenance(paths: list[str] = DATA_PATHS, vacuum_threshold: float = 0.8) -> None:
    logger = get_run_logger()
    usage = {p: disk_usage(p) for p in paths}
    full = [p for p, used in usage.items() if used > vacuum_threshold]
    logger.info("volumes above %.0f%%: %s", vacuum_threshold * 100, full)

    vacuumed = []
    for p in full:
        vacuumed.append(run_shell.with_options(retries=5)(f"vacuumdb --all --analyze -h {p}"))

    backup = run_shell.with_options(name="pg_dump", timeout_seconds=3600)(
        "pg_dump -Fc warehouse -f /backups/warehouse.dump"
    )
    run_shell("find /backups -name '*.dump' -mtime +14 -delete", wait_for=[backup])

    if full:
        alert(f"Vacuumed {len(vacuumed)} volume(s): {', '.join(full)}")
