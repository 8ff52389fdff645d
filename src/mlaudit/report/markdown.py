"""Every report kind as GitHub-flavoured Markdown, from its ``to_dict()`` document.

Summary first (the verdict and what failed), then findings as a list, then tables. Every value
that comes from data is escaped for a table cell: ``|`` becomes ``\\|``, line breaks ``<br>``,
and ``<``, ``>``, ``&`` become entities, so a column named ``<script>`` stays text in any
renderer.

>>> doc = {"kind": "check_report", "rows": 3, "passed": True, "results": []}
>>> to_markdown(doc).splitlines()[0]
'# Data quality: passed'
>>> cell("a|b\\nc")
'a\\\\|b<br>c'
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from mlaudit.errors import InputError
from mlaudit.report.audit_plots import group_label
from mlaudit.report.audit_report import finding_todo
from mlaudit.report.blocks import mapping
from mlaudit.report.check_report import offending_share, rule_columns, sentence, todo
from mlaudit.report.format import DASH, fmt_int, fmt_num, fmt_p, fmt_pct, shorten

__all__ = ["KINDS", "cell", "md_table", "to_markdown"]

Doc = Mapping[str, Any]

_ICON = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "error": "❌ error", None: "⏭️ skipped"}
_ORDER = {"error": 0, "fail": 1, "warn": 2, "pass": 3}
_SPECIAL = re.compile(r"([\\`*\[\]|])")


def cell(value: Any) -> str:
    """``value`` as text safe inside a GFM table cell (and in running text)."""
    text = "" if value is None else str(value)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _SPECIAL.sub(r"\\\1", text)
    return re.sub(r"\r\n|\r|\n", "<br>", text)


def md_table(headers: Sequence[str], rows: Sequence[Sequence[str]], numeric: Sequence[bool] = ()) -> str:
    """A GFM table; ``headers`` are escaped here, ``rows`` must hold escaped cells already.

    ``numeric`` right-aligns the columns marked true.
    """
    align = [("---:" if i < len(numeric) and numeric[i] else "---") for i in range(len(headers))]
    lines = ["| " + " | ".join(cell(h) for h in headers) + " |", "| " + " | ".join(align) + " |"]
    lines += ["| " + " | ".join(c if c != "" else " " for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _status(status: Any) -> str:
    return _ICON.get(status if status in _ICON else None, cell(status))


def _num(x: Any, digits: int = 4) -> str:
    return cell(fmt_num(x, digits)) if isinstance(x, (int, float)) and not isinstance(x, bool) else DASH


def _interval(band: Any, digits: int = 3) -> str:
    if isinstance(band, (list, tuple)) and len(band) == 2 and None not in band:
        return f"{fmt_num(band[0], digits)} – {fmt_num(band[1], digits)}"
    return DASH


def _doc(document: Any) -> Doc:
    if not isinstance(document, Mapping):
        raise InputError("not a report document", hint="pass a report's to_dict() (or its --json output)")
    return document


# ---------------------------------------------------------------- check


def _check(doc: Doc) -> str:
    results = [r for r in doc.get("results") or [] if isinstance(r, Mapping)]
    statuses = [str(r.get("status")) for r in results]
    n_fail, n_error, n_warn = (statuses.count(s) for s in ("fail", "error", "warn"))
    verdict = "failed" if n_fail or n_error else ("passed with warnings" if n_warn else "passed")
    out = [f"# Data quality: {verdict}", ""]
    out.append(
        f"**{statuses.count('pass')} of {len(results)} rules passed** on {fmt_int(doc.get('rows'))} rows: "
        f"{n_fail} failed, {n_warn} warned, {n_error} could not run."
    )
    bad = sorted(
        (r for r in results if r.get("status") != "pass"), key=lambda r: _ORDER.get(str(r.get("status")), 9)
    )
    if bad:
        out += ["", "## Findings", ""]
        out += [
            f"- {_status(r.get('status'))} {cell(sentence(r))}. *What to do:* {cell(todo(r))}" for r in bad
        ]
    rows = []
    for r in results:
        d = mapping(r.get("details"))
        share = offending_share(r)
        rows.append(
            [
                cell(r.get("check")),
                cell(rule_columns(r) or DASH),
                _status(r.get("status")),
                cell(fmt_int(d.get("offending"))) if d.get("offending") is not None else DASH,
                cell(fmt_pct(share)) if share is not None else DASH,
                cell(d.get("reason") or ""),
            ]
        )
    out += ["", "## Rules", ""]
    out.append(
        md_table(
            ["rule", "column", "status", "offending rows", "share", "reason"],
            rows,
            [False, False, False, True, True, False],
        )
    )
    examples = [(r, r["details"].get("examples")) for r in bad if isinstance(r.get("details"), Mapping)]
    examples = [(r, [e for e in ex if isinstance(e, Mapping)]) for r, ex in examples if ex]
    if examples:
        out += ["", "## Example rows", ""]
        for r, ex in examples:
            cols = list(dict.fromkeys(k for e in ex for k in (e.get("values") or {})))
            ex_rows = [
                [
                    cell(e.get("row")),
                    *(
                        cell(shorten(str(v), 80))
                        if (v := (e.get("values") or {}).get(c)) is not None
                        else "*null*"
                        for c in cols
                    ),
                ]
                for e in ex
            ]
            out += [f"### {cell(r.get('check'))}", "", md_table(["row", *cols], ex_rows, [True]), ""]
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- fairness


def _fairness_tables(doc: Doc, results: Sequence[Doc], level: str = "##") -> list[str]:
    groups = [g for g in doc.get("groups") or [] if isinstance(g, Mapping)]
    keys = [
        k
        for k in ("selection_rate", "tpr", "fpr", "precision", "accuracy", "mean_score", "calibration_gap")
        if any(k in g for g in groups)
    ]
    rows = [
        [
            cell(group_label(g.get("group"))),
            cell(fmt_int(g.get("count"))),
            "yes" if g.get("judged", True) else "*not judged*",
            *(_num(g.get(k), 3) for k in keys),
        ]
        for g in groups
    ]
    overall = doc.get("overall")
    if isinstance(overall, Mapping):
        rows.append(
            ["**overall**", cell(fmt_int(doc.get("rows"))), "", *(_num(overall.get(k), 3) for k in keys)]
        )
    out = ["", f"{level} Groups", ""]
    out.append(f"Groups smaller than {fmt_int(doc.get('min_group_size'))} rows are listed but not judged.")
    out += [
        "",
        md_table(["group", "rows", "judged", *keys], rows, [False, True, False, *([True] * len(keys))]),
    ]
    status = {str(r.get("check", "")).partition(":")[2]: r.get("status") for r in results}
    limits = doc.get("thresholds") or {}
    intervals = doc.get("intervals") or {}
    disp_rows = [
        [
            cell(k),
            _num(v),
            _interval(intervals.get(k), 4),
            (("≥ " if k.endswith("_ratio") else "≤ ") + fmt_num(limits[k]))
            if limits.get(k) is not None
            else DASH,
            _status(status[k]) if k in status else "no limit",
        ]
        for k, v in (doc.get("disparities") or {}).items()
    ]
    if disp_rows:
        conf = fmt_pct(mapping(doc.get("bootstrap")).get("confidence") or 0.95)
        out += ["", f"{level} Disparities", ""]
        out.append(
            md_table(
                ["disparity", "value", f"{conf} interval", "limit", "status"],
                disp_rows,
                [False, True, True, True, False],
            )
        )
    ff = doc.get("four_fifths")
    if isinstance(ff, Mapping) and ff.get("ratio") is not None:
        out += ["", f"{level} Four-fifths rule", ""]
        verdict = "**flagged**" if ff.get("flagged") else "holds"
        out.append(
            f"{verdict}: the lowest selection rate ({cell(group_label(ff.get('lowest')))}) is "
            f"{fmt_num(ff.get('ratio'), 3)} of the highest ({cell(group_label(ff.get('highest')))}); "
            f"the rule asks for at least {fmt_num(ff.get('threshold'))}. Test of equal rates: z-test "
            f"p {fmt_p(ff.get('p_value'))}, Fisher p {fmt_p(ff.get('fisher_p_value'))}."
        )
    notes = [f"- {cell(n)}" for n in doc.get("notes") or []]
    if notes:
        out += ["", *notes]
    return out


def _fairness(doc: Doc) -> str:
    results = [r for r in doc.get("results") or [] if isinstance(r, Mapping)]
    statuses = [str(r.get("status")) for r in results]
    bad = sorted(
        (r for r in results if r.get("status") != "pass"), key=lambda r: _ORDER.get(str(r.get("status")), 9)
    )
    verdict = "failed" if {"fail", "error"} & set(statuses) else ("passed with warnings" if bad else "passed")
    sensitive = ", ".join(map(str, doc.get("sensitive") or []))
    out = [f"# Fairness ({cell(sensitive)}): {verdict}", ""]
    judged = sum(1 for g in doc.get("groups") or [] if isinstance(g, Mapping) and g.get("judged", True))
    out.append(
        f"**{statuses.count('pass')} of {len(results)} judged disparities within their limits** on "
        f"{fmt_int(doc.get('rows'))} rows, {judged} of {len(doc.get('groups') or [])} groups judged."
    )
    if bad:
        out += ["", "## Findings", ""]
        for r in bad:
            d = mapping(r.get("details"))
            name = str(r.get("check") or "").removeprefix("fairness:")
            if r.get("status") == "error":
                text = f"{name} could not be judged: {d.get('reason') or 'see details'}"
            else:
                text = (
                    f"{name} is {fmt_num(r.get('value'), 3)} (interval {_interval(d.get('interval'))}) "
                    f"against the limit {fmt_num(r.get('threshold'))}"
                )
            out.append(f"- {_status(r.get('status'))} {cell(text)}")
    out += _fairness_tables(doc, results)
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- drift


def _drift(doc: Doc) -> str:
    cols = [c for c in doc.get("columns") or [] if isinstance(c, Mapping)]
    drifted = [c for c in cols if c.get("drifted")]
    verdict = "dataset drift" if doc.get("dataset_drift") else "no dataset drift"
    out = [f"# Data drift: {verdict}", ""]
    out.append(
        f"**{len(drifted)} of {len(cols)} columns drifted** ({fmt_pct(doc.get('share_drifted'))}; the "
        f"dataset counts as drifted from {fmt_pct(doc.get('dataset_threshold'))}). "
        f"{fmt_int(doc.get('reference_rows'))} reference rows, {fmt_int(doc.get('current_rows'))} current "
        f"rows; α = {fmt_num(doc.get('alpha'))}, correction {cell(doc.get('correction'))}."
    )
    skipped = [c for c in cols if c.get("skipped")]
    if drifted or skipped:
        out += ["", "## Findings", ""]
        for c in sorted(drifted, key=lambda c: -_ratio(c)):
            out.append(
                f"- ❌ drifted: {cell(c.get('name'))} — {cell(c.get('test'))} adjusted p "
                f"{fmt_p(c.get('p_adjusted'))}, {cell(c.get('effect_name') or 'effect')} "
                f"{fmt_num(c.get('effect'))} > {fmt_num(c.get('threshold'))}"
            )
        for c in skipped:
            reason = (c.get("details") or {}).get("reason") if isinstance(c.get("details"), Mapping) else None
            out.append(f"- ⏭️ skipped: {cell(c.get('name'))} — {cell(reason or 'no reason given')}")
    rows = [
        [
            cell(c.get("name")),
            cell(c.get("kind")),
            cell(c.get("test")),
            _num(c.get("statistic")),
            cell(fmt_p(c.get("p_adjusted"))),
            _num(c.get("effect")),
            cell(c.get("effect_name") or ""),
            _num(c.get("threshold")),
            "⏭️ skipped" if c.get("skipped") else ("❌ yes" if c.get("drifted") else "no"),
        ]
        for c in cols
    ]
    out += ["", "## Columns", ""]
    out.append(
        md_table(
            [
                "column",
                "kind",
                "test",
                "statistic",
                "p (adj.)",
                "effect",
                "effect measure",
                "threshold",
                "drifted",
            ],
            rows,
            [False, False, False, True, True, True, False, True],
        )
    )
    approx = [c for c in cols if isinstance(c.get("details"), Mapping) and c["details"].get("approximate")]
    if approx:
        out += ["", "## Approximations", ""]
        for c in approx:
            info = c["details"]["approximate"]
            note = info.get("note") if isinstance(info, Mapping) else ""
            out.append(f"- {cell(c.get('name'))}: {cell(note or 'approximate')}")
    multi = doc.get("multivariate")
    if isinstance(multi, Mapping) and multi:
        out += ["", "## Multivariate", ""]
        for name, res in multi.items():
            res = res if isinstance(res, Mapping) else {}
            state = "skipped" if "skipped" in res else ("drifted" if res.get("drifted") else "clean")
            out.append(f"- {cell(name)}: {state}")
    return "\n".join(out).rstrip() + "\n"


def _ratio(c: Mapping[str, Any]) -> float:
    e, t = c.get("effect"), c.get("threshold")
    return (
        float(e) / float(t) if isinstance(e, (int, float)) and isinstance(t, (int, float)) and t > 0 else 0.0
    )


# ---------------------------------------------------------------- profile


def _profile(doc: Doc) -> str:
    cols = [c for c in doc.get("columns") or [] if isinstance(c, Mapping)]
    out = [f"# Data profile: {fmt_int(doc.get('rows'))} rows × {len(cols)} columns", ""]
    alerts = []
    for c in cols:
        count = c.get("count") or 0
        miss = (c.get("nulls") or 0) + (c.get("nan") or 0) + (c.get("inf") or 0)
        if count and not c.get("valid"):
            alerts.append(f"{c.get('name')} has no usable values")
        elif count and miss / count >= 0.2:
            alerts.append(f"{c.get('name')}: {fmt_pct(miss / count)} of values are missing")
        elif (c.get("valid") or 0) > 1 and c.get("distinct") is not None and round(c["distinct"]) == 1:
            alerts.append(f"{c.get('name')} is constant")
    if alerts:
        out += ["## Findings", "", *(f"- ⚠️ {cell(a)}" for a in alerts)]
    else:
        out.append("No column is empty, mostly missing or constant.")
    rows = []
    for c in cols:
        q = mapping(c.get("quantiles"))
        count = c.get("count") or 0
        miss = (c.get("nulls") or 0) + (c.get("nan") or 0) + (c.get("inf") or 0)
        top = ", ".join(
            f"{shorten(str(t.get('value')), 24)} ({fmt_int(t.get('count'))})"
            for t in (c.get("top") or [])[:3]
            if isinstance(t, Mapping)
        )
        numeric = c.get("kind") in ("numeric", "boolean")
        rows.append(
            [
                cell(c.get("name")),
                cell(c.get("kind")),
                cell(fmt_pct(miss / count) if count else DASH),
                cell(fmt_int(c.get("distinct"))),
                *(
                    _num(v) if numeric else DASH
                    for v in (c.get("mean"), c.get("min"), q.get("0.5"), c.get("max"))
                ),
                cell(top) if not numeric else "",
            ]
        )
    out += ["", "## Columns", ""]
    out.append(
        md_table(
            ["column", "kind", "missing", "distinct", "mean", "min", "median", "max", "top values"],
            rows,
            [False, False, True, True, True, True, True, True, False],
        )
    )
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- performance


def _metric_rows(metrics: Sequence[Any]) -> list[list[str]]:
    return [
        [
            cell(m.get("name")),
            _num(m.get("value")),
            _interval([m.get("lower"), m.get("upper")], 4),
            cell(fmt_int(m.get("n"))),
            "higher" if m.get("higher_is_better") else "lower",
            cell(m.get("reason") or ""),
        ]
        for m in metrics
        if isinstance(m, Mapping)
    ]


def _performance(doc: Doc) -> str:
    out = [f"# Performance ({cell(doc.get('task'))}): {fmt_int(doc.get('n'))} rows", ""]
    out.append(
        f"Intervals are {fmt_pct(doc.get('ci'))} bootstrap intervals over "
        f"{fmt_int(doc.get('n_boot'))} resamples."
    )
    headers = ["metric", "value", "interval", "rows", "better", "note"]
    numeric = [False, True, True, True, False, False]
    out += ["", "## Overall", "", md_table(headers, _metric_rows(doc.get("metrics") or []), numeric)]
    for key, title in (("segments", "Segments"), ("windows", "Windows")):
        groups = [g for g in doc.get(key) or [] if isinstance(g, Mapping)]
        if groups:
            out += ["", f"## {title}"]
            for g in groups:
                out += ["", f"### {cell(g.get('label'))} ({fmt_int(g.get('n'))} rows)", ""]
                out.append(md_table(headers, _metric_rows(g.get("metrics") or []), numeric))
    return "\n".join(out).rstrip() + "\n"


# ---------------------------------------------------------------- audit


def _audit(doc: Doc) -> str:
    model = mapping(doc.get("model"))
    ref = model.get("ref") or model.get("name") or f"{model.get('framework') or 'unnamed'} model"
    status = str(doc.get("status") or "pass")
    verdict = {"pass": "passed", "warn": "passed with warnings", "fail": "failed", "error": "incomplete"}
    suite = mapping(doc.get("suite"))
    counts = mapping(doc.get("counts"))
    out = [f"# Model audit of {cell(ref)}: {verdict.get(status, status)}", ""]
    out.append(
        f"**{_status(status)}** · suite {cell(suite.get('name') or '?')} · "
        + ", ".join(
            f"{fmt_int(counts.get(k))} {label}"
            for k, label in (
                ("pass", "passed"),
                ("warn", "warned"),
                ("fail", "failed"),
                ("error", "errors"),
                ("skipped", "skipped"),
            )
        )
        + f" · started {cell(doc.get('started') or DASH)}"
    )
    findings = [f for f in doc.get("findings") or [] if isinstance(f, Mapping)]
    if findings:
        out += ["", "## Findings", ""]
        for f in sorted(findings, key=lambda f: _ORDER.get(str(f.get("status")), 9)):
            out.append(
                f"- {_status(f.get('status'))} **{cell(f.get('section'))}**: "
                f"{cell(f.get('message') or f.get('check'))}"
                f". *What to do:* {cell(finding_todo(f))}"
            )
    sections = [s for s in doc.get("sections") or [] if isinstance(s, Mapping)]
    rows = []
    for s in sections:
        title = cell(s.get("title") or s.get("name"))
        if s.get("skipped") and not s.get("results"):
            rows.append([title, DASH, _status(None), DASH, DASH, cell(s.get("skipped"))])
        for r in sorted(s.get("results") or [], key=lambda r: _ORDER.get(str(r.get("status")), 9)):
            d = mapping(r.get("details"))
            rows.append(
                [
                    title,
                    cell(r.get("check")),
                    _status(r.get("status")),
                    _num(r.get("value")),
                    _num(r.get("threshold")),
                    cell(d.get("reason") or ""),
                ]
            )
    out += ["", "## Every check", ""]
    out.append(
        md_table(
            ["section", "check", "status", "value", "threshold", "note"],
            rows,
            [False, False, False, True, True, False],
        )
    )
    fair = next(
        (s for s in sections if s.get("name") == "fairness" and isinstance(s.get("document"), Mapping)), None
    )
    if fair is not None:
        out += ["", "## Fairness details"]
        out += _fairness_tables(fair["document"], fair.get("results") or [], level="###")
    inputs = mapping(doc.get("inputs"))
    in_rows = [
        [
            cell(side),
            cell(info.get("dataset") or info.get("source") or DASH),
            cell(fmt_int(info.get("rows"))),
            "yes" if info.get("labelled") else "no",
            cell(info.get("fingerprint") or DASH),
        ]
        for side, info in inputs.items()
        if isinstance(info, Mapping)
    ]
    out += ["", "## Inputs", ""]
    out.append(
        f"Model {cell(ref)} ({cell(model.get('framework') or '?')}), fingerprint "
        f"{cell(model.get('fingerprint') or DASH)}."
    )
    if in_rows:
        out += [
            "",
            md_table(
                ["data", "dataset or source", "rows", "labelled", "fingerprint"],
                in_rows,
                [False, False, True, False, False],
            ),
        ]
    for note in doc.get("notes") or []:
        out.append(f"\n- {cell(note)}")
    return "\n".join(out).rstrip() + "\n"


KINDS: dict[str, Callable[[Doc], str]] = {
    "mlaudit.profile": _profile,
    "profile": _profile,
    "drift_report": _drift,
    "check_report": _check,
    "fairness_report": _fairness,
    "audit_report": _audit,
    "performance_report": _performance,
}


def to_markdown(document: Mapping[str, Any]) -> str:
    """The report ``document`` (any kind in :data:`KINDS`) as GitHub-flavoured Markdown."""
    doc = _doc(document)
    render = KINDS.get(str(doc.get("kind")))
    if render is None:
        raise InputError(
            f"no Markdown for report kind {doc.get('kind')!r}",
            hint=f"kinds: {', '.join(sorted(KINDS))}",
        )
    return render(doc)
