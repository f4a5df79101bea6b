"""Weekly report distribution: render every report (a subflow each), then email them."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage
from pathlib import Path

import pandas as pd

from common.notifications import page_oncall, record_run
from dagy import flow, task

REPORTS = ["weekly-kpis", "pipeline-health", "cohort-retention"]
RECIPIENTS = {"leadership": ["cxo@acme.example"], "analytics": ["analytics@acme.example"]}


@task(retries=2, retry_delay_seconds=30)
def query_report_data(report_id: str) -> pd.DataFrame:
    sql = Path(f"reports/sql/{report_id}.sql").read_text()
    return pd.read_sql(sql, "postgresql://warehouse/analytics")


@task
def render(data: pd.DataFrame, fmt: str) -> str:
    out = f"/tmp/reports/{data.attrs.get('name', 'report')}.{fmt}"
    if fmt == "xlsx":
        data.to_excel(out, index=False)
    else:
        data.to_html(out.replace(".pdf", ".html"))  # html -> pdf conversion happens downstream
    return out


@task
def build_distribution_list(recipients: dict[str, list[str]]) -> list[str]:
    return sorted({addr for group in recipients.values() for addr in group})


@task(retries=3, retry_delay_seconds=[10, 30, 60])
def email_reports(paths: list[str], to: list[str]) -> None:
    msg = EmailMessage()
    msg["Subject"] = "Weekly reports"
    msg["To"] = ", ".join(to)
    for path in paths:
        msg.add_attachment(Path(path).read_bytes(), maintype="application",
                           subtype="octet-stream", filename=Path(path).name)
    with smtplib.SMTP("smtp.internal") as smtp:
        smtp.send_message(msg)


@flow(name="render-report")
def render_report(report_id: str, fmt: str = "pdf") -> str:
    data = query_report_data(report_id)
    return render(data, fmt)


@flow(name="Weekly Report Distribution", on_completion=[record_run], on_failure=[page_oncall])
def weekly_reports(report_ids: list[str] = REPORTS,
                   recipients: dict[str, list[str]] = RECIPIENTS) -> None:
    pdfs = [render_report(r) for r in report_ids]
    xlsx = render_report("finance-summary", fmt="xlsx")
    to = build_distribution_list(recipients)
    email_reports(pdfs + [xlsx], to)
