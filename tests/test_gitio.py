"""gitio and gitobjects: the plumbing the registry stands on, checked against real git."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dagy_git import gitio
from dagy_git.errors import ConflictError, GitError
from dagy_git.gitio import RefUpdate
from dagy_git.gitobjects import BLOB_MODE, TREE_MODE, ObjectSet, parse_tree, valid_refname

from conftest import commit_all, git, write


def test_objects_hash_like_git_and_land_in_the_repository(repo: Path) -> None:
    """Blob, tree, commit and tag ids computed in Python are the ones git computes, and
    one pack stream makes them real objects that `git fsck --strict` accepts."""
    objs = ObjectSet("sha1")
    blob = objs.blob(b"hello\n")
    hashed = subprocess.run(
        ["git", "hash-object", "--stdin"],
        cwd=repo,
        input=b"hello\n",
        capture_output=True,
        check=True,
    )
    assert blob == hashed.stdout.decode().strip()
    sub = objs.tree({"b.txt": (BLOB_MODE, blob)})
    # git sorts a subtree `a` as `a/`, after `a.txt` — the classic ordering trap.
    root = objs.tree({"a": (TREE_MODE, sub), "a.txt": (BLOB_MODE, blob)})
    ident = "A U Thor <a@example.com> 1700000000 +0000"
    head = git(repo, "rev-parse", "HEAD")
    commit = objs.commit(root, [head], ident, ident, "msg\n")
    tag = objs.tag(commit, "commit", "v1", ident, "tag msg\n")
    gitio.store_pack(repo, objs.pack(), len(objs.objects))

    assert git(repo, "ls-tree", "--name-only", root).splitlines() == ["a.txt", "a"]
    assert git(repo, "cat-file", "-p", f"{commit}:a/b.txt") == "hello"
    assert git(repo, "cat-file", "-t", tag) == "tag"
    git(repo, "update-ref", "refs/tags/v1", tag)
    git(repo, "fsck", "--strict", "--no-dangling")


def test_many_objects_go_in_one_pack(repo: Path) -> None:
    """Past the unpack limit the objects arrive as one pack, not thousands of files."""
    objs = ObjectSet("sha1")
    oids = [objs.blob(f"file {i}\n".encode()) for i in range(500)]
    gitio.store_pack(repo, objs.pack(), len(objs.objects))
    packs = list((repo / ".git" / "objects" / "pack").glob("*.pack"))
    assert len(packs) == 1
    assert git(repo, "cat-file", "-p", oids[321]) == "file 321"


def test_sha256_repository(tmp_path: Path) -> None:
    """Object ids and packs follow the repository's hash (sha256 repos work too)."""
    path = tmp_path / "r256"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(path))
    assert gitio.object_format(path) == "sha256"
    objs = ObjectSet("sha256")
    blob = objs.blob(b"x\n")
    tree = objs.tree({"x": (BLOB_MODE, blob)})
    gitio.store_pack(path, objs.pack(), len(objs.objects))
    assert git(path, "rev-parse", f"{tree}:x") == blob
    assert len(blob) == 64


def test_parse_tree_reads_what_git_wrote(repo: Path) -> None:
    """Raw tree objects decode to names, modes and ids."""
    write(repo, "d/e.txt", "e\n")
    commit_all(repo)
    reader = gitio.CatFile(repo)
    try:
        obj = reader.read("HEAD^{tree}")
        assert obj is not None and obj.type == "tree"
        entries = parse_tree(obj.data)
        assert entries["d"][0] == TREE_MODE
        assert entries["README.md"] == (BLOB_MODE, git(repo, "rev-parse", "HEAD:README.md"))
    finally:
        reader.close()


