"""Run a composite GitHub Action locally, the way the runner does, for tests.

Enough of the runner to test action/action.yml without GitHub: it reads the action,
applies input defaults, renders `${{ … }}` expressions (`inputs.*`, `github.*`, `runner.*`,
`steps.<id>.outputs.*`, `env.*`) in `env:`, `with:`, `working-directory:` and the action's
outputs, runs each `run:` step as `bash --noprofile --norc -eo pipefail {0}` (GitHub's
`shell: bash`) in its working directory with fresh `GITHUB_OUTPUT`, `GITHUB_ENV`,
`GITHUB_PATH` and `GITHUB_STEP_SUMMARY` files, collects step outputs and the job summary,
skips `uses:` steps, and stops at the first failing step. Unknown expressions fail loudly,
so a typo in action.yml fails the test instead of rendering as an empty string.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

ACTION_DIR = Path(__file__).resolve().parents[2] / "action"
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
ANNOTATION = re.compile(r"^::(error|warning|notice)(?: ([^:]*))?::(.*)$")


class HarnessError(Exception):
    """The action uses something this emulator (or GitHub) does not support."""


@dataclass
class StepRun:
    """One step as the runner saw it."""

    id: str | None
    name: str
    skipped: bool = False
    returncode: int = 0
    stdout: str = ""
    stderr: str = ""
    outputs: dict[str, str] = field(default_factory=dict)
    env: dict[str, str] = field(default_factory=dict)


@dataclass
class ActionRun:
    """The outcome of the whole action."""

    returncode: int
    outputs: dict[str, str]
    summary: str
    steps: list[StepRun]

    @property
    def stdout(self) -> str:
        return "".join(s.stdout for s in self.steps)

    @property
    def stderr(self) -> str:
        return "".join(s.stderr for s in self.steps)

    def annotations(self) -> list[dict[str, str]]:
        """The workflow-command annotations printed on stdout, properties unescaped."""
        found = []
        for line in self.stdout.splitlines():
            match = ANNOTATION.match(line)
            if not match:
                continue
            item = {"level": match.group(1), "message": _unescape(match.group(3))}
            for prop in filter(None, (match.group(2) or "").split(",")):
                key, _, value = prop.partition("=")
                item[key] = _unescape(value)
            found.append(item)
        return found

    def step(self, step_id: str) -> StepRun:
        return next(s for s in self.steps if s.id == step_id)


def _unescape(text: str) -> str:
    for escaped, char in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, char)
    return text


def parse_file_commands(text: str) -> dict[str, str]:
    """Parse `$GITHUB_OUTPUT`/`$GITHUB_ENV`: `name=value` and `name<<DELIM … DELIM` entries."""
    values: dict[str, str] = {}
    lines = text.split("\n")
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line:
            continue
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, _, delimiter = line.partition("<<")
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise HarnessError(f"unterminated heredoc for {name!r} (delimiter {delimiter!r})")
            i += 1
            values[name] = "\n".join(body)
        elif "=" in line:
            name, _, value = line.partition("=")
            values[name] = value
        else:
            raise HarnessError(f"malformed file command line: {line!r}")
    return values


class _Context:
    def __init__(
        self,
        inputs: dict[str, str],
        github: dict[str, str],
        runner: dict[str, str],
        env: dict[str, str],
    ) -> None:
        self.inputs = inputs
        self.github = github
        self.runner = runner
        self.env = env
        self.steps: dict[str, dict[str, str]] = {}

    def lookup(self, expr: str) -> str:
        parts = expr.split(".")
        if parts[0] == "inputs" and len(parts) == 2:
            if parts[1] not in self.inputs:
                raise HarnessError(f"action.yml uses undeclared input {parts[1]!r}")
            return self.inputs[parts[1]]
        if parts[0] in ("github", "runner") and len(parts) == 2:
            table = self.github if parts[0] == "github" else self.runner
            if parts[1] not in table:
                raise HarnessError(f"harness does not know {expr!r}")
            return table[parts[1]]
        if parts[0] == "env" and len(parts) == 2:
            return self.env.get(parts[1], "")
        if parts[0] == "steps" and len(parts) == 4 and parts[2] == "outputs":
            # GitHub renders a missing output (or a skipped step's) as an empty string.
            return self.steps.get(parts[1], {}).get(parts[3], "")
        raise HarnessError(f"unsupported expression {expr!r}")

    def render(self, value: Any) -> str:
        text = "" if value is None else str(value)
        if isinstance(value, bool):
            text = "true" if value else "false"
        return EXPRESSION.sub(lambda m: self.lookup(m.group(1)), text)


def load_action(action_dir: Path = ACTION_DIR) -> dict[str, Any]:
    """The parsed action.yml."""
    data = yaml.safe_load((action_dir / "action.yml").read_text("utf-8"))
    if not isinstance(data, dict):
        raise HarnessError("action.yml is not a mapping")
    return data


def run_action(
    inputs: dict[str, str],
    *,
    workspace: Path,
    temp: Path,
    action_dir: Path = ACTION_DIR,
    skip: tuple[str, ...] = ("install",),
    env: dict[str, str] | None = None,
    unset: tuple[str, ...] = (),
    path_first: tuple[Path, ...] = (),
) -> ActionRun:
    """Run the composite action with `inputs` in `workspace`; `skip` names step ids to skip.

    Steps run with this interpreter's scripts folder first on PATH (after `path_first`), so
    the installed `dagy-git` stands in for the one the (skipped) install step would install.
    `env` adds variables and `unset` removes some, e.g. to run without a git identity.
    """
    action = load_action(action_dir)
    runs = action.get("runs", {})
    if runs.get("using") != "composite":
        raise HarnessError("only composite actions are supported")
    declared = action.get("inputs", {}) or {}
    unknown = set(inputs) - set(declared)
    if unknown:
        raise HarnessError(f"inputs not declared by the action: {sorted(unknown)}")
    values: dict[str, str] = {}
    for name, spec in declared.items():
        if name in inputs:
            values[name] = inputs[name]
        elif spec.get("required") and "default" not in spec:
            raise HarnessError(f"required input {name!r} missing")
        else:
            default = spec.get("default", "")
            values[name] = (
                ("true" if default else "false") if isinstance(default, bool) else str(default)
            )

    temp.mkdir(parents=True, exist_ok=True)
    base_env = dict(os.environ)
    base_env.update(env or {})
    for name in unset:
        base_env.pop(name, None)
    front = [*(str(p) for p in path_first), str(Path(sys.executable).parent)]
    base_env["PATH"] = os.pathsep.join([*front, base_env.get("PATH", "")])
    base_env.update(
        {
            "GITHUB_ACTIONS": "true",
            "CI": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_ACTION_PATH": str(action_dir),
            "RUNNER_TEMP": str(temp),
        }
    )
    ctx = _Context(
        values,
        {"action_path": str(action_dir), "workspace": str(workspace)},
        {"temp": str(temp)},
        base_env,
    )
    summary: list[str] = []
    steps: list[StepRun] = []
    failed = 0
    for n, step in enumerate(runs.get("steps", [])):
        record = StepRun(step.get("id"), step.get("name", f"step {n}"))
        steps.append(record)
        if failed or "uses" in step or record.id in skip:
            record.skipped = True
            continue
        if "if" in step:
            raise HarnessError(f"step {record.name!r}: `if:` is not supported by the harness")
        if step.get("shell") != "bash":
            raise HarnessError(f"step {record.name!r}: composite run steps need `shell: bash`")
        record.returncode, record.outputs = _run_step(step, record, ctx, temp, n, summary)
        if record.id:
            ctx.steps[record.id] = record.outputs
        failed = record.returncode
    outputs = {
        name: ctx.render(spec.get("value", ""))
        for name, spec in (action.get("outputs") or {}).items()
    }
    return ActionRun(failed, outputs, "".join(summary), steps)


def _run_step(
    step: dict[str, Any], record: StepRun, ctx: _Context, temp: Path, n: int, summary: list[str]
) -> tuple[int, dict[str, str]]:
    files = {
        key: temp / f"{key.lower()}_{n}"
        for key in ("GITHUB_OUTPUT", "GITHUB_ENV", "GITHUB_PATH", "GITHUB_STEP_SUMMARY")
    }
    for path in files.values():
        path.write_text("")
    step_env = {**ctx.env, **{k: str(v) for k, v in files.items()}}
    step_env.update({k: ctx.render(v) for k, v in (step.get("env") or {}).items()})
    record.env = step_env
    workdir = Path(ctx.github["workspace"]) / ctx.render(step.get("working-directory", "."))
    script = temp / f"step_{n}.sh"
    script.write_text(str(step["run"]))
    proc = subprocess.run(
        ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
        cwd=workdir,
        env=step_env,
        capture_output=True,
        text=True,
        check=False,
    )
    record.stdout, record.stderr = proc.stdout, proc.stderr
    summary.append(files["GITHUB_STEP_SUMMARY"].read_text("utf-8"))
    # Later steps see what this one exported, as on a runner.
    ctx.env.update(parse_file_commands(files["GITHUB_ENV"].read_text("utf-8")))
    for line in files["GITHUB_PATH"].read_text("utf-8").splitlines():
        if line.strip():
            ctx.env["PATH"] = line.strip() + os.pathsep + ctx.env["PATH"]
    return proc.returncode, parse_file_commands(files["GITHUB_OUTPUT"].read_text("utf-8"))
