"""Lineage graphs as answered by ``ws.lineage``: nodes, edges, and their renderings.

Text (an indented tree), Graphviz DOT, JSON and OpenLineage RunEvents. See :mod:`mlaudit.lineage`
for how graphs are recorded and queried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mlaudit.errors import NotFound

__all__ = [
    "Columns",
    "Direction",
    "EdgeKind",
    "LineageEdge",
    "LineageGraph",
    "LineageNode",
    "NodeKind",
    "node_kind",
]

NodeKind = Literal["dataset", "model", "run", "job", "external"]
EdgeKind = Literal["consumed", "produced"]
Direction = Literal["upstream", "downstream"]
Columns = list[str] | dict[str, list[str]] | None


def node_kind(node: str) -> NodeKind:
    """``dataset``, ``model``, ``run``, ``job``, or ``external`` (OpenLineage and anything else)."""
    prefix = node.split(":", 1)[0]
    if prefix in ("dataset", "model", "run", "job"):
        return prefix  # type: ignore[return-value]
    return "external"


@dataclass(frozen=True)
class LineageNode:
    """A node of a lineage graph; ``depth`` counts runs from the root, ``info`` holds run details."""

    id: str
    kind: NodeKind
    depth: int
    info: dict[str, Any] = field(default_factory=dict)

    def label(self) -> str:
        if self.kind == "run":
            return f"{self.info.get('job', '?')[4:]} {self.id[4:12]} ({self.info.get('status', '?')})"
        if "ref" in self.info:  # a logged dataset version: its readable name, then its id
            return f"{self.info['ref']} ({self.id})"
        return self.id

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kind": self.kind, "depth": self.depth, "info": self.info}


@dataclass(frozen=True)
class LineageEdge:
    """``src`` → ``dst``: a dataset consumed by a run, or a run that produced a dataset."""

    src: str
    dst: str
    kind: EdgeKind
    run: str
    columns: Columns
    created: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class LineageGraph:
    """The answer to an upstream or downstream query.

    ``partial`` is True iff the ``depth`` limit cut off nodes that exist one hop further.
    """

    root: str
    direction: Direction
    nodes: tuple[LineageNode, ...]
    edges: tuple[LineageEdge, ...]
    depth: int | None
    depth_reached: int
    partial: bool
    as_of: str | None

    def node(self, node: str) -> LineageNode:
        for n in self.nodes:
            if n.id == node:
                return n
        raise NotFound(f"node {node!r} is not in this graph")

    def ids(self, kind: NodeKind | None = None) -> set[str]:
        return {n.id for n in self.nodes if kind is None or n.kind == kind}

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "lineage_graph",
            "schema_version": 1,
            "root": self.root,
            "direction": self.direction,
            "depth": self.depth,
            "depth_reached": self.depth_reached,
            "partial": self.partial,
            "as_of": self.as_of,
            "nodes": [n.to_dict() for n in self.nodes],
            "edges": [e.to_dict() for e in self.edges],
        }

    def to_openlineage(self) -> list[dict[str, Any]]:
        """The runs of this graph as OpenLineage RunEvent dicts (START, then the end event)."""
        from mlaudit.openlineage import graph_events

        return graph_events(self)

    def _children(self) -> dict[str, list[str]]:
        kids: dict[str, list[str]] = {}
        for e in self.edges:
            parent, child = (e.dst, e.src) if self.direction == "upstream" else (e.src, e.dst)
            kids.setdefault(parent, []).append(child)
        for n in self.nodes:
            if n.kind == "run" and n.info.get("job") == self.root:
                kids.setdefault(self.root, []).append(n.id)
        return {k: sorted(set(v)) for k, v in kids.items()}

    def to_text(self) -> str:
        """An indented tree from the root; a node met again is marked ``(see above)``."""
        kids = self._children()
        by_id = {n.id: n for n in self.nodes}
        verb = "produced by" if self.direction == "upstream" else "consumed by"
        lines = [by_id[self.root].label() if self.root in by_id else self.root]
        seen = {self.root}

        def walk(parent: str, prefix: str) -> None:
            children = kids.get(parent, [])
            for i, child in enumerate(children):
                last = i == len(children) - 1
                node = by_id.get(child)
                if node is None:
                    text = child
                else:
                    text = f"{verb} run {node.label()}" if node.kind == "run" else node.label()
                again = child in seen
                lines.append(f"{prefix}{'└─ ' if last else '├─ '}{text}{' (see above)' if again else ''}")
                if not again:
                    seen.add(child)
                    walk(child, prefix + ("   " if last else "│  "))

        walk(self.root, "")
        if self.partial:
            lines.append(f"(partial: cut at depth {self.depth}; more {self.direction} nodes exist)")
        return "\n".join(lines)

    def to_dot(self) -> str:
        """Graphviz DOT: datasets as ellipses, models as boxes with round corners, runs as boxes."""
        shapes = {"dataset": "ellipse", "model": "box", "run": "box", "job": "component", "external": "note"}
        lines = ["digraph lineage {", "  rankdir=LR;", '  node [fontname="Helvetica"];']
        for n in self.nodes:
            styles = (["rounded"] if n.kind == "model" else []) + (["filled"] if n.id == self.root else [])
            style = f', style="{",".join(styles)}"' if styles else ""
            lines.append(f"  {_dot(n.id)} [label={_dot(n.label())}, shape={shapes[n.kind]}{style}];")
        for e in self.edges:
            label = f", label={_dot(', '.join(e.columns))}" if e.columns else ""
            lines.append(f"  {_dot(e.src)} -> {_dot(e.dst)} [tooltip={_dot(e.kind)}{label}];")
        lines.append("}")
        return "\n".join(lines)


def _dot(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
