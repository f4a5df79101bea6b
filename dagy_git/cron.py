"""Cron schedules and their time zones: checked with croniter, described in words.

croniter is what the Prefect ecosystem schedules with, so a schedule dagy-git accepts is
one the scheduler runs: five fields with names, ranges, steps and lists, plus `L` (last
day), `W` (nearest weekday), `#` (the n-th weekday of the month), `?`, and the `@` macros.
croniter accepts dates that never come (`0 0 30 2 *`); those are refused here, by asking
for the next run. Only the text is checked, so a typo in a manifest is caught by
`validate` and the pre-commit hook instead of by the scheduler after deploy.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone
from functools import lru_cache

from dagy_git.errors import ConfigError

__all__ = ["MACROS", "describe_schedule", "validate_schedule", "validate_timezone"]

# The macros croniter and cron agree on, and the five fields each stands for.
MACROS = {
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
    "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
_FIELDS = "minute hour day-of-month month day-of-week"
_HINT = f'five fields "{_FIELDS}", e.g. "0 6 * * *" or "0 9 * * mon#1"'
# From here, every date a five-field cron can name comes within croniter's search (28
# years covers every weekday-of-date cycle, leap years included).
_START = datetime(2000, 1, 1, tzinfo=timezone.utc)
_REVERSED = re.compile(r"(?<![0-9])([0-9]+)-([0-9]+)(?![0-9])")


def validate_schedule(schedule: str) -> str:
    """Check a cron schedule (five fields or an `@` macro) and return it, stripped."""
    if not isinstance(schedule, str):
        raise ConfigError(f"schedule must be a string, got {type(schedule).__name__}")
    return _validated(schedule)


@lru_cache(maxsize=1024)  # 200 deployments of a monorepo share a handful of schedules
def _validated(schedule: str) -> str:
    text = schedule.strip()
    if text.startswith("@"):
        if text.lower() in MACROS:
            return text
        raise ConfigError(f"unknown schedule {text!r}", hint=f"macros: {' '.join(MACROS)}")
    fields = text.split()
    if len(fields) != 5:
        raise ConfigError(f"schedule {schedule!r} has {len(fields)} fields, not 5", hint=_HINT)
    for name, value in zip(_FIELDS.split(), fields, strict=True):
        if any(int(a) > int(b) for a, b in _REVERSED.findall(value)):
            # croniter reads `10-5` as wrapping around; in a manifest it is far more
            # likely a typo, and cron itself refuses it.
            raise ConfigError(
                f"schedule {schedule!r}: bad {name.replace('-', ' ')} {value!r} "
                "(a range runs from low to high)",
                hint=_HINT,
            )
    from croniter import CroniterBadDateError, CroniterError, croniter

    try:
        runs = croniter(text, _START)
    except (CroniterError, ValueError, KeyError, IndexError) as exc:
        raise ConfigError(f"schedule {schedule!r}: {_reason(exc, fields)}", hint=_HINT) from None
    try:
        runs.get_next(datetime)
    except CroniterBadDateError:
        raise ConfigError(
            f"schedule {schedule!r} never runs: no month has that day",
            hint="check the day of month against the months (February has 28 or 29 days)",
        ) from None
    return text


def _reason(exc: Exception, fields: list[str]) -> str:
    """croniter's complaint, naming the field when it can be found."""
    names = _FIELDS.split()
    for name, value in zip(names, fields, strict=True):
        if not _field_ok(value, names.index(name)):
            return f"bad {name.replace('-', ' ')} {value!r}"
    return str(exc).strip("[]") or type(exc).__name__


def _field_ok(value: str, index: int) -> bool:
    """Whether one field is valid on its own (the others replaced by `*`)."""
    from croniter import croniter

    probe = ["0", "0", "*", "*", "*"]
    probe[index] = value
    return bool(croniter.is_valid(" ".join(probe)))


def validate_timezone(name: str) -> str:
    """Check an IANA time zone name (`Europe/Paris`, `UTC`) and return it."""
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise ConfigError(f"timezone {name!r} is not an IANA time zone name")
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(
            f"unknown timezone {name!r}",
            hint='an IANA name such as "UTC", "Europe/Paris" or "America/New_York"',
        ) from None
    return name


def describe_schedule(schedule: str | None, tz: str | None = None) -> str:
    """A schedule in words (`At 06:00, Monday through Friday (Europe/Paris)`), or the
    schedule itself when it cannot be described."""
    if not schedule:
        return "-"
    text = MACROS.get(schedule.strip().lower(), schedule.strip())
    try:
        from cron_descriptor import Options, get_description

        options = Options()
        options.use_24hour_time_format = True
        options.verbose = False
        words = str(get_description(text, options))
    except Exception:  # a describer's gap must never hide the schedule itself
        words = schedule
    return f"{words} ({tz or 'UTC'})"
