"""Shared fixtures: isolated git config, real temporary repositories and bare remotes.

Fixtures drive git with plain `subprocess`, never through the code under test.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(autouse=True, scope="session")
def _isolated_git(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Give every test the same, empty git configuration and fixed identities."""
    home = tmp_path_factory.mktemp("home")
    gitconfig = home / ".gitconfig"
    gitconfig.write_text(
        "[user]\n\tname = Test User\n\temail = test@example.com\n"
        '[init]\n\tdefaultBranch = main\n[protocol "file"]\n\tallow = always\n'
    )
    saved = dict(os.environ)
    os.environ.update(
        {
            "HOME": str(home),
            "GIT_CONFIG_GLOBAL": str(gitconfig),
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_AUTHOR_NAME": "Test User",
            "GIT_AUTHOR_EMAIL": "test@example.com",
            "GIT_COMMITTER_NAME": "Test User",
            "GIT_COMMITTER_EMAIL": "test@example.com",
            "PRE_COMMIT_HOME": str(home / ".cache" / "pre-commit"),
        }
    )
    for var in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        os.environ.pop(var, None)
    yield
    os.environ.clear()
    os.environ.update(saved)


def git(cwd: Path, *args: str, env: dict[str, str] | None = None) -> str:
    """Run git in `cwd` and return its stdout (stripped); fail the test on error."""
    proc = subprocess.run(
        ["git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
    )
    if proc.returncode != 0:
        raise AssertionError(f"git {' '.join(args)} failed: {proc.stderr}")
    return proc.stdout.strip()


def write(root: Path, rel: str, text: str) -> Path:
    """Write a dedented text file under `root` (creating folders) and return its path."""
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text).lstrip("\n"))
    return path


def commit_all(repo: Path, message: str = "change") -> str:
    """Stage everything and commit; return the new HEAD."""
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)
    return git(repo, "rev-parse", "HEAD")


def run_cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run `dagy-git` as a whole process, the way a user types it."""
    return subprocess.run(
        [sys.executable, "-m", "dagy_git", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        input=input,
        env={**os.environ, **(env or {})},
        check=False,
    )


ORDER_ETL = """
from dagy import flow, task


@task
def extract(source: str) -> list:
    ...


@task
def transform(records: list) -> list:
    ...


@task
def load(records: list) -> dict:
    ...


@flow(name="order_etl", version="2.1.0")
def order_etl(source: str = "s3://data/orders/"):
    raw = extract(source)
    clean = transform(raw)
    return load(clean)
"""


def snapshot_of_this_checkout(dest: Path) -> str:
    """Commit what pip needs to install dagy-git plus the hook manifest; return the commit."""
    dest.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", ".pre-commit-hooks.yaml"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(
        ROOT / "dagy_git", dest / "dagy_git", ignore=shutil.ignore_patterns("__pycache__")
    )
    git(dest, "init", "-q")
    git(dest, "add", "-A")
    git(dest, "commit", "-q", "-m", "snapshot")
    return git(dest, "rev-parse", "HEAD")


# A flow that calls a @task method on an object of unknown class: the analyser cannot say
# which task runs, so validate and deploy refuse it.
BROKEN = """
from dagy import flow, task


@task
def extract() -> list:
    ...


@flow(name="broken", version="1.0")
def broken():
    data = extract()
    return data.mystery()


class Jobs:
    @task
    def mystery(self): ...
"""


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """An empty git repository with one initial commit."""
    path = tmp_path / "repo"
    path.mkdir()
    git(path, "init", "-q")
    write(path, "README.md", "demo\n")
    commit_all(path, "initial")
    return path


@pytest.fixture
def bare_remote(tmp_path: Path) -> Path:
    """An empty bare repository to push to."""
    path = tmp_path / "remote.git"
    git(tmp_path, "init", "-q", "--bare", str(path))
    return path


_GIT_FIXTURES = {"repo", "bare_remote"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that drives real git as `git`, so `-m "not git"` runs the fast
    unit tests alone (CI runs both)."""
    drivers = {git, commit_all, run_cli, snapshot_of_this_checkout}
    for item in items:
        module = getattr(item, "module", None)
        uses_git = _GIT_FIXTURES & set(getattr(item, "fixturenames", ()))
        if uses_git or any(v in drivers for v in vars(module).values() if callable(v)):
            item.add_marker(pytest.mark.git)
