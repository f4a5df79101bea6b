"""Generate a realistic dagy-git repository for the benchmarks.

    python bench/gen.py N [--versions V] [--log-commits K] [--out DIR]

N flow files spread over five team folders and nested domain folders
(`flows/<team>/<domain>/flow_0042.py`), each flow 3-6 tasks with docstrings, a few lines of
code per task, decorator options on some, data flow between tasks, tuple unpacking and
`wait_for=`. A root `dagy.toml` (`namespace_root = "flows"`), one per team (`[tags] team`,
`env`, and a few `[[deployments]]`) and one per first domain of each team. Everything is
committed on `main`.

With `--versions V` the registry is built with the real CLI, the way it grows in real life:
`deploy --all`, then V-1 times "bump every flow's version, commit, `deploy --all`", so every
flow has V registered versions (1.0.0, 1.1.0, …).

With `--log-commits K` the registry branch is then grown to K commits in total by
tag-change commits on flow_0000 … flow_0009 (round robin). Making 10,000 commits with one
`dagy-git tag` process each would take many minutes, so one real `dagy-git tag` commit is
made per flow through the CLI and used as the template: `git fast-import` then writes
commits with the same message (trailers included), the same files changed (`tags.json`
with a `bench-rev` tag, `record.json` with a new `updated_at`) and canonical JSON, so the
registry stays what the CLI would have written, only faster. The result is checked with
`dagy-git log --json` and `dagy-git show`.

The output folder (default: a new temporary folder, printed at the end) must not exist or
be empty; nothing outside it is written.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

TEAMS = ("data-eng", "ml-ops", "platform", "finance", "growth")
PROD_TEAMS = frozenset(TEAMS[0::2])  # half the teams (rounded up) are prod, the rest staging
DOMAINS = {
    "data-eng": ("orders/daily", "orders/hourly", "ingestion/s3", "ingestion/kafka", "warehouse"),
    "ml-ops": ("features/daily", "features/online", "training", "scoring/batch"),
    "platform": ("maintenance", "audit/logs", "audit/access", "backups"),
    "finance": ("invoices", "billing/monthly", "billing/usage", "ledger/reconcile"),
    "growth": ("campaigns", "attribution/web", "attribution/app", "experiments"),
}
BASE_VERSION = "1.0.0"
BENCH_TAG = "bench-rev"
IDENTITY = {
    "GIT_AUTHOR_NAME": "Bench Bot",
    "GIT_AUTHOR_EMAIL": "bench@example.com",
    "GIT_COMMITTER_NAME": "Bench Bot",
    "GIT_COMMITTER_EMAIL": "bench@example.com",
}


class GenError(RuntimeError):
    """A step of the generation failed (a git or dagy-git command exited non-zero)."""


def bench_env() -> dict[str, str]:
    """The environment of every process the bench starts: the caller's plus a fixed identity."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE")
    }
    env.update(IDENTITY)
    env["GIT_CONFIG_NOSYSTEM"] = "1"
    # Measure what a user runs: an installed package has its bytecode compiled, and Python
    # caches it on first import. This machine sets PYTHONDONTWRITEBYTECODE, which made every
    # process compile dagy-git from source (~60 ms more per `deploy`). The caches go to a
    # folder outside the checkout, so the bench leaves no files in it.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = os.path.join(tempfile.gettempdir(), "dagy-bench-pycache")
    return env


def run(cmd: list[str], cwd: Path, *, input: bytes | None = None) -> bytes:
    """Run a command, return its stdout, raise GenError with its stderr when it fails."""
    proc = subprocess.run(
        cmd, cwd=cwd, input=input, capture_output=True, env=bench_env(), check=False
    )
    if proc.returncode != 0:
        shown = " ".join(cmd[:6]) + (" …" if len(cmd) > 6 else "")
        raise GenError(
            f"{shown} (in {cwd}) exited {proc.returncode}:\n"
            + proc.stderr.decode("utf-8", "replace")[-3000:]
        )
    return proc.stdout


def git(repo: Path, *args: str, input: bytes | None = None) -> str:
    """Run git in `repo` (signing and hooks off: the bench must not depend on user config)."""
    out = run(
        [
            "git",
            "-c",
            "commit.gpgsign=false",
            "-c",
            "tag.gpgsign=false",
            "-c",
            "core.hooksPath=/dev/null",
            *args,
        ],
        repo,
        input=input,
    )
    return out.decode("utf-8", "replace").strip()


