"""Settings (root `dagy.toml` or `[tool.dagy-git]`) and the `dagy.toml` manifests.

Settings live in the repository root's `dagy.toml` (top-level keys) or in `[tool.dagy-git]`
of the root `pyproject.toml`, never both. Any `dagy.toml` may hold `[tags]` (inherited by
every flow below its folder, deeper manifests winning per key) and `[[deployments]]`.
Every mistake is a `ConfigError` naming the file, the key and its line.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from . import gitio, names
from .cron import validate_schedule
from .errors import ConfigError, DagyError, InvalidNameError
from .gitobjects import valid_refname
from .tomlfile import Locator, read_toml

__all__ = [
    "DeploymentEntry",
    "Manifest",
    "Settings",
    "collect_manifests",
    "discover_flow_files",
    "duplicate_deployments",
    "duplicate_error",
    "glob_matcher",
    "inherited_tags",
    "load_manifests",
    "load_settings",
    "read_settings",
    "validate_schedule",
]

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
    config_path: str | None = None  # which file the settings came from


@dataclass(frozen=True)
class DeploymentEntry:
    """One `[[deployments]]` entry of a manifest."""

    name: str
    flow_path: str  # repo-relative POSIX path of the flow file
    function: str | None  # None when the file holds exactly one flow
    schedule: str | None
    parameters: dict[str, Any]
    tags: dict[str, str]
    namespace: str | None
    flow_version: str | None
    manifest: str  # repo-relative path of the dagy.toml
    line: int


@dataclass(frozen=True)
class Manifest:
    """One `dagy.toml`: its folder, its `[tags]` and its deployments."""

    path: str
    directory: str  # "" at the repo root
    tags: dict[str, str]
    deployments: tuple[DeploymentEntry, ...]


_SETTINGS: dict[str, type] = {
    "registry_branch": str,
    "tag_prefix": str,
    "namespace_root": str,
    "flow_paths": list,
    "remote": str,
    "mutable_versions": list,
    "immutable_versions": bool,
}
_ROOT_KEYS = (*_SETTINGS, "tags", "deployments")
_DEPLOYMENT_KEYS = ("name", "flow", "schedule", "parameters", "tags", "namespace", "flow_version")
_TYPE_NAMES = {str: "string", list: "list", bool: "boolean", dict: "table"}

Errors = list[ConfigError]


def _read_toml(repo_root: Path, rel: str, errors: Errors) -> tuple[dict[str, Any], Locator] | None:
    try:
        return read_toml(repo_root, rel)
    except ConfigError as exc:
        errors.append(exc)
        return None


def _unknown_key(key: str, loc: Locator, rel: str = MANIFEST) -> ConfigError:
    hint = "a dagy.toml holds [tags], [[deployments]] and, at the root, settings: " + ", ".join(
        _SETTINGS
    )
    return _err(rel, loc.line(key), f"unknown key {key!r}", hint)


def _err(path: str, line: int, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError(message, path=path, line=line, col=1, hint=hint)


def _type_name(kind: type) -> str:
    return _TYPE_NAMES.get(kind, kind.__name__)


# ---------------------------------------------------------------- settings


def read_settings(repo_root: Path) -> tuple[Settings, list[ConfigError]]:
    """The settings plus every problem found in them (defaults stand in for bad values)."""
    errors: Errors = []
    sources: list[tuple[str, dict[str, Any], Callable[[str], int]]] = []
    parsed = _read_toml(repo_root, MANIFEST, errors) if (repo_root / MANIFEST).is_file() else None
    if parsed is not None:
        # A misspelt setting must not silently fall back to its default.
        errors += [_unknown_key(k, parsed[1]) for k in parsed[0] if k not in _ROOT_KEYS]
        table = {k: v for k, v in parsed[0].items() if k in _SETTINGS}
        if table:
            sources.append((MANIFEST, table, parsed[1].line))
    parsed = _read_toml(repo_root, PYPROJECT, errors) if (repo_root / PYPROJECT).is_file() else None
    if parsed is not None:
        tool, loc = parsed[0].get("tool"), parsed[1]
        ours = tool.get("dagy-git") if isinstance(tool, dict) else None
        if ours is not None and not isinstance(ours, dict):
            errors.append(_err(PYPROJECT, loc.line("tool", "dagy-git"), "must be a table"))
        elif ours:
            sources.append((PYPROJECT, ours, lambda key: loc.line("tool", "dagy-git", key)))
    if len(sources) > 1:
        message = "settings are in both dagy.toml and pyproject.toml [tool.dagy-git]"
        line = sources[1][2](next(iter(sources[1][1])))
        errors.append(_err(PYPROJECT, line, message, "keep them in one of the two files"))
    if not sources:
        return Settings(repo_root=repo_root), errors
    rel, table, line_of = sources[0]
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in _SETTINGS:
            hint = f"known settings: {', '.join(_SETTINGS)}"
            errors.append(_err(rel, line_of(key), f"unknown setting {key!r}", hint))
            continue
        try:
            values[key] = _check_setting(repo_root, key, value)
        except DagyError as exc:
            errors.append(_err(rel, line_of(key), f"setting {key!r}: {exc.message}", exc.hint))
    return Settings(repo_root=repo_root, config_path=rel, **values), errors


def load_settings(repo_root: Path) -> Settings:
    """The repository's settings; raises the first `ConfigError` found."""
    settings, errors = read_settings(repo_root)
    if errors:
        raise errors[0]
    return settings


