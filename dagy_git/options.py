"""The `@task` / `@flow` decorator options and their rules.

Shared by the static analyser and the SDK runtime, so a decorator that one accepts the other
accepts too, with the same message when it does not.
"""

from __future__ import annotations

import ast
import math

from dagy_git.errors import SpecError
from dagy_git.names import validate_name, validate_version

__all__ = ["FLOW_OPTIONS", "MISSING", "TASK_OPTIONS", "check_option", "literal"]

MISSING = object()  # what `literal` returns for anything that is not a simple literal

TASK_OPTIONS = ("name", "retries", "retry_delay_seconds", "timeout_seconds", "description")
FLOW_OPTIONS = (
    "name",
    "version",
    "description",
    "retries",
    "retry_delay_seconds",
    "timeout_seconds",
)


def check_option(kind: str, key: str, value: object) -> object:
    """Validate one `@task`/`@flow` option value and return it normalised (seconds → float).

    Raises `SpecError` (or `InvalidNameError` for names and versions) without a location;
    callers add where the option was written.
    """
    allowed = TASK_OPTIONS if kind == "task" else FLOW_OPTIONS
    if key not in allowed:
        raise SpecError(
            f"unknown @{kind} option {key!r}", hint=f"@{kind} accepts {', '.join(allowed)}"
        )
    if key == "name":
        return validate_name(value, f"{kind} name")
    if key == "version":
        return validate_version(value)
    if key == "description":
        if value is not None and not isinstance(value, str):
            raise SpecError(f"description must be a string, got {type(value).__name__}")
        return value
    if key == "retries":
        # bool is an int subclass, but `retries=True` is a mistake, not 1.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SpecError(f"retries must be a whole number >= 0, got {value!r}")
        return value
    if value is None and key == "timeout_seconds":
        return None
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)  # canonical JSON has no NaN or Infinity
        or value < 0
    ):
        raise SpecError(f"{key} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def literal(node: ast.expr) -> object:
    """The value of a simple literal (str, number, bool, None, -number), else `MISSING`."""
    if isinstance(node, ast.Constant):
        return node.value
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, (ast.USub, ast.UAdd))
        and isinstance(node.operand, ast.Constant)
        and isinstance(node.operand.value, (int, float))
        and not isinstance(node.operand.value, bool)
    ):
        value = node.operand.value
        return -value if isinstance(node.op, ast.USub) else value
    return MISSING
