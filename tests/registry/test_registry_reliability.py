"""Reliability: racing writers, remotes racing, SIGKILL mid-write, corrupted or hostile
registries. Every test asserts what a team would see: no lost registration, a readable
registry, a clear error and nothing written."""

from __future__ import annotations

import os
import random
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dagy_git.errors import RegistryError
from dagy_git.models import FlowRecord
from dagy_git.registry import FlowVersionWrite, Registry, Transaction

from conftest import commit_all, git, write

# A writer process: registers `count` flows named `<who>-<i>`, one commit each, re-planning
# on every lost race (locally, or through `remote` when given).
WRITER = r"""
import sys
from pathlib import Path
from dagy_git.registry import FlowVersionWrite, Registry, Transaction
from dagy_git.models import FlowRecord

root, who, count, head, remote = sys.argv[1:6]
reg = Registry(Path(root))

def plan_for(name):
    def plan(snap):
        if snap.record(name, "1") is not None:
            return None
        rec = FlowRecord(flow_name=name, flow_version="1", code_hash="a" * 64,
                         source_commit=head, registered_at="t", updated_at="t")
        fw = FlowVersionWrite(rec, {"name": name}, {"who": who}, ("f.py", b"x"), "registered")
        return Transaction(flows=[fw], subject=f"deploy {name}")
    return plan

for i in range(int(count)):
    if remote:
        reg.write_with_retry(plan_for(f"{who}-{i}"), remote_name=remote, attempts=60)
    else:
        reg.write_with_retry(plan_for(f"{who}-{i}"), attempts=60)
"""

# A big writer for the SIGKILL test: 300 flow versions per commit, forever, each round
# changing every code hash (so every version tag moves).
BIG_WRITER = r"""
import hashlib, itertools, sys
from pathlib import Path
from dagy_git.registry import FlowVersionWrite, Registry, Transaction
from dagy_git.models import FlowRecord

root, head = Path(sys.argv[1]), sys.argv[2]
rounds = range(int(sys.argv[3])) if len(sys.argv) > 3 else itertools.count()
reg = Registry(root)
for round_ in rounds:
    with reg.snapshot() as snap:
        known = {k for k in snap.flow_versions()}
        chash = hashlib.sha256(f"{round_}-{snap.commit}".encode()).hexdigest()
        flows = []
        for i in range(300):
            name = f"flow{i:03d}"
            rec = FlowRecord(flow_name=name, flow_version="1", code_hash=chash,
                             source_commit=head, registered_at="t", updated_at=str(round_))
            action = "updated" if (name, "1") in known else "registered"
            spec = {"name": name, "code_hash": chash}
            flows.append(FlowVersionWrite(rec, spec, {"hash": chash}, ("f.py", chash.encode()),
                                          action))
        reg.write(snap, Transaction(flows=flows, subject=f"round {round_}"))
"""


def run_writers(script: str, args: list[list[str]]) -> None:
    """Run writer processes at once and fail the test if any failed."""
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, *a], stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        for a in args
    ]
    for proc in procs:
        _, err = proc.communicate(timeout=240)
        assert proc.returncode == 0, err.decode()


def assert_linear(repo: Path, ref: str) -> int:
    """Every commit of `ref` has at most one parent; return how many there are."""
    lines = git(repo, "rev-list", "--parents", ref).splitlines()
    assert all(len(line.split()) <= 2 for line in lines)
    return len(lines)


@pytest.mark.slow
def test_racing_local_writers_lose_nothing(repo: Path) -> None:
    """Four processes registering at once into one repository: every registration lands,
    each in its own commit, on a linear branch, each with its version tag."""
    head = git(repo, "rev-parse", "HEAD")
    run_writers(WRITER, [[str(repo), f"w{n}", "6", head, ""] for n in range(4)])
    reg = Registry(repo)
    with reg.snapshot() as snap:
        names = {n for n, _ in snap.flow_versions()}
        tags = snap.version_tags(snap.flow_versions())
    assert names == {f"w{n}-{i}" for n in range(4) for i in range(6)}
    assert len(tags) == 24
    assert assert_linear(repo, "dagy/registry") == 24
    git(repo, "fsck", "--strict", "--no-dangling")


