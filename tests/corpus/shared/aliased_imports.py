"""Merge a source extract into the current dimension with shared tasks imported under
aliases, including a task from a sub-package (`shared_pkg.tasks.warehouse`)."""

from __future__ import annotations

from dagy import flow, get_run_logger
from shared_pkg import io as shio
from shared_pkg.tasks import extract_table as et
from shared_pkg.tasks.warehouse import merge_rows

DW_ROOT = "s3://acme-dw"
MERGE_KEYS = {
    "dw.accounts": ["account_id"],
    "dw.contacts": ["contact_id"],
}


@flow(name="Shared Aliased Imports", description="Upsert accounts into the DW dimension")
def aliased_imports(src_table: str = "raw.accounts", target: str = "dw.accounts") -> str:
    logger = get_run_logger()
    if target not in MERGE_KEYS:
        raise ValueError(f"no merge keys configured for {target}")

    raw = et(src_table)
    current = shio.load(f"{DW_ROOT}/{target}.parquet")

    # Merging is flaky on large dimensions (S3 eventual listing); give it more retries.
    merged = merge_rows.with_options(retries=3)(current, raw, keys=MERGE_KEYS[target])
    out = f"{DW_ROOT}/{target}.parquet"
    shio.save(merged, out)
    logger.info("merged %s into %s", src_table, out)
    return out
