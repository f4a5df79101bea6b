"""Finding a repository's flow files: `flow_paths` globs, or files that mention dagy.

Also which flow files may import a given task module, so a check of the module alone also
checks the flows it feeds.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from pathlib import Path

from dagy_git import gitio
from dagy_git.analysis import mentions_dagy
from dagy_git.config import Settings

__all__ = ["discover_flow_files", "glob_matcher", "importers"]


def discover_flow_files(
    settings: Settings, files: list[str] | None = None, *, sources: dict[str, bytes] | None = None
) -> list[str]:
    """The repository's flow files, sorted, repo-relative POSIX.

    With `flow_paths`, the `.py` files its globs match; otherwise every `.py` file whose
    bytes mention dagy (each read once, and kept in `sources` when given).
    """
    if files is None:
        files = gitio.list_files(settings.repo_root)
    candidates = [f for f in files if f.endswith(".py")]
    if settings.flow_paths:
        return sorted(filter(glob_matcher(settings.flow_paths), candidates))
    found: list[str] = []
    for rel in candidates:
        try:
            data = (settings.repo_root / rel).read_bytes()
        except OSError:
            continue  # vanished since `git ls-files`: nothing to check
        if mentions_dagy(data, settings.sdk_modules):
            found.append(rel)
            if sources is not None:
                sources[rel] = data
    return sorted(found)


def importers(root: Path, flow_files: list[str], modules: list[str]) -> list[str]:
    """The flow files that may import one of `modules` (repo-relative `.py` task modules).

    A changed task module changes the spec of every flow that imports it, so a check of
    the module alone must also check those flows. Any import of `pkg/tasks.py` spells its
    name (`pkg.tasks`, `.tasks`, `from pkg import tasks`): files whose bytes do not contain
    it cannot import it. Over-selecting costs only an extra analysis.
    """
    stems = {
        posixpath.basename(posixpath.dirname(m) if m.endswith("/__init__.py") else m[:-3])
        for m in modules
    }
    wanted = [s.encode() for s in stems if s]
    found: list[str] = []
    for rel in flow_files:
        if rel in modules:
            continue
        try:
            data = (root / rel).read_bytes()
        except OSError:
            continue
        if any(stem in data for stem in wanted):
            found.append(rel)
    return found


def glob_matcher(patterns: tuple[str, ...] | list[str]) -> Callable[[str], bool]:
    """A test of repo-relative paths: matched by one of the globs, or inside a matched folder."""
    parts = [_glob_regex(p.strip("/").removeprefix("./")) for p in patterns]
    regex = re.compile(r"(?:" + "|".join(parts) + r")(?:/.*)?\Z", re.DOTALL)
    return lambda path: regex.match(path) is not None


def _glob_regex(pattern: str) -> str:
    tokens = re.split(r"(\*\*/|\*\*|\*|\?|\[!?[^\]]+\])", pattern)
    table = {"**/": "(?:[^/]+/)*", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    out = []
    for token in tokens:
        if token in table:
            out.append(table[token])
        elif token.startswith("[") and len(token) > 2:
            body = token[1:-1]
            out.append("[" + ("^" + body[1:] if body.startswith("!") else body) + "]")
        else:
            out.append(re.escape(token))
    return "".join(out)
