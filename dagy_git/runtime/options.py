"""The decorator options the runtime needs, checked when a function is decorated.

Only what running a flow depends on is checked here (names, retries, delays, timeouts); every
other keyword (`log_prints`, `cache_key_fn`, `persist_result`, `task_run_name`, hooks, …) is
kept as given, as real flows use them. Names follow DESIGN.md's rule (any printable
characters, 1 to 128, no `@`), the same the static analyser applies.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Callable
from typing import Any

from dagy_git.errors import InvalidNameError, SpecError
from dagy_git.names import MAX_NAME, validate_version

__all__ = ["check_options", "delay_for"]

Delays = float | tuple[float, ...]


def check_options(kind: str, options: dict[str, Any]) -> dict[str, Any]:
    """The options with the typed ones checked and normalised; others unchanged.

    Raises `SpecError` / `InvalidNameError` without a location; the caller adds it.
    """
    checked = dict(options)
    for key, value in options.items():
        if key == "name":
            checked[key] = check_name(value, f"{kind} name")
        elif key == "version":
            checked[key] = validate_version(value)
        elif key == "description":
            if value is not None and not isinstance(value, str):
                raise SpecError(f"description must be a string, got {type(value).__name__}")
        elif key == "retries":
            checked[key] = _retries(value)
        elif key == "retry_delay_seconds":
            checked[key] = _delays(value, checked.get("retries", 0))
        elif key == "timeout_seconds" and value is not None:
            checked[key] = _seconds(key, value)
    return checked


def check_name(name: object, what: str) -> str:
    """A flow or task name: printable, 1 to 128 characters, no `@`, not only whitespace."""
    if not isinstance(name, str):
        raise InvalidNameError(f"{what} must be a string, got {type(name).__name__}")
    if not name.strip():
        raise InvalidNameError(f"{what} must not be empty or only whitespace")
    if len(name) > MAX_NAME:
        raise InvalidNameError(f"{what} {name[:40]!r}… is longer than {MAX_NAME} characters")
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in name):
        raise InvalidNameError(f"invalid {what} {name!r}: it contains a control character")
    if "@" in name:
        raise InvalidNameError(
            f"invalid {what} {name!r}: it cannot contain '@'",
            hint="'@' separates a flow from its version on the command line (FLOW@VERSION)",
        )
    return name


def delay_for(delays: Delays, retry: int) -> float:
    """The seconds to wait before retry number `retry` (1-based); a list's last repeats."""
    if isinstance(delays, tuple):
        return delays[min(retry, len(delays)) - 1] if delays else 0.0
    return delays


def _retries(value: object) -> int:
    # bool is an int subclass, but `retries=True` is a mistake, not 1.
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise SpecError(f"retries must be a whole number >= 0, got {value!r}")
    return value


def _seconds(key: str, value: object) -> float:
    if type(value).__name__ == "timedelta":  # datetime.timedelta, without importing datetime
        value = value.total_seconds()  # type: ignore[attr-defined]
    if (
        not isinstance(value, (int, float))
        or isinstance(value, bool)
        or not math.isfinite(value)
        or value < 0
    ):
        raise SpecError(f"{key} must be a number of seconds >= 0, got {value!r}")
    return float(value)


def _delays(value: object, retries: object) -> Delays:
    """A number, a list of numbers (one per retry), or a function of the retry count
    returning either (an exponential backoff helper)."""
    if callable(value) and not isinstance(value, (int, float)):
        make: Callable[[Any], object] = value
        value = make(retries)
    if isinstance(value, (list, tuple)):
        return tuple(_seconds("retry_delay_seconds", v) for v in value)
    return _seconds("retry_delay_seconds", value)
