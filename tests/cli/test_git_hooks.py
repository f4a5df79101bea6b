"""Plain git hooks: `dagy-git install-hooks`, then real `git commit` and `git push`."""

from __future__ import annotations

import os
import shlex
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from dagy_git.cli.commands.hooks import HOOKS, hook_text

from conftest import BROKEN, ORDER_ETL, ROOT, git, run_cli, write

FLOW = "flows/orders/order_etl.py"


def attempt(repo: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run git the way a user does, hooks included; don't fail on a non-zero exit."""
    return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=False)


@pytest.fixture
def hooked(repo: Path) -> Path:
    proc = run_cli("install-hooks", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    return repo


def test_shipped_hooks_are_the_canonical_ones() -> None:
    for name in HOOKS:
        canonical = ROOT / "hooks" / name
        assert (ROOT / "dagy_git" / "templates" / name).read_bytes() == canonical.read_bytes()
        assert os.access(canonical, os.X_OK), f"hooks/{name} is not executable"
        assert canonical.read_text().startswith("#!/usr/bin/env bash\n")


def test_install_hooks_installs_executable_hooks_once(repo: Path) -> None:
    proc = run_cli("install-hooks", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    for name in HOOKS:
        path = repo / ".git" / "hooks" / name
        assert path.stat().st_mode & stat.S_IXUSR
        assert path.read_text() == hook_text(name, sys.executable)
        assert (
            f"INSTALL_PYTHON={shlex.quote(Path(sys.executable).as_posix())}\n" in path.read_text()
        )
    again = run_cli("install-hooks", cwd=repo)
    assert again.returncode == 0
    assert again.stderr.count("unchanged") == 2


def test_a_broken_flow_blocks_the_commit_and_a_good_one_passes(hooked: Path) -> None:
    head = git(hooked, "rev-parse", "HEAD")
    write(hooked, "flows/broken.py", BROKEN)
    git(hooked, "add", "flows/broken.py")
    blocked = attempt(hooked, "commit", "-m", "broken flow")
    assert blocked.returncode != 0
    assert (
        "flows/broken.py:12:12: cannot resolve the @task method 'mystery'"
        in blocked.stdout + blocked.stderr
    )
    assert "commit blocked" in blocked.stderr
    assert git(hooked, "rev-parse", "HEAD") == head
    write(hooked, "flows/broken.py", BROKEN.replace("data.mystery()", "data"))
    write(hooked, "flows/with space.py", ORDER_ETL)
    git(hooked, "add", "-A")
    ok = attempt(hooked, "commit", "-m", "good flows")
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert git(hooked, "rev-parse", "HEAD") != head


def test_a_broken_manifest_blocks_the_commit(hooked: Path) -> None:
    write(hooked, FLOW, ORDER_ETL)
    write(
        hooked,
        "flows/orders/dagy.toml",
        '[[deployments]]\nname = "bad name!"\nflow = "order_etl.py"\n',
    )
    git(hooked, "add", "-A")
    blocked = attempt(hooked, "commit", "-m", "bad manifest")
    assert blocked.returncode != 0
    assert "flows/orders/dagy.toml:" in blocked.stdout + blocked.stderr


def test_a_code_change_to_a_deployed_version_blocks_the_commit(hooked: Path) -> None:
    write(hooked, FLOW, ORDER_ETL)
    git(hooked, "add", "-A")
    assert attempt(hooked, "commit", "-m", "add flow").returncode == 0
    assert run_cli("deploy", FLOW, cwd=hooked).returncode == 0
    changed = ORDER_ETL.replace("return load(clean)", "out = load(clean)\n    return out")
    write(hooked, FLOW, changed)
    git(hooked, "add", "-A")
    blocked = attempt(hooked, "commit", "-m", "same version, new code")
    assert blocked.returncode != 0
    assert "order_etl@2.1.0 is already registered with other code" in blocked.stderr
    write(hooked, FLOW, changed.replace('version="2.1.0"', 'version="2.2.0"'))
    git(hooked, "add", "-A")
    ok = attempt(hooked, "commit", "-m", "new version")
    assert ok.returncode == 0, ok.stderr


def test_unstaged_changes_are_pointed_out(hooked: Path) -> None:
    write(hooked, FLOW, ORDER_ETL)
    git(hooked, "add", "-A")
    write(hooked, FLOW, ORDER_ETL + "\n# not staged\n")
    proc = attempt(hooked, "commit", "-m", "partly staged")
    assert proc.returncode == 0, proc.stderr
    assert "also have unstaged changes" in proc.stderr
    assert FLOW in proc.stderr


def test_a_commit_without_flows_runs_nothing(hooked: Path) -> None:
    write(hooked, "notes.txt", "hello\n")
    git(hooked, "add", "-A")
    proc = attempt(hooked, "commit", "-m", "notes")
    assert proc.returncode == 0
    assert proc.stderr == ""


def test_an_existing_hook_is_not_overwritten_without_force(repo: Path) -> None:
    mine = repo / ".git" / "hooks" / "pre-commit"
    mine.write_text("#!/bin/sh\necho my own hook\n")
    mine.chmod(0o755)
    proc = run_cli("install-hooks", cwd=repo)
    assert proc.returncode == 1
    assert "not dagy-git's" in proc.stderr and "--force" in proc.stderr
    assert mine.read_text() == "#!/bin/sh\necho my own hook\n"
    assert not (repo / ".git" / "hooks" / "pre-push").exists(), "a refused install wrote"
    forced = run_cli("install-hooks", "--force", cwd=repo)
    assert forced.returncode == 0, forced.stderr
    assert mine.read_text() == hook_text("pre-commit", sys.executable)
    assert (
        repo / ".git" / "hooks" / "pre-commit.orig"
    ).read_text() == "#!/bin/sh\necho my own hook\n"


def test_an_older_dagy_git_hook_is_updated(repo: Path) -> None:
    hook = repo / ".git" / "hooks" / "pre-commit"
    hook.write_text("#!/usr/bin/env bash\n# dagy-git hook: pre-commit\n# an older version\n")
    proc = run_cli("install-hooks", cwd=repo)
    assert proc.returncode == 0, proc.stderr
    assert "updated" in proc.stderr
    assert hook.read_text() == hook_text("pre-commit", sys.executable)


def test_core_hooks_path_is_honoured(repo: Path) -> None:
    git(repo, "config", "core.hooksPath", ".githooks")
    assert run_cli("install-hooks", cwd=repo).returncode == 0
    assert (repo / ".githooks" / "pre-commit").is_file()
    write(repo, "flows/broken.py", BROKEN)
    git(repo, "add", "-A")
    assert attempt(repo, "commit", "-m", "broken").returncode != 0


def test_pre_push_shows_what_would_deploy_and_blocks_only_on_errors(
    hooked: Path, bare_remote: Path
) -> None:
    git(hooked, "remote", "add", "origin", str(bare_remote))
    write(hooked, FLOW, ORDER_ETL)
    git(hooked, "add", "-A")
    assert attempt(hooked, "commit", "-m", "add flow").returncode == 0
    pushed = attempt(hooked, "push", "origin", "main")
    assert pushed.returncode == 0, pushed.stderr
    assert "what deploying this work tree would do" in pushed.stderr
    assert "order_etl@2.1.0" in pushed.stderr
    assert "1 would deploy, 0 unchanged" in pushed.stderr
    # the dry run wrote and pushed nothing
    assert git(bare_remote, "branch", "--list", "dagy/registry") == ""
    assert git(hooked, "branch", "--list", "dagy/registry") == ""
    # a broken flow (committed past the pre-commit hook) would fail CI's deploy: blocked
    write(hooked, "flows/broken.py", BROKEN)
    git(hooked, "add", "-A")
    git(hooked, "commit", "-q", "--no-verify", "-m", "broken, past the pre-commit hook")
    blocked = attempt(hooked, "push", "origin", "main")
    assert blocked.returncode != 0
    assert "push blocked" in blocked.stderr
    # pushing only a tag deploys nothing, so the hook stays quiet
    git(hooked, "tag", "v1", "HEAD~1")
    tag_push = attempt(hooked, "push", "origin", "v1")
    assert tag_push.returncode == 0, tag_push.stderr
    assert "dagy-git" not in tag_push.stderr


def test_deleting_a_flow_a_manifest_still_names_blocks_the_commit(hooked: Path) -> None:
    write(hooked, FLOW, ORDER_ETL)
    write(hooked, "dagy.toml", f'[[deployments]]\nname = "prod"\nflow = "{FLOW}"\n')
    git(hooked, "add", "-A")
    assert attempt(hooked, "commit", "-m", "flow and manifest").returncode == 0
    head = git(hooked, "rev-parse", "HEAD")
    git(hooked, "rm", "-q", FLOW)
    blocked = attempt(hooked, "commit", "-m", "delete the flow only")
    assert blocked.returncode != 0
    assert "dagy.toml:" in blocked.stdout + blocked.stderr
    assert git(hooked, "rev-parse", "HEAD") == head
