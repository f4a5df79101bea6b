"""Tables that fit an 80-column terminal without splitting a name or a hash mid-word."""

from __future__ import annotations

import re

from dagy_git.cli.output import column_widths, rich_table

HEADERS = ("deployment", "flow", "namespace", "status", "dv", "hash", "why")
ROW = (
    "order-etl-production-eu-west",
    "order_etl_with_a_long_name@2.1.0-rc.1",
    "data/orders/region",
    "registered (dry run)",
    "12",
    "a1b2c3d4e5f6",
    "code_hash changed because flows/tasks.py and the other module were edited",
)


def cell_lines(table: str) -> list[list[str]]:
    """The text of each cell, per printed line of the table body."""
    body = [line for line in table.splitlines() if line.startswith("│")]
    return [[c.strip() for c in line.strip("│").split("│")] for line in body]


def test_the_table_fits_80_columns_and_splits_no_word() -> None:
    table = rich_table(HEADERS, [ROW, ROW], 80)
    assert max(len(line) for line in table.splitlines()) <= 80
    words = {w for cell in ROW for w in cell.split()}
    for line in cell_lines(table):
        for text in line:
            for piece in text.split():
                # every piece is a whole word of its cell, or a word cut with an ellipsis
                assert piece in words or (
                    piece.endswith("…") and any(w.startswith(piece[:-1]) for w in words)
                ), piece
    # prose wraps between words: the reason is all there, over several lines
    reason = " ".join(line[6] for line in cell_lines(table) if line[6])
    assert re.sub(r"\s+", " ", reason).startswith("code_hash changed because flows/tasks.py")


def test_a_table_that_fits_is_not_touched() -> None:
    rows = [("a", "b@1", "ok")]
    assert column_widths(("deployment", "flow", "status"), rows, 80) == [10, 4, 6]
    table = rich_table(("deployment", "flow", "status"), rows, 80)
    assert "│ a          │ b@1  │ ok     │" in table


def test_hashes_and_versions_are_never_folded_across_lines() -> None:
    table = rich_table(HEADERS, [ROW], 60)
    hash_cells = [line[5] for line in cell_lines(table) if line[5]]
    assert len(hash_cells) == 1 and "a1b2c3d4e5f6".startswith(hash_cells[0].rstrip("…"))
