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
from typing import TYPE_CHECKING

from dagy_git import gitio, queries
from dagy_git.names import decode_name, decode_version
from dagy_git.registry import Registry
from dagy_git.registry.log import LogEntry, last_changes, read_log
from dagy_git.registry.snapshot import MARKER
from dagy_git.registry.types import Key
from dagy_git.server.items import DeploymentItem, DraftItem, FlowDetail, FlowItem

if TYPE_CHECKING:
    from dagy_git.config import Settings
    from dagy_git.models import FlowRecord
    from dagy_git.registry import Snapshot

__all__ = [
    "DeploymentItem",
    "DraftItem",
    "FlowDetail",
    "FlowItem",
    "RegistryState",
    "RegistryView",
]


@dataclass
class RegistryView:
    """The registry at one commit (`commit` None: no registry yet). Never changes once
    built; the few things read on demand (specs, history) are cached per view."""

    registry: Registry
    commit: str | None
    flows: list[FlowItem]  # every version, by (flow_name, flow_version)
    deployments: list[DeploymentItem]  # by name
    drafts: list[DraftItem]  # by name, then id
    # What the lists were made from, kept so the next commit's view re-reads only changes.
    records: dict[Key, FlowRecord] = field(default_factory=dict, repr=False)
    tags: dict[Key, dict[str, str]] = field(default_factory=dict, repr=False)
    _by_key: dict[tuple[str, str], FlowItem] = field(default_factory=dict, repr=False)
    _latest: dict[str, FlowItem] = field(default_factory=dict, repr=False)
    _details: dict[tuple[str, str], FlowDetail | None] = field(default_factory=dict, repr=False)
    _logs: dict[str, list[LogEntry]] = field(default_factory=dict, repr=False)
    _last: dict[tuple[str, str], LogEntry] | None = field(default=None, repr=False)
    # The previous view's commit and its last changes, if read: only newer commits are read.
    _last_base: tuple[str, dict[tuple[str, str], LogEntry]] | None = field(default=None, repr=False)
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
                root = self.registry.root
                if self._last_base is not None and self._descends(self._last_base[0]):
                    base, known = self._last_base
                    self._last = {**known, **last_changes(root, self.commit, since=base)}
                else:
                    self._last = last_changes(root, self.commit)
                self._last_base = None
            return self._last.get((name, version))

    def _descends(self, commit: str) -> bool:
        """Whether this view's commit has `commit` in its history (the branch moved on)."""
        return self.commit is not None and gitio.is_ancestor(
            self.registry.root, commit, self.commit
        )

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


def assemble(
    registry: Registry,
    commit: str | None,
    records: dict[Key, FlowRecord],
    tags: dict[Key, dict[str, str]],
    deployments: list[DeploymentItem],
    drafts: list[DraftItem],
) -> RegistryView:
    """A view from what was read: list items with their deployments and latest marks."""
    deployments = sorted(deployments, key=lambda d: d.name)
    bound: dict[Key, list[str]] = {}
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
            tags=tags.get(key, {}),
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
    drafts = sorted(drafts, key=lambda d: (d.name, d.id))
    return RegistryView(registry, commit, flows, deployments, drafts, records, tags)


def read_view(registry: Registry, snap: Snapshot) -> RegistryView:
    """Read everything lists need from one snapshot, in a few batched reads."""
    tags = snap.all_flow_tags()
    records = snap.records(list(tags))
    deployments = [DeploymentItem.of(d) for d in snap.deployments()]
    drafts = [DraftItem.of(i, d) for i, d in snap.drafts().items()]
    return assemble(registry, snap.commit, records, tags, deployments, drafts)


_MAX_CHANGED = 2000  # changed files; past this a whole read costs about the same


