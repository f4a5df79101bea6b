"""The nodes and edges of one flow under construction, shared by every frame of its walk.

The flow body and each helper function it calls are walked as frames (see `walker.py`);
they all add to one `Graph`. A node is a call site of a task or subflow, identified by the
chain of helper call sites that led to it, so a helper called twice adds its tasks twice,
as Dagy would run them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dagy_git.analysis.defs import TaskDef
from dagy_git.errors import SpecError, SpecWarning

__all__ = ["Graph", "Node"]


@dataclass
class Node:
    """One task or subflow call site."""

    id: str
    task: TaskDef
    module: str | None
    mapped: bool = False


@dataclass
class Graph:
    """Nodes, upstreams and problems of one flow walk, plus the loop bookkeeping."""

    nodes: list[Node] = field(default_factory=list)
    upstreams: dict[str, set[str]] = field(default_factory=dict)
    errors: list[SpecError] = field(default_factory=list)
    warnings: list[SpecWarning] = field(default_factory=list)
    # What each loop (keyed by frame path and statement) carried into its next iteration.
    heads: dict[tuple[object, ...], dict[str, frozenset[str]]] = field(default_factory=dict)
    grew: bool = False
    frames: int = 0  # helper frames walked in this pass over the flow (see calls.MAX_FRAMES)
    _ids: dict[tuple[int, ...], str] = field(default_factory=dict)
    _counts: dict[str, int] = field(default_factory=dict)
    _reported: set[tuple[object, ...]] = field(default_factory=set)

    def node(
        self,
        key: tuple[int, ...],
        task: TaskDef,
        module: str | None,
        ups: set[str],
        *,
        mapped: bool = False,
    ) -> str:
        """The node id of a call site (allocated once, in evaluation order): the task's
        name for its first call site, then `name#2`, `name#3`…"""
        node_id = self._ids.get(key)
        if node_id is None:
            count = self._counts.get(task.name, 0) + 1
            self._counts[task.name] = count
            node_id = task.name if count == 1 else f"{task.name}#{count}"
            self._ids[key] = node_id
            self.nodes.append(Node(node_id, task, module, mapped))
            self.upstreams[node_id] = set()
            for warning in task.warnings:
                self.report(warning)
        self.upstreams[node_id] |= ups
        return node_id

    def report(self, problem: SpecError) -> None:
        """Record a problem once (loop bodies and helpers are walked more than once)."""
        key = (problem.path, problem.line, problem.col, problem.message)
        if key in self._reported:
            return
        self._reported.add(key)
        if isinstance(problem, SpecWarning):
            self.warnings.append(problem)
        else:
            self.errors.append(problem)
