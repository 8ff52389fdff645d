"""``mlaudit fairness SOURCE``: per-group rates and disparities of a binary classifier's predictions.

Exit 0 when every thresholded disparity passes or only warns, 1 when one fails or cannot be
judged (``error``, e.g. every group below ``--min-group-size``), 2 for bad input — including
sensitive columns that hold a single group, since there is nothing to compare.
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
from mlaudit.stats.fairness import FairnessReport, assess_fairness

__all__ = ["register"]

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "bold red"}
_RATES = ("selection_rate", "tpr", "fpr", "precision", "accuracy", "mean_score", "calibration_gap")


def register(app: typer.Typer) -> None:
    """Add the top-level ``fairness`` command to ``app``."""
    app.command("fairness")(fairness_command)


def fairness_command(
    source: Path = typer.Argument(..., help="Predictions: a csv, parquet or jsonl file."),
    y_true: str = typer.Option(..., "--y-true", help="Column with the true labels."),
    y_pred: str = typer.Option(..., "--y-pred", help="Column with the predicted labels."),
    sensitive: list[str] = typer.Option(
        ..., "--sensitive", help="Sensitive column; repeat (or comma-separate) for intersectional groups."
    ),
    y_score: str | None = typer.Option(
        None, "--y-score", help="Column with scores in [0, 1]: adds mean score and calibration gap."
    ),
    positive: str | None = typer.Option(
        None, "--positive", help="The positive label when labels are not 0/1, e.g. --positive approved."
    ),
    min_group_size: int = typer.Option(
        30, "--min-group-size", help="Smaller groups are listed but not judged."
    ),
    threshold: list[str] = typer.Option(
        [],
        "--threshold",
        help="NAME=X to judge a disparity (X=none drops it), e.g. equal_opportunity_difference=0.1. "
        "Defaults: demographic_parity_difference=0.1, equalized_odds_difference=0.1, "
        "demographic_parity_ratio=0.8. Repeatable.",
    ),
    bootstrap: int = typer.Option(200, "--bootstrap", help="Bootstrap resamples for intervals (0: none)."),
    seed: int = typer.Option(0, "--seed", help="Seed of the bootstrap."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write a self-contained HTML report to this file.", show_default=False
    ),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    json_mode: bool = JsonOpt,
    record: str | None = RecordOpt,
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Compare selection, error and calibration rates across the groups of the sensitive columns."""
    columns = [c.strip() for item in sensitive for c in item.split(",") if c.strip()]
    try:
        report = assess_fairness(
            read_file(source),
            y_true=y_true,
            y_pred=y_pred,
            y_score=y_score,
            sensitive=columns,
            positive=positive,
            min_group_size=min_group_size,
            thresholds=_thresholds(threshold),
            n_bootstrap=bootstrap,
            seed=seed,
        )
    except InputError as exc:  # name the file in errors about its columns and rows
        if exc.path is not None:
            raise
        raise InputError(
            exc.message, path=str(source), column=exc.column, row=exc.row, hint=exc.hint
        ) from exc
    if len(report.groups) < 2:
        raise InputError(
            f"only one group ({report.groups[0].group}) in the sensitive column(s): nothing to compare",
            path=str(source),
            hint="pick a sensitive column with at least two values",
        )
    if html is not None or md is not None:
        from mlaudit.report.html import write_html

        if html is not None:
            from mlaudit.report.fairness_report import fairness_html

            write_html(fairness_html(report.to_dict(), source=source.name), html)
        if md is not None:
            from mlaudit.report.markdown import to_markdown

            write_html(to_markdown(report.to_dict()), md)
    if record:
        record_result(
            workspace,
            record,
            "fairness_report",
            report.to_dict(),
            "pass" if report.passed else "fail",
            {"source": source},
        )
    if json_mode:
        print_json(report.to_dict())
    else:
        _print(report)
    if not report.passed:
        raise typer.Exit(1)


def _thresholds(items: list[str]) -> dict[str, float | None]:
    out: dict[str, float | None] = {}
    for item in items:
        name, sep, text = item.partition("=")
        if not sep or not name.strip() or not text.strip():
            raise InputError(f"--threshold expects NAME=X, not {item!r}")
        if text.strip().lower() == "none":
            out[name.strip()] = None
            continue
        try:
            value = float(text)
        except ValueError:
            raise InputError(f"--threshold expects a number or none, not {text!r}") from None
        if not math.isfinite(value) or value < 0:
            raise InputError(f"--threshold must be a number >= 0, not {text!r}")
        out[name.strip()] = value
    return out


def _fmt(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "—"
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def _print(report: FairnessReport) -> None:
    rates = [r for r in _RATES if r in report.overall]
    groups = Table(
        title=f"Fairness: {report.rows} rows, {len(report.groups)} groups of {', '.join(report.sensitive)}"
    )
    groups.add_column("group")
    for header in ("count", "judged", *rates):
        groups.add_column(header, justify="right")
    for g in report.groups:
        key = ", ".join(f"{k}={v}" for k, v in g.group.items())
        groups.add_row(key, str(g.count), "yes" if g.judged else "no", *(_fmt(g.rates[r]) for r in rates))
    groups.add_row("[bold]overall[/]", str(report.rows), "", *(_fmt(report.overall[r]) for r in rates))
    out.print(groups)
    results = {r.check.removeprefix("fairness:"): r for r in report.results()}
    table = Table(title="Disparities")
    for header in ("disparity", "value", f"{report.confidence:.0%} interval", "threshold", "status"):
        table.add_column(header, justify="left" if header in ("disparity", "status") else "right")
    for name, value in report.disparities.items():
        interval = report.intervals.get(name)
        span = f"{_fmt(interval[0])} – {_fmt(interval[1])}" if interval else "—"
        res = results.get(name)
        status = f"[{_STYLE[res.status]}]{res.status}[/]" if res else ""
        table.add_row(name, _fmt(value), span, _fmt(res.threshold if res else None), status)
    out.print(table)
    ff = report.four_fifths
    if ff.ratio is not None:
        flag = "[red]flagged[/]" if ff.flagged else "not flagged"
        out.print(
            f"four-fifths rule: ratio {_fmt(ff.ratio)} ({flag}); lowest {ff.lowest} vs highest "
            f"{ff.highest}: z-test p={_fmt(ff.p_value)}, Fisher p={_fmt(ff.fisher_p_value)}"
        )
    for note in report.notes:
        out.print(f"  note: {note}")
    for res in results.values():
        if res.status == "error":
            out.print(f"  {res.check}: error — {res.details.get('reason', '')}")
    out.print("[green]passed[/]" if report.passed else "[red]failed[/]")
