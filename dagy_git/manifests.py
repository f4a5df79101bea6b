"""The `dagy.toml` manifests: `[tags]` and `[[deployments]]`, with file:line errors.

Any `dagy.toml` may hold `[tags]` (inherited by every flow below its folder, deeper manifests
winning per key) and `[[deployments]]`; settings, only read from the root one, are
`config.py`'s. Every mistake is a `ConfigError` naming the file, the key and its line.
"""

from __future__ import annotations

import posixpath
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from dagy_git import gitio, names
from dagy_git.config import (
    MANIFEST,
    SETTING_KEYS,
    Errors,
    error_at,
    is_absolute,
    load_toml,
    type_name,
    unknown_key,
)
from dagy_git.cron import validate_schedule, validate_timezone
from dagy_git.errors import ConfigError, DagyError, InvalidNameError
from dagy_git.tomlfile import Locator

__all__ = [
    "DeploymentEntry",
    "Manifest",
    "collect_manifests",
    "duplicate_deployments",
    "duplicate_error",
    "inherited_tags",
    "load_manifests",
]

_DEPLOYMENT_KEYS = (
    *("name", "flow", "schedule", "parameters", "tags", "namespace", "flow_version"),
    "timezone",
)


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
    timezone: str | None = None  # IANA name the schedule runs in (None: UTC)


@dataclass(frozen=True)
class Manifest:
    """One `dagy.toml`: its folder, its `[tags]` and its deployments."""

    path: str
    directory: str  # "" at the repo root
    tags: dict[str, str]
    deployments: tuple[DeploymentEntry, ...]


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
        parsed = load_toml(repo_root, rel, errors)
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
    return error_at(at.manifest, at.line, message, "deployment names are unique in a repository")


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
            errors.append(
                error_at(rel, loc.line(key), "deployments must be an array of tables", hint)
            )
        elif key not in SETTING_KEYS:
            errors.append(unknown_key(key, loc, rel))
        elif rel != MANIFEST:  # settings at the root are read_settings' business
            message = f"setting {key!r} is only read from the repository root's dagy.toml"
            errors.append(error_at(rel, loc.line(key), message))
    return Manifest(rel, directory, tags, tuple(deployments))


def _check_tags(
    rel: str, value: Any, line_of: Callable[[tuple[str, ...]], int], errors: Errors
) -> dict[str, str]:
    if not isinstance(value, dict):
        message = f"tags must be a table of strings, got {type_name(type(value))}"
        errors.append(error_at(rel, line_of(()), message))
        return {}
    tags: dict[str, str] = {}
    for key, item in value.items():
        try:
            tags.update([names.validate_tag(key, item)])
        except DagyError as exc:
            errors.append(error_at(rel, line_of((key,)), exc.message, exc.hint))
    return tags


def _parse_deployment(
    rel: str, directory: str, entry: Any, n: int, loc: Locator, errors: Errors
) -> DeploymentEntry | None:
    head = loc.entry("deployments", n)
    if not isinstance(entry, dict):
        errors.append(error_at(rel, head, "each deployment must be a table"))
        return None
    before = len(errors)

    def fail(key: str | None, message: str, hint: str | None = None) -> None:
        errors.append(error_at(rel, loc.entry("deployments", n, key), message, hint))

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
        "timezone": (str, validate_timezone),
        "namespace": (str, names.validate_namespace),
        "flow_version": (str, names.validate_version),
        "parameters": (dict, _check_parameters),
    }
    out: dict[str, Any] = {}
    for key, (kind, check) in checks.items():
        if key not in entry:
            continue
        if not isinstance(entry[key], kind):
            got = type_name(type(entry[key]))
            fail(key, f"deployment {key!r} must be a {type_name(kind)}, got {got}")
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
        timezone=out.get("timezone"),
    )


def _parse_flow_ref(directory: str, value: str) -> tuple[str, str | None]:
    path, function = value, None
    if ":" in value and not is_absolute(value):
        path, _, function = value.rpartition(":")
        if not function.isidentifier():
            hint = 'write flow = "path/file.py:function"'
            raise ConfigError(f"flow {value!r}: {function!r} is not a function name", hint=hint)
    here = "paths are relative to the folder of this dagy.toml"
    if not path or is_absolute(path) or "\\" in path:
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
