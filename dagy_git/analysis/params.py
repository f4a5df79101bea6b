"""Binding a call's arguments to a helper's parameters, for the walk of the helper."""

from __future__ import annotations

import ast

from dagy_git.analysis.astnodes import param_names
from dagy_git.analysis.env import EMPTY, Deps

__all__ = ["bind_params"]

Fn = ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda


def bind_params(
    fn: Fn,
    positional: list[tuple[Deps, ast.expr]],
    keywords: list[tuple[str | None, Deps, ast.expr]],
    everything: Deps | None,
) -> dict[str, Deps]:
    """What each parameter of `fn` carries for a call with these arguments."""
    args = fn.args
    names = [a.arg for a in (*args.posonlyargs, *args.args)]
    out: dict[str, Deps] = {name: EMPTY for name in param_names(fn)}
    if everything is not None:  # called by other code with unknown arguments
        return {name: everything for name in out}
    spread = EMPTY
    for i, (deps, node) in enumerate(positional):
        if isinstance(node, ast.Starred):
            spread |= deps
        elif i < len(names):
            out[names[i]] = deps
        elif args.vararg is not None:
            out[args.vararg.arg] = out[args.vararg.arg] | deps
    for key, deps, _ in keywords:
        if key is None:
            spread |= deps
        elif key in out and key not in (getattr(args.vararg, "arg", None),):
            out[key] = deps
        elif args.kwarg is not None:
            out[args.kwarg.arg] = out[args.kwarg.arg] | deps
    if spread:
        out = {name: deps | spread for name, deps in out.items()}
    return out
