"""`log FLOW` and `log --deployment NAME` read only what names them (issue 12).

A `deploy --all` commit names every flow and rewrites every flow's files, so one flow's
history reads only its own trailer groups (`_naming`) and its own files
(`gitio.changed_files`). These tests hold the narrowed read to the whole read it replaced,
on a registry whose commits each touch several flows and deployments.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from dagy_git import gitio
from dagy_git.registry import log
from dagy_git.registry.log import HistoryQuery, LogEntry, read_history

from conftest import commit_all, git, run_cli, write

FLOW = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x + {k}


@flow(name="{name}", version="{version}")
def main(x: int = 1):
    return step(x)
"""

NAMES = ["etl", "etl_b", "big etl", "etl.v2"]  # prefixes of each other, a space, a dot


def flows(repo: Path, version: str, k: int) -> None:
    for i, name in enumerate(NAMES):
        write(repo, f"flows/f{i}.py", FLOW.format(name=name, version=version, k=k))
    manifest = "".join(
        f'[[deployments]]\nname = "{name.replace(" ", "-").replace(".", "-")}-prod"\n'
        f'flow = "flows/f{i}.py:main"\n\n'
        for i, name in enumerate(NAMES)
    )
    write(repo, "dagy.toml", manifest)


def cli(repo: Path, *args: str) -> None:
    proc = run_cli(*args, cwd=repo)
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two versions of four flows, code changes, tags, a forced re-deploy, a retirement."""
    repo = tmp_path_factory.mktemp("narrowed") / "repo"
    repo.mkdir()
    git(repo, "init", "-q")
    flows(repo, "1.0", 1)
    commit_all(repo, "v1")
    cli(repo, "deploy", "--all")
    flows(repo, "1.0", 2)  # a code change of every flow, same version (mutable)
    commit_all(repo, "v1 fix")
    cli(repo, "deploy", "--all")
    cli(repo, "tag", "etl@1.0", "owner=ann")
    flows(repo, "2.0", 2)
    commit_all(repo, "v2")
    cli(repo, "deploy", "--all")
    cli(repo, "deploy", "flows/f1.py", "--force")
    cli(repo, "retire", "etl_b-prod")
    return repo


def whole_read(repo: Path, query: HistoryQuery) -> list[LogEntry]:
    """The read `read_history` made before: every file of every commit `--grep` keeps
    (`git log --raw`) and every trailer of its message."""
    tip = git(repo, "rev-parse", "dagy/registry")
    drafts = []
    for commit, files in gitio.log_changes(repo, tip, greps=query.greps()):
        trailers = log.parse_trailer_lines(commit.message)
        drafts += log._draft(commit, trailers, files, query)
    sources = {d.entry.source_commit for d in drafts if d.entry.source_commit}
    blobs = log._read_blobs(repo, [oid for d in drafts for oid in d.blobs()] + sorted(sources))
    return [d.finish(blobs) for d in drafts]


QUERIES = [
    *(HistoryQuery(flow_name=name) for name in NAMES),
    HistoryQuery(flow_name="etl", version="1.0"),
    HistoryQuery(flow_name="etl", version="2.0"),
    HistoryQuery(flow_name="et"),  # a prefix of real names: no history of its own
    *(HistoryQuery(deployment=d) for d in ("etl-prod", "etl_b-prod", "big-etl-prod")),
]


@pytest.mark.parametrize("query", QUERIES, ids=repr)
def test_narrowed_read_equals_the_whole_read(registry: Path, query: HistoryQuery) -> None:
    tip = git(registry, "rev-parse", "dagy/registry")
    got = read_history(registry, tip, query)
    assert got == whole_read(registry, query)
    if query.flow_name in ("etl", "etl.v2") and query.version is None:
        assert len(got) >= 3 and all(e.flow_name == query.flow_name for e in got)
        assert any(e.changes and e.changes != ("first deploy",) for e in got)


@pytest.mark.parametrize("name", NAMES)
def test_one_flow_is_the_whole_history_filtered(registry: Path, name: str) -> None:
    tip = git(registry, "rev-parse", "dagy/registry")
    whole = read_history(registry, tip, HistoryQuery())
    mine = [e for e in whole if e.flow_name == name and e.kind in ("flow", "deployment")]
    assert read_history(registry, tip, HistoryQuery(flow_name=name)) == mine


def test_changed_files_reads_only_the_paths_asked(registry: Path) -> None:
    commits = gitio.log_messages(registry, "dagy/registry", greps=["Dagy-Flow: etl@"])
    oids = [c.oid for c in commits]
    whole = dict(gitio.log_changes(registry, "dagy/registry"))
    by_oid = {c.oid: files for c, files in whole.items()}
    got = gitio.changed_files(registry, oids, ["flows/etl/", "deployments/etl-prod.json"])
    assert list(got) == oids
    for oid in oids:
        wanted = [
            f
            for f in by_oid[oid]
            if f.path.startswith("flows/etl/") or f.path == "deployments/etl-prod.json"
        ]
        assert got[oid] == wanted
    # the deploy commits touched the other flows too
    assert sum(len(by_oid[oid]) for oid in oids) > sum(len(got[oid]) for oid in oids) + 6
    # the registry's first commit (no parent) and a commit without such files
    root = git(registry, "rev-list", "--max-parents=0", "dagy/registry")
    assert gitio.changed_files(registry, [root], ["flows/nope/"]) == {root: []}
    assert gitio.changed_files(registry, [], ["flows/"]) == {}
