"""Plotly figures (plain ``{"data", "layout"}`` dicts) drawn from profiles, never from rows.

A histogram has at most a few dozen bins and a bar chart at most :data:`MAX_CATEGORIES`
bars, so a figure costs a few KB whatever the size of the table behind it. Every string
that reaches Plotly is HTML-escaped first: Plotly reads a small HTML subset in labels.

>>> from mlaudit.stats.profile import profile
>>> fig = distribution_figure(profile({"x": [1.0, 2.0, 2.5]}).column("x"))
>>> [t["type"] for t in fig["data"]], fig["layout"]["height"]
(['bar'], 260)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mlaudit.report.format import fmt_int, fmt_num, fmt_value, plot_text, shorten
from mlaudit.report.html import CURRENT_COLOUR, FONT_STACK, REFERENCE_COLOUR
from mlaudit.stats.drift import ColumnDrift
from mlaudit.stats.profile import ColumnProfile, Histogram

__all__ = ["MAX_CATEGORIES", "MAX_SEVERITY_BARS", "distribution_figure", "severity_figure"]

Figure = dict[str, Any]

MAX_CATEGORIES = 12
MAX_SEVERITY_BARS = 25
_SEVERITY_CAP = 5.0  # bars longer than 5x the threshold are cut (their label says how long)
_BAD, _NEUTRAL = "#b42318", "#667085"
_GRID = "#e4e7ec"


def distribution_figure(
    reference: ColumnProfile,
    current: ColumnProfile | None = None,
    *,
    names: tuple[str, str] = ("reference", "current"),
) -> Figure | None:
    """The distribution of one column (and of its current counterpart, overlaid).

    Numeric and datetime columns: the reference histogram as bars and the current one as a
    step line, both as shares of values, with extra hatched bins for values outside the
    reference range. Categorical and boolean columns: horizontal bars of the top categories'
    shares. ``None`` when there is nothing to draw (text columns, no values).
    """
    if reference.histogram is not None and reference.kind in ("numeric", "datetime"):
        cur_hist = current.histogram if current is not None else None
        return _histogram_figure(reference.histogram, cur_hist, reference.kind, names)
    if reference.kind in ("categorical", "boolean"):
        return _categories_figure(reference, current, names)
    return None


def severity_figure(columns: Sequence[ColumnDrift]) -> Figure | None:
    """Effect size as a multiple of each column's threshold, worst first: the "how badly".

    Skipped columns are left out; ``None`` when no column was tested.
    """
    tested = [c for c in columns if not c.skipped and c.effect is not None]
    if not tested:
        return None
    ranked = sorted(tested, key=lambda c: (-c.drifted, -_ratio(c)))[:MAX_SEVERITY_BARS]
    labels = unique_labels([c.name for c in ranked], 20)
    ratios = [_ratio(c) for c in ranked]
    cap = min(max([*ratios, 1.0]) * 1.08, _SEVERITY_CAP * 1.08)
    hover = [
        f"<b>{plot_text(shorten(c.name, 60))}</b><br>{plot_text(c.effect_name or 'effect')} "
        f"{fmt_num(c.effect)} vs threshold {fmt_num(c.threshold)}<br>"
        + ("drifted" if c.drifted else "not drifted (p-value or effect too small)")
        for c in ranked
    ]
    bars = {
        "type": "bar",
        "orientation": "h",
        "y": labels,
        "x": [min(r, cap) for r in ratios],
        "text": [f"{r:.2g}×" for r in ratios],
        "textposition": "outside",
        "cliponaxis": False,
        "marker": {"color": [_BAD if c.drifted else _NEUTRAL for c in ranked]},
        "hovertext": hover,
        "hovertemplate": "%{hovertext}<extra></extra>",
        "showlegend": False,
    }
    layout = _layout(height=max(180, 70 + 26 * len(ranked)))
    layout.update(
        xaxis=_axis(title={"text": "effect ÷ threshold"}, range=[0, cap * 1.12]),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=False),
        shapes=[
            {
                "type": "line", "xref": "x", "yref": "paper", "x0": 1, "x1": 1, "y0": 0, "y1": 1,
                "line": {"color": "#1d2433", "width": 1.5, "dash": "dash"},
            }
        ],
        bargap=0.25,
    )  # fmt: skip
    return {"data": [bars], "layout": layout}


# ---------------------------------------------------------------- histograms


def _histogram_figure(ref: Histogram, cur: Histogram | None, kind: str, names: tuple[str, str]) -> Figure:
    scale = 1000.0 if kind == "datetime" else 1.0  # Plotly date axes count milliseconds
    overflow = bool(ref.below or ref.above or (cur is not None and (cur.below or cur.above)))
    data = [_bars(ref, kind, scale, overflow, names[0])]
    if cur is not None:
        data.append(_steps(cur, kind, scale, overflow, names[1]))
    layout = _layout(height=260)
    layout.update(
        barmode="overlay",
        bargap=0,
        hovermode="x unified" if cur is not None else "closest",
        xaxis=_axis(type="date" if kind == "datetime" else "linear", automargin=True),
        yaxis=_axis(title={"text": "share of values"}, tickformat=".0%", rangemode="tozero", automargin=True),
    )
    if overflow:
        layout["annotations"] = _overflow_notes(ref, scale)
    if cur is None:
        layout["showlegend"] = False
    return {"data": data, "layout": layout}


def _cells(h: Histogram, kind: str, overflow: bool) -> tuple[list[float], list[float], list[int], list[str]]:
    """Bin (left, right, count, label) with the below/above bins added when ``overflow``."""
    edges, counts = list(h.edges), list(h.counts)
    lefts, rights = edges[:-1], edges[1:]
    labels = [f"{fmt_value(a, kind)} – {fmt_value(b, kind)}" for a, b in zip(lefts, rights, strict=True)]
    if overflow:
        width = (edges[-1] - edges[0]) / max(len(counts), 1)
        lefts = [edges[0] - width, *lefts, edges[-1]]
        rights = [edges[0], *rights, edges[-1] + width]
        counts = [h.below, *counts, h.above]
        labels = [f"below {fmt_value(edges[0], kind)}", *labels, f"above {fmt_value(edges[-1], kind)}"]
    return lefts, rights, counts, labels


def _bars(h: Histogram, kind: str, scale: float, overflow: bool, name: str) -> dict[str, Any]:
    lefts, rights, counts, labels = _cells(h, kind, overflow)
    total = sum(counts) or 1
    pattern = [""] * len(counts)
    if overflow:
        pattern[0] = pattern[-1] = "/"
    return {
        "type": "bar",
        "name": plot_text(name),
        "x": [(a + b) / 2 * scale for a, b in zip(lefts, rights, strict=True)],
        "width": [(b - a) * scale for a, b in zip(lefts, rights, strict=True)],
        "y": [c / total for c in counts],
        "customdata": [[lab, fmt_int(c)] for lab, c in zip(labels, counts, strict=True)],
        "hovertemplate": "%{fullData.name}: %{y:.1%} (%{customdata[1]}) · %{customdata[0]}<extra></extra>",
        "marker": {
            "color": REFERENCE_COLOUR,
            "opacity": 0.55,
            "line": {"color": "#ffffff", "width": 0.5},
            "pattern": {"shape": pattern, "fgcolor": "#ffffff", "size": 6},
        },
    }


def _steps(h: Histogram, kind: str, scale: float, overflow: bool, name: str) -> dict[str, Any]:
    lefts, rights, counts, labels = _cells(h, kind, overflow)
    total = sum(counts) or 1
    shares = [c / total for c in counts]
    custom = [[lab, fmt_int(c)] for lab, c in zip(labels, counts, strict=True)]
    # points at bin centres joined with "hvh" steps, plus both outer edges: a step histogram
    xs = [lefts[0], *((a + b) / 2 for a, b in zip(lefts, rights, strict=True)), rights[-1]]
    return {
        "type": "scatter",
        "mode": "lines",
        "name": plot_text(name),
        "x": [x * scale for x in xs],
        "y": [shares[0], *shares, shares[-1]],
        "customdata": [custom[0], *custom, custom[-1]],
        "hovertemplate": "%{fullData.name}: %{y:.1%} (%{customdata[1]}) · %{customdata[0]}<extra></extra>",
        "line": {"shape": "hvh", "color": CURRENT_COLOUR, "width": 2.5},
    }


def _overflow_notes(ref: Histogram, scale: float) -> list[dict[str, Any]]:
    width = (ref.edges[-1] - ref.edges[0]) / max(len(ref.counts), 1)
    spots = (("below", ref.edges[0] - width / 2), ("above", ref.edges[-1] + width / 2))
    return [
        {
            "x": x * scale, "y": 1, "xref": "x", "yref": "paper", "yanchor": "bottom",
            "text": f"{word}<br>range", "showarrow": False, "font": {"size": 10, "color": "#4a5568"},
        }
        for word, x in spots
    ]  # fmt: skip


# ---------------------------------------------------------------- categories


def _categories_figure(
    ref: ColumnProfile, cur: ColumnProfile | None, names: tuple[str, str]
) -> Figure | None:
    ref_items = dict(ref.top(None if ref.value_counts is not None else 200))
    cur_items = dict(cur.top(None if cur.value_counts is not None else 200)) if cur else {}
    ref_total, cur_total = ref.valid or sum(ref_items.values()), cur.valid if cur else 0
    if not ref_items and not cur_items:
        return None
    ref_share = {k: v / ref_total for k, v in ref_items.items()} if ref_total else {}
    cur_share = {k: v / cur_total for k, v in cur_items.items()} if cur_total else {}
    keys = sorted(
        set(ref_share) | set(cur_share),
        key=lambda k: (-max(ref_share.get(k, 0.0), cur_share.get(k, 0.0)), k),
    )
    shown = keys[:MAX_CATEGORIES]
    labels = unique_labels(shown, 24)
    rest = len(keys) > MAX_CATEGORIES or _has_more(ref) or (cur is not None and _has_more(cur))
    if rest:
        labels.append("(all others)")
    data = [_category_bars(ref_share, ref_items, ref_total, shown, labels, rest, names[0], REFERENCE_COLOUR)]
    if cur is not None:
        data.append(
            _category_bars(cur_share, cur_items, cur_total, shown, labels, rest, names[1], CURRENT_COLOUR)
        )
    per_row = 2 if cur is not None else 1
    layout = _layout(height=max(200, 70 + len(labels) * 14 * per_row + len(labels) * 8))
    layout.update(
        barmode="group",
        bargap=0.25,
        hovermode="y unified" if cur is not None else "closest",
        xaxis=_axis(title={"text": "share of values"}, tickformat=".0%", rangemode="tozero", automargin=True),
        yaxis=_axis(type="category", autorange="reversed", automargin=True, showgrid=False),
    )
    if cur is None:
        layout["showlegend"] = False
    return {"data": data, "layout": layout}


def _category_bars(
    share: dict[str, float],
    counts: dict[str, int],
    total: int,
    keys: list[str],
    labels: list[str],
    rest: bool,
    name: str,
    colour: str,
) -> dict[str, Any]:
    xs = [share.get(k, 0.0) for k in keys]
    ns = [counts.get(k, 0) for k in keys]
    full = [plot_text(shorten(k, 80)) for k in keys]
    if rest:
        xs.append(max(0.0, 1.0 - sum(xs)) if total else 0.0)
        ns.append(max(0, total - sum(ns)))
        full.append("all other values")
    return {
        "type": "bar",
        "orientation": "h",
        "name": plot_text(name),
        "y": labels,
        "x": xs,
        "customdata": [[f, fmt_int(n)] for f, n in zip(full, ns, strict=True)],
        "hovertemplate": "%{fullData.name}: %{x:.1%} (%{customdata[1]})<extra>%{customdata[0]}</extra>",
        "marker": {"color": colour},
    }


def _has_more(c: ColumnProfile) -> bool:
    return c.value_counts is None and c.items_sketch is not None


# ---------------------------------------------------------------- shared


def _ratio(c: ColumnDrift) -> float:
    if c.effect is None:
        return 0.0
    if c.threshold <= 0:
        return _SEVERITY_CAP if c.effect > 0 else 0.0
    return max(0.0, c.effect / c.threshold)


def unique_labels(names: Sequence[str], limit: int = 40) -> list[str]:
    """Escaped, shortened, and distinct (Plotly merges equal category labels into one bar)."""
    out: list[str] = []
    seen: set[str] = set()
    for name in names:
        label = plot_text(shorten(name, limit)) or "(empty)"
        base, n = label, 2
        while label in seen:
            label, n = f"{base} ({n})", n + 1
        seen.add(label)
        out.append(label)
    return out


def _axis(**extra: Any) -> dict[str, Any]:
    return {"gridcolor": _GRID, "zeroline": False, "linecolor": "#98a2b3", **extra}


def _layout(*, height: int) -> dict[str, Any]:
    return {
        "height": height,
        "autosize": True,
        "margin": {"l": 8, "r": 16, "t": 36, "b": 36},
        "font": {"family": FONT_STACK, "size": 12, "color": "#1d2433"},
        "paper_bgcolor": "#ffffff",
        "plot_bgcolor": "#ffffff",
        "legend": {"orientation": "h", "x": 0.5, "xanchor": "center", "y": 1.02, "yanchor": "bottom"},
        "hoverlabel": {"font": {"family": FONT_STACK}},
    }
