"""`list`, `show`, `log`, `deployments` and `tag` on a registry built with `deploy --all`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conftest import ORDER_ETL, commit_all, git, run_cli, write

SIMPLE = """
from dagy import flow, task


@task
def step(x: int) -> int:
    return x


@flow(name="{name}", version="{version}")
def {name}(x: int = 1):
    return step(x)
"""


def cli_json(repo: Path, *args: str) -> object:
    proc = run_cli(*args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def team_repo(repo: Path) -> Path:
    """Three teams' flows with manifest tags and two deployments of one flow version."""
    write(repo, "dagy.toml", 'namespace_root = "pipelines"\n[tags]\nowner = "platform"\n')
    write(repo, "pipelines/data/dagy.toml", '[tags]\nteam = "data-eng"\n')
    write(repo, "pipelines/data/orders/order_etl.py", ORDER_ETL)
    write(
        repo,
        "pipelines/data/orders/dagy.toml",
        """
        [[deployments]]
        name = "order-etl-prod"
        flow = "order_etl.py:order_etl"
        schedule = "0 6 * * *"
        tags = { env = "prod" }

        [[deployments]]
        name = "order-etl-staging"
        flow = "order_etl.py"
        tags = { env = "staging" }
        """,
    )
    write(repo, "pipelines/database/dagy.toml", '[tags]\nteam = "dba"\nenv = "prod"\n')
    write(repo, "pipelines/database/vacuum.py", SIMPLE.format(name="vacuum", version="1"))
    write(repo, "pipelines/billing/dagy.toml", '[tags]\nteam = "finance"\nenv = "prod"\n')
    write(repo, "pipelines/billing/invoices.py", SIMPLE.format(name="invoices", version="1"))
    commit_all(repo, "flows")
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def names(items: object) -> list[str]:
    assert isinstance(items, list)
    return [f"{i['flow_name']}@{i['flow_version']}" for i in items]


def test_all_is_idempotent_and_deployments_keep_their_own_tags(team_repo: Path) -> None:
    again = cli_json(team_repo, "deploy", "--all")
    assert isinstance(again, dict)
    assert {r["status"] for r in again["results"]} == {"skipped"}
    deps = cli_json(team_repo, "deployments")
    assert isinstance(deps, list)
    by_name = {d["name"]: d for d in deps}
    assert by_name["order-etl-prod"]["tags"] == {
        "owner": "platform",
        "team": "data-eng",
        "env": "prod",
    }
    assert by_name["order-etl-staging"]["tags"]["env"] == "staging"
    assert by_name["order-etl-prod"]["schedule"] == "0 6 * * *"
    assert by_name["order-etl-prod"]["namespace"] == "data/orders"
    assert {d["deployment_version"] for d in deps} == {1}


def test_list_filters_by_namespace_and_tags(team_repo: Path) -> None:
    everything = cli_json(team_repo, "list")
    assert names(everything) == ["invoices@1", "order_etl@2.1.0", "vacuum@1"]
    item = next(i for i in everything if i["flow_name"] == "order_etl")  # type: ignore[union-attr]
    assert set(item) >= {
        "flow_name",
        "flow_version",
        "namespace",
        "tags",
        "code_hash",
        "updated_at",
    }
    # a flow version carries its manifest tags, not its deployments' env tags
    assert item["tags"] == {"owner": "platform", "team": "data-eng"}
    assert names(cli_json(team_repo, "list", "--namespace", "data")) == ["order_etl@2.1.0"]
    assert names(cli_json(team_repo, "list", "--namespace", "data/orders")) == ["order_etl@2.1.0"]
    assert names(cli_json(team_repo, "list", "--namespace", "database")) == ["vacuum@1"]
    assert names(cli_json(team_repo, "list", "--tag", "env=prod")) == ["invoices@1", "vacuum@1"]
    both = cli_json(team_repo, "list", "--tag", "team=finance", "--tag", "env=prod")
    assert names(both) == ["invoices@1"]
    either = cli_json(team_repo, "list", "--any-tag", "team=finance", "--any-tag", "team=dba")
    assert names(either) == ["invoices@1", "vacuum@1"]
    assert cli_json(team_repo, "list", "--tag", "team=nobody") == []
    prod = cli_json(team_repo, "deployments", "--tag", "env=prod")
    assert [d["name"] for d in prod] == ["order-etl-prod"]  # type: ignore[union-attr]


def test_show_bare_flow_is_latest_deploy(team_repo: Path) -> None:
    flow = team_repo / "pipelines/database/vacuum.py"
    flow.write_text(SIMPLE.format(name="vacuum", version="2"))
    commit_all(team_repo, "vacuum 2")
    assert run_cli("deploy", "--all", cwd=team_repo).returncode == 0
    shown = cli_json(team_repo, "show", "vacuum")
    assert isinstance(shown, dict)
    assert shown["flow_version"] == "2"
    assert shown["source_path"] == "pipelines/database/vacuum.py"
    assert shown["source_commit"] == git(team_repo, "rev-parse", "HEAD")
    assert shown["flow_spec"]["tasks"][0]["name"] == "step"
    assert {"registered_at", "flow_spec", "source_path", "source_commit"} <= set(shown)
    old = cli_json(team_repo, "show", "vacuum@1")
    assert old["flow_version"] == "1"  # type: ignore[index]
    missing = run_cli("show", "vacuum@9", cwd=team_repo)
    assert missing.returncode == 1 and "not registered" in missing.stderr
    assert "registered versions: 1, 2" in missing.stderr


