"""One `@flow` function → its FlowSpec: options, parameters, the walk, nodes and edges."""

from __future__ import annotations

import ast
from collections.abc import Callable

from dagy_git.analysis.graph import Graph, Node
from dagy_git.analysis.module import ModuleInfo, TaskDef
from dagy_git.analysis.pyfiles import source_segment
from dagy_git.analysis.walker import FlowWalker
from dagy_git.errors import SpecError, SpecWarning
from dagy_git.models import FlowSpec, ParameterSpec, TaskSpec

__all__ = ["flow_spec"]

Fn = ast.FunctionDef | ast.AsyncFunctionDef


def flow_spec(
    mod: ModuleInfo,
    fn: Fn,
    lines: Callable[[], list[str]],
    errors: list[SpecError],
    warnings: list[SpecWarning],
) -> FlowSpec | None:
    """The FlowSpec of one flow function; None when it has errors (added to `errors`)."""
    found = mod.definition(fn)
    warnings += mod.definition_warnings(fn)
    definition = found if isinstance(found, TaskDef) else None
    if isinstance(found, list):
        errors += found
    parameters = _parameters(mod, fn, lines, errors)
    graph = Graph()
    FlowWalker(mod, fn, graph).run()
    errors += graph.errors
    warnings += graph.warnings
    tasks = [_task_spec(node) for node in graph.nodes]
    edges = sorted({(up, down) for down, ups in graph.upstreams.items() for up in ups})
    cycle = find_cycle([t.id for t in tasks], edges)
    if cycle:
        errors.append(
            mod.error(
                "cycle: " + " -> ".join(cycle),
                fn,
                hint="a task whose result feeds itself through a loop is a cycle; "
                "a flow must be a DAG",
            )
        )
    if errors or definition is None:
        return None
    extra = {"options": dict(definition.options)} if definition.options else {}
    return FlowSpec(
        name=definition.name,
        version=definition.version or "latest",
        function=fn.name,
        description=definition.description,
        parameters=parameters,
        tasks=tasks,
        edges=edges,
        retries=definition.retries,
        retry_delay_seconds=_delay(definition),
        timeout_seconds=definition.timeout_seconds,
        **extra,
    )


def _delay(task: TaskDef) -> float | list[float]:
    delay = task.retry_delay_seconds
    return list(delay) if isinstance(delay, tuple) else delay


def _task_spec(node: Node) -> TaskSpec:
    task = node.task
    return TaskSpec(
        id=node.id,
        name=task.name,
        function=task.function,
        module=node.module,
        description=task.description,
        retries=task.retries,
        retry_delay_seconds=_delay(task),
        timeout_seconds=task.timeout_seconds,
        kind=task.kind,
        flow_version=task.version if task.kind == "flow" else None,
        mapped=node.mapped,
        options=dict(task.options),
    )


def _parameters(
    mod: ModuleInfo, fn: Fn, lines: Callable[[], list[str]], errors: list[SpecError]
) -> list[ParameterSpec]:
    """The flow's parameters; annotation and default as their exact source text.

    Not `ast.unparse`: its text differs between Python versions, and the spec (so the
    code_hash) must not depend on which Python computed it. The exact text costs no
    stability: any edit to it changes the file's hash, and so the code_hash, anyway.
    """
    args = fn.args
    for star, what in ((args.vararg, "*"), (args.kwarg, "**")):
        if star is not None:
            errors.append(
                mod.error(
                    f"flow {fn.name!r} takes {what}{star.arg}; flow parameters must be named",
                    star,
                )
            )
    positional = [*args.posonlyargs, *args.args]
    defaults: list[ast.expr | None] = [None] * (len(positional) - len(args.defaults))
    defaults += args.defaults
    pairs = [
        *zip(positional, defaults, strict=True),
        *zip(args.kwonlyargs, args.kw_defaults, strict=True),
    ]
    return [
        ParameterSpec(
            name=arg.arg,
            annotation=None if arg.annotation is None else source_segment(lines(), arg.annotation),
            default=None if default is None else source_segment(lines(), default),
            required=default is None,
        )
        for arg, default in pairs
    ]


def find_cycle(nodes: list[str], edges: list[tuple[str, str]]) -> list[str] | None:
    """One cycle of the edge graph as a path `a, b, a` (self edges included), or None."""
    graph: dict[str, list[str]] = {n: [] for n in nodes}
    for up, down in edges:
        graph.setdefault(up, []).append(down)
    state: dict[str, int] = {}  # 1 = on the current path, 2 = done
    for start in graph:
        if start in state:
            continue
        path = [start]
        state[start] = 1
        stack = [iter(graph[start])]
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return [*path[path.index(nxt) :], nxt]
            elif nxt not in state:
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(graph.get(nxt, [])))
    return None
