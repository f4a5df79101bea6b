"""What the analyser knows of a `@task` or `@flow` before it is called: `TaskDef`."""

from __future__ import annotations

import ast
import dataclasses
from dataclasses import dataclass

from dagy_git.analysis.decorators import Options
from dagy_git.errors import SpecWarning

__all__ = ["FORMS", "Fn", "TaskDef"]

# How a task or flow may be called besides directly: `t.submit(x)`, `t.map(xs)`, `t.fn(x)`,
# `t.with_options(...)(x)`.
FORMS = frozenset({"submit", "map", "fn", "with_options"})

Fn = ast.FunctionDef | ast.AsyncFunctionDef


@dataclass(frozen=True)
class TaskDef:
    """A `@task` (or, with kind "flow", a `@flow`) as declared: not yet a call site."""

    function: str
    name: str
    description: str | None = None
    retries: int = 0
    retry_delay_seconds: float | tuple[float, ...] = 0.0
    timeout_seconds: float | None = None
    kind: str = "task"
    version: str | None = None  # a flow's version
    options: tuple[tuple[str, str], ...] = ()
    # Where the definition is approximate (a computed option): every flow calling it is too.
    warnings: tuple[SpecWarning, ...] = dataclasses.field(default=(), compare=False, repr=False)

    def with_options(self, opts: Options) -> TaskDef:
        """This definition with `.with_options(...)` applied (typed fields and text merged)."""
        typed = {k: tuple(v) if isinstance(v, list) else v for k, v in opts.typed.items()}
        merged = dict(self.options) | opts.text
        for key in typed:
            merged.pop(key, None)  # a typed value given now replaces text kept before
        return dataclasses.replace(self, **typed, options=tuple(sorted(merged.items())))  # type: ignore[arg-type]
