"""State-change hooks for flows (`on_failure=[...]`, `on_completion=[...]`).

Hooks are plain functions called by the SDK with (flow, flow_run, state); they are not
tasks and never appear in a flow's DAG.
"""

from __future__ import annotations

import json
import logging
import os
from datetime import datetime, timezone

import requests

LOG = logging.getLogger(__name__)
PAGERDUTY_URL = "https://events.pagerduty.com/v2/enqueue"


def page_oncall(flow, flow_run, state) -> None:
    """Open a PagerDuty incident for a failed flow run."""
    routing_key = os.environ.get("PAGERDUTY_ROUTING_KEY")
    if not routing_key:
        LOG.error("flow %s failed (%s) but no PagerDuty key is set", flow.name, state.message)
        return
    body = {
        "routing_key": routing_key,
        "event_action": "trigger",
        "payload": {
            "summary": f"{flow.name} run {flow_run.name} failed: {state.message}",
            "source": "dagy",
            "severity": "error",
        },
    }
    requests.post(PAGERDUTY_URL, data=json.dumps(body), timeout=10)


def notify_failure(flow, flow_run, state) -> None:
    """Log a failure loudly; cheap enough for every flow."""
    LOG.error("flow %s / run %s failed: %s", flow.name, flow_run.name, state.message)


def record_run(flow, flow_run, state) -> None:
    """Append one line per finished run to a local audit file."""
    line = {
        "flow": flow.name,
        "run": flow_run.name,
        "state": state.name,
        "at": datetime.now(timezone.utc).isoformat(),
    }
    with open(os.environ.get("RUN_AUDIT_FILE", "/tmp/dagy-runs.jsonl"), "a") as fh:
        fh.write(json.dumps(line) + "\n")


def log_completion(flow, flow_run, state) -> None:
    LOG.info("flow %s finished in state %s", flow.name, state.name)
