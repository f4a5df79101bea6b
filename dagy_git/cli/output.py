"""Rendering for the interface layer: JSON, tables and messages.

Core modules never print; commands render their results through these few functions.
Humans on a terminal get rich tables; pipes get plain, aligned text that scripts can cut.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from rich.table import Table


def print_json(data: Any) -> None:
    """Print a JSON document (the `--json` public interface) to stdout."""
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n")


FORMATS = ("table", "tsv")


def print_table(
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    title: str | None = None,
    *,
    fmt: str = "table",
) -> None:
    """Print rows: `tsv` (one row per line, tab-separated, no header: for scripts), else a
    table (rich on a terminal, plain aligned columns elsewhere)."""
    cells = [[_cell(c) for c in row] for row in rows]
    if fmt == "tsv":
        sys.stdout.write("".join("\t".join(row) + "\n" for row in cells))
        return
    if sys.stdout.isatty():
        from rich.console import Console

        console = Console()
        console.print(_table(headers, cells, title, console.width))
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


def _cell(value: Any) -> str:
    """One cell on one line: tabs and line breaks would break a row apart."""
    text = "" if value is None else str(value)
    return " ".join(text.split()) if any(c in text for c in "\t\r\n") else text


def _table(
    headers: Sequence[str], cells: Sequence[Sequence[str]], title: str | None, width: int
) -> Table:
    """A rich table that fits `width`: columns of single words (names, versions, hashes)
    are never split mid-word (a cell too long is cut with an ellipsis), columns of prose
    wrap between words."""
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    prose = [any(" " in row[i] for row in cells) for i in range(len(headers))]
    for header, w, wraps in zip(headers, column_widths(headers, cells, width), prose, strict=True):
        if wraps:
            table.add_column(header, width=w, overflow="fold")
        else:
            table.add_column(header, width=w, no_wrap=True, overflow="ellipsis")
    for row in cells:
        table.add_row(*row)
    return table


def column_widths(headers: Sequence[str], cells: Sequence[Sequence[str]], width: int) -> list[int]:
    """Column widths for a boxed table `width` characters wide: as wide as the content
    when it fits; otherwise prose columns narrow first (never below their longest word, so
    no word is split), then the widest columns of single words, one character at a time
    (down to 8, where an ellipsis shortens their cells)."""
    n = len(headers)
    longest = [max([len(h), *(len(row[i]) for row in cells)]) for i, h in enumerate(headers)]
    prose = [any(" " in row[i] for row in cells) for i in range(n)]
    word = [
        max([len(headers[i]), *(len(w) for row in cells for w in row[i].split())]) for i in range(n)
    ]
    widths = list(longest)
    room = width - (3 * n + 1)  # a space either side and a rule per column
    for i in sorted(range(n), key=lambda k: -longest[k]):
        if prose[i] and sum(widths) > room:
            widths[i] = max(word[i], widths[i] - (sum(widths) - room))
    while sum(widths) > room:
        shrinkable = [k for k in range(n) if widths[k] > (word[k] if prose[k] else 8)]
        if not shrinkable:
            break
        i = max(shrinkable, key=lambda k: widths[k])
        widths[i] -= 1
    return widths


def rich_table(
    headers: Sequence[str], cells: Sequence[Sequence[str]], width: int, title: str | None = None
) -> str:
    """The terminal table `width` columns wide, as plain text (what a terminal shows)."""
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    Console(file=buffer, width=width, color_system=None).print(_table(headers, cells, title, width))
    return buffer.getvalue()


def say(message: str) -> None:
    """A line for humans on stdout."""
    sys.stdout.write(message + "\n")


def stream(text: str) -> None:
    """Raw output as it comes (a run's log), on stdout."""
    sys.stdout.write(text)
    sys.stdout.flush()


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
