"""The server's read model: the registry read once per branch commit, shared by every request.

`RegistryState.view()` answers with an immutable `RegistryView` of the branch's current
commit. Checking whether the branch moved is one `for-each-ref` call; only then is the
registry read again (records, tags, deployments and drafts in a few batched reads), so a
CLI deploy in another terminal shows up on the next request without a restart, and a warm
`GET /flows` never touches git beyond that check. Plain Python: no web framework here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from dagy_git import queries
from dagy_git.registry import Registry
from dagy_git.registry.log import LogEntry, last_changes, read_log

if TYPE_CHECKING:
    from dagy_git.config import Settings
    from dagy_git.models import DeploymentRecord, DraftRecord
    from dagy_git.registry import Snapshot

__all__ = [
    "DeploymentItem",
    "DraftItem",
    "FlowDetail",
    "FlowItem",
    "RegistryState",
    "RegistryView",
]


@dataclass(frozen=True)
class FlowItem:
    """One registered flow version, as lists show it (the spec's FlowListItem, plus more)."""

    flow_name: str
    flow_version: str
    namespace: str
    tags: dict[str, str]
    code_hash: str | None
    updated_at: str
    registered_at: str
    source_path: str | None
    source_commit: str | None
    deployments: tuple[str, ...]
    is_latest: bool

    def to_json(self) -> dict[str, Any]:
        """The FlowListItem fields (as `list --json`), then the extra ones."""
        return {
            "flow_name": self.flow_name,
            "flow_version": self.flow_version,
            "namespace": self.namespace,
            "tags": dict(self.tags),
            "code_hash": self.code_hash,
            "updated_at": self.updated_at,
            "registered_at": self.registered_at,
            "source_path": self.source_path,
            "source_commit": self.source_commit,
            "deployments": list(self.deployments),
            "is_latest": self.is_latest,
        }


@dataclass(frozen=True)
class FlowDetail:
    """One flow version in full: its list item, stored FlowSpec and record details."""

    item: FlowItem
    flow_spec: dict[str, Any]
    source_file_hash: str | None
    dirty: bool

    @property
    def tags(self) -> dict[str, str]:
        """The flow version's dagy tags."""
        return self.item.tags

    @property
    def deployments(self) -> tuple[str, ...]:
        """Names of the deployments bound to this flow version."""
        return self.item.deployments

    @property
    def source_path(self) -> str | None:
        """Where the flow file was, repo-relative, when it was deployed."""
        return self.item.source_path

    @property
    def source_commit(self) -> str | None:
        """The commit the flow was deployed from (None for an API registration)."""
        return self.item.source_commit

    def to_json(self) -> dict[str, Any]:
        """A FlowDetailResponse (as `show --json`), plus the list item's extra fields."""
        out = self.item.to_json()
        out.update(
            flow_spec=self.flow_spec,
            source_file_hash=self.source_file_hash,
            dirty=self.dirty,
        )
        return out


@dataclass(frozen=True)
class DeploymentItem:
    """One deployment (as `deployments --json`)."""

    name: str
    flow_name: str
    flow_version: str
    namespace: str
    tags: dict[str, str]
    schedule: str | None
    parameters: dict[str, Any]
    deployment_version: int
    code_hash: str | None
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, d: DeploymentRecord) -> DeploymentItem:
        """From the stored record."""
        return cls(**d.model_dump())

    def to_json(self) -> dict[str, Any]:
        """`deployments --json` fields plus `created_at`."""
        return {**self.__dict__, "tags": dict(self.tags), "parameters": dict(self.parameters)}


@dataclass(frozen=True)
class DraftItem:
    """One DAG draft (the spec's DagDraftResponse)."""

    id: str
    name: str
    canvas_json: str
    tags: dict[str, str]
    created_at: str
    updated_at: str

    @classmethod
    def of(cls, draft_id: str, d: DraftRecord) -> DraftItem:
        """From the stored record and its id."""
        return cls(id=draft_id, **d.model_dump())

    def to_json(self) -> dict[str, Any]:
        """The DagDraftResponse fields."""
        return {**self.__dict__, "tags": dict(self.tags)}


