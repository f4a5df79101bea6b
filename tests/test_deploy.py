"""`dagy-git deploy` end to end, as a user types it: the spec's deploy scenarios."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ORDER_ETL, commit_all, git, run_cli, write

FLOW = "flows/orders/order_etl.py"
PROD = [
    "--deployment",
    "order-etl-prod",
    "--namespace",
    "data/orders",
    "--tag",
    "team=data-eng",
    "--tag",
    "env=prod",
    "--tag",
    "criticality=high",
    "--schedule",
    "0 6 * * *",
]


def deploy(repo: Path, *args: str) -> dict:
    proc = run_cli("deploy", *args, "--json", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


@pytest.fixture
def etl_repo(repo: Path) -> Path:
    write(repo, FLOW, ORDER_ETL)
    commit_all(repo, "add order_etl")
    return repo


def state(repo: Path) -> tuple[str, str, str]:
    """HEAD, the index and the work tree status: what deploy must never touch."""
    index = (repo / ".git" / "index").read_bytes()
    return git(repo, "rev-parse", "HEAD"), str(hash(index)), git(repo, "status", "--porcelain")


def test_first_deploy_registers_everything_the_spec_promises(etl_repo: Path) -> None:
    before = state(etl_repo)
    doc = deploy(etl_repo, FLOW, *PROD)
    (result,) = doc["results"]
    assert result["flow_name"] == "order_etl"
    assert result["flow_version"] == "2.1.0"
    assert result["deployment_name"] == "order-etl-prod"
    assert result["namespace"] == "data/orders"
    assert result["tags"] == {"team": "data-eng", "env": "prod", "criticality": "high"}
    assert result["status"] == "registered"
    assert result["deployment_version"] == 1
    assert len(result["code_hash"]) == 64
    assert state(etl_repo) == before, "deploy touched HEAD, the index or the work tree"
    # one commit on the registry branch on top of nothing else
    assert git(etl_repo, "rev-parse", "dagy/registry") == doc["registry_commit"]
    tree = git(etl_repo, "ls-tree", "-r", "--name-only", "dagy/registry").splitlines()
    assert "flows/order_etl/2.1.0/spec.json" in tree
    assert "flows/order_etl/2.1.0/source/order_etl.py" in tree
    assert "deployments/order-etl-prod.json" in tree
    # the version tag is on the deployed source commit
    head = git(etl_repo, "rev-parse", "HEAD")
    assert git(etl_repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == head
    assert git(etl_repo, "cat-file", "-t", "dagy/order_etl/2.1.0") == "tag"
    spec_out = run_cli("spec", FLOW, "--json", cwd=etl_repo)
    assert json.loads(spec_out.stdout)[0]["code_hash"] == result["code_hash"]


def test_unchanged_redeploy_skips_and_force_redeploys(etl_repo: Path) -> None:
    first = deploy(etl_repo, FLOW, *PROD)
    again = deploy(etl_repo, FLOW, *PROD)
    (result,) = again["results"]
    assert result["status"] == "skipped"
    assert "code_hash unchanged" in result["reason"]
    assert result["deployment_version"] == 1
    assert again["registry_commit"] == first["registry_commit"], "a skip must not commit"
    human = run_cli("deploy", FLOW, *PROD, cwd=etl_repo)
    assert "skipped: code_hash unchanged" in human.stdout
    forced = deploy(etl_repo, FLOW, *PROD, "--force")
    assert forced["results"][0]["status"] == "updated"
    assert forced["results"][0]["deployment_version"] == 2
    assert forced["registry_commit"] != first["registry_commit"]


def test_changed_code_updates_and_moves_the_version_tag(etl_repo: Path) -> None:
    first = deploy(etl_repo, FLOW, *PROD)["results"][0]
    flow = etl_repo / FLOW
    flow.write_text(flow.read_text().replace("@task\ndef load", "@task(retries=3)\ndef load"))
    head = commit_all(etl_repo, "retry load")
    (result,) = deploy(etl_repo, FLOW, *PROD)["results"]
    assert result["status"] == "updated"
    assert result["code_hash"] != first["code_hash"]
    assert result["deployment_version"] == 2
    assert git(etl_repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == head
    shown = git(etl_repo, "show", f"dagy/order_etl/2.1.0:{FLOW}")
    assert "@task(retries=3)" in shown
    log = json.loads(run_cli("log", "order_etl", "--json", cwd=etl_repo).stdout)
    assert [e["action"] for e in log] == ["updated", "registered"]
    assert log[0]["code_hash"] == result["code_hash"]
    assert log[1]["code_hash"] == first["code_hash"]


def test_metadata_only_update(etl_repo: Path) -> None:
    deploy(etl_repo, FLOW, *PROD)
    (result,) = deploy(etl_repo, FLOW, *PROD[:-2], "--schedule", "0 7 * * *")["results"]
    assert result["status"] == "metadata"
    assert "schedule" in result["reason"]
    assert result["deployment_version"] == 2
    (result,) = deploy(etl_repo, FLOW, *PROD, "--tag", "tier=gold")["results"]
    assert result["status"] == "metadata"
    assert result["tags"]["tier"] == "gold"
    assert result["deployment_version"] == 3


def test_legacy_record_without_code_hash_is_registered_again(etl_repo: Path) -> None:
    deploy(etl_repo, FLOW, *PROD)
    # Rewrite record.json on the branch by hand, without code_hash (a legacy registration).
    path = "flows/order_etl/2.1.0/record.json"
    record = json.loads(git(etl_repo, "show", f"dagy/registry:{path}"))
    del record["code_hash"]
    work = etl_repo.parent / "legacy"
    git(etl_repo, "worktree", "add", "-q", str(work), "dagy/registry")
    (work / path).write_text(json.dumps(record, sort_keys=True, separators=(",", ":")) + "\n")
    git(work, "commit", "-q", "-am", "legacy record")
    git(etl_repo, "worktree", "remove", str(work))
    (result,) = deploy(etl_repo, FLOW, *PROD)["results"]
    assert result["status"] == "registered"
    assert "legacy" in result["reason"]


def test_namespace_of_a_registered_version_never_changes(etl_repo: Path) -> None:
    deploy(etl_repo, FLOW, *PROD)
    tip = git(etl_repo, "rev-parse", "dagy/registry")
    proc = run_cli("deploy", FLOW, "--namespace", "billing", cwd=etl_repo)
    assert proc.returncode == 1
    assert "'data/orders'" in proc.stderr and "'billing'" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert git(etl_repo, "rev-parse", "dagy/registry") == tip


def test_dry_run_writes_nothing(etl_repo: Path) -> None:
    doc = deploy(etl_repo, FLOW, *PROD, "--dry-run")
    assert doc["results"][0]["status"] == "registered"
    refs = git(etl_repo, "for-each-ref", "--format=%(refname)")
    assert "dagy" not in refs


def test_dirty_file_is_recorded(etl_repo: Path) -> None:
    (etl_repo / FLOW).write_text(ORDER_ETL.replace("2.1.0", "2.2.0"))
    proc = run_cli("deploy", FLOW, cwd=etl_repo)
    assert proc.returncode == 0, proc.stderr
    assert "uncommitted" in proc.stdout + proc.stderr
    record = json.loads(git(etl_repo, "show", "dagy/registry:flows/order_etl/2.2.0/record.json"))
    assert record["dirty"] is True
    # the registry stores the source as deployed, not as committed
    stored = git(etl_repo, "show", "dagy/registry:flows/order_etl/2.2.0/source/order_etl.py")
    assert 'version="2.2.0"' in stored


def test_flow_version_override_and_hostile_version(etl_repo: Path) -> None:
    (result,) = deploy(etl_repo, FLOW, "--flow-version", "--upload-pack=touch x")["results"]
    assert result["flow_version"] == "--upload-pack=touch x"
    assert not (etl_repo / "x").exists()
    tags = git(etl_repo, "tag", "--list", "dagy/*")
    assert "dagy/order_etl/--upload-pack%3Dtouch%20x" in tags.splitlines()
    shown = json.loads(
        run_cli("show", "order_etl@--upload-pack=touch x", "--json", cwd=etl_repo).stdout
    )
    assert shown["flow_spec"]["version"] == "--upload-pack=touch x"


def test_errors_are_clear_and_write_nothing(etl_repo: Path) -> None:
    write(etl_repo, "flows/bad.py", "from dagy import flow\n@flow\ndef f(:\n")
    cases = [
        (["flows/bad.py"], "flows/bad.py:3"),
        (["flows/missing.py"], "no such file"),
        ([FLOW, "--deployment", "bad name"], "deployment name"),
        ([FLOW, "--tag", "novalue"], "KEY=VALUE"),
        ([FLOW, "--schedule", "every day"], "schedule"),
        ([FLOW, "--namespace", "../etc"], "namespace"),
        ([FLOW, "--flow-version", ""], "version"),
        (["../outside.py"], "outside"),
    ]
    for args, message in cases:
        proc = run_cli("deploy", *args, cwd=etl_repo)
        assert proc.returncode == 1, (args, proc.stderr)
        assert message in proc.stderr, (args, proc.stderr)
        assert "Traceback" not in proc.stderr
    assert "dagy" not in git(etl_repo, "for-each-ref", "--format=%(refname)")


def test_usage_error_exits_2(etl_repo: Path) -> None:
    assert run_cli("deploy", "--no-such-option", cwd=etl_repo).returncode == 2
    assert run_cli("deploy", cwd=etl_repo).returncode == 2
    assert run_cli("deploy", FLOW, "--all", cwd=etl_repo).returncode == 2


def test_deploy_outside_a_repository(tmp_path: Path) -> None:
    proc = run_cli("deploy", "--all", cwd=tmp_path)
    assert proc.returncode == 1
    assert "not inside a git repository" in proc.stderr


def run_sdk(repo: Path, statement: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Commit an SDK version of order_etl, import it in a new Python and run `statement`."""
    write(repo, FLOW, ORDER_ETL.replace("from dagy import", "from dagy_git import"))
    commit_all(repo, "add order_etl")
    script = (
        "import json, sys\n"
        f"sys.path.insert(0, {str(repo / 'flows/orders')!r})\n"
        "from order_etl import order_etl\n" + statement + "\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], cwd=cwd, capture_output=True, text=True, check=False
    )


