"""``mlaudit audit MODEL[@VERSION]``: run a suite of checks on a registered model version.

Exit 0 when no check failed (warnings are reported), 1 when a check failed or could not be
judged, 2 for bad input (a missing feature, a model that cannot score the data, a bad suite).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json, show_progress

__all__ = ["register"]

_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "bold red", None: "dim"}


def register(app: typer.Typer) -> None:
    """Add the top-level ``audit`` command to ``app``."""
    app.command("audit")(audit_command)


def audit_command(
    model: str = typer.Argument(..., help="Registered model version: NAME (latest), NAME@v2 or NAME@<id>."),
    reference: str = typer.Option(
        ...,
        "--reference",
        help="Reference data (e.g. the holdout set): a file, URL, or a kept dataset NAME@vN.",
    ),
    current: str = typer.Option(..., "--current", help="Current data to audit: a file, URL, or NAME@vN."),
    labels: str | None = typer.Option(
        None,
        "--labels",
        help="Label column (default: the target the model was registered with). "
        "Without labels in CURRENT, performance is estimated from the scores.",
    ),
    sensitive: list[str] = typer.Option(
        [],
        "--sensitive",
        help="Sensitive column for fairness; repeat for intersectional groups "
        "(default: those registered with the model).",
    ),
    suite: str = typer.Option("quick", "--suite", help="quick, full, or a suite YAML file."),
    train: str | None = typer.Option(
        None,
        "--train",
        help="Training data, for the overfitting check (default: the registered "
        "training dataset, when its data was kept).",
    ),
    html: Path | None = typer.Option(None, "--html", help="Also write a self-contained HTML report here."),
    md: Path | None = typer.Option(
        None, "--md", help="Also write the report as Markdown (GitHub-flavoured) here.", show_default=False
    ),
    junit: Path | None = typer.Option(
        None, "--junit", help="Also write JUnit XML (a test suite per section) for CI.", show_default=False
    ),
    record: bool = typer.Option(
        True, "--record/--no-record", help="Keep the report as ledgered evidence (default) or only print it."
    ),
    seed: int = typer.Option(0, "--seed", help="Seed for bootstrap, perturbation and sampling."),
    json_mode: bool = JsonOpt,
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Audit MODEL on CURRENT against REFERENCE: drift, performance, fairness, calibration, and more."""
    import mlaudit

    sens = [s.strip() for item in sensitive for s in item.split(",") if s.strip()]
    with mlaudit.open(workspace, create=False) as ws:
        report = _run(
            ws, model, reference, current, labels, sens or None, suite, train, record, seed, json_mode
        )
    if html is not None:
        from mlaudit.report import audit_html, write_html

        path = write_html(audit_html(report.to_dict()), html)
        if not json_mode:
            err.print(f"HTML report: {path}")
    if md is not None or junit is not None:
        from mlaudit.report.html import write_html

        document = report.to_dict()
        if md is not None:
            from mlaudit.report.markdown import to_markdown

            write_html(to_markdown(document), md)
        if junit is not None:
            from mlaudit.report.junit import to_junit

            write_html(to_junit(document), junit)
    if json_mode:
        print_json(report.to_dict())
    else:
        _print(report)
    if not report.passed:
        raise typer.Exit(1)


def _run(
    ws: Any,
    model: str,
    reference: str,
    current: str,
    labels: str | None,
    sensitive: list[str] | None,
    suite: str,
    train: str | None,
    record: bool,
    seed: int,
    json_mode: bool,
) -> Any:
    kwargs = dict(
        reference=reference,
        current=current,
        labels=labels,
        sensitive=sensitive,
        suite=suite,
        train=train,
        record=record,
        seed=seed,
    )
    if not show_progress(json_mode):
        return ws.audit(model, **kwargs)
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err._make(),
        transient=True,
    ) as bar:
        task = bar.add_task(f"auditing {model}", total=None)
        return ws.audit(
            model, progress=lambda step: bar.update(task, description=f"auditing {model}: {step}"), **kwargs
        )


def _fmt(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:.4g}"


def _print(report: Any) -> None:
    m = report.model
    status = report.status
    title = (
        f"Audit of {m.get('ref', m.get('framework'))} · suite {report.suite['name']} · "
        f"{report.inputs['reference']['rows']} reference rows, "
        f"{report.inputs['current']['rows']} current rows"
    )
    table = Table(title=title)
    for header in ("check", "status", "results", "worst", "value", "threshold"):
        table.add_column(header, justify="right" if header in ("value", "threshold", "results") else "left")
    for s in report.sections:
        if s.skipped is not None and not s.results:
            table.add_row(s.title, "[dim]skipped[/]", "0", "", "", "")
            continue
        worst = max(s.results, key=lambda r: ("pass", "warn", "fail", "error").index(r.status))
        table.add_row(
            s.title,
            f"[{_STYLE[s.status]}]{s.status}[/]",
            str(len(s.results)),
            worst.check if worst.status != "pass" else "",
            _fmt(worst.value) if worst.status != "pass" else "",
            _fmt(worst.threshold) if worst.status != "pass" else "",
        )
    out.print(table)
    findings = report.findings()
    if findings:
        out.print(f"[bold]Findings ({len(findings)}):[/]")
        for f in findings:
            out.print(f"  [{_STYLE[f['status']]}]{f['status']:>5}[/]  {f['message']}", markup=True)
    for s in report.sections:
        if s.skipped is not None:
            out.print(f"  [dim]skipped {s.name}: {s.skipped}[/]")
    for note in report.notes:
        out.print(f"note: {note}")
    counts = report.counts()
    verdict = {"pass": "PASSED", "warn": "PASSED with warnings", "fail": "FAILED", "error": "FAILED"}[status]
    out.print(
        f"[{_STYLE[status]}]{verdict}[/]: {counts['pass']} passed, {counts['warn']} warned, "
        f"{counts['fail']} failed, {counts['error']} errors, {counts['skipped']} skipped "
        f"({report.seconds:.1f} s)"
    )
    if report.recorded:
        rec = report.recorded
        err.print(f"recorded as result {rec['result']} (ledger seq {rec['seq']}, lineage run {rec['run']})")
