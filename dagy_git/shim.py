"""`import dagy` without Dagy installed: this SDK stands in for it.

Flow files are written `from dagy import flow, task`. To run them where only dagy-git is
installed (tests, the runs worker, a laptop), `install_dagy_shim()` registers a module named
`dagy` that exposes this SDK's names, with the submodules flow files import from
(`dagy.tasks`, `dagy.futures`, `dagy.task_runners`, …). An installed Dagy always wins: the
shim never shadows it.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from types import ModuleType

from dagy_git import runtime, sdk
from dagy_git.runtime import compat

__all__ = ["EXPORTS", "SUBMODULES", "install_dagy_shim"]

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
# The submodules flow files import from (`from dagy.tasks import task_input_hash`).
SUBMODULES: dict[str, dict[str, object]] = {
    "tasks": {
        "task": sdk.task,
        "Task": sdk.Task,
        "task_input_hash": compat.task_input_hash,
        "exponential_backoff": compat.exponential_backoff,
    },
    "flows": {"flow": sdk.flow, "Flow": sdk.Flow},
    "futures": {
        "wait": runtime.wait,
        "TaskFuture": runtime.TaskFuture,
        "FutureList": runtime.FutureList,
    },
    "task_runners": {
        name: getattr(compat, name)
        for name in ("ConcurrentTaskRunner", "SequentialTaskRunner", "ThreadPoolTaskRunner")
    },
    "logging": {"get_run_logger": runtime.get_run_logger},
    "states": {"State": runtime.State},
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
    module.__path__ = []  # a package: `import dagy.tasks` works
    for sub, names in SUBMODULES.items():
        child = ModuleType(f"dagy.{sub}")
        for name, value in names.items():
            setattr(child, name, value)
        child.__all__ = list(names)  # type: ignore[attr-defined]
        setattr(module, sub, child)
        sys.modules[f"dagy.{sub}"] = child
    sys.modules["dagy"] = module
    return module
