"""The `run`, `runs` and `worker` commands of `dagy-git`, registered on the main app.

Kept apart from `app.py` so each file stays small; the commands follow the same rules:
parse, call `cli/commands/`, exit with the code it returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from dagy_git.cli.options import JsonOpt, ParamOpt, cwd

RunsDbOpt = Annotated[
    Path | None,
    typer.Option(
        "--runs-db",
        metavar="PATH",
        help="The runs database (default: runs_db from dagy.toml, else .git/dagy/runs.sqlite3).",
    ),
]


def run_(
    flow: Annotated[
        str | None,
        typer.Argument(metavar="FLOW[@VERSION]", help="A bare FLOW is its latest deploy."),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option("--deployment", metavar="NAME", help="Run a deployment's pinned version."),
    ] = None,
    param: ParamOpt = None,
    from_worktree: Annotated[
        bool,
        typer.Option("--from-worktree", help="Run the work tree's file, not the registered code."),
    ] = False,
    timeout: Annotated[
        float | None,
        typer.Option("--timeout", metavar="SECONDS", help="Stop the run after this long."),
    ] = None,
    runs_db: RunsDbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Run a registered flow version in a child process and record the run."""
    from dagy_git.cli.commands import run as cmd

    if (flow is None) == (deployment is None):
        raise typer.BadParameter("name a flow (FLOW[@VERSION]) or --deployment NAME")
    raise typer.Exit(
        cmd.run(
            flow,
            deployment,
            list(param or []),
            from_worktree,
            timeout,
            runs_db,
            json_out,
            cwd(),
        )
    )


RUNS_APP = typer.Typer(
    help="List runs, newest first (`runs show RUN_ID` for one).",
    invoke_without_command=True,
    no_args_is_help=False,
    rich_markup_mode=None,
)


@RUNS_APP.callback()
def runs(
    ctx: typer.Context,
    flow: Annotated[str | None, typer.Option("--flow", metavar="NAME", help="Only this flow.")] = (
        None
    ),
    version: Annotated[
        str | None,
        typer.Option("--flow-version", metavar="VERSION", help="Only this flow version."),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option("--deployment", metavar="NAME", help="Only runs of this deployment."),
    ] = None,
    state: Annotated[
        str | None, typer.Option("--state", metavar="STATE", help="Only runs in this state.")
    ] = None,
    n: Annotated[
        int, typer.Option("-n", "--max-count", metavar="N", help="At most N runs.", min=1)
    ] = 20,
    runs_db: RunsDbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """List runs, newest first, filtered by flow, version, deployment and state."""
    from dagy_git.cli.commands import run as cmd

    if ctx.invoked_subcommand is not None:
        ctx.obj = runs_db
        return
    raise typer.Exit(cmd.list_runs(flow, version, deployment, state, n, runs_db, json_out, cwd()))


@RUNS_APP.command("show")
def runs_show(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The run to show.")],
    runs_db: RunsDbOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Show one run: what ran, its state, task runs and log."""
    from dagy_git.cli.commands import run as cmd

    raise typer.Exit(cmd.show_run(run_id, runs_db or ctx.obj, json_out, cwd()))


def worker(
    catch_up: Annotated[
        bool,
        typer.Option("--catch-up", help="Run the slots missed while no worker ran."),
    ] = False,
    once: Annotated[bool, typer.Option("--once", help="Fire what is due now, then exit.")] = False,
    concurrency: Annotated[
        int, typer.Option("--concurrency", metavar="N", help="Runs at once.", min=1)
    ] = 2,
    runs_db: RunsDbOpt = None,
) -> None:
    """Fire each deployment's cron schedule, once per scheduled time, and run it."""
    from dagy_git.cli.commands import worker as cmd

    raise typer.Exit(cmd.run(catch_up, once, concurrency, runs_db, cwd()))


def register(app: typer.Typer) -> None:
    """Add `run`, `runs` (with `runs show`) and `worker` to `app`."""
    app.command("run")(run_)
    app.add_typer(RUNS_APP, name="runs")
    app.command("worker")(worker)
