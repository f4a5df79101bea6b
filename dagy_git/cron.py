"""Cron schedules: the five-field syntax (names, ranges, steps, lists) and `@` macros.

Only checks the text, so a typo in a manifest is caught by `validate` and the pre-commit
hook instead of by the scheduler after deploy.
"""

from __future__ import annotations

from dagy_git.errors import ConfigError

__all__ = ["validate_schedule"]

MACROS = ("@hourly", "@daily", "@weekly", "@monthly", "@yearly", "@annually", "@midnight")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_DAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
# name, lowest, highest, names (names[i] means i + offset), offset; 7 is Sunday too
_FIELDS = (
    ("minute", 0, 59, (), 0),
    ("hour", 0, 23, (), 0),
    ("day of month", 1, 31, (), 0),
    ("month", 1, 12, _MONTHS, 1),
    ("day of week", 0, 7, _DAYS, 0),
)


def validate_schedule(schedule: str) -> str:
    """Check a cron schedule (5 fields: numbers, names, a-b, */n, lists, or a macro)."""
    if not isinstance(schedule, str):
        raise ConfigError(f"schedule must be a string, got {type(schedule).__name__}")
    text = schedule.strip()
    if text.startswith("@"):
        if text.lower() in MACROS:
            return text
        raise ConfigError(f"unknown schedule {text!r}", hint=f"macros: {' '.join(MACROS)}")
    fields = text.split()
    if len(fields) != 5:
        hint = 'five fields "minute hour day-of-month month day-of-week", e.g. "0 6 * * *"'
        raise ConfigError(f"schedule {schedule!r} has {len(fields)} fields, not 5", hint=hint)
    for value, (what, low, high, words, offset) in zip(fields, _FIELDS, strict=True):
        for item in value.split(","):
            if not _item_ok(item, low, high, words, offset):
                hint = f"{what} takes *, {low}-{high}, ranges a-b, steps */n and lists a,b"
                raise ConfigError(f"schedule {schedule!r}: bad {what} {item or value!r}", hint=hint)
    return text


def _item_ok(item: str, low: int, high: int, words: tuple[str, ...], offset: int) -> bool:
    base, slash, step = item.partition("/")
    if slash and not (step.isascii() and step.isdigit() and 1 <= int(step) <= high - low + 1):
        return False
    if base == "*":
        return True
    start, dash, end = base.partition("-")
    first = _value(start, low, high, words, offset)
    if not dash:
        return first is not None
    last = _value(end, low, high, words, offset)
    return first is not None and last is not None and first <= last


def _value(text: str, low: int, high: int, words: tuple[str, ...], offset: int) -> int | None:
    if text.lower() in words:
        return words.index(text.lower()) + offset
    if text.isascii() and text.isdigit() and low <= int(text) <= high:
        return int(text)
    return None
