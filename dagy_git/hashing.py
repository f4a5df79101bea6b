"""The frozen hashes: canonical JSON, `source_file_hash`, `code_hash` and `closure_hash`.

Changing anything here changes the hash of every flow of every user and so redeploys
them all; golden vectors in `tests/test_hashing.py` pin the values.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

__all__ = [
    "canonical_bytes",
    "canonical_json",
    "closure_hash",
    "code_hash",
    "source_file_hash",
]


def canonical_json(value: Any) -> str:
    """The one JSON text of `value`: sorted keys, no spaces, real UTF-8, no NaN."""
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


def canonical_bytes(value: Any) -> bytes:
    """Canonical JSON plus a final newline, UTF-8: how every registry file is stored."""
    return (canonical_json(value) + "\n").encode("utf-8")


def source_file_hash(source: bytes) -> str:
    """SHA-256 hex of a flow file's bytes after CRLF → LF (Windows hashes like Linux)."""
    return hashlib.sha256(source.replace(b"\r\n", b"\n")).hexdigest()


def code_hash(flow_spec: dict[str, Any], source_hash: str) -> str:
    """SHA-256 hex of `canonical_json(flow_spec) + "|" + source_file_hash`."""
    payload = canonical_json(flow_spec) + "|" + source_hash
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def closure_hash(files: dict[str, str]) -> str:
    """SHA-256 hex of the canonical JSON list of `[repo-relative path, source_file_hash]`,
    sorted by path: the flow file and every repository module it imports (DESIGN.md)."""
    payload = canonical_json(sorted([path, digest] for path, digest in files.items()))
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
