"""Run the dagy-git benchmarks and print one line per figure.

    python bench/run.py [--only specs|registry|all] [--n 1000] [--versions 5]
                        [--log-commits 10000] [--runs 5] [--quick] [--strict] [--keep]

Every figure times WHOLE PROCESSES (`python -m dagy_git …`, as a user or CI runs it), on a
repository that bench/gen.py generates in a temporary folder (removed afterwards unless
`--keep`). Each command runs once untimed (warm-up and correctness check: exit 0 and the
expected output), then R times; the median, min and max are printed. The machine may be
shared and noisy, so where a figure has a floor, the command and its floor run interleaved
in the same loop and the ratio is the median of the per-run ratios.

Exit status: 0 when every figure was measured (misses are reported, not fatal), 1 with
`--strict` when a target was missed, 3 when a command failed or printed the wrong thing.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import gen  # bench/ is a folder of scripts, not a package

CHECKOUT = Path(__file__).resolve().parent.parent
FLOOR_SCRIPT = '''\
"""Floor: read and SHA-256 the flow files (and optionally `git ls-tree -r` a branch)."""
import hashlib, subprocess, sys
paths = open(sys.argv[1], encoding="utf-8").read().split("\\n")
digests = [hashlib.sha256(open(p, "rb").read()).hexdigest() for p in paths if p]
if len(sys.argv) > 2:
    subprocess.run(["git", "ls-tree", "-r", sys.argv[2]], check=True, capture_output=True)
print(len(digests))
'''
QUICK = {"n": 20, "versions": 2, "log_commits": 50, "runs": 1}
FULL = {"n": 1000, "versions": 5, "log_commits": 10000, "runs": 5}
# The big-module figure: analyse one generated module of this many bytes, against the floor
# of `ast.parse` of the same bytes in a process of its own (the least any analyser must do).
BIG_MODULE = {"quick": 200_000, "full": 5_000_000}
ANALYSE_BIG = """\
import sys
from dagy_git.analysis import analyze_source
result = analyze_source(open(sys.argv[1], "rb").read(), "big.py")
print(len(result.flows), len(result.problems))
"""
# The floor parses with the cyclic GC off, as the analyser does: a collection pass over a
# growing tree of millions of nodes is not work an analyser has to do.
PARSE_BIG = """\
import ast, gc, sys
gc.disable()
ast.parse(open(sys.argv[1], "rb").read())
print("parsed")
"""


class BenchError(RuntimeError):
    """A measured command failed or printed something other than what it should."""


@dataclass
class Proc:
    """How to start one whole process, and how to check what it printed."""

    argv: list[str]
    cwd: Path
    check: Callable[[str], None] | None = None
    before: Callable[[], None] | None = None  # untimed preparation before every run
    check_stderr: bool = False  # `check` reads stderr (where summaries go) instead of stdout

    def once(self) -> tuple[float, str]:
        """Run it once; return (wall seconds, stdout); raise BenchError when it fails."""
        if self.before is not None:
            self.before()
        t0 = time.perf_counter()
        proc = subprocess.run(
            self.argv, cwd=self.cwd, capture_output=True, env=gen.bench_env(), check=False
        )
        elapsed = time.perf_counter() - t0
        if proc.returncode != 0:
            raise BenchError(
                f"{' '.join(self.argv[2:])} exited {proc.returncode}:\n"
                + proc.stderr.decode("utf-8", "replace")[-2000:]
            )
        return elapsed, (proc.stderr if self.check_stderr else proc.stdout).decode(
            "utf-8", "replace"
        )


@dataclass
class Figure:
    """One measured figure: its samples, target, and (optionally) its floor's samples."""

    name: str
    target: float | None
    samples: list[float]
    floor_name: str | None = None
    floor_samples: list[float] = field(default_factory=list)
    ratio_target: float | None = None
    measured: str = ""

    @property
    def median(self) -> float:
        return statistics.median(self.samples)

    @property
    def ratio(self) -> float | None:
        if not self.floor_samples:
            return None
        return statistics.median(
            s / f for s, f in zip(self.samples, self.floor_samples, strict=True)
        )

    @property
    def ok(self) -> bool:
        time_ok = self.target is None or self.median < self.target
        ratio = self.ratio
        ratio_ok = self.ratio_target is None or (ratio is not None and ratio <= self.ratio_target)
        return time_ok and ratio_ok

    def line(self) -> str:
        """`name: median X.XXX s (min …, max …) [target < T s] OK/MISS; ratio …`."""
        s = self.samples
        text = f"{self.name}: median {self.median:.3f} s (min {min(s):.3f}, max {max(s):.3f})"
        if self.target is not None:
            verdict = "OK" if self.median < self.target else "MISS"
            text += f" [target < {self.target:g} s] {verdict}"
        else:
            text += " [info]"
        ratio = self.ratio
        if ratio is not None:
            text += f"; ratio {ratio:.2f}x {self.floor_name}"
            if self.ratio_target is not None:
                verdict = "OK" if ratio <= self.ratio_target else "MISS"
                text += f" [target <= {self.ratio_target:g}x] {verdict}"
        if self.measured:
            text += f"  ({self.measured})"
        return text


