"""Validate a repository: flow files, manifests and settings, without running user code.

`check_repo` collects every problem (it never stops at the first) with its file, line,
column and level: an error means the file cannot be specified, a warning that its spec is
approximate. Each problem is reported once: a call site whose message repeats another
reported problem points at it instead. Given paths, it checks those files, but checks that
span files (a flow name+version defined twice, a deployment name used twice, a manifest
naming a flow) still look at the whole repository, so the pre-commit hook catches a clash
with a file that did not change.
Cost: one `git ls-files`, each flow file read once, no process per file.
"""

from __future__ import annotations

import os
import posixpath
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

from dagy_git import gitio
from dagy_git.analysis import AnalyzedFlow, FileAnalysis, analyze_source
from dagy_git.analysis_cache import AnalysisCache
from dagy_git.config import MANIFEST, PYPROJECT, Settings, read_settings
from dagy_git.discovery import discover_flow_files, importers
from dagy_git.errors import DagyError, SpecError
from dagy_git.manifests import (
    DeploymentEntry,
    Manifest,
    collect_manifests,
    duplicate_deployments,
    duplicate_error,
)
from dagy_git.namespace import derive_namespace

__all__ = ["ERROR", "WARNING", "Problem", "Report", "check_repo", "validate_repo"]

ERROR = "error"
WARNING = "warning"

T = TypeVar("T")


@dataclass(frozen=True, order=True)
class Problem:
    """One problem: `path` (repo-relative POSIX), 1-based `line` and `col`, a message, and
    its `level` (`error`: the file cannot be specified; `warning`: the spec is approximate)."""

    path: str
    line: int
    col: int
    message: str
    hint: str | None = field(default=None, compare=False)
    level: str = field(default=ERROR, compare=False)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.col}: {self.message}"

    @property
    def location(self) -> str:
        """`path:line:col`."""
        return f"{self.path}:{self.line}:{self.col}"

    def to_json(self) -> dict[str, object]:
        """The `validate --json` item: `{path, line, col, level, message, hint}`."""
        return {
            "path": self.path,
            "line": self.line,
            "col": self.col,
            "level": self.level,
            "message": self.message,
            "hint": self.hint,
        }

    @classmethod
    def from_error(cls, exc: DagyError, path: str, line: int = 1) -> Problem:
        """A problem from a `DagyError`, defaulting to `path`/`line` where it has none."""
        level = getattr(exc, "level", ERROR)  # errors of older analysers carry no level
        return cls(exc.path or path, exc.line or line, exc.col or 1, exc.message, exc.hint, level)


@dataclass(frozen=True)
class Report:
    """What `check_repo` found, and how much it looked at.

    `problems` holds errors and warnings, each with its `level`; `errors` only the errors.
    """

    problems: list[Problem]
    flows: int
    files: int

    @property
    def errors(self) -> list[Problem]:
        """The problems that make a file unusable."""
        return [p for p in self.problems if p.level != WARNING]

    @property
    def warnings(self) -> list[Problem]:
        """The problems that make a spec approximate."""
        return [p for p in self.problems if p.level == WARNING]

    def fails(self, strict: bool = False) -> bool:
        """Whether validation fails: any error, or with `strict` any warning too."""
        return bool(self.problems if strict else self.errors)


def validate_repo(
    repo_root: Path, paths: list[str] | None = None, *, cwd: Path | None = None
) -> list[Problem]:
    """Every error in the repository (or in `paths`), sorted (warnings: `check_repo`)."""
    return check_repo(repo_root, paths, cwd=cwd).errors


def check_repo(
    repo_root: Path, paths: list[str] | None = None, *, cwd: Path | None = None
) -> Report:
    """Check the whole repository, or only `paths` (relative to `cwd`, default the root)."""
    return _Check(repo_root.resolve(), paths, cwd).run()


