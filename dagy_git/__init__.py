"""dagy-git: a git-native registry for Dagy flows.

The public Python API: `flow` and `task` (decorators), `get_run_logger` and `unmapped` (for
flow code), `FlowSpec` (the static spec), `Registry` (the registry branch and version tags),
`DagyError` (every user-facing error) and `install_dagy_shim` (`import dagy` without Dagy).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from dagy_git.errors import DagyError
    from dagy_git.models import FlowSpec
    from dagy_git.registry import Registry
    from dagy_git.runtime import get_run_logger, unmapped
    from dagy_git.sdk import Flow, Task, flow, task
    from dagy_git.shim import install_dagy_shim

__all__ = [
    "DagyError",
    "Flow",
    "FlowSpec",
    "Registry",
    "Task",
    "__version__",
    "flow",
    "get_run_logger",
    "install_dagy_shim",
    "task",
    "unmapped",
]

__version__ = "0.1.0"

_LAZY = {
    "DagyError": "errors",
    "Registry": "registry",
    "FlowSpec": "models",
    "Flow": "sdk",
    "Task": "sdk",
    "flow": "sdk",
    "task": "sdk",
    "get_run_logger": "runtime",
    "unmapped": "runtime",
    "install_dagy_shim": "shim",
}


def __getattr__(name: str) -> Any:
    # Every name loads on first use: the CLI (`python -m dagy_git`) imports this package
    # first, and a read command needs neither the SDK nor pydantic (the models, registry).
    if name in _LAZY:
        from importlib import import_module

        return getattr(import_module(f".{_LAZY[name]}", __name__), name)
    raise AttributeError(f"module 'dagy_git' has no attribute {name!r}")