def _check_setting(repo_root: Path, key: str, raw: object) -> Any:
    kind = _SETTINGS[key]
    if not isinstance(raw, kind) or (kind is not bool and isinstance(raw, bool)):
        raise ConfigError(f"must be a {_type_name(kind)}, got {_type_name(type(raw))}")
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
    if key in ("flow_paths", "mutable_versions"):
        for item in value:
            if not isinstance(item, str) or not item:
                raise ConfigError("must be a list of non-empty strings")
            if key == "mutable_versions":
                names.validate_version(item)
            elif _is_absolute(item) or ".." in item.split("/"):
                raise ConfigError(f"glob {item!r} must be relative to the repository root")
        return tuple(value)
    if key == "remote" and (not value or value.startswith("-")):
        raise ConfigError(f"{value!r} is not a remote name")
    return value


def _repo_relative(repo_root: Path, value: str) -> str:
    # Traversal is refused lexically, and again after resolving symlinks.
    if _is_absolute(value) or "\\" in value:
        raise ConfigError(f"{value!r} must be a relative '/'-separated path")
    norm = posixpath.normpath(value) if value else "."
    real_root = repo_root.resolve()
    target = (real_root / norm).resolve()
    if norm == ".." or norm.startswith("../") or not target.is_relative_to(real_root):
        raise ConfigError(f"{value!r} points outside the repository")
    return "" if norm == "." else norm


def _is_absolute(value: str) -> bool:
    return value.startswith(("/", "\\")) or re.match(r"[A-Za-z]:", value) is not None


# ---------------------------------------------------------------- manifests


def collect_manifests(
    repo_root: Path, files: list[str] | None = None
) -> tuple[list[Manifest], list[ConfigError]]:
    """Every `dagy.toml` (sorted by path) plus every problem found in them.

    A deployment entry with a problem is left out. Duplicate deployment names are not
    checked here: see `duplicate_deployments`.
    """
    if files is None:
        files = gitio.list_files(repo_root)
    manifests: list[Manifest] = []
    errors: Errors = []
    for rel in sorted(f for f in files if posixpath.basename(f) == MANIFEST):
        parsed = _read_toml(repo_root, rel, errors)
        if parsed is not None:
            manifests.append(_parse_manifest(rel, parsed[0], parsed[1], errors))
    return manifests, errors


