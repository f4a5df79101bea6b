"""The typer options several commands share, spelled and explained once."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["JsonOpt", "ParamOpt", "RemoteOpt", "TagOpt", "cwd"]

JsonOpt = Annotated[bool, typer.Option("--json", help="Print JSON (a stable public schema).")]
TagOpt = Annotated[
    list[str] | None,
    typer.Option("--tag", metavar="KEY=VALUE", help="KEY=VALUE dagy tag; repeat for more."),
]
RemoteOpt = Annotated[
    str | None,
    typer.Option(
        "--remote",
        metavar="REMOTE",
        help="Remote to use (default: `remote` from the config, else origin).",
    ),
]
ParamOpt = Annotated[
    list[str] | None,
    typer.Option("--param", metavar="KEY=VALUE", help="KEY=VALUE parameter (JSON values allowed)."),
]


def cwd() -> Path:
    """Where the command runs: paths on the command line are relative to it."""
    return Path.cwd()
