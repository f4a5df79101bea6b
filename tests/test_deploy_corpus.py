"""The corpus deploys: every flow of tests/corpus/ registers, redeploys as unchanged, and a
flow name with spaces works as `FLOW@VERSION` on the command line (escaped in refs)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from conftest import commit_all, git, run_cli

CORPUS = Path(__file__).resolve().parent / "corpus"


@pytest.mark.slow
def test_the_corpus_deploys_and_redeploys_unchanged(repo: Path) -> None:
    shutil.copytree(CORPUS, repo, dirs_exist_ok=True)
    commit_all(repo, "the corpus")
    expected = json.loads((CORPUS / "expected.json").read_text())
    n_flows = sum(len(flows) for flows in expected.values())

    first = run_cli("deploy", "--all", "--json", cwd=repo)
    assert first.returncode == 0, first.stderr
    results = json.loads(first.stdout)["results"]
    assert len(results) == n_flows
    assert {r["status"] for r in results} == {"registered"}

    again = run_cli("deploy", "--all", "--json", cwd=repo)
    assert again.returncode == 0, again.stderr
    assert {r["status"] for r in json.loads(again.stdout)["results"]} == {"skipped"}

    shown = run_cli("show", "Daily Sales ETL@latest", "--json", cwd=repo)
    assert shown.returncode == 0, shown.stderr
    detail = json.loads(shown.stdout)
    assert detail["flow_name"] == "Daily Sales ETL"
    assert detail["flow_spec"]["options"]["log_prints"] == "True"
    # The name is escaped in the version tag, reversibly, as versions are.
    assert "dagy/Daily%20Sales%20ETL/latest" in git(repo, "tag", "--list").split()
