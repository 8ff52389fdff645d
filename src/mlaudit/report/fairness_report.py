"""The fairness report, rendered from ``FairnessReport.to_dict()`` (so a stored result re-renders).

Summary first (the verdict, each disparity beyond its limit with its interval and what to do),
then the groups (a chart and a table of their rates; groups below the minimum size greyed and
"not judged"), the disparities with their bootstrap intervals against their limits, and the
four-fifths rule with the tests beside it. The blocks for groups, disparities and the
four-fifths rule are shared with the audit page's fairness section.

>>> doc = {"kind": "fairness_report", "rows": 10, "sensitive": ["sex"], "groups": [],
...        "disparities": {}, "results": [], "four_fifths": {}}
>>> "Fairness: sex" in fairness_html(doc)
True
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mlaudit.errors import InputError
from mlaudit.report.audit_plots import disparity_figure, fairness_figure, group_label
from mlaudit.report.blocks import (
    ORDER,
    RESULT_CSS,
    cards,
    greyed,
    mapping,
    status_badge,
    verdict,
    with_interval,
)
from mlaudit.report.format import DASH, esc, fmt_int, fmt_num, fmt_p, fmt_pct
from mlaudit.report.html import HtmlReport, page
from mlaudit.report.parts import badge, plot_slot, table

__all__ = [
    "disparities_block",
    "fairness_html",
    "four_fifths_block",
    "groups_block",
    "render_fairness",
]

Doc = Mapping[str, Any]
Figures = dict[str, dict[str, Any]]

RATES = (
    ("selection_rate", "selection rate"),
    ("tpr", "TPR"),
    ("fpr", "FPR"),
    ("precision", "precision"),
    ("accuracy", "accuracy"),
    ("mean_score", "mean score"),
    ("calibration_gap", "calibration gap"),
)
TODO_FAIL = (
    "Review the groups named with the model's owners; check the decision threshold and the limits "
    "with compliance before the model keeps deciding."
)
TODO_WARN = "The value meets its limit but its interval does not: collect more data before relying on it."
TODO_ERROR = "Lower the minimum group size or add data, so that at least two groups can be compared."


def render_fairness(document: Doc, *, source: str | None = None) -> HtmlReport:
    """:func:`fairness_html` wrapped in an :class:`~mlaudit.report.html.HtmlReport`."""
    return HtmlReport(fairness_html(document, source=source), title=_title(document))


def fairness_html(document: Doc, *, source: str | None = None) -> str:
    """The complete HTML page for a ``fairness_report`` document; ``source`` names the data."""
    if not isinstance(document, Mapping) or document.get("kind") != "fairness_report":
        raise InputError(
            "not a fairness report document",
            hint="pass FairnessReport.to_dict() or a stored fairness_report result",
        )
    results = [r for r in document.get("results") or [] if isinstance(r, Mapping)]
    figures: Figures = {}
    body = "\n".join(
        [
            f"<style>{RESULT_CSS}</style>",
            _summary(document, results),
            '<section id="groups" aria-labelledby="h-groups"><h2 id="h-groups">Groups</h2>',
            groups_block(document, "fig-groups", figures, overall=True),
            "</section>",
            '<section id="disparities" aria-labelledby="h-disp"><h2 id="h-disp">Disparities</h2>',
            disparities_block(document, results, "fig-disparities", figures),
            "</section>",
            '<section id="four-fifths" aria-labelledby="h-ff"><h2 id="h-ff">Four-fifths rule</h2>',
            four_fifths_block(document) or '<p class="note">Not computed.</p>',
            "</section>",
            _settings(document),
        ]
    )
    toc = [
        ("summary", "Summary"),
        ("groups", "Groups"),
        ("disparities", "Disparities"),
        ("four-fifths", "Four-fifths rule"),
        ("settings", "Settings"),
    ]
    subtitle = _subtitle(document, source)
    return page(_title(document), body, figures, subtitle=subtitle, toc=toc)


def _title(document: Doc) -> str:
    return "Fairness: " + (", ".join(map(str, document.get("sensitive") or [])) or "groups")


def _subtitle(document: Doc, source: str | None) -> str:
    groups = document.get("groups") or []
    judged = sum(1 for g in groups if isinstance(g, Mapping) and g.get("judged", True))
    parts = [
        source or "",
        f"{fmt_int(document.get('rows'))} rows",
        f"{judged} of {len(groups)} groups judged",
    ]
    return " · ".join(p for p in parts if p)


# ---------------------------------------------------------------- summary


def _summary(document: Doc, results: Sequence[Doc]) -> str:
    statuses = [str(r.get("status")) for r in results]
    bad = [r for r in results if r.get("status") != "pass"]
    bad.sort(key=lambda r: ORDER.get(str(r.get("status")), 9))
    n_fail, n_error, n_warn = (statuses.count(s) for s in ("fail", "error", "warn"))
    ff = mapping(document.get("four_fifths"))
    ff_line = ""
    if ff and ff.get("ratio") is not None:
        ff_line = (
            " The four-fifths rule is flagged" if ff.get("flagged") else " The four-fifths rule holds"
        ) + f" (ratio {fmt_num(ff.get('ratio'), 3)})."
    n = len(results)
    if n_error:
        fail_too = f" and {n_fail} failed" if n_fail else ""
        line = f"{n_error} disparity check(s) could not be judged{fail_too}."
        box = verdict("bad", "error", "Fairness could not be judged", line + ff_line)
    elif n_fail:
        line = f"{n_fail} of {n} judged disparities are beyond their limits."
        box = verdict("bad", "fail", "Fairness check failed", line + ff_line)
    elif n_warn:
        line = f"{n_warn} disparity interval(s) reach beyond their limits; nothing failed."
        box = verdict("warn", "warn", "Passed with warnings", line + ff_line)
    else:
        line = f"Every one of {n} judged disparities is within its limit."
        box = verdict("ok", "pass", "Fairness check passed", line + ff_line)
    groups = [g for g in document.get("groups") or [] if isinstance(g, Mapping)]
    small = [g for g in groups if not g.get("judged", True)]
    parts = [
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>',
        box,
        cards(
            [
                ("rows", fmt_int(document.get("rows"))),
                ("groups judged", f"{len(groups) - len(small)} / {len(groups)}"),
                ("disparities failed", f"{n_fail} / {len(results)}"),
                ("four-fifths ratio", fmt_num(ff.get("ratio"), 3) if ff else DASH),
            ]
        ),
    ]
    if bad:
        items = "".join(
            f"<li>{status_badge(r.get('status'))} {esc(_sentence(r, document))}"
            f'<span class="todo-line">What to do: {esc(_todo(r))}</span></li>'
            for r in bad
        )
        parts.append(f'<h3>Findings, worst first</h3><ol class="findings">{items}</ol>')
    else:
        parts.append('<p class="note">No findings: every judged disparity is within its limit.</p>')
    if small:
        names = ", ".join(group_label(g.get("group")) for g in small[:8])
        more = f" and {len(small) - 8} more" if len(small) > 8 else ""
        parts.append(
            f'<p class="note">{len(small)} group(s) have fewer than '
            f"{esc(fmt_int(document.get('min_group_size')))} rows and are listed greyed, not judged: "
            f"{esc(names + more)}.</p>"
        )
    for note in document.get("notes") or []:
        if small and "below min_group_size" in str(note):
            continue  # said above, with the groups' names
        parts.append(f'<p class="note">{esc(note)}</p>')
    parts.append("</section>")
    return "".join(parts)


def _sentence(r: Doc, document: Doc) -> str:
    name = str(r.get("check") or "").removeprefix("fairness:")
    d: Mapping[str, Any] = r["details"] if isinstance(r.get("details"), Mapping) else {}
    if r.get("status") == "error":
        return f"{name} could not be judged: {d.get('reason') or 'see details'}"
    band = d.get("interval")
    interval = (
        f" (interval {fmt_num(band[0], 3)} – {fmt_num(band[1], 3)})"
        if isinstance(band, (list, tuple)) and len(band) == 2 and None not in band
        else ""
    )
    side = "at least" if name.endswith("_ratio") else "at most"
    limit = fmt_num(r.get("threshold"))
    text = f"{name} is {fmt_num(r.get('value'), 3)}{interval}; the limit is {side} {limit}"
    ff = document.get("four_fifths")
    if name.startswith("demographic_parity") and isinstance(ff, Mapping) and ff.get("lowest") is not None:
        low, high = group_label(ff.get("lowest")), group_label(ff.get("highest"))
        text += f" (lowest selection rate: {low}; highest: {high})"
    return text + "."


def _todo(r: Doc) -> str:
    return {"error": TODO_ERROR, "warn": TODO_WARN}.get(str(r.get("status")), TODO_FAIL)


# ---------------------------------------------------------------- shared blocks


def groups_block(doc: Doc, fid: str, figures: Figures, *, overall: bool = False) -> str:
    """The groups chart and the table of each group's rates (small groups greyed, "not judged")."""
    groups = [g for g in doc.get("groups") or [] if isinstance(g, Mapping)]
    ff = doc.get("four_fifths") if isinstance(doc.get("four_fifths"), Mapping) else None
    parts = [
        f'<p class="note">Sensitive attribute(s): {esc(", ".join(map(str, doc.get("sensitive") or [])))}. '
        f"Groups smaller than {esc(fmt_int(doc.get('min_group_size')))} rows are shown greyed and not "
        "judged. The dashed line is four-fifths of the highest judged selection rate.</p>"
    ]
    fig = fairness_figure(groups, four_fifths=float((ff or {}).get("threshold") or 0.8))
    if fig is not None:
        figures[fid] = fig
        parts.append(plot_slot(fid, "Selection rate, true-positive and false-positive rate of each group"))
    rates = [(k, label) for k, label in RATES if any(k in g for g in groups)] or list(RATES[:1])
    rows = []
    for g in groups:
        judged = g.get("judged", True)
        rows.append([
            f"<code>{esc(group_label(g.get('group')))}</code>",
            fmt_int(g.get("count")),
            badge("ok", "judged") if judged else badge("skipped", "not judged"),
            *(fmt_num(g.get(k), 3) for k, _ in rates),
        ])  # fmt: skip
    totals = doc.get("overall") if isinstance(doc.get("overall"), Mapping) else None
    if overall and totals is not None:
        values = [fmt_num(totals.get(k), 3) for k, _ in rates]
        rows.append(["<strong>overall</strong>", fmt_int(doc.get("rows")), "", *values])
    headers = [("group", False), ("rows", True), ("judged", False), *((label, True) for _, label in rates)]
    heading = "" if overall else "<h3>Groups</h3>"
    parts.append(heading + greyed(table(headers, rows, "Rates of each group"), groups))
    return "".join(parts)


