"""The Flows page's cards and chips, built from plain rows (no server)."""

from __future__ import annotations

from dagy_git.server.ui_filters import Filters
from dagy_git.server.ui_model import FlowRow, build_grid, summarize


def _row(name: str, version: str, ns: str, latest: bool = True, **tags: str) -> FlowRow:
    return FlowRow(
        flow_name=name,
        flow_version=version,
        namespace=ns,
        tags=tags,
        code_hash="h" * 64,
        updated_at=f"2026-01-0{len(version)}T00:00:00.000Z",
        is_latest=latest,
        deployments=(f"{name}-prod",) if "env" in tags else (),
    )


ROWS_ALL = [
    _row("order_etl", "2.1.0", "data/orders", team="data-eng", env="prod"),
    _row("order_etl", "2.0", "data/orders", latest=False, team="data-eng", env="dev"),
    _row("load_orders", "1.0.0", "data/ingestion", team="data-eng", env="staging"),
    _row("train", "latest", "ml", team="ml-ops", env="prod"),
    _row("hello", "0.1", ""),
]
ROWS = summarize(ROWS_ALL)


def _names(filters: Filters) -> list[str]:
    grid = build_grid(ROWS, filters)
    return [c.row.flow_name for _, cards in grid.groups for c in cards]


def test_one_card_per_flow_grouped_by_namespace() -> None:
    grid = build_grid(ROWS, Filters())
    assert [ns for ns, _ in grid.groups] == ["", "data/ingestion", "data/orders", "ml"]
    etl = grid.groups[2][1][0]
    assert (etl.row.flow_version, etl.flow.versions) == ("2.1.0", 2)
    assert etl.flow.deployments == ("order_etl-prod",)
    assert [c.text for c in etl.tags] == ["env:prod", "team:data-eng"]
    assert (grid.shown, grid.total_flows) == (4, 4)


def test_chips_narrow_with_and_and_link_to_the_next_filter() -> None:
    assert _names(Filters(tags=(("team", "data-eng"),))) == ["load_orders", "order_etl"]
    both = Filters(tags=(("team", "data-eng"), ("env", "prod")))
    assert _names(both) == ["order_etl"]
    grid = build_grid(ROWS, both)
    chips = {c.text: c for c in grid.groups[0][1][0].tags}
    assert chips["env:prod"].active
    assert chips["env:prod"].href == "/?tag=team%3Adata-eng"  # clicking removes it
    assert [(c.text, c.href) for c in grid.active_tags] == [
        ("team:data-eng", "/?tag=env%3Aprod"),
        ("env:prod", "/?tag=team%3Adata-eng"),
    ]
    # Old versions do not make a flow match: order_etl 2.0 has env:dev, its card does not.
    assert _names(Filters(tags=(("env", "dev"),))) == []


def test_namespace_tree_counts_subtrees_and_offers_the_way_out() -> None:
    grid = build_grid(ROWS, Filters(namespace="data"))
    tree = [(n.namespace, n.depth, n.count, n.active) for n in grid.namespaces]
    assert tree == [
        ("data", 0, 2, True),
        ("data/ingestion", 1, 1, False),
        ("data/orders", 1, 1, False),
        ("ml", 0, 1, False),
    ]
    assert grid.namespaces[0].href == "/"
    assert _names(Filters(namespace="data")) == ["load_orders", "order_etl"]
    facets = {c.text: c.count for c in grid.tag_facets}
    assert facets == {"team:data-eng": 2, "env:prod": 1, "env:staging": 1}


def test_search_by_name() -> None:
    assert _names(Filters(q="ORDER")) == ["load_orders", "order_etl"]
    assert build_grid(ROWS, Filters(q="nothing")).groups == []


def test_only_the_first_cards_are_drawn_but_counts_cover_every_match() -> None:
    grid = build_grid(ROWS, Filters(), limit=2)
    assert [c.row.flow_name for _, cards in grid.groups for c in cards] == ["hello", "load_orders"]
    assert (grid.shown, grid.matching) == (2, 4)
    assert {c.text: c.count for c in grid.tag_facets}["env:prod"] == 2
    assert sum(n.count for n in grid.namespaces if n.depth == 0) == 3
