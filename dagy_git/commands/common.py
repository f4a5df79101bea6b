"""Helpers shared by the subcommands: parsing `KEY=VALUE` lists."""

from __future__ import annotations

import json
from typing import Any

from ..names import parse_key_value, validate_tags


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
        try:
            params[key] = json.loads(value)
        except ValueError:
            params[key] = value
    return params