def test_sdk_deploy_matches_cli(repo: Path) -> None:
    proc = run_sdk(
        repo,
        "r = order_etl.deploy(name='order-etl-prod', namespace='data/orders',"
        " tags={'team': 'data-eng', 'env': 'prod', 'criticality': 'high'},"
        " schedule='0 6 * * *')\n"
        "print(json.dumps(r.to_json()))",
        cwd=repo,
    )
    assert proc.returncode == 0, proc.stderr
    sdk = json.loads(proc.stdout)
    assert sdk["status"] == "registered"
    assert sdk["deployment_version"] == 1
    cli = deploy(repo, FLOW, *PROD)["results"][0]
    assert cli["status"] == "skipped"
    assert cli["code_hash"] == sdk["code_hash"]
    assert set(sdk) >= {
        "flow_name",
        "flow_version",
        "deployment_name",
        "namespace",
        "tags",
        "code_hash",
        "status",
        "deployment_version",
        "reason",
    }


def test_parameters_that_json_cannot_hold_never_cause_endless_updates(etl_repo: Path) -> None:
    args = [
        FLOW,
        "--deployment",
        "p",
        "--param",
        "x=NaN",
        "--param",
        "y=1e999",
        "--param",
        'z={"a": [1, 2]}',
        "--param",
        "n=3",
    ]
    first = deploy(etl_repo, *args)["results"][0]
    again = deploy(etl_repo, *args)["results"][0]
    assert (first["status"], again["status"]) == ("registered", "skipped")
    deps = json.loads(run_cli("deployments", "--json", cwd=etl_repo).stdout)
    assert deps[0]["parameters"] == {"x": "NaN", "y": "1e999", "z": {"a": [1, 2]}, "n": 3}
    write(
        etl_repo,
        "dagy.toml",
        '[[deployments]]\nname = "m"\nflow = "' + FLOW + '"\nparameters = { x = nan }\n',
    )
    proc = run_cli("validate", cwd=etl_repo)
    assert proc.returncode == 1
    assert "dagy.toml:" in proc.stdout and "nan" in proc.stdout