def dagy(repo: Path, *args: str) -> str:
    """Run the real `dagy-git` CLI as a whole process in `repo`."""
    return run([sys.executable, "-m", "dagy_git", *args], repo).decode("utf-8", "replace")


def flow_name(i: int) -> str:
    """The name (and file stem) of flow number `i`."""
    return f"flow_{i:04d}"


def flow_dir(i: int) -> tuple[str, str]:
    """(team, domain) of flow number `i`: teams round robin, domains spread within a team."""
    team = TEAMS[i % len(TEAMS)]
    domains = DOMAINS[team]
    return team, domains[(i // len(TEAMS)) % len(domains)]


def flow_relpath(i: int) -> str:
    """Repo-relative path of flow number `i`."""
    team, domain = flow_dir(i)
    return f"flows/{team}/{domain}/{flow_name(i)}.py"


# -- flow files ---------------------------------------------------------------------------

_TASK_OPTIONS = (
    "",
    "",
    "()",
    "(retries=2)",
    "(retries=3, retry_delay_seconds=30)",
    "(timeout_seconds=600)",
    "(retries=1, timeout_seconds=120.5)",
    # What real flows carry besides (issue 7): lists of delays and untyped options.
    '(retries=3, retry_delay_seconds=[10, 30, 60], tags=["etl"])',
    "(cache_key_fn=task_input_hash, persist_result=True)",
    '(log_prints=True, task_run_name="{noun}-{day}")',
)

_EXTRACT = '''
@task{opts}
def extract(source: str, day: str) -> list[dict]:
    """Read one day of raw {noun} records from the landing bucket."""
    path = f"{{source.rstrip('/')}}/{{day}}/part-0000.jsonl"
    with open(path, encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh if line.strip()]
    return rows[: BATCH_SIZE * 100]
'''

_MIDDLE = {
    "clean": '''
@task{opts}
def clean(rows: list[dict]) -> list[dict]:
    """Drop rows without an id and normalise the field names."""
    out = []
    for row in rows:
        if not row.get("id"):
            continue
        out.append({{k.lower().strip(): v for k, v in row.items()}})
    return out
''',
    "enrich": '''
@task{opts}
def enrich(rows: list[dict], region: str = "eu") -> list[dict]:
    """Attach the region and a processing date to every row."""
    today = date.today().isoformat()
    return [{{**row, "region": region, "processed_on": today}} for row in rows]
''',
    "dedupe": '''
@task{opts}
def dedupe(rows: list[dict]) -> list[dict]:
    """Keep the last version of each id (late updates win)."""
    latest: dict[str, dict] = {{}}
    for row in rows:
        latest[str(row["id"])] = row
    return list(latest.values())
''',
    "split": '''
@task{opts}
def split_valid(rows: list[dict]) -> tuple[list[dict], list[dict]]:
    """Separate rows that pass the {noun} checks from the ones to quarantine."""
    good = [r for r in rows if r.get("amount", 0) >= 0]
    bad = [r for r in rows if r.get("amount", 0) < 0]
    return good, bad
''',
    "aggregate": '''
@task{opts}
def aggregate(rows: list[dict]) -> list[dict]:
    """Sum amounts per customer for the daily {noun} table."""
    totals: dict[str, float] = {{}}
    for row in rows:
        key = str(row.get("customer_id"))
        totals[key] = totals.get(key, 0.0) + float(row.get("amount", 0))
    return [{{"customer_id": k, "amount": v}} for k, v in sorted(totals.items())]
''',
}

_LOAD = '''
@task{opts}
def load(rows: list[dict], table: str, rejected: list[dict] | None = None) -> int:
    """Write the rows to the warehouse table; quarantine the rejected ones."""
    if rejected:
        print(f"quarantined {{len(rejected)}} rows of {{table}}")
    for start in range(0, len(rows), BATCH_SIZE):
        _ = rows[start : start + BATCH_SIZE]
    return len(rows)
'''

_HELPER = '''

def read_day(source: str, day: str) -> list[dict]:
    """A plain helper that calls a task: the analyser follows it."""
    rows = extract(source, day)
    return rows if rows else []
'''

_NOTIFY = '''
@task{opts}
def notify(channel: str, message: str = "done") -> None:
    """Tell the owning team that the run finished."""
    print(f"[{{channel}}] {{message}}")
'''


def render_flow(i: int, version: str = BASE_VERSION) -> str:
    """The source of flow number `i` (deterministic: the same `i` gives the same file)."""
    rng = random.Random(i)
    name = flow_name(i)
    team, domain = flow_dir(i)
    noun = domain.split("/")[0].rstrip("s")
    n_tasks = rng.randint(3, 6)  # extract + load + middles (+ notify)
    use_notify = n_tasks >= 4 and rng.random() < 0.5
    middles = rng.sample(sorted(_MIDDLE), n_tasks - 2 - int(use_notify))

    def opts() -> str:
        return rng.choice(_TASK_OPTIONS).replace("{noun}", noun)

    parts = [_EXTRACT.format(opts=opts(), noun=noun)]
    parts += [_MIDDLE[m].format(opts=opts(), noun=noun) for m in middles]
    parts.append(_LOAD.format(opts=opts()))
    if use_notify:
        parts.append(_NOTIFY.format(opts=opts()))

    # The patterns of real flows: a logger, a helper that calls a task, futures, `.map`.
    style = rng.choice(("direct", "submit", "helper"))
    body = ["logger = get_run_logger()"]
    if style == "direct":
        body.append("raw = extract(source, day)")
    elif style == "submit":
        body += ["future = extract.submit(source, day)", "raw = future.result()"]
    else:
        body.append("raw = read_day(source, day)")
        parts.append(_HELPER)
    body.append('logger.info("read %d rows", len(raw))')
    current, rejected = "raw", None
    for m in middles:
        if m == "split":
            body.append(f"good, bad = split_valid({current})")
            current, rejected = "good", "bad"
        elif m == "enrich":
            body.append(f"enriched = enrich({current}, region=region)")
            current = "enriched"
        else:
            var = {"clean": "cleaned", "dedupe": "unique", "aggregate": "totals"}[m]
            body.append(f"{var} = {m}({current})")
            current = var
    extra = f", rejected={rejected}" if rejected else ""
    body.append(f"count = load({current}, table{extra})")
    if use_notify and rng.random() < 0.5:
        body.append(
            f'notify.map(["#{team}", "#data-runs"], message=unmapped(f"{name}: {{day}}"), '
            "wait_for=[count])"
        )
    elif use_notify:
        body.append(f'notify("#{team}", message=f"{name}: {{day}}", wait_for=[count])')
    body.append('print(f"loaded {count} rows")')
    body.append("return count")

    flow_opts = rng.choice(
        (
            "",
            "",
            ", retries=1",
            ", timeout_seconds=3600",
            ', log_prints=True, flow_run_name="{day}"',
        )
    )
    header = textwrap.dedent(f'''\
        """{domain.replace("/", " ").title()} pipeline {name} of team {team}.

        Generated by bench/gen.py for the dagy-git benchmarks.
        """

        from __future__ import annotations

        import json
        from datetime import date

        from dagy import flow, get_run_logger, task, unmapped
        from dagy.tasks import task_input_hash

        BATCH_SIZE = {rng.choice((100, 500, 1000))}
        ''')
    flow_src = (
        f'\n\n@flow(name="{name}", version="{version}"{flow_opts})\n'
        f'def {name}(source: str = "s3://{team}/{domain}/", day: str = "2024-01-01",\n'
        f'        table: str = "{domain.replace("/", "_")}", region: str = "eu"):\n'
        f'    """Daily {noun} job: extract, transform, load."""\n'
        + "".join(f"    {line}\n" for line in body)
    )
    return header + "\n" + "\n".join(parts) + flow_src


# -- manifests ----------------------------------------------------------------------------


def _team_manifest(team: str, members: list[int]) -> str:
    env = "prod" if team in PROD_TEAMS else "staging"
    lines = [
        f"# Flows of team {team}.",
        "[tags]",
        f'team = "{team}"',
        f'env = "{env}"',
        f'cost-center = "{team.split("-")[0]}"',
        "",
    ]
    schedules = ("0 6 * * *", "@daily", "30 2 * * *", "0 * * * *")
    for k, i in enumerate(members[::25]):
        _, domain = flow_dir(i)
        lines += [
            "[[deployments]]",
            f'name = "{flow_name(i)}-{env}"',
            f'flow = "{domain}/{flow_name(i)}.py:{flow_name(i)}"',
            f'schedule = "{schedules[k % len(schedules)]}"',
            f'parameters = {{ region = "{("eu", "us")[k % 2]}" }}',
            'tags = { criticality = "high" }',
            "",
        ]
    return "\n".join(lines)


def write_tree(out: Path, n: int) -> list[str]:
    """Write flows, manifests and a few non-flow files under `out`; return the flow paths."""
    (out / "dagy.toml").write_text(
        '# dagy-git settings for the whole repository.\nnamespace_root = "flows"\n\n'
        '[tags]\nowner = "data-platform"\n'
    )
    (out / "README.md").write_text("# Flows\n\nGenerated by bench/gen.py.\n")
    paths = []
    by_team: dict[str, list[int]] = {t: [] for t in TEAMS}
    for i in range(n):
        rel = flow_relpath(i)
        path = out / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render_flow(i))
        paths.append(rel)
        by_team[flow_dir(i)[0]].append(i)
    for team, members in by_team.items():
        if not members:
            continue
        (out / "flows" / team / "dagy.toml").write_text(_team_manifest(team, members))
        first = out / "flows" / team / DOMAINS[team][0].split("/")[0]
        first.mkdir(parents=True, exist_ok=True)
        (first / "dagy.toml").write_text('[tags]\ncriticality = "medium"\n')
        # Helper modules that do not mention dagy: discovery must pass over them.
        helper = out / "flows" / team / "helpers.py"
        helper.write_text(
            '"""Shared helpers."""\n\n\ndef chunks(xs, n):\n'
            "    return [xs[i : i + n] for i in range(0, len(xs), n)]\n"
        )
    return paths


def version_of(k: int) -> str:
    """The k-th registered version (k = 0 is the first)."""
    return f"1.{k}.0"


def bump_versions(out: Path, paths: list[str], old: str, new: str) -> None:
    """What `sed -i 's/version="old"/version="new"/'` over every flow file does."""
    needle, repl = f'version="{old}"', f'version="{new}"'
    for rel in paths:
        path = out / rel
        text = path.read_text()
        if needle not in text:
            raise GenError(f"{rel}: no {needle} to bump")
        path.write_text(text.replace(needle, repl, 1))


# -- registry history ---------------------------------------------------------------------


def _cat(repo: Path, spec: str) -> bytes:
    return run(["git", "cat-file", "blob", spec], repo)


def grow_log(repo: Path, total_commits: int, branch: str = "dagy/registry") -> int:
    """Grow `branch` to `total_commits` commits with tag changes of flow_0000…flow_0009.

    One real `dagy-git tag` commit per flow is the template (see the module docstring);
    the rest are written with `git fast-import`. Returns the number of commits added.
    """
    have = int(git(repo, "rev-list", "--count", branch))
    if have >= total_commits:
        return 0
    listed = json.loads(dagy(repo, "list", "--json"))
    latest: dict[str, str] = {}
    for item in listed:  # the newest version of each of the first ten flows
        if item["flow_name"] in {flow_name(k) for k in range(10)}:
            latest[item["flow_name"]] = max(
                latest.get(item["flow_name"], item["flow_version"]),
                item["flow_version"],
                key=lambda v: tuple(int(x) for x in v.split(".")),
            )
    flows = sorted(latest)
    if not flows:
        raise GenError("grow_log: flow_0000…flow_0009 are not registered")
    templates = {}
    for name in flows[: max(0, total_commits - have)]:
        dagy(repo, "tag", f"{name}@{latest[name]}", f"{BENCH_TAG}=real")
        head = git(repo, "rev-parse", branch)
        changed = git(
            repo, "diff-tree", "-r", "--no-commit-id", "--name-only", f"{head}^", head
        ).splitlines()
        message = run(["git", "log", "-1", "--format=%B", head], repo).decode()
        templates[name] = (changed, message, head)
        have += 1
    if have >= total_commits:
        return len(templates)

    # Current content of the files each template commit changed, per flow.
    state: dict[str, dict[str, dict[str, Any]]] = {}
    for name, (changed, _, head) in templates.items():
        state[name] = {}
        for path in changed:
            base = path.rsplit("/", 1)[-1]
            if not path.startswith(f"flows/{name}/") or base not in ("tags.json", "record.json"):
                raise GenError(
                    f"grow_log: a tag commit changed {path!r}; the bench only knows "
                    "tags.json and record.json: update bench/gen.py"
                )
            state[name][path] = json.loads(_cat(repo, f"{head}:{path}"))

    def canonical(value: dict[str, Any]) -> bytes:
        return (
            json.dumps(
                value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
            )
            + "\n"
        ).encode()

    start = int(git(repo, "log", "-1", "--format=%ct", branch)) + 1
    ident = f"{IDENTITY['GIT_AUTHOR_NAME']} <{IDENTITY['GIT_AUTHOR_EMAIL']}>"
    chunks: list[bytes] = []
    added = total_commits - have
    for k in range(added):
        name = flows[k % len(flows)]
        changed, message, _ = templates[name]
        when = start + k
        stamp = time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(when))
        lines = [
            f"commit refs/heads/{branch}\n".encode(),
            f"committer {ident} {when} +0000\n".encode(),
        ]
        msg = message.encode()
        lines.append(f"data {len(msg)}\n".encode() + msg + b"\n")
        if k == 0:
            lines.append(f"from {branch}^0\n".encode())
        for path in changed:
            doc = state[name][path]
            if path.endswith("tags.json"):
                doc[BENCH_TAG] = f"v{k}"
            else:
                doc["updated_at"] = stamp
            blob = canonical(doc)
            lines.append(
                f"M 100644 inline {path}\n".encode() + f"data {len(blob)}\n".encode() + blob + b"\n"
            )
        chunks.append(b"".join(lines))
    git(repo, "fast-import", "--quiet", input=b"".join(chunks) + b"done\n")
    # run.py checks the result through the CLI (`log --json`) before timing anything.
    return added


