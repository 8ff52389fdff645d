"""The data-quality report, rendered from ``CheckReport.to_dict()`` (so a stored result re-renders).

Summary first (the verdict, each rule that failed or warned with how many rows offend and
what to do), a chart of the share of offending rows per rule, a table of every rule with its
status, then the example rows of each rule that did not pass (escaped: they are data).

>>> doc = {"kind": "check_report", "rows": 3, "passed": True, "results": [
...     {"check": "not_null(id)", "status": "pass", "value": 0.0, "threshold": 0.0,
...      "details": {"rule": "not_null", "rows": 3, "offending": 0, "examples": [], "column": "id"}}]}
>>> "Every rule passed" in check_html(doc)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlaudit.errors import InputError
from mlaudit.report.audit_plots import MAX_BARS
from mlaudit.report.blocks import ORDER, RESULT_CSS, cards, status_badge, verdict
from mlaudit.report.format import DASH, esc, fmt_int, fmt_num, fmt_pct, plot_text, shorten
from mlaudit.report.html import FONT_STACK, HtmlReport, page
from mlaudit.report.parts import plot_slot, table

__all__ = ["check_html", "offending_share", "render_check", "rule_columns"]

Doc = Mapping[str, Any]

TABLE_RULES = ("row_count", "freshness")  # judge the whole table: no share of rows
TODO = {
    "not_null": "Fill the missing values at the source, or allow some with max_null_rate if expected.",
    "unique": "Remove the duplicates upstream (a join that fans out?) or widen the key.",
    "range": "Check the offending rows at the source (unit or parsing errors?); widen the range "
    "only if the values are real.",
    "allowed_values": "Map the new values, or add them to the rule if they are legitimate.",
    "regex": "Normalise the format at the source, or correct the pattern.",
    "type": "Fix the column's type in the export (numbers stored as text?).",
    "row_count": "Find out why the row count changed (a partial load? a duplicated batch?).",
    "freshness": "The data is stale: check that the pipeline that writes it still runs.",
    "referential": "Load the missing keys into the referenced table, or drop the orphaned rows.",
    "expression": "Look at the example rows: the business rule they break is in the rule's expression.",
}
TODO_ERROR = "The rule could not run: check the data's columns and types against the rules file."
TODO_OTHER = "Look at the example rows below and fix the data at its source, or correct the rule."

_CSS = """
.examples{margin:14px 0}
.examples .table-wrap{display:inline-block;max-width:100%;min-width:min(100%,320px)}
.examples table td.n{width:5em}
.examples h3 .badge{vertical-align:2px;margin-left:6px}
td.share{white-space:nowrap}
"""
_COLOURS = {"fail": "#b42318", "error": "#b42318", "warn": "#dc6803", "pass": "#1f5fa8"}


def render_check(document: Doc, *, source: str | None = None) -> HtmlReport:
    """:func:`check_html` wrapped in an :class:`~mlaudit.report.html.HtmlReport`."""
    return HtmlReport(check_html(document, source=source), title="Data quality")


def check_html(document: Doc, *, source: str | None = None) -> str:
    """The complete HTML page for a ``check_report`` document; ``source`` names the data."""
    if not isinstance(document, Mapping) or document.get("kind") != "check_report":
        raise InputError(
            "not a check report document",
            hint="pass CheckReport.to_dict() or a stored check_report result",
        )
    results = [r for r in document.get("results") or [] if isinstance(r, Mapping)]
    figures: dict[str, dict[str, Any]] = {}
    fig = share_figure(results)
    chart = ""
    if fig is not None:
        figures["fig-shares"] = fig
        chart = (
            '<p class="note">Share of the rows that break each row-level rule (table-level rules such as '
            "row_count are not drawn).</p>" + plot_slot("fig-shares", "Share of offending rows per rule")
        )
    body = "\n".join(
        [
            f"<style>{RESULT_CSS}{_CSS}</style>",
            _summary(document, results),
            '<section id="rules" aria-labelledby="h-rules"><h2 id="h-rules">Every rule</h2>',
            chart,
            _rules_table(results),
            "</section>",
            _examples(results),
        ]
    )
    toc = [("summary", "Summary"), ("rules", "Every rule"), ("examples", "Example rows")]
    rows = f"{fmt_int(document.get('rows'))} rows checked against {len(results)} rules"
    subtitle = f"{source} · {rows}" if source else rows
    return page("Data quality", body, figures, subtitle=subtitle, toc=toc)


def rule_columns(r: Doc) -> str:
    """The column(s) a rule reads, as text ("" when it reads none by name)."""
    d = _details(r)
    cols = d.get("columns")
    if d.get("column"):
        return str(d["column"])
    if isinstance(cols, Sequence) and not isinstance(cols, str):
        return ", ".join(map(str, cols))
    return ""


def offending_share(r: Doc) -> float | None:
    """Offending rows over rows checked, for row-level rules (``None`` otherwise)."""
    d = _details(r)
    offending, rows = d.get("offending"), d.get("rows")
    if d.get("rule") in TABLE_RULES or not isinstance(offending, (int, float)) or not rows:
        return None
    return float(offending) / float(rows)


def _details(r: Doc) -> Mapping[str, Any]:
    d = r.get("details")
    return d if isinstance(d, Mapping) else {}


def todo(r: Doc) -> str:
    """What to do about a rule that did not pass."""
    if r.get("status") == "error":
        return TODO_ERROR
    return TODO.get(str(_details(r).get("rule")), TODO_OTHER)


def sentence(r: Doc) -> str:
    """One sentence saying how badly a rule failed."""
    d = _details(r)
    if r.get("status") == "error":
        return f"{r.get('check')} could not run: {d.get('reason') or 'see details'}"
    share = offending_share(r)
    if share is not None:
        return (
            f"{r.get('check')}: {fmt_int(d.get('offending'))} of {fmt_int(d.get('rows'))} rows "
            f"offend ({fmt_pct(share)})"
        )
    if d.get("rule") == "row_count":
        bounds = ", ".join(f"{k} {fmt_int(d[k])}" for k in ("min", "max") if d.get(k) is not None)
        return f"{r.get('check')}: {fmt_int(d.get('rows'))} rows, expected {bounds or 'otherwise'}"
    if d.get("rule") == "freshness":
        return f"{r.get('check')}: newest value {d.get('newest')}, allowed age {d.get('max_age')}"
    return f"{r.get('check')}: value {fmt_num(r.get('value'))}, threshold {fmt_num(r.get('threshold'))}"


def _summary(document: Doc, results: Sequence[Doc]) -> str:
    statuses = [str(r.get("status")) for r in results]
    n_fail, n_error, n_warn, n_pass = (statuses.count(s) for s in ("fail", "error", "warn", "pass"))
    n = len(results)
    if n_fail or n_error:
        errors = f"; {n_error} could not run" if n_error else ""
        box = verdict("bad", "fail", "Data quality check failed", f"{n_fail} of {n} rules failed{errors}.")
    elif n_warn:
        box = verdict("warn", "warn", "Passed with warnings", f"{n_warn} of {n} rules warned; none failed.")
    else:
        box = verdict("ok", "pass", "Every rule passed", f"All {n} rules hold on this data.")
    bad = [r for r in results if r.get("status") != "pass"]
    bad.sort(key=lambda r: ORDER.get(str(r.get("status")), 9))
    parts = [
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>',
        box,
        cards(
            [
                ("rows checked", fmt_int(document.get("rows"))),
                ("rules passed", f"{n_pass} / {n}"),
                ("warnings", fmt_int(n_warn)),
                ("failed", fmt_int(n_fail)),
                ("could not run", fmt_int(n_error)),
            ]
        ),
    ]
    if bad:
        items = "".join(
            f'<li>{status_badge(r.get("status"))} <a href="#ex-{i}"><code>{esc(r.get("check"))}</code></a>'
            f"{esc(sentence(r).removeprefix(str(r.get('check'))))}"
            f'<span class="todo-line">What to do: {esc(todo(r))}</span></li>'
            for i, r in _numbered(results, bad)
        )
        parts.append(f'<h3>Findings, worst first</h3><ol class="findings">{items}</ol>')
    else:
        parts.append('<p class="note">No findings: every rule holds.</p>')
    parts.append("</section>")
    return "".join(parts)


def _numbered(results: Sequence[Doc], chosen: Sequence[Doc]) -> list[tuple[int, Doc]]:
    index = {id(r): i for i, r in enumerate(results)}
    return [(index[id(r)], r) for r in chosen]


def _rules_table(results: Sequence[Doc]) -> str:
    rows = []
    for r in sorted(results, key=lambda r: ORDER.get(str(r.get("status")), 9)):
        d = _details(r)
        reason = d.get("reason")
        share = offending_share(r)
        status = str(r.get("status"))
        rows.append([
            f"<code>{esc(r.get('check'))}</code>",
            esc(rule_columns(r) or DASH),
            status_badge(status) + (f'<span class="reason">{esc(reason)}</span>' if reason else ""),
            fmt_int(d.get("offending")) if d.get("offending") is not None else DASH,
            esc(fmt_pct(share)) if share is not None else DASH,
            esc(str(d.get("severity") or "fail")),
        ])  # fmt: skip
    headers = [("rule", False), ("column", False), ("status", False), ("offending rows", True),
               ("share", True), ("severity", False)]  # fmt: skip
    return table(headers, rows, "Every rule with its status and offending rows")


def _examples(results: Sequence[Doc]) -> str:
    parts = ['<section id="examples" aria-labelledby="h-examples"><h2 id="h-examples">Example rows</h2>']
    shown = 0
    for i, r in enumerate(results):
        if r.get("status") == "pass":
            continue
        shown += 1
        d = _details(r)
        examples = [e for e in d.get("examples") or [] if isinstance(e, Mapping)]
        head = f'<h3 id="ex-{i}"><code>{esc(r.get("check"))}</code>{status_badge(r.get("status"))}</h3>'
        if not examples:
            if r.get("status") == "error":
                why = "The rule could not run."
            elif d.get("rule") in TABLE_RULES:
                why = "This rule judges the whole table: there are no example rows."
            else:
                why = "No example rows were kept."
            parts.append(
                f'<div class="examples">{head}<p>{esc(sentence(r))}.</p><p class="note">{why}</p></div>'
            )
            continue
        cols = list(dict.fromkeys(k for e in examples for k in (e.get("values") or {})))
        rows = [
            [fmt_int(e.get("row")), *(_cell((e.get("values") or {}).get(c, None)) for c in cols)]
            for e in examples
        ]
        headers = [("row", True), *((str(c), False) for c in cols)]
        more = int(d.get("offending") or 0) - len(examples)
        note = f'<p class="note">and {fmt_int(more)} more offending row(s).</p>' if more > 0 else ""
        caption = f"Example offending rows of {r.get('check')}"
        parts.append(f'<div class="examples">{head}{table(headers, rows, caption)}{note}</div>')
    if not shown:
        parts.append('<p class="note">Every rule passed: no offending rows to show.</p>')
    parts.append(
        '<p class="note">Rows are numbered from 0 in the order they were read. Only the first few '
        "offending rows of each rule are kept.</p></section>"
    )
    return "".join(parts)


def _cell(value: Any) -> str:
    if value is None:
        return '<span class="reason">null</span>'
    return f"<code>{esc(shorten(str(value), 80))}</code>"


def share_figure(results: Sequence[Doc]) -> dict[str, Any] | None:
    """Horizontal bars of each row-level rule's offending share, worst first, coloured by status."""
    items = [(r, s) for r in results if (s := offending_share(r)) is not None]
    if not items:
        return None
    items.sort(key=lambda t: (-t[1], ORDER.get(str(t[0].get("status")), 9)))
    items = items[:MAX_BARS]
    labels: list[str] = []
    for r, _ in items:
        label = plot_text(shorten(str(r.get("check")), 36)) or "(unnamed)"
        while label in labels:
            label += " "
        labels.append(label)
    top = max(s for _, s in items)
    bars = {
        "type": "bar", "orientation": "h", "y": labels, "x": [s for _, s in items], "showlegend": False,
        "marker": {"color": [_COLOURS.get(str(r.get("status")), "#98a2b3") for r, _ in items]},
        "customdata": [f"{fmt_int(_details(r).get('offending'))} rows · {r.get('status')}" for r, _ in items],
        "hovertemplate": "%{y}: %{x:.2%} (%{customdata})<extra></extra>",
    }  # fmt: skip
    layout = {
        "height": max(180, 80 + 28 * len(items)), "autosize": True,
        "margin": {"l": 8, "r": 16, "t": 24, "b": 40},
        "font": {"family": FONT_STACK, "size": 12, "color": "#1d2433"},
        "paper_bgcolor": "#ffffff", "plot_bgcolor": "#ffffff",
        "xaxis": {"title": {"text": "share of rows that offend"}, "tickformat": ".1%", "gridcolor": "#e4e7ec",
                  "range": [0, (top or 0.01) * 1.15], "automargin": True, "zeroline": False},
        "yaxis": {"type": "category", "autorange": "reversed", "automargin": True, "showgrid": False},
    }  # fmt: skip
    return {"data": [bars], "layout": layout}