def test_an_empty_explicit_namespace_is_the_root(etl_repo: Path) -> None:
    (result,) = deploy(etl_repo, FLOW, "--namespace", "")["results"]
    assert result["namespace"] == ""


def test_dirty_is_judged_by_the_bytes_deployed(etl_repo: Path, tmp_path: Path) -> None:
    # an artifact built from uncommitted code is not what HEAD holds
    flow = etl_repo / FLOW
    committed = flow.read_text()
    flow.write_text(committed.replace("@task\ndef load", "@task(retries=1)\ndef load"))
    assert run_cli("build", FLOW, "--out", str(tmp_path), cwd=etl_repo).returncode == 0
    flow.write_text(committed)
    (result,) = deploy(etl_repo, str(tmp_path / "order_etl-2.1.0.zip"))["results"]
    assert result["dirty"] is True
    # an ignored flow file is in no commit
    write(etl_repo, ".gitignore", "scratch/\n")
    write(etl_repo, "scratch/tmp_flow.py", ORDER_ETL.replace("2.1.0", "0.0.1"))
    commit_all(etl_repo, "ignore scratch")
    (result,) = deploy(etl_repo, "scratch/tmp_flow.py")["results"]
    assert result["dirty"] is True
    # and a committed file deploys clean
    (result,) = deploy(etl_repo, FLOW, "--flow-version", "3")["results"]
    assert result["dirty"] is False


