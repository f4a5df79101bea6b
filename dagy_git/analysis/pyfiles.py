"""Python files on disk for the analyser: finding an imported module, reading, parsing.

Only the file system is consulted: a module is "in the repository" when its `.py` file (or
package `__init__.py`) is there. Nothing is imported.
"""

from __future__ import annotations

import ast
import os
import re
import warnings
from pathlib import Path

from dagy_git.errors import SpecError

__all__ = [
    "display_path",
    "find_module",
    "line_col",
    "parse_module",
    "read_problem",
    "source_lines",
    "source_segment",
]

_NEWLINE = re.compile(r"\r\n|\r|\n")


def find_module(module: str, level: int, file_path: Path, repo_root: Path | None) -> Path | None:
    """The file of `module` as imported from `file_path`, looked up inside the repository.

    Absolute imports are tried from the file's folder and each parent up to `repo_root`
    (only the file's folder without one); relative imports from the file's package folder.
    """
    # os.path on strings, not pathlib: this runs for every import a flow uses (it is hot).
    here = os.path.dirname(os.path.abspath(file_path))
    root = os.path.abspath(repo_root) if repo_root is not None else None
    parts = module.split(".") if module else []
    if level > 0:
        base = here
        for _ in range(level - 1):
            if base == root:
                return None  # above the repository: not ours
            base = os.path.dirname(base)
        return _module_file(base, parts)
    if not parts:
        return None
    bases = [here]
    if root is not None and (here + os.sep).startswith(root.rstrip(os.sep) + os.sep):
        base = here
        while base != root and os.path.dirname(base) != base:
            base = os.path.dirname(base)
            bases.append(base)
    for base in bases:
        found = _module_file(base, parts)
        if found is not None:
            return found
    return None


def _module_file(base: str, parts: list[str]) -> Path | None:
    target = os.path.join(base, *parts)
    candidates = [target + ".py"] if parts else []
    candidates.append(os.path.join(target, "__init__.py"))
    for candidate in candidates:
        if os.path.isfile(candidate):
            return Path(candidate)
    return None


def display_path(file_path: Path, repo_root: Path | None) -> str:
    """How a file is named in results and errors: repo-relative POSIX when possible."""
    if repo_root is not None:
        try:
            rel = Path(os.path.abspath(file_path)).relative_to(os.path.abspath(repo_root))
            return rel.as_posix()
        except ValueError:
            pass
    return str(file_path)


def read_problem(source: bytes, path: str) -> SpecError | None:
    """Why `source` cannot be read as Python text at all (binary, not UTF-8), or None."""
    nul = source.find(b"\x00")
    if nul >= 0:
        line, col = _byte_position(source, nul)
        return SpecError("binary file, not Python source", path=path, line=line, col=col)
    try:
        source.decode("utf-8")
    except UnicodeDecodeError as exc:
        line, col = _byte_position(source, exc.start)
        return SpecError(
            "not UTF-8 text", path=path, line=line, col=col, hint="save the file as UTF-8"
        )
    return None


def _byte_position(source: bytes, offset: int) -> tuple[int, int]:
    line_start = source.rfind(b"\n", 0, offset) + 1
    prefix = source[line_start:offset].decode("utf-8", errors="replace")
    return source.count(b"\n", 0, offset) + 1, len(prefix) + 1


def parse_module(text: str, path: str) -> ast.Module:
    """`ast.parse` without warnings (a `"\\d"` in user code must neither print nor fail)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, filename=path)


def line_col(text: str, node: ast.AST) -> tuple[int, int]:
    """1-based line and character column (ast's col_offset counts UTF-8 bytes)."""
    line = getattr(node, "lineno", 1)
    offset = getattr(node, "col_offset", 0)
    lines = _NEWLINE.split(text, maxsplit=line)
    if 0 < line <= len(lines):
        prefix = lines[line - 1].encode("utf-8")[:offset]
        return line, len(prefix.decode("utf-8", errors="ignore")) + 1
    return line, offset + 1


def source_lines(text: str) -> list[str]:
    """The lines of `text` as the parser counts them (`\\r\\n`, `\\r` and `\\n` end a line)."""
    return _NEWLINE.split(text)


def source_segment(lines: list[str], node: ast.expr) -> str:
    """The exact source text of `node`, with its line endings written as `\\n`.

    Unlike `ast.unparse`, whose output changes between Python versions (f-string quoting
    in 3.12, `lambda :` in 3.10, which characters `repr` escapes as Unicode grows), the
    text as written and the positions the parser reports are the same on every version.
    """
    end_line, end_col = node.end_lineno, node.end_col_offset
    if end_line is None or end_col is None:  # only nodes built by hand lack an end
        return ast.unparse(node)
    # ast's columns count UTF-8 bytes.
    first = lines[node.lineno - 1].encode("utf-8")
    if end_line == node.lineno:
        return first[node.col_offset : end_col].decode("utf-8")
    head = first[node.col_offset :].decode("utf-8")
    tail = lines[end_line - 1].encode("utf-8")[:end_col].decode("utf-8")
    return "\n".join([head, *lines[node.lineno : end_line - 1], tail])
