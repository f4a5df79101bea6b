"""A layered layout of a flow's DAG: tasks placed in rows, top to bottom, edges routed
between them (a small Sugiyama-style layout, enough for the tens of tasks a flow has).

Pure geometry over task ids and edges; `dag_svg` turns it into a picture. Rows come from the
longest path from a source, so every edge points down; an edge that skips rows passes
through invisible waypoints in the rows between, which take part in ordering, so long edges
bend around boxes instead of crossing them.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

__all__ = ["Arrow", "Box", "Layout", "label_width", "layout"]

BOX_HEIGHT = 46.0
ROW_GAP = 44.0  # vertical space between rows, where the arrows run
BOX_GAP = 24.0  # horizontal space between neighbouring boxes
WAYPOINT_WIDTH = 12.0  # the room a long edge takes in a row it passes through
MARGIN = 12.0
CHAR_WIDTH = 7.8  # a monospace character at the 13px the labels are drawn in
MIN_BOX_WIDTH = 96.0
MAX_LABEL_CHARS = 36
PORT_SPACING = 14.0  # between arrows that share a side of a box
_SWEEPS = 4
MAX_WAYPOINTS = 5000


@dataclass(frozen=True)
class Box:
    """One task drawn as a box: its id, where it is, how big."""

    id: str
    x: float
    y: float
    width: float
    height: float


@dataclass(frozen=True)
class Arrow:
    """One edge: the points it passes, from the source box's bottom to the target's top."""

    source: str
    target: str
    points: tuple[tuple[float, float], ...]


@dataclass(frozen=True)
class Layout:
    """Boxes and arrows of a whole DAG and the size of the picture."""

    boxes: tuple[Box, ...]
    arrows: tuple[Arrow, ...]
    width: float
    height: float


def label_width(text: str, char_width: float = CHAR_WIDTH) -> float:
    """The drawn width of a label: wide (East Asian) characters take two cells."""
    cells = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return min(cells, MAX_LABEL_CHARS + 1) * char_width


def _rows(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Each node's row: the longest path from a source (Kahn's order). Nodes left on a
    cycle, which a valid spec never has, go below the rest rather than failing the page."""
    parents: dict[str, list[str]] = {i: [] for i in ids}
    children: dict[str, list[str]] = {i: [] for i in ids}
    for src, dst in edges:
        parents[dst].append(src)
        children[src].append(dst)
    waiting = {i: len(parents[i]) for i in ids}
    ready = [i for i in ids if waiting[i] == 0]
    row: dict[str, int] = {}
    while ready:
        node = ready.pop(0)
        row[node] = max((row[p] + 1 for p in parents[node] if p in row), default=0)
        for child in children[node]:
            waiting[child] -= 1
            if waiting[child] == 0:
                ready.append(child)
    bottom = max(row.values(), default=-1) + 1
    for i in ids:
        if i not in row:
            row[i] = bottom
            bottom += 1
    return row


def _barycenter(node: str, neighbours: dict[str, list[str]], pos: dict[str, int]) -> float:
    near = [pos[n] for n in neighbours[node] if n in pos]
    return sum(near) / len(near) if near else float(pos[node])


def _order(
    layers: list[list[str]], up: dict[str, list[str]], down: dict[str, list[str]]
) -> list[list[str]]:
    """Reorder each row by the mean position of its neighbours, sweeping down then up,
    which removes most crossings; ties keep the spec's order."""
    for sweep in range(_SWEEPS):
        going_down = sweep % 2 == 0
        indices = range(1, len(layers)) if going_down else range(len(layers) - 2, -1, -1)
        for r in indices:
            ref = layers[r - 1] if going_down else layers[r + 1]
            pos = {n: i for i, n in enumerate(ref)}
            pos.update({n: i for i, n in enumerate(layers[r]) if n not in pos})
            nbrs = up if going_down else down
            keyed = [(_barycenter(n, nbrs, pos), i, n) for i, n in enumerate(layers[r])]
            layers[r] = [n for _, _, n in sorted(keyed)]
    return layers


def _settle(row: list[str], want: dict[str, float], widths: dict[str, float]) -> None:
    """Put a row's nodes as near their wanted centres as the gaps allow, keeping order."""
    left = -float("inf")
    for node in row:
        centre = max(want[node], left + widths[node] / 2)
        want[node] = centre
        left = centre + widths[node] / 2 + BOX_GAP


def _place(
    layers: list[list[str]],
    widths: dict[str, float],
    up: dict[str, list[str]],
    down: dict[str, list[str]],
) -> dict[str, float]:
    """The centre x of every node: packed rows first, then each node pulled under its
    parents (top down), over its children (bottom up) and under its parents again, so a
    chain stands straight and a fork sits centred over its branches."""
    cx: dict[str, float] = {}
    for row in layers:
        left = 0.0
        for node in row:
            cx[node] = left + widths[node] / 2
            left += widths[node] + BOX_GAP
    order = list(range(len(layers)))
    for rows, nbrs in ((order, up), (order[::-1], down), (order, up)):
        for r in rows:
            for node in layers[r]:
                near = [cx[n] for n in nbrs[node]]
                if near:
                    cx[node] = sum(near) / len(near)
            _settle(layers[r], cx, widths)
    shift = MARGIN - min((cx[n] - widths[n] / 2 for row in layers for n in row), default=0)
    return {n: x + shift for n, x in cx.items()}


