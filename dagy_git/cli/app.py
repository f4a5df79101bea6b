"""The `dagy-git` command line: the only module that imports typer.

Each command parses its options and calls a plain function in `dagy_git.commands`, which
calls the core and renders the result. Exit codes: 0 ok, 1 a validation error or a refused
operation, 2 a usage error, 3 an unexpected failure (`--debug` shows its traceback).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from dagy_git import __version__
from dagy_git.cli import runs_commands
from dagy_git.cli.drafts_app import drafts_app
from dagy_git.cli.options import JsonOpt, ParamOpt, RemoteOpt, TagOpt, cwd

app = typer.Typer(
    name="dagy-git",
    help="A git-native registry for Dagy flows: static specs, code hashes, versions as git tags.",
    no_args_is_help=True,
    add_completion=True,
    context_settings={"help_option_names": ["-h", "--help"]},
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

NamespaceOpt = Annotated[
    str | None,
    typer.Option("--namespace", metavar="NS", help="Explicit namespace (default: derived)."),
]
FormatOpt = Annotated[
    str,
    typer.Option(
        "--format",
        metavar="FORMAT",
        help="table (aligned columns; rich on a terminal) or tsv (tab-separated, no header).",
    ),
]


def _format(fmt: str) -> str:
    """`--format`, checked: a usage error (exit 2) names the choices."""
    from dagy_git.cli.output import FORMATS

    if fmt not in FORMATS:
        raise typer.BadParameter(
            f"{fmt!r} is not one of {', '.join(FORMATS)}", param_hint="--format"
        )
    return fmt


def _version_callback(value: bool) -> None:
    if value:
        sys.stdout.write(f"dagy-git {__version__}\n")
        raise typer.Exit(0)


@app.callback()
def _root(
    debug: Annotated[
        bool, typer.Option("--debug", help="Show tracebacks of unexpected errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_version_callback, is_eager=True, help="Print the version."
        ),
    ] = False,
) -> None:
    """A git-native registry for Dagy flows."""


@app.command()
def init() -> None:
    """Write a dagy.toml if missing and create the registry branch."""
    from dagy_git.cli.commands import init as cmd

    raise typer.Exit(cmd.run(cwd()))


@app.command()
def spec(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="PATH[:FUNCTION]", help="Flow files (default: every flow)."),
    ] = None,
    namespace: NamespaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Print each flow's canonical spec, code_hash, source_file_hash and namespace."""
    from dagy_git.cli.commands import spec as cmd

    raise typer.Exit(
        cmd.run(list(targets or []), namespace=namespace, json_out=json_out, cwd=cwd())
    )


@app.command()
def validate(
    paths: Annotated[
        list[str] | None,
        typer.Argument(metavar="PATH", help="Files to check (default: the whole repository)."),
    ] = None,
    strict: Annotated[
        bool, typer.Option("--strict", help="Fail on warnings too (approximate specs).")
    ] = False,
    json_out: Annotated[
        bool,
        typer.Option("--json", help="Print an array of {path, line, col, level, message, hint}."),
    ] = False,
    output_format: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="text (path:line:col: message), json, or github (workflow annotations).",
        ),
    ] = "text",
) -> None:
    """Check flow files and manifests; print each problem once, with its level and hint."""
    from dagy_git.cli.commands import validate as cmd

    raise typer.Exit(
        cmd.run(
            list(paths or []), cwd(), strict=strict, json_out=json_out, output_format=output_format
        )
    )


