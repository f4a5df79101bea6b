"""Which flows a command acts on: `PATH[:FUNCTION]` arguments, or `--all`.

A target is one flow of one file, plus the manifest deployment that names it (if any).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .analyze import AnalyzedFlow, build_flows
from .errors import DagyError

if TYPE_CHECKING:
    from .config import DeploymentEntry
    from .workspace import Workspace


@dataclass(frozen=True)
class Target:
    """One flow to act on, and the manifest deployment that names it (if any)."""

    flow: AnalyzedFlow
    file_path: Path
    rel_path: str
    deployment: DeploymentEntry | None = None
    # Set for targets read from a built artifact rather than the work tree.
    source: bytes | None = None
    namespace: str | None = None

    def read_source(self) -> bytes:
        """The flow file's bytes as they will be deployed."""
        return self.source if self.source is not None else self.file_path.read_bytes()


def split_target(text: str) -> tuple[str, str | None]:
    """Split `PATH[:FUNCTION]`; a suffix that is not an identifier belongs to the path."""
    path, sep, function = text.rpartition(":")
    if sep and function.isidentifier() and path:
        return path, function
    return text, None


def pick(flows: list[AnalyzedFlow], function: str | None, where: str) -> list[AnalyzedFlow]:
    """The flows of a file that `function` selects (all of them when it is None)."""
    if function is None:
        if not flows:
            raise DagyError(f"{where}: no @flow found", hint="decorate a function with @flow")
        return flows
    chosen = [f for f in flows if f.spec.function == function]
    if not chosen:
        names = ", ".join(f.spec.function for f in flows) or "none"
        raise DagyError(f"{where}: no flow function {function!r} (flows here: {names})")
    return chosen


def _load(ws: Workspace, path_text: str, base: Path) -> tuple[Path, str, list[AnalyzedFlow]]:
    path = (base / path_text).resolve()
    try:
        rel = path.relative_to(ws.root).as_posix()
    except ValueError:
        raise DagyError(f"{path_text}: outside the repository {ws.root}") from None
    if not path.is_file():
        raise DagyError(f"{path_text}: no such file")
    if path.suffix != ".py":
        raise DagyError(f"{path_text}: not a Python file", hint="name a .py flow file")
    return path, rel, build_flows(path, repo_root=ws.root, display_path=rel)


def resolve(ws: Workspace, texts: list[str]) -> list[Target]:
    """Targets from `PATH[:FUNCTION]` arguments (relative to the working directory)."""
    from .artifact import read_artifact

    targets: list[Target] = []
    for text in texts:
        if text.endswith(".zip"):
            targets.append(read_artifact((ws.cwd / text).resolve()))
            continue
        path_text, function = split_target(text)
        path, rel, flows = _load(ws, path_text, ws.cwd)
        targets += [Target(f, path, rel) for f in pick(flows, function, rel)]
    return targets


def resolve_all(ws: Workspace) -> list[Target]:
    """Every manifest deployment, plus every discovered flow that no deployment names."""
    targets: list[Target] = []
    named: set[tuple[str, str]] = set()
    cache: dict[str, tuple[Path, str, list[AnalyzedFlow]]] = {}
    for manifest in ws.manifests:
        for entry in manifest.deployments:
            if entry.flow_path not in cache:
                cache[entry.flow_path] = _load(ws, entry.flow_path, ws.root)
            path, rel, flows = cache[entry.flow_path]
            where = f"{manifest.path}:{entry.line}: deployment {entry.name!r}: {rel}"
            chosen = pick(flows, entry.function, where)
            if len(chosen) > 1:
                raise DagyError(
                    f"{where} holds several flows", hint='write flow = "file.py:function"'
                )
            named.add((rel, chosen[0].spec.function))
            targets.append(Target(chosen[0], path, rel, entry))
    return targets + [
        t for t in discovered(ws, cache) if (t.rel_path, t.flow.spec.function) not in named
    ]


def discovered(
    ws: Workspace, cache: dict[str, tuple[Path, str, list[AnalyzedFlow]]] | None = None
) -> list[Target]:
    """Every flow of every flow file (`flow_paths`, or every .py file that imports dagy)."""
    from .config import discover_flow_files

    cache = {} if cache is None else cache
    targets: list[Target] = []
    for rel in discover_flow_files(ws.settings, ws.files):
        if rel not in cache:
            cache[rel] = _load(ws, rel, ws.root)
        path, _, flows = cache[rel]
        targets += [Target(f, path, rel) for f in flows]
    return targets
