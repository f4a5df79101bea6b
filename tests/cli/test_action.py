"""The GitHub Action end to end, without GitHub: action/action.yml run by the harness.

A temporary repository with flows and manifests plays the checkout, a bare repository
plays `origin`, and the runner has no git identity configured (as on a fresh runner).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from action_harness import ACTION_DIR, ActionRun, load_action, run_action
from conftest import BROKEN, ORDER_ETL, ROOT, commit_all, git, write

INVOICES = """
from dagy import flow, task


@task
def rollup(month: str) -> dict:
    ...


@flow(name="invoice_rollup", version="1.0.0")
def invoice_rollup(month: str = "2026-01"):
    return rollup(month)
"""

FEATURES = """
from dagy import flow, task


@task
def build(day: str) -> dict:
    ...


@flow(name="build_features")
def build_features(day: str = "today"):
    return build(day)
"""


ORDERS_MANIFEST = """
[tags]
team = "data-eng"

[[deployments]]
name = "order-etl-prod"
flow = "order_etl.py:order_etl"
schedule = "0 6 * * *"
tags = { env = "prod" }

[[deployments]]
name = "order-etl-staging"
flow = "order_etl.py:order_etl"
tags = { env = "staging" }
"""

# A fresh runner has no user.name/user.email: the registry must still commit.
NO_IDENTITY = (
    "GIT_AUTHOR_NAME",
    "GIT_AUTHOR_EMAIL",
    "GIT_COMMITTER_NAME",
    "GIT_COMMITTER_EMAIL",
)


@pytest.fixture
def checkout(repo: Path, bare_remote: Path) -> Path:
    """A repository with three flows and a manifest, pushed to a bare `origin`."""
    write(repo, "flows/orders/order_etl.py", ORDER_ETL)
    write(repo, "flows/orders/dagy.toml", ORDERS_MANIFEST)
    write(repo, "flows/billing/invoices.py", INVOICES)
    write(repo, "flows/ml/features.py", FEATURES)
    commit_all(repo, "add flows")
    git(repo, "remote", "add", "origin", str(bare_remote))
    git(repo, "push", "-q", "origin", "main")
    return repo


def action(checkout: Path, tmp_path: Path, **inputs: str) -> ActionRun:
    tmp_path.mkdir(parents=True, exist_ok=True)
    empty = tmp_path / "runner-gitconfig"
    empty.write_text("")
    return run_action(
        inputs,
        workspace=checkout,
        temp=tmp_path / "runner-temp",
        env={"GIT_CONFIG_GLOBAL": str(empty)},
        unset=NO_IDENTITY,
    )


def table_rows(summary: str) -> list[list[str]]:
    rows = [line for line in summary.splitlines() if line.startswith("| ")]
    return [[c.strip() for c in row.strip("|").split(" | ")] for row in rows[1:]]


def test_first_run_deploys_everything_and_pushes(
    checkout: Path, bare_remote: Path, tmp_path: Path
) -> None:
    run = action(checkout, tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.outputs["deployed"] == "4"
    assert run.outputs["skipped"] == "0"
    commit = run.outputs["registry-commit"]
    assert commit == git(bare_remote, "rev-parse", "refs/heads/dagy/registry")
    doc = json.loads(run.outputs["result"])
    assert doc["registry_commit"] == commit and doc["pushed"] is True
    by_deployment = {(r["flow_name"], r["deployment_name"]): r for r in doc["results"]}
    assert set(by_deployment) == {
        ("order_etl", "order-etl-prod"),
        ("order_etl", "order-etl-staging"),
        ("invoice_rollup", None),
        ("build_features", None),
    }
    assert by_deployment["order_etl", "order-etl-prod"]["tags"] == {
        "team": "data-eng",
        "env": "prod",
    }
    assert {r["status"] for r in doc["results"]} == {"registered"}
    # the version tags reached the remote, and the registry committed without an identity
    tags = git(bare_remote, "tag", "--list").split()
    assert {
        "dagy/order_etl/2.1.0",
        "dagy/invoice_rollup/1.0.0",
        "dagy/build_features/latest",
    } <= set(tags)
    assert git(bare_remote, "log", "-1", "--format=%an", "dagy/registry") not in ("", "Test User")
    # the job summary: a headline and one row per target
    assert "**4 deployed, 0 unchanged**" in run.summary
    assert f"Registry commit `{commit[:12]}` written and pushed." in run.summary
    rows = table_rows(run.summary)
    assert len(rows) == 4
    prod = next(r for r in rows if r[0] == "order-etl-prod")
    assert prod[1:5] == ["order_etl@2.1.0", "registered", "flows/orders", "1"]
    assert prod[5] == by_deployment["order_etl", "order-etl-prod"]["code_hash"][:12]
    assert prod[6] == "first deploy"
    # the log shows the same table for whoever reads the raw output
    assert "order-etl-prod" in run.stdout


def test_second_run_reports_everything_unchanged(
    checkout: Path, bare_remote: Path, tmp_path: Path
) -> None:
    first = action(checkout, tmp_path)
    assert first.returncode == 0, first.stderr
    again = action(checkout, tmp_path / "again")
    assert again.returncode == 0, again.stderr
    assert again.outputs["deployed"] == "0"
    assert again.outputs["skipped"] == "4"
    assert again.outputs["registry-commit"] == first.outputs["registry-commit"]
    assert "**0 deployed, 4 unchanged**" in again.summary
    assert "Registry unchanged at" in again.summary
    assert {r[2] for r in table_rows(again.summary)} == {"skipped"}
    assert git(bare_remote, "rev-parse", "dagy/registry") == first.outputs["registry-commit"]


def test_dry_run_on_a_changed_flow_says_what_would_deploy_and_pushes_nothing(
    checkout: Path, bare_remote: Path, tmp_path: Path
) -> None:
    assert action(checkout, tmp_path).returncode == 0
    before = git(bare_remote, "rev-parse", "dagy/registry")
    local_before = git(checkout, "rev-parse", "dagy/registry")
    write(checkout, "flows/billing/invoices.py", INVOICES + "\n# changed\n")
    commit_all(checkout, "change invoices")
    run = action(checkout, tmp_path / "dry", **{"dry-run": "true"})
    assert run.returncode == 0, run.stderr
    assert "**1 would deploy, 3 unchanged**" in run.summary
    assert "Dry run: nothing was written or pushed." in run.summary
    row = next(r for r in table_rows(run.summary) if r[1] == "invoice_rollup@1.0.0")
    assert row[2] == "updated (dry run)" and row[6] == "code_hash changed"
    assert run.outputs["deployed"] == "1"
    assert json.loads(run.outputs["result"])["dry_run"] is True
    assert git(bare_remote, "rev-parse", "dagy/registry") == before
    assert git(checkout, "rev-parse", "dagy/registry") == local_before


def test_a_pull_request_checkout_plans_against_the_remote_registry(
    checkout: Path, bare_remote: Path, tmp_path: Path
) -> None:
    """A fresh clone has no local registry branch; a dry run still compares with origin's."""
    assert action(checkout, tmp_path).returncode == 0
    clone = tmp_path / "pr"
    git(tmp_path, "clone", "-q", str(bare_remote), str(clone))
    write(clone, "flows/ml/features.py", FEATURES + "\n# tweak\n")
    commit_all(clone, "tweak features")
    run = action(clone, tmp_path / "pr-run", **{"dry-run": "true"})
    assert run.returncode == 0, run.stderr
    assert "**1 would deploy, 3 unchanged**" in run.summary


