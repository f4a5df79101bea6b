"""`dagy-git serve`: the HTTP API and the Flows UI over this repository's registry."""

from __future__ import annotations

import importlib.util
import signal
import threading
from pathlib import Path

from dagy_git.cli.output import note
from dagy_git.errors import DagyError
from dagy_git.workspace import Workspace, open_workspace


def run(
    host: str,
    port: int,
    push: bool,
    token_file: Path | None,
    read_token_file: Path | None,
    max_body: int | None,
    cwd: Path,
    *,
    run_workers: int = 2,
    worker: bool = False,
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
        ws.settings,
        token=token,
        read_token=read,
        push=push,
        max_body=max_body or DEFAULT_MAX_BODY,
        run_workers=run_workers,
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
    stop = threading.Event()
    if worker:
        note("  the worker fires deployments' schedules (runs at /runs)")
        threading.Thread(
            target=_schedules, args=(ws, stop), name="dagy worker", daemon=True
        ).start()
    # uvicorn stops on SIGTERM, then raises it again: as an exit, so the cleanup below runs.
    signal.signal(signal.SIGTERM, _exit_on_term)
    try:
        run_server(app, host, port)
    finally:
        stop.set()  # scheduled runs in progress are cancelled
        pool = getattr(app.state, "run_pool", None)
        if pool is not None:
            pool.stop()  # so are the API's runs, and the queued ones never start
    return 0


def _exit_on_term(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)


def _schedules(ws: Workspace, stop: threading.Event) -> None:
    """`serve --worker`: the worker loop, with its own connection to the runs store."""
    from dagy_git.runs import launch
    from dagy_git.runs.worker import work

    def report(message: str) -> None:
        note(f"worker: {message}")

    with launch.open_store(ws) as store:
        work(ws, store, report=report, stop=stop)