def update_view(old: RegistryView, snap: Snapshot) -> RegistryView:
    """The view of `snap`, re-reading only the files changed since `old`'s commit (one
    `git diff-tree`): a deploy of one flow re-reads one flow, not the whole registry."""
    if old.commit is None or snap.commit is None:
        return read_view(old.registry, snap)
    paths = gitio.changed_paths(old.registry.root, old.commit, snap.commit)
    if len(paths) > _MAX_CHANGED:
        return read_view(old.registry, snap)
    keys: set[Key] = set()
    deployments: set[str] = set()
    drafts: set[str] = set()
    for path in paths:
        parts = path.split("/")
        if parts[0] == "flows" and len(parts) >= 4:
            try:
                # names are escaped like versions (`Daily%20Sales%20ETL`)
                keys.add((decode_name(parts[1]), decode_version(parts[2])))
            except (ValueError, UnicodeDecodeError):
                return read_view(old.registry, snap)  # which names the bad path
        elif parts[0] in ("deployments", "drafts") and len(parts) == 2:
            if parts[1].endswith(".json"):
                (deployments if parts[0] == "deployments" else drafts).add(parts[1][:-5])
        elif path != MARKER:  # not a file this view knows how to patch: read it all
            return read_view(old.registry, snap)
    records, tags = dict(old.records), dict(old.tags)
    fresh = snap.records(sorted(keys))
    fresh_tags = snap.flow_tags_many(sorted(fresh))
    for key in keys:
        if key in fresh:
            records[key], tags[key] = fresh[key], fresh_tags[key]
        else:
            records.pop(key, None)
            tags.pop(key, None)
    deps = {d.name: d for d in old.deployments}
    for name in deployments:
        rec = snap.deployment(name)
        if rec is None:
            deps.pop(name, None)
        else:
            deps[name] = DeploymentItem.of(rec)
    kept = {d.id: d for d in old.drafts}
    for draft_id in drafts:
        draft = snap.draft(draft_id)
        if draft is None:
            kept.pop(draft_id, None)
        else:
            kept[draft_id] = DraftItem.of(draft_id, draft)
    new = assemble(
        old.registry, snap.commit, records, tags, list(deps.values()), list(kept.values())
    )
    if old._last is not None:  # who changed what: carried over, topped up when asked
        new._last_base = (old.commit, old._last)
    else:
        new._last_base = old._last_base
    return new


class RegistryState:
    """The registry of one repository as the server sees it: a view per branch commit."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.registry = Registry.from_settings(settings)
        self._view: RegistryView | None = None
        self._lock = threading.Lock()
        self._tips = _TipCheck(self.registry)

    def view(self) -> RegistryView:
        """The view of the branch's current commit: cached until the branch moves."""
        tip = self._tips.current()
        current = self._view
        if current is not None and current.commit == tip:
            return current
        with self._lock:  # one reader rebuilds; the others wait for its view
            current = self._view
            if current is None or current.commit != tip:
                with self.registry.snapshot(tip) as snap:
                    if current is None:
                        current = read_view(self.registry, snap)
                    else:
                        current = update_view(current, snap)
                self._view = current
            return current

    def invalidate(self) -> None:
        """Forget the cached view: the next read reads the whole registry again."""
        self._view = None


class _TipCheck:
    """The branch tip, asked of git at most once at a time however many requests ask.

    A request needs a check that *started after it arrived* (so a deploy finished before
    the request is seen); requests arriving while a check runs wait for it, then share
    the one check that starts next. 200 concurrent reads cost two or three `for-each-ref`
    calls instead of 200.
    """

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._cond = threading.Condition()
        self._started = 0  # checks started so far
        self._finished = 0  # the number of the last check that finished
        self._running = False
        self._tip: str | None = None

    def current(self) -> str | None:
        """The branch's commit, as seen by a check that started after this call."""
        with self._cond:
            arrived = self._started
            while True:
                if self._finished > arrived:
                    return self._tip
                if not self._running:
                    self._running = True
                    self._started += 1
                    mine = self._started
                    break
                self._cond.wait()
        tip: str | None = None
        asked = False
        try:
            tip = self._registry.tip()
            asked = True
        finally:
            with self._cond:
                self._running = False
                if asked:  # a failed check answers nobody: the next waiter asks again
                    self._tip, self._finished = tip, mine
                self._cond.notify_all()
        return tip


def tag_filter(all_of: dict[str, str], any_of: Iterable[tuple[str, str]] = ()) -> queries.TagFilter:
    """A `queries.TagFilter` (AND over `all_of`, OR over `any_of`)."""
    return queries.TagFilter(dict(all_of), list(any_of))
