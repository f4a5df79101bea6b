"""The top-level symbol table of one module, as written: imports, constants, functions,
classes, and which names are dagy's `flow`/`task` decorators. Resolving what a name means
(across modules) is `module.ModuleInfo`'s.
"""

from __future__ import annotations

import ast

from dagy_git.analysis.defs import Fn
from dagy_git.analysis.settings import DEFAULT, AnalysisSettings
from dagy_git.options import MISSING, literal

__all__ = ["Scope"]


class Scope:
    """A module's top level, scanned once (statements only, never every expression)."""

    def __init__(self, tree: ast.Module, text: str, settings: AnalysisSettings = DEFAULT) -> None:
        self.text = text
        self.settings = settings
        self.flow_aliases: set[str] = set()
        self.task_aliases: set[str] = set()
        self.sdk_aliases: dict[str, str] = {}  # local name -> SDK module
        self.star_imports: list[tuple[str, int]] = []
        # name -> ("function", node) | ("class", node) | ("import", (module, attr, level))
        #         | ("constant", (value, line)) | ("value", None) | ("derived", call)
        self.bindings: dict[str, tuple[str, object]] = {}
        self.functions: list[Fn] = []
        self.classes: list[ast.ClassDef] = []
        self.imports: list[tuple[str, int]] = []  # every import, for the closure
        self._scopes: list[ast.stmt] = []  # functions and classes: their imports, lazily
        self._import_stmts = 0
        for stmt in tree.body:
            self._scan(stmt, top=True)

    def _bind(self, name: str, kind: str, value: object = None) -> None:
        if kind == "constant" and name in self.bindings:
            # Assigned twice: its value depends on where it is read, so it is no constant.
            kind, value = "value", None
        self.bindings[name] = (kind, value)

    def _scan(self, stmt: ast.stmt, *, top: bool) -> None:
        if isinstance(stmt, ast.Import):
            self._import_stmts += 1
            for alias in stmt.names:
                self.imports.append((alias.name, 0))
                if self.settings.is_sdk(alias.name):
                    self.sdk_aliases[alias.asname or alias.name] = alias.name
                if alias.asname:
                    self._bind(alias.asname, "import", (alias.name, None, 0))
                else:
                    root = alias.name.split(".")[0]
                    self._bind(root, "import", (root, None, 0))
        elif isinstance(stmt, ast.ImportFrom):
            self._import_stmts += 1
            module = stmt.module or ""
            self.imports.append((module, stmt.level))
            sdk = stmt.level == 0 and self.settings.is_sdk(module)
            for alias in stmt.names:
                if alias.name == "*":
                    self.star_imports.append((module, stmt.level))
                    continue
                if stmt.level > 0 or module:
                    self.imports.append(
                        (f"{module}.{alias.name}" if module else alias.name, stmt.level)
                    )
                local = alias.asname or alias.name
                if sdk and alias.name == "flow":
                    self.flow_aliases.add(local)
                elif sdk and alias.name == "task":
                    self.task_aliases.add(local)
                self._bind(local, "import", (module, alias.name, stmt.level))
        elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
            if top:
                self._bind(stmt.name, "function", stmt)
                self.functions.append(stmt)
            else:
                self._bind(stmt.name, "value")
            self._scopes.append(stmt)
        elif isinstance(stmt, ast.ClassDef):
            self._bind(stmt.name, "class" if top else "value", stmt)
            if top:
                self.classes.append(stmt)
            self._scopes.append(stmt)
        elif isinstance(stmt, (ast.Assign, ast.AnnAssign)):
            targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
            if stmt.value is None:
                return
            value = literal(stmt.value)
            derived = top and _is_with_options(stmt.value)
            for target in targets:
                if isinstance(target, ast.Name) and top and value is not MISSING:
                    self._bind(target.id, "constant", (value, stmt.lineno))
                elif isinstance(target, ast.Name) and derived:
                    self._bind(target.id, "derived", stmt.value)
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

    def all_imports(self) -> list[tuple[str, int]]:
        """Every import of the module as (module, level), those inside functions and
        classes (lazy imports) included: they belong to the closure too."""
        # Cheap: look inside functions only when the text has more `import`s than the
        # import statements already seen (a comment or string mentioning it only costs time).
        if self._scopes and self.text.count("import") > self._import_stmts:
            while self._scopes:
                self._nested_imports(self._scopes.pop())
        self._scopes.clear()
        return self.imports

    def _nested_imports(self, node: ast.stmt) -> None:
        stack = list(getattr(node, "body", []))
        while stack:
            stmt = stack.pop()
            if isinstance(stmt, ast.Import):
                self.imports += [(alias.name, 0) for alias in stmt.names]
            elif isinstance(stmt, ast.ImportFrom):
                module = stmt.module or ""
                self.imports.append((module, stmt.level))
                self.imports += [
                    (f"{module}.{a.name}" if module else a.name, stmt.level)
                    for a in stmt.names
                    if a.name != "*"
                ]
            else:
                for name in ("body", "orelse", "finalbody", "handlers", "cases"):
                    stack.extend(getattr(stmt, name, ()))


def _is_with_options(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "with_options"
    )


def _stored_names(target: ast.expr) -> list[str]:
    return [
        n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)
    ]