def measure(
    name: str,
    proc: Proc,
    runs: int,
    target: float | None,
    *,
    floor: Proc | None = None,
    floor_name: str | None = None,
    ratio_target: float | None = None,
    measured: str = "",
) -> Figure:
    """Warm up (and check) once, then time `proc` `runs` times, interleaved with `floor`."""
    _, out = proc.once()
    if proc.check is not None:
        proc.check(out)
    if floor is not None:
        floor.once()
    fig = Figure(name, target, [], floor_name, [], ratio_target, measured)
    for _ in range(runs):
        fig.samples.append(proc.once()[0])
        if floor is not None:
            fig.floor_samples.append(floor.once()[0])
    return fig


def dagy(
    cwd: Path,
    *args: str,
    check: Callable[[str], None] | None = None,
    before: Callable[[], None] | None = None,
) -> Proc:
    """A `python -m dagy_git ARGS` process in `cwd`."""
    return Proc([sys.executable, "-m", "dagy_git", *args], cwd, check, before)


def expect(cond: bool, message: str) -> None:
    """Raise BenchError unless `cond`: a figure of a command that did the wrong thing is void."""
    if not cond:
        raise BenchError(message)


# -- figures ------------------------------------------------------------------------------


def floor_proc(repo: Path, paths: list[str], tmp: Path, *branch: str) -> Proc:
    """The floor process: read + SHA-256 the flow files (+ `ls-tree -r` of `branch`)."""
    listing = tmp / "flow-files.txt"
    listing.write_text("\n".join(str(repo / p) for p in paths) + "\n")
    floor_py = tmp / "floor.py"
    floor_py.write_text(FLOOR_SCRIPT)
    n = len(paths)
    return Proc(
        [sys.executable, str(floor_py), str(listing), *branch],
        repo,
        lambda out: expect(out.strip() == str(n), f"floor hashed {out.strip()} files"),
    )


