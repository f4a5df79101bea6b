"""Which flows a command acts on: `PATH[:FUNCTION]` arguments, or `--all`.

A target is one flow of one file, plus the manifest deployment that names it (if any).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dagy_git.analysis import AnalyzedFlow, build_flows
from dagy_git.analysis_cache import AnalysisCache
from dagy_git.artifact import read_artifact
from dagy_git.errors import DagyError
from dagy_git.registry_cache import analysis_record, registry_flows

if TYPE_CHECKING:
    from dagy_git.config import Settings
    from dagy_git.manifests import DeploymentEntry
    from dagy_git.workspace import Workspace


class Loaded(NamedTuple):
    """A flow file: its path, repo-relative path, flows, and what its analysis was keyed
    on (kept in record.json by a deploy: `registry_cache.py`)."""

    path: Path
    rel: str
    flows: list[AnalyzedFlow]
    analysis: dict[str, Any] | None = None


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
    analysis: dict[str, Any] | None = None  # see `Loaded`
    closure: dict[str, bytes] | None = None

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


def _locate(ws: Workspace, path_text: str) -> str:
    """The repo-relative path of a flow file named on the command line (checked)."""
    try:
        path = (ws.cwd / path_text).resolve()
    except (OSError, RuntimeError) as exc:  # a symlink loop
        raise DagyError(f"{path_text}: cannot resolve the path ({exc})") from None
    try:
        rel = path.relative_to(ws.root).as_posix()
    except ValueError:
        raise DagyError(f"{path_text}: outside the repository {ws.root}") from None
    _check(path, path_text)
    return rel


def _check(path: Path, path_text: str) -> None:
    if path.is_dir():
        raise DagyError(f"{path_text}: is a folder", hint="name flow files, or use --all")
    if not path.is_file():
        raise DagyError(f"{path_text}: no such file")
    if path.suffix != ".py":
        raise DagyError(f"{path_text}: not a Python file", hint="name a .py flow file")


def resolve(ws: Workspace, texts: list[str]) -> list[Target]:
    """Targets from `PATH[:FUNCTION]` arguments (relative to the working directory)."""
    wanted: list[tuple[str, str | None] | Target] = []
    for text in texts:
        if text.endswith(".zip"):
            path = (ws.cwd / text).resolve()
            art = read_artifact(path)
            wanted.append(
                Target(
                    art.flow,
                    path,
                    art.source_path,
                    source=art.source,
                    namespace=art.namespace,
                    closure=art.closure,
                )
            )
        else:
            path_text, function = split_target(text)
            wanted.append((_locate(ws, path_text), function))
    loaded = analyse_all(ws, [w[0] for w in wanted if isinstance(w, tuple)])
    targets: list[Target] = []
    for item in wanted:
        if isinstance(item, Target):
            targets.append(item)
            continue
        got = loaded[item[0]]
        targets += [
            Target(f, got.path, got.rel, analysis=got.analysis)
            for f in pick(got.flows, item[1], got.rel)
        ]
    return targets


def resolve_all(ws: Workspace) -> list[Target]:
    """Every manifest deployment, plus every discovered flow that no deployment names."""
    from dagy_git.discovery import discover_flow_files

    entries = [(m, e) for m in ws.manifests for e in m.deployments]
    for manifest, entry in entries:
        try:
            _check(ws.root / entry.flow_path, entry.flow_path)
        except DagyError as exc:  # say which manifest names it, and where
            raise DagyError(
                f"deployment {entry.name!r}: flow {exc.message}",
                hint=f"fix `flow =` in {manifest.path} (paths are relative to its folder), "
                "or remove the deployment",
                path=manifest.path,
                line=entry.line,
            ) from None
    sources: dict[str, bytes] = {}  # each file read once, by discovery
    found = discover_flow_files(ws.settings, ws.files, sources=sources)
    loaded = analyse_all(ws, [e.flow_path for _, e in entries] + found, sources)
    targets: list[Target] = []
    named: set[tuple[str, str]] = set()
    for manifest, entry in entries:
        got = loaded[entry.flow_path]
        where = f"{manifest.path}:{entry.line}: deployment {entry.name!r}: {got.rel}"
        chosen = pick(got.flows, entry.function, where)
        if len(chosen) > 1:
            raise DagyError(f"{where} holds several flows", hint='write flow = "file.py:function"')
        named.add((got.rel, chosen[0].spec.function))
        targets.append(Target(chosen[0], got.path, got.rel, entry, analysis=got.analysis))
    for rel in found:
        got = loaded[rel]
        targets += [
            Target(f, got.path, rel, analysis=got.analysis)
            for f in got.flows
            if (rel, f.spec.function) not in named
        ]
    return targets


def discovered(ws: Workspace) -> list[Target]:
    """Every flow of every flow file (`flow_paths`, or every .py file that imports dagy)."""
    from dagy_git.discovery import discover_flow_files

    loaded = analyse_all(ws, discover_flow_files(ws.settings, ws.files))
    return [Target(f, got.path, got.rel) for got in loaded.values() for f in got.flows]


def analyse_all(
    ws: Workspace, rels: list[str], sources: dict[str, bytes] | None = None
) -> dict[str, Loaded]:
    """Analyse repo-relative flow files (each once, on every core for a large repository).

    Raises the problem of the first failing file, in the order given.
    """
    from functools import partial

    from dagy_git.workers import chunked_map

    unique = list(dict.fromkeys(rels))
    cache = AnalysisCache(ws.root)
    cached: dict[str, Loaded] = {}
    if cache.worth(len(unique)):
        known = dict(sources or {})
        cached = {
            rel: Loaded(ws.root / rel, rel, flows)
            for rel, flows in registry_flows(ws, cache, unique, known).items()
        }
        cached.update(cached_flows(cache, [rel for rel in unique if rel not in cached], known))
    todo = [rel for rel in unique if rel not in cached]
    results = dict(
        zip(todo, chunked_map(partial(_load_chunk, ws.root, ws.settings), todo), strict=True)
    )
    loaded: dict[str, Loaded] = {}
    for rel in unique:
        res = cached[rel] if rel in cached else results[rel]
        if isinstance(res, DagyError):
            raise res
        record = analysis_record(cache, res.path, rel, res.flows, (sources or {}).get(rel))
        loaded[rel] = res._replace(analysis=record)
    remember_flows(cache, {rel: results[rel] for rel in todo})
    return loaded


def cached_flows(
    cache: AnalysisCache, rels: list[str], sources: dict[str, bytes]
) -> dict[str, Loaded]:
    """The files among `rels` whose analysis need not run again (`analysis_cache.py`);
    `sources` holds the bytes of files already read."""
    found: dict[str, Loaded] = {}
    if not cache.enabled:
        return found
    for rel in rels:
        path = cache.root / rel
        try:
            source = sources[rel] if rel in sources else path.read_bytes()
            flows = cache.get(rel, source) if path.suffix == ".py" else None
        except OSError:
            continue  # the analysis says why
        if flows:
            found[rel] = Loaded(path, rel, flows)
    return found


def remember_flows(cache: AnalysisCache, results: dict[str, Loaded | DagyError]) -> None:
    """Keep the clean analyses just made for the next command."""
    if not cache.enabled:
        return
    for rel, res in results.items():
        if not isinstance(res, DagyError) and res.flows:
            try:
                cache.put(rel, res.path.read_bytes(), res.flows)
            except OSError:
                continue
    cache.save()


def _load_chunk(root: Path, settings: Settings, rels: list[str]) -> list[Loaded | DagyError]:
    out: list[Loaded | DagyError] = []
    for rel in rels:
        path = root / rel
        try:
            _check(path, rel)
            flows = build_flows(path, repo_root=root, display_path=rel, settings=settings)
            out.append(Loaded(path, rel, flows))
        except DagyError as exc:
            out.append(exc)
    return out