@pytest.mark.slow
def test_six_clones_racing_through_one_remote(
    tmp_path: Path, repo: Path, bare_remote: Path
) -> None:
    """Six CI runs deploying through one bare remote with fetch → write → push → retry:
    the remote ends with every registration, every tag, and a linear history."""
    git(repo, "remote", "add", "origin", str(bare_remote))
    git(repo, "push", "-q", "origin", "main")
    head = git(repo, "rev-parse", "HEAD")
    clones = []
    for n in range(6):
        path = tmp_path / f"clone{n}"
        git(tmp_path, "clone", "-q", str(bare_remote), str(path))
        clones.append(path)
    run_writers(WRITER, [[str(c), f"c{n}", "3", head, "origin"] for n, c in enumerate(clones)])
    remote = Registry(bare_remote)
    with remote.snapshot() as snap:
        names = {n for n, _ in snap.flow_versions()}
    assert names == {f"c{n}-{i}" for n in range(6) for i in range(3)}
    assert len(git(bare_remote, "tag", "-l", "dagy/*").splitlines()) == 18
    assert assert_linear(bare_remote, "dagy/registry") == 18


def check_consistent(repo: Path) -> int:
    """The registry reads cleanly and every version tag agrees with its record, spec and
    tags (the branch and the tags moved together). Returns the number of flow versions."""
    reg = Registry(repo)
    with reg.snapshot() as snap:
        keys = snap.flow_versions()
        records = snap.records()
        tags = snap.version_tags(keys)
        all_tags = snap.all_flow_tags()
        for key in keys:
            rec = records[key]
            spec = snap.spec(*key)
            assert spec is not None and spec["code_hash"] == rec.code_hash
            assert all_tags[key] == {"hash": rec.code_hash}
            assert snap.source(*key) == ("f.py", (rec.code_hash or "").encode())
            assert tags[key].target == rec.source_commit
            assert tags[key].code_hash == rec.code_hash
            assert tags[key].registry_commit is not None
    return len(keys)


def live_in_group(pgid: int) -> bool:
    """Whether any process of the group is still running (zombies do not count: they
    have finished, only the container's init has not reaped them yet)."""
    proc = Path("/proc")
    if not proc.is_dir():  # not Linux: ask the kernel, zombies included
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return False
        return True
    for stat in proc.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[2]) == pgid and fields[0] != "Z":
            return True
    return False


def wait_group(pgid: int) -> None:
    """Wait (bounded) until the killed writer's git children have finished."""
    deadline = time.monotonic() + 20
    while live_in_group(pgid) and time.monotonic() < deadline:
        time.sleep(0.02)


