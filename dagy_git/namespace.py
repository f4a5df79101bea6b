"""Namespaces: explicit, or derived from where the flow file lives.

As in Dagy, a derived namespace is the flow file's folder relative to a root, `/`-joined,
`""` at the root. The root is `namespace_root` from the settings when set (so the result
does not depend on where a command runs), else the current working directory. Paths are
resolved (symlinks followed) on both sides, as Dagy's `Path(...).resolve()` does.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from dagy_git.errors import DagyError, InvalidNameError
from dagy_git.names import validate_namespace

if TYPE_CHECKING:
    from dagy_git.config import Settings

__all__ = ["derive_namespace", "namespace_root", "resolve_namespace"]


def derive_namespace(
    file_path: Path, root: Path, *, root_name: str | None = None, shown: str | None = None
) -> str:
    """The namespace of `file_path`: its folder relative to `root`, `""` at the root.

    In errors, `root_name` says what `root` is and `shown` is how to name the file.
    """
    shown = shown or str(file_path)
    root_name = root_name or f"the namespace root {root}"
    # Folders are shared by many flow files: resolve each once (a file that is itself a
    # link is resolved whole, as Dagy does). Cached by text: hashing a Path costs more.
    if file_path.is_symlink():
        namespace = _relative(str(file_path.resolve().parent), str(root))
    else:
        namespace = _relative(os.path.dirname(file_path), str(root))
    if namespace is None:
        raise DagyError(
            f"{shown} is outside {root_name}, so no namespace can be derived",
            hint="run from a folder above the file, set namespace_root in dagy.toml, "
            "or give the namespace explicitly (--namespace, or namespace = in dagy.toml)",
        )
    try:
        return validate_namespace(namespace)
    except InvalidNameError as exc:
        raise InvalidNameError(
            f"the namespace derived from the folder of {shown}, {namespace!r}, is invalid",
            hint="rename the folder (letters, digits, '_', '.', '-') "
            "or give the namespace explicitly (--namespace, or namespace = in dagy.toml)",
        ) from exc


@lru_cache(maxsize=4096)
def _relative(folder: str, root: str) -> str | None:
    """`folder` below `root`, both resolved, as a namespace (`""` at the root; None: not
    below it)."""
    real_folder, real_root = Path(folder).resolve(), Path(root).resolve()
    if real_folder != real_root and real_root not in real_folder.parents:
        return None
    namespace = real_folder.relative_to(real_root).as_posix()
    return "" if namespace == "." else namespace


def namespace_root(settings: Settings, cwd: Path) -> Path:
    """The folder namespaces are derived from: `namespace_root` when set, else `cwd`."""
    if settings.namespace_root is not None:
        return settings.repo_root / settings.namespace_root
    return cwd


def resolve_namespace(explicit: str | None, file_path: Path, settings: Settings, cwd: Path) -> str:
    """The namespace a flow is registered under: `explicit` (validated), else derived.

    `file_path` is absolute or relative to `cwd`.
    """
    if explicit is not None:
        return validate_namespace(explicit)
    if settings.namespace_root is not None:
        source = settings.config_path or "the settings"
        name = f"namespace_root {settings.namespace_root or '.'!r} ({source})"
    else:
        name = f"the current directory {cwd}"
    return derive_namespace(cwd / file_path, namespace_root(settings, cwd), root_name=name)
