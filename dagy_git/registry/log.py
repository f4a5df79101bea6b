"""The registry's history: commit-message trailers written per operation, read back by `log`.

A registry commit's message is its subject, a blank line, then one block of trailers:
per flow version `Dagy-Flow`, `Dagy-Action`, `Dagy-Code-Hash`, `Dagy-Namespace`,
`Dagy-Source-Commit`; per deployment `Dagy-Deployment` (`name#deployment_version`) and
`Dagy-Deployment-Flow`; per retired deployment `Dagy-Deployment-Retired`; per draft
`Dagy-Draft`; then the caller's extra trailers. So
`git log` alone tells the story, and `log` needs one `git log` and no blob reads.
"""

from __future__ import annotations

import functools
import itertools
import re
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

from dagy_git import gitio
from dagy_git.registry.changes import deployment_changes, flow_changes
from dagy_git.registry.types import Transaction

__all__ = [
    "HistoryQuery",
    "LogEntry",
    "format_message",
    "last_changes",
    "parse_trailer_lines",
    "read_history",
    "read_log",
]

_TRAILER_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]*\Z")


@dataclass(frozen=True)
class LogEntry:
    """One change of one flow version or deployment, as `log --json` prints it.

    `kind` is `flow` (a flow version registered, updated, re-tagged), `deployment` (a
    deployment changed while its flow version did not), `retired`, or `registry` (a commit
    about neither, such as the registry's creation). `changes` says what changed, in words;
    `deployments` names the deployments (`name#deployment_version`) the same commit wrote
    for this flow version.
    """

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
    kind: str = "flow"
    deployment_name: str | None = None
    deployment_version: int | None = None
    changes: tuple[str, ...] = ()
    deployments: tuple[str, ...] = ()
    source_author: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The `log --json` item (DESIGN.md fields plus the ones added since)."""
        out = asdict(self)
        out["changes"] = list(self.changes)
        out["deployments"] = list(self.deployments)
        return out


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


SOURCE_HEAD = "Dagy-Source-Head"


def last_source_head(root: Path, tip: str | None) -> str | None:
    """The work-tree commit the latest deploy reachable from `tip` was made from."""
    if tip is None:
        return None
    for commit in gitio.log_messages(root, tip, greps=[f"{SOURCE_HEAD}: "], max_count=1):
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
    return read_history(root, tip, HistoryQuery(flow_name=flow_name, version=version), limit)


@dataclass(frozen=True)
class HistoryQuery:
    """Which history `read_history` returns: the whole registry's, one flow's (optionally
    one version's), or one deployment's; `since` is a date git understands."""

    flow_name: str | None = None
    version: str | None = None
    deployment: str | None = None
    since: str | None = None

    def greps(self) -> list[str]:
        """Fixed strings a commit's message must hold one of (narrowing in git; exact
        matching on names happens in Python, since `a@` also matches `big_a@`)."""
        if self.flow_name is not None:
            return [f"Dagy-Flow: {self.flow_name}@", f"Dagy-Deployment-Flow: {self.flow_name}@"]
        if self.deployment is not None:
            return [
                f"Dagy-Deployment: {self.deployment}#",
                f"Dagy-Deployment-Retired: {self.deployment}",
            ]
        return []

    def wants_flow(self, name: str, version: str) -> bool:
        """Whether a flow version's own entries belong in this history."""
        if self.deployment is not None:
            return False
        if self.flow_name is None:
            return True
        return name == self.flow_name and (self.version is None or version == self.version)

    def wants_deployment(self, name: str, flow: tuple[str, str]) -> bool:
        """Whether a deployment's entries belong in this history."""
        if self.deployment is not None:
            return name == self.deployment
        if self.flow_name is None:
            return True
        return self.wants_flow(*flow)


@functools.lru_cache(maxsize=4096)
def _segment(text: str) -> str:
    """A name as one path segment of the registry (the one reversible escaping)."""
    from dagy_git.names import encode_version

    return encode_version(text)


def _split_flow(value: str) -> tuple[str, str]:
    name, _, version = value.partition("@")
    return name, version