class _Check:
    """One validation run: the repository's files, settings and analyses, read once."""

    def __init__(self, root: Path, paths: list[str] | None, cwd: Path | None) -> None:
        self.root = root
        self.problems: list[Problem] = []
        self.files = gitio.list_files(root)
        self.sources: dict[str, bytes] = {}
        self.analyses: dict[str, FileAnalysis] = {}
        self.selected: set[str] | None = None
        if paths is not None:
            self.selected = self._select(paths, cwd or root)
        # Settings shape every check: their problems are reported whatever paths were named.
        settings, errors = read_settings(root)
        self.settings: Settings = settings
        self.cache = AnalysisCache(root, settings=settings)
        self.problems += [Problem.from_error(e, e.path or PYPROJECT) for e in errors]

    def picked(self, rel: str) -> bool:
        """Whether problems located in `rel` are reported (always, without paths)."""
        return self.selected is None or rel in self.selected

    def _select(self, paths: list[str], base: Path) -> set[str]:
        known = set(self.files)
        chosen: set[str] = set()
        for text in paths:
            full = Path(os.path.abspath(base / text))
            rel = _inside(full, self.root)
            if rel is None:
                self.problems.append(Problem(str(full), 1, 1, "outside the repository"))
            elif not full.exists():
                self.problems.append(Problem(rel, 1, 1, "no such file or directory"))
            elif full.is_dir():
                prefix = "" if rel == "." else rel + "/"
                chosen.update(f for f in known if f.startswith(prefix))
            else:
                chosen.add(rel)
        return chosen

    def run(self) -> Report:
        files = self.files
        if self.selected is not None:  # a named file may be untracked and ignored
            files = files + sorted(self.selected.difference(files))
        flow_files = discover_flow_files(self.settings, files, sources=self.sources)
        checked = [f for f in flow_files if self.picked(f)]
        self._prefetch(checked)
        checked += self._importers_of_task_modules(checked, flow_files)
        flows = [flow for rel in checked for flow in self._flows(rel, report=True)]
        self._duplicate_flows(flows, flow_files)
        manifests, errors = collect_manifests(self.root, files)
        for exc in errors:
            if self.picked(exc.path or MANIFEST):
                self.problems.append(Problem.from_error(exc, exc.path or MANIFEST))
        self._deployments(manifests)
        if self.settings.namespace_root is not None:
            for rel in checked:
                found = self._flows(rel)
                if found:
                    self._namespace(rel, rel, found[0].line, "this flow file")
        n_manifests = sum(1 for m in manifests if self.picked(m.path))
        self.cache.save()
        problems = _unnested(sorted(set(self.problems)))
        return Report(problems, len(flows), len(checked) + n_manifests)

    def _importers_of_task_modules(self, checked: list[str], flow_files: list[str]) -> list[str]:
        """Named task modules (no flows of their own) drag in the flows that import them:
        renaming or changing a task there breaks or changes those flows."""
        selected = self.selected
        if selected is None:
            return []
        modules = [rel for rel in checked if rel in self.analyses and not self.analyses[rel].flows]
        if not modules:
            return []
        extra = [f for f in importers(self.root, flow_files, modules) if not self.picked(f)]
        selected.update(extra)
        self._prefetch(extra)
        return extra

    def _prefetch(self, rels: list[str]) -> None:
        """Analyse many files up front, on every core (errors are kept for `_flows`)."""
        from functools import partial

        from dagy_git.workers import chunked_map

        self.cache.enabled &= self.cache.worth(len(rels))
        todo = [rel for rel in rels if not self._cached(rel)]
        for rel, res in zip(
            todo,
            chunked_map(partial(_analyse_chunk, self.root, self.settings), todo),
            strict=True,
        ):
            if isinstance(res, FileAnalysis):
                self._keep(rel, res)

    def _cached(self, rel: str) -> bool:
        """Whether the analysis of `rel` came from the cache (`analysis_cache.py`)."""
        if not self.cache.enabled or rel in self.analyses:
            return rel in self.analyses
        try:
            flows = self.cache.get(rel, self._bytes(rel))
        except OSError:
            return False
        if flows:
            self.analyses[rel] = FileAnalysis(rel, flows, [])
        return bool(flows)

    def _keep(self, rel: str, analysis: FileAnalysis) -> None:
        self.analyses[rel] = analysis
        # A file with warnings is analysed again, so its warnings are shown every time.
        if (
            analysis.flows
            and not analysis.problems
            and not analysis.warnings
            and rel in self.sources
        ):
            self.cache.put(rel, self.sources[rel], analysis.flows)

    def _analysis(self, rel: str) -> FileAnalysis:
        if rel not in self.analyses and not self._cached(rel):
            source = self.sources.get(rel)
            if source is None:
                source = (self.root / rel).read_bytes()
            self._keep(rel, _analyse(source, rel, self.root, self.settings))
        return self.analyses[rel]

    def _flows(self, rel: str, *, report: bool = False) -> list[AnalyzedFlow]:
        try:
            analysis = self._analysis(rel)
        except (OSError, ValueError, DagyError) as exc:
            if report:
                message = exc.message if isinstance(exc, DagyError) else f"cannot read: {exc}"
                self.problems.append(Problem(rel, 1, 1, message))
            return []
        if report:
            self.problems += [Problem.from_error(e, rel) for e in analysis.problems]
            self.problems += [Problem.from_error(w, rel) for w in analysis.warnings]
        return analysis.flows

    def _duplicate_flows(self, flows: list[AnalyzedFlow], flow_files: list[str]) -> None:
        if self.selected is None:
            every = flows
        else:  # only files that mention a checked flow's name can clash with it
            wanted = {f.spec.name.encode() for f in flows}
            others = [rel for rel in flow_files if not self.picked(rel)]
            every = flows + [
                flow
                for rel in others
                if any(name in self._bytes(rel) for name in wanted)
                for flow in self._flows(rel)
            ]
        groups: dict[tuple[str, str], list[AnalyzedFlow]] = {}
        for flow in sorted(every, key=lambda f: (f.path, f.line)):
            groups.setdefault((flow.spec.name, flow.spec.version), []).append(flow)
        for (name, version), group in groups.items():
            where = " and ".join(f"{f.path}:{f.line}" for f in group)
            for flow in self._sites(group, lambda f: f.path):
                message = f"flow {name}@{version} is defined more than once: {where}"
                hint = "give one of them another name or version"
                self.problems.append(Problem(flow.path, flow.line, 1, message, hint))

    def _bytes(self, rel: str) -> bytes:
        if rel not in self.sources:
            try:
                self.sources[rel] = (self.root / rel).read_bytes()
            except OSError:
                self.sources[rel] = b""
        return self.sources[rel]

    def _sites(self, group: list[T], path_of: Callable[[T], str]) -> Iterable[T]:
        """Where to report a clash: every later site, or the named ones in path mode."""
        if len(group) < 2:
            return []
        later = [item for item in group[1:] if self.picked(path_of(item))]
        if later or self.selected is None:
            return later
        return group[:1] if self.picked(path_of(group[0])) else []

    def _deployments(self, manifests: list[Manifest]) -> None:
        for group in duplicate_deployments(manifests):
            for entry in self._sites(group, lambda e: e.manifest):
                self.problems.append(
                    Problem.from_error(duplicate_error(entry, group), entry.manifest)
                )
        for manifest in manifests:
            for entry in manifest.deployments:
                if self.picked(manifest.path) or self.picked(entry.flow_path):
                    self._deployment_flow(entry)

    def _deployment_flow(self, entry: DeploymentEntry) -> None:
        """Check that the flow a deployment names exists, and that its namespace can be derived."""
        what = f"deployment {entry.name!r}: {entry.flow_path}"
        message, hint = None, None
        if not _is_file(self.root / entry.flow_path):
            message = f"{what} does not exist"
            hint = "flow paths are relative to the folder of the dagy.toml"
        elif not (flows := self._flows(entry.flow_path)):
            message = f"{what} holds no valid @flow"
        else:
            functions = [f.spec.function for f in flows]
            if entry.function is None and len(flows) > 1:
                message = f"{what} holds several flows ({', '.join(functions)})"
                hint = f'name one: flow = "{posixpath.basename(entry.flow_path)}:function"'
            elif entry.function is not None and entry.function not in functions:
                message = f"{what} has no flow {entry.function!r} (flows: {', '.join(functions)})"
        if message is not None:
            self.problems.append(Problem(entry.manifest, entry.line, 1, message, hint))
        elif entry.namespace is None and self.settings.namespace_root is not None:
            self._namespace(entry.flow_path, entry.manifest, entry.line, what)

    def _namespace(self, flow_path: str, at: str, line: int, shown: str) -> None:
        namespace_root = self.settings.namespace_root or ""
        name = f"namespace_root {namespace_root or '.'!r} ({self.settings.config_path})"
        try:
            derive_namespace(
                self.root / flow_path, self.root / namespace_root, root_name=name, shown=shown
            )
        except DagyError as exc:
            self.problems.append(Problem(at, line, 1, exc.message, exc.hint))


