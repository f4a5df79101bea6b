"""Rendering for the interface layer: JSON, tables and messages.

Core modules never print; commands render their results through these few functions.
Humans on a terminal get rich tables; pipes get plain, aligned text that scripts can cut.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any


def print_json(data: Any) -> None:
    """Print a JSON document (the `--json` public interface) to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


def print_table(
    headers: Sequence[str], rows: Sequence[Sequence[Any]], title: str | None = None
) -> None:
    """Print rows as a table: rich on a terminal, plain aligned columns elsewhere."""
    cells = [["" if c is None else str(c) for c in row] for row in rows]
    if sys.stdout.isatty():
        from rich.console import Console
        from rich.table import Table

        table = Table(title=title, show_lines=False)
        for header in headers:
            table.add_column(header, overflow="fold")
        for row in cells:
            table.add_row(*row)
        Console().print(table)
        return
    if title:
        sys.stdout.write(title + "\n")
    widths = [len(h) for h in headers]
    for row in cells:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]
    lines = ["  ".join(h.upper().ljust(w) for h, w in zip(headers, widths, strict=True)).rstrip()]
    lines += [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    sys.stdout.write("\n".join(lines) + "\n")


def say(message: str) -> None:
    """A line for humans on stdout."""
    sys.stdout.write(message + "\n")


def note(message: str) -> None:
    """A side remark on stderr (progress, summaries), so stdout stays parseable."""
    sys.stderr.write(message + "\n")


def error(message: str, hint: str | None = None) -> None:
    """Print `error: …` and an optional `hint: …` to stderr."""
    sys.stderr.write(f"error: {message}\n")
    if hint:
        sys.stderr.write(f"hint: {hint}\n")


def tags_text(tags: dict[str, str]) -> str:
    """Tags as `k=v, k=v`, sorted by key, for humans."""
    return ", ".join(f"{k}={v}" for k, v in sorted(tags.items()))


def short(sha: str | None, n: int = 12) -> str:
    """A short form of a hash for humans."""
    return sha[:n] if sha else "-"
