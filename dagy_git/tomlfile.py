"""Reading TOML files with positions: errors name the file, line and column.

`tomllib` keeps no positions for keys, so `Locator` finds a key's line by a simple scan of
the text: good enough to point a user at the right line of a hand-written config file.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Any

from dagy_git.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

__all__ = ["Locator", "read_toml"]

_HEADER = re.compile(r"\s*(\[\[?)\s*([^\]]*?)\s*\]")


class Locator:
    """Line numbers (1-based) of tables and keys in one TOML text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines()
        self.headers: list[tuple[int, str, bool]] = []  # (index, dotted name, is an array)
        for i, line in enumerate(self.lines):
            match = _HEADER.match(line)
            if match:
                name = re.sub(r"\s*\.\s*", ".", match.group(2)).replace('"', "").replace("'", "")
                self.headers.append((i, name, match.group(1) == "[["))

    def _end(self, start: int) -> int:
        return next((i for i, _, _ in self.headers if i > start), len(self.lines))

    def _assign(self, key: str, start: int, end: int) -> int | None:
        quoted = re.escape(key)
        regex = re.compile(rf"\s*(?:{quoted}|\"{quoted}\"|'{quoted}')\s*[=.]")
        return next((i + 1 for i in range(start, end) if regex.match(self.lines[i])), None)

    def line(self, *path: str) -> int:
        """The line of `table.….key`, else of the nearest enclosing table found, else 1."""
        for k in range(len(path), 0, -1):
            table, key = ".".join(path[: k - 1]), path[k - 1]
            full = f"{table}.{key}" if table else key
            for i, name, _ in self.headers:
                if name == full or name.startswith(full + "."):
                    return i + 1
            if not table:
                found = self._assign(key, 0, self._end(-1))
            else:
                head = next((i for i, name, _ in self.headers if name == table), None)
                found = None if head is None else self._assign(key, head + 1, self._end(head))
            if found:
                return found
        return 1

    def entry(self, array: str, n: int, key: str | None = None) -> int:
        """The line of the `n`-th `[[array]]` header, or of `key` inside that entry."""
        heads = [i for i, name, is_array in self.headers if is_array and name == array]
        if n >= len(heads):
            return self.line(array)  # an inline array: its key is the best we know
        head = heads[n]
        if key is None:
            return head + 1
        found = self._assign(key, head + 1, self._end(head))
        if found:
            return found
        # A sub-table of this entry (`[deployments.tags]`), up to the next other header.
        sub = f"{array}.{key}"
        for i, name, is_array in self.headers:
            if i <= head:
                continue
            if is_array or not name.startswith(array + "."):
                break
            if name == sub or name.startswith(sub + "."):
                return i + 1
        return head + 1


def read_toml(root: Path, rel: str) -> tuple[dict[str, Any], Locator]:
    """Parse `root/rel`; a `ConfigError` (with `rel`, line, column) when it cannot be read."""
    try:
        raw = (root / rel).read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read {rel}: {exc.strerror}", path=rel) from exc
    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError("not UTF-8 text", path=rel, line=line, hint="save it as UTF-8") from exc
    try:
        return tomllib.loads(text), Locator(text)
    except RecursionError:  # tomllib parses nested arrays and tables recursively
        raise ConfigError(
            "invalid TOML: arrays or tables nest too deeply", path=rel, line=1, col=1
        ) from None
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        match = re.search(r"\s*\(at line (\d+), column (\d+)\)\Z", message)
        if match:
            line, col, message = int(match[1]), int(match[2]), message[: match.start()]
        else:  # "(at end of document)"
            line, col = text.count("\n") + 1, 1
            message = message.replace(" (at end of document)", " at the end of the file")
        raise ConfigError(f"invalid TOML: {message}", path=rel, line=line, col=col) from exc
