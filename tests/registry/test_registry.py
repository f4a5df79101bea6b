"""The registry API against real repositories and real bare remotes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from dagy_git.errors import ConflictError, RegistryError
from dagy_git.models import DeploymentRecord, DraftRecord, FlowRecord
from dagy_git.registry import FlowVersionWrite, Registry, Transaction, WriteResult

from conftest import commit_all, git, write

HASH_A = "a" * 64
HASH_B = "b" * 64


def flow(
    name: str,
    version: str,
    commit: str | None,
    *,
    action: str = "registered",
    code_hash: str = HASH_A,
    namespace: str = "data/orders",
    tags: dict[str, str] | None = None,
    source: tuple[str, bytes] | None = ("etl.py", b"print('etl')\n"),
    updated: str = "2024-05-01T10:00:00.000Z",
) -> FlowVersionWrite:
    """A flow version write with sensible defaults."""
    record = FlowRecord(
        flow_name=name,
        flow_version=version,
        namespace=namespace,
        code_hash=code_hash,
        source_file_hash="c" * 64,
        source_path=f"flows/{name}.py",
        source_commit=commit,
        registered_at="2024-05-01T10:00:00.000Z",
        updated_at=updated,
    )
    spec = {"name": name, "version": version, "function": name}
    return FlowVersionWrite(record, spec, tags or {}, source, action)


def deployment(name: str, flow_name: str, version: str, n: int = 1) -> DeploymentRecord:
    """A deployment record."""
    return DeploymentRecord(
        name=name,
        flow_name=flow_name,
        flow_version=version,
        namespace="data/orders",
        tags={"env": "prod"},
        schedule="0 6 * * *",
        deployment_version=n,
        code_hash=HASH_A,
        created_at="2024-05-01T10:00:00.000Z",
        updated_at="2024-05-01T10:00:00.000Z",
    )


def commit(reg: Registry, *flows: FlowVersionWrite, **kw: object) -> WriteResult:
    """Write one transaction on the current tip."""
    with reg.snapshot() as snap:
        return reg.write(snap, Transaction(flows=list(flows), subject="deploy", **kw))  # type: ignore[arg-type]


def refs(repo: Path, prefix: str = "refs/") -> dict[str, str]:
    """Every ref below `prefix` and its value."""
    out = git(repo, "for-each-ref", "--format=%(refname) %(objectname)", prefix)
    return dict(line.split(" ") for line in out.splitlines())


@pytest.fixture
def head(repo: Path) -> str:
    """The user's commit that deploys come from."""
    return git(repo, "rev-parse", "HEAD")


def test_no_registry_reads_empty(repo: Path) -> None:
    """Before the first deploy every question has an empty answer, not an error."""
    reg = Registry(repo)
    with reg.snapshot() as snap:
        assert snap.commit is None
        assert snap.flow_versions() == []
        assert snap.records() == {}
        assert snap.record("order_etl", "2.1.0") is None
        assert snap.deployments() == []
        assert snap.latest_version("order_etl") is None
        assert snap.source("order_etl", "2.1.0") is None
    assert reg.log("order_etl") == []


def test_init_creates_the_branch_once_without_touching_the_work_tree(repo: Path) -> None:
    """`init` writes a root commit holding only the format marker; a second init is a no-op;
    HEAD, index and work tree stay as they were."""
    write(repo, "dirty.txt", "uncommitted\n")
    git(repo, "add", "dirty.txt")
    write(repo, "README.md", "changed\n")
    status = git(repo, "status", "--porcelain")
    head = git(repo, "rev-parse", "HEAD")
    index = (repo / ".git" / "index").read_bytes()

    reg = Registry(repo)
    tip = reg.init()
    assert reg.init() == tip
    assert git(repo, "ls-tree", "-r", "--name-only", tip) == "dagy-registry.json"
    assert git(repo, "show", f"{tip}:dagy-registry.json") == '{"format":1}'
    assert git(repo, "rev-list", "--count", tip) == "1"
    assert git(repo, "status", "--porcelain") == status
    assert git(repo, "rev-parse", "HEAD") == head
    assert (repo / ".git" / "index").read_bytes() == index
    assert git(repo, "symbolic-ref", "HEAD") == "refs/heads/main"