def load_manifests(repo_root: Path, files: list[str] | None = None) -> list[Manifest]:
    """Every `dagy.toml` of the repository; raises the first `ConfigError` found."""
    manifests, errors = collect_manifests(repo_root, files)
    errors += [duplicate_error(group[1], group) for group in duplicate_deployments(manifests)]
    if errors:
        raise errors[0]
    return manifests


def duplicate_deployments(manifests: list[Manifest]) -> list[list[DeploymentEntry]]:
    """Groups (in manifest order) of deployments that share one name."""
    by_name: dict[str, list[DeploymentEntry]] = {}
    for manifest in manifests:
        for entry in manifest.deployments:
            by_name.setdefault(entry.name, []).append(entry)
    return [group for group in by_name.values() if len(group) > 1]


def duplicate_error(at: DeploymentEntry, group: list[DeploymentEntry]) -> ConfigError:
    """The error for a deployment name defined more than once, reported at `at`."""
    where = " and ".join(f"{e.manifest}:{e.line}" for e in group)
    message = f"deployment {at.name!r} is defined more than once: {where}"
    return _err(at.manifest, at.line, message, "deployment names are unique in a repository")


def _parse_manifest(rel: str, data: dict[str, Any], loc: Locator, errors: Errors) -> Manifest:
    directory = posixpath.dirname(rel)
    tags: dict[str, str] = {}
    deployments: list[DeploymentEntry] = []
    for key, value in data.items():
        if key == "tags":
            tags = _check_tags(rel, value, lambda k: loc.line("tags", *k), errors)
        elif key == "deployments" and isinstance(value, list):
            for n, entry in enumerate(value):
                parsed = _parse_deployment(rel, directory, entry, n, loc, errors)
                if parsed is not None:
                    deployments.append(parsed)
        elif key == "deployments":
            hint = "write each deployment as a [[deployments]] table"
            errors.append(_err(rel, loc.line(key), "deployments must be an array of tables", hint))
        elif key not in _SETTINGS:
            errors.append(_unknown_key(key, loc, rel))
        elif rel != MANIFEST:  # settings at the root are read_settings' business
            message = f"setting {key!r} is only read from the repository root's dagy.toml"
            errors.append(_err(rel, loc.line(key), message))
    return Manifest(rel, directory, tags, tuple(deployments))


def _check_tags(
    rel: str, value: Any, line_of: Callable[[tuple[str, ...]], int], errors: Errors
) -> dict[str, str]:
    if not isinstance(value, dict):
        message = f"tags must be a table of strings, got {_type_name(type(value))}"
        errors.append(_err(rel, line_of(()), message))
        return {}
    tags: dict[str, str] = {}
    for key, item in value.items():
        try:
            tags.update([names.validate_tag(key, item)])
        except DagyError as exc:
            errors.append(_err(rel, line_of((key,)), exc.message, exc.hint))
    return tags


