"""What one process shares between the snapshots it opens (issue 12): listings of a commit,
started early in the background, and blobs read by id, kept up to a bound. Neither may
change what a snapshot reads."""

from __future__ import annotations

from pathlib import Path

import pytest

from dagy_git.registry import Registry, commitread, listing

from conftest import commit_all, git, run_cli, write

FLOW = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x + {i}


@flow(name="f{i}", version="1.0")
def main(x: int = 1):
    return step(x)
"""


@pytest.fixture
def registry(repo: Path) -> Registry:
    for i in range(12):
        write(repo, f"flows/f{i}.py", FLOW.format(i=i))
    commit_all(repo, "flows")
    assert run_cli("deploy", "--all", cwd=repo).returncode == 0
    return Registry(repo, "dagy/registry", "dagy/")


def records_by_git(repo: Path) -> dict[str, str]:
    """Every record.json of the registry, read by git itself."""
    names = git(repo, "ls-tree", "-r", "--name-only", "dagy/registry").splitlines()
    return {
        p: git(repo, "cat-file", "-p", f"dagy/registry:{p}")
        for p in names
        if p.endswith("record.json")
    }


def test_a_prefetched_listing_is_the_listing(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DAGY_GIT_CACHE", "0")  # no copy on disk: git lists
    tip = registry.tip()
    assert tip is not None
    listing._LISTINGS.clear()
    registry.prefetch(tip)
    assert (str(registry.root), tip) in listing._PENDING
    with registry.snapshot() as snap:
        keys = snap.flow_versions()  # consumes the listing started above
    assert (str(registry.root), tip) not in listing._PENDING
    assert keys == [(f"f{i}", "1.0") for i in sorted(range(12), key=str)]
    listing._LISTINGS.clear()
    with registry.snapshot() as snap:
        assert snap.flow_versions() == keys  # listed the ordinary way
    assert not (registry.root / ".git" / "dagy" / "cache" / "listing" / tip).exists()


def test_a_listing_kept_on_disk_is_checked(registry: Registry) -> None:
    """The next command on the same commit reads the copy; a damaged copy is a miss (git
    lists again and the copy is mended), never a wrong listing."""
    tip = registry.tip()
    assert tip is not None
    by_git = {
        line.split("\t")[1]: line.split()[2]
        for line in git(registry.root, "ls-tree", "-r", tip).splitlines()
    }
    listing._LISTINGS.clear()
    assert listing.listing(registry.root, tip) == by_git
    listing.written()
    kept = registry.root / ".git" / "dagy" / "cache" / "listing" / tip
    assert kept.is_file()
    listing._LISTINGS.clear()
    registry.prefetch(tip)  # the copy will answer: nothing started
    assert (str(registry.root), tip) not in listing._PENDING
    assert listing.listing(registry.root, tip) == by_git
    for damage in (
        lambda b: b.replace(b"record.json", b"recorX.json", 1),  # a flipped byte
        lambda b: b[: len(b) // 2],  # cut short
        lambda b: b"",
    ):
        kept.write_bytes(damage(kept.read_bytes()))
        listing._LISTINGS.clear()
        assert listing.listing(registry.root, tip) == by_git
        listing.written()
        assert kept.read_bytes().startswith(b"dagy-listing 1 ")  # written again, whole
    # only the newest few are kept
    for i in range(8):
        (kept.parent / f"{i:040x}").write_bytes(b"old")
    listing._LISTINGS.clear()
    kept.unlink()
    assert listing.listing(registry.root, tip) == by_git
    listing.written()
    assert len(list(kept.parent.iterdir())) == 4 and kept.is_file()


def test_blobs_shared_between_snapshots_are_the_blobs(
    registry: Registry, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bound smaller than one command's reads clears the cache mid-read: every blob the
    read asked for still arrives."""
    wanted = {p: text for p, text in records_by_git(registry.root).items()}
    monkeypatch.setattr(commitread, "_BLOBS_MAX_BYTES", 600)
    commitread._BLOBS.clear()
    for _ in range(2):  # the second snapshot reads what the first one kept
        with registry.snapshot() as snap:
            got = snap.record_dicts()
        assert len(got) == 12
        for (name, version), rec in got.items():
            text = wanted[f"flows/{name}/{version}/record.json"]
            assert f'"code_hash":"{rec["code_hash"]}"' in text.replace(" ", "")
    assert sum(map(len, commitread._BLOBS.values())) <= 600 + max(map(len, wanted.values()))
