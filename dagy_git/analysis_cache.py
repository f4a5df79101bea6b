"""A local cache of analysis results, so unchanged flow files are not parsed again.

Parsing is most of what `validate`, the hook and `deploy --all` spend (`ast.parse` of every
flow file). A file's flows depend only on its bytes, on the bytes of the repository modules
it imports (task modules, helpers; transitively), and on the analyser's own code: the cache
key is a hash of exactly those, so a hit can never differ from a fresh analysis. The
imports are the closure deploy hashes (`identity.ClosureFinder`: a cheap scan of import
lines, resolved with the analyser's own `find_module`); the scan may find more than the
analyser follows (an import in a docstring), which only costs a miss.

Entries live under `<git common dir>/dagy/cache/analysis/` in a few segment files: each
command that analysed something writes ONE new segment (creating a file per entry costs
more than the analysis on some file systems), atomically, so a hook and a deploy may run at
once. Past a few segments, the next write merges the entries this command used into one
and drops the rest (entries of files that changed are garbage). Only clean results are
kept: a file with problems is analysed again, so its messages are always fresh.
`DAGY_GIT_CACHE=0` turns the cache off (`=1` uses it for even a few files). A corrupt or
unreadable entry is a miss, never an error.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

from dagy_git import gitio, hashing
from dagy_git.analysis import AnalyzedFlow
from dagy_git.analysis.settings import AnalysisSettings, ModuleSettings
from dagy_git.identity import ClosureFinder

__all__ = ["MIN_FILES", "AnalysisCache", "analyser_version"]

_MAX_SEGMENTS = 8
MIN_FILES = 32
_VERSION: str | None = None


def analyser_version() -> str:
    """A hash of the code that turns source into specs and hashes (changes on any edit)."""
    global _VERSION
    if _VERSION is None:
        pkg = Path(__file__).resolve().parent
        files = sorted((pkg / "analysis").glob("*.py")) + [
            pkg / f for f in ("hashing.py", "models.py", "options.py", "names.py", "errors.py")
        ]
        digest = hashlib.sha256()
        for f in files:
            digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
        _VERSION = digest.hexdigest()
    return _VERSION


class AnalysisCache:
    """Analysis results of one repository's files, looked up by what they depend on."""

    def __init__(
        self,
        root: Path,
        folder: Path | None = None,
        settings: ModuleSettings | None = None,
        finder: ClosureFinder | None = None,
    ) -> None:
        self.root = root
        self._folder = folder
        # The analyser's settings change what a file means (`task_modules` turns calls into
        # nodes), so they are part of every key, the registry's included.
        analysis = AnalysisSettings.of(settings)
        self._context = repr((analysis.sdk_modules, analysis.task_modules)).encode()
        self._finder = finder or ClosureFinder(root)  # shared with deploy's closures
        self._keys: dict[tuple[str, str], tuple[str, str]] = {}
        self._entries: dict[str, Any] | None = None  # every entry of every segment
        self._segments: list[Path] = []
        self._used: dict[str, Any] = {}  # entries this command hit
        self._new: dict[str, Any] = {}  # entries this command made
        setting = os.environ.get("DAGY_GIT_CACHE", "")
        self.enabled = setting != "0"
        self.forced = setting == "1"  # even for a few files (tests)

    def worth(self, n_files: int) -> bool:
        """Whether looking `n_files` up beats parsing them: a few files parse faster than
        the registry listing or the cache's segments load."""
        return self.enabled and (self.forced or n_files >= MIN_FILES)

    @property
    def folder(self) -> Path:
        """Where entries live (asked of git once: a worktree's `.git` is a file)."""
        if self._folder is None:
            dot_git = self.root / ".git"
            common = dot_git if dot_git.is_dir() else gitio.git_common_dir(self.root)
            self._folder = common / "dagy" / "cache" / "analysis"
        return self._folder

    # -- keys -------------------------------------------------------------------------

    def key(self, rel: str, source: bytes) -> str:
        """The cache key of one flow file with these bytes, in today's repository."""
        return self._both(rel, source)[0]

    def registry_key(self, rel: str, source: bytes) -> str:
        """What a registered flow version records of the file it was analysed from: the
        file's path and the bytes of it and of the repository modules it may import. No
        analyser version: the analysis of unchanged code is frozen (its code_hash may never
        change), so the registry vouches for it across dagy-git upgrades."""
        return self._both(rel, source)[1]

    def _both(self, rel: str, source: bytes) -> tuple[str, str]:
        digest = hashlib.sha256(source).hexdigest()
        if (rel, digest) not in self._keys:
            # The same closure deploy hashes (`identity.ClosureFinder`): what the analysis
            # of `rel` may read is the file and the repository modules it imports.
            self._finder.remember(rel, source)
            closure = [
                (p, digest if p == rel else self._digest(p)) for p in self._finder.paths(rel)
            ]
            # Paths and hex digests hold no NUL or newline: joining them is unambiguous
            # (and 10x cheaper than canonical JSON, for 5,000 files).
            text = self._context + b"\0"
            text += "\0".join([rel, *(f"{p}\n{d}" for p, d in closure)]).encode(
                "utf-8", "surrogateescape"
            )
            self._keys[(rel, digest)] = (
                hashlib.sha256(analyser_version().encode() + b"\0" + text).hexdigest(),
                hashlib.sha256(text).hexdigest(),
            )
        return self._keys[(rel, digest)]

    def _digest(self, rel: str) -> str:
        data = self._finder.read(rel)
        return "unreadable" if data is None else hashlib.sha256(data).hexdigest()

    def _load(self) -> dict[str, Any]:
        if self._entries is None:
            self._entries = {}
            self._segments = sorted(self.folder.glob("*.json")) if self.folder.is_dir() else []
            for segment in self._segments:
                try:
                    data = json.loads(segment.read_bytes())
                except (OSError, ValueError):
                    continue  # damaged or just removed by a merge: its entries are misses
                if isinstance(data, dict):
                    self._entries.update(data)
        return self._entries

    def get(self, rel: str, source: bytes) -> list[AnalyzedFlow] | None:
        """The flows of `rel` with these bytes, if a clean analysis of them is cached."""
        if not self.enabled:
            return None
        key = self.key(rel, source)
        item = self._load().get(key)
        if item is None:
            return None
        try:
            flows = [_flow(f, rel) for f in item["flows"]]
        except (ValueError, KeyError, TypeError):
            return None  # damaged: analyse again
        self._used[key] = item
        return flows

    def put(self, rel: str, source: bytes, flows: list[AnalyzedFlow]) -> None:
        """Keep a clean analysis of `rel` (written by `save`); an approximate one (with
        warnings) is analysed anew each time, so its warnings are always shown."""
        if not self.enabled or any(f.warnings for f in flows):
            return
        self._new[self.key(rel, source)] = {
            "rel": rel,
            "flows": [
                {
                    "spec": f.spec.to_json(),
                    "line": f.line,
                    "source_file_hash": f.source_file_hash,
                    "code_hash": f.code_hash,
                    "repo_imports": f.repo_imports,
                }
                for f in flows
            ],
        }

    def save(self) -> None:
        """Write this command's new entries as one segment (best effort: a full disk or a
        read-only repository is not an error); merge when segments pile up."""
        if not self.enabled or not self._new:
            return
        entries = self._load()
        merge = len(self._segments) >= _MAX_SEGMENTS
        body = self._new
        if merge:
            # Drop the entries of files that changed (this command keyed their path anew)
            # or are gone; keep the rest, which other commands may still hit.
            current = {rel: keys[0] for (rel, _), keys in self._keys.items()}

            def live(key: str, item: Any) -> bool:
                rel = item.get("rel") if isinstance(item, dict) else None
                if not isinstance(rel, str):
                    return False
                if rel in current:
                    return current[rel] == key
                return (self.root / rel).is_file()

            body = {**{k: v for k, v in entries.items() if live(k, v)}, **self._new}
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(body, out, separators=(",", ":"))
            os.replace(tmp, self.folder / f"{uuid.uuid4().hex}.json")
        except OSError:
            return
        if merge:
            for segment in self._segments:
                segment.unlink(missing_ok=True)
        self._new = {}


def _flow(item: dict[str, Any], rel: str) -> AnalyzedFlow:
    from dagy_git.models import FlowSpec

    spec = FlowSpec.model_validate(item["spec"])
    sfh = item["source_file_hash"]
    # The entry must still hash to what it says: a damaged file is a miss, not a wrong spec.
    if hashing.code_hash(spec.to_json(), sfh) != item["code_hash"]:
        raise ValueError("cache entry does not match its code hash")
    imports = item.get("repo_imports", [])
    if not isinstance(imports, list) or not all(isinstance(i, str) for i in imports):
        raise ValueError("cache entry has invalid repo_imports")
    return AnalyzedFlow(spec, rel, int(item["line"]), sfh, item["code_hash"], list(imports))
