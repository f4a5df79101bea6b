"""Send an email campaign: build the audience, render per recipient, send, record."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

import jinja2
import pandas as pd

from dagy import flow, get_run_logger, task, unmapped

CRM = "postgresql://crm-replica/crm"
TEMPLATES = jinja2.Environment(loader=jinja2.FileSystemLoader("templates/email"))


@task
def load_campaign(campaign_id: str) -> dict:
    row = pd.read_sql("SELECT * FROM campaigns WHERE id = %(id)s", CRM,
                      params={"id": campaign_id}).iloc[0]
    return row.to_dict()


@task
def build_audience(segment: str) -> list[dict]:
    return pd.read_sql("SELECT email, first_name FROM segment_members WHERE segment = %(s)s",
                       CRM, params={"s": segment}).to_dict("records")


@task
def load_suppression_list() -> set[str]:
    return set(pd.read_sql("SELECT email FROM unsubscribes", CRM)["email"].str.lower())


@task
def render_email(recipient: dict, template: str) -> dict:
    body = TEMPLATES.get_template(template).render(**recipient)
    return {"to": recipient["email"], "body": body}


@task
def start_audit(campaign_id: str) -> str:
    return f"audit-{campaign_id}"


@task(tags=["smtp"])
def send_email(message: dict) -> str:
    msg = EmailMessage()
    msg["To"] = message["to"]
    msg["From"] = "news@acme.example"
    msg.set_content(message["body"], subtype="html")
    with smtplib.SMTP("smtp.internal") as smtp:
        smtp.send_message(msg)
    return message["to"]


@task
def record_sends(campaign_id: str, sent: list[str]) -> int:
    pd.DataFrame({"campaign_id": campaign_id, "email": sent}).to_sql(
        "campaign_sends", "postgresql://warehouse/marketing", if_exists="append", index=False)
    return len(sent)


@flow(name="Email Campaign Send")
def email_campaign(campaign_id: str, dry_run: bool = False) -> int:
    logger = get_run_logger()
    campaign = load_campaign(campaign_id)
    audience = build_audience(campaign["segment"])
    suppressed = load_suppression_list()

    recipients = [r for r in audience if r["email"].lower() not in suppressed]
    logger.info("%d recipients after suppression (%d removed)", len(recipients),
                len(audience) - len(recipients))

    rendered = render_email.map(recipients, unmapped(campaign["template"]))
    if dry_run:
        return len(rendered)

    audit = start_audit(campaign_id)
    sent = send_email.with_options(retries=5, retry_delay_seconds=2).map(rendered,
                                                                         wait_for=[audit])
    return record_sends(campaign_id, sent)