def spec_figures(
    repo: Path, paths: list[str], tmp: Path, runs: int, emit: Callable[[Figure], None]
) -> None:
    """Issue "flow specs": validate and spec of every flow, against reading + hashing."""
    n = len(paths)
    floor = floor_proc(repo, paths, tmp)
    emit(
        measure(
            "floor.read_hash",
            floor,
            runs,
            None,
            measured=f"python script: read + sha256 of {n} flow files",
        )
    )

    def validated(out: str) -> None:
        expect(f"checked {n} flows" in out, f"validate said: {out[-300:]!r}")

    emit(
        measure(
            "specs.validate",
            Proc([sys.executable, "-m", "dagy_git", "validate"], repo, validated, None, True),
            runs,
            1.0,
            floor=floor,
            floor_name="floor.read_hash",
            measured=f"validate, whole repository, {n} flows",
        )
    )

    def specs_ok(out: str) -> None:
        data = json.loads(out)
        items = data["results"] if isinstance(data, dict) else data
        expect(len(items) >= n, f"expected {n} specs, got {len(items)}")
        expect(all(i.get("code_hash") for i in items), "an item without code_hash")

    # `spec` takes several PATH[:FUNCTION] targets now (it took one at first): pass every
    # file at once; with an older CLI fall back to the closest one-process equivalent.
    multi = subprocess.run(
        [sys.executable, "-m", "dagy_git", "spec", "--json", *paths[:2]],
        cwd=repo,
        capture_output=True,
        env=gen.bench_env(),
        check=False,
    )
    if multi.returncode == 0 and len(json.loads(multi.stdout)) >= min(2, n):
        proc, what = (
            dagy(repo, "spec", "--json", *paths, check=specs_ok),
            f"spec --json with all {n} files",
        )
    else:
        proc, what = (
            dagy(repo, "deploy", "--all", "--dry-run", "--json", check=specs_ok),
            "deploy --all --dry-run --json, empty registry: spec takes one target",
        )
    emit(
        measure(
            "specs.spec_json",
            proc,
            runs,
            1.0,
            floor=floor,
            floor_name="floor.read_hash",
            measured=what,
        )
    )
    one = paths[min(42, n - 1)]
    emit(
        measure(
            "specs.spec_one",
            dagy(repo, "spec", "--json", one),
            runs,
            None,
            measured=f"spec --json {one}: fixed cost of one process",
        )
    )


def big_module(size: int) -> tuple[bytes, int]:
    """A module of about `size` bytes: helpers, tasks and one flow per five blocks (what a
    generated or vendored module looks like); returns its text and how many flows it holds."""
    parts = ["from dagy import flow, task\n"]
    total, i, flows = 0, 0, 0
    while total < size:
        chunk = (
            f"\nROWS_{i} = [{', '.join(str(n) for n in range(40))}]\n\n\n"
            f"def helper_{i}(rows):\n    total = 0\n    for row in rows:\n"
            f"        if row % 3 == 0:\n            total += row * 2\n"
            f"        else:\n            total -= row\n    return total\n\n\n"
            f"@task(retries=1)\ndef extract_{i}(source: str) -> list:\n    return [source]\n\n\n"
            f"@task\ndef transform_{i}(records: list) -> list:\n    return records\n"
        )
        if i % 5 == 0:
            flows += 1
            chunk += (
                f'\n\n@flow(name="etl_{i}", version="1.{i}")\n'
                f'def etl_{i}(source: str = "s3://data/{i}/"):\n'
                f"    raw = extract_{i}(source)\n    for r in raw:\n        if r:\n"
                f"            clean = transform_{i}(raw)\n    return transform_{i}(clean)\n"
            )
        parts.append(chunk)
        total += len(chunk)
        i += 1
    return "".join(parts).encode(), flows


def analysis_figures(tmp: Path, size: int, runs: int, emit: Callable[[Figure], None]) -> None:
    """One big module analysed in a process of its own, against `ast.parse` of it: the
    analyser stays linear in its input (this replaced a wall-clock assert in the tests)."""
    text, flows = big_module(size)
    module = tmp / "big.py"
    module.write_bytes(text)
    (tmp / "analyse_big.py").write_text(ANALYSE_BIG)
    (tmp / "parse_big.py").write_text(PARSE_BIG)

    def analysed(out: str) -> None:
        expect(out.split() == [str(flows), "0"], f"expected {flows} flows, 0 problems: {out!r}")

    floor = Proc([sys.executable, str(tmp / "parse_big.py"), str(module)], tmp)
    emit(
        measure(
            "analysis.big_file",
            Proc([sys.executable, str(tmp / "analyse_big.py"), str(module)], tmp, analysed),
            runs,
            None,
            floor=floor,
            floor_name="floor.parse_big",
            ratio_target=4.0,
            measured=f"analyze_source of one {len(text) / 1e6:.1f} MB module, {flows} flows",
        )
    )


