"""``mlaudit drift REFERENCE CURRENT``: compare two files column by column.

Exit 0 when the comparison ran (drift is information), 1 with ``--fail-on-drift`` when a
column drifted, 2 for bad input.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, RecordOpt, WorkspaceOpt, out, print_json, record_result
from mlaudit.errors import InputError
from mlaudit.frames import read_file
from mlaudit.stats.drift import DriftDetector, DriftReport

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add the top-level ``drift`` command to ``app``."""
    app.command("drift")(drift_command)


def drift_command(
    reference: Path = typer.Argument(..., help="Reference data: a csv, parquet or jsonl file."),
    current: Path = typer.Argument(..., help="Current data to compare with the reference."),
    json_mode: bool = JsonOpt,
    columns: str | None = typer.Option(
        None, "--columns", help="Comma-separated columns to compare (default: all reference columns)."
    ),
    test: list[str] = typer.Option(
        [],
        "--test",
        help="COL=TEST, e.g. age=psi (numeric: ks, wasserstein, anderson, psi, js, "
        "hellinger; categorical: chi2, psi, js, hellinger). Repeatable.",
    ),
    threshold: list[str] = typer.Option(
        [], "--threshold", help="Effect threshold: X for every column, or COL=X. Repeatable."
    ),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level after correction."),
    correction: str = typer.Option("bh", "--correction", help="bh, bonferroni or none."),
    multivariate: bool = typer.Option(
        False, "--multivariate", help="Add a domain classifier and a PCA reconstruction check."
    ),
    fail_on_drift: bool = typer.Option(
        False, "--fail-on-drift", help="Exit 1 when any column drifted (for CI gates)."
    ),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report (plots, summary) to this file."
    ),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    record: str | None = RecordOpt,
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Compare CURRENT with REFERENCE: a significance test and an effect size per column."""
    ref_table = read_file(reference)
    cur_table = read_file(current)
    names = [c.strip() for c in columns.split(",") if c.strip()] if columns else None
    tests = dict(_pair(item, "--test") for item in test)
    compared = names if names is not None else ref_table.column_names
    thresholds = _thresholds(threshold, compared)
    detector = DriftDetector(
        columns=names,
        tests=tests or None,
        thresholds=thresholds or None,
        alpha=alpha,
        correction=correction,  # type: ignore[arg-type]  # checked by the detector
        multivariate=multivariate,
        keep_profile=html is not None,
    )
    report = detector.fit(ref_table).compare(cur_table)
    if html is not None:
        from mlaudit.report import current_profile, drift_html, write_html

        reference_profile = detector.profile_
        assert reference_profile is not None  # keep_profile=True above
        page = drift_html(
            report,
            reference_profile,
            current_profile(reference_profile, cur_table),
            reference_name=reference.name,
            current_name=current.name,
        )
        write_html(page, html)
    if md is not None:
        from mlaudit.report.html import write_html
        from mlaudit.report.markdown import to_markdown

        write_html(to_markdown(report.to_dict()), md)
    if record:
        record_result(
            workspace,
            record,
            "drift_report",
            report.to_dict(),
            "fail" if report.drifted_columns else "pass",
            {"reference": reference, "current": current},
        )
    if json_mode:
        print_json(report.to_dict())
    else:
        _print_table(report)
    if fail_on_drift and report.drifted_columns:
        raise typer.Exit(1)


def _pair(item: str, option: str) -> tuple[str, str]:
    name, sep, value = item.rpartition("=")
    if not sep or not name or not value:
        raise InputError(f"{option} expects COL=VALUE, not {item!r}")
    return name, value


def _thresholds(items: list[str], columns: list[str]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        if "=" in item:
            name, value = _pair(item, "--threshold")
            out[name] = _number(value)
        else:
            every = _number(item)
            out.update({name: every for name in columns if name not in out})
    return out


def _number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"--threshold expects a number, not {text!r}") from None
    if not math.isfinite(value) or value < 0:
        raise InputError(f"--threshold must be a number >= 0, not {text!r}")
    return value


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.4g}"
    return str(value)


def _print_table(report: DriftReport) -> None:
    table = Table(title=f"Drift: {report.reference_rows} reference rows, {report.current_rows} current rows")
    for header in ("column", "kind", "test", "statistic", "p (adj.)", "effect", "threshold", "drifted"):
        table.add_column(header, justify="right" if header not in ("column", "kind", "test") else "left")
    for c in report.columns:
        effect = f"{_fmt(c.effect)} {c.effect_name}" if c.effect_name else _fmt(c.effect)
        verdict = "[bold red]yes[/]" if c.drifted else ("skipped" if c.skipped else "no")
        table.add_row(
            c.name, c.kind, c.test, _fmt(c.statistic), _fmt(c.p_adjusted), effect, _fmt(c.threshold), verdict
        )
    out.print(table)
    share = f"{len(report.drifted_columns)}/{len(report.columns)} columns drifted"
    verdict = "dataset drift" if report.dataset_drift else "no dataset drift"
    out.print(f"{share} ({report.share_drifted:.0%}); {verdict}")
    for c in report.columns:
        if c.skipped:
            out.print(f"  {c.name}: skipped — {c.details.get('reason', '')}")
    if report.multivariate:
        for name, res in report.multivariate.items():
            state = "skipped" if "skipped" in res else ("drifted" if res.get("drifted") else "clean")
            out.print(f"  multivariate {name}: {state}")
