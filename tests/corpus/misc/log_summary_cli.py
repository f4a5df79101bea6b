"""Summarise a log file by level; runnable as a script with argparse.

`flow_run_name` is a function (kept as written in the spec's options, not evaluated).
"""

from __future__ import annotations

import argparse
import json
import re
from collections import Counter
from datetime import datetime
from typing import Optional

from dagy import flow, task

LEVEL = re.compile(r"\b(DEBUG|INFO|WARNING|ERROR|CRITICAL)\b")


def run_name() -> str:
    return f"log-summary-{datetime.now():%Y%m%d-%H%M%S}"


@task
def read_lines(path: str) -> list[str]:
    with open(path, encoding="utf-8", errors="replace") as fh:
        return fh.readlines()


@task
def count_by_level(lines: list[str]) -> dict[str, int]:
    counts: Counter = Counter()
    for line in lines:
        match = LEVEL.search(line)
        counts[match.group(1) if match else "UNKNOWN"] += 1
    return dict(counts)


@task
def write_summary(counts: dict[str, int], out: str) -> str:
    with open(out, "w") as fh:
        json.dump(counts, fh, indent=2, sort_keys=True)
    return out


@flow(name="Log Summary CLI", flow_run_name=run_name, log_prints=True)
def log_summary(path: str, out: Optional[str] = None) -> dict[str, int]:
    lines = read_lines(path)
    counts = count_by_level(lines)
    if out is not None:
        write_summary(counts, out)
    print(json.dumps(counts, indent=2, sort_keys=True))
    return counts


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("path")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    counts = log_summary(args.path, args.out)
    return 1 if counts.get("ERROR", 0) or counts.get("CRITICAL", 0) else 0


if __name__ == "__main__":
    raise SystemExit(main())
