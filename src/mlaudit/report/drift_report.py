"""The data-drift report: which columns changed, how badly, and what to do next.

Summary first (the verdict, the drifted columns worst first with what changed, skipped
columns with their reason, next steps, a chart of effect size against threshold), then a
table of every column's test, p-value, effect and threshold, then one section per column
with reference and current distributions overlaid. Figures come from the two profiles,
which must share bins (see :func:`current_profile`), never from rows.

>>> from mlaudit.stats.drift import DriftDetector
>>> det = DriftDetector(keep_profile=True).fit({"x": [float(i) for i in range(100)]})
>>> cur = {"x": [float(i) + 60 for i in range(100)]}
>>> html = drift_html(det.compare(cur), det.profile_, current_profile(det.profile_, cur))
>>> "1 of 1 columns drifted" in html
True
"""

from __future__ import annotations

from typing import Any

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table
from mlaudit.report.format import DASH, esc, fmt_int, fmt_num, fmt_p, fmt_pct, fmt_value
from mlaudit.report.html import CURRENT_COLOUR, REFERENCE_COLOUR, HtmlReport, page
from mlaudit.report.parts import badge, esc_short, missing, plot_slot, stats_table, table
from mlaudit.report.plots import distribution_figure, severity_figure
from mlaudit.stats.drift import ColumnDrift, DriftDetector, DriftReport
from mlaudit.stats.profile import ColumnProfile, Profile, profile

__all__ = ["current_profile", "drift_html", "render_drift"]

TEST_NAMES = {
    "ks": "Kolmogorov–Smirnov", "wasserstein": "Wasserstein", "anderson": "Anderson–Darling",
    "chi2": "chi-square", "psi": "PSI", "js": "Jensen–Shannon", "hellinger": "Hellinger",
}  # fmt: skip
SHORT_TEST_NAMES = {
    "ks": "KS", "wasserstein": "Wasserstein", "anderson": "AD", "chi2": "χ²", "psi": "PSI",
    "js": "JS", "hellinger": "Hellinger",
}  # fmt: skip
EFFECT_NAMES = {
    "wasserstein_std": "Wasserstein distance / reference sd", "js_distance": "Jensen–Shannon distance",
    "psi": "PSI", "hellinger": "Hellinger distance",
}  # fmt: skip


def current_profile(reference: Profile, current: TableLike) -> Profile:
    """Profile ``current`` with the reference's kinds and bin edges, so that histograms
    overlay bin for bin. Only the reference's columns are profiled.

    >>> from mlaudit.stats.profile import profile
    >>> ref = profile({"x": [0.0, 10.0]})
    >>> cur = current_profile(ref, {"x": [5.0], "y": ["a"]})
    >>> (list(cur.columns), cur.column("x").histogram.edges == ref.column("x").histogram.edges)
    (['x'], True)
    """
    table = to_table(current)
    absent = [name for name in reference.columns if name not in table.column_names]
    if absent:
        raise InputError(
            "the current data lacks a column of the reference",
            column=absent[0],
            hint="compare tables with the same columns",
        )
    return profile(table.select(list(reference.columns)), kinds=reference.kinds(), bins=reference.bins())


def render_drift(
    detector: DriftDetector,
    current: TableLike,
    *,
    title: str = "Data drift",
    reference_name: str | None = None,
    current_name: str | None = None,
    reference: Profile | None = None,
) -> HtmlReport:
    """Compare ``current`` with a fitted ``detector`` and render the result in one call.

    The reference's distributions come from ``reference`` if given, else from the
    detector's ``profile_`` (fit it with ``DriftDetector(keep_profile=True)``).
    """
    if not hasattr(detector, "references_"):
        raise InputError("this DriftDetector is not fitted yet", hint="call fit(reference) first")
    ref = reference if reference is not None else getattr(detector, "profile_", None)
    if ref is None:
        raise InputError(
            "the drift report needs the reference's profile",
            hint="fit with DriftDetector(keep_profile=True), or pass reference=profile(ref_table)",
        )
    table = to_table(current)
    report = detector.compare(table)
    cur = current_profile(ref, table)
    html = drift_html(
        report, ref, cur, title=title,
        reference_name=reference_name, current_name=current_name,
    )  # fmt: skip
    return HtmlReport(html, title)