@pytest.mark.slow
def test_sigkill_mid_write_leaves_old_or_new_state(repo: Path) -> None:
    """A writer of 300 flow versions per commit, killed at random moments ten times: the
    registry always reads cleanly with branch and tags in agreement, and writing goes on."""
    head = git(repo, "rev-parse", "HEAD")
    rng = random.Random(1234)
    for _ in range(10):
        proc = subprocess.Popen(
            [sys.executable, "-c", BIG_WRITER, str(repo), head],
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        time.sleep(rng.uniform(0.2, 1.5))
        proc.kill()
        proc.communicate()
        wait_group(proc.pid)
        count = check_consistent(repo)
        assert count in (0, 300)
    # A normal write goes on from whatever state was left. (How many distinct states the
    # kills hit depends on the machine's load: consistency is what is asserted, not that.)
    tip = Registry(repo).tip()
    done = subprocess.run(
        [sys.executable, "-c", BIG_WRITER, str(repo), head, "1"], capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()
    assert Registry(repo).tip() != tip
    assert check_consistent(repo) == 300


# ---------------------------------------------------------------------------------------
# corrupted, hand-edited and hostile registries


def flow(
    name: str,
    version: str,
    commit: str | None,
    *,
    action: str = "registered",
    code_hash: str = "a" * 64,
) -> FlowVersionWrite:
    """A flow version write."""
    rec = FlowRecord(
        flow_name=name,
        flow_version=version,
        code_hash=code_hash,
        source_commit=commit,
        registered_at="t",
        updated_at="t",
    )
    return FlowVersionWrite(rec, {"name": name}, {}, ("f.py", b"x\n"), action)


def deploy(reg: Registry, *flows: FlowVersionWrite) -> str:
    """Write one transaction on the tip; return the commit."""
    with reg.snapshot() as snap:
        return reg.write(snap, Transaction(flows=list(flows), subject="deploy")).commit


def edit_registry(repo: Path, tmp_path: Path, path: str, content: str | None) -> str:
    """Commit a hand edit of one file on the registry branch with plain git plumbing."""
    env = {"GIT_INDEX_FILE": str(tmp_path / "edit.index")}
    git(repo, "read-tree", "dagy/registry", env=env)
    if content is None:
        git(repo, "update-index", "--force-remove", "--", path, env=env)
    else:
        blob_file = tmp_path / "blob"
        blob_file.write_text(content)
        blob = git(repo, "hash-object", "-w", "--", str(blob_file))
        git(repo, "update-index", "--add", "--cacheinfo", f"100644,{blob},{path}", env=env)
    tree = git(repo, "write-tree", env=env)
    new = git(repo, "commit-tree", tree, "-p", "dagy/registry", "-m", "hand edit")
    git(repo, "update-ref", "refs/heads/dagy/registry", new)
    return new


def all_refs(repo: Path) -> str:
    """Every ref and its value (to show nothing was written)."""
    return git(repo, "for-each-ref", "--format=%(refname) %(objectname)")


@pytest.fixture
def registered(repo: Path) -> tuple[Registry, str]:
    """A registry with `f@1` registered from HEAD."""
    head = git(repo, "rev-parse", "HEAD")
    reg = Registry(repo)
    deploy(reg, flow("f", "1", head))
    return reg, head


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", r"dagy/registry:flows/f/1/record\.json is not valid JSON"),
        ('{"flow_name": "f"}\n', r"record\.json is not a valid FlowRecord: flow_version"),
        (
            '{"flow_name":"g","flow_version":"1","registered_at":"t","updated_at":"t"}\n',
            r"names g@1 but is stored as f@1",
        ),
    ],
)
def test_corrupted_record_is_a_clear_error_and_nothing_is_written(
    registered: tuple[Registry, str], tmp_path: Path, content: str, expected: str
) -> None:
    """A record.json broken by hand: reading names the file, and a write touching that
    flow is refused with nothing written."""
    reg, head = registered
    edit_registry(reg.root, tmp_path, "flows/f/1/record.json", content)
    before = all_refs(reg.root)
    with reg.snapshot() as snap, pytest.raises(RegistryError, match=expected) as err:
        snap.records()
    assert err.value.hint
    with pytest.raises(RegistryError, match=expected):
        deploy(reg, flow("f", "1", head, action="updated", code_hash="b" * 64))
    assert all_refs(reg.root) == before


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ('{"format":2}\n', r"dagy-registry\.json has format 2; this dagy-git reads format 1"),
        (None, r"dagy/registry:dagy-registry\.json is missing"),
        ("[1,\n", r"dagy-registry\.json is not valid JSON"),
    ],
)
def test_unknown_or_missing_format_is_refused(
    registered: tuple[Registry, str], tmp_path: Path, content: str | None, expected: str
) -> None:
    """A registry of another format (or a branch that is no registry) is never read or
    written."""
    reg, head = registered
    edit_registry(reg.root, tmp_path, "dagy-registry.json", content)
    before = all_refs(reg.root)
    with pytest.raises(RegistryError, match=expected):
        reg.snapshot()
    with pytest.raises(RegistryError, match=expected):
        reg.write_with_retry(lambda s: Transaction(flows=[flow("g", "1", head)]))
    assert all_refs(reg.root) == before


def test_blocking_branch_is_named_with_a_hint(repo: Path) -> None:
    """A user branch `dagy` blocks `dagy/registry`: the error says so and how to fix it."""
    git(repo, "branch", "dagy")
    before = all_refs(repo)
    reg = Registry(repo)
    with pytest.raises(RegistryError, match="refs/heads/dagy is in the way") as err:
        deploy(reg, flow("f", "1", git(repo, "rev-parse", "HEAD")))
    assert err.value.hint and "registry_branch" in err.value.hint
    with pytest.raises(RegistryError, match="in the way"):
        reg.init()
    assert all_refs(repo) == before


def test_blocking_tag_is_named(repo: Path) -> None:
    """A user tag `dagy/f` blocks the version tag `dagy/f/1`: clear error, nothing written."""
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "dagy/f")
    reg = Registry(repo)
    reg.init()
    before = all_refs(repo)
    with pytest.raises(RegistryError, match="refs/tags/dagy/f is in the way"):
        deploy(reg, flow("f", "1", head))
    assert all_refs(repo) == before


@pytest.mark.parametrize(
    ("how", "expected"),
    [
        ("lightweight", "is a lightweight tag"),
        ("annotated", "was not made by dagy-git"),
        ("moved", "points at .* but dagy/registry records source commit"),
        ("rehashed", "names code hash 0000"),
    ],
)
def test_tampered_version_tag_is_refused(
    registered: tuple[Registry, str], how: str, expected: str
) -> None:
    """A version tag someone moved or re-made by hand stops the next update of that
    version, naming the tag; nothing is written."""
    reg, head = registered
    repo = reg.root
    write(repo, "other.txt", "x\n")
    other = commit_all(repo)
    message = git(repo, "tag", "-l", "--format=%(contents)", "dagy/f/1")
    if how == "lightweight":
        git(repo, "tag", "-f", "dagy/f/1", other)
    elif how == "annotated":
        git(repo, "tag", "-f", "-a", "-m", "release", "dagy/f/1", head)
    elif how == "moved":
        git(repo, "tag", "-f", "-a", "-m", message, "dagy/f/1", other)
    else:
        git(repo, "tag", "-f", "-a", "-m", message.replace("a" * 64, "0" * 64), "dagy/f/1", head)
    before = all_refs(repo)
    with pytest.raises(RegistryError, match=f"version tag dagy/f/1 {expected}") as err:
        deploy(reg, flow("f", "1", other, action="updated", code_hash="b" * 64))
    assert err.value.hint and "git tag -d dagy/f/1" in err.value.hint
    assert all_refs(repo) == before
    # other versions are not checked, and not blocked
    deploy(reg, flow("g", "1", head))


