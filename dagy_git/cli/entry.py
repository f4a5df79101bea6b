"""The `dagy-git` entry point: `--version` and the fast path first, typer on demand.

`--version` and the hot read commands (`cli/fast.py`) run without importing typer or
pydantic; everything else goes to the typer app (`cli/app.py`). Both turn errors into
messages and exit codes the same way (`cli/errors.py`) and show progress on a terminal.
"""

from __future__ import annotations

import sys
from pathlib import Path

__all__ = ["main"]


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point (`dagy-git`, `python -m dagy_git`)."""
    args = sys.argv[1:] if argv is None else argv
    if args == ["--version"]:
        from dagy_git import __version__

        sys.stdout.write(f"dagy-git {__version__}\n")
        return
    from dagy_git.cli import fast

    parsed = fast.parse(args)
    if parsed is None:
        from dagy_git.cli.app import main as typer_main

        typer_main(args)
        return
    from dagy_git.cli.errors import debug_requested, exit_codes
    from dagy_git.cli.output import print_json
    from dagy_git.cli.progress import progress_bar
    from dagy_git.errors import DagyError

    def json_error(exc: DagyError) -> None:
        if "--json" in args:  # as the typer app does: scripts parse stdout
            error = {"message": str(exc), "hint": exc.hint, "path": exc.path, "line": exc.line}
            print_json({"error": error})

    quiet = "--quiet" in args or "-q" in args
    with exit_codes(debug=debug_requested(args), on_error=json_error), progress_bar(not quiet):
        sys.exit(fast.run(parsed, Path.cwd()))
