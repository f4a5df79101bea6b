"""The analyser's view of one module: its top-level symbols and its dagy decorators.

Nothing here imports or runs user code: modules are read with `ast` only. `ModuleInfo` is the
symbol table of one module's top level (imports, constants, functions, classes) and answers
"what is this name?" for the flow walker, following imports into other modules of the same
repository. Parsed modules are cached by (path, mtime, size), so a repository's shared task
module is parsed once however many flow files import it.
"""

from __future__ import annotations

import ast
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

from dagy_git.analysis.pyfiles import display_path, find_module, line_col, parse_module
from dagy_git.analysis.pynames import BUILTINS, DAGY_MODULES, STDLIB
from dagy_git.errors import DagyError, SpecError
from dagy_git.names import validate_name
from dagy_git.options import FLOW_OPTIONS, MISSING, TASK_OPTIONS, check_option, literal

__all__ = ["ModuleInfo", "Symbol", "TaskDef", "load_module"]

_CACHE_SIZE = 256


@dataclass(frozen=True)
class TaskDef:
    """A `@task` function as declared: its name and options, not yet a call site."""

    function: str
    name: str
    description: str | None = None
    retries: int = 0
    retry_delay_seconds: float = 0.0
    timeout_seconds: float | None = None


@dataclass(frozen=True)
class Symbol:
    """What a name (or dotted name) means to a flow body.

    kind: ``task`` · ``flow`` · ``function`` (a plain function of the repository) · ``class``
    · ``module`` · ``value`` (a module-level variable or constant) · ``external`` (from the
    standard library, dagy itself or another non-repository module that may be called freely)
    · ``missing`` (cannot be found; `detail` says why) · ``broken`` (found, but its
    definition has problems; `detail` says which) · ``opaque`` (an attribute of a task or
    flow, such as `extract.submit`, whose meaning we cannot know).
    """

    kind: str
    task: TaskDef | None = None
    module: str | None = None
    detail: str = ""


