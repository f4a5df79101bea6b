"""What the Flows page shows, built from plain registry rows: one card per flow (its latest
version), cards grouped by namespace, the namespace tree and the tag chips.

Pure functions over `FlowRow`s, so the page's logic is tested without a server or a
browser; `ui.py` makes the rows from the server's registry view.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from dagy_git.server.ui_filters import Filters

__all__ = ["Card", "FlowRow", "Grid", "NamespaceChip", "TagChip", "build_grid"]


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
class Card:
    """One flow on the grid: its latest version, when it changed, its deployments and tags."""

    row: FlowRow
    versions: int
    deployments: tuple[str, ...]
    tags: tuple[TagChip, ...]


@dataclass(frozen=True)
class Grid:
    """The whole Flows page: cards grouped by namespace, plus the chips around them."""

    filters: Filters
    groups: list[tuple[str, list[Card]]]
    namespaces: list[NamespaceChip]
    tag_facets: list[TagChip]
    active_tags: list[TagChip]
    total_flows: int
    shown: int = field(default=0)


def _ancestors(namespace: str) -> list[str]:
    parts = namespace.split("/") if namespace else []
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _namespace_tree(cards: list[Card], filters: Filters) -> list[NamespaceChip]:
    """Every namespace and its ancestors, depth-first, counting the flows shown below each
    (the namespace filter itself ignored, so the tree still offers the way out)."""
    counts: dict[str, int] = {}
    for card in cards:
        for ns in _ancestors(card.row.namespace):
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


def build_grid(rows: Iterable[FlowRow], filters: Filters) -> Grid:
    """The Flows page for `filters`: one card per flow whose latest version matches."""
    all_rows = list(rows)
    versions: dict[str, int] = {}
    deployments: dict[str, set[str]] = {}
    for row in all_rows:
        versions[row.flow_name] = versions.get(row.flow_name, 0) + 1
        deployments.setdefault(row.flow_name, set()).update(row.deployments)
    heads = {r.flow_name: r for r in all_rows if r.is_latest}

    def card(row: FlowRow) -> Card:
        chips = tuple(
            TagChip(k, v, filters.has_tag(k, v), filters.toggle_tag(k, v).url())
            for k, v in sorted(row.tags.items())
        )
        return Card(row, versions[row.flow_name], tuple(sorted(deployments[row.flow_name])), chips)

    # The namespace tree counts what the tags and search leave, before the namespace cut.
    unscoped = Filters(tags=filters.tags, q=filters.q)
    candidates = [
        card(r) for r in heads.values() if unscoped.matches(r.flow_name, r.namespace, r.tags)
    ]
    shown = [c for c in candidates if filters.matches(c.row.flow_name, c.row.namespace, c.row.tags)]
    groups: dict[str, list[Card]] = {}
    facet_counts: dict[tuple[str, str], int] = {}
    for c in sorted(shown, key=lambda c: (c.row.namespace.split("/"), c.row.flow_name)):
        groups.setdefault(c.row.namespace, []).append(c)
        for k, v in c.row.tags.items():
            facet_counts[(k, v)] = facet_counts.get((k, v), 0) + 1
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
        total_flows=len(heads),
        shown=len(shown),
    )
