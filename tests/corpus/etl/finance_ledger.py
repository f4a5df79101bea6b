"""Month-end ledger close: reconcile general-ledger entries in every currency.

Uses `import dagy` rather than importing the decorators by name.
"""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pandas as pd

import dagy

ERP_DSN = "oracle+cx_oracle://erp-gl/finance"
DEFAULT_RECIPIENTS = ["controller@acme.example", "fin-ops@acme.example"]


@dagy.task(name="Extract GL entries", retries=3, retry_delay_seconds=[10, 30, 60])
def extract_gl(period: str) -> pd.DataFrame:
    sql = "SELECT * FROM gl_entries WHERE period = :period"
    return pd.read_sql(sql, ERP_DSN, params={"period": period})


@dagy.task(name="Extract FX", retries=2)
def extract_fx(period: str) -> pd.DataFrame:
    return pd.read_sql("SELECT * FROM fx_month_end WHERE period = :p", ERP_DSN,
                       params={"p": period})


@dagy.task
def reconcile(entries: pd.DataFrame, fx: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Convert to the reporting currency; rows that do not net to zero are exceptions."""
    df = entries.merge(fx, on="currency", how="left")
    df["amount_eur"] = df["amount"] * df["rate_to_eur"]
    totals = df.groupby("journal_id")["amount_eur"].sum().round(2)
    bad = totals[totals != 0].index
    return df[~df["journal_id"].isin(bad)], df[df["journal_id"].isin(bad)]


@dagy.task(retries=1, timeout_seconds=1800)
def post_ledger(df: pd.DataFrame) -> int:
    df.to_sql("ledger_posted", "postgresql://warehouse/finance", if_exists="append",
              index=False)
    return len(df)


@dagy.task
def email_exceptions(exceptions: pd.DataFrame, recipients: list[str]) -> None:
    msg = EmailMessage()
    msg["Subject"] = f"{len(exceptions)} unbalanced journal lines"
    msg["To"] = ", ".join(recipients)
    msg.set_content(exceptions.to_string(max_rows=50))
    with smtplib.SMTP("smtp.internal", 25) as smtp:
        smtp.send_message(msg)


@dagy.flow(name="Month-End Ledger Close", version="3.2.0", retries=1,
           description="Reconcile and post the general ledger for one period")
def month_end_close(period: str, recipients: list[str] | None = None) -> int:
    logger = dagy.get_run_logger()
    entries = extract_gl(period)
    fx = extract_fx(period)

    balanced, exceptions = reconcile(entries, fx)
    posted = post_ledger(balanced)

    if len(exceptions) > 0:
        logger.warning("%d unbalanced lines in %s", len(exceptions), period)
        email_exceptions(exceptions, recipients or DEFAULT_RECIPIENTS)

    logger.info("posted %d lines for %s", posted, period)
    return posted
