"""Entry points for the pre-commit framework (`.pre-commit-hooks.yaml`).

`dagy-git-hook validate [--strict] FILE...` checks the files pre-commit passes (flow files,
`dagy.toml`, `pyproject.toml`), relative to the repository root where pre-commit runs, with
`dagy-git validate`'s rules: warnings are shown and fail the commit only with `--strict`.
It needs neither typer nor the flows' own dependencies: only the static analyser.
"""

from __future__ import annotations

import argparse
import os
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
    check.add_argument(
        "--staged-deletions",
        action="store_true",
        help="Also check the manifests when the commit deletes a file (a flow a manifest "
        "still names); with no FILE, check only that (cheap: one git diff).",
    )
    check.add_argument("--strict", action="store_true", help="Fail on warnings too.")
    check.add_argument(
        "--format",
        choices=validate.FORMATS,
        default="text",
        help="text (default), json, or github (workflow annotations).",
    )
    guard = hooks.add_parser(
        "guard", help="Refuse a code change to an already registered flow version."
    )
    guard.add_argument("files", nargs="*", metavar="FILE", help="Flow files (default: all).")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    if args.hook == "guard":
        from dagy_git.cli.commands import guard as guard_cmd

        return exit_code(lambda: guard_cmd.run(args.files, Path.cwd()), debug=debug_requested([]))
    files: list[str] = list(args.files)
    if args.staged_deletions:
        files = _with_deletions(files)
        if not files:
            return 0  # nothing changed that validate looks at, nothing deleted
    # No files (a hook with `pass_filenames: false`): check the whole repository.
    return exit_code(
        lambda: validate.run(files, Path.cwd(), strict=args.strict, output_format=args.format),
        debug=debug_requested([]),
    )


def _with_deletions(files: list[str]) -> list[str]:
    """`files` plus every manifest when the commit deletes a `.py` file or a manifest.

    pre-commit passes no deleted file to a hook, so a commit that deletes a flow some
    `dagy.toml` still names would pass unchecked; the manifests are few and cheap to check.
    """
    from dagy_git import gitio

    root = gitio.repo_root(Path.cwd())
    deleted = gitio.staged_deletions(root)
    if not any(p.endswith(".py") or p.rsplit("/", 1)[-1] == "dagy.toml" for p in deleted):
        return files
    manifests = [p for p in gitio.list_files(root) if p.rsplit("/", 1)[-1] == "dagy.toml"]
    here = Path.cwd().resolve()
    shown = [os.path.relpath(root / p, here) for p in manifests]
    return sorted(set(files) | set(shown))


if __name__ == "__main__":
    raise SystemExit(main())
