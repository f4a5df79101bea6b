"""Parsing shared by the subcommands: `KEY=VALUE` tag and parameter lists."""

from __future__ import annotations

import json
from typing import Any

from dagy_git.errors import DagyError
from dagy_git.names import parse_key_value, validate_parameters, validate_tags


def parse_tags(items: list[str]) -> dict[str, str]:
    """`KEY=VALUE` items as a validated tag mapping."""
    return validate_tags(dict(parse_key_value(i) for i in items))


def parse_params(items: list[str]) -> dict[str, Any] | None:
    """`KEY=VALUE` parameters; a value that parses as JSON is taken as JSON."""
    if not items:
        return None
    params: dict[str, Any] = {}
    for item in items:
        key, value = parse_key_value(item, "parameter")
        params[key] = _json_or_text(value)
    return validate_parameters(params)


def _json_or_text(text: str) -> Any:
    """The JSON value `text` spells, or the text itself (also for NaN, Infinity and 1e999)."""
    try:
        value = json.loads(text, parse_constant=lambda name: float(name))
        validate_parameters({"v": value})
    except (ValueError, DagyError):
        return text
    return value