def test_cat_file_batch_reads_many_objects_in_one_process(repo: Path) -> None:
    """One process answers thousands of requests, found or missing, in order."""
    objs = ObjectSet("sha1")
    oids = [objs.blob(f"{i}\n".encode() * (i % 50)) for i in range(3000)]
    gitio.store_pack(repo, objs.pack(), len(objs.objects))
    reader = gitio.CatFile(repo)
    try:
        got = reader.read_many([*oids, "0" * 40, "HEAD:nope"])
        assert [g.data for g in got[:3000] if g] == [
            f"{i}\n".encode() * (i % 50) for i in range(3000)
        ]
        assert got[-2:] == [None, None]
        assert reader.read("HEAD:README.md") is not None
    finally:
        reader.close()
    reader.close()  # idempotent


def test_cat_file_refuses_a_name_with_a_newline(repo: Path) -> None:
    """A newline would desynchronise the batch protocol."""
    reader = gitio.CatFile(repo)
    try:
        with pytest.raises(ValueError):
            reader.read("HEAD\nHEAD")
    finally:
        reader.close()


def test_update_refs_is_all_or_nothing(repo: Path) -> None:
    """One stale old value fails the whole transaction; nothing moves."""
    head = git(repo, "rev-parse", "HEAD")
    zero = "0" * 40
    gitio.update_refs(repo, [RefUpdate("refs/heads/a", head, zero)])
    with pytest.raises(ConflictError):
        gitio.update_refs(
            repo, [RefUpdate("refs/heads/b", head, zero), RefUpdate("refs/heads/a", head, zero)]
        )
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/b") == ""
    gitio.update_refs(repo, [RefUpdate("refs/heads/a", zero, head)])
    assert git(repo, "for-each-ref", "--format=%(refname)", "refs/heads/a") == ""


def test_update_refs_reports_a_blocking_ref(repo: Path) -> None:
    """`refs/heads/dagy` in the way of `refs/heads/dagy/registry` is named."""
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "branch", "dagy")
    with pytest.raises(gitio.RefBlockedError) as err:
        gitio.update_refs(repo, [RefUpdate("refs/heads/dagy/registry", head, "0" * 40)])
    assert err.value.blocker == "refs/heads/dagy"


@pytest.mark.parametrize(
    "ref",
    [
        "refs/tags/dagy/x/1.0",
        "refs/tags/dagy/x/%2E%2E",
        "refs/tags/a..b",
        "refs/tags/.hidden",
        "refs/tags/x.lock",
        "refs/tags/x.lock/y",
        "refs/tags/a b",
        "refs/tags/a~1",
        "refs/tags/a^",
        "refs/tags/a:b",
        "refs/tags/a?",
        "refs/tags/a*",
        "refs/tags/a[",
        "refs/tags/a\\b",
        "refs/tags/a@{1}",
        "refs/tags//a",
        "refs/tags/a/",
        "refs/tags/a.",
        "refs/tags/a/.b",
        "refs/heads/dagy/registry",
        "@",
        "refs/tags/--upload-pack=x",
    ],
)
def test_valid_refname_agrees_with_git(ref: str) -> None:
    """The pure ref-name check gives git check-ref-format's answer."""
    proc = subprocess.run(["git", "check-ref-format", ref], capture_output=True, check=False)
    assert valid_refname(ref) == (proc.returncode == 0)


