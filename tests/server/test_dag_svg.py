"""The DAG picture: layered layout (rows, waypoints, ports) and the SVG made from a spec."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

from dagy_git.server.dag_layout import BOX_HEIGHT, label_width, layout
from dagy_git.server.dag_svg import render_dag

SVG = "{http://www.w3.org/2000/svg}"


def _spec(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, object]:
    tasks = [{"id": i, "name": i.split("#")[0], "function": i.split("#")[0]} for i in ids]
    return {"name": "f", "tasks": tasks, "edges": [list(e) for e in edges]}


def _rows(ids: list[str], edges: list[tuple[str, str]]) -> dict[str, float]:
    return {b.id: b.y for b in layout(ids, edges).boxes}


def test_every_edge_points_down_one_row_per_step_of_the_longest_path() -> None:
    edges = [("extract", "transform"), ("transform", "load"), ("extract", "load")]
    y = _rows(["extract", "transform", "load"], edges)
    assert y["extract"] < y["transform"] < y["load"]
    drawn = layout(["extract", "transform", "load"], edges)
    for arrow in drawn.arrows:
        ys = [p[1] for p in arrow.points]
        assert ys == sorted(ys), arrow  # never climbs
    # The skipping edge extract -> load passes a waypoint in transform's row.
    skip = next(a for a in drawn.arrows if (a.source, a.target) == ("extract", "load"))
    assert len(skip.points) == 4


def test_a_chain_stands_straight_and_boxes_never_overlap() -> None:
    ids = ["a", "b", "c", "side"]
    drawn = layout(ids, [("a", "b"), ("b", "c")])
    by_id = {b.id: b for b in drawn.boxes}
    centres = {i: by_id[i].x + by_id[i].width / 2 for i in "abc"}
    assert centres["a"] == centres["b"] == centres["c"]
    for one in drawn.boxes:
        for other in drawn.boxes:
            if one is not other and one.y == other.y:
                assert one.x + one.width <= other.x or other.x + other.width <= one.x
    assert all(b.x >= 0 and b.x + b.width <= drawn.width for b in drawn.boxes)
    assert all(b.y + BOX_HEIGHT <= drawn.height for b in drawn.boxes)


def test_arrows_sharing_a_box_side_arrive_at_different_points() -> None:
    drawn = layout(["l", "r", "join"], [("l", "join"), ("r", "join")])
    ends = {a.points[-1] for a in drawn.arrows}
    assert len(ends) == 2


def test_unknown_self_and_duplicate_edges_are_left_out_and_a_cycle_does_not_fail() -> None:
    drawn = layout(["a", "b"], [("a", "b"), ("a", "b"), ("a", "ghost"), ("b", "b")])
    assert [(a.source, a.target) for a in drawn.arrows] == [("a", "b")]
    cyclic = layout(["a", "b", "c"], [("a", "b"), ("b", "c"), ("c", "b")])
    assert {b.id for b in cyclic.boxes} == {"a", "b", "c"}
    assert len(cyclic.arrows) == 3
    assert layout([], []).boxes == ()


def test_a_huge_dag_gets_straight_long_edges() -> None:
    ids = [f"t{i}" for i in range(400)]
    edges = [(a, b) for a, b in itertools.pairwise(ids)]
    edges += [("t0", t) for t in ids[2:]]  # 398 long edges spanning ~80,000 rows
    drawn = layout(ids, edges)
    assert len(drawn.boxes) == 400 and len(drawn.arrows) == len(edges)
    assert {len(a.points) for a in drawn.arrows} == {2}
    assert len(layout(ids[:50], [*edges[:49], ("t0", "t49")]).arrows[-1].points) > 2


def test_wide_characters_make_wider_boxes() -> None:
    assert label_width("注文処理") == label_width("abcdefgh")
    assert label_width("x" * 500) == label_width("y" * 300)  # long labels are cut


def test_svg_has_one_box_per_task_one_arrow_per_edge_and_escapes_text() -> None:
    spec = _spec(
        ["read_table", "read_table#2", "join<&>", "write"],
        [("read_table", "join<&>"), ("read_table#2", "join<&>"), ("join<&>", "write")],
    )
    spec["tasks"][2]["retries"] = 3  # type: ignore[index]
    spec["name"] = 'evil "<script>"'
    markup = render_dag(spec)
    assert "<script>" not in markup
    root = ET.fromstring(markup)  # well-formed XML, so a browser draws it
    assert root.tag == f"{SVG}svg"
    boxes = root.findall(f".//{SVG}g[@class='dag-task']")
    assert [b.get("data-task-id") for b in boxes] == [
        "read_table",
        "read_table#2",
        "join<&>",
        "write",
    ]
    edges = {
        (e.get("data-source"), e.get("data-target"))
        for e in root.findall(f".//{SVG}g[@class='dag-edge']")
    }
    assert edges == {("read_table", "join<&>"), ("read_table#2", "join<&>"), ("join<&>", "write")}
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "retries 3" in texts
    assert "4 tasks, 3 edges" in (root.get("aria-label") or "")


def test_an_empty_or_partial_spec_draws_an_empty_picture() -> None:
    root = ET.fromstring(render_dag({"name": "nothing"}))
    assert root.findall(f".//{SVG}g[@class='dag-task']") == []
    root = ET.fromstring(render_dag({"tasks": [{"id": "only"}], "edges": [["only"]]}))
    assert len(root.findall(f".//{SVG}g[@class='dag-task']")) == 1


def test_a_subflow_box_names_the_child_and_links_to_its_page() -> None:
    spec = _spec(["prepare", "child"], [("prepare", "child")])
    spec["tasks"][1].update(kind="flow", name="load orders", flow_version="1.0")  # type: ignore[index]
    markup = render_dag(spec, link=lambda name, version: f"/page/{name}/{version}")
    root = ET.fromstring(markup)
    link = root.find(f"{SVG}a")
    assert link is not None and link.get("href") == "/page/load orders/1.0"
    assert link.get("aria-label") == "Open subflow load orders"
    texts = ["".join(t.itertext()) for t in link.iter(f"{SVG}text")]
    assert texts == ["child", "subflow load orders · v1.0"]
    box = link.find(f".//{SVG}rect")
    assert box is not None and float(box.get("width") or 0) >= 20 * 6.2  # room for the text
    assert ET.fromstring(render_dag(spec)).find(f"{SVG}a") is None  # no linker, no link