@dataclass
class RegistryView:
    """The registry at one commit (`commit` None: no registry yet). Never changes once
    built; the few things read on demand (specs, history) are cached per view."""

    registry: Registry
    commit: str | None
    flows: list[FlowItem]  # every version, by (flow_name, flow_version)
    deployments: list[DeploymentItem]  # by name
    drafts: list[DraftItem]  # by name, then id
    _by_key: dict[tuple[str, str], FlowItem] = field(default_factory=dict, repr=False)
    _latest: dict[str, FlowItem] = field(default_factory=dict, repr=False)
    _details: dict[tuple[str, str], FlowDetail | None] = field(default_factory=dict, repr=False)
    _logs: dict[str, list[LogEntry]] = field(default_factory=dict, repr=False)
    _last: dict[tuple[str, str], LogEntry] | None = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def __post_init__(self) -> None:
        self._by_key = {(f.flow_name, f.flow_version): f for f in self.flows}
        self._latest = {f.flow_name: f for f in self.flows if f.is_latest}

    # -- flows ------------------------------------------------------------------------

    def flow(self, name: str, version: str) -> FlowItem | None:
        """One flow version's list item, or None."""
        return self._by_key.get((name, version))

    def latest(self, name: str) -> FlowItem | None:
        """A flow's most recently deployed version, or None if it is not registered."""
        return self._latest.get(name)

    def versions(self, name: str) -> list[FlowItem]:
        """Every version of a flow, most recently deployed first."""
        found = [f for f in self.flows if f.flow_name == name]
        return sorted(found, key=lambda f: (f.updated_at, f.flow_version), reverse=True)

    def select(
        self,
        *,
        namespace: str | None = None,
        tags: queries.TagFilter | None = None,
        q: str | None = None,
        latest_only: bool = False,
    ) -> list[FlowItem]:
        """Flow versions in `namespace` (and below) whose tags pass `tags` and whose name
        contains `q` (case-insensitive); only each flow's latest version with `latest_only`."""
        needle = q.casefold() if q else None
        return [
            f
            for f in self.flows
            if (not latest_only or f.is_latest)
            and queries.in_namespace(f.namespace, namespace)
            and (tags is None or tags.matches(f.tags))
            and (needle is None or needle in f.flow_name.casefold())
        ]

    def namespaces(self) -> list[str]:
        """Every namespace that holds a flow, and each one's ancestors, sorted ("" first)."""
        found: set[str] = set()
        for f in self.flows:
            parts = f.namespace.split("/") if f.namespace else []
            found.update("/".join(parts[:i]) for i in range(len(parts) + 1))
        return sorted(found)

    def detail(self, name: str, version: str) -> FlowDetail | None:
        """One flow version with its stored FlowSpec (read once per view), or None."""
        item = self.flow(name, version)
        if item is None:
            return None
        with self._lock:
            if (name, version) not in self._details:
                with self.registry.snapshot(self.commit) as snap:
                    record = snap.record(name, version)
                    spec = snap.spec(name, version) or {}
                self._details[(name, version)] = (
                    None
                    if record is None
                    else FlowDetail(item, spec, record.source_file_hash, record.dirty)
                )
            return self._details[(name, version)]

    def log(self, flow_name: str) -> list[LogEntry]:
        """Every change of a flow up to this view's commit, newest first (one `git log`)."""
        with self._lock:
            if flow_name not in self._logs:
                self._logs[flow_name] = read_log(self.registry.root, self.commit, flow_name)
            return self._logs[flow_name]

    def last_change(self, name: str, version: str) -> LogEntry | None:
        """Who last changed a flow version and when (one `git log` for the whole view)."""
        with self._lock:
            if self._last is None:
                self._last = last_changes(self.registry.root, self.commit)
            return self._last.get((name, version))

    # -- deployments and drafts -------------------------------------------------------

    def select_deployments(self, tags: queries.TagFilter | None = None) -> list[DeploymentItem]:
        """Deployments whose tags pass `tags`, by name."""
        return [d for d in self.deployments if tags is None or tags.matches(d.tags)]

    def deployment(self, name: str) -> DeploymentItem | None:
        """One deployment by name, or None."""
        return next((d for d in self.deployments if d.name == name), None)

    def select_drafts(self, tags: queries.TagFilter | None = None) -> list[DraftItem]:
        """Drafts whose tags pass `tags`."""
        return [d for d in self.drafts if tags is None or tags.matches(d.tags)]

    def draft(self, draft_id: str) -> DraftItem | None:
        """One draft by id, or None."""
        return next((d for d in self.drafts if d.id == draft_id), None)


def read_view(registry: Registry, snap: Snapshot) -> RegistryView:
    """Read everything lists need from one snapshot, in a few batched reads."""
    all_tags = snap.all_flow_tags()
    records = snap.records(list(all_tags))
    deployments = [DeploymentItem.of(d) for d in sorted(snap.deployments(), key=lambda d: d.name)]
    bound: dict[tuple[str, str], list[str]] = {}
    for d in deployments:
        bound.setdefault((d.flow_name, d.flow_version), []).append(d.name)
    latest: dict[str, tuple[str, str]] = {}
    for rec in records.values():
        mark = (rec.updated_at, rec.flow_version)
        if rec.flow_name not in latest or mark > latest[rec.flow_name]:
            latest[rec.flow_name] = mark
    flows = [
        FlowItem(
            flow_name=rec.flow_name,
            flow_version=rec.flow_version,
            namespace=rec.namespace,
            tags=all_tags.get(key, {}),
            code_hash=rec.code_hash,
            updated_at=rec.updated_at,
            registered_at=rec.registered_at,
            source_path=rec.source_path,
            source_commit=rec.source_commit,
            deployments=tuple(bound.get(key, ())),
            is_latest=latest[rec.flow_name] == (rec.updated_at, rec.flow_version),
        )
        for key, rec in sorted(records.items())
    ]
    drafts = sorted(
        (DraftItem.of(i, d) for i, d in snap.drafts().items()), key=lambda d: (d.name, d.id)
    )
    return RegistryView(registry, snap.commit, flows, deployments, drafts)


class RegistryState:
    """The registry of one repository as the server sees it: a view per branch commit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry.from_settings(settings)
        self._view: RegistryView | None = None
        self._lock = threading.Lock()

    def view(self) -> RegistryView:
        """The view of the branch's current commit: cached until the branch moves."""
        tip = self.registry.tip()
        current = self._view
        if current is not None and current.commit == tip:
            return current
        with self._lock:  # one reader rebuilds; the others wait for its view
            current = self._view
            if current is None or current.commit != tip:
                with self.registry.snapshot(tip) as snap:
                    current = read_view(self.registry, snap)
                self._view = current
            return current

    def invalidate(self) -> None:
        """Forget the cached view (after a write of our own, the next read re-reads)."""
        self._view = None


def tag_filter(all_of: dict[str, str], any_of: Iterable[tuple[str, str]] = ()) -> queries.TagFilter:
    """A `queries.TagFilter` (AND over `all_of`, OR over `any_of`)."""
    return queries.TagFilter(dict(all_of), list(any_of))
