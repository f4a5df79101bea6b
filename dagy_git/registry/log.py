"""The registry's history: commit-message trailers written per operation, read back by `log`.

A registry commit's message is its subject, a blank line, then one block of trailers:
per flow version `Dagy-Flow`, `Dagy-Action`, `Dagy-Code-Hash`, `Dagy-Namespace`,
`Dagy-Source-Commit`; per deployment `Dagy-Deployment` (`name#deployment_version`) and
`Dagy-Deployment-Flow`; per retired deployment `Dagy-Deployment-Retired`; per draft
`Dagy-Draft`; then the caller's extra trailers. So
`git log` alone tells the story, and `log` needs one `git log` and no blob reads.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from dagy_git import gitio
from dagy_git.registry.types import Transaction

__all__ = ["LogEntry", "format_message", "last_changes", "parse_trailer_lines", "read_log"]

_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")


@dataclass(frozen=True)
class LogEntry:
    """One change of one flow version, as `log --json` prints it."""

    commit: str
    date: str  # author date, ISO 8601
    author: str  # the author's name
    flow_name: str
    flow_version: str
    code_hash: str | None
    namespace: str | None
    source_commit: str | None
    action: str
    subject: str
    author_email: str = ""

    def to_json(self) -> dict[str, Any]:
        """The `log --json` item (DESIGN.md fields plus `flow_name`, `subject`, `author_email`)."""
        return asdict(self)


def parse_trailer_lines(text: str) -> list[tuple[str, str]]:
    """`Key: value` lines of a message, in order (values kept verbatim, may be empty)."""
    out: list[tuple[str, str]] = []
    for line in text.split("\n"):
        key, sep, value = line.partition(": ")
        if not sep and line.endswith(":"):
            key, sep, value = line[:-1], ":", ""
        if sep and key.startswith("Dagy-") and " " not in key:
            out.append((key, value))
    return out


def _one_line(text: str) -> str:
    return " ".join(text.split("\n")).replace("\r", " ")


def format_message(txn: Transaction) -> str:
    """The commit message of one registry operation."""
    subject = _one_line(txn.subject).strip() or "dagy-git: update registry"
    trailers: list[tuple[str, str]] = []
    for fw in txn.flows:
        rec = fw.record
        trailers += [
            ("Dagy-Flow", f"{rec.flow_name}@{rec.flow_version}"),
            ("Dagy-Action", fw.action),
            ("Dagy-Code-Hash", rec.code_hash or ""),
            ("Dagy-Namespace", rec.namespace),
            ("Dagy-Source-Commit", rec.source_commit or ""),
        ]
    for dep in txn.deployments:
        trailers += [
            ("Dagy-Deployment", f"{dep.name}#{dep.deployment_version}"),
            ("Dagy-Deployment-Flow", f"{dep.flow_name}@{dep.flow_version}"),
        ]
    trailers += [("Dagy-Deployment-Retired", name) for name in txn.retired]
    trailers += [("Dagy-Draft", draft_id) for draft_id in txn.drafts]
    for key, value in txn.extra_trailers:
        if not _TRAILER_KEY.match(key):
            raise ValueError(f"invalid trailer key {key!r}")
        trailers.append((key, _one_line(value)))
    if not trailers:
        return subject + "\n"
    # An empty value is written as `Key:` so no line carries trailing whitespace.
    body = "\n".join(f"{k}: {v}" if v else f"{k}:" for k, v in trailers)
    return f"{subject}\n\n{body}\n"


def _entries(commit: gitio.LogCommit) -> list[dict[str, str]]:
    """The per-flow trailer groups of one commit message."""
    groups: list[dict[str, str]] = []
    current: dict[str, str] | None = None
    for key, value in parse_trailer_lines(commit.message):
        if key == "Dagy-Flow":
            current = {"Dagy-Flow": value}
            groups.append(current)
        elif key.startswith(("Dagy-Deployment", "Dagy-Draft")):
            current = None
        elif current is not None:
            current.setdefault(key, value)
    return groups


SOURCE_HEAD = "Dagy-Source-Head"


def last_source_head(root: Path, tip: str | None) -> str | None:
    """The work-tree commit the latest deploy reachable from `tip` was made from."""
    if tip is None:
        return None
    for commit in gitio.log_messages(root, tip, grep=f"{SOURCE_HEAD}: ", max_count=1):
        for key, value in parse_trailer_lines(commit.message):
            if key == SOURCE_HEAD and value:
                return value
    return None


def read_log(
    root: Path,
    tip: str | None,
    flow_name: str,
    version: str | None = None,
    limit: int | None = None,
) -> list[LogEntry]:
    """Every change of `flow_name` (and `version`, if given) from `tip` back, newest first."""
    if tip is None or (limit is not None and limit <= 0):
        return []
    # `--grep -F` narrows in git; exact matching on name and version happens here, since
    # the fixed string also matches `big_order_etl@…` and versions are free-form.
    out: list[LogEntry] = []
    for commit in gitio.log_messages(root, tip, grep=f"Dagy-Flow: {flow_name}@"):
        subject = commit.message.split("\n", 1)[0]
        author_name, _, email = commit.author.rpartition(" <")
        author_email = email.rstrip(">")
        for group in _entries(commit):
            name, _, ver = group["Dagy-Flow"].partition("@")
            if name != flow_name or (version is not None and ver != version):
                continue
            out.append(
                LogEntry(
                    commit=commit.oid,
                    date=commit.date,
                    author=author_name,
                    author_email=author_email,
                    flow_name=name,
                    flow_version=ver,
                    code_hash=group.get("Dagy-Code-Hash") or None,
                    namespace=group.get("Dagy-Namespace", ""),
                    source_commit=group.get("Dagy-Source-Commit") or None,
                    action=group.get("Dagy-Action", ""),
                    subject=subject,
                )
            )
            if limit is not None and len(out) >= limit:
                return out
    return out


def last_changes(root: Path, tip: str | None) -> dict[tuple[str, str], LogEntry]:
    """The newest change of every flow version reachable from `tip` (one `git log`): who
    last deployed it and when, for views that show every flow at once."""
    if tip is None:
        return {}
    out: dict[tuple[str, str], LogEntry] = {}
    for commit in gitio.log_messages(root, tip, grep="Dagy-Flow: "):
        subject = commit.message.split("\n", 1)[0]
        author_name, _, email = commit.author.rpartition(" <")
        for group in _entries(commit):
            name, _, ver = group["Dagy-Flow"].partition("@")
            if (name, ver) in out:
                continue  # newest first: an older change of it
            out[(name, ver)] = LogEntry(
                commit=commit.oid,
                date=commit.date,
                author=author_name,
                author_email=email.rstrip(">"),
                flow_name=name,
                flow_version=ver,
                code_hash=group.get("Dagy-Code-Hash") or None,
                namespace=group.get("Dagy-Namespace", ""),
                source_commit=group.get("Dagy-Source-Commit") or None,
                action=group.get("Dagy-Action", ""),
                subject=subject,
            )
    return out