def test_register_then_read_back(repo: Path, head: str) -> None:
    """A registration stores spec, record, tags and source, and tags the source commit."""
    reg = Registry(repo)
    result = commit(reg, flow("order_etl", "2.1.0", head, tags={"team": "data-eng"}))
    assert reg.tip() == result.commit
    assert result.parent is None
    with reg.snapshot() as snap:
        assert snap.flow_versions() == [("order_etl", "2.1.0")]
        rec = snap.record("order_etl", "2.1.0")
        assert rec is not None and rec.namespace == "data/orders" and rec.source_commit == head
        assert snap.spec("order_etl", "2.1.0") == {
            "name": "order_etl",
            "version": "2.1.0",
            "function": "order_etl",
        }
        assert snap.flow_tags("order_etl", "2.1.0") == {"team": "data-eng"}
        assert snap.all_flow_tags() == {("order_etl", "2.1.0"): {"team": "data-eng"}}
        assert snap.source("order_etl", "2.1.0") == ("etl.py", b"print('etl')\n")
        info = snap.version_tags([("order_etl", "2.1.0")])[("order_etl", "2.1.0")]
    assert info.annotated and info.made_by_dagy
    assert info.target == head
    assert info.code_hash == HASH_A and info.namespace == "data/orders"
    assert info.registry_commit == result.commit
    assert git(repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == head
    message = git(repo, "tag", "-l", "--format=%(contents)", "dagy/order_etl/2.1.0")
    assert message.splitlines()[0] == "order_etl@2.1.0"
    assert f"Dagy-Registry-Commit: {result.commit}" in message


def test_update_moves_the_tag_metadata_keeps_it(repo: Path, head: str) -> None:
    """`updated` re-points the version tag at the new source commit; `metadata` and `tags`
    leave it; `source` None keeps the stored source."""
    reg = Registry(repo)
    commit(reg, flow("order_etl", "2.1.0", head))
    old_tag = refs(repo)["refs/tags/dagy/order_etl/2.1.0"]
    write(repo, "etl.py", "v2\n")
    new_head = commit_all(repo)
    commit(
        reg,
        flow(
            "order_etl",
            "2.1.0",
            new_head,
            action="updated",
            code_hash=HASH_B,
            source=("etl.py", b"v2\n"),
        ),
    )
    moved = refs(repo)["refs/tags/dagy/order_etl/2.1.0"]
    assert moved != old_tag
    assert git(repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == new_head

    result = commit(
        reg,
        flow(
            "order_etl",
            "2.1.0",
            new_head,
            action="metadata",
            code_hash=HASH_B,
            tags={"env": "prod"},
            source=None,
        ),
    )
    assert refs(repo)["refs/tags/dagy/order_etl/2.1.0"] == moved
    assert [u.ref for u in result.ref_updates] == ["refs/heads/dagy/registry"]
    with reg.snapshot() as snap:
        assert snap.source("order_etl", "2.1.0") == ("etl.py", b"v2\n")
        assert snap.flow_tags("order_etl", "2.1.0") == {"env": "prod"}
    assert git(repo, "rev-list", "--count", "dagy/registry") == "3"


def test_new_source_replaces_the_old_file(repo: Path, head: str) -> None:
    """A renamed flow file leaves exactly one file under source/."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head, source=("old.py", b"a\n")))
    commit(reg, flow("f", "1", head, action="updated", source=("new.py", b"b\n")))
    listing = git(repo, "ls-tree", "-r", "--name-only", "dagy/registry", "flows/f/1/source")
    assert listing == "flows/f/1/source/new.py"


def test_stale_base_is_a_conflict_and_writes_nothing(repo: Path, head: str) -> None:
    """Two writers planned on the same tip: the second one gets ConflictError; the branch
    and tags hold the first one's write."""
    reg = Registry(repo)
    reg.init()
    with reg.snapshot() as first, reg.snapshot() as second:
        winner = reg.write(first, Transaction(flows=[flow("a", "1", head)], subject="a"))
        before = refs(repo)
        with pytest.raises(ConflictError):
            reg.write(second, Transaction(flows=[flow("b", "1", head)], subject="b"))
    assert refs(repo) == before
    assert reg.tip() == winner.commit


def test_latest_version_is_the_most_recently_updated(repo: Path, head: str) -> None:
    """A bare FLOW means the version updated last; equal times pick the greatest version."""
    reg = Registry(repo)
    commit(
        reg,
        flow("f", "1.0", head, updated="2024-05-03T00:00:00.000Z"),
        flow("f", "2.0", head, updated="2024-05-02T00:00:00.000Z"),
        flow("g", "a", head, updated="2024-05-01T00:00:00.000Z"),
        flow("g", "b", head, updated="2024-05-01T00:00:00.000Z"),
    )
    with reg.snapshot() as snap:
        assert snap.latest_version("f") == "1.0"
        assert snap.latest_version("g") == "b"
        assert snap.latest_version("h") is None


def test_log_parses_trailers_newest_first_with_exact_names(repo: Path, head: str) -> None:
    """`log` lists only the flow asked for (not `big_order_etl`), newest first, with the
    action, hash, namespace and source commit of each change; version and limit filter."""
    reg = Registry(repo)
    commit(reg, flow("order_etl", "1.0", head), flow("big_order_etl", "1.0", head))
    commit(
        reg, flow("order_etl", "2.0", head), deployments=[deployment("prod", "order_etl", "2.0")]
    )
    last = commit(reg, flow("order_etl", "1.0", head, action="tags", tags={"x": "y"}))
    entries = reg.log("order_etl")
    assert [(e.flow_version, e.action) for e in entries] == [
        ("1.0", "tags"),
        ("2.0", "registered"),
        ("1.0", "registered"),
    ]
    top = entries[0]
    assert top.commit == last.commit
    assert top.code_hash == HASH_A and top.namespace == "data/orders" and top.source_commit == head
    assert (top.author, top.author_email) == ("Test User", "test@example.com")
    assert top.to_json()["flow_version"] == "1.0"
    assert [e.action for e in reg.log("order_etl", "1.0")] == ["tags", "registered"]
    assert len(reg.log("order_etl", limit=1)) == 1
    assert [e.flow_name for e in reg.log("big_order_etl")] == ["big_order_etl"]
    subject = git(repo, "log", "-1", "--format=%B", "dagy/registry~1")
    assert "Dagy-Deployment: prod#1\nDagy-Deployment-Flow: order_etl@2.0" in subject


def test_deployments_and_drafts(repo: Path, head: str) -> None:
    """Deployments and drafts are stored under their names and read back; a draft can go."""
    reg = Registry(repo)
    draft = DraftRecord(
        name="My draft", canvas_json="{}", tags={"status": "wip"}, created_at="t", updated_at="t"
    )
    commit(
        reg,
        flow("f", "1", head),
        deployments=[deployment("f-prod", "f", "1")],
        drafts={"d1": draft},
    )
    with reg.snapshot() as snap:
        assert [d.name for d in snap.deployments()] == ["f-prod"]
        dep = snap.deployment("f-prod")
        assert dep is not None and dep.schedule == "0 6 * * *"
        assert snap.deployment("nope") is None
        assert snap.drafts() == {"d1": draft}
    commit(reg, drafts={"d1": None})
    with reg.snapshot() as snap:
        assert snap.drafts() == {}
        assert snap.draft("d1") is None


def test_no_source_commit_means_no_version_tag(repo: Path) -> None:
    """A record without a source commit cannot be tagged; the registration still lands."""
    reg = Registry(repo)
    result = commit(reg, flow("f", "1", None))
    assert [u.ref for u in result.ref_updates] == ["refs/heads/dagy/registry"]
    assert refs(repo, "refs/tags/") == {}


def test_unknown_source_commit_is_refused(repo: Path) -> None:
    """A tag on a commit the repository lacks would break it; nothing is written."""
    reg = Registry(repo)
    with pytest.raises(RegistryError, match="not a commit of this repository"):
        commit(reg, flow("f", "1", "1" * 40))
    assert reg.tip() is None


def test_settings_object_and_custom_names(repo: Path, head: str) -> None:
    """Branch and tag prefix come from settings; bad names are refused up front."""

    from dagy_git.config import Settings

    reg = Registry.from_settings(
        Settings(repo_root=repo, registry_branch="ops/flows", tag_prefix="flows-")
    )
    commit(reg, flow("f", "1", head))
    assert "refs/heads/ops/flows" in refs(repo)
    assert "refs/tags/flows-f/1" in refs(repo)
    assert reg.branch == "ops/flows"
    with pytest.raises(RegistryError, match="invalid registry branch"):
        Registry(repo, "bad..name")
    with pytest.raises(RegistryError, match="invalid tag prefix"):
        Registry(repo, "ok", "bad prefix/")


def test_sha256_repository_registry(tmp_path: Path) -> None:
    """A sha256 repository gets a sha256 registry."""
    path = tmp_path / "r256"
    git(tmp_path, "init", "-q", "--object-format=sha256", str(path))
    write(path, "a.py", "a\n")
    head = commit_all(path)
    reg = Registry(path)
    commit(reg, flow("f", "1", head))
    with reg.snapshot() as snap:
        rec = snap.record("f", "1")
        assert rec is not None and rec.source_commit == head
    assert len(reg.tip() or "") == 64
    git(path, "fsck", "--strict", "--no-dangling")


def test_snapshot_of_an_older_commit(repo: Path, head: str) -> None:
    """Any registry commit can be read, e.g. the state before the last deploy."""
    reg = Registry(repo)
    first = commit(reg, flow("f", "1", head))
    commit(reg, flow("g", "1", head))
    with reg.snapshot(first.commit) as snap:
        assert snap.flow_versions() == [("f", "1")]
    with pytest.raises(RegistryError, match="not a commit"):
        reg.snapshot("no-such-rev")


# ---------------------------------------------------------------------------------------
# remotes


@pytest.fixture
def origin(repo: Path, bare_remote: Path) -> Path:
    """`repo` with `origin` pointing at an empty bare remote, main pushed."""
    git(repo, "remote", "add", "origin", str(bare_remote))
    git(repo, "push", "-q", "origin", "main")
    return bare_remote


def clone(src: Path, dest: Path) -> Path:
    """A clone of `src` (without its tags: pull must bring them)."""
    git(dest.parent, "clone", "-q", "--no-tags", str(src), str(dest))
    return dest


def test_fetch_a_remote_without_registry(repo: Path, origin: Path) -> None:
    """No registry on the remote yet is fine; the user's refs are never touched."""
    before = refs(repo)
    state = Registry(repo).fetch("origin")
    assert state.tip is None and state.tags == {}
    assert refs(repo) == before


def test_publish_push_and_pull(repo: Path, origin: Path, tmp_path: Path, head: str) -> None:
    """deploy --push: plan on the remote, write objects, push atomically, adopt locally; a
    second clone pulls branch and tags."""
    reg = Registry(repo)
    result = reg.write_with_retry(
        lambda snap: Transaction(flows=[flow("f", "1", head)], subject="deploy"),
        remote_name="origin",
    )
    assert result is not None
    assert git(origin, "rev-parse", "dagy/registry") == result.commit
    assert git(origin, "rev-parse", "dagy/f/1^{commit}") == head
    assert reg.tip() == result.commit
    assert refs(repo, "refs/tags/") == refs(origin, "refs/tags/")

    other = Registry(clone(origin, tmp_path / "other"))
    pulled = other.pull("origin")
    assert (pulled.status, pulled.commit, pulled.tags_updated) == ("created", result.commit, 1)
    assert refs(other.root, "refs/tags/") == refs(origin, "refs/tags/")
    assert other.pull("origin").status == "up-to-date"


def test_push_with_a_stale_lease_is_a_conflict(
    repo: Path, origin: Path, tmp_path: Path, head: str
) -> None:
    """Another writer pushed after our fetch: our push is refused whole, the remote keeps
    theirs, and a re-planned retry lands on top."""
    reg = Registry(repo)
    state = reg.fetch("origin")
    with reg.base_snapshot(state) as snap:
        ours = reg.write(
            snap, Transaction(flows=[flow("ours", "1", head)], subject="ours"), update_local=False
        )
    assert reg.tip() is None  # objects only

    other = Registry(clone(origin, tmp_path / "other"))
    theirs = other.write_with_retry(
        lambda snap: Transaction(flows=[flow("theirs", "1", head)], subject="t"),
        remote_name="origin",
    )
    assert theirs is not None
    with pytest.raises(ConflictError):
        reg.push("origin", ours, expected=state)
    assert git(origin, "rev-parse", "dagy/registry") == theirs.commit
    assert "refs/tags/dagy/ours/1" not in refs(origin)

    again = reg.write_with_retry(
        lambda snap: Transaction(flows=[flow("ours", "1", head)], subject="ours"),
        remote_name="origin",
    )
    assert again is not None and again.parent == theirs.commit
    with reg.snapshot() as snap:
        assert snap.flow_versions() == [("ours", "1"), ("theirs", "1")]


def test_pull_moves_local_tags_to_the_remote(repo: Path, origin: Path, tmp_path: Path) -> None:
    """A version re-deployed elsewhere moves its tag; pull brings the moved tag along."""
    other_path = clone(origin, tmp_path / "other")
    other = Registry(other_path)
    head = git(other_path, "rev-parse", "HEAD")
    other.write_with_retry(
        lambda s: Transaction(flows=[flow("f", "1", head)]), remote_name="origin"
    )
    reg = Registry(repo)
    reg.pull("origin")
    first_tag = refs(repo)["refs/tags/dagy/f/1"]

    write(other_path, "etl.py", "v2\n")
    new_head = commit_all(other_path)
    git(other_path, "push", "-q", "origin", "main")
    other.write_with_retry(
        lambda s: Transaction(flows=[flow("f", "1", new_head, action="updated", code_hash=HASH_B)]),
        remote_name="origin",
    )
    git(repo, "fetch", "-q", "origin", "main")  # the source commit the tag points at
    pulled = reg.pull("origin")
    assert pulled.status == "fast-forward" and pulled.tags_updated == 1
    assert refs(repo)["refs/tags/dagy/f/1"] != first_tag
    assert git(repo, "rev-parse", "dagy/f/1^{commit}") == new_head


def test_local_commits_travel_with_the_next_push(repo: Path, origin: Path, head: str) -> None:
    """A local deploy that was never pushed is pushed (branch and tag) by the next
    deploy --push, which builds on it."""
    reg = Registry(repo)
    commit(reg, flow("local", "1", head))
    result = reg.write_with_retry(
        lambda s: Transaction(flows=[flow("pushed", "1", head)]), remote_name="origin"
    )
    assert result is not None
    assert refs(origin, "refs/tags/") == refs(repo, "refs/tags/")
    assert set(refs(origin, "refs/tags/")) == {"refs/tags/dagy/local/1", "refs/tags/dagy/pushed/1"}
    assert git(origin, "rev-list", "--count", "dagy/registry") == "2"


def test_push_all_and_diverged_pull(repo: Path, origin: Path, tmp_path: Path, head: str) -> None:
    """`push_all` shares a local registry; a registry that diverged from the remote's is
    refused by pull (and by push) with a hint, changing nothing."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head))
    pushed = reg.push_all("origin")
    assert pushed.changed and pushed.tags == 1
    assert not reg.push_all("origin").changed

    other = Registry(clone(origin, tmp_path / "other"))
    other.pull("origin")
    other.write_with_retry(
        lambda s: Transaction(flows=[flow("g", "1", head)]), remote_name="origin"
    )
    commit(reg, flow("h", "1", head))
    before = refs(repo)
    with pytest.raises(RegistryError, match="diverged") as err:
        reg.pull("origin")
    assert err.value.hint and "dagy-git pull --force" in err.value.hint
    with pytest.raises(RegistryError, match="diverged"):
        reg.push_all("origin")
    assert {k: v for k, v in refs(repo).items() if "dagy-remote" not in k} == {
        k: v for k, v in before.items() if "dagy-remote" not in k
    }

    # The way out loses nothing: the local-only commit and its tag stay on a backup ref.
    local_tip, local_tag = before["refs/heads/dagy/registry"], before["refs/tags/dagy/h/1"]
    pulled = reg.pull("origin", force=True)
    assert pulled.status == "reset" and pulled.previous == local_tip
    assert pulled.backup == f"refs/dagy-backup/dagy/registry/{local_tip}"
    after = refs(repo)
    assert after["refs/heads/dagy/registry"] == refs(origin)["refs/heads/dagy/registry"]
    assert after[f"{pulled.backup}/branch"] == local_tip
    assert after[f"{pulled.backup}/tags/dagy/h/1"] == local_tag
    assert "refs/tags/dagy/g/1" in after
    reg.push_all("origin")  # no longer diverged


def test_remote_given_as_a_path_or_url(repo: Path, origin: Path, head: str) -> None:
    """A remote may be a path (or URL) instead of a configured name."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head))
    reg.push_all(str(origin))
    state = reg.fetch(str(origin))
    assert state.tip == reg.tip()
    assert json.loads(git(origin, "show", "dagy/registry:dagy-registry.json")) == {"format": 1}


def test_legacy_record_without_code_hash_can_be_registered_again(repo: Path, head: str) -> None:
    """A record without code_hash (legacy) vouches for no hash: its tag may be re-made."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head, code_hash=HASH_A))
    legacy = flow("f", "1", head, action="metadata")
    legacy.record = legacy.record.model_copy(update={"code_hash": None})
    commit(reg, legacy)
    commit(reg, flow("f", "1", head, code_hash=HASH_B))
    with reg.snapshot() as snap:
        assert snap.version_tags([("f", "1")])[("f", "1")].code_hash == HASH_B


def test_non_atomic_push_and_a_prefix_without_slash(repo: Path, origin: Path, head: str) -> None:
    """For remotes without atomic push, tags go first and the branch last; a tag prefix
    like `flows-` works for reads, pushes and pulls."""
    reg = Registry(repo, "dagy/registry", "flows-")
    commit(reg, flow("f", "1", head))
    state = reg.fetch("origin")
    pushed = reg.push("origin", None, expected=state, atomic=False)
    assert pushed.refs == ["refs/heads/dagy/registry", "refs/tags/flows-f/1"]
    assert refs(origin, "refs/tags/") == refs(repo, "refs/tags/")
    state = reg.fetch("origin")
    assert set(state.tags) == {"refs/tags/flows-f/1"}
    with reg.snapshot() as snap:
        many = [("f", "1")] + [(f"x{i}", "1") for i in range(250)]
        assert list(snap.version_tags(many)) == [("f", "1")]


def test_push_refuses_a_write_that_would_rewrite_the_remote(
    repo: Path, origin: Path, tmp_path: Path, head: str
) -> None:
    """A write built on a stale local tip is never forced over the remote's history."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head))
    reg.push_all("origin")
    other = Registry(clone(origin, tmp_path / "other"))
    other.write_with_retry(
        lambda s: Transaction(flows=[flow("g", "1", head)]), remote_name="origin"
    )
    local = commit(reg, flow("h", "1", head))
    remote_tip = git(origin, "rev-parse", "dagy/registry")
    with pytest.raises(RegistryError, match="diverged"):
        reg.push("origin", local, expected=reg.fetch("origin"))
    assert git(origin, "rev-parse", "dagy/registry") == remote_tip


def test_update_without_source_commit_drops_the_stale_tag(repo: Path, head: str) -> None:
    """A version re-deployed with no commit to point at loses its tag rather than keep one
    that describes other code."""
    reg = Registry(repo)
    commit(reg, flow("f", "1", head))
    result = commit(reg, flow("f", "1", None, action="updated", code_hash=HASH_B))
    assert [u.ref for u in result.ref_updates] == ["refs/heads/dagy/registry", "refs/tags/dagy/f/1"]
    assert refs(repo, "refs/tags/") == {}
