"""The server's read model: one view per registry commit, re-read when the branch moves."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from dagy_git.config import load_settings
from dagy_git.queries import TagFilter
from dagy_git.registry import Registry
from dagy_git.server.state import RegistryState, _TipCheck

from conftest import commit_all, git, run_cli, write
from example_registry import make_registry


def test_view_lists_every_version_with_namespace_tags_and_deployments(
    repo: Path,
) -> None:
    registry_repo = make_registry(repo)
    view = RegistryState(load_settings(registry_repo)).view()
    by_name = {f.flow_name: f for f in view.flows}
    assert set(by_name) == {"order_etl", "load_orders", "train_model", "hello"}
    etl = by_name["order_etl"]
    assert (etl.flow_version, etl.namespace) == ("2.1.0", "data/orders")
    assert etl.tags == {"team": "data-eng", "env": "prod"}
    assert etl.deployments == ("order-etl-prod",)
    assert etl.is_latest and len(etl.code_hash or "") == 64
    assert by_name["hello"].namespace == ""
    assert view.namespaces() == ["", "data", "data/ingestion", "data/orders", "ml"]
    assert [d.name for d in view.deployments] == ["load-orders-staging", "order-etl-prod"]
    prod = view.deployment("order-etl-prod")
    assert prod is not None and prod.tags["criticality"] == "high"


def test_select_filters_like_the_cli(repo: Path) -> None:
    registry_repo = make_registry(repo)
    view = RegistryState(load_settings(registry_repo)).view()
    both = TagFilter({"team": "data-eng", "env": "prod"}, [])
    assert [f.flow_name for f in view.select(tags=both)] == ["order_etl"]
    assert [f.flow_name for f in view.select(namespace="data")] == ["load_orders", "order_etl"]
    assert view.select(namespace="dat") == []  # a namespace is a path, not a prefix
    assert [f.flow_name for f in view.select(q="ORDER")] == ["load_orders", "order_etl"]
    listed = run_cli("list", "--json", "--tag", "env=prod", cwd=registry_repo).stdout
    assert sorted(f.flow_name for f in view.select(tags=TagFilter({"env": "prod"}, []))) == sorted(
        i["flow_name"] for i in json.loads(listed)
    )


def test_detail_and_log_come_from_the_views_commit(repo: Path) -> None:
    registry_repo = make_registry(repo)
    view = RegistryState(load_settings(registry_repo)).view()
    detail = view.detail("order_etl", "2.1.0")
    assert detail is not None
    assert [t["id"] for t in detail.flow_spec["tasks"]] == ["extract", "transform", "load"]
    assert detail.source_path == "data/orders/order_etl.py"
    assert detail.deployments == ("order-etl-prod",)
    assert view.detail("order_etl", "9.9") is None
    [entry] = view.log("order_etl")
    assert (entry.action, entry.author) == ("registered", "Test User")
    last = view.last_change("order_etl", "2.1.0")
    assert last is not None and last.commit == view.commit


def test_view_is_cached_until_the_branch_moves(repo: Path) -> None:
    registry_repo = make_registry(repo)
    state = RegistryState(load_settings(registry_repo))
    first = state.view()
    assert state.view() is first
    write(registry_repo, "hello.py", (registry_repo / "hello.py").read_text() + "\n# edit\n")
    commit_all(registry_repo, "edit hello")
    assert run_cli("deploy", "hello.py", cwd=registry_repo).returncode == 0
    second = state.view()
    assert second is not first and second.commit != first.commit
    assert first.flow("hello", "0.1").code_hash != second.flow("hello", "0.1").code_hash  # type: ignore[union-attr]
    assert state.view() is second


def test_no_registry_yet_is_an_empty_view(repo: Path) -> None:
    view = RegistryState(load_settings(repo)).view()
    assert (view.commit, view.flows, view.deployments, view.drafts) == (None, [], [], [])
    assert view.latest("x") is None and view.log("x") == []


def test_concurrent_reads_share_branch_checks_and_still_see_new_commits(repo: Path) -> None:
    registry_repo = make_registry(repo)
    calls: list[int] = []

    class Counting(Registry):
        def tip(self) -> str | None:
            calls.append(1)
            return super().tip()

    state = RegistryState(load_settings(registry_repo))
    state.registry = Counting.from_settings(state.settings)
    state._tips = _TipCheck(state.registry)  # the check asks the counting registry
    barrier = threading.Barrier(40)
    seen: list[str | None] = []

    def read() -> None:
        barrier.wait()
        seen.append(state.view().commit)

    threads = [threading.Thread(target=read) for _ in range(40)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert set(seen) == {git(registry_repo, "rev-parse", "dagy/registry")}
    assert len(calls) < 40  # shared, not one `for-each-ref` per request

    write(registry_repo, "hello.py", (registry_repo / "hello.py").read_text() + "\n# more\n")
    commit_all(registry_repo, "edit")
    assert run_cli("deploy", "hello.py", cwd=registry_repo).returncode == 0
    assert state.view().commit == git(registry_repo, "rev-parse", "dagy/registry")


def test_a_view_patched_with_the_changes_equals_a_whole_read(repo: Path) -> None:
    registry_repo = make_registry(repo)
    state = RegistryState(load_settings(registry_repo))
    first = state.view()  # what later views are patched from
    assert first.last_change("hello", "0.1") is not None  # read once, topped up later
    steps = [
        ("deploy", "hello.py"),
        ("tag", "order_etl@2.1.0", "owner=ana", "--unset", "env"),
        ("retire", "load-orders-staging"),
        ("drafts", "create", "A draft", "--tag", "k=v"),
    ]
    write(registry_repo, "hello.py", (registry_repo / "hello.py").read_text() + "\n# v2\n")
    commit_all(registry_repo, "edit")
    for step in steps:
        proc = run_cli(*step, cwd=registry_repo)
        assert proc.returncode == 0, proc.stderr
        patched = state.view()
        whole = RegistryState(load_settings(registry_repo)).view()
        assert patched.commit == whole.commit
        assert (patched.flows, patched.deployments, patched.drafts) == (
            whole.flows,
            whole.deployments,
            whole.drafts,
        ), step
        for f in whole.flows:
            assert patched.last_change(f.flow_name, f.flow_version) == whole.last_change(
                f.flow_name, f.flow_version
            ), (step, f.flow_name)
    [draft] = state.view().drafts
    assert run_cli("drafts", "delete", draft.id, cwd=registry_repo).returncode == 0
    assert state.view().drafts == []
    assert state.view().deployment("load-orders-staging") is None