class ModuleInfo:
    """The top-level symbol table of one parsed module."""

    def __init__(
        self,
        tree: ast.Module,
        text: str,
        path: str,
        file_path: Path | None,
        repo_root: Path | None,
    ) -> None:
        self.text = text
        self.path = path
        self.file_path = file_path
        self.repo_root = repo_root
        self.flow_aliases: set[str] = set()
        self.task_aliases: set[str] = set()
        self.dagy_aliases: set[str] = set()
        self.star_import = False
        # name -> ("function", node) | ("class", node) | ("import", (module, attr, level))
        #         | ("constant", (value, line)) | ("value", None)
        self.bindings: dict[str, tuple[str, object]] = {}
        self.functions: list[ast.FunctionDef | ast.AsyncFunctionDef] = []
        self._tasks: dict[str, TaskDef | list[SpecError]] = {}
        self._symbols: dict[tuple[str, ...], Symbol] = {}
        self._found: dict[tuple[str, int], Path | None] = {}
        for stmt in tree.body:
            self._scan(stmt, top=True)

    # -- building the table -------------------------------------------------------------
    def _bind(self, name: str, kind: str, value: object = None) -> None:
        if kind == "constant" and name in self.bindings:
            # Assigned twice: its value depends on where it is read, so it is no constant.
            kind, value = "value", None
        self.bindings[name] = (kind, value)

    def _scan(self, stmt: ast.stmt, *, top: bool) -> None:
        if isinstance(stmt, ast.Import):
            for alias in stmt.names:
                if alias.name in DAGY_MODULES:
                    self.dagy_aliases.add(alias.asname or alias.name)
                if alias.asname:
                    self._bind(alias.asname, "import", (alias.name, None, 0))
                else:
                    root = alias.name.split(".")[0]
                    self._bind(root, "import", (root, None, 0))
        elif isinstance(stmt, ast.ImportFrom):
            module = stmt.module or ""
            for alias in stmt.names:
                if alias.name == "*":
                    self.star_import = True
                    continue
                local = alias.asname or alias.name
                if stmt.level == 0 and module in DAGY_MODULES:
                    if alias.name == "flow":
                        self.flow_aliases.add(local)
                    elif alias.name == "task":
                        self.task_aliases.add(local)
                self._bind(local, "import", (module, alias.name, stmt.level))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if top:
                self._bind(stmt.name, "function", stmt)
                self.functions.append(stmt)
            else:
                self._bind(stmt.name, "value")
        elif isinstance(stmt, ast.ClassDef):
            self._bind(stmt.name, "class" if top else "value", stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if stmt.value is None:
                return
            value = literal(stmt.value)
            for target in targets:
                if isinstance(target, ast.Name) and top and value is not MISSING:
                    self._bind(target.id, "constant", (value, stmt.lineno))
                else:
                    for name in _stored_names(target):
                        self._bind(name, "value")
        elif isinstance(stmt, (ast.AugAssign, ast.For, ast.AsyncFor, ast.With, ast.AsyncWith)):
            for node in ast.walk(stmt.target if isinstance(stmt, ast.AugAssign) else stmt):
                if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                    self._bind(node.id, "value")
            for child in getattr(stmt, "body", []):
                self._scan(child, top=False)
        elif isinstance(stmt, (ast.If, ast.Try, ast.While)) or type(stmt).__name__ == "TryStar":
            # Imports under `if TYPE_CHECKING:` / `try: … except ImportError:` still count.
            blocks = [getattr(stmt, "body", []), getattr(stmt, "orelse", [])]
            blocks.append(getattr(stmt, "finalbody", []))
            blocks += [h.body for h in getattr(stmt, "handlers", [])]
            for block in blocks:
                for child in block:
                    self._scan(child, top=False)

    # -- positions and errors -----------------------------------------------------------
    def error(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecError:
        """A SpecError located at `node` in this module."""
        if node is None:
            return SpecError(message, hint=hint, path=self.path)
        line, col = line_col(self.text, node)
        return SpecError(message, hint=hint, path=self.path, line=line, col=col)

    # -- decorators ---------------------------------------------------------------------
    def decorator_kind(self, expr: ast.expr) -> str | None:
        """`"task"`/`"flow"` when `expr` (a decorator, maybe called) is dagy's, else None."""
        func = expr.func if isinstance(expr, ast.Call) else expr
        if isinstance(func, ast.Name):
            if func.id in self.task_aliases:
                return "task"
            if func.id in self.flow_aliases:
                return "flow"
        elif (
            isinstance(func, ast.Attribute)
            and isinstance(func.value, ast.Name)
            and func.value.id in self.dagy_aliases
            and func.attr in ("task", "flow")
        ):
            return func.attr
        return None

    def dagy_decorator(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef
    ) -> tuple[str, ast.expr] | None:
        """The (kind, decorator) of a function's dagy decorator, or None for a plain one."""
        found = [(k, d) for d in fn.decorator_list if (k := self.decorator_kind(d))]
        return found[0] if found else None

    def options(self, kind: str, deco: ast.expr, errors: list[SpecError]) -> dict[str, object]:
        """The keyword options of a decorator, validated; problems go to `errors`."""
        if not isinstance(deco, ast.Call):
            return {}
        if deco.args:
            errors.append(
                self.error(
                    f"@{kind} options must be given as keywords",
                    deco.args[0],
                    hint=f"e.g. @{kind}(name=...)",
                )
            )
        allowed = TASK_OPTIONS if kind == "task" else FLOW_OPTIONS
        result: dict[str, object] = {}
        for kw in deco.keywords:
            if kw.arg is None:
                errors.append(self.error(f"@{kind}(**options) cannot be read statically", kw))
                continue
            if kw.arg not in allowed:
                errors.append(
                    self.error(
                        f"unknown @{kind} option {kw.arg!r}",
                        kw,
                        hint=f"@{kind} accepts {', '.join(allowed)}",
                    )
                )
                continue
            value = self.option_value(kw.value, kw.arg, errors)
            if value is MISSING:
                continue
            try:
                result[kw.arg] = check_option(kind, kw.arg, value)
            except DagyError as exc:
                errors.append(self.error(f"@{kind} {exc.message}", kw.value, hint=exc.hint))
        return result

    def option_value(self, node: ast.expr, key: str, errors: list[SpecError]) -> object:
        """A literal, or a module-level constant assigned before `node`; else an error."""
        if isinstance(node, ast.Name):
            kind, value = self.bindings.get(node.id, ("missing", None))
            if kind == "constant" and isinstance(value, tuple):
                constant, line = value
                if line < node.lineno:
                    return constant
                errors.append(self.error(f"{node.id!r} is assigned after it is used", node))
                return MISSING
            errors.append(
                self.error(
                    f"option {key}: {node.id!r} is not a module-level constant",
                    node,
                    hint="use a literal, or a name assigned once at the top level to a literal",
                )
            )
            return MISSING
        value = literal(node)
        if value is MISSING:
            errors.append(
                self.error(
                    f"option {key} must be a literal or a module-level constant",
                    node,
                    hint="the value is read without running the code",
                )
            )
        return value

    def task_def(self, fn: ast.FunctionDef | ast.AsyncFunctionDef) -> TaskDef | list[SpecError]:
        """The TaskDef of a `@task` function of this module, or its problems (memoised)."""
        cached = self._tasks.get(fn.name)
        if cached is not None:
            return cached
        errors: list[SpecError] = []
        found = self.dagy_decorator(fn)
        opts = self.options("task", found[1], errors) if found else {}
        if isinstance(fn, ast.AsyncFunctionDef):
            errors.append(self.error(f"async task {fn.name!r} is not supported", fn))
        name = opts.get("name", fn.name)
        if "name" not in opts:
            try:
                validate_name(fn.name, "task name")
            except DagyError as exc:
                errors.append(
                    self.error(exc.message, fn, hint="give it a valid name: @task(name=...)")
                )
        result: TaskDef | list[SpecError] = errors or TaskDef(
            function=fn.name,
            name=str(name),
            description=opts.get("description"),  # type: ignore[arg-type]
            retries=opts.get("retries", 0),  # type: ignore[arg-type]
            retry_delay_seconds=opts.get("retry_delay_seconds", 0.0),  # type: ignore[arg-type]
            timeout_seconds=opts.get("timeout_seconds"),  # type: ignore[arg-type]
        )
        self._tasks[fn.name] = result
        return result

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
            return self._function_symbol(value, rest)
        if kind == "class":
            return Symbol("class")
        if kind in ("constant", "value"):
            return Symbol("value")
        if kind == "import" and isinstance(value, tuple):
            module, attr, level = value
            return self._import_symbol(module, attr, level, rest, depth)
        if self.star_import:
            return Symbol("missing", detail=f"{head!r} may come from a `*` import")
        if head in BUILTINS:
            return Symbol("external")
        return Symbol("missing", detail=f"{head!r} is not defined or imported in {self.path}")

    def _function_symbol(
        self, fn: ast.FunctionDef | ast.AsyncFunctionDef, rest: tuple[str, ...]
    ) -> Symbol:
        found = self.dagy_decorator(fn)
        if rest:
            if found is None:
                return Symbol("value")
            # `extract.submit(...)`: we cannot tell what an attribute of a task does.
            return Symbol("opaque", detail=f"{fn.name!r} is a @{found[0]}; call it directly")
        if found is None:
            return Symbol("function")
        if found[0] == "flow":
            return Symbol("flow")
        task = self.task_def(fn)
        if isinstance(task, TaskDef):
            return Symbol("task", task=task)
        return Symbol("broken", detail="; ".join(str(e) for e in task))

    def _import_symbol(
        self, module: str, attr: str | None, level: int, rest: tuple[str, ...], depth: int
    ) -> Symbol:
        if attr is not None:
            # `from pkg import tasks`: `tasks` may be a submodule or a name inside `pkg`.
            sub = f"{module}.{attr}" if module else attr
            if self._find(sub, level) is not None:
                return self._module_symbol(sub, level, rest, depth)
            return self._module_symbol(module, level, (attr, *rest), depth)
        return self._module_symbol(module, level, rest, depth)

    def _module_symbol(
        self,
        module: str,
        level: int,
        rest: tuple[str, ...],
        depth: int,
    ) -> Symbol:
        # Walk `a.b.c` down through submodules as long as they exist in the repository.
        while len(rest) > 1 and self._find(f"{module}.{rest[0]}" if module else rest[0], level):
            module, rest = (f"{module}.{rest[0]}" if module else rest[0]), rest[1:]
        written = "." * level + module
        path = self._find(module, level)
        if path is None:
            if level == 0 and module in DAGY_MODULES:
                return Symbol("external")
            if level == 0 and module.split(".")[0] in STDLIB:
                return Symbol("external")
            if not rest:
                return Symbol("module")
            return Symbol(
                "missing",
                module=written,
                detail=f"module {written!r} is not in the repository",
            )
        if not rest:
            return Symbol("module", module=written)
        info = load_module(path, self.repo_root)
        if isinstance(info, SpecError):
            return Symbol("broken", module=written, detail=f"{written!r} cannot be read: {info}")
        if depth > 20:  # a re-export chain this long is an import cycle
            return Symbol("missing", module=written, detail="imports nest too deeply")
        found = info.symbol(rest, depth + 1)
        if found.kind == "missing" and rest[0] not in info.bindings:
            return Symbol("missing", module=written, detail=f"{written!r} has no {rest[0]!r}")
        # The module as written in *this* file's import is what the TaskSpec records.
        return Symbol(found.kind, task=found.task, module=written, detail=found.detail)

    def _find(self, module: str, level: int) -> Path | None:
        key = (module, level)
        if key not in self._found:
            self._found[key] = (
                None
                if self.file_path is None
                else find_module(module, level, self.file_path, self.repo_root)
            )
        return self._found[key]


def _stored_names(target: ast.expr) -> list[str]:
    return [
        n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]


# -- imported modules, cached ---------------------------------------------------------
_CACHE: OrderedDict[tuple[str, int, int, str], ModuleInfo | SpecError] = OrderedDict()
_CACHE_LOCK = threading.Lock()


def load_module(path: Path, repo_root: Path | None) -> ModuleInfo | SpecError:
    """The ModuleInfo of an imported repository module, cached by (path, mtime, size)."""
    try:
        stat = path.stat()
    except OSError as exc:
        return SpecError(f"cannot read {path}: {exc.strerror}", path=path)
    key = (str(path), stat.st_mtime_ns, stat.st_size, str(repo_root))
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
        result = ModuleInfo(tree, text, display, path, repo_root)
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
