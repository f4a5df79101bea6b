"""What the Flows page shows, built from plain registry rows: one card per flow (its latest
version), cards grouped by namespace, the namespace tree and the tag chips.

Pure functions over `FlowRow`s, so the page's logic is tested without a server or a
browser; `ui.py` makes the rows from the server's registry view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from dagy_git.server.ui_filters import Filters

__all__ = [
    "Card",
    "FlowRow",
    "FlowSummary",
    "Grid",
    "NamespaceChip",
    "TagChip",
    "build_grid",
    "summarize",
]


@dataclass(frozen=True)
class FlowRow:
    """One registered flow version, as the pages need it."""

    flow_name: str
    flow_version: str
    namespace: str
    tags: dict[str, str]
    code_hash: str | None
    updated_at: str
    is_latest: bool = True  # the flow's most recently deployed version: the one on its card
    registered_at: str = ""
    deployments: tuple[str, ...] = ()
    updated_by: str = ""


@dataclass(frozen=True)
class TagChip:
    """A `key:value` chip and where clicking it leads (it toggles the tag filter)."""

    key: str
    value: str
    active: bool
    href: str
    count: int = 0

    @property
    def text(self) -> str:
        """What the chip reads."""
        return f"{self.key}:{self.value}"


@dataclass(frozen=True)
class NamespaceChip:
    """One namespace of the tree, with how many shown flows lie in its subtree."""

    namespace: str
    depth: int
    count: int
    active: bool
    href: str

    @property
    def text(self) -> str:
        """The last segment: the tree's indentation says the rest."""
        return self.namespace.rsplit("/", 1)[-1]


@dataclass(frozen=True)
class FlowSummary:
    """One flow: its latest version's row, how many versions it has, every deployment."""

    row: FlowRow
    versions: int
    deployments: tuple[str, ...]


@dataclass(frozen=True)
class Card:
    """One flow on the grid: its summary and its tags as chips for the current filter."""

    flow: FlowSummary
    tags: tuple[TagChip, ...]

    @property
    def row(self) -> FlowRow:
        """The flow's latest version."""
        return self.flow.row


@dataclass(frozen=True)
class Grid:
    """The whole Flows page: cards grouped by namespace, plus the chips around them."""

    filters: Filters
    groups: list[tuple[str, list[Card]]]
    namespaces: list[NamespaceChip]
    tag_facets: list[TagChip]
    active_tags: list[TagChip]
    total_flows: int
    matching: int  # flows that pass the filter
    limit: int  # at most this many cards are drawn

    @property
    def shown(self) -> int:
        """Cards on the page."""
        return min(self.matching, self.limit)


def summarize(rows: Iterable[FlowRow]) -> list[FlowSummary]:
    """One summary per flow, in the grid's order (namespace tree, then name). Depends only
    on the registry, so the server computes it once per registry commit."""
    versions: dict[str, int] = {}
    deployments: dict[str, set[str]] = {}
    heads: list[FlowRow] = []
    for row in rows:
        versions[row.flow_name] = versions.get(row.flow_name, 0) + 1
        deployments.setdefault(row.flow_name, set()).update(row.deployments)
        if row.is_latest:
            heads.append(row)
    heads.sort(key=lambda r: (r.namespace.split("/"), r.flow_name.casefold(), r.flow_name))
    return [
        FlowSummary(r, versions[r.flow_name], tuple(sorted(deployments[r.flow_name])))
        for r in heads
    ]


def _ancestors(namespace: str) -> list[str]:
    parts = namespace.split("/") if namespace else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _namespace_tree(flows: list[FlowSummary], filters: Filters) -> list[NamespaceChip]:
    """Every namespace and its ancestors, depth-first, counting the flows shown below each
    (the namespace filter itself ignored, so the tree still offers the way out)."""
    counts: dict[str, int] = {}
    for flow in flows:
        for ns in _ancestors(flow.row.namespace):
            counts[ns] = counts.get(ns, 0) + 1
    return [
        NamespaceChip(
            namespace=ns,
            depth=ns.count("/"),
            count=counts[ns],
            active=ns == filters.namespace,
            href=filters.with_namespace(ns).url(),
        )
        for ns in sorted(counts, key=lambda n: n.split("/"))
    ]


def build_grid(flows: list[FlowSummary], filters: Filters, limit: int = 10**9) -> Grid:
    """The Flows page for `filters`: a card for each flow whose latest version matches, the
    first `limit` of them drawn; chips and counts cover every match."""
    # The namespace tree counts what the tags and search leave, before the namespace cut.
    unscoped = Filters(tags=filters.tags, q=filters.q)
    candidates = [
        f for f in flows if unscoped.matches(f.row.flow_name, f.row.namespace, f.row.tags)
    ]
    matching = [f for f in candidates if filters.in_namespace(f.row.namespace)]
    groups: dict[str, list[Card]] = {}
    facet_counts: dict[tuple[str, str], int] = {}
    for index, flow in enumerate(matching):
        for pair in flow.row.tags.items():
            facet_counts[pair] = facet_counts.get(pair, 0) + 1
        if index < limit:
            chips = tuple(
                TagChip(k, v, filters.has_tag(k, v), filters.toggle_tag(k, v).url())
                for k, v in sorted(flow.row.tags.items())
            )
            groups.setdefault(flow.row.namespace, []).append(Card(flow, chips))
    facets = [
        TagChip(k, v, filters.has_tag(k, v), filters.toggle_tag(k, v).url(), n)
        for (k, v), n in sorted(facet_counts.items())
    ]
    active = [TagChip(k, v, True, filters.without_tag(k, v).url()) for k, v in filters.tags]
    return Grid(
        filters=filters,
        groups=list(groups.items()),
        namespaces=_namespace_tree(candidates, filters),
        tag_facets=facets,
        active_tags=active,
        total_flows=len(flows),
        matching=len(matching),
        limit=limit,
    )
