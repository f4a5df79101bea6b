"""The `@task` / `@flow` decorator options and their rules.

Shared by the static analyser and the SDK runtime, so a decorator that one accepts the other
accepts too, with the same message when it does not. The typed options (DESIGN.md) are
checked and normalised here; every other keyword is kept by the analyser as its source text
(the spec's `options` map), so it is never refused.
"""

from __future__ import annotations

import ast
import math
import operator
import unicodedata
from collections.abc import Callable

from dagy_git.errors import SpecError
from dagy_git.names import validate_name, validate_version

__all__ = ["FLOW_OPTIONS", "MISSING", "TASK_OPTIONS", "check_option", "is_typed", "literal"]

MISSING = object()  # what `literal` returns for anything it cannot evaluate

# The typed options: stored in the spec's own fields, checked here.
TASK_OPTIONS = ("name", "retries", "retry_delay_seconds", "timeout_seconds", "description")
FLOW_OPTIONS = (
    "name",
    "version",
    "description",
    "retries",
    "retry_delay_seconds",
    "timeout_seconds",
)
_MAX_DELAYS = 1000  # a retry_delay_seconds list longer than this is a mistake


def is_typed(kind: str, key: str) -> bool:
    """Whether `key` is one of `@kind`'s typed options (the rest go to `options`)."""
    return key in (TASK_OPTIONS if kind == "task" else FLOW_OPTIONS)


def check_option(kind: str, key: str, value: object) -> object:
    """Validate one `@task`/`@flow` option value and return it normalised (seconds → float).

    Options that are not typed are returned unchanged: Dagy accepts many more keywords
    (`log_prints`, `tags`, `cache_key_fn`, …) and dagy-git keeps them without judging them.
    Raises `SpecError` (or `InvalidNameError` for names and versions) without a location;
    callers add where the option was written.
    """
    if not is_typed(kind, key):
        return value
    if key == "name":
        return validate_name(value, f"{kind} name")
    if key == "version":
        return validate_version(value)
    if key == "description":
        if value is not None and not isinstance(value, str):
            raise SpecError(f"description must be a string, got {type(value).__name__}")
        if value is not None and any(unicodedata.category(ch) == "Cs" for ch in value):
            raise SpecError("description contains a lone surrogate, which UTF-8 cannot hold")
        return value
    if key == "retries":
        # bool is an int subclass, but `retries=True` is a mistake, not 1.
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            raise SpecError(f"retries must be a whole number >= 0, got {_short(value)}")
        return value
    if value is None and key == "timeout_seconds":
        return None
    if key == "retry_delay_seconds" and isinstance(value, (list, tuple)):
        if not value or len(value) > _MAX_DELAYS:
            raise SpecError(
                f"retry_delay_seconds must be a number or a list of 1 to {_MAX_DELAYS} numbers"
            )
        return [_seconds(key, item) for item in value]
    return _seconds(key, value)


def _seconds(key: str, value: object) -> float:
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        raise SpecError(f"{key} must be a number of seconds >= 0, got {_short(value)}")
    try:
        seconds = float(value)
    except OverflowError:
        raise SpecError(f"{key} is too large: {_short(value)}") from None
    # canonical JSON has no NaN or Infinity
    if not math.isfinite(seconds) or seconds < 0:
        raise SpecError(f"{key} must be a number of seconds >= 0, got {_short(value)}")
    return seconds


def _short(value: object) -> str:
    """A value for a message: never a 4,000-digit number or a megabyte of text."""
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) > 10**30:
        return f"a {len(str(abs(value))) if abs(value) < 10**4000 else 'huge'}-digit number"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_BINOPS: dict[type, Callable[[object, object], object]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def literal(node: ast.expr, names: Callable[[ast.Name], object] | None = None) -> object:
    """The value of a literal expression, else `MISSING`.

    Literals: str, bytes, numbers, bool, None, `-x`, lists and tuples of literals,
    f-strings without placeholders, and `+ - * /` over numbers (`5 * 60`). `names`, when
    given, gives the value of a plain name (a module-level constant) or `MISSING`.
    """
    if isinstance(node, ast.Constant):
        return node.value
    if isinstance(node, ast.Name) and names is not None:
        return names(node)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        value = literal(node.operand, names)
        if not _is_number(value):
            return MISSING
        return -value if isinstance(node.op, ast.USub) else value  # type: ignore[operator]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [literal(elt, names) for elt in node.elts]
        if any(item is MISSING for item in items):
            return MISSING
        return items if isinstance(node, ast.List) else tuple(items)
    if isinstance(node, ast.JoinedStr) and all(isinstance(v, ast.Constant) for v in node.values):
        return "".join(str(v.value) for v in node.values)  # type: ignore[attr-defined]
    if isinstance(node, ast.BinOp) and type(node.op) in _BINOPS:
        left, right = literal(node.left, names), literal(node.right, names)
        if not (_is_number(left) and _is_number(right)):
            return MISSING
        try:
            return _BINOPS[type(node.op)](left, right)
        except (ArithmeticError, ValueError):
            return MISSING
    return MISSING


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)