def _ports(
    chains: list[tuple[str, str, list[str]]], cx: dict[str, float], widths: dict[str, float]
) -> list[tuple[float, float]]:
    """Where each edge leaves its upper box and enters its lower one: edges sharing a box
    side are spread along it, ordered by where they go, so arrowheads never pile up."""
    leaving: dict[str, list[tuple[float, int]]] = {}
    entering: dict[str, list[tuple[float, int]]] = {}
    for index, (_, _, chain) in enumerate(chains):
        leaving.setdefault(chain[0], []).append((cx[chain[1]], index))
        entering.setdefault(chain[-1], []).append((cx[chain[-2]], index))
    out_x: dict[int, float] = {}
    in_x: dict[int, float] = {}
    for side, found in ((leaving, out_x), (entering, in_x)):
        for node, edges in side.items():
            step = min(PORT_SPACING, (widths[node] - 16) / max(len(edges), 1))
            first = cx[node] - step * (len(edges) - 1) / 2
            for k, (_, index) in enumerate(sorted(edges)):
                found[index] = first + k * step
    return [(out_x[i], in_x[i]) for i in range(len(chains))]


def layout(
    ids: Sequence[str],
    edges: Sequence[tuple[str, str]],
    min_widths: Mapping[str, float] | None = None,
) -> Layout:
    """Lay out nodes `ids` (in spec order) joined by `edges`; edges naming an unknown node
    or a node itself are left out, duplicates drawn once. A box is as wide as its id's
    label, or as `min_widths` asks (room for more text)."""
    known = set(ids)
    seen: set[tuple[str, str]] = set()
    kept: list[tuple[str, str]] = []
    for src, dst in edges:
        if src in known and dst in known and src != dst and (src, dst) not in seen:
            seen.add((src, dst))
            kept.append((src, dst))
    row = _rows(ids, kept)
    layers: list[list[str]] = [[] for _ in range(max(row.values(), default=-1) + 1)]
    for i in ids:
        layers[row[i]].append(i)
    wanted = min_widths or {}
    widths = {i: max(MIN_BOX_WIDTH, label_width(i) + 28, wanted.get(i, 0.0)) for i in ids}
    up: dict[str, list[str]] = {i: [] for i in ids}
    down: dict[str, list[str]] = {i: [] for i in ids}
    chains: list[tuple[str, str, list[str]]] = []
    # Waypoints cost ordering time; a huge DAG (thousands of long edges) gets straight
    # long edges instead, so its page still answers quickly.
    spans = sum(abs(row[src] - row[dst]) - 1 for src, dst in kept)
    route = spans <= MAX_WAYPOINTS
    for src, dst in kept:
        # A cycle's back edge (never in a valid spec) would point up: it is routed down
        # from the higher node like the others, then its points are flipped.
        top, bottom = (src, dst) if row[src] < row[dst] else (dst, src)
        chain = [top]
        for r in range(row[top] + 1, row[bottom] if route else row[top] + 1):
            waypoint = f"\0{len(chains)}:{r}"  # never a task id: ids are printable
            layers[r].append(waypoint)
            widths[waypoint] = WAYPOINT_WIDTH
            up[waypoint], down[waypoint] = [], []
            chain.append(waypoint)
        chain.append(bottom)
        for a, b in itertools.pairwise(chain):
            down[a].append(b)
            up[b].append(a)
        chains.append((src, dst, chain))
    layers = _order(layers, up, down)
    cx = _place(layers, widths, up, down)
    row_of = {n: r for r, members in enumerate(layers) for n in members}
    width = max((cx[n] + widths[n] / 2 for row_ in layers for n in row_), default=0) + MARGIN
    height = len(layers) * (BOX_HEIGHT + ROW_GAP) - ROW_GAP + 2 * MARGIN if layers else 0

    def top_y(node: str) -> float:
        return MARGIN + row_of[node] * (BOX_HEIGHT + ROW_GAP)

    boxes = tuple(
        Box(i, cx[i] - widths[i] / 2, top_y(i), widths[i], BOX_HEIGHT)
        for members in layers
        for i in members
        if i in known
    )
    ports = _ports(chains, cx, widths)
    arrows: list[Arrow] = []
    for index, (src, dst, chain) in enumerate(chains):
        out_x, in_x = ports[index]
        points = [(out_x, top_y(chain[0]) + BOX_HEIGHT)]
        for waypoint in chain[1:-1]:
            y = top_y(waypoint)
            points += [(cx[waypoint], y), (cx[waypoint], y + BOX_HEIGHT)]
        points.append((in_x, top_y(chain[-1])))
        if chain[0] != src:
            points.reverse()
        arrows.append(Arrow(src, dst, tuple(points)))
    return Layout(boxes, tuple(arrows), max(width, 2 * MARGIN), height)
