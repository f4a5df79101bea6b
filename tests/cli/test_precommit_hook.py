"""The pre-commit hook, end to end with the real pre-commit framework and a real `git commit`.

pre-commit installs the hook from a git repository at a commit, so the test commits a
snapshot of this checkout (package, pyproject, `.pre-commit-hooks.yaml`) into a scratch
repository and points a user repository's `.pre-commit-config.yaml` at it: the same path a
user takes with `repo: https://github.com/<owner>/dagy-git`. It works whether or not this
checkout has uncommitted changes. pre-commit builds the hook's virtualenv once (pip install
from the package index) into `PRE_COMMIT_HOME`, which conftest points into a temp folder.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from dagy_git.cli import hook as hookcmd

from conftest import ORDER_ETL, ROOT, git, snapshot_of_this_checkout, write

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

BAD_FLOW = """
from dagy import flow


@flow(name="bad@name", version="1.0")
def bad():
    pass
"""


def pre_commit(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pre_commit", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
    )


def test_hook_manifest_and_entry_point_agree() -> None:
    hooks = {h["id"]: h for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    hook = hooks["dagy-git-validate"]
    assert hook["language"] == "python" and hook["pass_filenames"] is True
    assert hook["entry"] == "dagy-git-hook validate"
    assert hook["args"] == ["--staged-deletions"]
    assert hook["always_run"] is True  # a commit that only deletes files still runs it
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["dagy-git-hook"] == "dagy_git.cli.hook:main"


def test_hookcmd_main_in_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "good.py", ORDER_ETL)
    write(repo, "bad.py", BAD_FLOW)
    monkeypatch.chdir(repo)
    assert hookcmd.main(["validate", "good.py"]) == 0
    assert capsys.readouterr().err == "checked 1 flow in 1 file: ok\n"
    assert hookcmd.main(["validate", "good.py", "bad.py"]) == 1
    assert capsys.readouterr().out.startswith("bad.py:4:")
    with pytest.raises(SystemExit) as usage:
        hookcmd.main(["lint"])
    assert usage.value.code == 2


def test_hook_strict_and_github_format(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "good.py", ORDER_ETL)
    write(repo, "broken.py", "from dagy import flow\n\n@flow\ndef f(:\n    pass\n")
    monkeypatch.chdir(repo)
    monkeypatch.delenv("GITHUB_WORKSPACE", raising=False)
    assert hookcmd.main(["validate", "--strict", "good.py"]) == 0
    assert capsys.readouterr().err == "checked 1 flow in 1 file: ok\n"
    assert hookcmd.main(["validate", "--format", "github", "good.py", "broken.py"]) == 1
    assert capsys.readouterr().out.startswith("::error file=broken.py,line=4,col=")


def test_pre_commit_runs_the_hook_and_blocks_a_bad_commit(repo: Path, tmp_path: Path) -> None:
    rev = snapshot_of_this_checkout(tmp_path / "dagy-git")
    config = {
        "repos": [
            {"repo": str(tmp_path / "dagy-git"), "rev": rev, "hooks": [{"id": "dagy-git-validate"}]}
        ]
    }
    write(repo, ".pre-commit-config.yaml", yaml.safe_dump(config))
    write(repo, "flows/good.py", ORDER_ETL)
    write(repo, "flows/bad.py", BAD_FLOW)
    write(repo, "flows/dagy.toml", '[tags]\nteam = "data-eng"\n')
    write(repo, "notes.txt", "not checked\n")
    git(repo, "add", "-A")

    # One run over good and bad files: only the bad one is reported.
    run = pre_commit(
        repo, "run", "dagy-git-validate", "--files", "flows/good.py", "flows/bad.py",
        "flows/dagy.toml", "notes.txt",
    )  # fmt: skip
    output = run.stdout + run.stderr
    assert run.returncode == 1, output
    assert "dagy-git validate" in output and "Failed" in output
    assert "flows/bad.py:4:" in output and "bad@name" in output
    assert "flows/good.py:" not in output and "notes.txt" not in output

    # A real commit through the installed git hook: refused with the bad file, then accepted.
    assert pre_commit(repo, "install").returncode == 0
    head = git(repo, "rev-parse", "HEAD")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "add flows"], cwd=repo, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "flows/bad.py:4:" in refused.stdout + refused.stderr
    assert git(repo, "rev-parse", "HEAD") == head

    git(repo, "rm", "-q", "--cached", "flows/bad.py")
    (repo / "flows" / "bad.py").unlink()
    accepted = subprocess.run(
        ["git", "commit", "-q", "-m", "add good flow"], cwd=repo, capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert "Passed" in accepted.stdout + accepted.stderr
    assert git(repo, "rev-parse", "HEAD") != head


@pytest.mark.slow
def test_a_commit_deleting_a_flow_a_manifest_names_is_refused(repo: Path, tmp_path: Path) -> None:
    rev = snapshot_of_this_checkout(tmp_path / "dagy-git")
    config = {
        "repos": [
            {"repo": str(tmp_path / "dagy-git"), "rev": rev, "hooks": [{"id": "dagy-git-validate"}]}
        ]
    }
    write(repo, ".pre-commit-config.yaml", yaml.safe_dump(config))
    write(repo, "flows/etl.py", ORDER_ETL)
    write(repo, "flows/old.py", ORDER_ETL.replace("order_etl", "old_etl"))
    write(repo, "flows/dagy.toml", '[[deployments]]\nname = "etl-prod"\nflow = "etl.py"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "flows")
    assert pre_commit(repo, "install").returncode == 0

    # Deleting a flow no manifest names: the hook runs (always_run) and passes.
    git(repo, "rm", "-q", "flows/old.py")
    fine = subprocess.run(
        ["git", "commit", "-q", "-m", "drop old"], cwd=repo, capture_output=True, text=True
    )
    assert fine.returncode == 0, fine.stdout + fine.stderr

    # Deleting the flow a deployment names: refused, naming the manifest line.
    head = git(repo, "rev-parse", "HEAD")
    git(repo, "rm", "-q", "flows/etl.py")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "drop etl"], cwd=repo, capture_output=True, text=True
    )
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output
    assert "flows/dagy.toml:1:1: deployment 'etl-prod': flows/etl.py does not exist" in output
    assert git(repo, "rev-parse", "HEAD") == head


def test_staged_deletions_in_process(
    repo: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    write(repo, "flows/etl.py", ORDER_ETL)
    write(repo, "flows/dagy.toml", '[[deployments]]\nname = "etl-prod"\nflow = "etl.py"\n')
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "flows")
    monkeypatch.chdir(repo)
    # nothing staged: nothing to do, and nothing printed
    assert hookcmd.main(["validate", "--staged-deletions"]) == 0
    assert capsys.readouterr() == ("", "")
    git(repo, "rm", "-q", "flows/etl.py")
    assert hookcmd.main(["validate", "--staged-deletions"]) == 1
    assert capsys.readouterr().out.startswith("flows/dagy.toml:1:1: deployment 'etl-prod'")
