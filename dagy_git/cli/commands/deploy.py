"""`dagy-git deploy`: deploy what changed and say what happened to every target.

With `--keep-going`, flow files with errors are left out instead of stopping the deploy:
the flows that build are deployed, the rest are listed with their errors (`failed` in
`--json`), and the exit code is 1.
"""

from __future__ import annotations

from pathlib import Path

from dagy_git import targets as tg
from dagy_git.cli.output import error, note, print_json, print_table, short
from dagy_git.cli.parsing import parse_params, parse_tags
from dagy_git.deploy import DeployOptions, DeployReport, run_deploy
from dagy_git.validation import Problem
from dagy_git.workspace import open_workspace


def run(
    targets: list[str],
    *,
    all_: bool,
    deployment: str | None,
    namespace: str | None,
    flow_name: str | None,
    flow_version: str | None,
    tags: list[str],
    schedule: str | None,
    params: list[str],
    force: bool,
    dry_run: bool,
    push: bool,
    remote: str | None,
    atomic: bool,
    json_out: bool,
    cwd: Path,
    quiet: bool = False,
    changed_only: bool = False,
    keep_going: bool = False,
    prune: bool = False,
) -> int:
    """Deploy the named targets (or `--all`) and render the outcome."""
    ws = open_workspace(cwd)
    opts = DeployOptions(
        deployment=deployment,
        namespace=namespace,
        flow_name=flow_name,
        flow_version=flow_version,
        tags=parse_tags(tags),
        schedule=schedule,
        parameters=parse_params(params),
        force=force,
        dry_run=dry_run,
        push=push,
        remote=remote,
        atomic=atomic,
        every=all_,
        prune=prune,
    )
    failures: list[tg.Failure] | None = [] if keep_going else None
    if all_:
        chosen = tg.resolve_all(ws, failures=failures)
    else:
        chosen = tg.resolve(ws, targets, failures=failures)
    if chosen or not failures:
        report = run_deploy(ws, chosen, opts)
    else:  # nothing builds: nothing to write
        report = DeployReport(None, [], dry_run=dry_run)
    if json_out:
        data: dict[str, object] = {**report.to_json()}
        if failures is not None:
            data["failed"] = [failed_json(f) for f in failures]
        print_json(data)
    elif not quiet:
        render(report, changed_only=changed_only)
    if not json_out:  # the errors of what was left out, on stderr, even when quiet
        for failure in failures or []:
            render_failure(failure)
    if failures:
        n = len(failures)
        note(f"{n} {'flow file' if n == 1 else 'flow files'} not deployed (errors above)")
        return 1
    return 0


def failed_json(failure: tg.Failure) -> dict[str, object]:
    """One `failed` item of `deploy --keep-going --json`: the file and its errors."""
    return {
        "path": failure.path,
        "deployment_name": failure.deployment,
        "errors": [Problem.from_error(e, failure.path).to_json() for e in failure.errors],
    }


def render_failure(failure: tg.Failure) -> None:
    """A file that was not deployed: each of its errors, where it is, with its hint."""
    what = f" (deployment {failure.deployment!r})" if failure.deployment else ""
    for exc in failure.errors:
        problem = Problem.from_error(exc, failure.path)
        error(f"not deployed{what}: {problem}", problem.hint)


def headline(report: DeployReport) -> str:
    """One line: how many were deployed and how many were unchanged."""
    done = report.count("registered", "updated", "metadata")
    verb = "would deploy" if report.dry_run else "deployed"
    return f"{done} {verb}, {report.count('skipped')} unchanged"


def render(report: DeployReport, *, changed_only: bool = False) -> None:
    """The human table of a deploy (`changed_only`: without the unchanged rows)."""
    rows = [
        (
            r.deployment_name or "-",
            f"{r.flow_name}@{r.flow_version}",
            r.namespace or '""',
            r.status if not report.dry_run else f"{r.status} (dry run)",
            r.deployment_version if r.deployment_version is not None else "-",
            short(r.code_hash),
            ("skipped: " if r.status == "skipped" else "")
            + r.reason
            + (" (uncommitted changes)" if r.dirty else ""),
        )
        for r in report.results
        if not (changed_only and r.status == "skipped")
    ]
    if rows or not changed_only:
        print_table(("deployment", "flow", "namespace", "status", "dv", "hash", "why"), rows)
    where = f" in registry commit {short(report.registry_commit)}" if report.registry_commit else ""
    pushed = " and pushed" if report.pushed and not report.pushed_pending else ""
    note(headline(report) + (where + pushed if not report.dry_run else ""))
    if report.pushed_pending:
        note(
            f"pushed the local registry commits the remote lacked "
            f"(up to {short(report.registry_commit)})"
        )
    if report.retired:
        verb = "would retire" if report.dry_run else "retired"
        note(f"{verb} deployments no manifest declares: {', '.join(report.retired)}")
    elif report.undeclared:
        note(
            f"deployments no manifest declares any more: {', '.join(report.undeclared)} "
            "(`deploy --all --prune` retires them)"
        )
    if any(r.dirty and r.status != "skipped" for r in report.results):
        verb = "would be deployed" if report.dry_run else "were deployed"
        note(f"note: some flows {verb} from uncommitted files (recorded as dirty: true)")
