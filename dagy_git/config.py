"""Repository settings: the root `dagy.toml` or `[tool.dagy-git]` of the root `pyproject.toml`.

Settings live in the repository root's `dagy.toml` (top-level keys) or in `[tool.dagy-git]`
of the root `pyproject.toml`, never both. The manifests (`[tags]`, `[[deployments]]` of any
`dagy.toml`) are read by `manifests.py`, which shares the error helpers below. Every mistake
is a `ConfigError` naming the file, the key and its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dagy_git import names
from dagy_git.errors import ConfigError, DagyError
from dagy_git.gitobjects import valid_refname
from dagy_git.tomlfile import Locator, read_toml

__all__ = ["Settings", "load_settings", "read_settings"]

MANIFEST = "dagy.toml"
PYPROJECT = "pyproject.toml"


@dataclass(frozen=True)
class Settings:
    """Repository-wide settings, with the defaults of DESIGN.md."""

    repo_root: Path
    registry_branch: str = "dagy/registry"
    tag_prefix: str = "dagy/"
    namespace_root: str | None = None  # repo-relative POSIX, "" = the repo root
    flow_paths: tuple[str, ...] = ()  # globs; empty = every *.py that mentions dagy
    remote: str = "origin"
    mutable_versions: tuple[str, ...] = ("latest",)
    immutable_versions: bool = False
    runs_db: str | None = None  # the runs store; relative to the repo root, or absolute
    config_path: str | None = None  # which file the settings came from
    # The analyser's: modules whose functions are tasks (`pkg`, `pkg.*`), and the modules
    # whose `flow`/`task` decorators are dagy's.
    task_modules: tuple[str, ...] = ()
    sdk_modules: tuple[str, ...] = ("dagy", "dagy_git")


SETTING_KEYS: dict[str, type] = {
    "registry_branch": str,
    "tag_prefix": str,
    "namespace_root": str,
    "flow_paths": list,
    "remote": str,
    "mutable_versions": list,
    "immutable_versions": bool,
    "task_modules": list,
    "sdk_modules": list,
    "runs_db": str,
}
_ROOT_KEYS = (*SETTING_KEYS, "tags", "deployments")
_TYPE_NAMES = {str: "string", list: "list", bool: "boolean", dict: "table"}

Errors = list[ConfigError]
# A dotted module name, optionally ending in `.*` (every submodule).
_MODULE_PATTERN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*(\.\*)?\Z")


# ---------------------------------------------------------------- shared with manifests.py


def load_toml(repo_root: Path, rel: str, errors: Errors) -> tuple[dict[str, Any], Locator] | None:
    """A TOML file's data and locator, or None with its `ConfigError` added to `errors`."""
    try:
        return read_toml(repo_root, rel)
    except ConfigError as exc:
        errors.append(exc)
        return None


def unknown_key(key: str, loc: Locator, rel: str = MANIFEST) -> ConfigError:
    """The error for a top-level key of a `dagy.toml` that is neither a setting nor a table."""
    hint = "a dagy.toml holds [tags], [[deployments]] and, at the root, settings: " + ", ".join(
        SETTING_KEYS
    )
    return error_at(rel, loc.line(key), f"unknown key {key!r}", hint)


def error_at(path: str, line: int, message: str, hint: str | None = None) -> ConfigError:
    """A `ConfigError` located at `path:line`."""
    return ConfigError(message, path=path, line=line, col=1, hint=hint)


def type_name(kind: type) -> str:
    """How a TOML value's Python type is named in messages (`table`, not `dict`)."""
    return _TYPE_NAMES.get(kind, kind.__name__)


def is_absolute(value: str) -> bool:
    """Whether a configured path is absolute, POSIX or Windows style."""
    return value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value) is not None


# ---------------------------------------------------------------- settings