@app.command()
def build(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="PATH[:FUNCTION]", help="Flows to build (default: all)."),
    ] = None,
    out: Annotated[Path, typer.Option("--out", metavar="DIR", help="Output folder.")] = Path(
        "dist"
    ),
    namespace: NamespaceOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Build reproducible artifacts: dist/<flow>-<version>.zip with metadata.json and source."""
    from dagy_git.cli.commands import build as cmd

    raise typer.Exit(
        cmd.run(list(targets or []), out=out, namespace=namespace, json_out=json_out, cwd=cwd())
    )


@app.command()
def deploy(
    targets: Annotated[
        list[str] | None,
        typer.Argument(metavar="TARGET", help="PATH[:FUNCTION] or ARTIFACT.zip."),
    ] = None,
    all_: Annotated[
        bool, typer.Option("--all", help="Every manifest deployment and every flow.")
    ] = False,
    deployment: Annotated[
        str | None, typer.Option("--deployment", metavar="NAME", help="Deployment name.")
    ] = None,
    namespace: NamespaceOpt = None,
    flow_name: Annotated[
        str | None, typer.Option("--flow-name", metavar="NAME", help="Override the flow name.")
    ] = None,
    flow_version: Annotated[
        str | None, typer.Option("--flow-version", metavar="VERSION", help="Override the version.")
    ] = None,
    tag: TagOpt = None,
    schedule: Annotated[
        str | None,
        typer.Option("--schedule", metavar="CRON", help="Cron schedule of the deployment."),
    ] = None,
    param: ParamOpt = None,
    force: Annotated[
        bool, typer.Option("--force", help="Deploy even when nothing changed.")
    ] = False,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Plan only; write nothing.")] = False,
    push: Annotated[
        bool, typer.Option("--push", help="Start from the remote registry and push atomically.")
    ] = False,
    remote: RemoteOpt = None,
    no_atomic: Annotated[
        bool, typer.Option("--no-atomic", help="For servers without atomic push.")
    ] = False,
    keep_going: Annotated[
        bool,
        typer.Option(
            "--keep-going", help="Deploy the flows that build; list the rest, then exit 1."
        ),
    ] = False,
    prune: Annotated[
        bool,
        typer.Option(
            "--prune", help="With --all: retire deployments no manifest declares any more."
        ),
    ] = False,
    json_out: JsonOpt = False,
    quiet: Annotated[
        bool,
        typer.Option("-q", "--quiet", help="Print nothing but errors (the exit code says it)."),
    ] = False,
    changed_only: Annotated[
        bool,
        typer.Option("--changed-only", help="List only the targets that changed (table only)."),
    ] = False,
) -> None:
    """Deploy flows whose code_hash changed; skip the rest."""
    from dagy_git.cli.commands import deploy as cmd

    if all_ == bool(targets):
        raise typer.BadParameter(
            "name flows to deploy (PATH[:FUNCTION] or ARTIFACT.zip), or pass --all"
        )
    raise typer.Exit(
        cmd.run(
            list(targets or []),
            all_=all_,
            deployment=deployment,
            namespace=namespace,
            flow_name=flow_name,
            flow_version=flow_version,
            tags=list(tag or []),
            schedule=schedule,
            params=list(param or []),
            force=force,
            dry_run=dry_run,
            push=push,
            remote=remote,
            atomic=not no_atomic,
            json_out=json_out,
            cwd=cwd(),
            quiet=quiet,
            changed_only=changed_only,
            keep_going=keep_going,
            prune=prune,
        )
    )


@app.command("list")
def list_(
    namespace: Annotated[
        str | None, typer.Option("--namespace", metavar="NS", help="This namespace and below.")
    ] = None,
    tag: TagOpt = None,
    any_tag: Annotated[
        list[str] | None,
        typer.Option("--any-tag", metavar="KEY=VALUE", help="KEY=VALUE; any of them (OR)."),
    ] = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """List registered flow versions, filtered by namespace and tags."""
    from dagy_git.cli.commands import query as cmd

    raise typer.Exit(
        cmd.list_flows(
            namespace, list(tag or []), list(any_tag or []), json_out, cwd(), _format(fmt)
        )
    )


@app.command()
def show(
    flow: Annotated[
        str, typer.Argument(metavar="FLOW[@VERSION]", help="A bare FLOW is its latest deploy.")
    ],
    json_out: JsonOpt = False,
) -> None:
    """Show one flow version: record, tags, spec."""
    from dagy_git.cli.commands import query as cmd

    raise typer.Exit(cmd.show(flow, json_out, cwd()))


@app.command()
def log(
    flow: Annotated[
        str | None,
        typer.Argument(
            metavar="FLOW", help="Only this flow and its deployments (default: everything)."
        ),
    ] = None,
    flow_version: Annotated[
        str | None,
        typer.Option("--flow-version", metavar="VERSION", help="Only this version of FLOW."),
    ] = None,
    deployment: Annotated[
        str | None,
        typer.Option("--deployment", metavar="NAME", help="Only this deployment's history."),
    ] = None,
    n: Annotated[
        int | None, typer.Option("-n", "--max-count", metavar="N", help="At most N entries.", min=1)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since", metavar="DATE", help="Only entries after DATE (2026-01-31, '2 weeks ago')."
        ),
    ] = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """The registry's history, newest first, saying what changed in each entry."""
    from dagy_git.cli.commands import query as cmd

    raise typer.Exit(
        cmd.log(flow, flow_version, deployment, n, since, json_out, _format(fmt), cwd())
    )


@app.command()
def deployments(
    names: Annotated[
        list[str] | None,
        typer.Argument(metavar="NAME", help="Only these deployments (default: every one)."),
    ] = None,
    tag: TagOpt = None,
    json_out: JsonOpt = False,
    fmt: FormatOpt = "table",
) -> None:
    """List deployments, filtered by name and tags, with their schedules in words."""
    from dagy_git.cli.commands import query as cmd

    raise typer.Exit(
        cmd.list_deployments(list(tag or []), json_out, cwd(), _format(fmt), list(names or []))
    )


