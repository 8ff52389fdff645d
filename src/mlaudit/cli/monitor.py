"""``mlaudit monitor create | list | run | show``: monitors over the prediction log."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import typer

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from mlaudit.errors import MLAuditError

__all__ = ["register"]

monitor_app = typer.Typer(
    help="Monitors: a model version watched over windows of its predictions.", no_args_is_help=True
)


def _open(workspace: str | None) -> Any:
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _fmt(value: Any, spec: str = ".3f") -> str:
    return "-" if value is None else format(value, spec)


@monitor_app.command("create")
def create_command(
    name: str = typer.Argument(..., help="Monitor name."),
    model: str = typer.Argument(..., help="MODEL@vN, or MODEL for whichever version logs predictions."),
    reference: str = typer.Option(..., "--reference", help="Kept reference dataset version, DS@vN."),
    window: str = typer.Option("1h", "--window", help="A duration (5m, 1h, 1d) or a row count (1000)."),
    slide: str | None = typer.Option(None, "--slide", help="Sliding windows: start one every SLIDE."),
    rule: list[str] = typer.Option(
        [], "--rule", help='Alert rule, e.g. "drift.share>0.3" or "estimated.roc_auc<0.7 x2".'
    ),
    notify: list[str] = typer.Option([], "--notify", help="Where alerts go, e.g. webhook:URL."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Define a monitor."""
    count = window.isdigit()
    spec: dict[str, Any] = {"kind": "count" if count else "time", "size": int(window) if count else window}
    step: str | int | None = None if slide is None else (int(slide) if count and slide.isdigit() else slide)
    with _open(workspace) as ws:
        mon = ws.monitors.create(
            name, model, reference=reference, window=spec, slide=step, rules=list(rule), notify=list(notify)
        )
    if json:
        print_json(mon.to_dict())
        return
    w = mon.spec.window
    out.print(
        f"monitor {mon.name}: {mon.spec.version or mon.model} vs {mon.spec.reference}, "
        f"{w.kind} windows of {w.size}"
        + (f" every {w.slide}" if w.slide else "")
        + f", {len(mon.spec.rules)} rule(s) (seq {mon.seq})"
    )


@monitor_app.command("list")
def list_command(workspace: str | None = WorkspaceOpt, json: bool = JsonOpt) -> None:
    """The monitors of the workspace."""
    with _open(workspace) as ws:
        mons = ws.monitors.list()
    if json:
        print_json([m.to_dict() for m in mons])
        return
    if not mons:
        out.print("no monitors (create one with `mlaudit monitor create`)")
    for m in mons:
        state = "disabled" if m.disabled else "active"
        out.print(
            f"{m.name}  {m.spec.version or m.model}  ref {m.spec.reference}  "
            f"{m.spec.window.kind}:{m.spec.window.size}  {len(m.spec.rules)} rule(s)  {state}"
        )


def _line(name: str, w: Any, firing: list[str]) -> str:
    perf = w.metrics.get("performance.roc_auc")
    est = w.metrics.get("estimated.roc_auc")
    auc = f"roc_auc {_fmt(perf)}" if perf is not None else f"est. roc_auc {_fmt(est)}"
    alert = f"  ALERT {', '.join(firing)}" if firing else ""
    return (
        f"{name} {w.start} … {w.end}  rows {w.rows}  labelled {w.labelled}  "
        f"drift {_fmt(w.metrics.get('drift.share'), '.0%')}  {auc}{alert}"
    )


