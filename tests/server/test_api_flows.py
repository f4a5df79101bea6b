"""`GET /flows…`: the registry the CLI wrote, read over HTTP with the spec's field names."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from conftest import commit_all, run_cli, write
from example_registry import client, make_registry, new_repo

LIST_FIELDS = {"flow_name", "flow_version", "namespace", "tags", "code_hash", "updated_at"}


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Path, TestClient]]:
    """One registry made by the CLI, read by every test of this module (none writes)."""
    repo = make_registry(new_repo(tmp_path_factory.mktemp("flows") / "repo"))
    yield repo, client(repo)


def names(resp: object) -> list[str]:
    return [i["flow_name"] for i in resp.json()["items"]]  # type: ignore[attr-defined]


def test_list_matches_list_json(served: tuple[Path, TestClient]) -> None:
    repo, api = served
    resp = api.get("/flows")
    assert resp.status_code == 200
    page = resp.json()
    cli = json.loads(run_cli("list", "--json", cwd=repo).stdout)
    assert page["total"] == len(cli) == 4
    assert [{k: i[k] for k in LIST_FIELDS} for i in page["items"]] == cli
    assert page["registry_commit"] == api.get("/health").json()["registry_commit"]


def test_tag_filters_combine_with_and_and_any_tag_with_or(
    served: tuple[Path, TestClient],
) -> None:
    _, api = served
    assert names(api.get("/flows", params={"tag": "team:data-eng"})) == [
        "load_orders",
        "order_etl",
    ]
    both = api.get("/flows", params=[("tag", "team:data-eng"), ("tag", "env:prod")])
    assert names(both) == ["order_etl"]
    assert names(api.get("/flows", params={"tag": "team=ml-ops"})) == ["train_model"]  # CLI form
    either = api.get("/flows", params=[("any_tag", "team:ml-ops"), ("any_tag", "env:staging")])
    assert names(either) == ["load_orders", "train_model"]
    clash = api.get("/flows", params=[("tag", "env:prod"), ("tag", "env:staging")])
    assert clash.json()["total"] == 0


def test_namespace_is_a_subtree_and_q_a_name_substring(served: tuple[Path, TestClient]) -> None:
    _, api = served
    assert names(api.get("/flows", params={"namespace": "data"})) == ["load_orders", "order_etl"]
    assert names(api.get("/flows", params={"namespace": "data/orders/"})) == ["order_etl"]
    assert names(api.get("/flows", params={"namespace": "dat"})) == []
    assert names(api.get("/flows", params={"q": "ORD"})) == ["load_orders", "order_etl"]


def test_pages_by_offset_and_by_cursor(served: tuple[Path, TestClient]) -> None:
    _, api = served
    first = api.get("/flows", params={"limit": 3}).json()
    assert (len(first["items"]), first["total"], first["offset"]) == (3, 4, 0)
    rest = api.get("/flows", params={"limit": 3, "cursor": first["next_cursor"]}).json()
    assert names_of(first) + names_of(rest) == ["hello", "load_orders", "order_etl", "train_model"]
    assert rest["next_cursor"] is None
    by_offset = api.get("/flows", params={"limit": 3, "offset": 3}).json()
    assert names_of(by_offset) == ["train_model"]


def names_of(page: dict[str, list[dict[str, str]]]) -> list[str]:
    return [i["flow_name"] for i in page["items"]]


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"tag": "nocolon"}, "tag filter 'nocolon' is not key:value"),
        ({"tag": "bad key:x"}, "invalid tag key 'bad key'"),
        ({"namespace": "a/../b"}, "invalid namespace 'a/../b'"),
        ({"cursor": "not-a-cursor"}, "cursor is not one this server gave"),
        ({"cursor": "WyJhIiwiYiJd", "offset": 1}, "give offset or cursor, not both"),
        ({"limit": 0}, "query.limit: Input should be greater than or equal to 1"),
        ({"version": "newest"}, "query.version: Input should be 'latest' or 'all'"),
    ],
)
def test_bad_list_queries_are_422_with_the_cli_words(
    served: tuple[Path, TestClient], params: dict[str, object], message: str
) -> None:
    _, api = served
    resp = api.get("/flows", params=params)  # type: ignore[arg-type]
    assert resp.status_code == 422
    assert resp.json()["error"]["message"] == message


def test_detail_is_show_json_plus_fields(served: tuple[Path, TestClient]) -> None:
    repo, api = served
    resp = api.get("/flows/order_etl/2.1.0")
    assert resp.status_code == 200
    detail = resp.json()
    shown = json.loads(run_cli("show", "order_etl@2.1.0", "--json", cwd=repo).stdout)
    for key, value in shown.items():
        assert detail[key] == value, key
    assert detail["deployments"] == ["order-etl-prod"]
    assert [t["id"] for t in detail["flow_spec"]["tasks"]] == ["extract", "transform", "load"]
    assert api.get("/flows/order_etl/versions/2.1.0").json() == detail


def test_versions_newest_first_and_log(served: tuple[Path, TestClient]) -> None:
    repo, api = served
    [only] = api.get("/flows/hello/versions").json()
    assert (only["flow_version"], only["is_latest"]) == ("0.1", True)
    log = api.get("/flows/hello/log").json()
    assert log == json.loads(run_cli("log", "hello", "--json", cwd=repo).stdout)
    assert api.get("/flows/hello/log", params={"limit": 1}).json() == log[:1]
    assert api.get("/flows/nope/versions").status_code == 404
    assert api.get("/flows/nope/log").json() == []


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/flows/order_etl/9.9", 404),
        # Flow names are free-form (DESIGN.md): these are names, escaped into one path
        # segment of the registry (`a.%2Eb`, `%2E%2E`), so they reach no other record.
        ("/flows/a..b/1", 404),
        ("/flows/..%2F..%2Fetc/passwd", 404),  # %2F decodes to "/": no such route
        ("/flows/%2E%2E/1", 404),
        ("/flows/caf%C3%A9/1", 404),
        ("/flows/a@b/1", 422),  # `@` splits FLOW@VERSION: never in a name
        ("/flows/order_etl/..%2F..%2Fspec.json", 404),  # a version is a key, never a path
        ("/flows/order_etl/%00", 422),
        ("/nowhere", 404),
    ],
)
def test_names_never_reach_outside_their_record(
    served: tuple[Path, TestClient], path: str, status: int
) -> None:
    _, api = served
    resp = api.get(path)
    assert resp.status_code == status
    assert set(resp.json()) == {"error"}


def test_not_registered_names_the_known_versions(served: tuple[Path, TestClient]) -> None:
    _, api = served
    err = api.get("/flows/order_etl/9.9").json()["error"]
    assert err == {
        "message": "order_etl@9.9 is not registered",
        "hint": "registered versions: 2.1.0",
        "path": None,
        "line": None,
    }


def test_a_cli_deploy_shows_up_on_the_next_request(tmp_path: Path) -> None:
    repo = make_registry(new_repo(tmp_path / "repo"))
    api = client(repo)
    before = api.get("/flows/hello/0.1").json()
    write(repo, "hello.py", (repo / "hello.py").read_text().replace('"0.1"', '"0.2"'))
    commit_all(repo, "hello 0.2")
    assert run_cli("deploy", "hello.py", cwd=repo).returncode == 0
    versions = api.get("/flows/hello/versions").json()
    assert [v["flow_version"] for v in versions] == ["0.2", "0.1"]
    assert [v["is_latest"] for v in versions] == [True, False]
    assert api.get("/flows/hello/0.1").json() == {**before, "is_latest": False}
    latest = api.get("/flows", params={"version": "latest", "q": "hello"}).json()
    assert [i["flow_version"] for i in latest["items"]] == ["0.2"]
