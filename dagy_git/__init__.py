"""dagy-git: a git-native registry for Dagy flows."""

from __future__ import annotations

# sdk imports only the standard library and the pure core (no typer, rich or git), so
# `from dagy_git import flow, task` stays cheap for flow files.
from .sdk import Flow, Task, flow, task

__all__ = ["Flow", "Task", "__version__", "flow", "task"]

__version__ = "0.1.0"
