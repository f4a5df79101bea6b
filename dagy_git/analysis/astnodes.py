"""Small helpers over `ast` nodes for the flow walker: dotted names, children, scopes."""

from __future__ import annotations

import ast
from collections.abc import Callable, Container, Iterable

__all__ = [
    "call_base",
    "calls_with_options",
    "children",
    "dotted",
    "local_names",
    "pairwise",
    "param_names",
    "referents",
]


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


def referents(node: ast.expr, local: Container[str], fresh: Callable[[ast.Call], bool]) -> set[str]:
    """The local names whose objects the value of `node` may be, hold, or be part of.

    It decides which names share an object, so that a mutation through one of them feeds
    the others. It errs on the side of sharing (an extra edge is safe, a missing one is
    not): `x`, `x.a`, `x[k]`, `x or y`, `[x]`, `{"k": x}`, `x + y`, comprehensions over `x`
    and any call but a task's (`fresh`: `d.get(k)`, `sorted(x)` may hand back `x` or its
    items). Values that are new by construction are not shared: `x == y`, `-x`, `f"{x}"`.
    """
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Name):
            if n.id in local:
                out.add(n.id)
        elif isinstance(n, (ast.Attribute, ast.Subscript, ast.Starred, ast.Await)):
            stack.append(n.value)
        elif isinstance(n, ast.NamedExpr):
            stack += (n.target, n.value)
        elif isinstance(n, ast.IfExp):
            stack += (n.body, n.orelse)
        elif isinstance(n, ast.BinOp):
            stack += (n.left, n.right)
        elif isinstance(n, ast.BoolOp):
            stack += n.values
        elif isinstance(n, (ast.List, ast.Tuple, ast.Set)):
            stack += n.elts
        elif isinstance(n, ast.Dict):
            stack += n.values
        elif isinstance(n, (ast.ListComp, ast.SetComp, ast.GeneratorExp, ast.DictComp)):
            parts = [n.key, n.value] if isinstance(n, ast.DictComp) else [n.elt]
            parts += [gen.iter for gen in n.generators]
            inner = set().union(*(referents(p, local, fresh) for p in parts))
            # The comprehension's own variables do not outlive it.
            out |= inner - {
                t.id for g in n.generators for t in ast.walk(g.target) if isinstance(t, ast.Name)
            }
        elif isinstance(n, ast.Call) and not fresh(n):
            stack.append(n.func)
            stack += n.args
            stack += [kw.value for kw in n.keywords]
    return out


def param_names(fn: ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda) -> set[str]:
    """The names of a function's parameters."""
    args = fn.args
    names = {a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)}
    return names | {a.arg for a in (args.vararg, args.kwarg) if a is not None}


def local_names(fn: ast.FunctionDef | ast.AsyncFunctionDef, *, params: bool = True) -> set[str]:
    """Names local to a function (Python scoping: bound anywhere in its body).

    Only statements and their targets are visited, not every expression, to stay cheap; a
    walrus (`:=`) target becomes local when the walk reaches it. Without `params`, only
    the names its body binds (a parameter among them is rebound somewhere).
    """
    names = param_names(fn) if params else set()
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
                if isinstance(sub, ast.Name) and not isinstance(sub.ctx, ast.Load):
                    names.add(sub.id)
                elif isinstance(sub, (ast.Attribute, ast.Subscript)) and not isinstance(
                    sub.ctx, ast.Load
                ):
                    # `g[k] = v` fills `g`'s object, so `g` is followed like a local; names
                    # read on the way (`k`, `a()` in `g[a()].x = v`) are not bound here.
                    root = sub.value
                    while isinstance(root, (ast.Attribute, ast.Subscript)):
                        root = root.value
                    if isinstance(root, ast.Name):
                        names.add(root.id)
                elif isinstance(sub, (ast.MatchAs, ast.MatchStar)) and sub.name:
                    names.add(sub.name)
                elif isinstance(sub, ast.MatchMapping) and sub.rest:
                    names.add(sub.rest)
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            stack.extend(getattr(node, field, ()))
    return names - declared_global


def call_base(func: ast.expr) -> tuple[ast.Call | None, tuple[str, ...]]:
    """`X(...).a.b` as (the call `X(...)`, ("a", "b")); (None, ()) for other callees."""
    attrs: list[str] = []
    while isinstance(func, ast.Attribute):
        attrs.append(func.attr)
        func = func.value
    if attrs and isinstance(func, ast.Call):
        return func, tuple(reversed(attrs))
    return None, ()


def calls_with_options(call: ast.Call) -> bool:
    return isinstance(call.func, ast.Attribute) and call.func.attr == "with_options"
