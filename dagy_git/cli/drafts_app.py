"""`dagy-git drafts …`: the typer sub-app for DAG drafts (commands in `commands/drafts.py`)."""

from __future__ import annotations

from typing import Annotated

import typer

from dagy_git.cli.options import JsonOpt, RemoteOpt, TagOpt, cwd

drafts_app = typer.Typer(
    name="drafts",
    help="DAG drafts (name, canvas JSON, tags) on the registry branch.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
DraftIdArg = Annotated[str, typer.Argument(metavar="ID", help="The draft's id.")]
PushOpt = Annotated[bool, typer.Option("--push", help="Push the change to the remote.")]
CanvasOpt = Annotated[
    str | None,
    typer.Option("--canvas", metavar="FILE", help="Canvas JSON from FILE ('-': stdin)."),
]


@drafts_app.command("list")
def drafts_list(tag: TagOpt = None, json_out: JsonOpt = False) -> None:
    """List drafts, filtered by their tags (all must match)."""
    from dagy_git.cli.commands import drafts as cmd

    raise typer.Exit(cmd.list_(list(tag or []), json_out, cwd()))


@drafts_app.command("show")
def drafts_show(draft_id: DraftIdArg, json_out: JsonOpt = False) -> None:
    """Show one draft."""
    from dagy_git.cli.commands import drafts as cmd

    raise typer.Exit(cmd.show(draft_id, json_out, cwd()))


@drafts_app.command("create")
def drafts_create(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The draft's name.")],
    canvas: CanvasOpt = None,
    tag: TagOpt = None,
    push: PushOpt = False,
    remote: RemoteOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Save a new draft (one registry commit) and print its id."""
    from dagy_git.cli.commands import drafts as cmd

    raise typer.Exit(cmd.create(name, canvas, list(tag or []), push, remote, json_out, cwd()))


@drafts_app.command("update")
def drafts_update(
    draft_id: DraftIdArg,
    name: Annotated[str | None, typer.Option("--name", metavar="NAME", help="A new name.")] = None,
    canvas: CanvasOpt = None,
    tag: Annotated[
        list[str] | None,
        typer.Option("--tag", metavar="KEY=VALUE", help="Replace the tags; repeat for more."),
    ] = None,
    push: PushOpt = False,
    remote: RemoteOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Replace a draft's name, canvas or tags (one registry commit)."""
    from dagy_git.cli.commands import drafts as cmd

    raise typer.Exit(cmd.update(draft_id, name, canvas, tag, push, remote, json_out, cwd()))


@drafts_app.command("delete")
def drafts_delete(
    draft_id: DraftIdArg, push: PushOpt = False, remote: RemoteOpt = None, json_out: JsonOpt = False
) -> None:
    """Remove a draft (one registry commit; its history stays)."""
    from dagy_git.cli.commands import drafts as cmd

    raise typer.Exit(cmd.delete(draft_id, push, remote, json_out, cwd()))
