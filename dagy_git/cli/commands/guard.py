"""`dagy-git guard [PATH...]`: refuse a code change to an already registered flow version."""

from __future__ import annotations

from pathlib import Path

from dagy_git.cli.output import error, note, short
from dagy_git.guard import check_versions
from dagy_git.workspace import open_workspace


def run(paths: list[str], cwd: Path) -> int:
    """Check `paths` (default: every flow) against the local registry; 1 on a violation."""
    ws = open_workspace(cwd)
    report = check_versions(ws, paths or None)
    if report.registry_commit is None:
        note(
            f"dagy-git guard: no registry branch {report.registry_branch!r} here yet, so no "
            "version is registered: nothing to guard (run `dagy-git pull` to fetch it)"
        )
        return 0
    for violation in report.violations:
        error(str(violation), violation.hint)
    where = f"{report.registry_branch} ({short(report.registry_commit)})"
    if report.violations:
        n = len(report.violations)
        note(f"{n} registered flow version{'s' if n != 1 else ''} would change code; see {where}")
        return 1
    note(f"dagy-git guard: {report.checked} flow versions checked against {where}: ok")
    return 0
