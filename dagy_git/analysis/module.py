"""The analyser's view of one module: its top-level symbols and its dagy decorators.

Nothing here imports or runs user code: modules are read with `ast` only. `ModuleInfo` is the
symbol table of one module's top level (imports, constants, functions, classes) and answers
"what is this name?" for the flow walker, following imports into other modules of the same
repository. Parsed modules are cached by (path, mtime, size, settings), so a repository's
shared task module is parsed once however many flow files import it.
"""

from __future__ import annotations

import ast
import dataclasses
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from dagy_git.analysis.astnodes import dotted
from dagy_git.analysis.decorators import Options, read_options
from dagy_git.analysis.defs import FORMS, Fn, TaskDef
from dagy_git.analysis.pyfiles import (
    display_path,
    find_module,
    line_col,
    parse_module,
    source_lines,
    source_segment,
)
from dagy_git.analysis.pynames import BUILTINS, STDLIB
from dagy_git.analysis.scan import Scope
from dagy_git.analysis.settings import DEFAULT, AnalysisSettings
from dagy_git.errors import DagyError, SpecError, SpecWarning
from dagy_git.names import MAX_NAME, validate_name
from dagy_git.options import MISSING

__all__ = ["FORMS", "ModuleInfo", "Symbol", "TaskDef", "load_module"]

_CACHE_SIZE = 256


@dataclass(frozen=True)
class Symbol:
    """What a name (or dotted name) means to a flow body.

    kind: ``task`` · ``flow`` (`task` holds the definition, `form` a calling form such as
    "submit") · ``function`` (a plain function of the repository, `fn` in `owner`) ·
    ``class`` (`cls` in `owner`) · ``module`` · ``value`` (a module-level variable) ·
    ``external`` (the standard library, the SDK or any module outside the repository:
    ordinary code) · ``missing`` (not defined anywhere; `detail` says why) · ``broken``
    (a task whose definition has errors; `detail` says where).
    """

    kind: str
    task: TaskDef | None = None
    module: str | None = None
    detail: str = ""
    form: str | None = None
    fn: Fn | None = None
    cls: ast.ClassDef | None = None
    owner: ModuleInfo | None = None