def registry_figures(
    repo: Path,
    paths: list[str],
    tmp: Path,
    args: argparse.Namespace,
    runs: int,
    emit: Callable[[Figure], None],
) -> None:
    """Issue "registry": deploy (unchanged / first), list, show, log."""
    n, versions = len(paths), args.versions
    floor = floor_proc(repo, paths, tmp, "dagy/registry")
    emit(
        measure(
            "floor.read_hash_lstree",
            floor,
            runs,
            None,
            measured=f"read + sha256 of {n} files + git ls-tree -r of the registry",
        )
    )

    def all_skipped(out: str) -> None:
        results = json.loads(out)["results"]
        moved = [r for r in results if r["status"] != "skipped"]
        expect(
            len(results) >= n and not moved,
            f"deploy --all on an unchanged repo wrote {len(moved)} of {len(results)}",
        )

    # Check once with --json that nothing is written, then time what a user types.
    dagy(repo, "deploy", "--all", "--json", check=all_skipped).once()
    emit(
        measure(
            "registry.deploy_noop",
            dagy(repo, "deploy", "--all"),
            runs,
            1.5,
            floor=floor,
            floor_name="floor.read_hash_lstree",
            ratio_target=3.0,
            measured=f"deploy --all, {n} flows x {versions} versions, all unchanged",
        )
    )

    # First deploy: a fresh clone of main (no registry branch, no tags, no remote) before
    # every run.
    fresh = tmp / "fresh"

    def reclone() -> None:
        shutil.rmtree(fresh, ignore_errors=True)
        gen.git(
            tmp,
            "clone",
            "-q",
            "--no-tags",
            "--single-branch",
            "--branch",
            "main",
            str(repo),
            str(fresh),
        )
        # A clone deploys on top of its remote's registry (a fresh clone must not start a
        # second one): without the remote, this measures a first registration of n flows.
        gen.git(fresh, "remote", "remove", "origin")

    def all_registered(out: str) -> None:
        results = json.loads(out)["results"]
        expect(
            sum(r["status"] == "registered" for r in results) >= n,
            f"first deploy registered {sum(r['status'] == 'registered' for r in results)}",
        )

    dagy(fresh, "deploy", "--all", "--json", check=all_registered, before=reclone).once()
    emit(
        measure(
            "registry.deploy_first",
            dagy(fresh, "deploy", "--all", before=reclone),
            runs,
            5.0,
            floor=floor,
            floor_name="floor.read_hash_lstree",
            measured=f"deploy --all of {n} new flows, fresh clone per run",
        )
    )
    shutil.rmtree(fresh, ignore_errors=True)

    team = gen.TEAMS[0]
    members = sum(1 for i in range(n) if gen.flow_dir(i)[0] == team)

    def listed(out: str) -> None:
        items = json.loads(out)
        expect(
            len(items) == members * versions,
            f"list --tag found {len(items)}, expected {members * versions}",
        )

    tag_args = ("--tag", f"team={team}", "--tag", "env=prod")
    dagy(repo, "list", *tag_args, "--json", check=listed).once()
    emit(
        measure(
            "registry.list_tags",
            dagy(repo, "list", *tag_args),
            runs,
            0.5,
            measured=f"list {' '.join(tag_args)}: {members * versions} rows",
        )
    )

    shown = gen.flow_name(min(42, n - 1))

    def showed(out: str) -> None:
        detail = json.loads(out)
        expect(
            detail["flow_name"] == shown and detail["flow_version"] == gen.version_of(versions - 1),
            f"show {shown} gave {out[:200]!r}",
        )

    dagy(repo, "show", shown, "--json", check=showed).once()
    emit(measure("registry.show", dagy(repo, "show", shown), runs, 0.4, measured=f"show {shown}"))

    t0 = time.perf_counter()
    added = gen.grow_log(repo, args.log_commits)
    grow = time.perf_counter() - t0
    total = int(gen.git(repo, "rev-list", "--count", "dagy/registry"))
    logged = gen.flow_name(min(1, n - 1))
    per_flow = added // min(10, n)  # tag commits go round robin over flow_0000…flow_0009

    def logged_ok(out: str) -> None:
        items = json.loads(out)
        tags = sum(1 for i in items if i["action"] == "tags")
        expect(
            tags >= per_flow and items[0]["flow_version"] == gen.version_of(versions - 1),
            f"log {logged}: {len(items)} entries, {tags} tag changes, expected {per_flow}",
        )

    entries = len(json.loads(dagy(repo, "log", logged, "--json", check=logged_ok).once()[1]))
    emit(
        measure(
            "registry.log",
            dagy(repo, "log", logged),
            runs,
            0.5,
            measured=f"log {logged}: {entries} entries, registry of {total} commits "
            f"({added} added in {grow:.1f} s)",
        )
    )


