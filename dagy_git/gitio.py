"""The only module that talks to git.

Small named functions over git plumbing, each with an explicit environment: a hook
inherits `GIT_INDEX_FILE`, `GIT_DIR` and friends from the outer git, and user-supplied
words never reach git as options (they go after `--` or inside `--opt=value`).
"""

from __future__ import annotations

import os
import re
import subprocess
import weakref
from collections.abc import Sequence
from pathlib import Path
from typing import IO, Any, NamedTuple

from dagy_git.errors import ConflictError, GitError

# Variables a hook or an outer git may set that would redirect our plumbing.
_SCRUBBED = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_PREFIX",
    "GIT_NAMESPACE",
    "GIT_COMMON_DIR",
    "GIT_QUARANTINE_PATH",
)


def git_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """The environment for a git subprocess: the caller's, minus redirections, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if k not in _SCRUBBED}
    env["GIT_TERMINAL_PROMPT"] = "0"
    env["LC_ALL"] = "C"
    if extra:
        env.update(extra)
    return env


def run_git(
    cwd: Path,
    *args: str,
    input: bytes | None = None,
    env: dict[str, str] | None = None,
    check: bool = True,
) -> subprocess.CompletedProcess[bytes]:
    """Run one git command in `cwd` and return the completed process (bytes out)."""
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            input=input,
            capture_output=True,
            env=env if env is not None else git_env(),
            check=False,
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc
    if check and proc.returncode != 0:
        msg = proc.stderr.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise GitError(f"git {args[0]} failed: {msg}")
    return proc


def repo_root(start: Path) -> Path:
    """The top of the work tree that contains `start`."""
    proc = run_git(start, "rev-parse", "--show-toplevel", check=False)
    if proc.returncode != 0:
        raise GitError(f"{start} is not inside a git repository", hint="run `git init` first")
    return Path(proc.stdout.decode().strip())


def list_files(root: Path, pathspecs: Sequence[str] = ()) -> list[str]:
    """Tracked and untracked-but-not-ignored files under `root`, repo-relative, `/`-separated."""
    proc = run_git(
        root, "ls-files", "-z", "--cached", "--others", "--exclude-standard", "--", *pathspecs
    )
    seen: dict[str, None] = {}
    for item in proc.stdout.split(b"\0"):
        if item:
            seen[item.decode("utf-8", "surrogateescape")] = None
    return [p for p in seen if (root / p).is_file()]


def git_common_dir(root: Path) -> Path:
    """The repository's common git folder (`.git`, also for a linked worktree)."""
    proc = run_git(root, "rev-parse", "--git-common-dir")
    path = Path(proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))
    return path if path.is_absolute() else root / path


# ---------------------------------------------------------------------------------------
# Work tree questions (read-only, never take the index lock)


def head_commit(root: Path) -> str | None:
    """The commit HEAD points at, or None in a repository without commits."""
    proc = run_git(root, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False)
    return proc.stdout.decode().strip() or None if proc.returncode == 0 else None


def differs_from(root: Path, commit: str, files: dict[str, bytes]) -> set[str]:
    """Which repo-relative `files` hold other bytes than `commit` has at their path.

    Compared by blob id, so it also covers files outside git's view (ignored, untracked)
    and artifacts built from other commits. A checkout that turned LF into CRLF is not a
    difference.
    """
    if not files:
        return set()
    from dagy_git.gitobjects import blob_id

    # Past a few hundred paths, git matching every entry against every pathspec costs more
    # than listing the whole commit.
    paths = sorted(files) if len(files) <= 256 else []
    committed = ls_tree_blobs(root, commit, paths)
    fmt = object_format(root)
    changed: set[str] = set()
    for rel, data in files.items():
        oid = committed.get(rel)
        if oid != blob_id(data, fmt) and oid != blob_id(data.replace(b"\r\n", b"\n"), fmt):
            changed.add(rel)
    return changed


def _start(
    cwd: Path, args: Sequence[str], *, stdin: Any, stdout: Any, stderr: Any
) -> subprocess.Popen[bytes]:
    """git started beside the caller, its streams where the caller wants them."""
    try:
        return subprocess.Popen(
            ["git", *args], cwd=cwd, stdin=stdin, stdout=stdout, stderr=stderr, env=git_env()
        )
    except FileNotFoundError as exc:
        raise GitError("git is not installed or not on PATH") from exc


