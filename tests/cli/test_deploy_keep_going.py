"""`deploy --all` refuses a repository with an error; `--keep-going` deploys what builds."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from dagy_git.errors import DagyError

from conftest import ORDER_ETL, commit_all, git, run_cli, write

SYNTAX_ERROR = "from dagy import flow\n\n\n@flow\ndef nightly(:\n    pass\n"

BILLING = """
from dagy import flow, task


@task
def invoice(month: str) -> str:
    return month


@flow(name="billing", version="3")
def billing(month: str = "2024-01"):
    return invoice(month)
"""

MANIFEST = """
[[deployments]]
name = "nightly-prod"
flow = "flows/nightly.py"

[[deployments]]
name = "billing-prod"
flow = "flows/billing.py:no_such_function"
"""


def make_repo(repo: Path) -> Path:
    write(repo, "flows/orders.py", ORDER_ETL)
    write(repo, "flows/billing.py", BILLING)
    write(repo, "flows/nightly.py", SYNTAX_ERROR)
    write(repo, "dagy.toml", MANIFEST)
    commit_all(repo, "flows, one of them broken")
    return repo


def registry_refs(repo: Path) -> str:
    return git(repo, "for-each-ref", "refs/heads/dagy", "refs/tags/dagy")


def test_deploy_all_refuses_a_file_with_an_error_and_writes_nothing(repo: Path) -> None:
    make_repo(repo)
    proc = run_cli("deploy", "--all", cwd=repo)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert "flows/nightly.py:5:" in proc.stderr and "syntax error" in proc.stderr
    assert registry_refs(repo) == ""


def test_keep_going_deploys_what_builds_and_lists_the_rest(repo: Path) -> None:
    make_repo(repo)
    proc = run_cli("deploy", "--all", "--keep-going", cwd=repo)
    assert proc.returncode == 1, proc.stderr
    assert "order_etl@2.1.0" in proc.stdout and "billing@3" in proc.stdout
    errors = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 2
    assert errors[0].startswith("error: not deployed: flows/nightly.py:5:")
    assert "syntax error" in errors[0]
    assert errors[1].startswith("error: not deployed (deployment 'billing-prod'): flows/billing.py")
    assert "no flow function 'no_such_function'" in errors[1]
    assert proc.stderr.rstrip().endswith("2 flow files not deployed (errors above)")
    tags = git(repo, "tag", "--list", "dagy/*").split()
    assert tags == ["dagy/billing/3", "dagy/order_etl/2.1.0"]
    # Nothing changed: a second run skips what it deployed, and still lists the rest.
    again = run_cli("deploy", "--all", "--keep-going", "--json", cwd=repo)
    assert again.returncode == 1
    data = json.loads(again.stdout)
    assert {(r["flow_name"], r["status"]) for r in data["results"]} == {
        ("order_etl", "skipped"),
        ("billing", "skipped"),
    }
    nightly, billing = data["failed"]
    assert (nightly["path"], nightly["deployment_name"]) == ("flows/nightly.py", None)
    (error,) = nightly["errors"]
    assert (error["path"], error["line"], error["level"]) == ("flows/nightly.py", 5, "error")
    assert set(error) == {"path", "line", "col", "level", "message", "hint"}
    assert (billing["path"], billing["deployment_name"]) == ("flows/billing.py", "billing-prod")


def test_keep_going_when_nothing_builds_writes_nothing(repo: Path) -> None:
    write(repo, "flows/nightly.py", SYNTAX_ERROR)
    commit_all(repo)
    proc = run_cli("deploy", "flows/nightly.py", "--keep-going", "--json", cwd=repo)
    assert proc.returncode == 1
    data = json.loads(proc.stdout)
    assert (data["registry_commit"], data["results"]) == (None, [])
    assert [f["path"] for f in data["failed"]] == ["flows/nightly.py"]
    assert registry_refs(repo) == ""


def test_keep_going_with_everything_fine_exits_0(repo: Path) -> None:
    write(repo, "flows/orders.py", ORDER_ETL)
    commit_all(repo)
    proc = run_cli("deploy", "--all", "--keep-going", "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert data["failed"] == [] and data["results"][0]["status"] == "registered"


def test_an_analyser_failure_is_that_files_error(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A bug of the analyser on one file: with --keep-going the others still deploy."""
    from dagy_git import targets
    from dagy_git.workspace import open_workspace

    real = targets.analyze_file

    def trips_on_billing(path: Path, **kw: Any) -> Any:
        if path.name == "billing.py":
            raise KeyError("oops")
        return real(path, **kw)

    monkeypatch.setattr(targets, "analyze_file", trips_on_billing)
    write(repo, "flows/orders.py", ORDER_ETL)
    write(repo, "flows/billing.py", BILLING)
    commit_all(repo)
    ws = open_workspace(repo)
    failures: list[targets.Failure] = []
    chosen = targets.resolve_all(ws, failures=failures)
    assert [t.flow.spec.name for t in chosen] == ["order_etl"]
    ((failure_path, (error,)),) = [(f.path, f.errors) for f in failures]
    assert failure_path == "flows/billing.py"
    assert error.location == "flows/billing.py:1:1"
    assert error.message == "the analyser failed on this file (KeyError: 'oops')"
    with pytest.raises(DagyError, match="the analyser failed on this file"):
        targets.resolve_all(ws)  # without --keep-going: refused, not a crash
