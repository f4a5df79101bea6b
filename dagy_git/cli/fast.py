"""The fast path: `--version`, the hot read commands, `validate` and `deploy`, parsed
without typer.

typer (0.2x) validates every non-flag argument through a pydantic `TypeAdapter`: importing
typer, pydantic and building the adapters costs ~0.1 s per process, more than `show` itself
(bench/README.md, "Start-up"). A hook or a script that asks `show X`, `log X`,
`deployments`, `list --tag k=v` or `validate FILE`, and CI's `deploy --all`, should not
pay for that, so those commands, written the ordinary way, are parsed here by the same
option table the typer app declares (a test compares the two). Anything else — `--help`,
an unknown option, a missing value, another command — returns None and the typer app
parses it, so help texts and usage errors (exit 2) stay typer's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["COMMANDS", "Parsed", "parse", "run"]


@dataclass(frozen=True)
class Spec:
    """What one command accepts: positional arguments and options."""

    positional: tuple[int, int | None]  # (at least, at most)
    flags: frozenset[str] = frozenset({"--json"})
    values: dict[str, str] = field(default_factory=dict)  # option -> its dest name
    repeated: frozenset[str] = frozenset()  # dests that collect a list


_FORMAT = {"--format": "fmt"}
COMMANDS: dict[str, Spec] = {
    "show": Spec((1, 1)),
    "log": Spec(
        (0, 1),
        values={
            "--flow-version": "flow_version",
            "--deployment": "deployment",
            "-n": "n",
            "--max-count": "n",
            "--since": "since",
            **_FORMAT,
        },
    ),
    "deployments": Spec((0, None), values={"--tag": "tag", **_FORMAT}, repeated=frozenset({"tag"})),
    "validate": Spec(
        (0, None),
        flags=frozenset({"--strict", "--json"}),
        values={"--format": "output_format"},  # checked by the command (text, json, github)
    ),
    "list": Spec(
        (0, 0),
        values={"--namespace": "namespace", "--tag": "tag", "--any-tag": "any_tag", **_FORMAT},
        repeated=frozenset({"tag", "any_tag"}),
    ),
    # What CI runs on every push: typer would add ~0.05 s to a no-op `deploy --all`.
    "deploy": Spec(
        (0, None),
        flags=frozenset(
            {
                "--all",
                "--force",
                "--dry-run",
                "--push",
                "--no-atomic",
                "--keep-going",
                "--prune",
                "--json",
                "-q",
                "--quiet",
                "--changed-only",
            }
        ),
        values={
            "--deployment": "deployment",
            "--namespace": "namespace",
            "--flow-name": "flow_name",
            "--flow-version": "flow_version",
            "--tag": "tag",
            "--schedule": "schedule",
            "--param": "param",
            "--remote": "remote",
        },
        repeated=frozenset({"tag", "param"}),
    ),
}


@dataclass
class Parsed:
    """One command line the fast path understood."""

    command: str
    args: list[str]
    flags: set[str]
    values: dict[str, list[str]]

    def one(self, dest: str) -> str | None:
        """The value of a single-valued option (the last one given wins, as in click)."""
        got = self.values.get(dest)
        return got[-1] if got else None


def parse(argv: list[str]) -> Parsed | None:
    """`argv` as one of the fast commands, or None when typer must parse it."""
    if not argv or argv[0] not in COMMANDS:
        return None
    spec = COMMANDS[argv[0]]
    parsed = Parsed(argv[0], [], set(), {})
    rest = iter(argv[1:])
    for word in rest:
        if not word.startswith("-") or word == "-":
            parsed.args.append(word)
            continue
        name, eq, value = word.partition("=")
        if name in spec.flags and not eq:
            parsed.flags.add(name)
        elif name in spec.values:
            if not eq:
                following = next(rest, None)
                if following is None or (following.startswith("-") and following != "-"):
                    return None  # a missing value: typer's usage error
                value = following
            parsed.values.setdefault(spec.values[name], []).append(value)
        else:
            return None  # --help, --, an unknown or a short bundled option
    low, high = spec.positional
    if len(parsed.args) < low or (high is not None and len(parsed.args) > high):
        return None
    n = parsed.one("n")
    if n is not None and not (n.isdigit() and int(n) >= 1):
        return None  # typer says why
    if parsed.one("fmt") not in (None, "table", "tsv"):
        return None  # typer names the choices (cli/output.FORMATS)
    if parsed.command == "deploy" and ("--all" in parsed.flags) == bool(parsed.args):
        return None  # neither targets nor --all, or both: typer's usage error
    return parsed


def run(parsed: Parsed, cwd: Path) -> int:
    """Run a parsed fast command (the same functions the typer commands call)."""
    from dagy_git.cli.commands import query

    if parsed.command == "deploy":
        return _deploy(parsed, cwd)
    if parsed.command == "validate":
        from dagy_git.cli.commands import validate

        return validate.run(
            parsed.args,
            cwd,
            strict="--strict" in parsed.flags,
            json_out="--json" in parsed.flags,
            output_format=parsed.one("output_format") or "text",
        )
    json_out = "--json" in parsed.flags
    tags = parsed.values.get("tag", [])
    fmt = parsed.one("fmt") or "table"
    n = parsed.one("n")
    handlers: dict[str, Callable[[], int]] = {
        "show": lambda: query.show(parsed.args[0], json_out, cwd),
        "log": lambda: query.log(
            parsed.args[0] if parsed.args else None,
            parsed.one("flow_version"),
            parsed.one("deployment"),
            int(n) if n is not None else None,
            parsed.one("since"),
            json_out,
            fmt,
            cwd,
        ),
        "deployments": lambda: query.list_deployments(tags, json_out, cwd, fmt, parsed.args),
        "list": lambda: query.list_flows(
            parsed.one("namespace"), tags, parsed.values.get("any_tag", []), json_out, cwd, fmt
        ),
    }
    return handlers[parsed.command]()


def _deploy(parsed: Parsed, cwd: Path) -> int:
    from dagy_git.cli.commands import deploy

    flags = parsed.flags
    return deploy.run(
        parsed.args,
        all_="--all" in flags,
        deployment=parsed.one("deployment"),
        namespace=parsed.one("namespace"),
        flow_name=parsed.one("flow_name"),
        flow_version=parsed.one("flow_version"),
        tags=parsed.values.get("tag", []),
        schedule=parsed.one("schedule"),
        params=parsed.values.get("param", []),
        force="--force" in flags,
        dry_run="--dry-run" in flags,
        push="--push" in flags,
        remote=parsed.one("remote"),
        atomic="--no-atomic" not in flags,
        json_out="--json" in flags,
        cwd=cwd,
        quiet=bool(flags & {"-q", "--quiet"}),
        changed_only="--changed-only" in flags,
        keep_going="--keep-going" in flags,
        prune="--prune" in flags,
    )
