"""Which flows a command acts on: `PATH[:FUNCTION]` arguments, or `--all`.

A target is one flow of one file, plus the manifest deployment that names it (if any).
A file with an error stops the command, unless `keep_going`: then its flows become a
`Failure` (with every error of the file) and the others go ahead. Warnings never stop one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from dagy_git.analysis import AnalyzedFlow, analyze_file
from dagy_git.analysis_cache import AnalysisCache
from dagy_git.artifact import read_artifact
from dagy_git.errors import DagyError
from dagy_git.registry_cache import analysis_record, prefetch, registry_flows

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


@dataclass(frozen=True)
class Failure:
    """A flow file (or the manifest deployment naming it) left out: it does not build."""

    path: str
    errors: list[DagyError] = field(default_factory=list)
    deployment: str | None = None


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
    chosen = [f for f in flows if f.spec_ref.function == function]
    if not chosen:
        names = ", ".join(f.spec_ref.function for f in flows) or "none"
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


def resolve(
    ws: Workspace, texts: list[str], *, failures: list[Failure] | None = None
) -> list[Target]:
    """Targets from `PATH[:FUNCTION]` arguments (relative to the working directory).

    With a `failures` list, a file that does not build is added to it instead of raised.
    """
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
    loaded = _analyse(ws, [w[0] for w in wanted if isinstance(w, tuple)], failures)
    targets: list[Target] = []
    for item in wanted:
        if isinstance(item, Target):
            targets.append(item)
        elif item[0] in loaded:
            got = loaded[item[0]]
            chosen = _pick(got.flows, item[1], got.rel, got.rel, None, failures)
            targets += [Target(f, got.path, got.rel, analysis=got.analysis) for f in chosen]
    return targets


def resolve_all(ws: Workspace, *, failures: list[Failure] | None = None) -> list[Target]:
    """Every manifest deployment, plus every discovered flow that no deployment names.

    With a `failures` list, a file or deployment that does not build is added to it
    instead of raised, and the rest are still returned.
    """
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
    # The registry cache lists the registry after the work tree is read: start it now.
    python_files = sum(f.endswith(".py") for f in ws.files)
    prefetch(ws, AnalysisCache(ws.root, settings=ws.settings, finder=ws.closures), python_files)
    sources: dict[str, bytes] = {}  # each file read once, by discovery
    found = discover_flow_files(ws.settings, ws.files, sources=sources)
    loaded = _analyse(ws, [e.flow_path for _, e in entries] + found, failures, sources)
    targets: list[Target] = []
    named: set[tuple[str, str]] = set()
    for manifest, entry in entries:
        if entry.flow_path not in loaded:  # it failed to build: recorded already
            continue
        got = loaded[entry.flow_path]
        where = f"{manifest.path}:{entry.line}: deployment {entry.name!r}: {got.rel}"
        chosen = _pick(got.flows, entry.function, got.rel, where, entry.name, failures)
        if len(chosen) > 1:
            error = DagyError(
                f"{where} holds several flows", hint='write flow = "file.py:function"'
            )
            _fail(Failure(got.rel, [error], entry.name), failures)
            continue
        if chosen:
            named.add((got.rel, chosen[0].spec_ref.function))
            targets.append(Target(chosen[0], got.path, got.rel, entry, analysis=got.analysis))
    for rel in found:
        if rel not in loaded:
            continue
        got = loaded[rel]
        targets += [
            Target(f, got.path, rel, analysis=got.analysis)
            for f in got.flows
            if (rel, f.spec_ref.function) not in named
        ]
    return targets


def _pick(
    flows: list[AnalyzedFlow],
    function: str | None,
    rel: str,
    where: str,
    deployment: str | None,
    failures: list[Failure] | None,
) -> list[AnalyzedFlow]:
    """`pick`, with its error recorded as a failure of `rel` when keeping going."""
    try:
        return pick(flows, function, where)
    except DagyError as exc:
        _fail(Failure(rel, [exc], deployment), failures)
        return []


def _fail(failure: Failure, failures: list[Failure] | None) -> None:
    """Record a failure when keeping going; else raise its first error, as before."""
    if failures is None:
        raise failure.errors[0]
    failures.append(failure)


def _analyse(
    ws: Workspace,
    rels: list[str],
    failures: list[Failure] | None,
    sources: dict[str, bytes] | None = None,
) -> dict[str, Loaded]:
    """`analyse_all`, or with `failures` the files that build (the others recorded)."""
    if failures is None:
        return analyse_all(ws, rels, sources)
    loaded, failed = analyse_each(ws, rels, sources)
    failures += [Failure(rel, errors) for rel, errors in failed.items()]
    return loaded


def discovered(ws: Workspace) -> list[Target]:
    """Every flow of every flow file (`flow_paths`, or every .py file that imports dagy)."""
    from dagy_git.discovery import discover_flow_files

    loaded = analyse_all(ws, discover_flow_files(ws.settings, ws.files))
    return [Target(f, got.path, got.rel) for got in loaded.values() for f in got.flows]


def analyse_all(
    ws: Workspace, rels: list[str], sources: dict[str, bytes] | None = None
) -> dict[str, Loaded]:
    """Analyse repo-relative flow files (each once, on every core for a large repository).

    Raises the first error of the first failing file, in the order given.
    """
    loaded, failed = analyse_each(ws, rels, sources)
    for rel in dict.fromkeys(rels):
        if rel in failed:
            raise failed[rel][0]
    return loaded


def analyse_each(
    ws: Workspace, rels: list[str], sources: dict[str, bytes] | None = None
) -> tuple[dict[str, Loaded], dict[str, list[DagyError]]]:
    """Analyse files (each once, on every core when many): the ones that build, and every
    error of each one that does not (its warnings do not count)."""
    from functools import partial

    from dagy_git.workers import chunked_map

    unique = list(dict.fromkeys(rels))
    cache = AnalysisCache(ws.root, settings=ws.settings, finder=ws.closures)
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
    failed: dict[str, list[DagyError]] = {}
    for rel in unique:
        res = cached[rel] if rel in cached else results[rel]
        if isinstance(res, list):
            failed[rel] = res
            continue
        record = analysis_record(cache, res.path, rel, res.flows, (sources or {}).get(rel))
        loaded[rel] = res._replace(analysis=record)
    remember_flows(cache, {rel: results[rel] for rel in todo})
    return loaded, failed


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


def remember_flows(cache: AnalysisCache, results: dict[str, Loaded | list[DagyError]]) -> None:
    """Keep the clean analyses just made for the next command."""
    if not cache.enabled:
        return
    for rel, res in results.items():
        if isinstance(res, Loaded) and res.flows:
            try:
                cache.put(rel, res.path.read_bytes(), res.flows)
            except OSError:
                continue
    cache.save()


def _load_chunk(root: Path, settings: Settings, rels: list[str]) -> list[Loaded | list[DagyError]]:
    out: list[Loaded | list[DagyError]] = []
    for rel in rels:
        path = root / rel
        try:
            _check(path, rel)
        except DagyError as exc:
            out.append([exc])
            continue
        try:
            result = analyze_file(path, repo_root=root, display_path=rel, settings=settings)
        except Exception as exc:  # a bug of ours: this file's error, not the command's crash
            message = f"the analyser failed on this file ({type(exc).__name__}: {exc})"
            hint = "this is a dagy-git bug: please report it with the file"
            out.append([DagyError(message, hint=hint, path=rel, line=1, col=1)])
            continue
        errors: list[DagyError] = [
            p for p in result.problems if getattr(p, "level", "error") != "warning"
        ]
        out.append(errors if errors else Loaded(path, rel, result.flows))
    return out
