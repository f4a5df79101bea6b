"""Issue 12's figures at several registry sizes, each against its git floor in the same run.

    python bench/scale.py [--sizes 100,1000] [--big] [--runs 5] [--versions 5]
                          [--reuse DIR] [--only show,log,...] [--strict]

For each N (default 100 and 1,000; `--big` adds 5,000, which takes minutes to generate),
bench/gen.py builds a repository of N flows x V versions with the real CLI. Then every
figure runs R times interleaved with its floor — the least git itself needs to answer the
same question — and one line per figure and N prints the median, min, max, the target and
the ratio to the floor (the median of per-run ratios: a noisy moment slows both). The
summary at the end prints, per figure, the medians at every N and the growth from 1,000
to 5,000 flows: a read that should be flat in N but is not shows up there as ~5x.

`--reuse DIR` keeps generated repositories in DIR/n<N> and reuses them next time (the
figures that change a flow restore it afterwards, but they add registry commits).
Whole processes, as in bench/run.py: `python -m dagy_git …`, interpreter start included.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # bench/ is a folder of scripts, not a package
from run import BenchError, Figure, Proc, dagy, expect, floor_proc, load, measure

BRANCH = "dagy/registry"


@dataclass(frozen=True)
class Case:
    """One figure: the dagy-git command, its floor, its target at each N (None: info)."""

    name: str
    make: Callable[[Path, list[str], Path, int], tuple[Proc, Proc, str]]
    targets: dict[int, float]


def sh(repo: Path, script: str, expect_out: Callable[[str], None] | None = None) -> Proc:
    """A floor written as a shell pipeline of git commands."""
    return Proc(["sh", "-c", script], repo, expect_out)


def nonempty(out: str) -> None:
    expect(bool(out.strip()), "the floor printed nothing")


def latest(versions: int) -> str:
    return gen.version_of(versions - 1)


def one_record_floor(repo: Path, flow: str, version: str) -> Proc:
    return sh(repo, f"git cat-file -p {BRANCH}:flows/{flow}/{version}/record.json", nonempty)


def every_record_floor(repo: Path) -> Proc:
    # `ls-tree -r` of the registry and `cat-file` of every record.json: what any listing
    # of every flow version must at least read.
    return sh(
        repo,
        f"git ls-tree -r {BRANCH} | awk '/record.json$/ {{print $3}}' "
        "| git cat-file --batch | wc -l",
        nonempty,
    )


def case_version(repo: Path, paths: list[str], tmp: Path, versions: int) -> tuple[Proc, Proc, str]:
    py = Proc([sys.executable, "-c", "pass"], repo)
    return dagy(repo, "--version"), py, "--version vs `python -c pass`"


def case_show(repo: Path, paths: list[str], tmp: Path, versions: int) -> tuple[Proc, Proc, str]:
    flow = gen.flow_name(min(42, len(paths) - 1))
    v = latest(versions)

    def ok(out: str) -> None:
        expect(f"flow_version:     {v}" in out, f"show printed {out[:200]!r}")

    return (
        dagy(repo, "show", f"{flow}@{v}", check=ok),
        one_record_floor(repo, flow, v),
        f"show {flow}@{v} vs cat-file of its record",
    )


def case_show_bare(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    flow = gen.flow_name(min(42, len(paths) - 1))
    v = latest(versions)

    def ok(out: str) -> None:
        expect(f"flow_version:     {v}" in out, f"show printed {out[:200]!r}")

    return (
        dagy(repo, "show", flow, check=ok),
        one_record_floor(repo, flow, v),
        f"show {flow} (latest of {versions}) vs cat-file of one record",
    )


def case_deployment(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    name = f"{gen.flow_name(0)}-prod"

    def ok(out: str) -> None:
        expect(name in out, f"deployments {name} printed {out[:200]!r}")

    return (
        dagy(repo, "deployments", name, check=ok),
        sh(repo, f"git cat-file -p {BRANCH}:deployments/{name}.json", nonempty),
        f"deployments {name} vs cat-file of it",
    )


def case_deployments(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    return (
        dagy(repo, "deployments"),
        sh(
            repo,
            f"git ls-tree {BRANCH} deployments/ | awk '{{print $3}}' | git cat-file --batch "
            "| wc -l",
            nonempty,
        ),
        "deployments (all) vs ls-tree + cat-file of the deployments folder",
    )


def case_log(repo: Path, paths: list[str], tmp: Path, versions: int) -> tuple[Proc, Proc, str]:
    flow = gen.flow_name(min(1, len(paths) - 1))

    def ok(out: str) -> None:
        expect(latest(versions) in out, f"log {flow} printed {out[:200]!r}")

    return (
        dagy(repo, "log", flow, check=ok),
        sh(repo, f"git log -F '--grep=Dagy-Flow: {flow}@' --format=%H {BRANCH}", nonempty),
        f"log {flow} vs git log --grep",
    )


def case_list_tags(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    team = gen.TEAMS[0]
    rows = sum(1 for i in range(len(paths)) if gen.flow_dir(i)[0] == team) * versions

    def ok(out: str) -> None:
        expect(out.count("\n") == rows + 1, f"list --tag printed {out.count(chr(10))} lines")

    return (
        dagy(repo, "list", "--tag", f"team={team}", "--tag", "env=prod", check=ok),
        every_record_floor(repo),
        f"list --tag team={team} --tag env=prod ({rows} rows) vs ls-tree + every record",
    )


def case_list_tags_cold(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    proc, floor, what = case_list_tags(repo, paths, tmp, versions)
    proc = dataclasses.replace(proc, before=_no_local_cache(repo))
    return proc, floor, what.replace("list --tag", "list --tag (no listing kept yet)", 1)


def case_list_all(repo: Path, paths: list[str], tmp: Path, versions: int) -> tuple[Proc, Proc, str]:
    rows = len(paths) * versions

    def ok(out: str) -> None:
        expect(out.count("\n") == rows + 1, f"list printed {out.count(chr(10))} lines")

    return (
        dagy(repo, "list", check=ok),
        every_record_floor(repo),
        f"list ({rows} rows) vs ls-tree + every record",
    )


def _changer(repo: Path, rel: str) -> Callable[[], None]:
    """Before each run, give `rel` new bytes (a new comment line): a real code change."""
    state = {"k": 0}
    original = (repo / rel).read_bytes()

    def change() -> None:
        state["k"] += 1
        (repo / rel).write_bytes(original + f"# bench change {state['k']}\n".encode())

    return change


def case_validate_one(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    rel = paths[min(42, len(paths) - 1)]
    proc = dagy(repo, "validate", rel, before=_changer(repo, rel))
    return (
        proc,
        floor_proc(repo, paths, tmp, BRANCH),
        f"validate {rel} (changed; what the hook does) vs read + sha256 of every file + ls-tree",
    )


def _no_local_cache(repo: Path) -> Callable[[], None]:
    """What a fresh CI clone lacks: dagy-git's local files under .git/dagy/."""

    def clear() -> None:
        shutil.rmtree(repo / ".git" / "dagy" / "cache", ignore_errors=True)

    return clear