def test_a_broken_flow_is_annotated_and_fails_the_step(
    checkout: Path, bare_remote: Path, tmp_path: Path
) -> None:
    write(checkout, "flows/broken/bad.py", BROKEN)
    write(checkout, "flows/broken/other.py", BROKEN.replace('"broken"', '"other"'))
    commit_all(checkout, "add broken flows")
    # run from a subfolder: the annotation is still relative to the workspace
    run = action(checkout, tmp_path, paths="broken/bad.py\n", **{"working-directory": "flows"})
    assert run.returncode == 1
    errors = [a for a in run.annotations() if a["level"] == "error"]
    # only what this deploy touched is annotated
    assert [a["file"] for a in errors] == ["flows/broken/bad.py"], run.stdout
    assert errors[0]["line"] == "12"
    assert "mystery" in errors[0]["message"]
    assert "error: flows/broken/bad.py:12" in run.stderr
    assert "dagy-git deploy failed" in run.summary
    assert run.outputs["deployed"] == ""
    assert git(bare_remote, "branch", "--list", "dagy/registry") == ""


def test_deploy_all_annotates_every_broken_file(checkout: Path, tmp_path: Path) -> None:
    write(checkout, "flows/broken/bad.py", BROKEN)
    write(checkout, "flows/broken/worse.py", BROKEN.replace('"broken"', '"worse"'))
    commit_all(checkout, "two broken flows")
    run = action(checkout, tmp_path)
    assert run.returncode == 1
    assert {a.get("file") for a in run.annotations()} == {
        "flows/broken/bad.py",
        "flows/broken/worse.py",
    }


def test_paths_deployment_and_tags_inputs(checkout: Path, tmp_path: Path) -> None:
    run = action(
        checkout,
        tmp_path,
        paths="flows/billing/invoices.py",
        deployment="invoices-prod",
        namespace="finance/billing",
        tags="cost-center=billing\n  criticality=high, really  \n\n",
        push="false",
    )
    assert run.returncode == 0, run.stderr
    (result,) = json.loads(run.outputs["result"])["results"]
    assert result["deployment_name"] == "invoices-prod"
    assert result["namespace"] == "finance/billing"
    assert result["tags"] == {"cost-center": "billing", "criticality": "high, really"}
    assert json.loads(run.outputs["result"])["pushed"] is False
    assert git(checkout, "rev-parse", "dagy/registry") == run.outputs["registry-commit"]


def test_a_bad_boolean_input_is_an_annotated_error(checkout: Path, tmp_path: Path) -> None:
    run = action(checkout, tmp_path, force="maybe")
    assert run.returncode == 1
    assert any("'force' must be true or false" in a["message"] for a in run.annotations())