@app.command()
def tag(
    flow: Annotated[str, typer.Argument(metavar="FLOW@VERSION", help="The flow version to tag.")],
    pairs: Annotated[
        list[str] | None, typer.Argument(metavar="KEY=VALUE", help="Tags to set.")
    ] = None,
    unset: Annotated[
        list[str] | None,
        typer.Option("--unset", metavar="KEY", help="Tag key to remove; repeatable."),
    ] = None,
    push: Annotated[bool, typer.Option("--push", help="Push the change to the remote.")] = False,
    remote: RemoteOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Set or remove dagy tags of a registered flow version (one registry commit)."""
    from dagy_git.cli.commands import tag as cmd

    raise typer.Exit(
        cmd.run(flow, list(pairs or []), list(unset or []), push, remote, json_out, cwd())
    )


@app.command()
def retire(
    names: Annotated[list[str], typer.Argument(metavar="NAME", help="Deployments to retire.")],
    push: Annotated[bool, typer.Option("--push", help="Push the change to the remote.")] = False,
    remote: RemoteOpt = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Say what would go; write nothing.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Remove deployments from the registry (one commit; their history stays in `git log`)."""
    from dagy_git.cli.commands import retire as cmd

    raise typer.Exit(cmd.run(list(names), push, remote, dry_run, json_out, cwd()))


@app.command()
def push(
    remote: RemoteOpt = None,
    no_atomic: Annotated[
        bool, typer.Option("--no-atomic", help="For servers without atomic push.")
    ] = False,
) -> None:
    """Push the registry branch and version tags to the remote."""
    from dagy_git.cli.commands import sync as cmd

    raise typer.Exit(cmd.push(remote, not no_atomic, cwd()))


@app.command()
def pull(
    remote: RemoteOpt = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help="When diverged: keep the local-only registry commits on a backup ref "
            "and take the remote's registry.",
        ),
    ] = False,
) -> None:
    """Fetch the registry branch and version tags (moved ones included) from the remote."""
    from dagy_git.cli.commands import sync as cmd

    raise typer.Exit(cmd.pull(remote, cwd(), force=force))


@app.command()
def guard(
    paths: Annotated[
        list[str] | None,
        typer.Argument(metavar="PATH", help="Flow files to check (default: every flow)."),
    ] = None,
) -> None:
    """Refuse a code change to a flow version already registered (mutable versions excepted)."""
    from dagy_git.cli.commands import guard as cmd

    raise typer.Exit(cmd.run(list(paths or []), cwd()))


@app.command()
def schema() -> None:
    """Print the JSON Schema of dagy.toml (for editors: see docs/configuration.md)."""
    from dagy_git.cli.commands import schema as cmd

    raise typer.Exit(cmd.run())


@app.command("install-hooks")
def install_hooks(
    force: Annotated[
        bool, typer.Option("--force", help="Replace hooks not dagy-git's (kept as <hook>.orig).")
    ] = False,
) -> None:
    """Install the plain git pre-commit and pre-push hooks into this repository."""
    from dagy_git.cli.commands import hooks as cmd

    raise typer.Exit(cmd.run(force, cwd()))


@app.command("action-deploy", hidden=True)
def action_deploy() -> None:
    """The GitHub Action's deploy: INPUT_* in; step outputs, job summary, annotations out."""
    import os

    from dagy_git.cli import github as cmd

    raise typer.Exit(cmd.run(os.environ, cwd()))


@app.command()
def serve(
    host: Annotated[
        str, typer.Option("--host", metavar="HOST", help="Address to bind (default: loopback).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", metavar="PORT", help="Port to listen on.")] = 8765,
    push: Annotated[
        bool, typer.Option("--push", help="Push every write to the remote, like deploy --push.")
    ] = False,
    token_file: Annotated[
        Path | None,
        typer.Option(
            "--token-file",
            metavar="FILE",
            help="File holding the write token (default: $DAGY_GIT_TOKEN; none: read-only).",
        ),
    ] = None,
    read_token_file: Annotated[
        Path | None,
        typer.Option(
            "--read-token-file",
            metavar="FILE",
            help="File holding a token reads need too (default: $DAGY_GIT_READ_TOKEN).",
        ),
    ] = None,
    max_body: Annotated[
        int | None,
        typer.Option("--max-body", metavar="BYTES", min=1024, help="Largest request body."),
    ] = None,
    run_workers: Annotated[
        int,
        typer.Option("--run-workers", metavar="N", min=1, help="Runs of POST /runs at once."),
    ] = 2,
    worker: Annotated[
        bool, typer.Option("--worker", help="Also fire deployments' schedules (dagy-git worker).")
    ] = False,
) -> None:
    """Serve the HTTP API and the Flows UI over this repository's registry (dagy-git[server])."""
    from dagy_git.cli.commands import serve as cmd

    raise typer.Exit(
        cmd.run(
            host,
            port,
            push,
            token_file,
            read_token_file,
            max_body,
            cwd(),
            run_workers=run_workers,
            worker=worker,
        )
    )


app.add_typer(drafts_app)
runs_commands.register(app)


def main(argv: list[str] | None = None) -> None:
    """Console-script entry point: run the app, turning errors into messages and exit codes."""
    from dagy_git.cli.errors import debug_requested, exit_codes
    from dagy_git.cli.output import print_json
    from dagy_git.errors import DagyError

    args = sys.argv[1:] if argv is None else argv

    def json_error(exc: DagyError) -> None:
        if "--json" in args:  # scripts parse stdout: give them the error, not nothing
            error = {"message": str(exc), "hint": exc.hint, "path": exc.path, "line": exc.line}
            print_json({"error": error})

    from dagy_git.cli.progress import progress_bar

    quiet = "--quiet" in args or "-q" in args
    with exit_codes(debug=debug_requested(args), on_error=json_error), progress_bar(not quiet):
        app(args=args, prog_name="dagy-git")
