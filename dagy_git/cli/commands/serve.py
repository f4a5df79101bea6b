"""`dagy-git serve`: the HTTP API and the Flows UI over this repository's registry."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from dagy_git.cli.output import note
from dagy_git.errors import DagyError
from dagy_git.workspace import open_workspace


def run(
    host: str,
    port: int,
    push: bool,
    token_file: Path | None,
    read_token_file: Path | None,
    max_body: int | None,
    cwd: Path,
) -> int:
    """Serve until interrupted; the web stack is imported only here (dagy-git[server])."""
    try:
        from dagy_git.server.app import create_app, run_server
        from dagy_git.server.auth import READ_TOKEN_ENV, TOKEN_ENV, token_from_env
        from dagy_git.server.auth import read_token_file as read_token
        from dagy_git.server.limits import DEFAULT_MAX_BODY

        if importlib.util.find_spec("uvicorn") is None:
            raise ImportError(name="uvicorn")
    except ImportError as exc:
        raise DagyError(
            f"`dagy-git serve` needs the server extra ({exc.name or exc} is not installed)",
            hint="pip install 'dagy-git[server]'",
        ) from None
    ws = open_workspace(cwd)
    token = read_token(token_file) if token_file else token_from_env(TOKEN_ENV)
    read = read_token(read_token_file) if read_token_file else token_from_env(READ_TOKEN_ENV)
    app = create_app(
        ws.settings, token=token, read_token=read, push=push, max_body=max_body or DEFAULT_MAX_BODY
    )
    shown = f"[{host}]" if ":" in host else host
    note(f"dagy-git serve: registry {ws.settings.registry_branch} of {ws.root}")
    note(f"  API and Flows UI on http://{shown}:{port}/ (OpenAPI: /docs)")
    if token is None:
        note(f"  read-only: set {TOKEN_ENV} or pass --token-file to allow writes")
    if read is not None:
        note("  reads need the read token")
    if push:
        note(f"  every write is pushed to {ws.settings.remote}")
    run_server(app, host, port)
    return 0