def test_inputs_with_shell_syntax_are_never_executed(tmp_path: Path) -> None:
    """The install step gets the pin through env: shell syntax in it stays a string."""
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    log = tmp_path / "pip-args"
    # A stand-in interpreter: logs its arguments; asked for a venv, makes one of stand-ins.
    stub = (
        f'#!/bin/sh\nprintf "%s\\n" "$@" >> "{log}"\n'
        'if [ "$1" = -m ] && [ "$2" = venv ]; then\n'
        '  mkdir -p "$3/bin" && cp "$0" "$3/bin/python" && cp "$0" "$3/bin/dagy-git"\n'
        "fi\n"
    )
    for name in ("python3", "dagy-git"):
        (stubs / name).write_text(stub)
        (stubs / name).chmod(0o755)
    canary = tmp_path / "pwned"
    cases = {
        "": str(ACTION_DIR) + "/..",
        "==0.1.0": "dagy-git==0.1.0",
        "dagy-git @ file:///wheels/x.whl": "dagy-git @ file:///wheels/x.whl",
        "0.1.0": "dagy-git==0.1.0",
        f'"; touch {canary}; echo "': f'"; touch {canary}; echo "',
    }
    for pin, requirement in cases.items():
        log.write_text("")
        run = run_action(
            {"dagy-git-version": pin},
            workspace=tmp_path,
            temp=tmp_path / "t",
            skip=("deploy",),
            path_first=(stubs,),
        )
        assert run.returncode == 0, run.stderr
        assert requirement in log.read_text().splitlines()
    assert not canary.exists()


def test_no_run_step_interpolates_an_expression() -> None:
    steps = load_action()["runs"]["steps"]
    runs = [s["run"] for s in steps if "run" in s]
    assert runs, "the action has run steps"
    assert not [r for r in runs if "${{" in r]


def test_every_input_reaches_the_deploy_step() -> None:
    data = load_action()
    used = " ".join(
        json.dumps(s.get("env", {}))
        + json.dumps(s.get("with", {}))
        + str(s.get("working-directory"))
        for s in data["runs"]["steps"]
    )
    assert {m for m in re.findall(r"inputs\.([\w-]+)", used)} == set(data["inputs"])


def check_jsonschema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        check=False,
        env=os.environ,
    )


def test_action_yml_matches_githubs_schema() -> None:
    proc = check_jsonschema("vendor.github-actions", ACTION_DIR / "action.yml")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def docs_workflow() -> str:
    """The complete workflow in docs/github-actions.md (the block naming its file)."""
    text = (ROOT / "docs" / "github-actions.md").read_text("utf-8")
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    (workflow,) = [b for b in blocks if b.startswith("# .github/workflows/")]
    return workflow


def test_documented_workflow_matches_githubs_schema(tmp_path: Path) -> None:
    path = tmp_path / "dagy-deploy.yml"
    path.write_text(docs_workflow())
    proc = check_jsonschema("vendor.github-workflows", path)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_documented_workflow_follows_the_advice_it_gives() -> None:
    workflow = yaml.safe_load(docs_workflow())
    jobs = workflow["jobs"]
    deploy = next(j for j in jobs.values() if j.get("permissions", {}).get("contents") == "write")
    assert deploy["concurrency"]["cancel-in-progress"] is False
    steps = deploy["steps"]
    checkout = next(s for s in steps if str(s.get("uses", "")).startswith("actions/checkout@"))
    assert checkout["with"]["fetch-depth"] == 0
    uses = [
        s for j in jobs.values() for s in j["steps"] if "dagy-git/action@" in str(s.get("uses"))
    ]
    declared = set(load_action()["inputs"])
    for step in uses:
        assert set(step.get("with", {})) <= declared
    assert any(str(s.get("with", {}).get("dry-run")).lower() == "true" for s in uses)


def test_the_jobs_python_is_left_alone_and_pip_is_cached() -> None:
    steps = {s.get("name"): s for s in load_action()["runs"]["steps"]}
    setup = steps["Set up Python"]
    assert setup["with"]["update-environment"] == "${{ inputs.update-environment }}"
    assert load_action()["inputs"]["update-environment"]["default"] == "false"
    cache = steps["Cache pip"]
    assert cache["uses"].startswith("actions/cache@")
    key = cache["with"]["key"]
    assert "github.action_ref" in key and "inputs.dagy-git-version" in key
    install = steps["Install dagy-git"]
    assert install["env"]["PIP_CACHE_DIR"] == cache["with"]["path"]
    # dagy-git runs from its own virtual environment, named by the install step's output
    assert "dagy-git-venv" in install["run"]
    assert steps["Deploy changed flows"]["env"]["DAGY_GIT_BIN"] == (
        "${{ steps.install.outputs.dagy-git }}"
    )


def test_the_documented_workflow_bounds_its_jobs() -> None:
    jobs = yaml.safe_load(docs_workflow())["jobs"]
    assert all(isinstance(job.get("timeout-minutes"), int) for job in jobs.values())
