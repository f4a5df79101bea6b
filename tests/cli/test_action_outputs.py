"""The action's outputs and job summary for large runs: a size guard and folded rows."""

from __future__ import annotations

import json
from pathlib import Path

from dagy_git.cli.github import FOLD_AFTER, outputs, result_output, summary
from dagy_git.deploy import DeployReport
from dagy_git.plan import DeployResult

from action_harness import parse_file_commands


def report(changed: int, unchanged: int) -> DeployReport:
    def result(i: int, status: str) -> DeployResult:
        return DeployResult(
            flow_name=f"flow_{i:04d}",
            flow_version="1.0",
            deployment_name=None,
            namespace="team/domain",
            tags={"team": "data"},
            code_hash=f"{i:064x}",
            status=status,
            deployment_version=None,
            reason="code_hash changed" if status != "skipped" else "code_hash unchanged",
        )

    results = [result(i, "updated") for i in range(changed)]
    results += [result(changed + i, "skipped") for i in range(unchanged)]
    return DeployReport(registry_commit="c" * 40, results=results, pushed=True)


def test_a_small_result_is_the_whole_document(tmp_path: Path) -> None:
    small = report(2, 3)
    text = outputs(small, tmp_path / "r.json")
    values = parse_file_commands(text)
    assert json.loads(values["result"]) == small.to_json()
    assert values["result-file"] == str(tmp_path / "r.json")
    assert (values["deployed"], values["skipped"]) == ("2", "3")


def test_a_large_result_keeps_the_changed_targets_and_names_the_file(tmp_path: Path) -> None:
    big = report(3, 2000)
    whole = json.dumps(big.to_json(), separators=(",", ":"))
    limit = len(whole) // 10
    doc = json.loads(result_output(big, tmp_path / "r.json", limit))
    assert doc["truncated"] is True and doc["result_file"] == str(tmp_path / "r.json")
    assert [r["flow_name"] for r in doc["results"]] == ["flow_0000", "flow_0001", "flow_0002"]
    assert doc["registry_commit"] == big.registry_commit
    tiny = json.loads(result_output(big, tmp_path / "r.json", 200))
    assert tiny["results"] == [] and tiny["truncated"] is True


def test_the_summary_folds_unchanged_rows_past_fifty_targets() -> None:
    few = summary(report(1, FOLD_AFTER - 1))
    assert "<details>" not in few and few.count("| flow_") == FOLD_AFTER
    many = summary(report(2, 120))
    shown, folded = many.split("<details>", 1)
    assert shown.count("| flow_") == 2 and "updated" in shown
    assert "<summary>120 unchanged</summary>" in folded and folded.count("| flow_") == 120
    assert folded.rstrip().endswith("</details>")
    none_changed = summary(report(0, 60))
    assert none_changed.count("<details>") == 1
    assert none_changed.split("<details>")[0].count("| flow_") == 0
