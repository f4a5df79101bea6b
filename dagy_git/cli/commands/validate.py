"""`dagy-git validate [PATH...]`: check flows and manifests; each problem once.

Formats (stdout; a one-line summary goes to stderr):
- text (default): `path:line:col: message` for an error, `path:line:col: warning: message`
  for a warning (what editors and CI annotators parse), each followed by `  hint: …`;
- `--json`: an array of `{path, line, col, level, message, hint}`;
- `github`: `::error file=…,line=…,col=…::message` / `::warning …` workflow commands.
Exit 1 when there is an error (or with `--strict` a warning), 0 otherwise. Writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagy_git import gitio
from dagy_git.cli.output import error, note, print_json, say
from dagy_git.errors import DagyError
from dagy_git.validation import WARNING, Problem, Report, check_repo

FORMATS = ("text", "json", "github")


def run(
    paths: list[str],
    cwd: Path,
    *,
    strict: bool = False,
    json_out: bool = False,
    output_format: str = "text",
) -> int:
    """Validate `paths` (default: the whole repository around `cwd`); return the exit code."""
    if json_out:
        output_format = "json"
    if output_format not in FORMATS:
        error(f"unknown format {output_format!r}", f"use one of: {', '.join(FORMATS)}")
        return 2
    try:
        root = gitio.repo_root(cwd).resolve()
        report = check_repo(root, paths or None, cwd=cwd)
    except DagyError as exc:
        if output_format == "json":  # as every --json command: the error, not nothing
            print_json({"error": {"message": str(exc), "hint": exc.hint, "path": exc.path}})
        error(str(exc), exc.hint)
        return 1
    render(report, root, cwd, output_format)
    note(summary(report, strict))
    return 1 if report.fails(strict) else 0


def render(report: Report, root: Path, cwd: Path, output_format: str = "text") -> None:
    """Print each problem once, in `output_format` (text, json or github)."""
    if output_format == "json":
        print_json([p.to_json() for p in report.problems])
    elif output_format == "github":
        # Imported here: the Action's module loads deploy and the registry, which a plain
        # validate (the pre-commit hook, on every commit) does not need.
        from dagy_git.cli.github import annotation, workspace_path

        workspace = os.environ.get("GITHUB_WORKSPACE")
        for p in report.problems:
            where = workspace_path(p.path, root, workspace)
            message = f"{p.message}\nhint: {p.hint}" if p.hint else p.message
            say(annotation(message, where, p.line, p.col, level=p.level))
    else:
        for p in report.problems:
            level = "warning: " if p.level == WARNING else ""
            say(f"{_shown(p, root, cwd)}:{p.line}:{p.col}: {level}{p.message}")
            if p.hint:
                say(f"  hint: {p.hint}")


def summary(report: Report, strict: bool = False) -> str:
    """One line: what was checked, or how many errors and warnings in how many files."""
    if not report.problems:
        return f"checked {_count(report.flows, 'flow')} in {_count(report.files, 'file')}: ok"
    files = _count(len({p.path for p in report.problems}), "file")
    errors, warnings = len(report.errors), len(report.warnings)
    if not warnings:
        return f"{_count(errors, 'problem')} in {files}"
    parts = [_count(errors, "error")] if errors else []
    parts.append(_count(warnings, "warning") + (" (--strict: failing)" if strict else ""))
    return f"{', '.join(parts)} in {files}"


def _shown(problem: Problem, root: Path, cwd: Path) -> str:
    """The problem's path relative to the working directory when it lies in the repository."""
    full = root / problem.path
    real_cwd = cwd.resolve()
    if real_cwd == root or root in real_cwd.parents:
        return Path(os.path.relpath(full, real_cwd)).as_posix()
    return problem.path


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