def test_dry_run_is_refused_where_the_real_run_would_be(etl_repo: Path) -> None:
    git(etl_repo, "tag", "dagy/order_etl/2.1.0")  # a hand-made (lightweight) version tag
    for extra in (["--dry-run"], []):
        proc = run_cli("deploy", FLOW, *extra, cwd=etl_repo)
        assert proc.returncode == 1, proc.stderr
        assert "lightweight tag" in proc.stderr
    assert "dagy/registry" not in git(etl_repo, "for-each-ref", "--format=%(refname)")


def test_list_refuses_an_invalid_namespace(etl_repo: Path) -> None:
    proc = run_cli("list", "--namespace", "../x", cwd=etl_repo)
    assert proc.returncode == 1 and "namespace" in proc.stderr


def test_sdk_deploy_from_outside_the_repository_is_refused(repo: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    proc = run_sdk(repo, "order_etl.deploy()", cwd=outside)
    assert proc.returncode != 0
    assert "outside the repository" in proc.stderr
    assert "dagy" not in git(repo, "for-each-ref", "--format=%(refname)")


def test_a_folder_or_a_symlink_loop_is_a_clear_error(etl_repo: Path) -> None:
    (etl_repo / "flows/loop").symlink_to("loop.py")
    (etl_repo / "flows/loop.py").symlink_to("loop")
    for target, message in (("flows/orders", "is a folder"), ("flows/loop.py", "cannot resolve")):
        proc = run_cli("deploy", target, cwd=etl_repo)
        assert proc.returncode == 1, proc.stderr
        assert message in proc.stderr
    proc = run_cli("validate", "flows/loop.py", cwd=etl_repo)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr


def test_an_older_checkout_never_rolls_the_registry_back(etl_repo: Path) -> None:
    """A CI run of an older commit that finishes last skips instead of undoing newer deploys."""
    write(etl_repo, "dagy.toml", MANIFEST.format(schedule="0 6 * * *"))
    old = commit_all(etl_repo, "manifest")
    assert deploy(etl_repo, "--all")["results"][0]["status"] == "registered"
    flow = etl_repo / FLOW
    flow.write_text(flow.read_text().replace("@task\ndef load", "@task(retries=3)\ndef load"))
    write(etl_repo, "dagy.toml", MANIFEST.format(schedule="30 5 * * *"))
    new = commit_all(etl_repo, "retry load, earlier schedule")
    (newer,) = deploy(etl_repo, "--all")["results"]
    assert (newer["status"], newer["deployment_version"]) == ("updated", 2)

    git(etl_repo, "checkout", "-q", old)
    (stale,) = deploy(etl_repo, "--all")["results"]
    assert stale["status"] == "skipped"
    assert "later commit than this checkout" in stale["reason"]
    assert stale["deployment_version"] == 2
    assert git(etl_repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == new
    deps = json.loads(run_cli("deployments", "--json", cwd=etl_repo).stdout)
    assert deps[0]["schedule"] == "30 5 * * *"
    # --force is the deliberate rollback
    (forced,) = deploy(etl_repo, "--all", "--force")["results"]
    assert (forced["status"], forced["deployment_version"]) == ("updated", 3)
    assert git(etl_repo, "rev-parse", "dagy/order_etl/2.1.0^{commit}") == old
    # and the newest commit deploys normally again
    git(etl_repo, "checkout", "-q", "main")
    (again,) = deploy(etl_repo, "--all")["results"]
    assert (again["status"], again["deployment_version"]) == ("updated", 4)


MANIFEST = """
[[deployments]]
name = "order-etl-prod"
flow = "flows/orders/order_etl.py"
schedule = "{schedule}"
"""


def test_schedule_and_params_need_a_deployment(etl_repo: Path) -> None:
    for extra in (["--schedule", "0 6 * * *"], ["--param", "x=1"]):
        proc = run_cli("deploy", FLOW, *extra, cwd=etl_repo)
        assert proc.returncode == 1
        assert "belong to a deployment" in proc.stderr


def test_a_renamed_flow_takes_its_deployment_along_only_with_force(etl_repo: Path) -> None:
    deploy(etl_repo, FLOW, "--deployment", "prod")
    flow = etl_repo / FLOW
    flow.write_text(flow.read_text().replace('name="order_etl"', 'name="orders_etl"'))
    commit_all(etl_repo, "rename the flow")
    refused = run_cli("deploy", FLOW, "--deployment", "prod", "--json", cwd=etl_repo)
    assert refused.returncode == 1
    assert "pass --force to move 'prod'" in refused.stderr
    # --json callers get a JSON error on stdout, not an empty document
    assert "deploys flow 'order_etl'" in json.loads(refused.stdout)["error"]["message"]
    (moved,) = deploy(etl_repo, FLOW, "--deployment", "prod", "--force")["results"]
    assert (moved["flow_name"], moved["deployment_version"]) == ("orders_etl", 2)