def read_history(
    root: Path, tip: str | None, query: HistoryQuery, limit: int | None = None
) -> list[LogEntry]:
    """The registry's history from `tip` back, newest first, each entry saying what
    changed (`_commits`, then one batch of blob reads)."""
    if tip is None or (limit is not None and limit <= 0):
        return []
    drafts: list[_Draft] = []
    for commit, trailers, files in _commits(root, tip, query):
        drafts += _draft(commit, trailers, files, query)
        if limit is not None and len(drafts) >= limit:
            del drafts[limit:]
            break  # `-n`: only the blobs of the entries shown are read
    # One batch: the blobs whose change needs reading, and the deployed source commits
    # (for who wrote the code; a commit this clone lacks is simply not found).
    sources = {d.entry.source_commit for d in drafts if d.entry.source_commit}
    blobs = _read_blobs(root, [oid for d in drafts for oid in d.blobs()] + sorted(sources))
    return [d.finish(blobs) for d in drafts]


Trailers = list[tuple[str, str]]


def _commits(
    root: Path, tip: str, query: HistoryQuery
) -> list[tuple[gitio.LogCommit, Trailers, list[gitio.ChangedFile]]]:
    """The commits of `query`'s history, each with the trailers and the changed files the
    history needs.

    The whole registry's: one `git log --raw`. One flow's or deployment's: the commits whose
    trailers name it (`--grep`), only the trailer groups that name it, and only its own
    files (one `diff-tree --stdin` over those commits). One `deploy --all` commit of 5,000
    flows holds 26,000 trailer lines and rewrites 15,000 files: reading them all made
    `log FLOW` grow with the registry. (No `git log -- PATHS`: that diffs every commit of
    the history to limit it by path.)
    """
    greps = query.greps()
    if not greps:
        changed = gitio.log_changes(root, tip, since=query.since)
        return [(c, parse_trailer_lines(c.message), files) for c, files in changed]
    commits = gitio.log_messages(root, tip, greps=greps, since=query.since)
    trailers = {c.oid: _naming(c.message, greps) for c in commits}
    paths = {
        f"deployments/{name}.json"
        for found in trailers.values()
        for name, flow in _deployment_pairs(found)
        if query.wants_deployment(name, flow)
    }
    if query.flow_name is not None:
        folder = f"flows/{_segment(query.flow_name)}/"
        paths.add(folder + f"{_segment(query.version)}/" if query.version else folder)
    files = gitio.changed_files(root, [c.oid for c in commits], sorted(paths))
    return [(c, trailers[c.oid], files[c.oid]) for c in commits]


# Where a flow version's trailer group ends: the next group of any kind.
_GROUP_END = re.compile(r"\nDagy-(?:Flow|Deployment|Draft)[:-]")


def _naming(message: str, greps: list[str]) -> Trailers:
    """The trailer groups of `message` that hold one of `greps` (`HistoryQuery.greps`), in
    message order: a flow version's whole group, a deployment's two lines, a retirement's
    line. Found with `str.find`, so a long message costs only its matching groups."""
    spans: set[tuple[int, int]] = set()
    for needle in greps:
        pos = message.find("\n" + needle)
        while pos >= 0:
            start = pos + 1
            if needle.startswith("Dagy-Flow: "):
                found = _GROUP_END.search(message, start + 1)
                end = found.start() if found else len(message)
            elif needle.startswith("Dagy-Deployment-Flow: "):
                start = message.rfind("\n", 0, pos) + 1  # with its `Dagy-Deployment` line
                end = _line_end(message, _line_end(message, start) + 1)
            elif needle.startswith("Dagy-Deployment: "):
                end = _line_end(message, _line_end(message, start) + 1)  # and its flow
            else:
                end = _line_end(message, start)
            spans.add((start, end))
            pos = message.find("\n" + needle, pos + 1)
    return parse_trailer_lines("\n".join(message[a:b] for a, b in sorted(spans)))