class ModuleInfo(Scope):
    """One parsed module: its top-level symbol table, and what each name means."""

    def __init__(
        self,
        tree: ast.Module,
        text: str,
        path: str,
        file_path: Path | None,
        repo_root: Path | None,
        settings: AnalysisSettings = DEFAULT,
    ) -> None:
        super().__init__(tree, text, settings)
        self.path = path
        self.file_path = file_path
        self.repo_root = repo_root
        self._defs: dict[int, TaskDef | list[SpecError]] = {}
        self._def_warnings: dict[int, list[SpecWarning]] = {}
        self._symbols: dict[tuple[str, ...], Symbol] = {}
        self._found: dict[tuple[str, int], Path | None] = {}
        self._lines: list[str] | None = None
        self._task_methods: dict[str, ast.ClassDef] | None = None
        # Local names of its functions, by (id, with parameters): see calls._names_of.
        self.local_cache: dict[tuple[int, bool], frozenset[str]] = {}

    # -- positions, text and problems ---------------------------------------------------
    def error(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecError:
        """A SpecError located at `node` in this module."""
        if node is None:
            return SpecError(message, hint=hint, path=self.path)
        line, col = line_col(self.text, node)
        return SpecError(message, hint=hint, path=self.path, line=line, col=col)

    def warning(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecWarning:
        """A SpecWarning (the spec is approximate) located at `node` in this module."""
        line, col = line_col(self.text, node) if node is not None else (None, None)
        return SpecWarning(message, hint=hint, path=self.path, line=line, col=col)

    def segment(self, node: ast.expr) -> str:
        """The exact source text of `node` (line endings as `\\n`)."""
        if self._lines is None:
            self._lines = source_lines(self.text)
        return source_segment(self._lines, node)

    def constant(self, node: ast.Name) -> object:
        """The value of a module-level constant assigned before `node`, else MISSING."""
        kind, value = self.bindings.get(node.id, ("missing", None))
        if kind == "constant" and isinstance(value, tuple) and value[1] < node.lineno:
            return value[0]
        return MISSING

    # -- decorators ---------------------------------------------------------------------
    def decorator_kind(self, expr: ast.expr) -> str | None:
        """`"task"`/`"flow"` when `expr` (a decorator, maybe called) is dagy's, else None."""
        func = expr.func if isinstance(expr, ast.Call) else expr
        if isinstance(func, ast.Name):
            if func.id in self.task_aliases:
                return "task"
            if func.id in self.flow_aliases:
                return "flow"
        elif isinstance(func, ast.Attribute) and func.attr in ("task", "flow"):
            parts: list[str] = []
            node: ast.expr = func.value
            while isinstance(node, ast.Attribute):
                parts.append(node.attr)
                node = node.value
            if isinstance(node, ast.Name) and node.id in self.sdk_aliases:
                module = ".".join([self.sdk_aliases[node.id], *reversed(parts)])
                if self.settings.is_sdk(module):
                    return func.attr
        return None

    def dagy_decorator(self, fn: Fn) -> tuple[str, ast.expr] | None:
        """The (kind, decorator) of a function's dagy decorator, or None for a plain one."""
        for deco in fn.decorator_list:
            kind = self.decorator_kind(deco)
            if kind:
                return kind, deco
        return None

    def options(self, kind: str, deco: ast.expr) -> Options:
        """The options of a `@task`/`@flow` decorator (bare: none)."""
        if not isinstance(deco, ast.Call):
            return Options()
        return read_options(kind, self, deco.args, deco.keywords)

    def definition(self, fn: Fn, cls: ast.ClassDef | None = None) -> TaskDef | list[SpecError]:
        """The TaskDef of a `@task`/`@flow` function of this module, or its errors (memoised)."""
        cached = self._defs.get(id(fn))
        if cached is not None:
            return cached
        found = self.dagy_decorator(fn)
        kind = found[0] if found else "task"
        opts = self.options(kind, found[1]) if found else Options()
        function = f"{cls.name}.{fn.name}" if cls is not None else fn.name
        typed = opts.typed
        # A Python identifier is a valid name unless it is too long.
        if "name" not in typed and "name" not in opts.text and len(fn.name) > MAX_NAME:
            try:
                validate_name(fn.name, f"{kind} name")
            except DagyError as exc:
                opts.errors.append(
                    self.error(exc.message, fn, hint=f"give it a valid name: @{kind}(name=...)")
                )
        delay = typed.get("retry_delay_seconds", 0.0)
        result: TaskDef | list[SpecError] = opts.errors or TaskDef(
            function=function,
            name=str(typed.get("name", fn.name)),
            description=typed.get("description"),  # type: ignore[arg-type]
            retries=typed.get("retries", 0),  # type: ignore[arg-type]
            retry_delay_seconds=tuple(delay) if isinstance(delay, list) else delay,  # type: ignore[arg-type]
            timeout_seconds=typed.get("timeout_seconds"),  # type: ignore[arg-type]
            kind=kind,
            version=str(typed.get("version", "latest")) if kind == "flow" else None,
            options=tuple(sorted(opts.text.items())),
            warnings=tuple(opts.warnings),
        )
        self._defs[id(fn)] = result
        self._def_warnings[id(fn)] = opts.warnings
        return result

    def definition_warnings(self, fn: Fn) -> list[SpecWarning]:
        """The warnings of a definition read by `definition` (computed options)."""
        return self._def_warnings.get(id(fn), [])

    def task_methods(self) -> dict[str, ast.ClassDef]:
        """`@task` methods of this module's classes: method name -> class (memoised)."""
        if self._task_methods is not None:
            return self._task_methods
        out: dict[str, ast.ClassDef] = {}
        self._task_methods = out
        for cls in self.classes:
            for stmt in cls.body:
                if isinstance(
                    stmt, (ast.FunctionDef, ast.AsyncFunctionDef)
                ) and self.dagy_decorator(stmt):
                    out.setdefault(stmt.name, cls)
        return out

    # -- resolving names ----------------------------------------------------------------
    def symbol(self, dotted: tuple[str, ...], depth: int = 0) -> Symbol:
        """What `a.b.c` means at this module's top level (memoised)."""
        cached = self._symbols.get(dotted)
        if cached is None:
            cached = self._resolve(dotted, depth)
            self._symbols[dotted] = cached
        return cached

    def _resolve(self, dotted: tuple[str, ...], depth: int) -> Symbol:
        head, rest = dotted[0], dotted[1:]
        kind, value = self.bindings.get(head, ("missing", None))
        if kind == "function" and isinstance(value, (ast.FunctionDef, ast.AsyncFunctionDef)):
            return self.function_symbol(value, rest)
        if kind == "class" and isinstance(value, ast.ClassDef):
            if not rest:
                return Symbol("class", cls=value, owner=self)
            return self.method_symbol(value, rest)
        if kind == "derived" and isinstance(value, ast.Call):
            return self._derived_symbol(value, rest, depth)
        if kind in ("constant", "value"):
            return Symbol("value")
        if kind == "import" and isinstance(value, tuple):
            module, attr, level = value
            return self._import_symbol(module, attr, level, rest, depth)
        for module, level in self.star_imports:
            found = self._module_symbol(module, level, dotted, depth)
            if found.kind not in ("missing", "external"):
                return found
        if head in BUILTINS:
            return Symbol("external")
        if self.star_imports:
            return Symbol("external", detail=f"{head!r} may come from a `*` import")
        return Symbol("missing", detail=f"{head!r} is not defined or imported in {self.path}")

    def function_symbol(
        self, fn: Fn, rest: tuple[str, ...], cls: ast.ClassDef | None = None
    ) -> Symbol:
        """A function of this module, seen through `rest` (`.submit`, `.map`, …)."""
        found = self.dagy_decorator(fn)
        if found is None:
            return Symbol("function", fn=fn, owner=self) if not rest else Symbol("value")
        form = None
        if rest:
            if len(rest) != 1 or rest[0] not in FORMS:
                return Symbol("value")  # `extract.name`, `extract.retries`: attributes
            form = rest[0]
        definition = self.definition(fn, cls)
        if isinstance(definition, list):
            first = definition[0]
            detail = f"its definition has an error (see {first.location}: {first.message})"
            return Symbol("broken", detail=detail)
        return Symbol(found[0], task=definition, form=form, fn=fn, owner=self)

    def method_symbol(self, cls: ast.ClassDef, rest: tuple[str, ...]) -> Symbol:
        """`Cls.meth` (or `instance.meth`): a `@task` method is a task; others ordinary."""
        for stmt in cls.body:
            if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)) and stmt.name == rest[0]:
                if self.dagy_decorator(stmt) is None:
                    return Symbol("external")
                return self.function_symbol(stmt, rest[1:], cls)
        return Symbol("external")

    def _derived_symbol(self, call: ast.Call, rest: tuple[str, ...], depth: int) -> Symbol:
        """`fast = extract.with_options(retries=5)` at module level: a task with overrides."""
        base_chain = dotted(call.func.value) if isinstance(call.func, ast.Attribute) else None
        base = self.symbol(base_chain, depth + 1) if base_chain and depth < 20 else None
        if base is None or base.task is None or base.kind not in ("task", "flow") or base.form:
            return Symbol("value")
        opts = read_options(base.kind, self, call.args, call.keywords, ".with_options")
        form = None
        if rest:
            if len(rest) != 1 or rest[0] not in FORMS:
                return Symbol("value")
            form = rest[0]
        return dataclasses.replace(base, task=base.task.with_options(opts), form=form)

    def _import_symbol(
        self, module: str, attr: str | None, level: int, rest: tuple[str, ...], depth: int
    ) -> Symbol:
        if level == 0 and self._not_repository(module):
            return self._outside(module, level, rest if attr is None else (attr, *rest))
        if attr is not None:
            # `from pkg import tasks`: `tasks` may be a submodule or a name inside `pkg`.
            sub = f"{module}.{attr}" if module else attr
            if self._find(sub, level) is not None:
                return self._module_symbol(sub, level, rest, depth)
            return self._module_symbol(module, level, (attr, *rest), depth)
        return self._module_symbol(module, level, rest, depth)

    def _not_repository(self, module: str) -> bool:
        """The SDK and the standard library are never looked for in the repository (as for
        the closure in `imports.py`): no file system lookups for `json` or `dagy`."""
        return self.settings.is_sdk(module) or module.split(".")[0] in STDLIB

    def _module_symbol(self, module: str, level: int, rest: tuple[str, ...], depth: int) -> Symbol:
        # Walk `a.b.c` down through submodules as long as they exist in the repository.
        while len(rest) > 1 and self._find(f"{module}.{rest[0]}" if module else rest[0], level):
            module, rest = (f"{module}.{rest[0]}" if module else rest[0]), rest[1:]
        written = "." * level + module
        path = self._find(module, level)
        if path is None:
            return self._outside(module, level, rest)
        if not rest:
            return Symbol("module", module=written)
        info = load_module(path, self.repo_root, self.settings)
        if isinstance(info, SpecError):
            # In the repository but unreadable: it may hold tasks, so the spec would lie.
            detail = f"module {written!r} cannot be read (see {info})"
            return Symbol("broken", module=written, detail=detail)
        if depth > 20:  # a re-export chain this long is an import cycle
            return Symbol("missing", module=written, detail="imports nest too deeply")
        found = info.symbol(rest, depth + 1)
        if found.kind == "missing" and rest[0] not in info.bindings:
            # An ImportError when the flow runs: the file cannot be specified.
            return Symbol("broken", module=written, detail=f"{written!r} has no {rest[0]!r}")
        # The module as written in *this* file's import is what the TaskSpec records.
        return dataclasses.replace(found, module=written)

    def _outside(self, module: str, level: int, rest: tuple[str, ...]) -> Symbol:
        """A module that is not in the repository: ordinary code, or tasks if declared so."""
        if level > 0:
            written = "." * level + module
            detail = f"module {written!r} is not in the repository"
            return Symbol("broken", module=written, detail=detail)
        if not rest:
            return Symbol("module")
        form = rest[-1] if len(rest) > 1 and rest[-1] in FORMS else None
        names = rest[:-1] if form else rest
        owner = ".".join([module, *names[:-1]]) if module else ".".join(names[:-1])
        if (
            owner
            and not self.settings.is_sdk(owner)
            and self.settings.is_task_module(owner)
            and not names[-1][:1].isupper()  # `pkg.Client(...)`: a class, not a task
        ):
            qualified = f"{owner}.{names[-1]}"
            task = TaskDef(function=names[-1], name=qualified)
            return Symbol("task", task=task, module=owner, form=form)
        return Symbol("external", module=module)

    def _find(self, module: str, level: int) -> Path | None:
        key = (module, level)
        if key not in self._found:
            self._found[key] = (
                None
                if self.file_path is None
                else find_module(module, level, self.file_path, self.repo_root)
            )
        return self._found[key]

    def find(self, module: str, level: int) -> Path | None:
        """The repository file of an import of this module (memoised), or None."""
        return self._find(module, level)


