"""Mirror tables with the shared `copy_table` helper, once per table.

Each call of a helper adds its own task nodes: two calls of `copy_table` give
`read_table`, `write-table`, `read_table#2`, `write-table#2`.
"""

from __future__ import annotations

from common.tasks import archive_file, send_slack
from common.utils import copy_table
from dagy import flow, get_run_logger, task


@task
def check_counts(orders_table: str, returns_table: str) -> None:
    logger = get_run_logger()
    logger.info("mirrored %s and %s", orders_table, returns_table)


def mirror_with_archive(src: str, dst: str, date: str) -> dict:
    """Mirror one partition and archive its raw export file (helper calling a helper)."""
    mirrored = copy_table(src, dst, date)
    archived = archive_file(f"/exports/{src}/{date}.csv")
    return {"table": mirrored, "archive": archived}


@flow(name="Mirror Two Tables", flow_run_name="mirror-{date}")
def mirror_tables(date: str) -> None:
    orders_table = copy_table("raw.orders", "mirror.orders", date)
    returns_table = copy_table("raw.returns", "mirror.returns", date)
    check_counts(orders_table, returns_table)


@flow(name="Mirror And Archive")
def mirror_and_archive(date: str, src: str = "raw.events", dst: str = "mirror.events") -> dict:
    result = mirror_with_archive(src, dst, date)
    send_slack(f"mirrored {src} for {date}: {result}")
    return result
