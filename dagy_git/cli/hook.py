"""Entry points for the pre-commit framework (`.pre-commit-hooks.yaml`).

`dagy-git-hook validate FILE...` checks the files pre-commit passes (flow files,
`dagy.toml`, `pyproject.toml`), relative to the repository root where pre-commit runs.
It needs neither typer nor the flows' own dependencies: only the static analyser.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from dagy_git.cli.commands import validate
from dagy_git.cli.errors import debug_requested, exit_code


def main(argv: list[str] | None = None) -> int:
    """Run one hook (`validate FILE...`) and return its exit code."""
    parser = argparse.ArgumentParser(
        prog="dagy-git-hook", description="dagy-git hooks for the pre-commit framework."
    )
    hooks = parser.add_subparsers(dest="hook", required=True, metavar="HOOK")
    check = hooks.add_parser("validate", help="Check flow files and dagy.toml manifests.")
    check.add_argument("files", nargs="*", metavar="FILE", help="Files to check (default: all).")
    guard = hooks.add_parser(
        "guard", help="Refuse a code change to an already registered flow version."
    )
    guard.add_argument("files", nargs="*", metavar="FILE", help="Flow files (default: all).")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.hook == "guard":
        from dagy_git.cli.commands import guard as guard_cmd

        return exit_code(lambda: guard_cmd.run(args.files, Path.cwd()), debug=debug_requested([]))
    # No files (a hook with `pass_filenames: false`): check the whole repository.
    return exit_code(lambda: validate.run(args.files, Path.cwd()), debug=debug_requested([]))


if __name__ == "__main__":
    raise SystemExit(main())