def _is_file(path: Path) -> bool:
    """Whether `path` is a file; a path the OS cannot even look up (too long) is not."""
    try:
        return path.is_file()
    except (OSError, ValueError):
        return False


def _inside(path: Path, root: Path) -> str | None:
    """`path` relative to `root` (POSIX), also through symlinked folders; None if outside."""
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop: judge the path as written
        real = path
    for candidate in (path, real):
        try:
            return candidate.relative_to(root).as_posix()
        except ValueError:
            continue
    return None


def _analyse_chunk(root: Path, settings: Settings, rels: list[str]) -> list[FileAnalysis | None]:
    """Worker side of `_prefetch`: an analysis per file, None where it must be redone here."""
    out: list[FileAnalysis | None] = []
    for rel in rels:
        try:
            out.append(_analyse((root / rel).read_bytes(), rel, root, settings))
        except (OSError, ValueError, DagyError):
            out.append(None)  # `_flows` reads it again and reports the problem
    return out


def _analyse(source: bytes, rel: str, root: Path, settings: Settings) -> FileAnalysis:
    """One file's analysis; a crash of the analyser is this file's problem, never the run's.

    Validation looks at files nobody named (clash checks read every flow file), so one
    file the analyser trips on must not turn `validate other.py` into an unexpected failure.
    """
    try:
        return analyze_source(source, rel, repo_root=root, file_path=root / rel, settings=settings)
    except (DagyError, OSError):
        raise
    except Exception as exc:  # a bug of ours, reported where it happened
        problem = SpecError(
            f"the analyser failed on this file ({type(exc).__name__}: {exc})",
            path=rel,
            line=1,
            col=1,
            hint="this is a dagy-git bug: please report it with the file",
        )
        return FileAnalysis(rel, [], [problem])


_LINE_COL = re.compile(r":(\d+):(\d+): ")


def _unnested(problems: list[Problem]) -> list[Problem]:
    """The problems with another reported problem's full text, repeated inside a message
    (a call site saying why its task is broken), cut down to that problem's location."""
    by_line_col: dict[tuple[int, int], list[Problem]] = {}
    for problem in problems:
        by_line_col.setdefault((problem.line, problem.col), []).append(problem)
    out: list[Problem] = []
    for problem in problems:
        message = problem.message
        # Right to left, so a cut does not move the places still to look at.
        for match in reversed(list(_LINE_COL.finditer(message))):
            for nested in by_line_col.get((int(match[1]), int(match[2])), ()):
                full = f"{nested.location}: {nested.message}"
                begin = match.start() - len(nested.path)
                if nested is not problem and begin >= 0 and message.startswith(full, begin):
                    message = message[:begin] + nested.location + message[begin + len(full) :]
                    break
        out.append(problem if message == problem.message else replace(problem, message=message))
    return out
