"""`dagy-git schema`: the JSON Schema of `dagy.toml`, for editors and CI checks.

The schema ships inside the package (`dagy_git/dagy-toml.schema.json`), so it always
matches the installed dagy-git. Point Taplo / Even Better TOML at it (docs/configuration.md)
or check files with `check-jsonschema --schemafile`.
"""

from __future__ import annotations

import sys
from importlib import resources

SCHEMA_FILE = "dagy-toml.schema.json"


def schema_text() -> str:
    """The JSON Schema of `dagy.toml`, as shipped."""
    return resources.files("dagy_git").joinpath(SCHEMA_FILE).read_text("utf-8")


def run() -> int:
    """Print the schema on stdout."""
    sys.stdout.write(schema_text())
    return 0
