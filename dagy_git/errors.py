"""The error types of dagy-git.

Every user mistake is a `DagyError`: the CLI prints it as ``error: …`` (plus an optional
``hint: …``) and exits 1, never with a traceback. Anything else is a bug and exits 3.
"""

from __future__ import annotations

from pathlib import Path


class DagyError(Exception):
    """A user-facing error: what went wrong and where, plus an optional hint."""

    level = "error"  # "warning" for problems that do not stop anything (see SpecWarning)

    def __init__(
        self,
        message: str,
        *,
        hint: str | None = None,
        path: str | Path | None = None,
        line: int | None = None,
        col: int | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.path = str(path) if path is not None else None
        self.line = line
        self.col = col

    @property
    def location(self) -> str:
        """`path:line:col` (as much of it as is known), or an empty string."""
        if self.path is None:
            return ""
        parts = [self.path]
        if self.line is not None:
            parts.append(str(self.line))
            parts.append(str(self.col if self.col is not None else 1))
        return ":".join(parts)

    def __str__(self) -> str:
        loc = self.location
        return f"{loc}: {self.message}" if loc else self.message


class InvalidNameError(DagyError):
    """A flow, deployment, namespace, version or tag that breaks the naming rules."""


class SpecError(DagyError):
    """A flow file the static analyser cannot turn into a FlowSpec."""


class SpecWarning(SpecError):
    """Where a FlowSpec is approximate (a computed option or callee, a cut-off recursion).

    Never raised: collected next to the errors, and fatal only under `validate --strict`.
    """

    level = "warning"


class ConfigError(DagyError):
    """A malformed `dagy.toml` / `pyproject.toml` setting or manifest."""


class RegistryError(DagyError):
    """The registry branch or its tags are missing, corrupted or inconsistent."""


class RefusedError(DagyError):
    """An operation the registry refuses (e.g. moving a version to another namespace)."""


class GitError(DagyError):
    """A git command failed in a way the user can act on."""


class ConflictError(DagyError):
    """Another writer moved the registry first; the caller may re-plan and retry."""


class NotFoundError(DagyError):
    """The flow version, deployment or draft asked for does not exist."""
