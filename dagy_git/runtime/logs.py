"""`get_run_logger()`: a standard `logging.Logger` that knows which run is logging.

Records logged through it carry `flow_name`, `flow_run_name`, `task_name` and
`task_run_name` (empty when not applicable) and a `dagy_run` label ("Task run 'load-3'"),
so handlers and formatters can show where a line came from. When the program has not set
up logging at all, a stderr handler is added so that `logger.info(...)` in a flow is seen,
as the SDK's users expect; a program that configures logging keeps full control.
"""

from __future__ import annotations

import logging
import threading

from dagy_git.runtime.context import FlowRun, TaskRun, current

__all__ = ["get_run_logger"]

FLOW_LOGGER = "dagy.flow_runs"
TASK_LOGGER = "dagy.task_runs"
_FORMAT = "%(asctime)s | %(levelname)-7s | %(dagy_run)s - %(message)s"


class _RunFilter(logging.Filter):
    """Stamps each record with the run it was logged from (read when the record is made)."""

    def filter(self, record: logging.LogRecord) -> bool:
        run = current()
        flow_run = run.flow_run if isinstance(run, TaskRun) else run
        record.flow_name = flow_run.flow_name if flow_run else ""
        record.flow_run_name = flow_run.name if flow_run else ""
        record.task_name = run.task_name if isinstance(run, TaskRun) else ""
        record.task_run_name = run.name if isinstance(run, TaskRun) else ""
        if isinstance(run, TaskRun):
            record.dagy_run = f"Task run {run.name!r}"
        elif isinstance(run, FlowRun):
            record.dagy_run = f"Flow run {run.name!r}"
        else:
            record.dagy_run = "dagy"
        return True


_set_up = threading.Event()
_setup_lock = threading.Lock()


def _setup() -> None:
    if _set_up.is_set():
        return
    with _setup_lock:
        if _set_up.is_set():
            return
        _set_up.set()
        _configure()


def _configure() -> None:
    base = logging.getLogger("dagy")
    if base.level == logging.NOTSET:
        base.setLevel(logging.INFO)  # flows log progress at INFO; show it by default
    for name in ("dagy", FLOW_LOGGER, TASK_LOGGER):
        logging.getLogger(name).addFilter(_RunFilter())
    if not logging.getLogger().handlers and not base.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter(_FORMAT, "%H:%M:%S"))
        handler.addFilter(_RunFilter())  # records of other `dagy.*` loggers need the labels too
        base.addHandler(handler)


def get_run_logger() -> logging.Logger:
    """The logger for the current flow or task run (`dagy` outside any run)."""
    _setup()
    run = current()
    if isinstance(run, TaskRun):
        return logging.getLogger(TASK_LOGGER)
    if isinstance(run, FlowRun):
        return logging.getLogger(FLOW_LOGGER)
    return logging.getLogger("dagy")
