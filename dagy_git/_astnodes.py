"""Small helpers over `ast` nodes for the flow walker: dotted names, children, scopes."""

from __future__ import annotations

import ast
from collections.abc import Iterable

__all__ = ["children", "dotted", "local_names", "pairwise", "root_of"]


def dotted(node: ast.expr) -> tuple[str, ...] | None:
    """`a.b.c` as ("a", "b", "c"); None when the chain does not start at a plain name."""
    parts: list[str] = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(node.id)
    return tuple(reversed(parts))


def children(node: ast.expr) -> Iterable[ast.AST | None]:
    """The sub-expressions of `node`; direct fields for the common kinds (it is hot)."""
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return node.elts
    if isinstance(node, (ast.JoinedStr, ast.BoolOp)):
        return node.values
    if isinstance(node, ast.FormattedValue):
        return (node.value, node.format_spec)
    if isinstance(node, ast.Subscript):
        return (node.value, node.slice)
    if isinstance(node, ast.BinOp):
        return (node.left, node.right)
    if isinstance(node, ast.Dict):
        return (*node.keys, *node.values)
    return ast.iter_child_nodes(node)


def pairwise(targets: list[ast.expr], value: ast.expr) -> bool:
    """Whether `a, b = x, y` can be bound element by element."""
    if len(targets) != 1:
        return False
    target = targets[0]
    return (
        isinstance(target, (ast.Tuple, ast.List))
        and isinstance(value, (ast.Tuple, ast.List))
        and len(target.elts) == len(value.elts)
        and not any(isinstance(e, ast.Starred) for e in (*target.elts, *value.elts))
    )


def root_of(node: ast.expr) -> ast.expr:
    """The value at the bottom of `x.a[0].b`: here `x`."""
    while isinstance(node, (ast.Attribute, ast.Subscript, ast.Starred)):
        node = node.value
    return node


def local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> set[str]:
    """Names local to the flow function (Python scoping: bound anywhere in its body).

    Only statements and their targets are visited, not every expression, to stay cheap; a
    walrus (`:=`) target becomes local when the walk reaches it.
    """
    args = fn.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    names |= {a.arg for a in (args.vararg, args.kwarg) if a is not None}
    declared_global: set[str] = set()
    stack: list[ast.AST] = list(fn.body)
    while stack:
        node = stack.pop()
        targets: list[ast.AST] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, (ast.AugAssign, ast.AnnAssign, ast.For, ast.AsyncFor)):
            targets = [node.target]
        elif isinstance(node, (ast.With, ast.AsyncWith)):
            targets = [i.optional_vars for i in node.items if i.optional_vars is not None]
        elif isinstance(node, ast.Delete):
            targets = list(node.targets)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            continue  # its body is its own scope
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names |= {(a.asname or a.name).split(".")[0] for a in node.names}
        elif isinstance(node, (ast.Global, ast.Nonlocal)):
            declared_global |= set(node.names)
        elif isinstance(node, ast.match_case):
            targets = [node.pattern]
        if isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        for target in targets:
            for sub in ast.walk(target):
                if isinstance(sub, ast.Name):
                    names.add(sub.id)
                elif isinstance(sub, (ast.MatchAs, ast.MatchStar)) and sub.name:
                    names.add(sub.name)
                elif isinstance(sub, ast.MatchMapping) and sub.rest:
                    names.add(sub.rest)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(node, field, ()))
    return names - declared_global
