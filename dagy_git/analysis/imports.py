"""The repository modules a file imports, transitively: what its code depends on beyond itself.

`closure_hash` (DESIGN.md "Hashes") is computed from this list by the deploy side: a task
module edited is new code even when the flow file is not. Imports are resolved exactly as
the analyser resolves them for tasks (`ModuleInfo.find`), without importing anything;
packages on the way (`a/__init__.py` for `import a.b`) count, as Python runs them too.
"""

from __future__ import annotations

import os
from pathlib import Path

from dagy_git.analysis.module import ModuleInfo, load_module
from dagy_git.analysis.pyfiles import display_path
from dagy_git.analysis.pynames import STDLIB

__all__ = ["repo_imports"]


def repo_imports(mod: ModuleInfo) -> list[str]:
    """Sorted repo-relative paths of the repository modules `mod` imports, transitively
    (the file itself left out)."""
    if mod.file_path is None:
        return []
    start = os.path.abspath(mod.file_path)
    seen: dict[str, Path] = {}
    todo: list[ModuleInfo] = [mod]
    while todo:
        current = todo.pop()
        for path in _direct(current):
            key = os.path.abspath(path)
            if key in seen or key == start:
                continue
            seen[key] = path
            info = load_module(path, current.repo_root, current.settings)
            if isinstance(info, ModuleInfo):
                todo.append(info)
    root = os.path.abspath(mod.repo_root) if mod.repo_root is not None else None
    out = []
    for key, path in seen.items():
        # Plain string work: `display_path`'s pathlib costs more than the whole walk.
        if root is not None and key.startswith(root + os.sep):
            out.append(key[len(root) + 1 :].replace(os.sep, "/"))
        else:
            out.append(display_path(path, mod.repo_root))
    return sorted(out)


def _direct(mod: ModuleInfo) -> list[Path]:
    """The repository files one module's imports load (packages on the way included)."""
    assert mod.file_path is not None
    out: list[Path] = []
    for module, level in dict.fromkeys(mod.all_imports()):
        parts = module.split(".") if module else []
        if level == 0 and parts and (parts[0] in STDLIB or mod.settings.is_sdk(parts[0])):
            continue  # the standard library and the SDK are not repository code
        # `import a.b.c` runs a/__init__.py and a/b/__init__.py before a/b/c.py.
        prefixes = [".".join(parts[:i]) for i in range(1, len(parts) + 1)] or [""]
        for prefix in prefixes:
            if level == 0 and not prefix:
                continue
            found = mod.find(prefix, level)
            if found is not None:
                out.append(found)
    return out
