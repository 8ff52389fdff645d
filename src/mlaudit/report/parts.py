"""Markup pieces both reports use: badges, stat tables, column alerts, figure slots.

Every function here returns trusted markup and escapes whatever it is given.

>>> badge("drifted")
'<span class="badge drifted"><span aria-hidden="true">✕ </span>drifted</span>'
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from mlaudit.report.format import DASH, esc, fmt_int, fmt_num, fmt_pct, fmt_value, shorten
from mlaudit.stats.profile import ColumnProfile

__all__ = ["Alert", "BadgeKind", "badge", "column_alerts", "missing", "plot_slot", "stats_table", "table"]

BadgeKind = Literal["drifted", "ok", "skipped", "warn", "bad"]
_ICONS = {"drifted": "✕", "bad": "✕", "ok": "✓", "skipped": "–", "warn": "!"}
_QUANTILES = (("p1", 0.01), ("p25", 0.25), ("median", 0.5), ("p75", 0.75), ("p99", 0.99))
ID_SHARE = 0.95  # distinct/valid above which a string column looks like an identifier
MISSING_WARN = 0.2


@dataclass(frozen=True)
class Alert:
    """Something about a column worth a look: ``text`` says what, ``todo`` what to do."""

    column: str
    severity: Literal["bad", "warn"]
    text: str
    todo: str


def badge(kind: BadgeKind, label: str | None = None) -> str:
    """A status pill with an icon, so the status does not rest on colour alone."""
    icon = f'<span aria-hidden="true">{_ICONS[kind]} </span>'
    return f'<span class="badge {kind}">{icon}{esc(label or kind)}</span>'


def missing(c: ColumnProfile) -> int:
    """Values that are not usable: nulls, NaN and ±inf."""
    return c.nulls + c.nan + c.inf


def column_alerts(c: ColumnProfile) -> list[Alert]:
    """Data-quality observations from one column's profile alone."""
    out: list[Alert] = []
    if c.count and c.valid == 0:
        out.append(Alert(c.name, "bad", "has no usable values", "fix the source or drop the column"))
        return out
    miss = missing(c) / c.count if c.count else 0.0
    if miss >= MISSING_WARN:
        out.append(
            Alert(c.name, "warn", f"{fmt_pct(miss)} of values are missing",
                  "check the source; impute or drop it before training")
        )  # fmt: skip
    if c.nan or c.inf:
        parts = [f"{fmt_int(n)} {what}" for n, what in ((c.nan, "NaN"), (c.inf, "±inf")) if n]
        out.append(
            Alert(c.name, "warn", f"contains {' and '.join(parts)}",
                  "find the computation that produces them (division by zero, log of 0)")
        )  # fmt: skip
    distinct = c.distinct_estimate()
    if c.valid > 1 and distinct == 1:
        out.append(Alert(c.name, "warn", "is constant", "it carries no information: drop it"))
    elif c.kind in ("categorical", "text") and c.valid >= 50 and distinct >= ID_SHARE * c.valid:
        out.append(
            Alert(c.name, "warn", "is nearly unique per row (an identifier?)",
                  "keep identifiers out of model features")
        )  # fmt: skip
    return out


def stats_rows(c: ColumnProfile) -> list[tuple[str, str]]:
    """(label, formatted value) pairs describing one column, by kind."""
    rows = [("rows", fmt_int(c.count))]
    miss = missing(c)
    rows.append(("missing", f"{fmt_int(miss)} ({fmt_pct(miss / c.count)})" if c.count else DASH))
    if c.nan or c.inf:
        rows.append(("NaN / ±inf", f"{fmt_int(c.nan)} / {fmt_int(c.inf)}"))
    distinct = c.distinct_estimate()
    approx = "≈ " if c.value_counts is None and distinct >= 100 else ""  # HLL is exact when small
    rows.append(("distinct", approx + fmt_int(distinct)))
    kind = c.kind
    if kind in ("numeric", "datetime", "text"):
        unit = " (length)" if kind == "text" else ""
        qs = c.quantiles([q for _, q in _QUANTILES])
        rows.append((f"mean{unit}", fmt_value(c.mean, kind)))
        std = c.std
        if kind == "datetime":
            rows.append(("std", DASH if std is None else f"{fmt_num(std / 86400)} days"))
        else:
            rows.append((f"std{unit}", fmt_num(std)))
        rows.append((f"min{unit}", fmt_value(c.min, kind)))
        rows.extend(
            (f"{label}{unit}", fmt_value(v, kind)) for (label, _), v in zip(_QUANTILES, qs, strict=True)
        )
        rows.append((f"max{unit}", fmt_value(c.max, kind)))
    elif kind == "boolean":
        rows.append(("share true", fmt_pct(c.mean)))
    else:
        top = c.top(1)
        if top and c.valid:
            value, n = top[0]
            rows.append(("most common", f"{esc_short(value)} ({fmt_pct(n / c.valid)})"))
    return rows


def esc_short(value: str, limit: int = 40) -> str:
    """A data value for a table cell: quoted, shortened and escaped."""
    return esc(f"“{shorten(value, limit)}”")


def stats_table(ref: ColumnProfile, cur: ColumnProfile | None = None, names: Sequence[str] = ()) -> str:
    """A two- or three-column table of :func:`stats_rows` (reference and current side by side).

    Values from :func:`stats_rows` are already escaped where they hold data.
    """
    left = stats_rows(ref)
    if cur is None:
        body = "".join(f'<tr><th scope="row">{esc(k)}</th><td class="n">{v}</td></tr>' for k, v in left)
        return f'<table class="stats"><tbody>{body}</tbody></table>'
    right = dict(stats_rows(cur))
    head_names = list(names) or ["reference", "current"]
    head = (
        '<thead><tr><th scope="col">statistic</th>'
        + "".join(f'<th scope="col" class="n">{esc(n)}</th>' for n in head_names)
        + "</tr></thead>"
    )
    body = "".join(
        f'<tr><th scope="row">{esc(k)}</th><td class="n">{v}</td><td class="n">{right.get(k, DASH)}</td></tr>'
        for k, v in left
    )
    return f'<table class="stats">{head}<tbody>{body}</tbody></table>'


def table(headers: Sequence[tuple[str, bool]], rows: Sequence[Sequence[str]], caption: str) -> str:
    """A scrollable table: ``headers`` are (label, numeric?) and ``rows`` trusted cell markup."""
    head = "".join(f'<th scope="col"{" class=n" if num else ""}>{esc(h)}</th>' for h, num in headers)
    numeric = [num for _, num in headers]
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="{"n" if num else ("name" if i == 0 else "")}">{cell}</td>'
            for i, (cell, num) in enumerate(zip(row, numeric, strict=True))
        )
        + "</tr>"
        for row in rows
    )
    return (
        f'<div class="table-wrap" role="region" aria-label="{esc(caption)}" tabindex="0">'
        f'<table><caption class="sr-only">{esc(caption)}</caption><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def plot_slot(fig_id: str, label: str) -> str:
    """The element a figure is drawn into (``role="img"`` with a text label for screen readers)."""
    return f'<div class="plot" id="{esc(fig_id)}" role="img" aria-label="{esc(label)}"></div>'