def _line_end(text: str, start: int) -> int:
    end = text.find("\n", start)
    return end if end >= 0 else len(text)


def _deployment_pairs(trailers: Trailers) -> list[tuple[str, tuple[str, str]]]:
    """`(deployment, (flow, version))` of each `Dagy-Deployment` trailer and its flow."""
    return [
        (value.rpartition("#")[0], _split_flow(next_value))
        for (key, value), (next_key, next_value) in itertools.pairwise(trailers)
        if key == "Dagy-Deployment" and next_key == "Dagy-Deployment-Flow"
    ]


def last_changes(
    root: Path, tip: str | None, since: str | None = None
) -> dict[tuple[str, str], LogEntry]:
    """The newest change of every flow version reachable from `tip` (one `git log`): who
    last deployed it and when, for views that show every flow at once. With `since` (a
    commit `tip` descends from), only the changes after it."""
    if tip is None:
        return {}
    out: dict[tuple[str, str], LogEntry] = {}
    revs = f"{since}..{tip}" if since else tip
    for commit in gitio.log_messages(root, revs, greps=["Dagy-Flow: "]):
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


def _author(commit: bytes | None) -> str | None:
    """The author's name in a raw commit object."""
    for line in (commit or b"").split(b"\n"):
        if not line:
            break
        if line.startswith(b"author "):
            return line[7:].decode("utf-8", "replace").rpartition(" <")[0] or None
    return None


def _read_blobs(root: Path, oids: list[str]) -> dict[str, bytes]:
    """The contents of the named objects, each read once, in one `cat-file --batch`."""
    unique = list(dict.fromkeys(oids))
    if not unique:
        return {}
    reader = gitio.CatFile(root)
    try:
        objs = reader.read_many(unique)
    finally:
        reader.close()
    return {oid: obj.data for oid, obj in zip(unique, objs, strict=True) if obj is not None}


@dataclass
class _Draft:
    """An entry before its blobs are read: the blob ids its `changes` need."""

    entry: LogEntry
    record: tuple[str | None, str | None] | None = None
    tags: tuple[str | None, str | None] | None = None
    sources: list[str] | None = None
    deployment: tuple[str | None, str | None] | None = None
    merged: list[tuple[str, tuple[str | None, str | None]]] | None = None

    def blobs(self) -> list[str]:
        pairs = [self.record, self.tags, self.deployment, *(p for _, p in self.merged or [])]
        return [oid for pair in pairs if pair for oid in pair if oid]

    def finish(self, blobs: dict[str, bytes]) -> LogEntry:
        def got(
            pair: tuple[str | None, str | None] | None,
        ) -> tuple[bytes | None, bytes | None] | None:
            if pair is None:
                return None
            return (
                blobs.get(pair[0]) if pair[0] else None,
                blobs.get(pair[1]) if pair[1] else None,
            )

        e = self.entry
        if e.kind == "flow" and self.record is not None and self.record[0] is None:
            changes = ["first deploy"]  # no record before: nothing to compare, nothing read
        elif e.kind == "flow":
            changes = flow_changes(got(self.record), got(self.tags), self.sources or [], e.action)
        elif e.kind == "deployment":
            before, after = got(self.deployment) or (None, None)
            changes = deployment_changes(before, after)
        else:
            changes = list(e.changes)
        for name, pair in self.merged or []:
            before, after = got(pair) or (None, None)
            changes += [f"{name}: {c}" for c in deployment_changes(before, after)]
        return replace(
            e, changes=tuple(changes), source_author=_author(blobs.get(e.source_commit or ""))
        )


def _record_pair(
    pair: tuple[str | None, str | None] | None, action: str
) -> tuple[str | None, str | None] | None:
    """The record blobs worth reading for an entry with this action."""
    if pair is None or pair[0] is None or action in ("updated", "registered"):
        return pair
    return None