# -- imported modules, cached ---------------------------------------------------------
_CACHE: OrderedDict[tuple[str, int, int, str, AnalysisSettings], ModuleInfo | SpecError] = (
    OrderedDict()
)
_CACHE_LOCK = threading.Lock()


def load_module(
    path: Path, repo_root: Path | None, settings: AnalysisSettings = DEFAULT
) -> ModuleInfo | SpecError:
    """The ModuleInfo of an imported repository module, cached by (path, mtime, size)."""
    try:
        stat = path.stat()
    except OSError as exc:
        return SpecError(f"cannot read {path}: {exc.strerror}", path=path)
    key = (str(path), stat.st_mtime_ns, stat.st_size, str(repo_root), settings)
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    display = display_path(path, repo_root)
    result: ModuleInfo | SpecError
    try:
        text = path.read_bytes().decode("utf-8").removeprefix("\ufeff")
        tree = parse_module(text, display)
        result = ModuleInfo(tree, text, display, path, repo_root, settings)
    except UnicodeDecodeError:
        result = SpecError("not UTF-8 text", path=display)
    except SyntaxError as exc:
        result = SpecError(
            f"syntax error: {exc.msg}", path=display, line=exc.lineno, col=exc.offset
        )
    except (OSError, ValueError, RecursionError, MemoryError) as exc:
        result = SpecError(f"cannot be analysed: {exc}", path=display)
    with _CACHE_LOCK:
        _CACHE[key] = result
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return result
