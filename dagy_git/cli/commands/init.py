"""`dagy-git init`: a starter `dagy.toml` and the registry branch."""

from __future__ import annotations

from pathlib import Path

from dagy_git.cli.output import note
from dagy_git.gitio import repo_root
from dagy_git.workspace import open_workspace

STARTER = """\
# dagy-git settings (https://github.com/dagy-git/dagy-git/blob/main/docs/configuration.md)
registry_branch = "dagy/registry"
tag_prefix = "dagy/"
remote = "origin"
# namespace_root = "flows"          # namespaces derive from folders below this one
# flow_paths = ["flows/**/*.py"]    # default: every .py file that mentions dagy

# Dagy tags for every flow below this folder (deeper dagy.toml files override keys).
[tags]
"""


def run(cwd: Path) -> int:
    """Write `dagy.toml` at the repository root if missing, then create the registry branch."""
    root = repo_root(cwd)
    # Refuse before writing anything: a registry branch that is not one, or is checked out.
    registry = open_workspace(cwd).registry()
    registry.check_not_checked_out()
    with registry.snapshot():
        pass
    config = root / "dagy.toml"
    pyproject = root / "pyproject.toml"
    has_pyproject_settings = pyproject.is_file() and "[tool.dagy-git]" in pyproject.read_text(
        encoding="utf-8", errors="replace"
    )
    if not config.exists() and not has_pyproject_settings:
        config.write_text(STARTER, encoding="utf-8")
        note(f"wrote {config.relative_to(root)}")
    ws = open_workspace(cwd)
    registry = ws.registry()
    commit = registry.init(follow=ws.settings.remote)  # a clone takes its remote's
    note(f"registry branch {ws.settings.registry_branch} at {commit[:12]}")
    return 0
