"""dagy-git: a git-native registry for Dagy flows.

The public Python API: `flow` and `task` (decorators), `FlowSpec` (the static spec),
`Registry` (the registry branch and version tags) and `DagyError` (every user-facing error).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

# sdk imports only the standard library and the pure core (no typer, rich or git), so
# `from dagy_git import flow, task` stays cheap for flow files.
from dagy_git.sdk import Flow, Task, flow, task

if TYPE_CHECKING:
    from dagy_git.errors import DagyError
    from dagy_git.models import FlowSpec
    from dagy_git.registry import Registry

__all__ = ["DagyError", "Flow", "FlowSpec", "Registry", "Task", "__version__", "flow", "task"]

__version__ = "0.1.0"

_LAZY = {"DagyError": "errors", "Registry": "registry", "FlowSpec": "models"}


def __getattr__(name: str) -> Any:
    # The registry and the models pull in pydantic: load them only when asked for.
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'dagy_git' has no attribute {name!r}")
