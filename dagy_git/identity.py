"""One flow identity: what a flow version *is*, computed in one place for every command.

Two rules live here and nowhere else:
- the version (or name) a flow is registered under is part of its spec, so an override
  (`--flow-version`, a manifest's `flow_version`) gives another `code_hash` (`versioned`);
- the code a version runs is the flow file plus every repository module it imports,
  transitively: its *closure*, hashed as DESIGN.md's `closure_hash` (`ClosureFinder`).

`deploy`, `guard`, `build` (and reading artifacts back) and `spec` all ask this module, so
they always agree on what changed. Statically, like the analyser: imports are found with
`ast` and resolved to files on disk; nothing is imported or run.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from dagy_git.analysis import AnalyzedFlow
from dagy_git.analysis.pyfiles import find_module
from dagy_git.analysis.pynames import DAGY_MODULES, STDLIB
from dagy_git.hashing import closure_hash, code_hash, source_file_hash
from dagy_git.models import FlowSpec, SpecLike

__all__ = [
    "Closure",
    "ClosureFinder",
    "closure_paths",
    "spec_hash",
    "versioned",
    "versioned_ref",
]


def spec_hash(spec: FlowSpec, source_hash: str) -> str:
    """The `code_hash` of `spec` over a flow file whose `source_file_hash` is `source_hash`."""
    return code_hash(spec.to_json(), source_hash)


def versioned(
    flow: AnalyzedFlow, *, name: str | None = None, version: str | None = None
) -> tuple[FlowSpec, str]:
    """`flow`'s spec and code_hash when registered as `name@version` (None: as declared).

    The name and version are baked into the stored spec, so an override is another hash.
    """
    spec = flow.spec
    wanted = (
        name if name is not None else spec.name,
        version if version is not None else spec.version,
    )
    if wanted == (spec.name, spec.version):
        return spec, flow.code_hash
    spec = spec.model_copy(update={"name": wanted[0], "version": wanted[1]})
    return spec, spec_hash(spec, flow.source_file_hash)


def versioned_ref(
    flow: AnalyzedFlow, *, name: str | None = None, version: str | None = None
) -> tuple[SpecLike, str]:
    """`versioned`, for a deploy's plan: without an override, the spec as it stands (a
    stored one stays unvalidated until written)."""
    ref = flow.spec_ref
    if name in (None, ref.name) and version in (None, ref.version):
        return ref, flow.code_hash
    return versioned(flow, name=name, version=version)


@dataclass(frozen=True)
class Closure:
    """The files a flow version runs: `{repo-relative path: bytes}`, the flow file included."""

    files: dict[str, bytes] = field(default_factory=dict)

    @cached_property
    def hashes(self) -> dict[str, str]:
        """`{path: source_file_hash}` of every file."""
        return {path: source_file_hash(data) for path, data in self.files.items()}

    @cached_property
    def hash(self) -> str:
        """DESIGN.md's `closure_hash`."""
        return closure_hash(self.hashes)

    def changed_from(self, stored: dict[str, str]) -> list[str]:
        """Paths added, removed or edited since `stored` (`{path: source_file_hash}`)."""
        now = self.hashes
        return sorted(p for p in {*now, *stored} if now.get(p) != stored.get(p))


def closure_paths(flow: AnalyzedFlow, finder: ClosureFinder, path: str | None = None) -> list[str]:
    """The flow file (at repo-relative `path`, default `flow.path`) and every repository
    module it imports, transitively: sorted repo-relative paths. The one place that decides
    it (the analyser's `repo_imports`, once it has them, make this
    `sorted({path or flow.path, *flow.repo_imports})`)."""
    return finder.paths(path or flow.path)


