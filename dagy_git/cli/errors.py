"""The one error handler of every entry point: the CLI, the pre-commit hooks, the action.

A `DagyError` is a user mistake: `error: …` / `hint: …` on stderr and exit 1, never a
traceback. Ctrl-C exits 130. Anything else is a bug: one line and exit 3, unless `debug`
asks for the traceback. Each entry point adds what its audience needs through `on_error`
(the CLI's `--json` error document, the action's `::error` annotations).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from dagy_git.cli.output import error
from dagy_git.errors import DagyError

__all__ = [
    "EXIT_INTERRUPTED",
    "EXIT_UNEXPECTED",
    "EXIT_USER",
    "debug_requested",
    "exit_code",
    "exit_codes",
]

EXIT_USER = 1
EXIT_UNEXPECTED = 3
EXIT_INTERRUPTED = 130


@contextmanager
def exit_codes(
    *, debug: bool = False, on_error: Callable[[DagyError], None] | None = None
) -> Iterator[None]:
    """Run the body; turn what escapes it into a message and `SystemExit` with the exit code.

    `SystemExit` (and so typer's and click's own exits, usage errors among them) passes
    through unchanged.
    """
    try:
        yield
    except DagyError as exc:
        error(str(exc), exc.hint)
        if on_error is not None:
            on_error(exc)
        raise SystemExit(EXIT_USER) from None
    except KeyboardInterrupt:
        error("interrupted")
        raise SystemExit(EXIT_INTERRUPTED) from None
    except Exception as exc:
        if debug:
            raise
        error(
            f"unexpected failure: {type(exc).__name__}: {_one_line(exc)}",
            "rerun with --debug for the traceback, and please report it",
        )
        raise SystemExit(EXIT_UNEXPECTED) from None


def _one_line(exc: BaseException) -> str:
    """The exception's text on one line, safe to print whatever it holds."""
    text = " ".join(str(exc).split())
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def debug_requested(args: list[str]) -> bool:
    """Whether the traceback of an unexpected failure was asked for: `--debug` among the
    arguments (read before parsing, so a failure while parsing honours it too) or
    `DAGY_GIT_DEBUG=1` in the environment (for the hook and the action)."""
    return "--debug" in args or os.environ.get("DAGY_GIT_DEBUG", "").strip() not in ("", "0")


def exit_code(
    fn: Callable[[], int],
    *,
    debug: bool = False,
    on_error: Callable[[DagyError], None] | None = None,
) -> int:
    """Call `fn` under `exit_codes` and return the exit code instead of raising SystemExit
    (for entry points that return one, as the pre-commit hook does)."""
    try:
        with exit_codes(debug=debug, on_error=on_error):
            return fn()
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else EXIT_USER