def test_ident_falls_back_without_a_configured_identity(
    repo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A machine with no git identity still gets a readable author, with the env's date."""
    cfg = tmp_path / "bare.gitconfig"
    cfg.write_text("[user]\n\tuseConfigOnly = true\n")
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", str(cfg))
    for var in ("GIT_AUTHOR_NAME", "GIT_AUTHOR_EMAIL", "EMAIL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("GIT_AUTHOR_DATE", "1700000000 +0200")
    assert gitio.ident(repo, "AUTHOR") == "dagy-git <dagy-git@localhost> 1700000000 +0200"
    assert gitio.ident(repo, "AUTHOR", ("Ann", "ann@example.com")).startswith(
        "Ann <ann@example.com> 1700000000"
    )


def test_head_commit_and_differs_from(tmp_path: Path, repo: Path) -> None:
    """HEAD of an unborn repo is None; a file differs when its bytes are not HEAD's blob."""
    empty = tmp_path / "empty"
    git(tmp_path, "init", "-q", str(empty))
    assert gitio.head_commit(empty) is None
    write(repo, "clean.py", "a\n")
    write(repo, "deep/er/mod.py", "a\n")
    write(repo, ".gitignore", "ignored/\n")
    head = commit_all(repo)
    assert gitio.head_commit(repo) == head
    index_before = (repo / ".git" / "index").read_bytes()
    files = {
        "clean.py": b"a\n",
        "deep/er/mod.py": b"b\n",  # modified
        "new [1].py": b"c\n",  # never committed (and a glob character in the name)
        "ignored/flow.py": b"d\n",  # ignored by git: still not what HEAD holds
        "crlf.py": b"",
    }
    assert gitio.differs_from(repo, head, files) == {
        "deep/er/mod.py",
        "new [1].py",
        "ignored/flow.py",
        "crlf.py",
    }
    # a Windows checkout (CRLF) of an LF blob is the same file
    assert gitio.differs_from(repo, head, {"clean.py": b"a\r\n"}) == set()
    assert gitio.differs_from(repo, head, {}) == set()
    assert (repo / ".git" / "index").read_bytes() == index_before


def test_log_messages_filters_by_fixed_string(repo: Path) -> None:
    """`--grep -F` keeps regex characters literal."""
    git(repo, "commit", "-q", "--allow-empty", "-m", "one\n\nDagy-Flow: a.b@1")
    git(repo, "commit", "-q", "--allow-empty", "-m", "two\n\nDagy-Flow: axb@1")
    got = gitio.log_messages(repo, git(repo, "rev-parse", "HEAD"), greps=["Dagy-Flow: a.b@"])
    assert [c.message.split("\n")[0] for c in got] == ["one"]
    assert got[0].author == "Test User <test@example.com>"


def test_differs_from_many_files_lists_the_commit_once(repo: Path) -> None:
    """Past a few hundred files the whole commit is listed instead of naming each path:
    the answer is the same."""
    for i in range(300):
        write(repo, f"flows/f{i:03d}.py", f"x = {i}\n")
    head = commit_all(repo)
    files = {f"flows/f{i:03d}.py": f"x = {i}\n".encode() for i in range(300)}
    files["flows/f007.py"] = b"x = 'changed'\n"
    files["flows/f008.py"] = b"x = 8\r\n"  # a CRLF checkout of the same file
    files["flows/new.py"] = b"x = 1\n"
    few = {k: files[k] for k in ("flows/f007.py", "flows/f008.py", "flows/new.py")}
    assert gitio.differs_from(repo, head, files) == {"flows/f007.py", "flows/new.py"}
    assert gitio.differs_from(repo, head, few) == {"flows/f007.py", "flows/new.py"}


def test_a_background_listing_equals_the_listing(repo: Path) -> None:
    """`start_ls_tree` runs while the caller works and drains its pipe as git writes, so a
    listing far bigger than a pipe's buffer arrives whole; a failure is a GitError."""
    for i in range(2000):
        write(repo, f"d{i % 7}/sub/file_{i:04d}_{'x' * 40}.txt", f"{i}\n")
    head = commit_all(repo)
    pending = gitio.start_ls_tree(repo, head)
    listing = gitio.parse_ls_tree(pending.output())
    assert listing == gitio.ls_tree_blobs(repo, head)
    assert len(listing) == 2001
    assert listing["d3/sub/file_0003_" + "x" * 40 + ".txt"] == git(
        repo, "rev-parse", f"{head}:d3/sub/file_0003_{'x' * 40}.txt"
    )
    with pytest.raises(GitError, match="git ls-tree failed"):
        gitio.start_ls_tree(repo, "no-such-commit").output()
    with pytest.raises(GitError, match="git ls-tree failed"):
        gitio.ls_tree_blobs(repo, "no-such-commit")
    # streamed in pieces (a pipe holds 64 KiB): the same as the paths git names
    names = git(repo, "ls-tree", "-r", "--name-only", head).splitlines()
    assert sorted(listing) == sorted(names)