class ClosureFinder:
    """Finds and reads closures in one repository, each module read and scanned once per
    command."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._root_text = os.path.abspath(self.root)
        self._imports: dict[str, list[str]] = {}
        self._bytes: dict[str, bytes | None] = {}
        # A module lookup depends only on the importing file's folder: many files share it.
        self._found: dict[tuple[str, str, int], str | None] = {}

    def closure(
        self, flow: AnalyzedFlow, source: bytes | None = None, path: str | None = None
    ) -> Closure:
        """`flow`'s closure, its own file (at repo-relative `path`, default `flow.path`) as
        `source` when given (the bytes deployed)."""
        own = path or flow.path
        if source is not None:
            self.remember(own, source)
        files: dict[str, bytes] = {}
        for rel in closure_paths(flow, self, own):
            data = source if rel == own and source is not None else self.read(rel)
            if data is not None:
                files[rel] = data
        return Closure(files)

    def remember(self, rel: str, data: bytes) -> None:
        """Take a file's bytes the caller already read (the ones it deploys or keys on)."""
        self._bytes.setdefault(rel, data)

    def read(self, rel: str) -> bytes | None:
        """A repository file's bytes (None when it cannot be read), read once."""
        if rel not in self._bytes:
            try:
                self._bytes[rel] = (self.root / rel).read_bytes()
            except OSError:
                self._bytes[rel] = None
        return self._bytes[rel]

    def paths(self, start: str) -> list[str]:
        """`start` and every repository module reachable from it by imports, sorted."""
        seen = {start}
        todo = [start]
        while todo:
            for found in self._imports_of(todo.pop()):
                if found not in seen:
                    seen.add(found)
                    todo.append(found)
        return sorted(seen)

    def _imports_of(self, rel: str) -> list[str]:
        """The repository modules one file imports (anywhere in it: a function-level
        import runs that module's code too), as repo-relative paths."""
        if rel in self._imports:
            return self._imports[rel]
        found: list[str] = []
        self._imports[rel] = found  # an import cycle ends here
        data = self.read(rel)
        if data is None or b"import" not in data:
            return found
        folder = os.path.dirname(rel)
        for module, level in import_statements(data.decode("utf-8", "replace")):
            if level == 0 and module.split(".")[0] in _NOT_OURS:
                continue  # the standard library and dagy itself are never repository code
            key = (folder, module, level)
            if key not in self._found:
                path = find_module(module, level, self.root / rel, self.root)
                self._found[key] = self._rel(path) if path is not None else None
            hit = self._found[key]
            if hit is not None and hit not in found:
                found.append(hit)
        return found

    def _rel(self, path: Path) -> str | None:
        full = os.path.abspath(path)
        if not full.startswith(self._root_text.rstrip(os.sep) + os.sep):
            return None
        return Path(os.path.relpath(full, self._root_text)).as_posix()


# An import statement at the start of a line (indented or not), its names up to the end
# of the line, or a parenthesised list over several lines. Not a parser: a docstring line
# that reads like an import only adds a lookup (over-including costs a redeploy at worst;
# parsing every file again would cost deploy a second per thousand flows).
_IMPORT = re.compile(
    r"[ \t]*(?:from[ \t]+(\.*)[ \t]*([\w.]*)[ \t]+import[ \t]*(\([^)]*\)|[^\n#;]*)"
    r"|import[ \t]+([^\n#;]*))"
)
_NOT_OURS = STDLIB | {m.split(".")[0] for m in DAGY_MODULES}


def import_statements(text: str) -> list[tuple[str, int]]:
    """Every `(module, level)` the import statements of `text` load: `import a.b` loads
    `a` and `a.b`; `from p import n` loads `p` and, when `n` is a submodule, `p.n`."""
    if "\\\n" in text:
        text = text.replace("\\\n", " ")  # backslash continuations
    out: list[tuple[str, int]] = []
    for dots, module, names, plain in _statements(text):
        if plain:
            for item in plain.split(","):
                parts = item.split()[0].split(".") if item.split() else []
                out += [(".".join(parts[: i + 1]), 0) for i in range(len(parts))]
            continue
        level = len(dots)
        parts = module.split(".") if module else []
        out += [(".".join(parts[: i + 1]), level) for i in range(len(parts))]
        if not parts:
            out.append(("", level))  # `from . import x`: the package itself
        for item in names.strip("()").replace("\n", ",").split(","):
            name = item.split()[0] if item.split() else ""
            if name.isidentifier():
                out.append((f"{module}.{name}" if module else name, level))
    return [(m, lv) for m, lv in out if lv > 0 or _dotted(m)]


@lru_cache(maxsize=8192)  # the same few module names recur in every flow file
def _dotted(module: str) -> bool:
    return all(p.isidentifier() for p in module.split("."))


def _statements(text: str) -> list[tuple[str, str, str, str]]:
    """The `_IMPORT` groups of every line holding the word `import` (matching only there
    is several times faster than scanning every line of the file)."""
    found: list[tuple[str, str, str, str]] = []
    done = -1
    pos = text.find("import")
    while pos >= 0:
        start = text.rfind("\n", 0, pos) + 1
        if start > done:
            done = start
            match = _IMPORT.match(text, start)
            if match is not None:
                dots, module, names, plain = match.groups(default="")
                found.append((dots, module, names, plain))
        pos = text.find("import", pos + 6)
    return found
