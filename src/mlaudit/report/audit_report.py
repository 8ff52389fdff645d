"""The model-audit report, rendered from an audit's JSON (``AuditReport.to_dict()``).

Working from the stored dict, not the live object, lets a recorded audit be re-rendered
later, by anyone, from the ledgered result alone. The page puts its summary first (the
verdict, counts, every finding worst first with what to do about it), then a table of
every check, then one section per audit section (charts from the section's document,
never from rows), then the inputs and lineage the audit was computed from.

>>> doc = {"kind": "audit_report", "status": "pass", "model": {"framework": "sklearn"},
...        "suite": {"name": "quick"}, "sections": [], "findings": [], "counts": {"pass": 0}}
>>> "Model audit: sklearn model" in audit_html(doc)
True
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlaudit.errors import InputError
from mlaudit.report.audit_plots import (
    calibration_figure,
    importance_figure,
    metrics_figure,
    robustness_figure,
    stability_figure,
)
from mlaudit.report.blocks import with_interval
from mlaudit.report.drift_report import EFFECT_NAMES, TEST_NAMES
from mlaudit.report.fairness_report import disparities_block, four_fifths_block, groups_block
from mlaudit.report.format import DASH, esc, fmt_int, fmt_num, fmt_p, fmt_pct, shorten
from mlaudit.report.html import CURRENT_COLOUR, REFERENCE_COLOUR, HtmlReport, page
from mlaudit.report.parts import BadgeKind, badge, plot_slot, table

__all__ = ["audit_html", "finding_todo", "render_audit"]

Doc = Mapping[str, Any]
Figures = dict[str, dict[str, Any]]

STATUS_BADGE: dict[str, BadgeKind] = {"pass": "ok", "warn": "warn", "fail": "bad", "error": "bad"}
_ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}

# What to do, by the kind of a finding (see :func:`_todo`).
TODO = {
    "data_quality": "Fix the data at its source, or correct the rule if the data is right; rerun the audit.",
    "quality_error": "The rule could not run (a missing column?): check the data's schema against the suite.",
    "drift": "Investigate the upstream pipeline for these features first (a bug is likelier than a real "
    "shift); if the shift is real, measure accuracy on recent labels and consider retraining.",
    "performance": "Find where the model got worse (the weak segments and drift below), then retrain or "
    "roll back to a model that meets the limit.",
    "estimated": "Labels are pending: this is an estimate from the model's scores. Confirm with real "
    "labels when they arrive before acting on it.",
    "fairness": "Review the groups named with the model's owners; check the decision threshold and the "
    "limits with compliance before the model keeps deciding.",
    "calibration": "Recalibrate the scores on recent labelled data (isotonic or Platt scaling) before "
    "using them as probabilities.",
    "score_stability": "The scores the model hands out moved: look at the feature drift below and at "
    "changes in the population; re-check the decision threshold.",
    "overfitting": "Regularise the model (simpler model, fewer features, more data) and compare it again "
    "on held-out data.",
    "underfitting": "The model barely beats a trivial baseline: revisit its features and capacity.",
    "robustness": "Predictions flip under tiny changes: regularise, or smooth the features named.",
    "leakage": "Remove the suspect features or check they are known at prediction time.",
    "weak_segments": "Collect more data for the slice named and review it with the domain experts; "
    "consider a separate model or threshold for it.",
    "error": "The check could not be judged: see the reason and supply what it needs.",
}

_EXTRA_CSS = """
.fp{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;overflow-wrap:anywhere}
.findings li{margin:8px 0}
.findings .todo-line{display:block;color:var(--muted);font-size:.9rem}
.checks{list-style:none;padding:0;margin:6px 0 10px;display:flex;flex-wrap:wrap;gap:6px 14px;font-size:.9rem}
.kv th{width:11em;color:var(--muted);font-weight:600}
td .badge{margin-right:4px}
tr.greyed td{color:var(--muted)}
.audit-section{break-inside:auto}
section h3{margin:18px 0 8px}
.verdict .badge{vertical-align:2px;margin-right:4px}
"""


def render_audit(document: Doc) -> HtmlReport:
    """:func:`audit_html` wrapped in an :class:`~mlaudit.report.html.HtmlReport`."""
    return HtmlReport(audit_html(document), title=_title(document))


def audit_html(document: Doc) -> str:
    """The complete HTML page for the audit ``document`` (``AuditReport.to_dict()``)."""
    if not isinstance(document, Mapping) or document.get("kind") != "audit_report":
        raise InputError(
            "not an audit report document",
            hint="pass AuditReport.to_dict() or a stored audit_report result",
        )
    sections = [s for s in document.get("sections") or [] if isinstance(s, Mapping)]
    figures: Figures = {}
    rendered = [_section(s, i, figures) for i, s in enumerate(sections)]
    body = "\n".join(
        [
            f"<style>{_EXTRA_CSS}</style>",
            _summary(document, sections),
            '<section id="checks" aria-labelledby="h-checks"><h2 id="h-checks">Every check</h2>',
            _results_table(sections),
            "</section>",
            *rendered,
            _inputs(document),
        ]
    )
    toc = [("summary", "Summary"), ("checks", "Every check")]
    toc += [(f"s-{i}", str(s.get("title") or s.get("name"))) for i, s in enumerate(sections)]
    toc.append(("inputs", "Inputs and lineage"))
    return page(_title(document), body, figures, subtitle=_subtitle(document), toc=toc)


# ---------------------------------------------------------------- header


def _model_ref(document: Doc) -> str:
    model = document.get("model") or {}
    for key in ("ref", "name"):
        if model.get(key):
            return str(model[key])
    framework = model.get("framework") or "unnamed"
    fp = str(model.get("fingerprint") or "")
    short = fp.split(":", 1)[-1][:12]
    return f"{framework} model" + (f" {short}" if short else "")


def _title(document: Doc) -> str:
    return f"Model audit: {_model_ref(document)}"


def _subtitle(document: Doc) -> str:
    suite = (document.get("suite") or {}).get("name") or "?"
    started = str(document.get("started") or "")
    when = started[:16].replace("T", " ") + (" UTC" if started else "")
    inputs = document.get("inputs") or {}
    rows = [
        f"{side} {fmt_int(info.get('rows'))} rows"
        for side, info in inputs.items()
        if isinstance(info, Mapping) and info.get("rows") is not None
    ]
    parts = [f"suite {suite}", when, *rows]
    return " · ".join(p for p in parts if p)


# ---------------------------------------------------------------- summary


def _summary(document: Doc, sections: Sequence[Doc]) -> str:
    status = str(document.get("status") or "pass")
    counts = document.get("counts") or {}
    findings = sorted(document.get("findings") or [], key=lambda f: _ORDER.get(str(f.get("status")), 9))
    n_fail, n_error, n_warn = (int(counts.get(k) or 0) for k in ("fail", "error", "warn"))
    if status == "fail":
        verdict = (
            "bad",
            "Audit failed",
            f"{n_fail} check(s) failed" + (f", {n_error} could not be judged" if n_error else "") + ".",
        )
    elif status == "error":
        verdict = (
            "bad",
            "Audit incomplete",
            f"{n_error} check(s) could not be judged" + (f" and {n_fail} failed" if n_fail else "") + ".",
        )
    elif status == "warn":
        verdict = ("warn", "Passed with warnings", f"{n_warn} warning(s); nothing failed.")
    else:
        verdict = ("ok", "Audit passed", "Every check passed.")
    kind, headline, line = verdict
    if n_warn and status in ("fail", "error"):
        line += f" {n_warn} warning(s)."
    label = {"bad": "fail" if status == "fail" else "error", "warn": "warn", "ok": "pass"}[kind]
    titles = {str(s.get("name")): str(s.get("title") or s.get("name")) for s in sections}
    index = {str(s.get("name")): i for i, s in enumerate(sections)}
    parts = [
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>',
        f'<div class="verdict {kind}" role="status">{badge(STATUS_BADGE.get(status, "bad"), label)} '
        f'<strong class="big">{esc(headline)}</strong><p>{esc(line)}</p></div>',
        _cards(counts, len(sections)),
    ]
    for note in document.get("notes") or []:
        parts.append(f'<p class="note">{esc(note)}</p>')
    if findings:
        items = []
        for f in findings:
            sec = str(f.get("section") or "")
            link = f'<a href="#s-{index[sec]}">{esc(titles.get(sec, sec))}</a>' if sec in index else esc(sec)
            st = str(f.get("status"))
            items.append(
                f"<li>{badge(STATUS_BADGE.get(st, 'bad'), st)} {link}: "
                f"{esc(f.get('message') or f.get('check'))}"
                f'<span class="todo-line">What to do: {esc(finding_todo(f))}</span></li>'
            )
        parts.append(f'<h3>Findings, worst first</h3><ol class="findings">{"".join(items)}</ol>')
    else:
        parts.append('<p class="note">No findings: every check that ran passed.</p>')
    skipped = [s for s in sections if s.get("skipped")]
    if skipped:
        items2 = "".join(
            f'<li><a href="#s-{index[str(s.get("name"))]}">{esc(s.get("title") or s.get("name"))}</a> — '
            f"{esc(s.get('skipped'))}</li>"
            for s in skipped
        )
        parts.append(f'<h3>Skipped sections</h3><ul class="todo">{items2}</ul>')
    parts.append("</section>")
    return "".join(parts)


def _cards(counts: Mapping[str, Any], n_sections: int) -> str:
    cards = [
        ("checks passed", fmt_int(counts.get("pass"))),
        ("warnings", fmt_int(counts.get("warn"))),
        ("failed", fmt_int(counts.get("fail"))),
        ("not judged (error)", fmt_int(counts.get("error"))),
        ("sections skipped", f"{fmt_int(counts.get('skipped'))} / {n_sections}"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def finding_todo(finding: Mapping[str, Any]) -> str:
    """A short "what to do" line for a finding, by its section and check."""
    section, check = str(finding.get("section") or ""), str(finding.get("check") or "")
    if finding.get("status") == "error":
        return TODO["quality_error"] if section == "data_quality" else TODO["error"]
    if check.startswith("estimated:"):
        return TODO["estimated"]
    return TODO.get(section, "Look at the section below for the details.")


# ---------------------------------------------------------------- results table


def _status_badge(status: Any) -> str:
    st = str(status)
    return badge(STATUS_BADGE.get(st, "skipped"), st)


def _results_table(sections: Sequence[Doc]) -> str:
    rows: list[list[str]] = []
    ordered: list[tuple[int, int, str, Mapping[str, Any]]] = []
    for i, s in enumerate(sections):
        title = str(s.get("title") or s.get("name"))
        link = f'<a href="#s-{i}">{esc(title)}</a>'
        if s.get("skipped") and not s.get("results"):
            rows.append(
                [
                    link,
                    DASH,
                    badge("skipped") + f'<span class="reason">{esc(s.get("skipped"))}</span>',
                    DASH,
                    DASH,
                ]
            )
            continue
        for r in s.get("results") or []:
            ordered.append((i, _ORDER.get(str(r.get("status")), 9), link, r))
    ordered.sort(key=lambda t: (t[1], t[0]))
    body = [
        [
            link,
            f"<code>{esc(r.get('check'))}</code>",
            _status_badge(r.get("status"))
            + (f'<span class="reason">{esc(r["details"]["reason"])}</span>' if _reason(r) else ""),
            fmt_num(r.get("value")),
            fmt_num(r.get("threshold")),
        ]
        for _, _, link, r in ordered
    ]
    headers = [("section", False), ("check", False), ("status", False), ("value", True), ("threshold", True)]
    return table(headers, body + rows, "Every check of the audit with its status, value and threshold")


def _reason(r: Mapping[str, Any]) -> bool:
    details = r.get("details")
    return isinstance(details, Mapping) and bool(details.get("reason"))


# ---------------------------------------------------------------- sections


def _section(s: Doc, i: int, figures: Figures) -> str:
    name = str(s.get("name"))
    title = str(s.get("title") or name)
    status = s.get("status")
    head_badge = badge("skipped") if s.get("skipped") and not s.get("results") else _status_badge(status)
    head = (
        f'<section class="audit-section" id="s-{i}" aria-labelledby="h-s-{i}">'
        f'<h2 id="h-s-{i}">{esc(title)} {head_badge}</h2>'
    )
    if s.get("skipped"):
        return head + f'<p class="note">Skipped: {esc(s.get("skipped"))}.</p></section>'
    doc = s.get("document")
    renderer = RENDERERS.get(name)
    results = list(s.get("results") or [])
    inner = ""
    if renderer is not None and isinstance(doc, Mapping):
        inner = renderer(doc, results, f"fig-{i}", figures)
    if not inner:
        inner = _checks_list(results, show_all=True) or '<p class="note">Nothing to show.</p>'
    return head + inner + "</section>"


def _checks_list(results: Sequence[Mapping[str, Any]], *, show_all: bool = False, limit: int = 12) -> str:
    """The section's checks as a compact line of badges: check, value against threshold."""
    if not results:
        return ""
    shown = sorted(results, key=lambda r: _ORDER.get(str(r.get("status")), 9))
    if not show_all:
        shown = shown[:limit]
    items = "".join(
        f"<li>{_status_badge(r.get('status'))} <code>{esc(r.get('check'))}</code> "
        f"{esc(fmt_num(r.get('value')))}"
        + (f" (limit {esc(fmt_num(r.get('threshold')))})" if r.get("threshold") is not None else "")
        + "</li>"
        for r in shown
    )
    more = len(results) - len(shown)
    extra = f"<li>and {more} more in the table above</li>" if more > 0 else ""
    return f'<ul class="checks" aria-label="Checks">{items}{extra}</ul>'


