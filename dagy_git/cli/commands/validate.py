"""`dagy-git validate [PATH...]`: check flows and manifests; one line per problem.

Prints `path:line:col: message` lines on stdout (what editors and CI annotators parse) and
a one-line summary on stderr. Exit 1 when there is a problem, 0 when clean. Writes nothing.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagy_git import gitio
from dagy_git.cli.output import error, note, say
from dagy_git.errors import DagyError
from dagy_git.validation import Problem, check_repo


def run(paths: list[str], cwd: Path) -> int:
    """Validate `paths` (default: the whole repository around `cwd`); return the exit code."""
    try:
        root = gitio.repo_root(cwd).resolve()
        report = check_repo(root, paths or None, cwd=cwd)
    except DagyError as exc:
        error(str(exc), exc.hint)
        return 1
    for problem in report.problems:
        # Warnings (an approximate spec) are shown but do not fail the run.
        level = "warning: " if problem.level == "warning" else ""
        say(f"{_shown(problem, root, cwd)}:{problem.line}:{problem.col}: {level}{problem.message}")
    if report.errors:
        files = len({p.path for p in report.problems})
        note(f"{_count(len(report.problems), 'problem')} in {_count(files, 'file')}")
        return 1
    note(f"checked {_count(report.flows, 'flow')} in {_count(report.files, 'file')}: ok")
    return 0


def _shown(problem: Problem, root: Path, cwd: Path) -> str:
    """The problem's path relative to the working directory when it lies in the repository."""
    full = root / problem.path
    real_cwd = cwd.resolve()
    if real_cwd == root or root in real_cwd.parents:
        return Path(os.path.relpath(full, real_cwd)).as_posix()
    return problem.path


def _count(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"