def test_tag_made_before_registration_is_refused(repo: Path) -> None:
    """A tag in the version's place that the registry never made is not taken over."""
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "tag", "-a", "-m", "x\n\nDagy-Code-Hash: " + "a" * 64, "dagy/f/1")
    reg = Registry(repo)
    reg.init()
    before = all_refs(repo)
    with pytest.raises(RegistryError, match="exists, but dagy/registry has no record of f@1"):
        deploy(reg, flow("f", "1", head))
    assert all_refs(repo) == before


HOSTILE = ["--upload-pack=touch x", "../../etc", "..", "a b", "x.lock", "@{u}", "ü", "*", ".x"]


def test_hostile_versions_are_stored_harmlessly(
    tmp_path: Path, repo: Path, bare_remote: Path
) -> None:
    """Versions that look like options or paths are escaped into valid tag names and
    stay inside flows/; pushing and pulling them runs nothing and creates no file."""
    head = git(repo, "rev-parse", "HEAD")
    reg = Registry(repo)
    deploy(reg, *(flow("f", v, head) for v in HOSTILE))
    tree = git(repo, "ls-tree", "-r", "--name-only", "dagy/registry").splitlines()
    assert all(p == "dagy-registry.json" or p.startswith("flows/f/") for p in tree)
    assert all(".." not in p.split("/") for p in tree)
    for tag in git(repo, "tag", "-l").splitlines():
        assert (
            subprocess.run(["git", "check-ref-format", f"refs/tags/{tag}"], check=False).returncode
            == 0
        )
    git(repo, "remote", "add", "origin", str(bare_remote))
    reg.push_all("origin")
    other = tmp_path / "other"
    git(tmp_path, "clone", "-q", "--no-tags", str(bare_remote), str(other))
    assert Registry(other).pull("origin").tags_updated == len(HOSTILE)
    with Registry(other).snapshot() as snap:
        assert sorted(v for _, v in snap.flow_versions()) == sorted(HOSTILE)
        for version in HOSTILE:
            rec = snap.record("f", version)
            assert rec is not None and rec.flow_version == version
    assert [e.flow_version for e in reg.log("f", "--upload-pack=touch x")] == [
        "--upload-pack=touch x"
    ]
    for place in (repo, other, tmp_path, Path.cwd()):
        assert not (place / "x").exists()
    assert not (tmp_path / "etc").exists()


# ---------------------------------------------------------------------------------------
# speed


@pytest.mark.slow
def test_log_over_ten_thousand_commits(tmp_path: Path) -> None:
    """`log FLOW` finds every change of one flow in a long history, newest first (how fast
    is the bench figure `registry.log`)."""
    repo = tmp_path / "big"
    git(tmp_path, "init", "-q", str(repo))
    lines = []
    for i in range(10_000):
        msg = (
            f"deploy {i}\n\nDagy-Flow: f{i % 100}@{i}\nDagy-Action: registered\n"
            f"Dagy-Code-Hash: {i:064x}\nDagy-Namespace: ns\nDagy-Source-Commit:\n"
        ).encode()
        lines.append(b"commit refs/heads/dagy/registry\n")
        lines.append(b"committer T <t@example.com> %d +0000\n" % (1_700_000_000 + i))
        lines.append(b"data %d\n%s\n" % (len(msg), msg))
        if i == 0:
            marker = b'{"format":1}\n'
            lines.append(
                b"M 100644 inline dagy-registry.json\ndata %d\n%s\n" % (len(marker), marker)
            )
        body = b"%d\n" % i
        lines.append(
            b"M 100644 inline flows/f%d/x/record.json\ndata %d\n%s\n" % (i % 100, len(body), body)
        )
    subprocess.run(["git", "fast-import", "--quiet"], cwd=repo, input=b"".join(lines), check=True)
    reg = Registry(repo)
    entries = reg.log("f7")
    assert len(entries) == 100
    assert entries[0].flow_version == "9907" and entries[-1].flow_version == "7"
    assert entries[0].code_hash == f"{9907:064x}"