def _performance(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    parts = [_checks_list(results)]
    if "estimated" in doc:
        est, ref_est = doc.get("estimated") or {}, doc.get("reference_estimate") or {}
        parts.append(
            '<p class="note">Labels pending: the current data has no labels, so these numbers are '
            f"<strong>estimated</strong> from the model's scores: "
            f"{esc(doc.get('method') or 'confidence-based estimation')}. Bands are "
            f"{esc(fmt_pct(est.get('ci') or 0.95))} simulation bands. Confirm them when labels arrive.</p>"
        )
        sides = [
            ("reference (estimated)", REFERENCE_COLOUR, ref_est.get("metrics") or []),
            ("current (estimated)", CURRENT_COLOUR, est.get("metrics") or []),
        ]
        real = doc.get("reference")
        if isinstance(real, Mapping) and real.get("metrics"):
            sides.insert(0, ("reference (measured)", "#667085", real.get("metrics") or []))
        band = "band"
    else:
        cur, ref = doc.get("current") or {}, doc.get("reference") or {}
        ci = cur.get("ci") or ref.get("ci")
        parts.append(
            f'<p class="note">Measured on labelled data; error bars are {esc(fmt_pct(ci or 0.95))} '
            f"bootstrap intervals ({esc(fmt_int(cur.get('n_boot') or ref.get('n_boot')))} resamples).</p>"
        )
        sides = [
            ("reference", REFERENCE_COLOUR, ref.get("metrics") or []),
            ("current", CURRENT_COLOUR, cur.get("metrics") or []),
        ]
        band = "interval"
    sides = [s for s in sides if s[2]]
    fig = metrics_figure(sides, interval=band)
    if fig is not None:
        figures[fid] = fig
        parts.append(plot_slot(fid, "Each metric on the reference and current data with its interval"))
    names = list(dict.fromkeys(str(m.get("name")) for _, _, ms in sides for m in ms))
    headers = [("metric", False)] + [(s[0], True) for s in sides]
    rows = []
    for n in names:
        row = [f"<code>{esc(n)}</code>"]
        for _, _, ms in sides:
            m = next((m for m in ms if str(m.get("name")) == n), None)
            row.append(with_interval(m.get("value"), m.get("lower"), m.get("upper")) if m else DASH)
        rows.append(row)
    parts.append(table(headers, rows, "Performance metrics with intervals"))
    return "".join(parts)


def _fairness(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    parts = [_checks_list(results), groups_block(doc, fid, figures), disparities_block(doc, results)]
    parts.append(four_fifths_block(doc))
    for note in doc.get("notes") or []:
        parts.append(f'<p class="note">{esc(note)}</p>')
    return "".join(parts)


def _calibration(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    parts = [_checks_list(results)]
    data = doc.get("data")
    parts.append(
        f'<p class="note">Expected calibration error {esc(fmt_num(doc.get("ece")))}, maximum '
        f"{esc(fmt_num(doc.get('mce')))} over {esc(fmt_int(doc.get('n_bins')))} "
        f"{esc(doc.get('strategy') or '')} bins{esc(f' on the {data} data' if data else '')}. "
        "Points on the diagonal mean a score of 0.7 comes true 70% of the time.</p>"
    )
    fig = calibration_figure(doc.get("curve") or [])
    if fig is not None:
        figures[fid] = fig
        parts.append(
            f'<div style="max-width:560px">{plot_slot(fid, "Reliability curve with the diagonal")}</div>'
        )
    return "".join(parts)


def _stability(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    parts = [_checks_list(results)]
    parts.append(
        f'<p class="note">PSI {esc(fmt_num(doc.get("psi")))} between the reference and current '
        f"{esc(doc.get('score') or 'scores')} (below 0.1: stable; above 0.25: a large shift). "
        "Bins are the reference's deciles.</p>"
    )
    fig = stability_figure(
        doc.get("edges") or [], doc.get("reference_share") or [], doc.get("current_share") or []
    )
    if fig is not None:
        figures[fid] = fig
        parts.append(plot_slot(fid, "Reference and current share of scores in each bin"))
    return "".join(parts)


def _drift(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    cols = [c for c in doc.get("columns") or [] if isinstance(c, Mapping)]
    drifted = [c for c in cols if c.get("drifted")]
    verdict = (
        (": it " + ("does" if doc.get("dataset_drift") else "does not")) if "dataset_drift" in doc else ""
    )
    parts = [
        f"<p>{esc(len(drifted))} of {esc(len(cols))} features drifted "
        f"({esc(fmt_pct(doc.get('share_drifted')))}); the dataset counts as drifted from "
        f"{esc(fmt_pct(doc.get('dataset_threshold')))}{esc(verdict)}. "
        f"α = {esc(fmt_num(doc.get('alpha')))}, correction {esc(doc.get('correction') or 'none')}.</p>"
    ]
    cols.sort(key=lambda c: (not c.get("drifted"), bool(c.get("skipped")), -_ratio(c)))
    rows = []
    for c in cols:
        reason = (c.get("details") or {}).get("reason") if isinstance(c.get("details"), Mapping) else None
        status = (
            badge("skipped") + f'<span class="reason">{esc(reason or "")}</span>'
            if c.get("skipped")
            else (badge("drifted") if c.get("drifted") else badge("ok"))
        )
        effect_name = str(c.get("effect_name") or "")
        test = str(c.get("test"))
        effect = EFFECT_NAMES.get(effect_name, effect_name)
        rows.append([
            f"<code>{esc(c.get('name'))}</code>",
            f'<abbr title="{esc(TEST_NAMES.get(test, test))}">{esc(test)}</abbr>',
            fmt_p(c.get("p_adjusted") if c.get("p_adjusted") is not None else c.get("p_value")),
            f'<abbr title="{esc(effect)}">{esc(fmt_num(c.get("effect")))}</abbr>',
            DASH if c.get("skipped") else fmt_num(c.get("threshold")),
            status,
        ])  # fmt: skip
    headers = [("feature", False), ("test", False), ("adjusted p", True), ("effect", True),
               ("threshold", True), ("drifted", False)]  # fmt: skip
    parts.append(table(headers, rows, "Drift test of every feature"))
    used = dict.fromkeys(EFFECT_NAMES.get(str(c.get("effect_name")), str(c.get("effect_name"))) for c in cols
                         if c.get("effect_name"))  # fmt: skip
    parts.append(
        f'<p class="note">Effect: {esc("; ".join(used) or DASH)}. Summaries only: the report holds no '
        "rows of the data.</p>"
    )
    return "".join(parts)


def _ratio(c: Mapping[str, Any]) -> float:
    effect, threshold = c.get("effect"), c.get("threshold")
    if not isinstance(effect, (int, float)) or not isinstance(threshold, (int, float)) or threshold <= 0:
        return 0.0
    return float(effect) / float(threshold)


def _importance(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    metric = str(doc.get("metric") or "metric")
    parts = [
        f'<p class="note">How much {esc(metric)} (baseline {esc(fmt_num(doc.get("baseline")))}) drops when '
        f"each feature is shuffled, mean ± std over {esc(fmt_int(doc.get('n_repeats')))} repeats.</p>"
    ]
    fig = importance_figure(doc.get("importances") or [], metric)
    if fig is not None:
        figures[fid] = fig
        parts.append(plot_slot(fid, "Permutation importance of each feature"))
    return "".join(parts)


def _robustness(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    threshold = next((r.get("threshold") for r in results if r.get("threshold") is not None), None)
    parts = [
        _checks_list(results),
        f'<p class="note">{esc(fmt_pct(doc.get("overall")))} of predictions change overall when numeric '
        f"features get noise of {esc(fmt_num(doc.get('numeric_noise')))} sd and categories flip with "
        f"probability {esc(fmt_num(doc.get('categorical_flip')))}. The dashed line is the limit.</p>",
    ]
    per = doc.get("per_feature") or {}
    fig = robustness_figure(per, threshold) if isinstance(per, Mapping) else None
    if fig is not None:
        figures[fid] = fig
        parts.append(plot_slot(fid, "Share of predictions that change under noise, per feature"))
    return "".join(parts)


def _segments(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    metric = str(doc.get("metric") or "metric")
    segs = [s for s in doc.get("segments") or [] if isinstance(s, Mapping)]
    parts = [
        _checks_list(results),
        f'<p class="note">Overall {esc(metric)} {esc(fmt_num(doc.get("overall")))} on '
        f"{esc(fmt_int(doc.get('rows')))} rows; segments whose {esc(metric)} is significantly lower "
        f"(q-value below {esc(fmt_num(doc.get('alpha')))}).</p>",
    ]
    if not segs:
        return "".join(parts) + '<p class="note">No segment is significantly weaker than the rest.</p>'
    rows = [
        [
            f"<code>{esc(s.get('description'))}</code>",
            fmt_int(s.get("size")),
            fmt_num(s.get("metric_inside"), 3),
            fmt_num(s.get("metric_outside"), 3),
            fmt_num(s.get("gap"), 3),
            fmt_p(s.get("q_value")),
        ]
        for s in segs
    ]
    headers = [("segment", False), ("rows", True), (f"{metric} inside", True), (f"{metric} outside", True),
               ("gap", True), ("q-value", True)]  # fmt: skip
    return "".join(parts) + table(headers, rows, "Weak segments")


def _fit(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    metric = str(doc.get("metric") or "metric")
    interval = doc.get("interval") or [None, None]
    conf = fmt_pct(doc.get("confidence") or 0.95)
    if "train" in doc:
        pairs = [("training data", doc.get("train")), ("held-out reference", doc.get("holdout"))]
        gap_label, note = (
            "gap (train − holdout)",
            "A large positive gap means the model memorised its training data.",
        )
    else:
        pairs = [("model", doc.get("model")), ("trivial baseline", doc.get("baseline"))]
        gap_label, note = "margin over the baseline", "The model should beat the baseline clearly."
    cards = [(f"{metric} on {k}", fmt_num(v, 4)) for k, v in pairs]
    cards.append((gap_label, fmt_num(doc.get("value"), 4)))
    cards.append((f"{conf} interval", f"{fmt_num(interval[0], 3)} – {fmt_num(interval[1], 3)}"))
    body = "".join(
        f'<div class="card"><div class="k">{esc(k)}</div>'
        f'<div class="v{" long" if len(v) > 12 else ""}">{esc(v)}</div></div>'
        for k, v in cards
    )
    return _checks_list(results) + f'<div class="cards">{body}</div><p class="note">{esc(note)}</p>'


def _leakage(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    scores = doc.get("scores") or {}
    suspects = set(map(str, doc.get("suspects") or []))
    measure = str(doc.get("measure") or "score")
    top = sorted(scores.items(), key=lambda kv: -(kv[1] if isinstance(kv[1], (int, float)) else 0))[:15]
    rows = [
        [f"<code>{esc(k)}</code>", fmt_num(v, 3), badge("bad", "suspect") if k in suspects else badge("ok")]
        for k, v in top
    ]
    parts = [
        _checks_list(results),
        f'<p class="note">How well each feature alone predicts the label ({esc(measure)}); above '
        f"{esc(fmt_num(doc.get('threshold')))} a feature is suspected of leaking the target. Top "
        f"{esc(len(top))} of {esc(len(scores))}.</p>",
    ]
    if rows:
        parts.append(table([("feature", False), (measure, True), ("status", False)], rows, "Leakage scores"))
    return "".join(parts)


def _quality(doc: Doc, results: list[Any], fid: str, figures: Figures) -> str:
    checks = [r for r in doc.get("results") or results if isinstance(r, Mapping)]
    checks = sorted(checks, key=lambda r: _ORDER.get(str(r.get("status")), 9))
    rows = []
    for r in checks:
        d: Mapping[str, Any] = r["details"] if isinstance(r.get("details"), Mapping) else {}
        reason = d.get("reason")
        rows.append([
            f"<code>{esc(r.get('check'))}</code>",
            _status_badge(r.get("status")) + (f'<span class="reason">{esc(reason)}</span>' if reason else ""),
            fmt_int(d.get("offending")) if d.get("offending") is not None else DASH,
            fmt_num(r.get("value")),
            fmt_num(r.get("threshold")),
        ])  # fmt: skip
    headers = [
        ("rule", False),
        ("status", False),
        ("offending rows", True),
        ("value", True),
        ("threshold", True),
    ]
    note = (
        f'<p class="note">{esc(fmt_int(doc.get("rows")))} rows checked; '
        "offending rows are counted, not shown.</p>"
    )
    return note + table(headers, rows, "Data-quality rule results")


RENDERERS: dict[str, Callable[[Doc, list[Any], str, Figures], str]] = {
    "performance": _performance,
    "fairness": _fairness,
    "calibration": _calibration,
    "score_stability": _stability,
    "drift": _drift,
    "permutation_importance": _importance,
    "robustness": _robustness,
    "weak_segments": _segments,
    "overfitting": _fit,
    "underfitting": _fit,
    "leakage": _leakage,
    "data_quality": _quality,
}


# ---------------------------------------------------------------- inputs and lineage


def _kv(rows: Sequence[tuple[str, str]], caption: str) -> str:
    body = "".join(f'<tr><th scope="row">{esc(k)}</th><td>{v}</td></tr>' for k, v in rows)
    return (
        f'<div class="table-wrap" role="region" aria-label="{esc(caption)}" tabindex="0"><table class="kv">'
        f'<caption class="sr-only">{esc(caption)}</caption><tbody>{body}</tbody></table></div>'
    )


def _inputs(document: Doc) -> str:
    model = document.get("model") or {}
    model_rows = [("model", f"<code>{esc(_model_ref(document))}</code>")]
    for key in ("name", "version", "framework", "id", "node"):
        if model.get(key) is not None:
            model_rows.append((key, esc(model[key])))
    if model.get("fingerprint"):
        model_rows.append(("fingerprint", f'<span class="fp">{esc(model["fingerprint"])}</span>'))
    suite = document.get("suite") or {}
    model_rows += [
        ("suite", esc(f"{suite.get('name', '?')} ({suite.get('source', '')})")),
        ("task", esc(document.get("task") or DASH)),
        ("label column", esc(document.get("labels") or DASH)),
        ("features", esc(shorten(", ".join(map(str, document.get("features") or [])), 400) or DASH)),
        ("sensitive", esc(", ".join(map(str, document.get("sensitive") or [])) or DASH)),
        ("started", esc(document.get("started") or DASH)),
        ("took", esc(f"{fmt_num(document.get('seconds'))} s")),
    ]
    inputs = document.get("inputs") or {}
    rows = [
        [
            esc(side),
            esc(info.get("dataset") or info.get("source") or DASH),
            fmt_int(info.get("rows")),
            "yes" if info.get("labelled") else "no",
            f'<span class="fp">{esc(info.get("fingerprint") or DASH)}</span>',
        ]
        for side, info in inputs.items()
        if isinstance(info, Mapping)
    ]
    headers = [
        ("data", False),
        ("dataset or source", False),
        ("rows", True),
        ("labelled", False),
        ("fingerprint", False),
    ]
    parts = [
        '<section id="inputs" aria-labelledby="h-inputs"><h2 id="h-inputs">Inputs and lineage</h2>',
        "<h3>Model and suite</h3>",
        _kv(model_rows, "Model and suite"),
        "<h3>Data</h3>",
        table(headers, rows, "Data the audit read"),
    ]
    recorded = document.get("recorded") if isinstance(document.get("recorded"), Mapping) else None
    run = document.get("run")
    if recorded or run:
        rec = recorded or {}
        rec_rows = [
            (label, f"<code>{esc(rec.get(key) if key != 'run' else rec.get('run') or run)}</code>")
            for key, label in (
                ("result", "result id"),
                ("seq", "ledger seq"),
                ("run", "lineage run"),
                ("workspace", "workspace"),
            )
            if rec.get(key) is not None or (key == "run" and run)
        ]
        parts.append("<h3>Recorded</h3>" + _kv(rec_rows, "Where the audit is recorded"))
    else:
        parts.append('<p class="note">Not recorded in a workspace ledger.</p>')
    parts.append("</section>")
    return "".join(parts)
