"""`dagy-git serve` as a user runs it, and the light CLI that never loads the web stack."""

from __future__ import annotations

import json
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from conftest import commit_all, run_cli, write
from example_registry import AUTH, TOKEN, live_server, make_registry

WEB = ("fastapi", "starlette", "uvicorn", "jinja2", "pydantic_settings", "httpx")


def call(url: str, method: str = "GET", body: Any = None, headers: dict[str, str] | None = None):  # type: ignore[no-untyped-def]
    """One HTTP request with the standard library: `(status, JSON body)`."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        req.add_header("content-type", "application/json")
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            return resp.status, json.loads(resp.read() or b"null")
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


def test_import_and_other_commands_never_load_the_web_stack(repo: Path) -> None:
    make_registry(repo)
    probe = (
        "import sys\n"
        "import dagy_git\n"
        "from dagy_git.cli.app import main\n"
        "for argv in (['list', '--json'], ['drafts', 'list'], ['show', 'hello'], ['--help']):\n"
        "    try:\n"
        "        main(argv)\n"
        "    except SystemExit:\n"
        "        pass\n"
        f"print(sorted(m for m in sys.modules if m.split('.')[0] in {WEB!r}), file=sys.stderr)\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.strip().splitlines()[-1] == "[]"


def test_serve_answers_over_loopback_and_sees_cli_deploys(repo: Path) -> None:
    make_registry(repo)
    with live_server(repo) as url:
        status, health = call(f"{url}/health")
        assert (status, health["read_only"]) == (200, False)
        status, page = call(f"{url}/flows?tag=team:data-eng&tag=env:prod")
        assert [i["flow_name"] for i in page["items"]] == ["order_etl"]

        write(repo, "hello.py", (repo / "hello.py").read_text().replace('"0.1"', '"0.3"'))
        commit_all(repo, "hello 0.3")
        assert run_cli("deploy", "hello.py", cwd=repo).returncode == 0
        status, versions = call(f"{url}/flows/hello/versions")
        assert [v["flow_version"] for v in versions] == ["0.3", "0.1"]

        status, draft = call(f"{url}/drafts", "POST", {"name": "Live"}, AUTH)
        assert status == 201
        listed = json.loads(run_cli("drafts", "list", "--json", cwd=repo).stdout)
        assert [d["id"] for d in listed] == [draft["id"]]
        spec = json.loads(run_cli("spec", "hello.py", "--json", cwd=repo).stdout)[0]
        body = {
            "flow_spec": {**spec["flow_spec"], "version": "%2F"},
            "source_file_hash": spec["source_file_hash"],
        }
        status, _ = call(f"{url}/flows", "POST", body, AUTH)
        status, detail = call(f"{url}/flows/hello/versions/%252F")
        assert (status, detail["flow_version"]) == (200, "%2F")

        status, doc = call(f"{url}/openapi.json")
        schemas = set(doc["components"]["schemas"])
        assert {
            "FlowRegisterRequest",
            "FlowRegisterResponse",
            "FlowListItem",
            "FlowDetailResponse",
            "DeploymentRequest",
            "DagDraftCreateRequest",
            "DagDraftUpdateRequest",
            "DagDraftResponse",
        } <= schemas


def test_serve_without_a_token_is_read_only(repo: Path) -> None:
    make_registry(repo)
    with live_server(repo, token=None) as url:
        status, err = call(f"{url}/drafts", "POST", {"name": "x"}, AUTH)
        assert status == 403
        assert err["error"]["message"] == "this server is read-only: no write token is configured"


def test_tokens_never_reach_the_log(repo: Path) -> None:
    make_registry(repo)
    log: list[str] = []
    with live_server(repo, log=log) as url:
        status, _ = call(f"{url}/drafts", "POST", {"name": "x"}, {"Authorization": "Bearer guess"})
        assert status == 401
        status, _ = call(f"{url}/drafts", "POST", {"name": "x"}, AUTH)
        assert status == 201
    text = "".join(log)
    assert '"POST /drafts HTTP/1.1" 401' in text and '"POST /drafts HTTP/1.1" 201' in text
    assert "guess" not in text and TOKEN not in text
    assert "read-only" not in text  # it was started with a token, and says so


def test_serve_without_the_server_extra_says_how_to_install_it(repo: Path) -> None:
    # `None` in sys.modules makes `import fastapi` fail as if it were not installed.
    probe = (
        "import sys\n"
        "sys.modules['fastapi'] = None\n"
        "from dagy_git.cli.app import main\n"
        "main(['serve'])\n"
    )
    proc = subprocess.run(
        [sys.executable, "-c", probe], cwd=repo, capture_output=True, text=True, check=False
    )
    assert proc.returncode == 1
    assert proc.stderr == (
        "error: `dagy-git serve` needs the server extra (fastapi is not installed)\n"
        "hint: pip install 'dagy-git[server]'\n"
    )