def disparities_block(
    doc: Doc, results: Sequence[Doc], fid: str | None = None, figures: Figures | None = None
) -> str:
    """The disparities with their intervals against their limits (a chart when ``fid`` is given)."""
    disp = doc.get("disparities") or {}
    intervals = doc.get("intervals") or {}
    limits = doc.get("thresholds") or {}
    status = {str(r.get("check", "")).partition(":")[2]: str(r.get("status")) for r in results}
    parts: list[str] = []
    if fid is not None and figures is not None:
        boot = mapping(doc.get("bootstrap"))
        conf = fmt_pct(boot.get("confidence") or 0.95)
        parts.append(
            f'<p class="note">Each dot is a disparity with its {esc(conf)} '
            f"bootstrap interval ({esc(fmt_int(boot.get('n')))} resamples); the dark tick is its limit. "
            "A difference of 0 or a ratio of 1 means equal rates: differences should stay below their "
            "limit, ratios above theirs. Disparities without a limit are shown, not judged.</p>"
        )
        fig = disparity_figure(disp, intervals, limits, status)
        if fig is not None:
            figures[fid] = fig
            parts.append(plot_slot(fid, "Each disparity with its interval and its limit"))
    rows = [
        [
            f"<code>{esc(k)}</code>",
            with_interval(v, *_band(intervals.get(k))),
            (("≥ " if str(k).endswith("_ratio") else "≤ ") + fmt_num(limits.get(k)))
            if limits.get(k) is not None
            else DASH,
            status_badge(status[k]) if k in status else '<span class="reason">no limit</span>',
        ]
        for k, v in disp.items()
    ]
    if not rows:
        return "".join(parts) + '<p class="note">No disparities: fewer than two groups to compare.</p>'
    headers = [("disparity", False), ("value (interval)", True), ("limit", True), ("status", False)]
    heading = "<h3>Disparities</h3>" if fid is None else ""
    parts.append(heading + table(headers, rows, "Disparities between groups"))
    return "".join(parts)


