"""``mlaudit alert list | deliver``: monitor alerts and the delivery of their notifications."""

from __future__ import annotations

from typing import Any

import typer

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from mlaudit.errors import InputError

__all__ = ["register"]

alert_app = typer.Typer(help="Alerts raised by monitors, and their notifications.", no_args_is_help=True)


def _open(workspace: str | None) -> Any:
    import mlaudit

    return mlaudit.open(workspace, create=False)


@alert_app.command("list")
def list_command(
    monitor: str | None = typer.Option(None, "--monitor", help="Only this monitor's alerts."),
    state: str | None = typer.Option(None, "--state", help="firing or resolved."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Alerts, newest first, with their notification status."""
    if state is not None and state not in ("firing", "resolved"):
        raise InputError(f"unknown alert state {state!r}", hint="--state firing or --state resolved")
    with _open(workspace) as ws:
        items = [(a, ws.alerts.notifications(a.id)) for a in ws.alerts.list(monitor=monitor, state=state)]
    if json:
        print_json([a.to_dict() | {"notifications": [n.to_dict() for n in ns]} for a, ns in items])
        return
    if not items:
        out.print("no alerts")
        return
    for a, ns in items:
        value = "-" if a.value is None else f"{a.value:.6g}"
        when = f"opened {a.opened}" + (f", resolved {a.resolved}" if a.resolved else "")
        out.print(f"{a.id[:12]}  {a.state:<8} {a.monitor} / {a.rule}  value {value}  {when}")
        if a.message:
            out.print(f"              {a.message}")
        for n in ns:
            tail = f" ({n.last_error})" if n.last_error and n.status != "sent" else ""
            if n.status == "pending" and n.next_attempt:
                tail += f", next try {n.next_attempt}"
            out.print(
                f"              {n.kind:<8} {n.channel}:{n.to_dict()['target']}  {n.status}, "
                f"{n.attempts} attempt{'s' if n.attempts != 1 else ''}{tail}"
            )


@alert_app.command("deliver")
def deliver_command(
    max_attempts: int = typer.Option(8, "--max-attempts", min=1, help="Give up on a notice after this many."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Send the notifications that are due (run it from cron or a scheduler; safe to run twice at once)."""
    with _open(workspace) as ws:
        report = ws.alerts.deliver(max_attempts=max_attempts)
    if json:
        print_json(report.to_dict())
        return
    out.print(f"sent {len(report.sent)}, failed {len(report.failed)}, to retry {len(report.retrying)}")
    for nid, error in report.errors.items():
        out.print(f"  {nid[:12]}: {error}")


def register(app: typer.Typer) -> None:
    app.add_typer(alert_app, name="alert")