def drift_html(
    report: DriftReport,
    reference: Profile,
    current: Profile,
    *,
    title: str = "Data drift",
    reference_name: str | None = None,
    current_name: str | None = None,
) -> str:
    """A self-contained HTML page for ``report``, with distributions from the two profiles.

    ``current`` should be ``current_profile(reference, current_table)`` so that both
    histograms share bin edges; columns missing from a profile are shown without a plot.
    """
    ordered = sorted(report.columns, key=_rank)
    index = {c.name: i for i, c in enumerate(ordered)}
    figures: dict[str, dict[str, Any]] = {}
    severity = severity_figure(report.columns)
    if severity is not None:
        figures["fig-severity"] = severity
    sections = []
    for i, c in enumerate(ordered):
        ref, cur = reference.columns.get(c.name), current.columns.get(c.name)
        fig = distribution_figure(ref, cur) if ref is not None else None
        if fig is not None:
            figures[f"fig-{i}"] = fig
        sections.append(_column_section(i, c, ref, cur, fig is not None))
    body = "\n".join(
        [
            _summary(report, ordered, index, reference, current, severity is not None),
            '<section id="columns" aria-labelledby="h-columns"><h2 id="h-columns">Columns</h2>',
            _columns_table(ordered),
            "</section>",
            '<section id="details" aria-labelledby="h-details"><h2 id="h-details">Column details</h2>',
            _legend(),
            *sections,
            "</section>",
        ]
    )
    ref_label = f"reference: {reference_name or 'reference data'} ({fmt_int(report.reference_rows)} rows)"
    cur_label = f"current: {current_name or 'current data'} ({fmt_int(report.current_rows)} rows)"
    toc = [("summary", "Summary"), ("columns", "Columns"), ("details", "Column details")]
    return page(title, body, figures, subtitle=f"{ref_label} · {cur_label}", toc=toc)


# ---------------------------------------------------------------- summary


def _summary(
    report: DriftReport,
    ordered: list[ColumnDrift],
    index: dict[str, int],
    reference: Profile,
    current: Profile,
    has_severity: bool,
) -> str:
    drifted = [c for c in ordered if c.drifted]
    skipped = [c for c in ordered if c.skipped]
    n = len(report.columns)
    share = f"{len(drifted)} of {n} columns drifted ({fmt_pct(report.share_drifted)})"
    rule = f"the dataset counts as drifted from {fmt_pct(report.dataset_threshold)} of columns"
    if report.dataset_drift:
        verdict = ("bad", f"Dataset drift: {share}.", f"At or above the line: {rule}.")
    elif drifted:
        verdict = ("warn", f"Some columns drifted: {share}.", f"No dataset drift: {rule}.")
    elif n:
        verdict = ("ok", f"No drift: {share}.", "The current data looks like the reference.")
    else:
        verdict = ("warn", "No columns were compared.", "Select the columns to compare.")
    parts = [
        '<section id="summary" aria-labelledby="h-summary"><h2 id="h-summary">Summary</h2>',
        f'<div class="verdict {verdict[0]}" role="status"><strong class="big">{esc(verdict[1])}</strong>'
        f"<p>{esc(verdict[2])}</p></div>",
        _cards(report, drifted, skipped),
    ]
    if drifted:
        items = "".join(
            f'<li><a href="#col-{index[c.name]}"><code>{esc(c.name)}</code></a> — '
            f"{_how_bad(c)}{_what_changed(c, reference.columns.get(c.name), current.columns.get(c.name))}"
            "</li>"
            for c in drifted
        )
        parts.append(f'<h3 id="drifted">Drifted columns, worst first</h3><ol class="todo">{items}</ol>')
    if skipped:
        items = "".join(
            f'<li><a href="#col-{index[c.name]}"><code>{esc(c.name)}</code></a> — '
            f"{esc(c.details.get('reason', 'not tested'))}</li>"
            for c in skipped
        )
        parts.append(f'<h3>Skipped columns</h3><ul class="todo">{items}</ul>')
    if report.multivariate:
        parts.append(_multivariate(report.multivariate))
    parts.append(f'<h3>What to do</h3><ul class="todo">{_advice(report, drifted, skipped)}</ul>')
    if has_severity:
        parts.append(
            "<h3>How far each column moved</h3>"
            + plot_slot("fig-severity", "Effect size of each column as a multiple of its threshold")
            + '<p class="note">Bars past the dashed line are above their effect threshold; a '
            "column is called drifted only when its adjusted p-value is also below "
            f"α = {esc(fmt_num(report.alpha))}. Red: drifted; grey: not drifted.</p>"
        )
    parts.append("</section>")
    return "".join(parts)


