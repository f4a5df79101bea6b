"""`log_prints=True`: in such a run, `print(...)` to stdout becomes a run logger record.

`builtins.print` is replaced once, the first time a run asks for it, by a function that asks
the current run: every other thread, run and program keeps printing as before, and output
to another file too. `logging` itself loads only when a print is logged.
"""

from __future__ import annotations

import builtins
import sys
import threading
from typing import Any

from dagy_git.runtime.context import current

__all__ = ["capture_prints"]

_lock = threading.Lock()
_original_print: Any = None


def capture_prints() -> None:
    """Route `print` to the run logger in runs with `log_prints=True` (installed once)."""
    global _original_print
    with _lock:
        if _original_print is not None:
            return
        _original_print = builtins.print
        builtins.print = _print


def _print(*args: Any, sep: str | None = " ", end: str | None = "\n", file: Any = None,
           flush: bool = False) -> None:  # fmt: skip
    run = current()
    if run is None or not run.log_prints or file not in (None, sys.stdout):
        _original_print(*args, sep=sep, end=end, file=file, flush=flush)
        return
    from dagy_git.runtime.logs import get_run_logger

    get_run_logger().info((" " if sep is None else sep).join(str(a) for a in args))