def _parse_deployment(
    rel: str, directory: str, entry: Any, n: int, loc: Locator, errors: Errors
) -> DeploymentEntry | None:
    head = loc.entry("deployments", n)
    if not isinstance(entry, dict):
        errors.append(_err(rel, head, "each deployment must be a table"))
        return None
    before = len(errors)

    def fail(key: str | None, message: str, hint: str | None = None) -> None:
        errors.append(_err(rel, loc.entry("deployments", n, key), message, hint))

    for key in entry:
        if key not in _DEPLOYMENT_KEYS:
            fail(key, f"unknown deployment key {key!r}", f"known: {', '.join(_DEPLOYMENT_KEYS)}")
    for key in ("name", "flow"):
        if key not in entry:
            fail(None, f"deployment is missing {key!r}")
    checks: dict[str, tuple[type, Callable[[Any], Any]]] = {
        "name": (str, lambda v: names.validate_name(v, "deployment name")),
        "flow": (str, lambda v: _parse_flow_ref(directory, v)),
        "schedule": (str, validate_schedule),
        "namespace": (str, names.validate_namespace),
        "flow_version": (str, names.validate_version),
        "parameters": (dict, _check_parameters),
    }
    out: dict[str, Any] = {}
    for key, (kind, check) in checks.items():
        if key not in entry:
            continue
        if not isinstance(entry[key], kind):
            got = _type_name(type(entry[key]))
            fail(key, f"deployment {key!r} must be a {_type_name(kind)}, got {got}")
            continue
        try:
            out[key] = check(entry[key])
        except DagyError as exc:
            fail(key, exc.message, exc.hint)
    tags_line = loc.entry("deployments", n, "tags")
    tags = _check_tags(rel, entry.get("tags", {}), lambda _k: tags_line, errors)
    if len(errors) > before:
        return None
    flow_path, function = out["flow"]
    return DeploymentEntry(
        name=out["name"],
        flow_path=flow_path,
        function=function,
        schedule=out.get("schedule"),
        parameters=out.get("parameters", {}),
        tags=tags,
        namespace=out.get("namespace"),
        flow_version=out.get("flow_version"),
        manifest=rel,
        line=head,
    )


def _parse_flow_ref(directory: str, value: str) -> tuple[str, str | None]:
    path, function = value, None
    if ":" in value and not _is_absolute(value):
        path, _, function = value.rpartition(":")
        if not function.isidentifier():
            hint = 'write flow = "path/file.py:function"'
            raise ConfigError(f"flow {value!r}: {function!r} is not a function name", hint=hint)
    here = "paths are relative to the folder of this dagy.toml"
    if not path or _is_absolute(path) or "\\" in path:
        raise ConfigError(f"flow {value!r} must be a relative '/'-separated path", hint=here)
    if not path.endswith(".py"):
        raise ConfigError(f"flow {value!r} must name a .py file")
    full = posixpath.normpath(posixpath.join(directory, path))
    if full == ".." or full.startswith("../"):
        raise ConfigError(f"flow {value!r} points outside the repository", hint=here)
    return full, function


def _check_parameters(value: dict[str, Any]) -> dict[str, Any]:
    def check(item: Any) -> None:
        # Parameters are stored as JSON, and TOML dates and times have no JSON form.
        if isinstance(item, (datetime, date, time)):
            raise ConfigError(f"parameter value {item} is a TOML date/time; quote it")
        if isinstance(item, (dict, list)):
            for sub in item.values() if isinstance(item, dict) else item:
                check(sub)

    check(value)
    try:
        return names.validate_parameters(value)
    except InvalidNameError as exc:
        raise ConfigError(exc.message) from None


def inherited_tags(manifests: list[Manifest], flow_path: str) -> dict[str, str]:
    """The `[tags]` of every manifest in `flow_path`'s folder and above; deeper wins per key."""
    folder = posixpath.dirname(flow_path)
    depth: Callable[[Manifest], int] = lambda m: m.directory.count("/") + bool(m.directory)  # noqa: E731
    tags: dict[str, str] = {}
    for m in sorted(manifests, key=depth):
        if m.directory == "" or folder == m.directory or folder.startswith(m.directory + "/"):
            tags.update(m.tags)
    return tags


# ---------------------------------------------------------------- flow discovery


def discover_flow_files(
    settings: Settings, files: list[str] | None = None, *, sources: dict[str, bytes] | None = None
) -> list[str]:
    """The repository's flow files, sorted, repo-relative POSIX.

    With `flow_paths`, the `.py` files its globs match; otherwise every `.py` file whose
    bytes mention dagy (each read once, and kept in `sources` when given).
    """
    from .analyze import mentions_dagy

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
        if mentions_dagy(data):
            found.append(rel)
            if sources is not None:
                sources[rel] = data
    return sorted(found)


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