@monitor_app.command("run")
def run_command(
    name: str = typer.Argument(..., help="Monitor name."),
    every: str | None = typer.Option(None, "--every", help="Run again every DURATION until Ctrl-C."),
    refresh_labels: bool = typer.Option(
        False, "--refresh-labels", help="Recompute windows whose labels arrived."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Compute the complete windows not stored yet (once, or in a loop with --every)."""
    from mlaudit.monitor.windows import parse_size

    pause = None if every is None else parse_size(every).total_seconds()
    while True:
        try:
            with _open(workspace) as ws:
                result = ws.monitors.run(name, refresh_labels=refresh_labels)
            if json:
                print_json(result.to_dict())
            else:
                for w in result.stored:
                    out.print(_line(name, w, [o.rule for o in result.outcomes[w.id] if o.firing]))
                for w in result.updated:
                    out.print(_line(name, w, []) + "  (labels updated)")
                if not result.stored and not result.updated and pause is None:
                    out.print(f"{name}: no new complete window")
                if result.retrain_requested:
                    out.print(f"{name}: retraining requested (finding opened)")
        except MLAuditError as exc:
            if pause is None:
                raise
            err.print(f"{datetime.now(UTC):%H:%M:%S} error: {exc} (trying again in {every})", markup=False)
        if pause is None:
            return
        time.sleep(pause)


@monitor_app.command("show")
def show_command(
    name: str = typer.Argument(..., help="Monitor name."),
    html: Path | None = typer.Option(
        None, "--html", help="Also write an HTML page with a time-series chart."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """The stored windows of a monitor: drift share, performance or its estimate, alerts."""
    with _open(workspace) as ws:
        mon = ws.monitors.get(name)
        windows = ws.monitors.windows(name)
    if html is not None:
        _write_html(mon, windows, html)
    if json:
        print_json({"monitor": mon.to_dict(), "windows": [w.to_dict() for w in windows]})
        return
    out.print(
        f"monitor {mon.name}: {mon.spec.version or mon.model} vs {mon.spec.reference}, "
        f"{len(windows)} window(s)"
    )
    out.print(f"{'start':<27} {'rows':>6} {'labelled':>8} {'drift':>6} {'roc_auc':>8} {'est.':>6}  status")
    for w in windows:
        m = w.metrics
        out.print(
            f"{w.start:<27} {w.rows:>6} {w.labelled:>8} {_fmt(m.get('drift.share'), '.0%'):>6} "
            f"{_fmt(m.get('performance.roc_auc')):>8} {_fmt(m.get('estimated.roc_auc')):>6}  {w.status}"
        )
    if html is not None:
        out.print(f"wrote {html}")


def _write_html(mon: Any, windows: list[Any], path: Path) -> None:
    from mlaudit.report.format import esc
    from mlaudit.report.html import page, write_html

    x = [w.start for w in windows]
    series = [
        ("drift.share", "share of features drifted"),
        ("performance.roc_auc", "ROC AUC (labels)"),
        ("estimated.roc_auc", "ROC AUC (estimated)"),
    ]
    data: list[dict[str, Any]] = [
        {
            "type": "scatter",
            "mode": "lines+markers",
            "name": label,
            "x": x,
            "y": [w.metrics.get(key) for w in windows],
        }
        for key, label in series
    ]
    alerts = [w.start for w in windows if w.status == "alert"]
    data.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "alert",
            "x": alerts,
            "y": [1.0] * len(alerts),
            "marker": {"symbol": "x", "size": 10, "color": "#b00020"},
        }
    )
    figure = {"data": data, "layout": {"height": 380, "yaxis": {"range": [0, 1.05]}, "margin": {"t": 20}}}
    rows = "".join(
        f"<tr><td>{esc(w.start)}</td><td>{w.rows}</td><td>{w.labelled}</td>"
        f"<td>{_fmt(w.metrics.get('drift.share'), '.0%')}</td>"
        f"<td>{_fmt(w.metrics.get('performance.roc_auc'))}</td>"
        f"<td>{_fmt(w.metrics.get('estimated.roc_auc'))}</td><td>{esc(w.status)}</td></tr>"
        for w in windows
    )
    body = (
        '<section><h2>Over time</h2><div id="monitor-series"></div></section>'
        "<section><h2>Windows</h2><table><thead><tr><th>start</th><th>rows</th><th>labelled</th>"
        "<th>drift</th><th>ROC AUC</th><th>estimated</th><th>status</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
        "</section>"
    )
    subtitle = f"{mon.spec.version or mon.model} vs {mon.spec.reference}"
    write_html(page(f"Monitor {mon.name}", body, {"monitor-series": figure}, subtitle=subtitle), path)


def register(app: typer.Typer) -> None:
    app.add_typer(monitor_app, name="monitor")