class Background:
    """A git command running beside the caller (on another core): `output()` waits for it
    and returns its stdout. Its output goes to a temporary file, not a pipe: a caller busy
    with its own work never makes git wait for a reader."""

    def __init__(self, cwd: Path, args: Sequence[str]) -> None:
        import tempfile  # here, not at the top: it costs read commands ~5 ms to import

        self._args = list(args)
        self._out = tempfile.TemporaryFile()  # noqa: SIM115 - closed by `output()`
        self._err = tempfile.TemporaryFile()  # noqa: SIM115 - closed by `output()`
        try:
            self._proc = _start(
                cwd, self._args, stdin=subprocess.DEVNULL, stdout=self._out, stderr=self._err
            )
        except GitError:
            self._out.close()
            self._err.close()
            raise

    def output(self) -> bytes:
        """The command's stdout once it ended; GitError when it failed."""
        code = self._proc.wait()
        self._out.seek(0)
        self._err.seek(0)
        out, err = self._out.read(), self._err.read()
        self._out.close()
        self._err.close()
        if code != 0:
            msg = err.decode("utf-8", "replace").strip() or f"exit {code}"
            command = next((a for a in self._args if not a.startswith("-")), "")
            raise GitError(f"git {command} failed: {msg}")
        return out


# ---------------------------------------------------------------------------------------
# Object reads: one long-lived `cat-file --batch`, `ls-tree`, `log`


class GitObject(NamedTuple):
    """One object read from the repository."""

    oid: str
    type: str
    data: bytes


