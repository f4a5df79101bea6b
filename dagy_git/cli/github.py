"""`dagy-git action-deploy`: the GitHub Action's deploy step.

The composite action (action/action.yml) passes its inputs as `INPUT_*` environment
variables, never through the script text, and runs this command. It deploys in-process,
then speaks the runner's file protocol: step outputs to `$GITHUB_OUTPUT`, a Markdown job
summary to `$GITHUB_STEP_SUMMARY`, and `::error file=…,line=…::` workflow commands on stdout
so a broken flow is annotated on the pull request's diff. Exit codes are the CLI's.
"""

from __future__ import annotations

import json
import re
import sys
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dagy_git import targets as tg
from dagy_git.cli.commands.deploy import headline, render
from dagy_git.cli.errors import debug_requested, exit_codes
from dagy_git.cli.parsing import parse_tags
from dagy_git.deploy import DeployOptions, DeployReport, run_deploy
from dagy_git.errors import ConfigError, DagyError, SpecError
from dagy_git.plan import DeployResult
from dagy_git.workspace import Workspace, open_workspace

TRUE = ("true", "yes", "1", "on")
FALSE = ("false", "no", "0", "off", "")


@dataclass(frozen=True)
class ActionInputs:
    """The action's inputs, parsed from `INPUT_*` variables."""

    paths: list[str] = field(default_factory=list)
    deployment: str | None = None
    namespace: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    force: bool = False
    push: bool = True
    dry_run: bool = False
    remote: str | None = None


def _lines(text: str) -> list[str]:
    """Non-blank lines, stripped: how list inputs are written in a workflow."""
    return [line.strip() for line in text.splitlines() if line.strip()]


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False if value else default
    input_name = name.removeprefix("INPUT_").lower().replace("_", "-")
    raise DagyError(f"input {input_name!r} must be true or false, got {raw!r}")


def parse_inputs(env: Mapping[str, str]) -> ActionInputs:
    """Read and check the action's inputs from the environment."""
    return ActionInputs(
        paths=_lines(env.get("INPUT_PATHS", "")),
        deployment=env.get("INPUT_DEPLOYMENT", "").strip() or None,
        namespace=env.get("INPUT_NAMESPACE", "").strip() or None,
        tags=parse_tags(_lines(env.get("INPUT_TAGS", ""))),
        force=_flag(env, "INPUT_FORCE", False),
        push=_flag(env, "INPUT_PUSH", True),
        dry_run=_flag(env, "INPUT_DRY_RUN", False),
        remote=env.get("INPUT_REMOTE", "").strip() or None,
    )


def deploy(ws: Workspace, inputs: ActionInputs) -> DeployReport:
    """Run the deploy the inputs ask for (`--all` when no paths are given)."""
    opts = DeployOptions(
        deployment=inputs.deployment,
        namespace=inputs.namespace,
        tags=inputs.tags,
        force=inputs.force,
        dry_run=inputs.dry_run,
        # With dry_run nothing is written; push=True then means "plan against the remote
        # registry", which is what a pull request wants to see (its checkout has no local
        # registry branch).
        push=inputs.push,
        remote=inputs.remote,
        every=not inputs.paths,  # so `result` lists deployments no manifest declares
    )
    chosen = tg.resolve(ws, inputs.paths) if inputs.paths else tg.resolve_all(ws)
    return run_deploy(ws, chosen, opts)


def run(env: Mapping[str, str], cwd: Path) -> int:
    """Deploy per the `INPUT_*` variables; write outputs, summary and annotations.

    Errors go through the one handler (`cli/errors.py`); a user error also becomes `::error`
    annotations and a failure summary, through its callback.
    """
    failed = _FailureReport(env, cwd)
    with exit_codes(debug=debug_requested([]), on_error=failed):
        failed.inputs = parse_inputs(env)
        failed.ws = open_workspace(cwd)
        report = deploy(failed.ws, failed.inputs)
    render(report)
    result_file = _result_file(env, cwd)
    result_file.write_text(json.dumps(report.to_json(), ensure_ascii=False) + "\n", "utf-8")
    append(env.get("GITHUB_OUTPUT"), outputs(report, result_file))
    append(env.get("GITHUB_STEP_SUMMARY"), summary(report))
    return 0


