"""What the analyser needs from the repository's settings: which modules are dagy's SDK, and
which installed modules hold tasks (`sdk_modules`, `task_modules` in `dagy.toml`).

The analyser never reads settings files itself (it depends only on the pure core); callers
pass their `Settings`, or anything with these two attributes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

__all__ = ["DEFAULT", "AnalysisSettings", "ModuleSettings"]


class ModuleSettings(Protocol):
    """Anything carrying the analyser's two settings (e.g. `dagy_git.config.Settings`)."""

    @property
    def sdk_modules(self) -> tuple[str, ...]: ...

    @property
    def task_modules(self) -> tuple[str, ...]: ...


@dataclass(frozen=True)
class AnalysisSettings:
    """The analyser's settings, hashable (they key the module cache)."""

    sdk_modules: tuple[str, ...] = ("dagy", "dagy_git")
    task_modules: tuple[str, ...] = ()

    @classmethod
    def of(cls, settings: ModuleSettings | None) -> AnalysisSettings:
        """The analyser's view of a caller's settings (the defaults for None)."""
        if settings is None:
            return DEFAULT
        if isinstance(settings, AnalysisSettings):
            return settings
        return cls(tuple(settings.sdk_modules), tuple(settings.task_modules))

    def is_sdk(self, module: str) -> bool:
        """Whether `module` is (a submodule of) a recognised SDK module."""
        return _matches(module, self.sdk_modules, submodules=True)

    def is_task_module(self, module: str) -> bool:
        """Whether `module` (outside the repository) is declared to hold tasks."""
        return _matches(module, self.task_modules, submodules=False)


def _matches(module: str, patterns: tuple[str, ...], *, submodules: bool) -> bool:
    for pattern in patterns:
        if pattern.endswith(".*"):
            if module.startswith(pattern[:-1]):
                return True
        elif module == pattern or (submodules and module.startswith(pattern + ".")):
            return True
    return False


DEFAULT = AnalysisSettings()
