"""Figures of the UI pages, from stored audit documents and lineage graphs.

Per-audit figures (fairness by group) reuse :mod:`mlaudit.report.audit_plots`; the figures only
the UI has — a metric over successive audits, the lineage network — are built here as plain
Plotly ``{"data", "layout"}`` dicts in the same style.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlaudit.lineage_graph import LineageGraph
from mlaudit.report.audit_plots import fairness_figure
from mlaudit.report.html import CURRENT_COLOUR, REFERENCE_COLOUR

__all__ = ["audit_points", "drift_figure", "fairness_of", "lineage_figure", "performance_figure"]

Figure = dict[str, Any]
_PALETTE = (REFERENCE_COLOUR, CURRENT_COLOUR, "#067647", "#6941c6", "#b54708", "#475467")
_KIND_COLOUR = {"model": CURRENT_COLOUR, "dataset": REFERENCE_COLOUR, "run": "#475467", "job": "#475467"}
_MAX_METRICS = 6


def _section(document: Mapping[str, Any], name: str) -> Mapping[str, Any] | None:
    for s in document.get("sections") or []:
        if isinstance(s, Mapping) and s.get("name") == name and isinstance(s.get("document"), Mapping):
            doc: Mapping[str, Any] = s["document"]
            return doc
    return None


def audit_points(audits: Sequence[Any]) -> list[dict[str, Any]]:
    """One point per stored audit, oldest first: when, version, metric values, drifted share."""
    points = []
    for a in sorted(audits, key=lambda r: r.seq):
        doc = a.document
        perf = _section(doc, "performance") or {}
        current = perf.get("current") if isinstance(perf.get("current"), Mapping) else None
        metrics = {
            str(m["name"]): float(m["value"])
            for m in (current or {}).get("metrics") or []
            if isinstance(m, Mapping) and isinstance(m.get("value"), int | float)
        }
        drift = _section(doc, "drift") or {}
        share = drift.get("share_drifted")
        ref = (doc.get("model") or {}).get("ref")
        points.append(
            {
                "when": a.created,
                "ref": ref,
                "status": a.status,
                "metrics": metrics,
                "drifted": float(share) if isinstance(share, int | float) else None,
            }
        )
    return points


def _x(point: Mapping[str, Any]) -> str:
    """The category of an audit on the x axis: its version and minute (one point per audit)."""
    version = str(point["ref"] or "").rpartition("@")[2]
    return f"{version} {str(point['when'])[:16].replace('T', ' ')}".strip()


def _layout(title: str, y_title: str, *, height: int = 320, y_range: list[float] | None = None) -> Figure:
    yaxis: dict[str, Any] = {"title": {"text": y_title}, "gridcolor": "#e4e7ec", "zeroline": False}
    if y_range:
        yaxis["range"] = y_range
    return {
        "height": height,
        "xaxis": {"type": "category", "gridcolor": "#e4e7ec", "automargin": True},
        "yaxis": yaxis,
        "legend": {"orientation": "h", "y": -0.25},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "hovermode": "closest",
    }


def performance_figure(points: Sequence[Mapping[str, Any]]) -> Figure | None:
    """A line per metric (current data of each audit), one marker per audit."""
    names: list[str] = []
    for p in points:
        names += [n for n in p["metrics"] if n not in names]
    names = names[:_MAX_METRICS]
    if not names:
        return None
    data = []
    for i, name in enumerate(names):
        shown = [p for p in points if name in p["metrics"]]
        data.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": name,
                "x": [_x(p) for p in shown],
                "y": [p["metrics"][name] for p in shown],
                "text": [p["ref"] for p in shown],
                "marker": {"size": 9, "color": _PALETTE[i % len(_PALETTE)]},
                "line": {"color": _PALETTE[i % len(_PALETTE)]},
                "hovertemplate": "%{text}<br>" + name + " %{y:.3f}<extra></extra>",
            }
        )
    return {"data": data, "layout": _layout("Performance by audit (current data)", "value")}


def drift_figure(points: Sequence[Mapping[str, Any]]) -> Figure | None:
    """The share of drifted features at each audit."""
    shown = [p for p in points if p["drifted"] is not None]
    if not shown:
        return None
    trace = {
        "type": "scatter",
        "mode": "lines+markers",
        "name": "drifted share",
        "x": [_x(p) for p in shown],
        "y": [p["drifted"] for p in shown],
        "text": [p["ref"] for p in shown],
        "marker": {"size": 9, "color": CURRENT_COLOUR},
        "line": {"color": CURRENT_COLOUR},
        "hovertemplate": "%{text}<br>%{y:.0%} of features drifted<extra></extra>",
    }
    layout = _layout("Share of drifted features by audit", "share drifted", y_range=[0, 1])
    layout["yaxis"]["tickformat"] = ".0%"
    return {"data": [trace], "layout": layout}


def fairness_of(document: Mapping[str, Any]) -> Figure | None:
    """Selection rate, TPR and FPR by group from an audit's fairness section."""
    fair = _section(document, "fairness")
    groups = fair.get("groups") if fair else None
    if not groups:
        return None
    return fairness_figure(groups)


