"""Python source → FlowSpecs, statically: user code is parsed with `ast`, never imported or run.

This is what lets the pre-commit hook and CI validate and hash flows without the flows' own
dependencies installed, safely and fast. The SDK's `Flow.build()` calls it too, so every
entry point computes the same spec and `code_hash`. docs/flows.md describes, for users, the
subset of Python a flow body may use; anything outside it is a `SpecError` with file, line
and column, never a silent guess.
"""

from __future__ import annotations

import ast
import functools
import gc
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from dagy_git import hashing
from dagy_git.analysis.module import ModuleInfo, TaskDef
from dagy_git.analysis.pyfiles import display_path as _display_path
from dagy_git.analysis.pyfiles import parse_module, read_problem, source_lines, source_segment
from dagy_git.analysis.walker import FlowWalker
from dagy_git.errors import DagyError, SpecError
from dagy_git.models import FlowSpec, ParameterSpec, TaskSpec
from dagy_git.names import validate_name

__all__ = [
    "AnalyzedFlow",
    "FileAnalysis",
    "analyze_file",
    "analyze_source",
    "build_flows",
    "mentions_dagy",
]

_NO_GC_ABOVE = 256 * 1024  # bytes; see analyze_source


@dataclass(frozen=True)
class AnalyzedFlow:
    """One flow of a file: its spec, where it is, and its hashes."""

    spec: FlowSpec
    path: str
    line: int
    source_file_hash: str
    code_hash: str


@dataclass(frozen=True)
class FileAnalysis:
    """Every flow of one file that analysed cleanly, and every problem found."""

    path: str
    flows: list[AnalyzedFlow] = field(default_factory=list)
    problems: list[SpecError] = field(default_factory=list)


def mentions_dagy(source: bytes) -> bool:
    """Whether a file may hold flows at all (cheap: flows must import dagy or dagy_git)."""
    return b"dagy" in source


def analyze_source(
    source: bytes,
    path: str,
    *,
    repo_root: Path | None = None,
    file_path: Path | None = None,
) -> FileAnalysis:
    """Analyse the bytes of one Python file; `file_path` lets imports of tasks be followed."""
    problem = read_problem(source, path)
    if problem is not None:
        return FileAnalysis(path, [], [problem])
    text = source.decode("utf-8").removeprefix("\ufeff")
    # A big file's AST is a million small objects; the cyclic GC would rescan them over and
    # over while they are built (3x slower). Nothing here creates garbage cycles.
    pause_gc = len(source) > _NO_GC_ABOVE and gc.isenabled()
    if pause_gc:
        gc.disable()
    try:
        return _analyze_text(text, source, path, repo_root, file_path)
    finally:
        if pause_gc:
            gc.enable()


def analyze_file(
    file_path: Path, *, repo_root: Path | None = None, display_path: str | None = None
) -> FileAnalysis:
    """Analyse one file on disk; paths in results are `display_path` or repo-relative."""
    path = display_path or _display_path(file_path, repo_root)
    try:
        source = Path(file_path).read_bytes()
    except OSError as exc:
        return FileAnalysis(path, [], [SpecError(f"cannot read file: {exc.strerror}", path=path)])
    return analyze_source(source, path, repo_root=repo_root, file_path=Path(file_path))


def build_flows(
    file_path: Path, *, repo_root: Path | None = None, display_path: str | None = None
) -> list[AnalyzedFlow]:
    """The flows of a file; raises its first problem (a `SpecError`) if it has any."""
    result = analyze_file(file_path, repo_root=repo_root, display_path=display_path)
    if result.problems:
        raise result.problems[0]
    return result.flows


