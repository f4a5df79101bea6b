"""Checksum verification of copied files, and a heartbeat flow with no tasks at all.

`verify_copy` has no `name=`, so its flow name is the function name.
"""

from __future__ import annotations

import hashlib
from typing import Optional

from dagy import flow, get_run_logger, task

CHUNK = 1024 * 1024


@task(retries=1)
def compute_checksum(path: str, algorithm: str = "sha256") -> str:
    """Hash a file in 1 MiB chunks."""
    digest = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(CHUNK), b""):
            digest.update(block)
    return digest.hexdigest()


@task
def compare_checksums(a: str, b: str) -> bool:
    if a != b:
        raise ValueError(f"checksum mismatch: {a} != {b}")
    return True


@flow
def verify_copy(src: str, dst: str, algorithm: Optional[str] = None) -> bool:
    """Verify that `dst` is a byte-for-byte copy of `src`."""
    algo = algorithm or "sha256"
    a = compute_checksum(src, algo)
    b = compute_checksum(dst, algo)
    return compare_checksums(a, b)


@flow(name="noop-heartbeat", retries=0)
def heartbeat(message: Optional[str] = None) -> None:
    """A flow with no tasks: it only logs, so monitors can see the worker is alive."""
    logger = get_run_logger()
    logger.info(message or "alive")


if __name__ == "__main__":
    verify_copy("/data/a.bin", "/backup/a.bin")
    heartbeat()
