"""Sessions export using module-qualified calls: `common.tasks.x(...)` and `u.helper(...)`.

`u.table_path` is a plain helper (no task); `u.publish` calls `write-table` once per
target, so it adds one more `write-table` node to this flow.
"""

from __future__ import annotations

import common.tasks
from common import utils as u
from dagy import flow, get_run_logger

LAKE = "s3://acme-lake/exports"


@flow(name="Module Style Helpers", log_prints=True)
def module_style(date: str, targets: tuple[str, ...] = ("mart.sessions",)) -> list[str]:
    logger = get_run_logger()
    df = common.tasks.read_table("raw.sessions")
    if df.empty:
        logger.warning("no sessions for %s", date)

    # A plain helper: builds a string, calls no task.
    path = u.table_path(LAKE, "sessions", date)
    logger.info("exporting sessions to %s", path)

    written = common.tasks.write_table(df, path)
    published = u.publish(df, list(targets))

    common.tasks.send_slack(f"sessions {date}: {written} + {published}")
    return [written, *published]
