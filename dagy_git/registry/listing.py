"""The listing of a registry commit: `{path: blob id}` of every file in it, read once.

A listing tells `list`, `deploy --all` and `serve` which flow versions exist and where
their files are. At 25,000 versions `git ls-tree -r` takes ~0.25 s, and a commit's listing
never changes, so it is kept: in the process (every snapshot of a command shares it) and
on disk, under `<git common dir>/dagy/cache/listing/`, as the raw `ls-tree -z` output
named by its commit and checked against its SHA-256 on every read (a damaged copy is a
miss, never a wrong listing). The next command on the same registry commit reads it in a
few milliseconds; a fresh clone, or the first command after the registry moved, asks git.
`DAGY_GIT_CACHE=0` turns the disk copy off.

A deploy starts the listing in the background (`prefetch`) before it reads the work tree,
so git walks the registry's trees on the other core meanwhile.
"""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from dagy_git import gitio
from dagy_git.errors import GitError

__all__ = ["listing", "prefetch", "written"]

_KEEP = 4  # listings kept on disk: the registry, its remote-tracking copy, a few moves
_MAGIC = b"dagy-listing 1 "

# Commits never change, so their listings are shared by the snapshots of one process.
_LISTINGS: dict[tuple[str, str], dict[str, str]] = {}
_PENDING: dict[tuple[str, str], gitio.Background] = {}  # started by `prefetch`
_WRITERS: list[threading.Thread] = []  # copies being written to disk


def prefetch(root: Path, commit: str) -> None:
    """Start listing `commit` in the background, unless a copy on disk will answer."""
    where = (str(root), commit)
    if where in _LISTINGS or where in _PENDING:
        return
    path = _cache_file(root, commit)
    if path is None or not path.is_file():
        _PENDING[where] = gitio.start_ls_tree(root, commit)


def listing(root: Path, commit: str) -> dict[str, str]:
    """Every blob of `commit`, `{path: blob id}`: from this process, from disk, from a
    listing `prefetch` started, or from git (then kept on disk)."""
    where = (str(root), commit)
    found = _LISTINGS.get(where)  # one lookup: a server's other thread may clear it
    if found is not None:
        return found
    path = _cache_file(root, commit)
    raw = _read(path) if path is not None else None
    if raw is not None:
        found = gitio.parse_ls_tree(raw)
    else:
        pending = _PENDING.pop(where, None)
        if pending is not None:
            raw = pending.output()
            found = gitio.parse_ls_tree(raw)
        else:
            chunks: list[bytes] = []
            found = gitio.ls_tree_blobs(root, commit, raw_chunks=chunks)
            raw = b"".join(chunks)
        if path is not None:
            # On another thread (hashing and writing release the GIL): the command goes
            # on reading records meanwhile, and the interpreter waits for it at exit.
            writer = threading.Thread(target=_write, args=(path, raw), name="dagy-listing")
            writer.start()
            # A server lists each commit its branch moves to: keep only the live writers.
            _WRITERS[:] = [w for w in _WRITERS if w.is_alive()] + [writer]
    _LISTINGS.clear()  # one commit at a time is all a command reads
    _LISTINGS[where] = found
    return found


def written() -> None:
    """Wait until the listings this process is keeping are on disk."""
    while _WRITERS:
        _WRITERS.pop().join()


def _cache_file(root: Path, commit: str) -> Path | None:
    """Where `commit`'s listing is kept (None: the disk copy is off)."""
    if os.environ.get("DAGY_GIT_CACHE", "") == "0":
        return None
    dot_git = root / ".git"
    try:
        common = dot_git if dot_git.is_dir() else gitio.git_common_dir(root)
    except GitError:
        return None
    return common / "dagy" / "cache" / "listing" / commit


def _read(path: Path) -> bytes | None:
    """The raw listing in `path`, if it is there whole (its hash checks)."""
    try:
        data = path.read_bytes()
    except OSError:
        return None
    header, newline, body = data.partition(b"\n")
    if not (newline and header.startswith(_MAGIC)):
        return None
    if header[len(_MAGIC) :].decode("ascii", "replace") != hashlib.sha256(body).hexdigest():
        return None
    return body


def _write(path: Path, raw: bytes) -> None:
    """Keep a listing (best effort: a read-only repository or a full disk is no error),
    atomically, and drop all but the newest few."""
    import tempfile  # here: read commands that find the copy never need it

    header = _MAGIC + hashlib.sha256(raw).hexdigest().encode() + b"\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(fd, "wb") as out:
            out.write(header + raw)
        os.replace(tmp, path)
        files = [(p.stat().st_mtime, p) for p in path.parent.iterdir()]
    except OSError:
        return
    # Another command's temporary file is its own until it is old (left by a kill).
    done = sorted((f for f in files if f[1].suffix != ".tmp"), reverse=True)
    stale = [f for f in files if f[1].suffix == ".tmp" and f[0] < done[0][0] - 600]
    for _, old in done[_KEEP:] + stale:
        try:
            old.unlink(missing_ok=True)
        except OSError:
            continue