def case_deploy_noop(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    def all_skipped(out: str) -> None:
        results = json.loads(out)["results"]
        moved = [r for r in results if r["status"] != "skipped"]
        expect(len(results) >= len(paths) and not moved, f"no-op deploy wrote {len(moved)}")

    # Checked once with --json (nothing written), then timed as a user types it.
    dagy(repo, "deploy", "--all", "--json", check=all_skipped).once()
    proc = dagy(repo, "deploy", "--all", before=_no_local_cache(repo))
    return (
        proc,
        floor_proc(repo, paths, tmp, BRANCH),
        "deploy --all, nothing changed, no local cache (a fresh clone) vs read + sha256 + ls-tree",
    )


def case_deploy_one(
    repo: Path, paths: list[str], tmp: Path, versions: int
) -> tuple[Proc, Proc, str]:
    rel = paths[min(7, len(paths) - 1)]
    change = _changer(repo, rel)
    clear = _no_local_cache(repo)

    def before() -> None:
        change()
        clear()

    return (
        dagy(repo, "deploy", "--all", before=before),
        floor_proc(repo, paths, tmp, BRANCH),
        f"deploy --all with {rel} changed (one flow updated) vs read + sha256 + ls-tree",
    )


CASES = [
    Case("version", case_version, {100: 0.08, 1000: 0.08, 5000: 0.08}),
    Case("show", case_show, {1000: 0.16, 5000: 0.16}),
    Case("show_bare", case_show_bare, {1000: 0.16, 5000: 0.16}),
    Case("deployments_name", case_deployment, {1000: 0.16, 5000: 0.16}),
    Case("deployments", case_deployments, {}),
    Case("log", case_log, {1000: 0.16, 5000: 0.16}),
    Case("list_tags", case_list_tags, {1000: 0.2, 5000: 0.5}),
    Case("list_tags_cold", case_list_tags_cold, {1000: 0.2, 5000: 0.5}),
    Case("list_all", case_list_all, {}),
    Case("validate_one", case_validate_one, {1000: 0.3}),
    Case("deploy_noop", case_deploy_noop, {1000: 0.5, 5000: 2.0}),
    Case("deploy_one", case_deploy_one, {1000: 0.6}),
]


def repository(n: int, versions: int, reuse: Path | None, tmp: Path) -> tuple[Path, list[str]]:
    """A generated repository of `n` flows x `versions` (reused from `reuse` when there)."""
    paths = [gen.flow_relpath(i) for i in range(n)]
    if reuse is not None:
        repo = reuse / f"n{n}-v{versions}"
        if (repo / ".git").is_dir():
            return repo, paths
    else:
        repo = tmp / f"n{n}"
    gen.generate(repo, n, versions, progress=True)
    return repo, paths


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", default="100,1000", help="flow counts, comma-separated")
    p.add_argument("--big", action="store_true", help="add N = 5,000 (minutes to generate)")
    p.add_argument("--versions", type=int, default=5, help="registered versions per flow")
    p.add_argument("--runs", type=int, default=5, help="timed runs per figure")
    p.add_argument("--reuse", type=Path, help="keep and reuse generated repositories here")
    p.add_argument("--only", help="comma-separated figure names")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    args = p.parse_args(argv)
    args.sizes = sorted({int(s) for s in args.sizes.split(",")} | ({5000} if args.big else set()))
    if args.only:
        known = {c.name for c in CASES}
        unknown = set(args.only.split(",")) - known
        if unknown:
            p.error(f"unknown figures {sorted(unknown)}; known: {sorted(known)}")
    return args


def summary(results: dict[str, dict[int, Figure]], sizes: list[int]) -> list[str]:
    """One line per figure: medians at every N, ratio to the floor, growth 1,000 → 5,000."""
    lines = ["# figure: " + ", ".join(f"N={n}" for n in sizes) + "  (median; x = ratio to floor)"]
    for name, by_n in results.items():
        cells = []
        for n in sizes:
            fig = by_n.get(n)
            if fig is not None:
                cells.append(f"{fig.median:.3f} s ({fig.ratio or 0:.1f}x)")
        text = f"{name}: " + ", ".join(cells)
        if 1000 in by_n and 5000 in by_n:
            text += f"; growth 1,000 -> 5,000: {by_n[5000].median / by_n[1000].median:.2f}x"
            floors = [statistics.median(by_n[k].floor_samples) for k in (1000, 5000)]
            text += f" (its floor: {floors[1] / floors[0]:.2f}x)"
        lines.append(text)
    return lines


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print; exit 3 when a command failed or printed the wrong thing."""
    args = parse(argv)
    only = set(args.only.split(",")) if args.only else None
    tmp = Path(tempfile.mkdtemp(prefix="dagy-scale-")).resolve()
    if args.reuse is not None:
        args.reuse.mkdir(parents=True, exist_ok=True)
    results: dict[str, dict[int, Figure]] = {}
    print(
        f"# dagy-git scale bench: N = {args.sizes}, {args.versions} versions, {args.runs} runs; "
        f"{os.cpu_count()} CPUs, load average {load()}",
        flush=True,
    )
    try:
        for n in args.sizes:
            repo, paths = repository(n, args.versions, args.reuse, tmp)
            head = gen.git(repo, "rev-parse", "HEAD")
            for case in CASES:
                if only is not None and case.name not in only:
                    continue
                proc, floor, what = case.make(repo, paths, tmp, args.versions)
                fig = measure(
                    f"{case.name}[{n}]",
                    proc,
                    args.runs,
                    case.targets.get(n),
                    floor=floor,
                    floor_name="floor",
                    measured=what,
                )
                results.setdefault(case.name, {})[n] = fig
                print(fig.line(), flush=True)
                # Undo what the figure changed in the work tree (not the registry).
                gen.git(repo, "checkout", "-q", head, "--", ".")
    except (BenchError, gen.GenError, subprocess.CalledProcessError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 3
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for line in summary(results, args.sizes):
        print(line)
    missed = [f.name for by_n in results.values() for f in by_n.values() if not f.ok]
    print(f"# load average at the end: {load()}")
    print("# missed: " + (", ".join(missed) if missed else "none"))
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
