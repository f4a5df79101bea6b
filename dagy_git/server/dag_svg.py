"""A flow's DAG drawn as an SVG on the server: tasks as boxes, edges as arrows.

Made on the server so the flow page needs no script and no CDN and works offline; the
picture is self-contained (its colours are attributes, not page CSS), so it also reads
saved on its own. Every text that came from a flow file is escaped.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from html import escape
from typing import Any

from dagy_git.server.dag_layout import (
    BOX_HEIGHT,
    MAX_LABEL_CHARS,
    Arrow,
    Box,
    Layout,
    label_width,
    layout,
)

__all__ = ["render_dag", "spec_graph"]

_FILL = "#eef4ff"
_STROKE = "#3864b5"
_SUBFLOW_FILL = "#f3eefc"
_SUBFLOW_STROKE = "#6b46c1"
_EDGE = "#5b6577"
DETAIL_CHAR_WIDTH = 6.2

Linker = Callable[[str, "str | None"], str]


def spec_graph(spec: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], list[tuple[str, str]]]:
    """The tasks and edges of a stored FlowSpec (JSON), tolerant of missing parts."""
    tasks = [t for t in spec.get("tasks") or [] if isinstance(t, Mapping) and "id" in t]
    edges = [
        (str(e[0]), str(e[1]))
        for e in spec.get("edges") or []
        if isinstance(e, Sequence) and len(e) == 2
    ]
    return tasks, edges


def _short(text: str) -> str:
    return text if len(text) <= MAX_LABEL_CHARS else text[: MAX_LABEL_CHARS - 1] + "…"


def _details(task: Mapping[str, Any]) -> str:
    """The box's second line: what a reader wants at a glance besides the id."""
    parts: list[str] = []
    function = str(task.get("function") or task.get("name") or "")
    if task.get("kind") == "flow":
        # The id usually is the child's name already: say only what it does not.
        child = str(task.get("name") or "")
        parts.append("subflow" if child == str(task["id"]).split("#")[0] else f"subflow {child}")
        if task.get("flow_version"):
            parts.append(f"v{task['flow_version']}")
    elif function and function != str(task["id"]).split("#")[0]:
        parts.append(function)
    if task.get("mapped"):
        parts.append("mapped")
    if task.get("retries"):
        parts.append(f"retries {task['retries']}")
    if task.get("timeout_seconds") is not None:
        parts.append(f"timeout {task['timeout_seconds']:g}s")
    return " · ".join(parts)


def _tooltip(task: Mapping[str, Any]) -> str:
    where = ".".join(str(p) for p in (task.get("module"), task.get("function")) if p)
    lines = [str(task["id"]), where, str(task.get("description") or ""), _details(task)]
    return "\n".join(line for line in lines if line)


def _box(box: Box, task: Mapping[str, Any], link: Linker | None) -> str:
    subflow = task.get("kind") == "flow"
    fill, stroke = (_SUBFLOW_FILL, _SUBFLOW_STROKE) if subflow else (_FILL, _STROKE)
    cx = box.x + box.width / 2
    details = _details(task)
    label_y = box.y + (18 if details else BOX_HEIGHT / 2 + 5)
    parts = [
        f'<g class="dag-task" data-task-id="{escape(box.id)}">',
        f"<title>{escape(_tooltip(task))}</title>",
        f'<rect x="{box.x:.1f}" y="{box.y:.1f}" width="{box.width:.1f}" '
        f'height="{box.height:.1f}" rx="7" fill="{fill}" stroke="{stroke}" stroke-width="1.5"/>',
        f'<text x="{cx:.1f}" y="{label_y:.1f}" text-anchor="middle" '
        f'font-family="ui-monospace, SFMono-Regular, Menlo, Consolas, monospace" '
        f'font-size="13" fill="#14213d">{escape(_short(box.id))}</text>',
    ]
    if details:
        parts.append(
            f'<text x="{cx:.1f}" y="{box.y + 35:.1f}" text-anchor="middle" '
            f'font-family="system-ui, sans-serif" font-size="10.5" fill="#4a5568">'
            f"{escape(_short(details))}</text>"
        )
    parts.append("</g>")
    if subflow and link is not None and task.get("name"):
        # A subflow's box opens the child flow's page.
        href = link(str(task["name"]), task.get("flow_version"))
        label = f"Open subflow {task['name']}"
        return f'<a href="{escape(href)}" aria-label="{escape(label)}">{"".join(parts)}</a>'
    return "".join(parts)


def _path(arrow: Arrow) -> str:
    """A smooth path: each vertical step between points drawn as a cubic S-curve."""
    (x0, y0), rest = arrow.points[0], arrow.points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    px, py = x0, y0
    for x, y in rest:
        if x == px:
            d.append(f"L{x:.1f},{y:.1f}")
        else:
            mid = (py + y) / 2
            d.append(f"C{px:.1f},{mid:.1f} {x:.1f},{mid:.1f} {x:.1f},{y:.1f}")
        px, py = x, y
    return " ".join(d)


def _arrow(arrow: Arrow) -> str:
    return (
        f'<g class="dag-edge" data-source="{escape(arrow.source)}" '
        f'data-target="{escape(arrow.target)}">'
        f"<title>{escape(arrow.source)} → {escape(arrow.target)}</title>"
        f'<path d="{_path(arrow)}" fill="none" stroke="{_EDGE}" stroke-width="1.5" '
        f'marker-end="url(#dag-arrowhead)"/></g>'
    )


def render_dag(spec: Mapping[str, Any], *, title: str = "", link: Linker | None = None) -> str:
    """The SVG markup of a FlowSpec's DAG (safe to embed: every text is escaped); `link`
    gives the page of a subflow (name, version), whose box then links there."""
    tasks, edges = spec_graph(spec)
    by_id = {str(t["id"]): t for t in tasks}
    # The second line is set smaller, in a proportional font: ~6.2px a character.
    room = {i: label_width(_short(_details(t)), DETAIL_CHAR_WIDTH) + 20 for i, t in by_id.items()}
    drawn: Layout = layout(list(by_id), edges, room)
    label = title or f"DAG of {spec.get('name', 'flow')}"
    summary = f"{len(drawn.boxes)} tasks, {len(drawn.arrows)} edges"
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" class="dag" role="img" '
        f'viewBox="0 0 {drawn.width:.1f} {drawn.height:.1f}" '
        f'width="{drawn.width:.0f}" height="{drawn.height:.0f}" '
        f'aria-label="{escape(label)}: {summary}">'
        f"<title>{escape(label)}</title>"
        '<defs><marker id="dag-arrowhead" viewBox="0 0 10 10" refX="9" refY="5" '
        'markerWidth="8" markerHeight="8" orient="auto-start-reverse">'
        f'<path d="M0,0 L10,5 L0,10 z" fill="{_EDGE}"/></marker></defs>'
    )
    body = [_arrow(a) for a in drawn.arrows] + [_box(b, by_id[b.id], link) for b in drawn.boxes]
    return head + "".join(body) + "</svg>"
