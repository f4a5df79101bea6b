"""Replicate many tables concurrently with shared tasks: `.submit()` then `.map()`.

The extracts are submitted one per table; the column standardisation and the loads are
mapped over the resulting futures, so each table flows through as soon as it is ready.
"""

from __future__ import annotations

from dagy import flow, get_run_logger, unmapped
from dagy.task_runners import ConcurrentTaskRunner
from shared_pkg.tasks import extract_table, load_table
from shared_pkg.transforms import standardize_columns

TABLES = [
    "billing.invoices",
    "billing.invoice_lines",
    "billing.credit_notes",
    "billing.payments",
]
# Source systems use PascalCase; the replica uses snake_case.
COLUMN_MAP = {"CreatedAt": "created_at", "UpdatedAt": "updated_at", "Id": "id"}


@flow(name="Shared Parallel Replication", task_runner=ConcurrentTaskRunner())
def shared_parallel_replication(tables: list[str] = TABLES) -> list[str]:
    logger = get_run_logger()
    futures = [extract_table.submit(t) for t in tables]
    standardized = standardize_columns.map(futures, unmapped(COLUMN_MAP))

    targets = [f"replica.{t.replace('.', '_')}" for t in tables]
    loads = load_table.map(standardized, targets)
    loads.wait()

    failed = [t for t, fut in zip(targets, loads) if fut.state.is_failed()]
    if failed:
        logger.error("replication failed for %s", failed)
        raise RuntimeError(f"{len(failed)} table(s) failed to replicate")
    logger.info("replicated %d tables", len(tables))
    return targets
