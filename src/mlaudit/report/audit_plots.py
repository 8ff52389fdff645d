"""Plotly figures for the audit report, drawn from an audit's JSON documents (never from rows).

Each builder takes the plain dicts of ``AuditReport.to_dict()`` sections and returns a
``{"data", "layout"}`` figure, or ``None`` when the document holds nothing to draw. Every
string that reaches Plotly is escaped with :func:`~mlaudit.report.format.plot_text`.

>>> fig = importance_figure([{"feature": "x", "mean": 0.1, "std": 0.01}], "accuracy")
>>> fig["data"][0]["type"], fig["data"][0]["x"]
('bar', [0.1])
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import pairwise
from typing import Any, TypeGuard

from mlaudit.report.format import fmt_int, fmt_num, plot_text, shorten
from mlaudit.report.html import CURRENT_COLOUR, FONT_STACK, REFERENCE_COLOUR
from mlaudit.report.plots import unique_labels

__all__ = [
    "bins_labels",
    "calibration_figure",
    "disparity_figure",
    "fairness_figure",
    "group_label",
    "importance_figure",
    "metrics_figure",
    "robustness_figure",
    "stability_figure",
]

Figure = dict[str, Any]

_GRID = "#e4e7ec"
_NEUTRAL = "#98a2b3"
_BAD = "#b42318"
_INK = "#1d2433"
_FAIR_COLOURS = {"selection_rate": "#1f5fa8", "tpr": "#067647", "fpr": "#c2410c"}
_FAIR_NAMES = {"selection_rate": "selection rate", "tpr": "true-positive rate", "fpr": "false-positive rate"}
MAX_BARS = 25


def metrics_figure(
    sides: Sequence[tuple[str, str, Sequence[Mapping[str, Any]]]], *, interval: str = "interval"
) -> Figure | None:
    """A dot per metric and side (reference, current, ...) with its interval as error bars.

    ``sides`` holds (name, colour, metrics) where each metric is ``{"name", "value",
    "lower", "upper"}``. Metrics are rows (readable at phone width), sides are colours.
    """
    names: list[str] = []
    for _, _, metrics in sides:
        for m in metrics:
            if m.get("name") not in names and _finite(m.get("value")):
                names.append(str(m.get("name")))
    if not names:
        return None
    labels = [plot_text(shorten(n, 24)) for n in names]
    data = []
    for side, colour, metrics in sides:
        by_name = {str(m.get("name")): m for m in metrics}
        xs, plus, minus, hover = [], [], [], []
        for n in names:
            got: Mapping[str, Any] = by_name.get(n) or {}
            v, lo, hi = got.get("value"), got.get("lower"), got.get("upper")
            xs.append(v if _finite(v) else None)
            plus.append(hi - v if _finite(v) and _finite(hi) else 0.0)
            minus.append(v - lo if _finite(v) and _finite(lo) else 0.0)
            band = f" ({interval} {fmt_num(lo)} – {fmt_num(hi)})" if _finite(lo) and _finite(hi) else ""
            hover.append(f"{plot_text(side)}: {fmt_num(v)}{band}")
        data.append({
            "type": "scatter", "mode": "markers", "name": plot_text(side), "y": labels, "x": xs,
            "error_x": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                        "color": colour, "thickness": 2, "width": 5},
            "marker": {"color": colour, "size": 10, "line": {"color": "#ffffff", "width": 1}},
            "hovertext": hover, "hovertemplate": "%{y}: %{hovertext}<extra></extra>",
        })  # fmt: skip
    layout = _layout(height=max(220, 80 + 34 * len(names)))
    layout.update(
        xaxis=_axis(title={"text": "metric value"}, automargin=True),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=True),
        hovermode="closest",
        scattermode="group",
        scattergap=0.5,
    )
    return {"data": data, "layout": layout}


def group_label(group: Mapping[str, Any] | Any) -> str:
    """``{"sex": "F", "region": "N"}`` → ``sex=F, region=N`` (unescaped)."""
    if isinstance(group, Mapping):
        return ", ".join(f"{k}={v}" for k, v in group.items())
    return str(group)


def fairness_figure(groups: Sequence[Mapping[str, Any]], *, four_fifths: float | None = 0.8) -> Figure | None:
    """Selection rate, TPR and FPR of each group as grouped horizontal bars.

    Groups below the minimum size (``judged`` false) are drawn grey and labelled "not
    judged"; a dashed line marks four-fifths of the highest judged selection rate.
    """
    shown = list(groups)[:MAX_BARS]
    metrics = [k for k in _FAIR_COLOURS if any(_finite(g.get(k)) for g in shown)]
    if not shown or not metrics:
        return None
    names = unique_labels([group_label(g.get("group")) for g in shown], 18)
    labels = [
        f"{name}<br>n={fmt_int(g.get('count'))}" + ("" if g.get("judged", True) else " · not judged")
        for name, g in zip(names, shown, strict=True)
    ]
    data = []
    for key in metrics:
        colour = _FAIR_COLOURS[key]
        data.append({
            "type": "bar", "orientation": "h", "name": plot_text(_FAIR_NAMES[key]), "y": labels,
            "x": [g.get(key) if _finite(g.get(key)) else None for g in shown],
            "marker": {"color": [colour if g.get("judged", True) else "#d0d5dd" for g in shown],
                       "line": {"color": [colour if g.get("judged", True) else _NEUTRAL for g in shown],
                                "width": 1}},
            "hovertemplate": f"{plot_text(_FAIR_NAMES[key])}: %{{x:.3f}}<extra>%{{y}}</extra>",
        })  # fmt: skip
    layout = _layout(height=max(220, 90 + len(shown) * (14 * len(metrics) + 14)))
    layout.update(
        barmode="group",
        bargap=0.3,
        showlegend=True,
        xaxis=_axis(title={"text": "rate"}, range=[0, 1.05], tickformat=".0%", automargin=True),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=False),
    )
    rates = [g["selection_rate"] for g in shown if g.get("judged", True) and _finite(g.get("selection_rate"))]
    if four_fifths is not None and rates and "selection_rate" in metrics:
        line = four_fifths * max(rates)
        layout["shapes"] = [
            {"type": "line", "xref": "x", "yref": "paper", "x0": line, "x1": line, "y0": 0, "y1": 1,
             "line": {"color": _INK, "width": 1.5, "dash": "dash"}}
        ]  # fmt: skip
    return {"data": data, "layout": layout}


def calibration_figure(curve: Sequence[Mapping[str, Any]]) -> Figure | None:
    """The reliability curve (observed rate against mean predicted score, dots sized by
    count) with the diagonal of perfect calibration."""
    points = [c for c in curve if _finite(c.get("mean_predicted")) and _finite(c.get("observed_rate"))]
    if not points:
        return None
    biggest = max(int(c.get("count") or 0) for c in points) or 1
    diagonal = {
        "type": "scatter", "mode": "lines", "name": "perfectly calibrated", "x": [0, 1], "y": [0, 1],
        "line": {"color": _NEUTRAL, "dash": "dash", "width": 1.5}, "hoverinfo": "skip",
    }  # fmt: skip
    observed = {
        "type": "scatter", "mode": "lines+markers", "name": "model",
        "x": [c["mean_predicted"] for c in points], "y": [c["observed_rate"] for c in points],
        "customdata": [fmt_int(c.get("count")) for c in points],
        "marker": {"color": REFERENCE_COLOUR,
                   "size": [6 + 12 * (int(c.get("count") or 0) / biggest) ** 0.5 for c in points]},
        "line": {"color": REFERENCE_COLOUR, "width": 2},
        "hovertemplate": "predicted %{x:.3f} · observed %{y:.3f} · %{customdata} rows<extra></extra>",
    }  # fmt: skip
    layout = _layout(height=340)
    layout.update(
        xaxis=_axis(title={"text": "mean predicted probability"}, range=[0, 1], automargin=True),
        yaxis=_axis(title={"text": "observed rate"}, range=[0, 1], automargin=True),
        hovermode="closest",
    )
    return {"data": [diagonal, observed], "layout": layout}


def bins_labels(edges: Sequence[float], n: int) -> list[str]:
    """Labels of ``n`` bins cut at ``edges`` (the outer bins are open-ended)."""
    cuts = [fmt_num(e, 3) for e in edges]
    if n != len(cuts) + 1:
        return [f"bin {i + 1}" for i in range(n)]
    if not cuts:
        return ["all"]
    return [f"< {cuts[0]}", *(f"{a} – {b}" for a, b in pairwise(cuts)), f"≥ {cuts[-1]}"]


def stability_figure(
    edges: Sequence[float], reference: Sequence[float], current: Sequence[float]
) -> Figure | None:
    """Reference and current share of scores in each score bin, side by side."""
    if not reference or len(reference) != len(current):
        return None
    labels = bins_labels(edges, len(reference))
    data = [
        {"type": "bar", "name": name, "x": labels, "y": list(shares), "marker": {"color": colour},
         "hovertemplate": f"{name}: %{{y:.1%}}<extra>score %{{x}}</extra>"}
        for name, colour, shares in (
            ("reference", REFERENCE_COLOUR, reference), ("current", CURRENT_COLOUR, current)
        )
    ]  # fmt: skip
    layout = _layout(height=300)
    layout.update(
        barmode="group",
        bargap=0.2,
        xaxis=_axis(type="category", title={"text": "score bin"}, automargin=True, showgrid=False),
        yaxis=_axis(title={"text": "share of rows"}, tickformat=".0%", rangemode="tozero", automargin=True),
    )
    return {"data": data, "layout": layout}


def importance_figure(importances: Sequence[Mapping[str, Any]], metric: str) -> Figure | None:
    """Permutation importance (drop in ``metric`` when a feature is shuffled) with its std."""
    rows = sorted((r for r in importances if _finite(r.get("mean"))), key=lambda r: -float(r["mean"]))[
        :MAX_BARS
    ]
    if not rows:
        return None
    bars = {
        "type": "bar", "orientation": "h", "y": unique_labels([str(r.get("feature")) for r in rows]),
        "x": [r["mean"] for r in rows],
        "error_x": {"type": "data", "array": [r.get("std") or 0 for r in rows], "color": _INK,
                    "thickness": 1.5},
        "marker": {"color": REFERENCE_COLOUR}, "showlegend": False,
        "hovertemplate": f"%{{y}}: {plot_text(metric)} drops by %{{x:.4f}}<extra></extra>",
    }  # fmt: skip
    layout = _layout(height=max(180, 80 + 28 * len(rows)))
    layout.update(
        xaxis=_axis(title={"text": f"drop in {plot_text(metric)} when shuffled"}, automargin=True,
                    zeroline=True, zerolinecolor=_NEUTRAL),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=False),
    )  # fmt: skip
    return {"data": [bars], "layout": layout}


def robustness_figure(per_feature: Mapping[str, float], threshold: float | None) -> Figure | None:
    """Share of predictions that change when each feature gets small noise, worst first."""
    items = sorted(((k, v) for k, v in per_feature.items() if _finite(v)), key=lambda kv: -kv[1])[:MAX_BARS]
    if not items:
        return None
    limit = threshold if _finite(threshold) else None
    bars = {
        "type": "bar", "orientation": "h", "y": unique_labels([k for k, _ in items]),
        "x": [v for _, v in items],
        "marker": {"color": [_BAD if limit is not None and v > limit else REFERENCE_COLOUR
                             for _, v in items]},
        "showlegend": False, "hovertemplate": "%{y}: %{x:.2%} of predictions change<extra></extra>",
    }  # fmt: skip
    layout = _layout(height=max(180, 80 + 28 * len(items)))
    top = max([v for _, v in items] + ([limit] if limit is not None else []))
    layout.update(
        xaxis=_axis(title={"text": "share of predictions that change"}, tickformat=".1%",
                    range=[0, (top or 0.01) * 1.15], automargin=True),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=False),
    )  # fmt: skip
    if limit is not None:
        layout["shapes"] = [
            {"type": "line", "xref": "x", "yref": "paper", "x0": limit, "x1": limit, "y0": 0, "y1": 1,
             "line": {"color": _INK, "width": 1.5, "dash": "dash"}}
        ]  # fmt: skip
        layout["annotations"] = [
            {"x": limit, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom", "showarrow": False,
             "text": "limit", "font": {"size": 10, "color": _INK}}
        ]  # fmt: skip
    return {"data": [bars], "layout": layout}


# ---------------------------------------------------------------- shared


def _finite(x: Any) -> TypeGuard[float]:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and x == x and abs(x) != float("inf")


def _axis(**extra: Any) -> dict[str, Any]:
    return {"gridcolor": _GRID, "zeroline": False, "linecolor": _NEUTRAL, **extra}


def _layout(*, height: int) -> dict[str, Any]:
    return {
        "height": height,
        "autosize": True,
        "margin": {"l": 8, "r": 16, "t": 36, "b": 36},
        "font": {"family": FONT_STACK, "size": 12, "color": _INK},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"family": FONT_STACK}},
    }


def disparity_figure(
    disparities: Mapping[str, Any],
    intervals: Mapping[str, Any],
    thresholds: Mapping[str, Any],
    statuses: Mapping[str, str],
) -> Figure | None:
    """Each disparity as a dot with its bootstrap interval, its limit as a dark tick.

    Differences are better near 0 and ratios near 1; a dot is red when its check failed.
    """
    names = [k for k, v in disparities.items() if _finite(v)][:MAX_BARS]
    if not names:
        return None
    labels = unique_labels([n.replace("_", " ") for n in names], 32)
    plus, minus = [], []
    for n in names:
        v, band = float(disparities[n]), intervals.get(n)
        lo, hi = (band[0], band[1]) if isinstance(band, (list, tuple)) and len(band) == 2 else (None, None)
        plus.append(hi - v if _finite(hi) else 0.0)
        minus.append(v - lo if _finite(lo) else 0.0)
    colours = [_BAD if statuses.get(n) in ("fail", "error") else REFERENCE_COLOUR for n in names]
    dots = {
        "type": "scatter", "mode": "markers", "name": "disparity (interval)", "y": labels,
        "x": [disparities[n] for n in names],
        "error_x": {"type": "data", "symmetric": False, "array": plus, "arrayminus": minus,
                    "color": _INK, "thickness": 1.5, "width": 5},
        "marker": {"color": colours, "size": 11, "line": {"color": "#ffffff", "width": 1}},
        "hovertemplate": "%{y}: %{x:.3f}<extra></extra>",
    }  # fmt: skip
    data = [dots]
    limited = [
        (label, thresholds[n]) for label, n in zip(labels, names, strict=True) if _finite(thresholds.get(n))
    ]
    if limited:
        data.append({
            "type": "scatter", "mode": "markers", "name": "limit", "y": [lb for lb, _ in limited],
            "x": [t for _, t in limited],
            "marker": {"symbol": "line-ns-open", "size": 22, "color": _INK,
                       "line": {"width": 3, "color": _INK}},
            "hovertemplate": "limit %{x}<extra>%{y}</extra>",
        })  # fmt: skip
    layout = _layout(height=max(200, 90 + 40 * len(names)))
    layout.update(
        showlegend=True,
        xaxis=_axis(title={"text": "disparity"}, range=[0, 1.05],
                    automargin=True),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=True),
        hovermode="closest",
    )  # fmt: skip
    return {"data": data, "layout": layout}
