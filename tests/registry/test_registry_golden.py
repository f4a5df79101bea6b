"""Golden layout: the registry branch format 1 is frozen, byte for byte.

A fixed transaction, written with fixed identities and dates, must give exactly this tree,
these file texts, this commit message and these object ids. If this test fails, the
on-disk format changed: every existing registry would read differently.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from dagy_git.models import DeploymentRecord, DraftRecord, FlowRecord, FlowSpec
from dagy_git.registry import FlowVersionWrite, Registry, Transaction

from conftest import git, write

DATE = "1714557600 +0000"  # 2024-05-01T10:00:00Z
SOURCE = (
    b"from dagy import flow\n\n\n"
    b'@flow(name="order_etl", version="2.1.0")\n'
    b"def order_etl():\n    ...\n"
)


@pytest.fixture
def fixed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose every commit has fixed identities and dates."""
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_DATE", DATE)
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test User")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")
    path = tmp_path / "golden"
    path.mkdir()
    git(path, "init", "-q")
    write(path, "pipelines/orders/etl.py", SOURCE.decode())
    git(path, "add", "-A")
    git(path, "commit", "-q", "-m", "flows")
    return path


def transaction(source_commit: str) -> Transaction:
    """The fixed transaction: one flow version, one deployment, one draft."""
    spec = FlowSpec(name="order_etl", version="2.1.0", function="order_etl")
    record = FlowRecord(
        flow_name="order_etl",
        flow_version="2.1.0",
        namespace="data/orders",
        code_hash="1" * 64,
        source_file_hash="2" * 64,
        source_path="pipelines/orders/etl.py",
        source_commit=source_commit,
        registered_at="2024-05-01T10:00:00.000Z",
        updated_at="2024-05-01T10:00:00.000Z",
    )
    dep = DeploymentRecord(
        name="order-etl-prod",
        flow_name="order_etl",
        flow_version="2.1.0",
        namespace="data/orders",
        tags={"env": "prod", "team": "data-eng"},
        schedule="0 6 * * *",
        parameters={"source": "s3://data/orders/"},
        deployment_version=1,
        code_hash="1" * 64,
        created_at="2024-05-01T10:00:00.000Z",
        updated_at="2024-05-01T10:00:00.000Z",
    )
    draft = DraftRecord(
        name="Draft ü",
        canvas_json="{}",
        tags={"status": "wip"},
        created_at="2024-05-01T10:00:00.000Z",
        updated_at="2024-05-01T10:00:00.000Z",
    )
    flow = FlowVersionWrite(
        record=record,
        spec=spec.to_json(),
        tags={"team": "data-eng", "env": "prod"},
        source=("etl.py", SOURCE),
        action="registered",
    )
    return Transaction(
        flows=[flow], deployments=[dep], drafts={"draft-1": draft}, subject="deploy: 1 registered"
    )


