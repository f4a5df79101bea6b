"""The dagy-git quickstart: a demo repository of example flows, deployed end to end.

It copies `examples/demo` into a new git repository (in a temporary folder unless you pass
one), then runs the commands a user would type: validate, deploy, deploy again (all
skipped), change a flow and deploy (updated), and the queries `list`, `deployments`, `log`
and `show`. Run it with `bash scripts/quickstart.sh`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

DEMO = Path(__file__).resolve().parent / "demo"
ENV = {
    **os.environ,
    "GIT_AUTHOR_NAME": "Dana Demo",
    "GIT_AUTHOR_EMAIL": "dana@example.com",
    "GIT_COMMITTER_NAME": "Dana Demo",
    "GIT_COMMITTER_EMAIL": "dana@example.com",
}


def step(title: str) -> None:
    print(f"\n=== {title}", flush=True)


def sh(repo: Path, *args: str, check: bool = True) -> None:
    """Run a command in the demo repository, echoing it like a terminal would."""
    print(f"$ {shlex.join(args)}", flush=True)
    cmd = [sys.executable, "-m", "dagy_git", *args[1:]] if args[0] == "dagy-git" else list(args)
    proc = subprocess.run(cmd, cwd=repo, env=ENV, check=False)
    if check and proc.returncode != 0:
        sys.exit(f"quickstart: `{shlex.join(args)}` failed with exit code {proc.returncode}")


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", *args], cwd=repo, env=ENV, check=True, capture_output=True)


def main() -> None:
    base = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp(prefix="dagy-demo-"))
    repo = base / "demo-repo"
    if repo.exists():
        shutil.rmtree(repo)
    shutil.copytree(DEMO, repo)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "Add example flows")
    print(f"demo repository: {repo}")

    step("Validate every flow and manifest (statically: no flow code is run)")
    sh(repo, "dagy-git", "validate")
    step("The spec and code_hash of the order_etl flow")
    sh(repo, "dagy-git", "spec", "pipelines/data/orders/order_etl.py")
    step("First deploy: every flow is registered, one registry commit")
    sh(repo, "dagy-git", "deploy", "--all")
    step("Deploy again: nothing changed, so everything is skipped")
    sh(repo, "dagy-git", "deploy", "--all")

    step("Change one flow (more retries on extract) and deploy: only it is updated")
    flow = repo / "pipelines/data/orders/order_etl.py"
    flow.write_text(flow.read_text().replace("@task\ndef extract", "@task(retries=5)\ndef extract"))
    git(repo, "commit", "-q", "-am", "order_etl: retry extract")
    sh(repo, "dagy-git", "deploy", "--all")

    step("Query the registry")
    sh(repo, "dagy-git", "list")
    sh(repo, "dagy-git", "list", "--namespace", "data", "--tag", "team=data-eng")
    sh(repo, "dagy-git", "deployments", "--tag", "env=prod")
    sh(repo, "dagy-git", "log", "order_etl")
    sh(repo, "dagy-git", "show", "order_etl@2.1.0")
    step("Versions are git tags; the registry is a branch")
    sh(repo, "git", "tag", "--list", "dagy/*")
    sh(repo, "git", "log", "--oneline", "dagy/registry")
    print(f"\nDone. Explore it yourself: cd {repo}")


if __name__ == "__main__":
    main()