def four_fifths_block(doc: Doc) -> str:
    """The four-fifths rule: the ratio, the two groups, and the tests of equal rates."""
    ff = doc.get("four_fifths") if isinstance(doc.get("four_fifths"), Mapping) else None
    if not ff:
        return ""
    if ff.get("ratio") is None:
        return (
            f"<p>{badge('skipped', 'not computed')} <strong>Four-fifths rule</strong>: fewer than two "
            "judged groups have a selection rate.</p>"
        )
    flagged = bool(ff.get("flagged"))
    return (
        f"<p>{badge('bad' if flagged else 'ok', 'flagged' if flagged else 'holds')} "
        f"<strong>Four-fifths rule</strong>: the lowest selection rate "
        f"(<code>{esc(group_label(ff.get('lowest')))}</code>) is {esc(fmt_num(ff.get('ratio'), 3))} "
        f"of the highest (<code>{esc(group_label(ff.get('highest')))}</code>); the rule asks for at "
        f"least {esc(fmt_num(ff.get('threshold')))}. "
        f"Test of equal rates: p {esc(fmt_p(ff.get('p_value')))}"
        f" (Fisher {esc(fmt_p(ff.get('fisher_p_value')))}).</p>"
    )


def _settings(document: Doc) -> str:
    boot = mapping(document.get("bootstrap"))
    limits = document.get("thresholds") or {}
    rows = [
        ["minimum group size", esc(fmt_int(document.get("min_group_size")))],
        ["bootstrap resamples", esc(fmt_int(boot.get("n")))],
        ["interval confidence", esc(fmt_pct(boot.get("confidence")))],
        ["limits", esc(", ".join(f"{k} {fmt_num(v)}" for k, v in limits.items()) or DASH)],
    ]
    return (
        '<section id="settings" aria-labelledby="h-settings"><h2 id="h-settings">Settings</h2>'
        + table([("setting", False), ("value", False)], rows, "Settings of the assessment")
        + "</section>"
    )


def _band(interval: Any) -> tuple[Any, Any]:
    if isinstance(interval, (list, tuple)) and len(interval) == 2:
        return interval[0], interval[1]
    return None, None