# -- main ---------------------------------------------------------------------------------


def load() -> str:
    """The 1/5/15-minute load averages: a busy machine explains slow absolute figures."""
    try:
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    except OSError:  # not available on this platform
        return "n/a"


def parse(argv: list[str] | None) -> argparse.Namespace:
    """Options; `--quick` only changes the defaults, explicit values still win."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--only", choices=("specs", "registry", "all"), default="all")
    p.add_argument("--n", type=int, help="flows (default 1000; --quick 20)")
    p.add_argument("--versions", type=int, help="registered versions per flow (default 5)")
    p.add_argument("--log-commits", type=int, help="registry commits for `log` (default 10000)")
    p.add_argument("--runs", type=int, help="timed runs per figure (default 5; --quick 1)")
    p.add_argument("--quick", action="store_true", help="tiny sizes: a smoke run")
    p.add_argument("--strict", action="store_true", help="exit 1 when a target is missed")
    p.add_argument("--keep", action="store_true", help="keep the generated repository")
    args = p.parse_args(argv)
    for key, value in (QUICK if args.quick else FULL).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.n < 1 or args.runs < 1 or args.versions < 1:
        p.error("--n, --runs and --versions must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    """Generate, measure, print; see the module docstring for the exit status."""
    args = parse(argv)
    tmp = Path(tempfile.mkdtemp(prefix="dagy-bench-")).resolve()
    if tmp.is_relative_to(CHECKOUT):
        print(f"bench: refusing to work inside the checkout ({tmp})", file=sys.stderr)
        return 3
    figs: list[Figure] = []

    def emit(fig: Figure) -> None:
        figs.append(fig)
        print(fig.line(), flush=True)

    try:
        repo = tmp / "repo"
        versions = args.versions if args.only != "specs" else 0
        t0 = time.perf_counter()
        paths = gen.generate(repo, args.n, versions)
        print(
            f"# dagy-git bench: {args.n} flows, {versions} versions, "
            f"{args.runs} runs; generated in {time.perf_counter() - t0:.1f} s in {tmp}; "
            f"{os.cpu_count()} CPUs, load average {load()}",
            flush=True,
        )
        if args.only in ("specs", "all"):
            spec_repo = repo
            if versions:  # specs run on a work tree without a registry
                spec_repo = tmp / "specs"
                gen.git(
                    tmp,
                    "clone",
                    "-q",
                    "--no-tags",
                    "--single-branch",
                    "--branch",
                    "main",
                    str(repo),
                    str(spec_repo),
                )
            spec_figures(spec_repo, paths, tmp, args.runs, emit)
            size = BIG_MODULE["quick" if args.quick else "full"]
            analysis_figures(tmp, size, args.runs, emit)
        if args.only in ("registry", "all"):
            registry_figures(repo, paths, tmp, args, args.runs, emit)
    except (BenchError, gen.GenError) as exc:
        print(f"bench: error: {exc}", file=sys.stderr)
        return 3
    finally:
        if args.keep:
            print(f"# kept {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    missed = [f.name for f in figs if not f.ok]
    print(f"# load average at the end: {load()}")
    print(
        f"# {len(figs) - len(missed)}/{len(figs)} figures OK"
        + (f"; missed: {', '.join(missed)}" if missed else "")
    )
    return 1 if args.strict and missed else 0


if __name__ == "__main__":
    sys.exit(main())
