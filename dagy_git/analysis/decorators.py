"""Reading `@task(...)` / `@flow(...)` / `.with_options(...)` keywords from source.

Typed options (DESIGN.md) are evaluated (a literal or a module-level constant) and checked
by `dagy_git.options`; a typed option that cannot be evaluated, and every other keyword, is
kept as its source text in the `options` map, so any change to it changes the spec. Nothing
here refuses a keyword: only a typed value that is plainly wrong (`retries=-1`) is an error.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from typing import Protocol

from dagy_git.errors import DagyError, SpecError, SpecWarning
from dagy_git.options import MISSING, check_option, is_typed, literal

__all__ = ["Options", "Source", "read_options"]


class Source(Protocol):
    """The module a decorator is written in: constants, source text and positions."""

    def constant(self, node: ast.Name) -> object:
        """A module-level constant's value, or MISSING."""

    def segment(self, node: ast.expr) -> str:
        """The exact source text of `node`."""

    def error(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecError:
        """A SpecError located at `node`."""

    def warning(self, message: str, node: ast.AST | None, hint: str | None = None) -> SpecWarning:
        """A SpecWarning located at `node`."""


@dataclass
class Options:
    """The keywords of one decorator or `.with_options(...)` call."""

    typed: dict[str, object] = field(default_factory=dict)
    text: dict[str, str] = field(default_factory=dict)  # the spec's `options` map
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecWarning] = field(default_factory=list)


def read_options(
    kind: str, src: Source, args: list[ast.expr], keywords: list[ast.keyword], what: str = ""
) -> Options:
    """Read keyword options of `@kind` (`what` names the call in messages, e.g. `.with_options`)."""
    what = what or f"@{kind}"
    out = Options()
    for arg in args:
        out.warnings.append(
            src.warning(
                f"{what} positional argument kept as written, not understood",
                arg,
                hint=f"pass options as keywords, e.g. {what}(name=...)",
            )
        )
        out.text[f"*{len(out.text)}"] = src.segment(arg)
    for kw in keywords:
        if kw.arg is None:
            out.warnings.append(
                src.warning(f"{what}(**…) kept as written: its keys cannot be read statically", kw)
            )
            out.text["**"] = src.segment(kw.value)
            continue
        if not is_typed(kind, kw.arg):
            out.text[kw.arg] = src.segment(kw.value)
            continue
        value = literal(kw.value, src.constant)
        if value is MISSING:
            out.text[kw.arg] = src.segment(kw.value)
            out.warnings.append(
                src.warning(
                    f"{what} option {kw.arg}: the value is computed; kept as written "
                    f"({_short(out.text[kw.arg])}), and {kw.arg} takes its default in the spec",
                    kw.value,
                    hint="use a literal or a module-level constant so the spec holds the value",
                )
            )
            continue
        try:
            out.typed[kw.arg] = check_option(kind, kw.arg, value)
        except DagyError as exc:
            # "@task retries must be…", but not "@task task name '…' is…".
            text = exc.message if exc.message.startswith(kind) else f"{what} {exc.message}"
            out.errors.append(src.error(text, kw.value, hint=exc.hint))
    return out


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 60 else text[:57] + "..."
