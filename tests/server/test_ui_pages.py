"""The Flows UI's pages over a registry made by the CLI, through FastAPI's test client."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from dagy_git.server import ui
from dagy_git.server.app import create_app
from dagy_git.server.ui import flow_url

from conftest import commit_all, run_cli, write
from example_registry import make_registry

# A version may hold `/`, `%`, markup and unicode: the page must show it, escaped, and
# link to it.
ODD_VERSION = "1.0/<b>é%2F"
ODD = f"""
from dagy import flow, task


@task
def first() -> int:
    ...


@task
def second(x: int) -> int:
    ...


@flow(name="odd", version={ODD_VERSION!r}, description="<script>alert(1)</script> flow")
def odd():
    return second(first())
"""


@pytest.fixture
def client(repo: Path) -> TestClient:
    make_registry(repo)
    write(repo, "odd/odd.py", ODD)
    commit_all(repo, "odd")
    proc = run_cli("deploy", "odd/odd.py", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    # The real app: the UI's router behind the API's middleware and read dependency.
    return TestClient(create_app(repo))


def _cards(html: str) -> list[str]:
    return re.findall(r'<li class="card" data-flow="([^"]*)"', html)


def test_flows_page_filters_by_tags_namespace_and_name(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    assert sorted(_cards(page.text)) == ["hello", "load_orders", "odd", "order_etl", "train_model"]
    both = client.get("/", params=[("tag", "team:data-eng"), ("tag", "env:prod")])
    assert _cards(both.text) == ["order_etl"]
    assert 'aria-label="Remove tag filter env:prod"' in both.text
    assert _cards(client.get("/?namespace=data").text) == ["load_orders", "order_etl"]
    assert _cards(client.get("/?q=ORDER").text) == ["load_orders", "order_etl"]
    assert "No flow matches these filters." in client.get("/?tag=team:nobody").text


def test_cards_say_version_deployments_and_who_deployed(client: TestClient) -> None:
    html = client.get("/?q=order_etl").text
    assert "<code>2.1.0</code>" in html
    assert "order-etl-prod" in html
    assert 'by <span class="who">Test User</span>' in html


def test_bad_filters_get_a_400_page_naming_them(client: TestClient) -> None:
    page = client.get("/?tag=team")
    assert page.status_code == 400
    assert "tag filter &#39;team&#39; is not key:value" in page.text
    assert client.get("/?namespace=../x").status_code == 400


def test_flow_page_shows_versions_dag_parameters_deployments_and_history(
    client: TestClient,
) -> None:
    page = client.get("/ui/flows/order_etl")
    assert page.status_code == 200
    html = page.text
    assert re.findall(r'data-task-id="([^"]*)"', html) == ["extract", "transform", "load"]
    edges = re.findall(r'data-source="([^"]*)" data-target="([^"]*)"', html)
    assert edges == [("extract", "transform"), ("transform", "load")]
    assert "s3://data/orders/" in html  # the parameter's default
    assert "0 6 * * *" in html  # the deployment's schedule
    assert '<span class="badge registered">registered</span>' in html  # history
    assert client.get("/ui/flows/order_etl/2.1.0").text.count('class="dag-task"') == 3


def test_odd_names_are_escaped_and_reachable(client: TestClient) -> None:
    html = client.get("/?q=odd").text
    assert "1.0/&lt;b&gt;é%2F" in html
    assert "<script>alert" not in client.get(flow_url("odd")).text
    url = flow_url("odd", ODD_VERSION)
    assert url == "/ui/flows/odd/1.0%2F%3Cb%3E%C3%A9%252F"
    page = client.get(url)
    assert page.status_code == 200
    assert "&lt;script&gt;alert(1)&lt;/script&gt; flow" in page.text
    assert 'data-task-id="first"' in page.text


@pytest.mark.parametrize(
    "path",
    ["/ui/flows/nope", "/ui/flows/order_etl/9.9", "/ui/flows/a/b/c", "/ui/flows/%FF"],
)
def test_unknown_flows_get_a_404_page(client: TestClient, path: str) -> None:
    page = client.get(path)
    assert page.status_code == 404
    assert 'role="alert"' in page.text


def test_drafts_page_lists_drafts_with_tag_chips_that_filter(
    client: TestClient, repo: Path
) -> None:
    assert "No drafts yet." in client.get("/ui/drafts").text
    for name, tags in [
        ("My <Draft> Pipeline", ["project=migration", "status=wip"]),
        ("Nightly rollup", ["project=migration", "status=done"]),
        ("Scratch", []),
    ]:
        args = [f"--tag={t}" for t in tags]
        proc = run_cli("drafts", "create", name, *args, cwd=repo, input="{}")
        assert proc.returncode == 0, proc.stderr
    html = client.get("/ui/drafts").text
    assert len(re.findall(r'<li class="card" data-draft=', html)) == 3
    assert "My &lt;Draft&gt; Pipeline" in html
    assert 'href="/ui/drafts?tag=status%3Awip"' in html
    wip = client.get("/ui/drafts?tag=project:migration&tag=status:wip").text
    assert len(re.findall(r'<li class="card" data-draft=', wip)) == 1
    assert "Remove tag filter status:wip" in wip
    assert "No draft matches" in client.get("/ui/drafts?q=nothing").text
    assert client.get("/ui/drafts?tag=oops").status_code == 400


def test_pages_allow_only_their_own_script_and_style(client: TestClient) -> None:
    for path in ("/", "/ui/flows/order_etl", "/ui/drafts", "/ui/flows/nope"):
        page = client.get(path)
        policy = page.headers["content-security-policy"]
        assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
        assert " style=" not in page.text and "<script>" not in page.text


def test_static_files(client: TestClient) -> None:
    css = client.get("/ui/static/ui.css")
    assert css.status_code == 200 and css.headers["content-type"].startswith("text/css")
    assert client.get("/ui/static/..%2Fui.py").status_code == 404
    assert client.get("/ui/static/state.py").status_code == 404


def test_a_deploy_in_another_terminal_shows_on_the_next_request(
    client: TestClient, repo: Path
) -> None:
    assert "fresh" not in _cards(client.get("/").text)
    write(repo, "fresh.py", ODD.replace('name="odd"', 'name="fresh"'))
    commit_all(repo, "fresh")
    assert run_cli("deploy", "fresh.py", "--tag", "env=prod", cwd=repo).returncode == 0
    assert "fresh" in _cards(client.get("/?tag=env:prod").text)


def test_a_long_grid_is_capped_with_a_link_to_show_all(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ui, "CARD_LIMIT", 2)
    html = client.get("/").text
    assert len(_cards(html)) == 2
    assert "Showing the first 2 of 5 matching flows" in html
    assert len(_cards(client.get("/?all=1").text)) == 5
    assert len(_cards(client.get("/?tag=team:data-eng&all=1").text)) == 2


def test_pages_stay_out_of_the_api_schema(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert "/flows" in paths
    assert not [p for p in paths if p == "/" or p.startswith("/ui/")]


def test_a_repository_without_flows_says_how_to_get_some(repo: Path) -> None:
    assert run_cli("init", cwd=repo).returncode == 0
    client = TestClient(create_app(repo))
    page = client.get("/")
    assert page.status_code == 200
    assert "No flows are registered yet." in page.text
    assert "dagy-git deploy --all" in page.text
    assert client.get("/ui/flows/anything").status_code == 404
    assert "No drafts yet." in client.get("/ui/drafts").text
