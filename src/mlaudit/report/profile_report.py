"""The data-profile report: what is in a table, and what in it needs a look.

Summary first (size, missing values, the columns worth a look and what to do about them),
then a table of every column, then one section per column with its statistics and its
distribution. Everything is drawn from the :class:`~mlaudit.stats.profile.Profile`, so the
page is the same size for a thousand rows or a billion.

>>> from mlaudit.stats.profile import profile
>>> html = profile_html(profile({"age": [31, 45, 27]}), source="people.csv")
>>> "people.csv" in html and 'id="col-0"' in html
True
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from mlaudit.frames import TableLike
from mlaudit.report.format import esc, fmt_int, fmt_pct, fmt_value
from mlaudit.report.html import HtmlReport, page
from mlaudit.report.parts import (
    Alert,
    BadgeKind,
    badge,
    column_alerts,
    esc_short,
    missing,
    plot_slot,
    stats_table,
    table,
)
from mlaudit.report.plots import distribution_figure
from mlaudit.stats.profile import ColumnProfile, Profile, profile

__all__ = ["profile_html", "render_profile"]


def profile_html(profile: Profile, *, title: str = "Data profile", source: str | None = None) -> str:
    """A self-contained HTML page describing ``profile`` (``source`` names the data).

    >>> from mlaudit.stats.profile import profile as p
    >>> profile_html(p({"x": [1.0, None]}), title="<b>x</b>").count("&lt;b&gt;x&lt;/b&gt;") >= 2
    True
    """
    columns = list(profile.columns.values())
    alerts = {c.name: column_alerts(c) for c in columns}
    figures: dict[str, dict[str, Any]] = {}
    details = []
    for i, c in enumerate(columns):
        fig = distribution_figure(c)
        if fig is not None:
            figures[f"fig-{i}"] = fig
        details.append(_column_section(i, c, alerts[c.name], fig is not None))
    body = "\n".join(
        [
            _summary(profile, alerts),
            '<section id="columns" aria-labelledby="h-columns"><h2 id="h-columns">Columns</h2>',
            _columns_table(columns, alerts),
            "</section>",
            '<section id="details" aria-labelledby="h-details"><h2 id="h-details">Column details</h2>',
            *details,
            "</section>",
        ]
    )
    sub = [source] if source else []
    sub.append(f"{fmt_int(profile.rows)} rows · {fmt_int(len(columns))} columns")
    toc = [("summary", "Summary"), ("columns", "Columns"), ("details", "Column details")]
    return page(title, body, figures, subtitle=" · ".join(sub), toc=toc)


def _summary(profile: Profile, alerts: dict[str, list[Alert]]) -> str:
    columns = list(profile.columns.values())
    cells = sum(c.count for c in columns)
    missing_cells = sum(missing(c) for c in columns)
    kinds = Counter(c.kind for c in columns)
    flat = [a for found in alerts.values() for a in found]
    flagged = [name for name, found in alerts.items() if found]
    index = {c.name: i for i, c in enumerate(columns)}
    if not columns:
        verdict = _verdict("warn", "The table has no columns.", "Check the source and the query.")
    elif profile.rows == 0:
        verdict = _verdict("warn", "The table has no rows.", "Check the source and the query.")
    elif flat:
        worst = "bad" if any(a.severity == "bad" for a in flat) else "warn"
        verdict = _verdict(
            worst,
            f"{len(flagged)} of {len(columns)} columns need a look.",
            "Each is listed below with what was found and what to do.",
        )
    else:
        verdict = _verdict("ok", "No problems found.", "Nothing is missing, constant or malformed.")
    cards = [
        ("rows", fmt_int(profile.rows)),
        ("columns", fmt_int(len(columns))),
        ("missing cells", fmt_pct(missing_cells / cells) if cells else "—"),
        ("kinds", ", ".join(f"{n} {k}" for k, n in kinds.most_common()) or "—"),
    ]
    card_html = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div>'
        f'<div class="v{" long" if len(v) > 12 else ""}">{esc(v)}</div></div>'
        for k, v in cards
    )
    items = "".join(
        f"<li>{badge(a.severity, 'problem' if a.severity == 'bad' else 'check')} "
        f'<a href="#col-{index[a.column]}"><code>{esc(a.column)}</code></a> {esc(a.text)} — '
        f"{esc(a.todo)}.</li>"
        for a in sorted(flat, key=lambda a: (a.severity != "bad", index[a.column]))
    )
    todo = f'<h3>What to look at</h3><ul class="todo">{items}</ul>' if items else ""
    return (
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>'
        f'{verdict}<div class="cards">{card_html}</div>{todo}</section>'
    )


def _verdict(kind: str, headline: str, text: str) -> str:
    return (
        f'<div class="verdict {kind}" role="status"><strong class="big">{esc(headline)}</strong>'
        f"<p>{esc(text)}</p></div>"
    )


def _columns_table(columns: list[ColumnProfile], alerts: dict[str, list[Alert]]) -> str:
    headers = [
        ("column", False), ("kind", False), ("missing", True), ("distinct", True),
        ("min / top value", True), ("median", True), ("max", True), ("status", False),
    ]  # fmt: skip
    rows = []
    for i, c in enumerate(columns):
        miss = missing(c) / c.count if c.count else 0.0
        lo, mid, hi = _range_cells(c)
        rows.append(
            [
                f'<a href="#col-{i}"><code>{esc(c.name)}</code></a>',
                esc(c.kind),
                fmt_pct(miss),
                fmt_int(c.distinct_estimate()),
                lo,
                mid,
                hi,
                _status(alerts[c.name]),
            ]
        )
    return table(headers, rows, "Every column with its kind, missing share, range and status")


def _range_cells(c: ColumnProfile) -> tuple[str, str, str]:
    if c.kind in ("numeric", "datetime"):
        return fmt_value(c.min, c.kind), fmt_value(c.quantile(0.5), c.kind), fmt_value(c.max, c.kind)
    if c.kind == "text":
        return (
            "length " + fmt_value(c.min, "numeric"),
            fmt_value(c.quantile(0.5), "numeric"),
            fmt_value(c.max, "numeric"),
        )
    top = c.top(1)
    if not top or not c.valid:
        return "—", "—", "—"
    value, n = top[0]
    return f"{esc_short(value, 24)} ({fmt_pct(n / c.valid)})", "—", "—"


def _status(found: list[Alert]) -> str:
    if not found:
        return badge("ok")
    worst: BadgeKind = "bad" if any(a.severity == "bad" for a in found) else "warn"
    reasons = "; ".join(a.text for a in found)
    return (
        f'{badge(worst, "problem" if worst == "bad" else "check")}<span class="reason">{esc(reasons)}</span>'
    )


def _column_section(i: int, c: ColumnProfile, found: list[Alert], has_plot: bool) -> str:
    notes = "".join(
        f'<p class="note"><code>{esc(c.name)}</code> {esc(a.text)} — {esc(a.todo)}.</p>' for a in found
    )
    plot = plot_slot(f"fig-{i}", f"Distribution of column {c.name}") if has_plot else ""
    if c.kind == "text":
        notes += '<p class="note">Text column: statistics describe value length in characters.</p>'
    body_class = "col-body" if has_plot else "col-body single"
    return (
        f'<article class="col" id="col-{i}" aria-labelledby="h-col-{i}">'
        f'<div class="col-head"><h3 id="h-col-{i}"><code>{esc(c.name)}</code></h3>'
        f'<span class="kind">{esc(c.kind)}</span>{_status(found)}</div>'
        f'<div class="{body_class}"><div>{stats_table(c)}{notes}</div>'
        f"{f'<div>{plot}</div>' if plot else ''}</div></article>"
    )


def render_profile(
    data: Profile | TableLike, *, title: str = "Data profile", source: str | None = None
) -> HtmlReport:
    """Profile ``data`` (unless it already is a :class:`Profile`) and render it."""
    prof = data if isinstance(data, Profile) else profile(data)
    return HtmlReport(profile_html(prof, title=title, source=source), title)