# -- internals ------------------------------------------------------------------------------
def _analyze_text(
    text: str, source: bytes, path: str, repo_root: Path | None, file_path: Path | None
) -> FileAnalysis:
    try:
        tree = parse_module(text, path)
    except SyntaxError as exc:
        return FileAnalysis(
            path,
            [],
            [SpecError(f"syntax error: {exc.msg}", path=path, line=exc.lineno, col=exc.offset)],
        )
    except (ValueError, RecursionError, MemoryError) as exc:
        return FileAnalysis(path, [], [SpecError(f"cannot be parsed: {exc}", path=path)])
    mod = ModuleInfo(tree, text, path, file_path, repo_root)
    problems: list[SpecError] = []
    flows: list[AnalyzedFlow] = []
    source_hash = hashing.source_file_hash(source)
    seen: dict[tuple[str, str], int] = {}
    lines = functools.cache(lambda: source_lines(text))  # split once, and only if needed
    for fn in mod.functions:
        kinds = {k for d in fn.decorator_list if (k := mod.decorator_kind(d))}
        if len(kinds) > 1:
            problems.append(mod.error(f"{fn.name!r} cannot be both a @task and a @flow", fn))
            continue
        found = mod.dagy_decorator(fn)
        if found is None:
            continue
        if found[0] == "task":
            task = mod.task_def(fn)
            if not isinstance(task, TaskDef):
                problems.extend(task)
            continue
        flow_problems: list[SpecError] = []
        try:
            analyzed = _analyze_flow(mod, fn, found[1], source_hash, lines, flow_problems)
        except RecursionError:
            flow_problems.append(mod.error("flow is too deeply nested to analyse", fn))
            analyzed = None
        if analyzed is not None and not flow_problems:
            key = (analyzed.spec.name, analyzed.spec.version)
            if key in seen:
                flow_problems.append(
                    mod.error(
                        f"flow {key[0]!r} version {key[1]!r} is defined twice in this file "
                        f"(first at line {seen[key]})",
                        fn,
                        hint="give one of them another name= or version=",
                    )
                )
            else:
                seen[key] = fn.lineno
                flows.append(analyzed)
        problems.extend(flow_problems)
    problems.sort(key=lambda p: (p.path != path, p.line or 0, p.col or 0))
    return FileAnalysis(path, flows, problems)


def _analyze_flow(
    mod: ModuleInfo,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    deco: ast.expr,
    source_hash: str,
    lines: Callable[[], list[str]],
    problems: list[SpecError],
) -> AnalyzedFlow | None:
    opts = mod.options("flow", deco, problems)
    if isinstance(fn, ast.AsyncFunctionDef):
        problems.append(mod.error(f"async flow {fn.name!r} is not supported", fn))
    if "name" not in opts:
        try:
            validate_name(fn.name, "flow name")
        except DagyError as exc:
            problems.append(
                mod.error(exc.message, fn, hint="give it a valid name: @flow(name=...)")
            )
    parameters = _parameters(mod, fn, lines, problems)
    walker = FlowWalker(mod, fn)
    walker.run()
    problems.extend(walker.problems)
    tasks = [
        TaskSpec(
            id=node_id,
            name=task.name,
            function=task.function,
            module=module,
            description=task.description,
            retries=task.retries,
            retry_delay_seconds=task.retry_delay_seconds,
            timeout_seconds=task.timeout_seconds,
        )
        for node_id, task, module in walker.nodes
    ]
    edges = sorted({(up, down) for down, ups in walker.upstreams.items() for up in ups})
    cycle = _find_cycle([t.id for t in tasks], edges)
    if cycle:
        problems.append(
            mod.error(
                "cycle: " + " -> ".join(cycle),
                fn,
                hint="a task whose result feeds itself through a loop is a cycle; "
                "a flow must be a DAG",
            )
        )
    if problems:
        return None
    timeout = opts.get("timeout_seconds")
    spec = FlowSpec(
        name=str(opts.get("name", fn.name)),
        version=str(opts.get("version", "latest")),
        function=fn.name,
        description=opts.get("description"),
        parameters=parameters,
        tasks=tasks,
        edges=edges,
        retries=opts.get("retries", 0),
        retry_delay_seconds=opts.get("retry_delay_seconds", 0.0),
        timeout_seconds=timeout,
    )
    return AnalyzedFlow(
        spec=spec,
        path=mod.path,
        line=fn.lineno,
        source_file_hash=source_hash,
        code_hash=hashing.code_hash(spec.to_json(), source_hash),
    )


def _parameters(
    mod: ModuleInfo,
    fn: ast.FunctionDef | ast.AsyncFunctionDef,
    lines: Callable[[], list[str]],
    problems: list[SpecError],
) -> list[ParameterSpec]:
    """The flow's parameters; annotation and default as their exact source text.

    Not `ast.unparse`: its text differs between Python versions, and the spec (so the
    code_hash) must not depend on which Python computed it. The exact text costs no
    stability: any edit to it changes the file's hash, and so the code_hash, anyway.
    """
    args = fn.args
    for star, what in ((args.vararg, "*"), (args.kwarg, "**")):
        if star is not None:
            problems.append(
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


def _find_cycle(nodes: list[str], edges: list[tuple[str, str]]) -> list[str] | None:
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