def _draft(
    commit: gitio.LogCommit,
    trailers: Trailers,
    files: list[gitio.ChangedFile],
    query: HistoryQuery,
) -> list[_Draft]:
    """The entries one commit contributes to the history `query` asks for."""
    subject = commit.message.split("\n", 1)[0]
    author, _, email = commit.author.rpartition(" <")
    base: dict[str, Any] = {
        "commit": commit.oid,
        "date": commit.date,
        "author": author,
        "author_email": email.rstrip(">"),
        "subject": subject,
    }
    by_path = {f.path: (f.old, f.new) for f in files}
    flows: dict[tuple[str, str], _Draft] = {}
    out: list[_Draft] = []
    group: dict[str, str] | None = None
    groups: list[dict[str, str]] = []
    deps: list[tuple[str, int | None, tuple[str, str]]] = []
    retired: list[str] = []
    for i, (key, value) in enumerate(trailers):
        if key == "Dagy-Flow":
            group = {"Dagy-Flow": value}
            groups.append(group)
        elif key == "Dagy-Deployment":
            group = None
            dep_name, _, counter = value.rpartition("#")
            flow_value = next(
                (v for k, v in trailers[i + 1 : i + 2] if k == "Dagy-Deployment-Flow"), "@"
            )
            number = int(counter) if counter.isdigit() else None
            deps.append((dep_name, number, _split_flow(flow_value)))
        elif key == "Dagy-Deployment-Retired":
            group = None
            retired.append(value)
        elif key.startswith("Dagy-Draft"):
            group = None
        elif group is not None:
            group.setdefault(key, value)
    for g in groups:
        name, version = _split_flow(g["Dagy-Flow"])
        if not query.wants_flow(name, version):
            continue
        folder = f"flows/{_segment(name)}/{_segment(version)}/"
        draft = _Draft(
            LogEntry(
                **base,
                flow_name=name,
                flow_version=version,
                code_hash=g.get("Dagy-Code-Hash") or None,
                namespace=g.get("Dagy-Namespace", ""),
                source_commit=g.get("Dagy-Source-Commit") or None,
                action=g.get("Dagy-Action", ""),
            ),
            # A record is read only where code can have changed: a tags or metadata change
            # rewrites record.json for its timestamp alone.
            record=_record_pair(by_path.get(folder + "record.json"), g.get("Dagy-Action", "")),
            tags=by_path.get(folder + "tags.json"),
            sources=[p[len(folder) + 7 :] for p in by_path if p.startswith(folder + "source/")],
        )
        flows[(name, version)] = draft
        out.append(draft)
    for name, number, flow in deps:
        if not query.wants_deployment(name, flow):
            continue
        pair = by_path.get(f"deployments/{name}.json")
        host = flows.get(flow)
        label = f"{name}#{number}" if number is not None else name
        if host is not None and query.deployment is None:
            # The flow version changed in the same commit: one entry says both.
            host.entry = replace(host.entry, deployments=(*host.entry.deployments, label))
            if pair is not None:
                host.merged = [*(host.merged or []), (name, pair)]
            continue
        out.append(
            _Draft(
                LogEntry(
                    **base,
                    flow_name=flow[0],
                    flow_version=flow[1],
                    code_hash=None,
                    namespace=None,
                    source_commit=None,
                    action="deployed",
                    kind="deployment",
                    deployment_name=name,
                    deployment_version=number,
                    deployments=(label,),
                ),
                deployment=pair or (None, None),
            )
        )
    for name in retired:
        if query.deployment not in (None, name) or query.flow_name is not None:
            continue
        entry = LogEntry(
            **base,
            flow_name="",
            flow_version="",
            code_hash=None,
            namespace=None,
            source_commit=None,
            action="retired",
            kind="retired",
            deployment_name=name,
            changes=("retired",),
        )
        out.append(_Draft(entry))
    if not groups and not deps and not retired and query == HistoryQuery(since=query.since):
        action = "initialized" if any(k == "Dagy-Registry-Format" for k, _ in trailers) else "other"
        entry = LogEntry(
            **base,
            flow_name="",
            flow_version="",
            code_hash=None,
            namespace=None,
            source_commit=None,
            action=action,
            kind="registry",
        )
        out.append(_Draft(entry))
    return out