def lineage_figure(
    up: LineageGraph, down: LineageGraph, links: Mapping[str, str], names: Mapping[str, str]
) -> Figure:
    """Upstream to the left, downstream to the right of the root; ``links`` maps node → URL
    (``customdata`` of its marker: ``app.js`` navigates there on click), ``names`` node → label."""
    place: dict[str, tuple[int, str, str]] = {}
    for graph, sign in ((up, -1), (down, 1)):
        for n in graph.nodes:
            x = 0 if n.id == up.root else sign * (2 * n.depth - (1 if n.kind == "run" else 0))
            place.setdefault(n.id, (x, n.kind, names.get(n.id) or n.label()))
    columns: dict[int, list[str]] = {}
    for node, (x, _, _) in place.items():
        columns.setdefault(x, []).append(node)
    pos: dict[str, tuple[float, float]] = {}
    for x, nodes in columns.items():
        for i, node in enumerate(sorted(nodes)):
            pos[node] = (float(x), (len(nodes) - 1) / 2 - i)
    ex: list[float | None] = []
    ey: list[float | None] = []
    for e in (*up.edges, *down.edges):
        if e.src in pos and e.dst in pos:
            ex += [pos[e.src][0], pos[e.dst][0], None]
            ey += [pos[e.src][1], pos[e.dst][1], None]
    data: list[Figure] = [
        {
            "type": "scatter",
            "mode": "lines",
            "x": ex,
            "y": ey,
            "hoverinfo": "skip",
            "line": {"color": "#98a2b3", "width": 1.5},
            "showlegend": False,
        }
    ]
    for kind in sorted({k for _, k, _ in place.values()}):
        ids = [n for n, (_, k, _) in place.items() if k == kind]
        data.append(
            {
                "type": "scatter",
                "mode": "markers+text",
                "name": kind,
                "x": [pos[n][0] for n in ids],
                "y": [pos[n][1] for n in ids],
                "text": [_tag(place[n][2], kind) for n in ids],
                "textposition": "bottom center",
                "hovertext": [place[n][2] + ("<br>(the selected node)" if n == up.root else "") for n in ids],
                "hoverinfo": "text",
                "customdata": [links.get(n, "") for n in ids],
                "marker": {
                    "size": [22 if n == up.root else 14 for n in ids],
                    "color": _KIND_COLOUR.get(kind, "#475467"),
                    "symbol": "square" if kind == "run" else "circle",
                    "line": {"width": 2, "color": "#1d2433"},
                },
            }
        )
    height = max(320, 90 * max(len(v) for v in columns.values()))
    hidden = {"visible": False, "showgrid": False, "zeroline": False}
    layout = {
        "height": height,
        "showlegend": True,
        "legend": {"orientation": "h", "y": 1.08},
        "xaxis": hidden,
        "yaxis": hidden,
        "hovermode": "closest",
        "margin": {"t": 30, "l": 10, "r": 10, "b": 10},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
    }
    return {"data": data, "layout": layout}


def _tag(label: str, kind: str) -> str:
    """A short marker label: ``credit@v1`` rather than the full node id, ``train run`` for a run."""
    text = label.split(" (")[0]
    if kind == "run":
        parts = text.split(" ")[0].split("/")
        return (parts[1] if len(parts) > 2 else parts[-1]) + " run"
    for prefix in ("model:", "dataset:", "ol:file", "job:", "run:"):
        text = text.removeprefix(prefix)
    return text if len(text) <= 22 else "…" + text[-21:]
