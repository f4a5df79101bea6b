"""Run data-quality checks chosen by name at run time.

`getattr(checks, f"check_{kind}")` picks the task to call, which a static reader cannot
know: those calls are missing from the spec, which is therefore approximate.
"""

from __future__ import annotations

import pandas as pd

from common import checks
from common.tasks import read_table, send_slack
from dagy import flow, get_run_logger, task


@task
def summarize_checks(df: pd.DataFrame, results: dict[str, dict]) -> str:
    failed = [kind for kind, r in results.items() if not r["passed"]]
    status = "FAILED " + ", ".join(failed) if failed else "all passed"
    return f"{len(df)} rows, {len(results)} checks: {status}"


@flow(name="Dynamic Checks")
def dynamic_checks(table: str = "analytics.orders",
                   kinds: tuple[str, ...] = ("nulls", "duplicates", "freshness")) -> str:
    logger = get_run_logger()
    df = read_table(table)

    results = {}
    for kind in kinds:
        try:
            results[kind] = getattr(checks, f"check_{kind}")(df)
        except AttributeError:
            logger.warning("no check named %r, skipping", kind)

    report = summarize_checks(df, results)
    send_slack(f"{table}: {report}")
    return report