SOURCE_COMMIT = "98c318b83c216af5f36b86669743e23275f7663f"
COMMIT = "6c35e19aa178d1738ebaad649d8e45804365f223"
LISTING = """\
100644 blob 696b6b304e7ab30aa0c198e78135289f53a348a1\tdagy-registry.json
100644 blob 291729eaa73838417070e35d8a6d2019d7da481f\tdeployments/order-etl-prod.json
100644 blob 8f4628a2d080ba0bc3a9bd868631ec5c7d636d10\tdrafts/draft-1.json
100644 blob 2eed708db1333454f94fba265837af2eb69eab8e\tflows/order_etl/2.1.0/record.json
100644 blob 2d427bf7fe39be74826493c4ac3a23c294b63292\tflows/order_etl/2.1.0/source/etl.py
100644 blob bb1cc92b678478b9e2ead1ba9397c24622fa751a\tflows/order_etl/2.1.0/spec.json
100644 blob 951b3a8e65ec00e54a4d8db1902d69da600060c6\tflows/order_etl/2.1.0/tags.json
"""
FILES = {
    "dagy-registry.json": '{"format":1}\n',
    "deployments/order-etl-prod.json": (
        '{"code_hash":"1111111111111111111111111111111111111111111111111111111111111111",'
        '"created_at":"2024-05-01T10:00:00.000Z","deployment_version":1,"flow_name":"order_etl",'
        '"flow_version":"2.1.0","name":"order-etl-prod","namespace":"data/orders",'
        '"parameters":{"source":"s3://data/orders/"},"schedule":"0 6 * * *",'
        '"tags":{"env":"prod","team":"data-eng"},"updated_at":"2024-05-01T10:00:00.000Z"}\n'
    ),
    "drafts/draft-1.json": (
        '{"canvas_json":"{}","created_at":"2024-05-01T10:00:00.000Z","name":"Draft ü",'
        '"tags":{"status":"wip"},"updated_at":"2024-05-01T10:00:00.000Z"}\n'
    ),
    "flows/order_etl/2.1.0/record.json": (
        '{"code_hash":"1111111111111111111111111111111111111111111111111111111111111111",'
        '"dirty":false,"flow_name":"order_etl","flow_version":"2.1.0","namespace":"data/orders",'
        '"registered_at":"2024-05-01T10:00:00.000Z",'
        '"source_commit":"98c318b83c216af5f36b86669743e23275f7663f",'
        '"source_file_hash":"2222222222222222222222222222222222222222222222222222222222222222",'
        '"source_path":"pipelines/orders/etl.py","updated_at":"2024-05-01T10:00:00.000Z"}\n'
    ),
    "flows/order_etl/2.1.0/source/etl.py": SOURCE.decode(),
    "flows/order_etl/2.1.0/spec.json": (
        '{"description":null,"edges":[],"function":"order_etl","name":"order_etl",'
        '"parameters":[],"retries":0,"retry_delay_seconds":0.0,"tasks":[],'
        '"timeout_seconds":null,"version":"2.1.0"}\n'
    ),
    "flows/order_etl/2.1.0/tags.json": '{"env":"prod","team":"data-eng"}\n',
}
MESSAGE = """\
deploy: 1 registered

Dagy-Flow: order_etl@2.1.0
Dagy-Action: registered
Dagy-Code-Hash: 1111111111111111111111111111111111111111111111111111111111111111
Dagy-Namespace: data/orders
Dagy-Source-Commit: 98c318b83c216af5f36b86669743e23275f7663f
Dagy-Deployment: order-etl-prod#1
Dagy-Deployment-Flow: order_etl@2.1.0
Dagy-Draft: draft-1
"""
TAG_OBJECT = """\
object 98c318b83c216af5f36b86669743e23275f7663f
type commit
tag dagy/order_etl/2.1.0
tagger Test User <test@example.com> 1714557600 +0000

order_etl@2.1.0

Dagy-Code-Hash: 1111111111111111111111111111111111111111111111111111111111111111
Dagy-Namespace: data/orders
Dagy-Registry-Commit: 6c35e19aa178d1738ebaad649d8e45804365f223
"""


def raw(repo: Path, *args: str) -> str:
    """Exact stdout of a git command (not stripped: final newlines matter here)."""
    proc = subprocess.run(["git", *args], cwd=repo, capture_output=True, check=True)
    return proc.stdout.decode("utf-8")


def test_golden_layout(fixed: Path) -> None:
    """Exact tree listing, file texts, commit message and ids of a fixed write."""
    head = git(fixed, "rev-parse", "HEAD")
    reg = Registry(fixed)
    with reg.snapshot() as snap:
        result = reg.write(snap, transaction(head))
    listing = raw(fixed, "ls-tree", "-r", "dagy/registry")
    paths = raw(fixed, "ls-tree", "-r", "--name-only", "dagy/registry").splitlines()
    files = {path: raw(fixed, "cat-file", "blob", f"dagy/registry:{path}") for path in paths}
    assert head == SOURCE_COMMIT
    assert listing == LISTING
    assert files == FILES
    assert raw(fixed, "cat-file", "commit", "dagy/registry").split("\n\n", 1)[1] == MESSAGE
    assert result.commit == COMMIT
    assert raw(fixed, "cat-file", "tag", "dagy/order_etl/2.1.0") == TAG_OBJECT
    # reading it back gives the models that were written
    with reg.snapshot() as snap:
        assert snap.record("order_etl", "2.1.0") == transaction(head).flows[0].record
        assert snap.source("order_etl", "2.1.0") == ("etl.py", SOURCE)
