"""Reference-data replication and a validated publish, built on `common.utils` helpers.

The helpers live in the repository and call tasks from `common.tasks`, so their task calls
are part of these flows' DAGs.
"""

from __future__ import annotations

from common.tasks import send_slack
from common.utils import copy_table, load_and_validate, publish
from dagy import flow, get_run_logger

REF_TABLES = {
    "ref.countries": "mart.dim_country",
    "ref.currencies": "mart.dim_currency",
    "ref.calendar": "mart.dim_date",
}
ORDERS_SCHEMA = {
    "order_id": "int64",
    "customer_id": "int64",
    "total": "float64",
    "currency": "object",
}


@flow(name="Replicate Reference Data")
def replicate_reference_data(tables: dict[str, str] = REF_TABLES) -> list[str]:
    logger = get_run_logger()
    done = []
    for src, dst in tables.items():
        logger.info("replicating %s -> %s", src, dst)
        done.append(copy_table(src, dst))

    send_slack(f"Reference data replicated: {len(tables)} tables", wait_for=done)
    return done


@flow(name="Validated Publish", retries=1)
def validated_publish(source: str = "staging.orders",
                      targets: tuple[str, ...] = ("analytics.orders", "mart.orders")) -> list[str]:
    try:
        df = load_and_validate(source, ORDERS_SCHEMA)
    except ValueError:
        get_run_logger().error("not publishing %s: schema drift", source)
        raise
    return publish(df, list(targets))