def _result_file(env: Mapping[str, str], cwd: Path) -> Path:
    """Where the whole `--json` document goes: the runner's temp folder (never the
    checkout), or a fresh temporary folder outside a runner."""
    temp = env.get("RUNNER_TEMP")
    if temp:
        folder = Path(temp)
    else:
        import tempfile

        folder = Path(tempfile.mkdtemp(prefix="dagy-git-"))
    return folder / f"dagy-git-result-{uuid.uuid4().hex[:12]}.json"


@dataclass
class _FailureReport:
    """What a failed action run tells the runner: annotations and a failure summary."""

    env: Mapping[str, str]
    cwd: Path
    ws: Workspace | None = None
    inputs: ActionInputs | None = None

    def __call__(self, exc: DagyError) -> None:
        paths = self.inputs.paths if self.inputs else []
        annotate_failure(exc, self.ws, self.cwd, self.env, paths)
        append(self.env.get("GITHUB_STEP_SUMMARY"), failure_summary(exc))


# ---------------------------------------------------------------------------------------
# the runner's protocol


def append(path: str | None, text: str) -> None:
    """Append to a runner file (`$GITHUB_OUTPUT`, `$GITHUB_STEP_SUMMARY`) when it is set."""
    if path:
        with open(path, "a", encoding="utf-8") as fh:
            fh.write(text)


def output_line(name: str, value: str) -> str:
    """One `$GITHUB_OUTPUT` entry; a multi-line value uses a random heredoc delimiter."""
    if "\n" not in value and "\r" not in value:
        return f"{name}={value}\n"
    delimiter = f"ghadelimiter_{uuid.uuid4().hex}"
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


# GitHub keeps at most 1 MB of outputs per job: past this size, `result` holds only the
# targets that changed (or none), and `result-file` always names the whole document.
RESULT_LIMIT = 256 * 1024


def outputs(report: DeployReport, result_file: Path, limit: int = RESULT_LIMIT) -> str:
    """The step outputs of a deploy: counts, registry commit, the JSON document (cut to fit
    `limit` characters, marked `truncated`) and the path of the whole document."""
    return "".join(
        [
            output_line("deployed", str(report.count("registered", "updated", "metadata"))),
            output_line("skipped", str(report.count("skipped"))),
            output_line("registry-commit", report.registry_commit or ""),
            output_line("result", result_output(report, result_file, limit)),
            output_line("result-file", str(result_file)),
        ]
    )


def result_output(report: DeployReport, result_file: Path, limit: int = RESULT_LIMIT) -> str:
    """The `result` output: the whole `--json` document on one line when it fits `limit`;
    otherwise the same shape with only the changed targets (or none), `truncated: true`
    and `result_file` naming the whole document."""
    doc: dict[str, Any] = dict(report.to_json())  # a TypedDict: extended here
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= limit:
        return text
    doc.update(truncated=True, result_file=str(result_file))
    doc["results"] = [r for r in doc["results"] if r["status"] != "skipped"]
    text = json.dumps(doc, separators=(",", ":"), ensure_ascii=False)
    if len(text) <= limit:
        return text
    doc["results"] = []
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False)