def read_settings(repo_root: Path) -> tuple[Settings, list[ConfigError]]:
    """The settings plus every problem found in them (defaults stand in for bad values)."""
    errors: Errors = []
    sources: list[tuple[str, dict[str, Any], Callable[[str], int]]] = []
    parsed = load_toml(repo_root, MANIFEST, errors) if (repo_root / MANIFEST).is_file() else None
    if parsed is not None:
        # A misspelt setting must not silently fall back to its default.
        errors += [unknown_key(k, parsed[1]) for k in parsed[0] if k not in _ROOT_KEYS]
        table = {k: v for k, v in parsed[0].items() if k in SETTING_KEYS}
        if table:
            sources.append((MANIFEST, table, parsed[1].line))
    parsed = load_toml(repo_root, PYPROJECT, errors) if (repo_root / PYPROJECT).is_file() else None
    if parsed is not None:
        tool, loc = parsed[0].get("tool"), parsed[1]
        ours = tool.get("dagy-git") if isinstance(tool, dict) else None
        if ours is not None and not isinstance(ours, dict):
            errors.append(error_at(PYPROJECT, loc.line("tool", "dagy-git"), "must be a table"))
        elif ours:
            sources.append((PYPROJECT, ours, lambda key: loc.line("tool", "dagy-git", key)))
    if len(sources) > 1:
        message = "settings are in both dagy.toml and pyproject.toml [tool.dagy-git]"
        line = sources[1][2](next(iter(sources[1][1])))
        errors.append(error_at(PYPROJECT, line, message, "keep them in one of the two files"))
    if not sources:
        return Settings(repo_root=repo_root), errors
    rel, table, line_of = sources[0]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in SETTING_KEYS:
            hint = f"known settings: {', '.join(SETTING_KEYS)}"
            errors.append(error_at(rel, line_of(key), f"unknown setting {key!r}", hint))
            continue
        try:
            values[key] = _check_setting(repo_root, key, value)
        except DagyError as exc:
            errors.append(error_at(rel, line_of(key), f"setting {key!r}: {exc.message}", exc.hint))
    return Settings(repo_root=repo_root, config_path=rel, **values), errors


def load_settings(repo_root: Path) -> Settings:
    """The repository's settings; raises the first `ConfigError` found."""
    settings, errors = read_settings(repo_root)
    if errors:
        raise errors[0]
    return settings


def _check_setting(repo_root: Path, key: str, raw: object) -> Any:
    kind = SETTING_KEYS[key]
    if not isinstance(raw, kind) or (kind is not bool and isinstance(raw, bool)):
        raise ConfigError(f"must be a {type_name(kind)}, got {type_name(type(raw))}")
    value: Any = raw
    if key == "registry_branch" and (
        value.startswith("-") or not valid_refname(f"refs/heads/{value}")
    ):
        raise ConfigError(f"{value!r} is not a valid git branch name")
    if key == "tag_prefix" and (
        not value.endswith("/") or not valid_refname(f"refs/tags/{value}x")
    ):
        raise ConfigError(f"{value!r} is not a valid tag prefix", hint="e.g. 'dagy/' (ends in '/')")
    if key == "namespace_root":
        return _repo_relative(repo_root, value)
    if key in ("flow_paths", "mutable_versions", "task_modules", "sdk_modules"):
        for item in value:
            if not isinstance(item, str) or not item:
                raise ConfigError("must be a list of non-empty strings")
            if key in ("task_modules", "sdk_modules") and not _MODULE_PATTERN.match(item):
                raise ConfigError(
                    f"{item!r} is not a module name or pattern",
                    hint='e.g. "shared_pkg", "shared_pkg.tasks" or "shared_pkg.*"',
                )
            if key == "mutable_versions":
                names.validate_version(item)
            elif is_absolute(item) or ".." in item.split("/"):
                raise ConfigError(f"glob {item!r} must be relative to the repository root")
        return tuple(value)
    if key == "runs_db" and not value.strip():
        raise ConfigError("must be a path to the runs database", hint='e.g. ".dagy/runs.sqlite3"')
    if key == "remote" and (not value or value.startswith("-")):
        raise ConfigError(f"{value!r} is not a remote name")
    return value


def _repo_relative(repo_root: Path, value: str) -> str:
    # Traversal is refused lexically, and again after resolving symlinks.
    if is_absolute(value) or "\\" in value:
        raise ConfigError(f"{value!r} must be a relative '/'-separated path")
    norm = posixpath.normpath(value) if value else "."
    real_root = repo_root.resolve()
    target = (real_root / norm).resolve()
    if norm == ".." or norm.startswith("../") or not target.is_relative_to(real_root):
        raise ConfigError(f"{value!r} points outside the repository")
    return "" if norm == "." else norm
