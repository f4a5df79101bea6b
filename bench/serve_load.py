"""A bounded loopback load on a running `dagy-git serve`: many requests released at once.

Used by `bench/serve.py` (latency figures) and by `tests/server/test_load.py` (0 errors,
0 lost writes, distinct deployment_versions). Standard library only: one thread per
request, all held at a barrier and released together, plus optionally one more thread
running something alongside (a CLI deploy); nothing sleeps to order anything.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One finished request: what was asked, the status (0: no answer) and how long it took."""

    kind: str  # "read" or "write"
    method: str
    path: str
    status: int
    seconds: float
    body: Any


def request(
    base: str, method: str, path: str, body: Any = None, token: str | None = None, kind: str = ""
) -> Call:
    """One HTTP request with urllib; never raises for an HTTP or connection error."""
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    if data is not None:
        req.add_header("content-type", "application/json")
    if token is not None:
        req.add_header("authorization", f"Bearer {token}")
    start = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=300) as resp:
            status, raw = resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read()
    except OSError as exc:  # refused, reset, timed out: counted as an error, not raised
        status, raw = 0, str(exc).encode()
    seconds = time.perf_counter() - start
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = raw.decode("utf-8", "replace")
    return Call(kind or method, method, path, status, seconds, parsed)


def storm(
    base: str,
    reads: list[str],
    writes: list[tuple[str, str, Any]],
    *,
    token: str | None,
    alongside: Callable[[], Any] | None = None,
) -> tuple[list[Call], Any]:
    """Send every read (`GET path`) and write (`(method, path, body)`) at once; run
    `alongside` at the same moment. Returns every call and what `alongside` returned."""
    jobs: list[Callable[[], Any]] = [
        lambda p=p: request(base, "GET", p, kind="read") for p in reads
    ] + [lambda w=w: request(base, *w, token=token, kind="write") for w in writes]
    if alongside is not None:
        jobs.append(alongside)
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = [None] * len(jobs)

    def run(i: int) -> None:
        barrier.wait()
        results[i] = jobs[i]()

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(jobs))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    calls = [r for r in results[: len(reads) + len(writes)]]
    return calls, results[-1] if alongside is not None else None


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100) of `values`, by linear interpolation."""
    if len(values) == 1:
        return values[0]
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    return cuts[max(0, min(98, round(q) - 1))]