# -- main ---------------------------------------------------------------------------------


def generate(
    out: Path, n: int, versions: int = 0, log_commits: int = 0, progress: bool = False
) -> list[str]:
    """Create the repository in `out` (see the module docstring); return the flow paths."""
    if n < 1:
        raise GenError("N must be at least 1")
    if log_commits and versions < 1:
        raise GenError("--log-commits needs --versions >= 1 (a registry to grow)")
    out.mkdir(parents=True, exist_ok=True)
    if any(out.iterdir()):
        raise GenError(f"{out} is not empty")

    def say(msg: str) -> None:
        if progress:
            print(f"gen: {msg}", file=sys.stderr, flush=True)

    git(out, "init", "-q", "-b", "main")
    paths = write_tree(out, n)
    git(out, "add", "-A")
    git(out, "commit", "-q", "-m", f"Add {n} flows")
    say(f"{n} flows committed in {out}")
    for k in range(versions):
        if k:
            bump_versions(out, paths, version_of(k - 1), version_of(k))
            git(out, "commit", "-q", "-am", f"Release {version_of(k)} of every flow")
        t0 = time.perf_counter()
        dagy(out, "deploy", "--all")
        say(f"deploy --all of {version_of(k)}: {time.perf_counter() - t0:.2f} s")
    if log_commits:
        t0 = time.perf_counter()
        added = grow_log(out, log_commits)
        say(f"registry grown by {added} commits in {time.perf_counter() - t0:.2f} s")
    return paths


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("n", type=int, help="number of flow files")
    p.add_argument(
        "--versions",
        type=int,
        default=0,
        help="registered versions per flow, built with deploy --all (default 0)",
    )
    p.add_argument(
        "--log-commits",
        type=int,
        default=0,
        help="grow the registry branch to this many commits (default: leave it)",
    )
    p.add_argument("--out", type=Path, help="output folder (default: a new temporary folder)")
    args = p.parse_args(argv)
    out = args.out.resolve() if args.out else Path(tempfile.mkdtemp(prefix="dagy-bench-repo-"))
    try:
        generate(out, args.n, args.versions, args.log_commits, progress=True)
    except GenError as exc:
        print(f"gen: error: {exc}", file=sys.stderr)
        return 1
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
