"""A progress bar on stderr for long work (many flow files), only on a terminal.

Commands that analyse many files (`deploy`, `validate`, `spec`, `build`) report progress
through `dagy_git.workers`; this shows it as a rich bar on stderr when stderr is a
terminal, and nothing otherwise, so pipes, CI logs and `--json` output stay clean.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from dagy_git import workers

# Fewer files than this finish before a bar would be worth drawing.
MIN_ITEMS = 100


@contextmanager
def progress_bar(enabled: bool = True, label: str = "analysing flow files") -> Iterator[None]:
    """Show a bar while the body runs, when `enabled` and stderr is a terminal."""
    if not enabled or not sys.stderr.isatty():
        yield
        return
    bar = _Bar(label)
    workers.observe(bar)
    try:
        yield
    finally:
        workers.observe(None)
        bar.close()


class _Bar:
    """A rich progress bar started on the first report of enough items."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.progress: Any = None
        self.task: Any = None

    def __call__(self, done: int, total: int) -> None:
        if total < MIN_ITEMS:
            return
        if self.progress is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.progress.start()
            self.task = self.progress.add_task(self.label, total=total)
        self.progress.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.progress is not None:
            self.progress.stop()