def _stop(proc: subprocess.Popen[bytes], err: IO[bytes]) -> None:
    """End a batch process: closing its stdin lets it exit on its own."""
    try:
        if proc.stdin is not None:
            proc.stdin.close()
        proc.wait(timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        proc.kill()
        proc.wait()
    finally:
        if proc.stdout is not None:
            proc.stdout.close()
        err.close()


class CatFile:
    """One `git cat-file --batch` process serving every object read of its owner.

    Started on first use; `close()` (or the owner's `with`) ends it, and a finalizer ends it
    if the owner is dropped. Requests are written in chunks smaller than a pipe buffer and
    answered before the next chunk, so neither side can block the other.
    """

    _CHUNK = 16_384

    def __init__(self, cwd: Path) -> None:
        self._cwd = cwd
        self._proc: subprocess.Popen[bytes] | None = None
        self._err: IO[bytes] | None = None
        self._finalizer: weakref.finalize[Any, Any] | None = None

    def _process(self) -> subprocess.Popen[bytes]:
        if self._proc is None:
            import tempfile  # here, not at the top: it costs read commands ~5 ms to import

            err = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
            try:
                proc = _start(
                    self._cwd,
                    ["cat-file", "--batch"],
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=err,
                )
            except GitError:
                err.close()
                raise
            self._proc, self._err = proc, err
            self._finalizer = weakref.finalize(self, _stop, proc, err)
        return self._proc

    def close(self) -> None:
        """End the process (idempotent)."""
        if self._finalizer is not None:
            self._finalizer()
        self._proc = self._err = self._finalizer = None

    def read(self, name: str) -> GitObject | None:
        """One object by id or revision expression (`<commit>:<path>`); None if missing."""
        return self.read_many([name])[0]

    def read_many(self, names: Sequence[str]) -> list[GitObject | None]:
        """Many objects in one round trip per chunk, in the order asked."""
        proc = self._process()
        assert proc.stdin is not None and proc.stdout is not None  # set by Popen(PIPE)
        out: list[GitObject | None] = []
        i = 0
        while i < len(names):
            chunk: list[bytes] = []
            size = 0
            while i < len(names) and size < self._CHUNK:
                name = names[i].encode("utf-8", "surrogateescape")
                if b"\n" in name:
                    raise ValueError(f"object name with a newline: {names[i]!r}")
                chunk.append(name)
                size += len(name) + 1
                i += 1
            try:
                proc.stdin.write(b"\n".join(chunk) + b"\n")
                proc.stdin.flush()
                out.extend(self._answer(proc.stdout) for _ in chunk)
            except (BrokenPipeError, ValueError) as exc:
                raise self._died() from exc
        return out

    def _answer(self, stdout: IO[bytes]) -> GitObject | None:
        header = stdout.readline()
        if not header.endswith(b"\n"):
            raise self._died()
        parts = header[:-1].rsplit(b" ", 2)
        if len(parts) != 3 or not parts[2].isdigit():
            return None  # "<name> missing" / "<name> ambiguous"
        size = int(parts[2])
        data = stdout.read(size + 1)
        if len(data) != size + 1:
            raise self._died()
        return GitObject(parts[0].decode(), parts[1].decode(), data[:-1])

    def _died(self) -> GitError:
        detail = ""
        if self._err is not None:
            self._err.seek(0)
            detail = self._err.read().decode("utf-8", "replace").strip()
        self.close()
        return GitError(f"git cat-file stopped unexpectedly: {detail or 'no message'}")


class TreeEntry(NamedTuple):
    """One line of `git ls-tree`."""

    mode: str
    type: str
    oid: str
    path: str


def ls_tree(cwd: Path, treeish: str, folders: Sequence[str] = ()) -> list[TreeEntry]:
    """Every entry below `treeish` (only below `folders`, when given), recursively
    (one `git ls-tree -r -z --full-tree`; folder names are literal, never patterns)."""
    proc = run_git(
        cwd, "--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", treeish, "--", *folders
    )
    entries: list[TreeEntry] = []
    for item in proc.stdout.split(b"\0"):
        if item:
            meta, _, path = item.partition(b"\t")
            mode, kind, oid = meta.decode().split(" ")
            entries.append(TreeEntry(mode, kind, oid, path.decode("utf-8", "surrogateescape")))
    return entries


def changed_paths(cwd: Path, old: str, new: str) -> list[str]:
    """Paths of blobs that differ between two commits (one `git diff-tree -r`)."""
    proc = run_git(cwd, "diff-tree", "-r", "-z", "--no-renames", "--name-only", old, new, "--")
    return [p.decode("utf-8", "surrogateescape") for p in proc.stdout.split(b"\0") if p]


def ls_tree_blobs(
    cwd: Path,
    treeish: str,
    folders: Sequence[str] = (),
    *,
    raw_chunks: list[bytes] | None = None,
) -> dict[str, str]:
    """`{path: blob id}` of every blob below `treeish` (or below `folders`): `ls_tree`
    without the per-entry objects, for listings of a whole registry (100,000 entries).
    `raw_chunks` collects git's output as read (for a caller that keeps it).

    The output is parsed as it streams in, while git still walks the trees on another
    core: a listing of 125,000 entries then costs what git takes (~0.25 s), not that
    plus the ~0.07 s of parsing it."""
    proc = _start(
        cwd,
        _ls_tree_args(treeish, folders),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None  # set by Popen(PIPE)
    blobs: dict[str, str] = {}
    rest = b""
    fd = proc.stdout.fileno()
    while chunk := os.read(fd, 1 << 20):
        if raw_chunks is not None:
            raw_chunks.append(chunk)
        cut = chunk.rfind(b"\0")
        if cut < 0:
            rest += chunk
            continue
        blobs.update(parse_ls_tree(rest + chunk[:cut]))
        rest = chunk[cut + 1 :]
    blobs.update(parse_ls_tree(rest))
    err = proc.stderr.read()
    proc.stdout.close()
    proc.stderr.close()
    if proc.wait() != 0:
        msg = err.decode("utf-8", "replace").strip() or f"exit {proc.returncode}"
        raise GitError(f"git ls-tree failed: {msg}")
    return blobs


def start_ls_tree(cwd: Path, treeish: str) -> Background:
    """`ls_tree_blobs` of a whole tree, started now and read later (`parse_ls_tree` of its
    `output()`), so git lists while the caller reads the work tree."""
    return Background(cwd, _ls_tree_args(treeish, ()))


def _ls_tree_args(treeish: str, folders: Sequence[str]) -> list[str]:
    return ["--literal-pathspecs", "ls-tree", "-r", "-z", "--full-tree", treeish, "--", *folders]


def parse_ls_tree(out: bytes) -> dict[str, str]:
    """`{path: blob id}` of `ls-tree -r -z` output."""
    # `<6-digit mode> <type> <oid>\t<path>`, decoded once (125,000 entries: ~0.07 s, not
    # ~0.1 s as bytes decoded one by one).
    blobs: dict[str, str] = {}
    for item in out.decode("utf-8", "surrogateescape").split("\0"):
        meta, _, path = item.partition("\t")
        if meta[7:12] == "blob ":
            blobs[path] = meta[12:]
    return blobs


class LogCommit(NamedTuple):
    """One commit of `git log`: id, author date (ISO 8601), `Name <email>`, raw message."""

    oid: str
    date: str
    author: str
    message: str


def log_messages(
    cwd: Path,
    tip: str,
    *,
    greps: Sequence[str] = (),
    since: str | None = None,
    max_count: int | None = None,
) -> list[LogCommit]:
    """Commits reachable from `tip`, newest first, with their messages (one `git log`, no
    diffs); `_log_filters` says which."""
    args = ["log", "-z", "--no-show-signature", "--no-color", "--format=%H%n%aI%n%an <%ae>%n%B"]
    args += _log_filters(greps, since, max_count)
    proc = run_git(cwd, *args, tip, "--")
    commits: list[LogCommit] = []
    for record in proc.stdout.decode("utf-8", "replace").split("\0"):
        if record:
            oid, date, author, message = [*record.split("\n", 3), "", "", ""][:4]
            commits.append(LogCommit(oid.strip("\n"), date, author, message))
    return commits


def _log_filters(greps: Sequence[str], since: str | None, max_count: int | None) -> list[str]:
    """`git log` options keeping the commits whose message holds any of the fixed strings
    `greps`, authored after `since` (a date git understands), at most `max_count`."""
    args = ["-F", *(f"--grep={g}" for g in greps)] if greps else []
    if since is not None:
        args.append(f"--since={since}")
    if max_count is not None:
        args.append(f"--max-count={max_count}")
    return args


class ChangedFile(NamedTuple):
    """One file a commit changed: its path and blob ids before and after (None: absent)."""

    path: str
    old: str | None
    new: str | None


def log_changes(
    cwd: Path, tip: str, *, greps: Sequence[str] = (), since: str | None = None
) -> list[tuple[LogCommit, list[ChangedFile]]]:
    """Commits reachable from `tip`, newest first, each with every file it changed (one
    `git log --raw`); `_log_filters` says which commits."""
    args = [
        "log",
        "-z",
        "--raw",
        "--no-renames",
        "--no-abbrev",
        "--no-show-signature",
        "--no-color",
        "--format=%x1e%H%n%aI%n%an <%ae>%n%B%x1f",
        *_log_filters(greps, since, None),
    ]
    proc = run_git(cwd, *args, tip, "--")
    out: list[tuple[LogCommit, list[ChangedFile]]] = []
    for record in proc.stdout.split(b"\x1e")[1:]:
        head, _, raw = record.partition(b"\x1f")
        oid, date, author, message = [*head.decode("utf-8", "replace").split("\n", 3), "", ""][:4]
        files = _raw_changes(raw.strip(b"\0\n").split(b"\0"))
        out.append((LogCommit(oid, date, author, message), files))
    return out


def changed_files(
    cwd: Path, commits: Sequence[str], paths: Sequence[str]
) -> dict[str, list[ChangedFile]]:
    """`{commit: files it changed below paths}` (literal path prefixes) of each commit
    against its first parent: one `git diff-tree --stdin`, which descends only into the
    folders `paths` name. So a commit that rewrote 25,000 files costs what its few files
    below `paths` cost, unlike `git log --raw`; and, unlike `git log -- PATHS`, no other
    commit of the history is diffed."""
    out: dict[str, list[ChangedFile]] = {c: [] for c in commits}
    if not commits or not paths:
        return out
    proc = run_git(
        cwd,
        "--literal-pathspecs",
        "diff-tree",
        "--stdin",
        "-r",
        "-z",
        "--root",
        "--no-renames",
        "--no-abbrev",
        "--",
        *paths,
        input="".join(f"{c}\n" for c in commits).encode(),
    )
    # The output is each commit's id, then its changes (`:meta` and path fields in turn),
    # every field NUL-ended; a commit that changed nothing there prints nothing.
    fields: dict[str, list[bytes]] = {}
    current: list[bytes] = []
    for field in proc.stdout.split(b"\0"):
        if field.startswith(b":") or (current and current[-1].startswith(b":")):
            current.append(field)  # a change, or the path of the change before
        elif field.strip():
            current = fields.setdefault(field.strip().decode(), [])
    for commit, raw in fields.items():
        out[commit] = _raw_changes(raw)
    return out


def _raw_changes(fields: list[bytes]) -> list[ChangedFile]:
    """Files of `--raw -z` output: `:meta` and path fields in turn."""
    files: list[ChangedFile] = []
    for meta, path in zip(fields[::2], fields[1::2], strict=False):
        parts = meta.decode().lstrip(":").split(" ")
        if len(parts) < 5:
            continue
        old, new = parts[2].strip("0") and parts[2], parts[3].strip("0") and parts[3]
        name = path.decode("utf-8", "surrogateescape")
        files.append(ChangedFile(name, old or None, new or None))
    return files


def staged_deletions(root: Path) -> list[str]:
    """Repo-relative paths the commit being made deletes (`git diff --cached`).

    Inside a git hook, the index being committed is `GIT_INDEX_FILE` (a temporary one for
    `git commit -a` or `git commit PATH`): it is kept here, unlike in every other call.
    """
    index = os.environ.get("GIT_INDEX_FILE")
    env = git_env({"GIT_INDEX_FILE": os.path.abspath(index)} if index else None)
    proc = run_git(
        root, "diff", "--cached", "--name-only", "-z", "--no-renames", "--diff-filter=D", env=env
    )
    return [p for p in proc.stdout.decode("utf-8", "surrogateescape").split("\0") if p]


def is_ancestor(cwd: Path, ancestor: str, descendant: str) -> bool:
    """Whether commit `ancestor` is reachable from `descendant` (or the same commit)."""
    proc = run_git(cwd, "merge-base", "--is-ancestor", ancestor, descendant, check=False)
    if proc.returncode not in (0, 1):
        raise GitError(f"git merge-base failed: {proc.stderr.decode('utf-8', 'replace').strip()}")
    return proc.returncode == 0


# ---------------------------------------------------------------------------------------
# Object and ref writes


def object_format(cwd: Path) -> str:
    """The repository's object hash: `sha1` or `sha256`."""
    proc = run_git(cwd, "rev-parse", "--show-object-format", check=False)
    return proc.stdout.decode().strip() or "sha1" if proc.returncode == 0 else "sha1"


def ident(cwd: Path, role: str, name_email: tuple[str, str] | None = None) -> str:
    """`git var GIT_<role>_IDENT` (role AUTHOR or COMMITTER): `Name <email> <epoch> <tz>`,
    honouring GIT_<role>_DATE; falls back to dagy-git's own name when none is configured."""
    extra: dict[str, str] = {}
    if name_email is not None:
        extra = {f"GIT_{role}_NAME": name_email[0], f"GIT_{role}_EMAIL": name_email[1]}
    proc = run_git(cwd, "var", f"GIT_{role}_IDENT", env=git_env(extra), check=False)
    if proc.returncode != 0:
        fallback = {f"GIT_{role}_NAME": "dagy-git", f"GIT_{role}_EMAIL": "dagy-git@localhost"}
        proc = run_git(cwd, "var", f"GIT_{role}_IDENT", env=git_env(fallback))
    return proc.stdout.decode("utf-8", "replace").strip()


# Like receive-pack's unpackLimit: few objects become loose objects, many one pack, so a
# registry written by thousands of small deploys does not pile up thousands of packs.
_UNPACK_LIMIT = 100


def store_pack(cwd: Path, pack: bytes, count: int) -> None:
    """Add the objects of a pack stream to the repository (one subprocess)."""
    if count <= _UNPACK_LIMIT:
        run_git(cwd, "unpack-objects", "-q", input=pack)
    else:
        run_git(cwd, "index-pack", "--stdin", input=pack)


class RefUpdate(NamedTuple):
    """Move `ref` from `old` to `new`; an all-zero id means "absent" (create or delete)."""

    ref: str
    new: str
    old: str


class RefBlockedError(GitError):
    """A ref cannot be created because another ref is in its way (`refs/heads/dagy`)."""

    def __init__(self, message: str, *, ref: str, blocker: str) -> None:
        super().__init__(message)
        self.ref = ref
        self.blocker = blocker


_BLOCKED = re.compile(r"'([^']+)' exists; cannot create '([^']+)'")
_RACE_MARKERS = (
    "but expected",
    "reference already exists",
    "unable to resolve reference",
    "File exists",
    "is missing",
    "expected",
)


def update_refs(cwd: Path, updates: Sequence[RefUpdate]) -> None:
    """Move every ref of `updates` in ONE transaction, each only if it still has its old value.

    ConflictError when any ref moved meanwhile (or another git holds its lock): nothing
    changed. `start … prepare/commit` makes git abort, not half-apply, if we die mid-write.
    """
    if not updates:
        return
    lines = ["start"]
    for u in updates:
        zero = "0" * len(u.old)
        if u.new == zero:
            lines.append(f"delete {u.ref} {u.old}")
        else:
            lines.append(f"update {u.ref} {u.new} {u.old}")
    lines += ["prepare", "commit", ""]
    proc = run_git(cwd, "update-ref", "--stdin", input="\n".join(lines).encode(), check=False)
    if proc.returncode == 0:
        return
    msg = proc.stderr.decode("utf-8", "replace").strip()
    blocked = _BLOCKED.search(msg)
    if blocked:
        raise RefBlockedError(msg, blocker=blocked.group(1), ref=blocked.group(2))
    if any(m in msg for m in _RACE_MARKERS):
        raise ConflictError(f"another writer moved a ref first: {msg}")
    raise GitError(f"git update-ref failed: {msg}")


def list_refs(cwd: Path, patterns: Sequence[str]) -> dict[str, str]:
    """`{refname: object id}` of refs matching `patterns` (for-each-ref prefix patterns)."""
    if not patterns:
        return {}
    proc = run_git(cwd, "for-each-ref", "--format=%(refname)%00%(objectname)", "--", *patterns)
    refs: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "surrogateescape").splitlines():
        name, _, oid = line.partition("\0")
        refs[name] = oid
    return refs


def checked_out_branches(cwd: Path) -> dict[str, Path]:
    """`{branch ref: work tree}` of every branch checked out in this repository's work
    trees (the main one and every `git worktree add`), read-only."""
    proc = run_git(cwd, "worktree", "list", "--porcelain", "-z", check=False)
    out: dict[str, Path] = {}
    where: Path | None = None
    for field in proc.stdout.decode("utf-8", "surrogateescape").split("\0"):
        key, _, value = field.partition(" ")
        if key == "worktree":
            where = Path(value)
        elif key == "branch" and where is not None:
            out.setdefault(value, where)
    return out


def has_remote(cwd: Path, remote: str) -> bool:
    """Whether `remote` is a configured remote's name (a URL or path counts as given)."""
    proc = run_git(cwd, "remote", check=False)
    names = proc.stdout.decode("utf-8", "surrogateescape").split()
    return remote in names or "/" in remote or ":" in remote


def pack_refs(cwd: Path) -> None:
    """Pack loose tag refs into `packed-refs` (listing thousands of loose refs is slow)."""
    run_git(cwd, "pack-refs", check=False)


# ---------------------------------------------------------------------------------------
# Remotes


class MissingRemoteRefError(GitError):
    """`git fetch` was asked for a ref the remote does not have."""


def fetch(cwd: Path, remote: str, refspecs: Sequence[str]) -> None:
    """Fetch `refspecs` from `remote`, pruning stale destinations; never FETCH_HEAD or tags."""
    proc = run_git(
        cwd,
        "fetch",
        # --refmap= : only our refspecs; no opportunistic refs/remotes/<remote>/* updates.
        "--refmap=",
        "--quiet",
        "--no-tags",
        "--prune",
        "--no-write-fetch-head",
        "--no-recurse-submodules",
        "--",
        remote,
        *refspecs,
        check=False,
    )
    if proc.returncode == 0:
        return
    msg = proc.stderr.decode("utf-8", "replace").strip()
    if "couldn't find remote ref" in msg:
        raise MissingRemoteRefError(msg)
    if "cannot lock ref" in msg or "unable to update local ref" in msg:
        raise ConflictError(f"another process fetched at the same time: {msg}")
    raise GitError(
        f"git fetch from {remote!r} failed: {msg}",
        hint="check the remote name or URL and your access to it",
    )


class PushLine(NamedTuple):
    """One ref's outcome in `git push --porcelain`: flag (` `, `+`, `-`, `*`, `=`, `!`)."""

    flag: str
    ref: str
    summary: str


# Rejections that mean "someone else pushed first" (a stale lease, or the remote's ref
# transaction losing a lock race with another push): fetch, re-plan and retry.
_PUSH_RACE_MARKERS = (
    "stale info",
    "fetch first",
    "non-fast-forward",
    "already exists",
    "atomic transaction failed",
    "failed to update ref",
    "failed to lock",
    "cannot lock ref",
    "incorrect old value",
)


class AtomicUnsupportedError(GitError):
    """The remote cannot take an atomic push."""


def push(
    cwd: Path, remote: str, refspecs: Sequence[str], leases: dict[str, str], *, atomic: bool
) -> list[PushLine]:
    """Push `refspecs`, each guarded by `--force-with-lease=<ref>:<expected>` ("" = absent).

    Hooks are skipped (`--no-verify`): a team's pre-push hook may itself deploy or run a
    test suite, neither of which a registry push should trigger.
    """
    args = ["push", "--porcelain", "--no-verify", "--no-follow-tags", "--no-recurse-submodules"]
    if atomic:
        args.append("--atomic")
    args += [f"--force-with-lease={ref}:{old}" for ref, old in leases.items()]
    proc = run_git(cwd, *args, "--", remote, *refspecs, check=False)
    lines: list[PushLine] = []
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and len(parts[0]) == 1:
            lines.append(PushLine(parts[0], parts[1].rpartition(":")[2], parts[2]))
    if proc.returncode == 0:
        return lines
    msg = proc.stderr.decode("utf-8", "replace").strip()
    if "does not support --atomic" in msg:
        raise AtomicUnsupportedError(msg)
    rejected = [p for p in lines if p.flag == "!"]
    if any(m in p.summary for p in rejected for m in _PUSH_RACE_MARKERS):
        raise ConflictError(
            f"the remote {remote!r} moved meanwhile: "
            + "; ".join(f"{p.ref} {p.summary}" for p in rejected)
        )
    said = [ln[len("remote: ") :].strip() for ln in msg.splitlines() if ln.startswith("remote: ")]
    said = [ln for ln in said if ln]
    if rejected:
        first = rejected[0]
        more = f" (and {len(rejected) - 1} more refs)" if len(rejected) > 1 else ""
        detail = f"{first.ref} {first.summary}{more}"
        hint = "the remote refused the push (a server hook or branch protection?)"
    else:
        lines_said = [ln.strip() for ln in msg.splitlines() if ln.strip()]
        detail = "; ".join(lines_said[:3]) or f"exit {proc.returncode}"
        hint = "check the remote name or URL and your access to it"
    if said:
        detail += "; the remote said: " + " / ".join(said[:5])
    raise GitError(f"git push to {remote!r} failed: {detail}", hint=hint)


# ---------------------------------------------------------------------------------------
# Hooks


def hooks_dir(root: Path) -> Path:
    """The folder git runs this repository's hooks from (`core.hooksPath` honoured)."""
    proc = run_git(root, "rev-parse", "--git-path", "hooks")
    path = Path(proc.stdout.decode("utf-8", "surrogateescape").rstrip("\n"))
    # rev-parse answers relative to where it ran, unless core.hooksPath is absolute.
    return path if path.is_absolute() else root / path
