"""Python source → FlowSpecs, statically: user code is parsed with `ast`, never imported or run.

This is what lets the pre-commit hook and CI validate and hash flows without the flows' own
dependencies installed, safely and fast. The SDK's `Flow.build()` calls it too, so every
entry point computes the same spec and `code_hash`. docs/flows.md describes, for users, what
is understood. Problems are errors (the file cannot be specified: `problems`) or warnings
(the spec is approximate: `warnings`), each with file, line and column.
"""

from __future__ import annotations

import ast
import gc
import warnings as _warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from dagy_git import hashing
from dagy_git.analysis.flows import flow_spec
from dagy_git.analysis.imports import repo_imports
from dagy_git.analysis.module import ModuleInfo
from dagy_git.analysis.pyfiles import display_path as _display_path
from dagy_git.analysis.pyfiles import parse_module, read_problem, source_lines
from dagy_git.analysis.settings import AnalysisSettings, ModuleSettings
from dagy_git.errors import SpecError, SpecWarning
from dagy_git.models import FlowSpec, StoredSpec

P = TypeVar("P", bound=SpecError)

__all__ = [
    "AnalysisSettings",
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
    """One flow of a file: its spec, where it is, its hashes, and what it depends on.

    `repo_imports`: the repository modules the flow file imports, transitively, as sorted
    repo-relative paths (the file itself left out); `closure_hash` is computed from them.
    `warnings`: where this flow's spec is approximate.
    """

    spec: FlowSpec
    path: str
    line: int
    source_file_hash: str
    code_hash: str
    repo_imports: list[str] = field(default_factory=list)
    warnings: list[SpecWarning] = field(default_factory=list)

    @property
    def spec_ref(self) -> FlowSpec | StoredSpec:
        """The spec's name, version, function and JSON, for callers that need no more: a
        flow read back from the registry answers them without validating its spec."""
        return self.spec


@dataclass(frozen=True)
class FileAnalysis:
    """Every flow of one file that analysed cleanly, and every problem found.

    `problems` are errors (a flow with one is left out of `flows`); `warnings` say where a
    spec is approximate and never stop anything (but `validate --strict`).
    """

    path: str
    flows: list[AnalyzedFlow] = field(default_factory=list)
    problems: list[SpecError] = field(default_factory=list)
    warnings: list[SpecWarning] = field(default_factory=list)
    repo_imports: list[str] = field(default_factory=list)


def mentions_dagy(source: bytes, sdk_modules: tuple[str, ...] = ("dagy", "dagy_git")) -> bool:
    """Whether a file may hold flows at all (cheap: flows must import an SDK module)."""
    return any(module.split(".")[0].encode() in source for module in sdk_modules)


def analyze_source(
    source: bytes,
    path: str,
    *,
    repo_root: Path | None = None,
    file_path: Path | None = None,
    settings: ModuleSettings | None = None,
) -> FileAnalysis:
    """Analyse the bytes of one Python file; `file_path` lets imports of tasks be followed.

    `settings`: the repository's (`sdk_modules`, `task_modules`); the defaults when None.
    """
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
        return _analyze_text(
            text, source, path, repo_root, file_path, AnalysisSettings.of(settings)
        )
    finally:
        if pause_gc:
            gc.enable()


def analyze_file(
    file_path: Path,
    *,
    repo_root: Path | None = None,
    display_path: str | None = None,
    settings: ModuleSettings | None = None,
) -> FileAnalysis:
    """Analyse one file on disk; paths in results are `display_path` or repo-relative."""
    path = display_path or _display_path(file_path, repo_root)
    try:
        source = Path(file_path).read_bytes()
    except OSError as exc:
        return FileAnalysis(path, [], [SpecError(f"cannot read file: {exc.strerror}", path=path)])
    return analyze_source(
        source, path, repo_root=repo_root, file_path=Path(file_path), settings=settings
    )


def build_flows(
    file_path: Path,
    *,
    repo_root: Path | None = None,
    display_path: str | None = None,
    settings: ModuleSettings | None = None,
) -> list[AnalyzedFlow]:
    """The flows of a file; raises its first error (a `SpecError`) if it has any."""
    result = analyze_file(
        file_path, repo_root=repo_root, display_path=display_path, settings=settings
    )
    if result.problems:
        raise result.problems[0]
    return result.flows


# -- internals ------------------------------------------------------------------------------
def _analyze_text(
    text: str,
    source: bytes,
    path: str,
    repo_root: Path | None,
    file_path: Path | None,
    settings: AnalysisSettings,
) -> FileAnalysis:
    try:
        tree = parse_module(text, path)
        problem = _compile_problem(tree, path, text)
    except SyntaxError as exc:
        problem = SpecError(f"syntax error: {exc.msg}", path=path, line=exc.lineno, col=exc.offset)
    except (RecursionError, MemoryError):
        # CPython's parser gives up on deep nesting with a MemoryError that says nothing.
        problem = SpecError("cannot be parsed: too deeply nested", path=path)
    except (ValueError, OverflowError) as exc:
        problem = SpecError(f"cannot be parsed: {str(exc) or type(exc).__name__}", path=path)
    if problem is not None:
        return FileAnalysis(path, [], [problem])
    mod = ModuleInfo(tree, text, path, file_path, repo_root, settings)
    problems: list[SpecError] = []
    warnings: list[SpecWarning] = []
    flows: list[AnalyzedFlow] = []
    source_hash = hashing.source_file_hash(source)
    seen: dict[tuple[str, str], int] = {}
    lines = _Lines(text)  # split once, and only if needed
    imports: list[str] | None = None
    for fn, cls in _decorated(mod):
        kinds = {k for d in fn.decorator_list if (k := mod.decorator_kind(d))}
        if len(kinds) > 1:
            problems.append(mod.error(f"{fn.name!r} cannot be both a @task and a @flow", fn))
            continue
        found = mod.dagy_decorator(fn)
        if found is None:
            continue
        if found[0] == "task" or cls is not None:
            definition = mod.definition(fn, cls)
            if isinstance(definition, list):
                problems += definition
            warnings += mod.definition_warnings(fn)
            continue
        flow_problems: list[SpecError] = []
        flow_warnings: list[SpecWarning] = []
        try:
            spec = flow_spec(mod, fn, lines, flow_problems, flow_warnings)
        except RecursionError:
            flow_problems.append(mod.error("flow is too deeply nested to analyse", fn))
            spec = None
        warnings += flow_warnings
        if spec is not None and not flow_problems:
            key = (spec.name, spec.version)
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
                if imports is None:
                    imports = repo_imports(mod)
                flows.append(
                    AnalyzedFlow(
                        spec=spec,
                        path=mod.path,
                        line=fn.lineno,
                        source_file_hash=source_hash,
                        code_hash=hashing.code_hash(spec.to_json(), source_hash),
                        repo_imports=imports,
                        warnings=_sorted(flow_warnings, path),
                    )
                )
        problems.extend(flow_problems)
    unique = {(w.path, w.line, w.col, w.message): w for w in warnings}
    return FileAnalysis(
        path,
        flows,
        _sorted(problems, path),
        _sorted(list(unique.values()), path),
        imports if imports is not None else [],
    )


class _Lines:
    """The source's lines, split on first use."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lines: list[str] | None = None

    def __call__(self) -> list[str]:
        if self.lines is None:
            self.lines = source_lines(self.text)
        return self.lines


def _decorated(
    mod: ModuleInfo,
) -> list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]]:
    """Top-level functions, then methods of top-level classes, in source order."""
    out: list[tuple[ast.FunctionDef | ast.AsyncFunctionDef, ast.ClassDef | None]] = [
        (fn, None) for fn in mod.functions
    ]
    for cls in mod.classes:
        out += [
            (stmt, cls)
            for stmt in cls.body
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.decorator_list
        ]
    return sorted(out, key=lambda pair: pair[0].lineno)


def _compile_problem(tree: ast.Module, path: str, text: str) -> SpecError | None:
    """What CPython itself refuses to compile (`await` outside async, `return` outside a
    function, a name used before its `global`, a repeated keyword…), never executing."""
    try:
        with _warnings.catch_warnings():
            _warnings.simplefilter("ignore")
            compile(tree, path, "exec", dont_inherit=True)
    except SyntaxError as exc:
        return SpecError(exc.msg, path=path, line=exc.lineno, col=_char_col(text, exc))
    return None


def _char_col(text: str, exc: SyntaxError) -> int | None:
    """The 1-based character column of a compile error (its offset counts UTF-8 bytes)."""
    if exc.lineno is None or exc.offset is None:
        return exc.offset
    lines = source_lines(text)
    if not 0 < exc.lineno <= len(lines):
        return exc.offset
    prefix = lines[exc.lineno - 1].encode("utf-8")[: exc.offset - 1]
    return len(prefix.decode("utf-8", errors="ignore")) + 1


def _sorted(found: list[P], path: str) -> list[P]:
    """Problems of this file first, then those located in other modules; by position."""
    return sorted(found, key=lambda p: (p.path != path, p.path or "", p.line or 0, p.col or 0))