def _cell(value: object) -> str:
    """A Markdown table cell: HTML, Markdown and pipe characters escaped, one line."""
    text = "" if value is None else str(value)
    for char, escaped in (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;")):
        text = text.replace(char, escaped)
    # Markdown: a backslash first (it escapes what follows), then emphasis, code, links
    # and the table's own pipe, so a version like `1.0\|y*z*` shows as written. An
    # underscore inside a word (order_etl) never starts emphasis, so it stays readable.
    for char in "\\`*[]|":
        text = text.replace(char, "\\" + char)
    text = re.sub(r"(?<![A-Za-z0-9])_|_(?![A-Za-z0-9])", r"\\_", text)
    return " ".join(text.split()) or " "


# Past this many targets, the unchanged ones fold away under a <details> element.
FOLD_AFTER = 50
_HEADER = ("deployment", "flow", "status", "namespace", "deployment_version", "hash", "reason")


def summary(report: DeployReport) -> str:
    """The job summary: a headline and a table of every target (past FOLD_AFTER targets,
    the unchanged ones in a folded table of their own)."""
    lines = ["### dagy-git deploy", "", f"**{headline(report)}**", ""]
    if report.dry_run:
        lines += ["Dry run: nothing was written or pushed.", ""]
    elif report.registry_commit:
        commit = f"`{report.registry_commit[:12]}`"
        if report.count("registered", "updated", "metadata"):
            pushed = " and pushed" if report.pushed else ""
            lines += [f"Registry commit {commit} written{pushed}.", ""]
        else:
            lines += [f"Registry unchanged at {commit}.", ""]
    results = report.results
    folded: list[DeployResult] = []
    if len(results) > FOLD_AFTER:
        folded = [r for r in results if r.status == "skipped"]
        results = [r for r in results if r.status != "skipped"]
    if results or not folded:
        lines += _table(report, results)
    if folded:
        lines += [
            "",
            f"<details><summary>{len(folded)} unchanged</summary>",
            "",
            *_table(report, folded),
            "",
            "</details>",
        ]
    return "\n".join(lines) + "\n\n"


def _table(report: DeployReport, results: list[DeployResult]) -> list[str]:
    """A Markdown table of deploy results (one `-` row when there is none)."""
    lines = ["| " + " | ".join(_HEADER) + " |", "|" + "---|" * len(_HEADER)]
    for r in results:
        status = f"{r.status} (dry run)" if report.dry_run and r.status != "skipped" else r.status
        reason = r.reason + (" (uncommitted changes)" if r.dirty else "")
        cells = (
            r.deployment_name or "-",
            f"{r.flow_name}@{r.flow_version}",
            status,
            r.namespace or '""',
            "-" if r.deployment_version is None else r.deployment_version,
            r.code_hash[:12],
            reason,
        )
        lines.append("| " + " | ".join(_cell(c) for c in cells) + " |")
    if not results:
        lines.append("| " + " | ".join(["-"] * len(_HEADER)) + " |")
    return lines


def failure_summary(exc: DagyError) -> str:
    """The job summary of a failed deploy."""
    text = f"### dagy-git deploy failed\n\n```\nerror: {exc}\n"
    if exc.hint:
        text += f"hint: {exc.hint}\n"
    return text + "```\n\n"


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def annotation(
    message: str,
    path: str | None = None,
    line: int | None = None,
    col: int | None = None,
    *,
    level: str = "error",
) -> str:
    """An `::error` (or `::warning`) workflow command (escaped per the runner's rules)."""
    props = []
    if path:
        props.append(f"file={_escape_property(path)}")
        if line is not None:
            props.append(f"line={line}")
            if col is not None:
                props.append(f"col={col}")
    command = "warning" if level == "warning" else "error"
    return (
        f"::{command} {','.join(props)}::{_escape_data(message)}"
        if props
        else (f"::{command}::{_escape_data(message)}")
    )


def workspace_path(path: str, base: Path, workspace: str | None) -> str:
    """`path` (relative to `base`, the repository) as the runner wants it: workspace-relative."""
    full = Path(path) if Path(path).is_absolute() else base / path
    if workspace:
        try:
            return full.resolve().relative_to(Path(workspace).resolve()).as_posix()
        except ValueError:
            pass
    return path


def annotate_failure(
    exc: DagyError, ws: Workspace | None, cwd: Path, env: Mapping[str, str], paths: list[str]
) -> None:
    """Print one `::error` per problem: the error itself, plus every other problem of the
    flows and manifests deployed (`paths`, or all), so one run shows them all on the diff
    (a warning as `::warning`)."""
    base = ws.root if ws is not None else cwd
    workspace = env.get("GITHUB_WORKSPACE")
    found: list[tuple[str | None, int | None, int | None, str, str]] = [
        (exc.path, exc.line, exc.col, _with_hint(exc.message, exc.hint), "error")
    ]
    if ws is not None and isinstance(exc, (SpecError, ConfigError)):
        from dagy_git.validation import validate_repo

        try:
            files = [tg.split_target(p)[0] for p in paths if not p.endswith(".zip")]
            problems = validate_repo(ws.root, files or None, cwd=cwd)
        except DagyError:
            problems = []
        found += [(p.path, p.line, p.col, _with_hint(p.message, p.hint), p.level) for p in problems]
    seen: set[tuple[str | None, int | None, str]] = set()
    for path, line, col, message, level in found:
        key = (path, line, message)
        if key in seen:
            continue
        seen.add(key)
        where = workspace_path(path, base, workspace) if path else None
        sys.stdout.write(annotation(message, where, line, col, level=level) + "\n")
    sys.stdout.flush()


def _with_hint(message: str, hint: str | None) -> str:
    return f"{message}\nhint: {hint}" if hint else message
