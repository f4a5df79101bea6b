"""`import dagy` without Dagy installed: this SDK stands in for it.

Flow files are written `from dagy import flow, task`. To run them where only dagy-git is
installed (tests, the runs worker, a laptop), `install_dagy_shim()` registers a module named
`dagy` that exposes this SDK's names. An installed Dagy always wins: the shim never shadows it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

from dagy_git import runtime, sdk

__all__ = ["EXPORTS", "install_dagy_shim"]

# What flow files import from dagy, and where this SDK keeps it.
EXPORTS: dict[str, object] = {
    "flow": sdk.flow,
    "task": sdk.task,
    "Flow": sdk.Flow,
    "Task": sdk.Task,
    "get_run_logger": runtime.get_run_logger,
    "unmapped": runtime.unmapped,
    "wait": runtime.wait,
    "State": runtime.State,
    "TaskFuture": runtime.TaskFuture,
}


def install_dagy_shim() -> ModuleType:
    """Make `import dagy` work: the installed Dagy if there is one, else this SDK as `dagy`.

    Idempotent; returns the module that `import dagy` now gives.
    """
    existing = sys.modules.get("dagy")
    if existing is not None:
        return existing
    if importlib.util.find_spec("dagy") is not None:
        return importlib.import_module("dagy")
    module = ModuleType("dagy", "dagy-git's SDK standing in for Dagy (`install_dagy_shim`).")
    for name, value in EXPORTS.items():
        setattr(module, name, value)
    module.__all__ = list(EXPORTS)  # type: ignore[attr-defined]
    module.__dagy_git_shim__ = True  # type: ignore[attr-defined]
    sys.modules["dagy"] = module
    return module