def test_tag_changes_tags_in_one_commit(team_repo: Path) -> None:
    tip = git(team_repo, "rev-parse", "dagy/registry")
    doc = cli_json(team_repo, "tag", "vacuum@1", "criticality=low", "--unset", "owner")
    assert doc["tags"] == {"team": "dba", "env": "prod", "criticality": "low"}  # type: ignore[index]
    assert git(team_repo, "rev-parse", "dagy/registry~1") == tip
    listed = cli_json(team_repo, "list", "--tag", "criticality=low")
    assert names(listed) == ["vacuum@1"]
    log = cli_json(team_repo, "log", "vacuum")
    assert [e["action"] for e in log] == ["tags", "registered"]  # type: ignore[union-attr]
    bad = run_cli("tag", "vacuum@1", "bad key=x", cwd=team_repo)
    assert bad.returncode == 1 and "tag key" in bad.stderr
    unknown = run_cli("tag", "nope@1", "a=b", cwd=team_repo)
    assert unknown.returncode == 1 and "not registered" in unknown.stderr


def test_log_is_newest_first_with_authors_and_limits(team_repo: Path) -> None:
    flow = team_repo / "pipelines/database/vacuum.py"
    for i in range(3):
        flow.write_text(SIMPLE.format(name="vacuum", version="1") + f"\n# change {i}\n")
        commit_all(team_repo, f"change {i}")
        env = {"GIT_AUTHOR_NAME": f"Dev {i}", "GIT_COMMITTER_NAME": f"Dev {i}"}
        assert run_cli("deploy", "--all", cwd=team_repo, env=env).returncode == 0
    log = cli_json(team_repo, "log", "vacuum")
    assert isinstance(log, list)
    assert [e["action"] for e in log] == ["updated", "updated", "updated", "registered"]
    assert [e["author"] for e in log[:3]] == ["Dev 2", "Dev 1", "Dev 0"]
    assert len({e["code_hash"] for e in log}) == 4
    assert set(log[0]) >= {
        "commit",
        "date",
        "author",
        "flow_version",
        "code_hash",
        "namespace",
        "source_commit",
        "action",
    }
    assert len(cli_json(team_repo, "log", "vacuum", "-n", "2")) == 2  # type: ignore[arg-type]
    unknown = run_cli("log", "vacuum", "--flow-version", "9", cwd=team_repo)
    assert unknown.returncode == 1 and "vacuum@9 is not registered" in unknown.stderr
    human = run_cli("log", "vacuum", cwd=team_repo)
    assert "Dev 2" in human.stdout and "registered" in human.stdout


def test_queries_without_a_registry(repo: Path) -> None:
    assert cli_json(repo, "list") == []
    assert cli_json(repo, "deployments") == []
    assert cli_json(repo, "log") == []
    # an unknown flow is an error for `log` as for `show`, not an empty history
    for args in (("show", "x"), ("log", "x")):
        proc = run_cli(*args, cwd=repo)
        assert proc.returncode == 1 and "'x' is not registered" in proc.stderr, args


def test_a_fresh_clone_is_told_to_pull(team_repo: Path, tmp_path: Path, bare_remote: Path) -> None:
    git(team_repo, "remote", "add", "origin", str(bare_remote))
    git(team_repo, "push", "-q", "origin", "HEAD:main", "dagy/registry")
    fresh = tmp_path / "fresh"
    git(tmp_path, "clone", "-q", str(bare_remote), str(fresh))
    proc = run_cli("list", cwd=fresh)
    assert proc.returncode == 0
    assert "origin/dagy/registry exists: run `dagy-git pull`" in proc.stderr
    assert run_cli("pull", cwd=fresh).returncode == 0
    assert names(cli_json(fresh, "list")) == ["invoices@1", "order_etl@2.1.0", "vacuum@1"]


def test_retire_removes_deployments_in_one_commit(team_repo: Path) -> None:
    tip = git(team_repo, "rev-parse", "dagy/registry")
    dry = cli_json(team_repo, "retire", "order-etl-staging", "--dry-run")
    assert dry["retired"][0]["name"] == "order-etl-staging"  # type: ignore[index]
    assert git(team_repo, "rev-parse", "dagy/registry") == tip
    proc = run_cli("retire", "order-etl-staging", cwd=team_repo)
    assert proc.returncode == 0, proc.stderr
    assert git(team_repo, "rev-parse", "dagy/registry~1") == tip
    deps = cli_json(team_repo, "deployments")
    assert [d["name"] for d in deps] == ["order-etl-prod"]  # type: ignore[union-attr]
    message = git(team_repo, "log", "-1", "--format=%B", "dagy/registry")
    assert "Dagy-Deployment-Retired: order-etl-staging" in message
    # the flow version itself stays registered; an unknown name is refused, writing nothing
    assert "order_etl@2.1.0" in names(cli_json(team_repo, "list"))
    tip = git(team_repo, "rev-parse", "dagy/registry")
    missing = run_cli("retire", "order-etl-prod", "nope", cwd=team_repo)
    assert missing.returncode == 1 and "no deployment named 'nope'" in missing.stderr
    assert git(team_repo, "rev-parse", "dagy/registry") == tip