def _cards(report: DriftReport, drifted: list[ColumnDrift], skipped: list[ColumnDrift]) -> str:
    correction = {"bh": "Benjamini–Hochberg", "bonferroni": "Bonferroni", "none": "none"}
    cards = [
        ("drifted columns", f"{len(drifted)} / {len(report.columns)}"),
        ("share drifted", fmt_pct(report.share_drifted)),
        ("skipped", fmt_int(len(skipped))),
        (
            "significance",
            f"α = {fmt_num(report.alpha)}, {correction.get(report.correction, report.correction)}",
        ),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="k">{esc(k)}</div>'
            f'<div class="v{" long" if len(v) > 12 else ""}">{esc(v)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def _how_bad(c: ColumnDrift) -> str:
    effect = EFFECT_NAMES.get(c.effect_name or "", c.effect_name or "effect")
    ratio = f" ({c.effect / c.threshold:.1f}× the threshold)" if c.effect and c.threshold > 0 else ""
    return (
        f"{esc(effect)} {esc(fmt_num(c.effect))} vs {esc(fmt_num(c.threshold))}{esc(ratio)}, "
        f"adjusted p {esc(fmt_p(c.p_adjusted))}"
    )


def _what_changed(c: ColumnDrift, ref: ColumnProfile | None, cur: ColumnProfile | None) -> str:
    """One short clause (markup) saying what moved: the median, a category's share, missing values."""
    notes: list[str] = []
    if ref is not None and cur is not None:
        if c.kind in ("numeric", "datetime"):
            a, b = ref.quantile(0.5), cur.quantile(0.5)
            if a is not None and b is not None:
                notes.append(esc(f"median {fmt_value(a, c.kind)} → {fmt_value(b, c.kind)}"))
            sa, sb = ref.std, cur.std
            if sa and sb and c.kind == "numeric" and not 0.8 < sb / sa < 1.25:
                notes.append(esc(f"spread (sd) {fmt_num(sa)} → {fmt_num(sb)}"))
        elif c.kind in ("categorical", "boolean"):
            change = _biggest_share_change(ref, cur)
            if change:
                notes.append(change)
    unseen = c.details.get("unseen_count")
    if unseen:
        notes.append(esc(f"{fmt_int(unseen)} values in categories the reference never had"))
    shares = c.details.get("missing_share")
    if shares and abs(shares["current"] - shares["reference"]) >= 0.01:
        notes.append(esc(f"missing {fmt_pct(shares['reference'])} → {fmt_pct(shares['current'])}"))
    return f"; {'; '.join(notes)}" if notes else ""


def _biggest_share_change(ref: ColumnProfile, cur: ColumnProfile) -> str:
    if not ref.valid or not cur.valid:
        return ""
    a = {k: v / ref.valid for k, v in ref.top(50)}
    b = {k: v / cur.valid for k, v in cur.top(50)}
    if not a and not b:
        return ""
    key = max(set(a) | set(b), key=lambda k: (abs(b.get(k, 0.0) - a.get(k, 0.0)), k))
    return f"{esc_short(key, 30)} {esc(fmt_pct(a.get(key, 0.0)))} → {esc(fmt_pct(b.get(key, 0.0)))}"


def _advice(report: DriftReport, drifted: list[ColumnDrift], skipped: list[ColumnDrift]) -> str:
    tips: list[str] = []
    if drifted:
        names = ", ".join(f"<code>{esc(c.name)}</code>" for c in drifted[:5])
        more = f" and {len(drifted) - 5} more" if len(drifted) > 5 else ""
        tips.append(
            f"Check the pipeline that produces {names}{more} first: a sudden change in a few "
            "columns is more often a bug (a unit change, a new encoding, a broken join) than a "
            "real shift in the world."
        )
        tips.append(
            "If the change is real, measure the model's accuracy on recent labelled data "
            "before trusting its predictions, and retrain on data that includes the new "
            "distribution if accuracy dropped."
        )
    if any(c.details.get("unseen_count") for c in report.columns):
        tips.append(
            "Some categories are new: the model has never seen them. Map them to known categories or retrain."
        )
    if any(
        (s := c.details.get("missing_share")) and s["current"] - s["reference"] >= 0.05
        for c in report.columns
    ):
        tips.append("Missing values rose in some columns: look for a failing upstream source.")
    if skipped:
        tips.append(
            f"{len(skipped)} column{'s were' if len(skipped) > 1 else ' was'} not tested "
            f"(reasons above): check {'them' if len(skipped) > 1 else 'it'} by hand or give "
            f"{'them a kind' if len(skipped) > 1 else 'it a kind'} that can be tested."
        )
    if not drifted:
        tips.append("No action needed; keep comparing new data as it arrives.")
    return "".join(f"<li>{t}</li>" for t in tips)


def _multivariate(mv: dict[str, Any]) -> str:
    rows = []
    dc, pca = mv.get("domain_classifier") or {}, mv.get("pca") or {}
    if dc:
        if "skipped" in dc:
            rows.append(("domain classifier", badge("skipped"), esc(dc["skipped"])))
        else:
            rows.append((
                "domain classifier",
                badge("drifted" if dc.get("drifted") else "ok"),
                f"ROC AUC {esc(fmt_num(dc.get('auc'), 3))} vs threshold {esc(fmt_num(dc.get('threshold')))}"
                " (0.5: the classifier cannot tell reference from current rows)",
            ))  # fmt: skip
    if pca:
        if "skipped" in pca:
            rows.append(("PCA reconstruction", badge("skipped"), esc(pca["skipped"])))
        else:
            rows.append((
                "PCA reconstruction",
                badge("drifted" if pca.get("drifted") else "ok"),
                f"error ratio {esc(fmt_num(pca.get('ratio'), 3))} vs threshold "
                f"{esc(fmt_num(pca.get('threshold')))}, p {esc(fmt_p(pca.get('p_value')))}",
            ))  # fmt: skip
    items = "".join(f"<li><strong>{esc(name)}</strong> {b} {text}</li>" for name, b, text in rows)
    return f'<h3>All columns together</h3><ul class="todo">{items}</ul>' if items else ""


# ---------------------------------------------------------------- table and sections


def _rank(c: ColumnDrift) -> tuple[int, float]:
    """Drifted first (worst first), then tested, then skipped."""
    ratio = (c.effect or 0.0) / c.threshold if c.threshold > 0 else (c.effect or 0.0)
    group = 0 if c.drifted else (2 if c.skipped else 1)
    return group, -ratio


def _status(c: ColumnDrift) -> str:
    if c.skipped:
        return badge("skipped") + f'<span class="reason">{esc(c.details.get("reason", ""))}</span>'
    return badge("drifted") if c.drifted else badge("ok")


def _meter(c: ColumnDrift) -> str:
    if c.effect is None or c.threshold <= 0:
        return ""
    share = min(c.effect / c.threshold / 5, 1.0)  # a full meter is 5x the threshold
    label = f"{c.effect / c.threshold:.1f} times the threshold"
    return (
        f'<span class="meter" role="img" aria-label="{esc(label)}">'
        f'<span style="width:{share * 100:.0f}%"></span></span>'
    )


def _columns_table(ordered: list[ColumnDrift]) -> str:
    headers = [
        ("column", False), ("kind", False), ("test", False), ("statistic", True), ("p-value", True),
        ("adjusted p", True), ("effect", True), ("threshold", True), ("status", False),
    ]  # fmt: skip
    rows = [
        [
            f'<a href="#col-{i}"><code>{esc(c.name)}</code></a>',
            esc(c.kind),
            _test_cell(c.test),
            fmt_num(c.statistic),
            fmt_p(c.p_value),
            fmt_p(c.p_adjusted),
            fmt_num(c.effect) + _meter(c),
            DASH if c.skipped else fmt_num(c.threshold),
            _status(c),
        ]
        for i, c in enumerate(ordered)
    ]
    return table(headers, rows, "Drift test, p-values, effect size and threshold of every column")


def _test_cell(test: str) -> str:
    if test not in TEST_NAMES:
        return esc(test)
    return f'<abbr title="{esc(TEST_NAMES[test])}">{esc(SHORT_TEST_NAMES.get(test, test))}</abbr>'


def _legend() -> str:
    return (
        f'<p class="note"><span class="legend-key" style="background:{REFERENCE_COLOUR}"></span>'
        f'reference (bars) <span class="legend-key" style="background:{CURRENT_COLOUR};margin-left:12px">'
        "</span>current (line or bars). Shares of each side's values, on the reference's bins; "
        "hatched bins hold values outside the reference's range.</p>"
    )


def _column_section(
    i: int, c: ColumnDrift, ref: ColumnProfile | None, cur: ColumnProfile | None, has_plot: bool
) -> str:
    if c.skipped:
        line = f"Not tested: {esc(c.details.get('reason', ''))}."
    else:
        effect = EFFECT_NAMES.get(c.effect_name or "", c.effect_name or "effect")
        above = "above" if (c.effect or 0.0) > c.threshold else "below"
        line = (
            f"{esc(TEST_NAMES.get(c.test, c.test))} statistic {esc(fmt_num(c.statistic))}, "
            f"p {esc(fmt_p(c.p_value))} (adjusted {esc(fmt_p(c.p_adjusted))}); "
            f"{esc(effect)} {esc(fmt_num(c.effect))}, {above} the threshold {esc(fmt_num(c.threshold))}."
        )
    extra = _details_notes(c)
    stats = stats_table(ref, cur) if ref is not None and cur is not None else ""
    if ref is not None and c.kind == "text":
        extra += '<p class="note">Text column: statistics describe value length in characters.</p>'
    plot = plot_slot(f"fig-{i}", f"Reference and current distribution of column {c.name}") if has_plot else ""
    body_class = "col-body" if plot else "col-body single"
    missing_note = ""
    if ref is not None and cur is not None and (missing(ref) or missing(cur)):
        missing_note = (
            '<p class="note">Missing values (null, NaN, ±inf) are left out of the tests and plots.</p>'
        )
    return (
        f'<article class="col" id="col-{i}" aria-labelledby="h-col-{i}">'
        f'<div class="col-head"><h3 id="h-col-{i}"><code>{esc(c.name)}</code></h3>'
        f'<span class="kind">{esc(c.kind)}</span>{badge("skipped") if c.skipped else _status(c)}</div>'
        f'<p class="note">{line}</p>{extra}'
        f'<div class="{body_class}"><div>{stats}{missing_note}</div>'
        f"{f'<div>{plot}</div>' if plot else ''}</div></article>"
    )


def _details_notes(c: ColumnDrift) -> str:
    notes = []
    unseen = c.details.get("unseen_categories")
    if unseen:
        shown = ", ".join(f"{esc_short(str(k), 24)} ({fmt_int(v)})" for k, v in list(unseen.items())[:8])
        notes.append(f"New categories: {shown}.")
    gone = c.details.get("missing_categories")
    if gone:
        shown = ", ".join(esc_short(str(k), 24) for k in gone[:8])
        notes.append(f"Categories absent from the current data: {shown}.")
    approx = c.details.get("approximate")
    if isinstance(approx, dict) and approx.get("note"):
        notes.append(f"Approximate: {esc(str(approx['note']))} (raise --exact-limit for an exact test).")
    if c.details.get("reference_sampled"):
        notes.append(
            f"Reference sampled to {fmt_int(c.details.get('reference_sample'))} values for the test."
        )
    return "".join(f'<p class="note">{n}</p>' for n in notes)
