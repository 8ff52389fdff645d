"""``mlaudit hold place|release|list`` and ``mlaudit retention plan|apply``.

Erasing one dataset version is ``mlaudit data erase`` (in :mod:`mlaudit.cli.data`).
"""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Column, Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from mlaudit.errors import InputError

__all__ = ["confirm", "register"]

hold_app = typer.Typer(help="Legal holds: keep data from erasure and retention.", no_args_is_help=True)
retention_app = typer.Typer(help="Retention periods per record type: plan and apply.", no_args_is_help=True)

PolicyOpt = typer.Option(
    None, "--policy", help="Retention policy YAML (default: the built-in one).", show_default=False
)
NowOpt = typer.Option(
    None, "--now", help="Evaluate the periods at this time (ISO 8601), e.g. to preview.", show_default=False
)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _when(ts: str | None) -> str:
    return (ts or "")[:19].replace("T", " ")


def confirm(question: str, yes: bool) -> None:
    """Go on with ``--yes``; ask on a terminal; refuse (exit 2) when nobody can answer."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise InputError(f"{question}: this cannot be undone; pass --yes to confirm")
    typer.confirm(f"{question}? This cannot be undone.", abort=True)


@hold_app.command("place")
def place_command(
    subject: str = typer.Argument(..., help="dataset:NAME, dataset:NAME@vN, model:NAME or model:NAME@vN."),
    reason: str = typer.Option(..., "--reason", help="Why (matter, ticket); recorded in the ledger."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Place a legal hold on SUBJECT: nothing it covers can be erased until it is released."""
    with _open(workspace) as ws:
        h = ws.retention.hold(subject, reason)
    if json:
        print_json(h.to_dict())
        return
    out.print(escape(f"hold {h.id} placed on {h.subject} (ledger seq {h.seq}): {h.reason}"))


@hold_app.command("release")
def release_command(
    hold_id: str = typer.Argument(..., help="Hold id (`mlaudit hold list`)."),
    reason: str = typer.Option(..., "--reason", help="Why it no longer applies; recorded in the ledger."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Release legal hold ID."""
    with _open(workspace) as ws:
        h = ws.retention.release(hold_id, reason)
    if json:
        print_json(h.to_dict())
        return
    out.print(escape(f"hold {h.id} on {h.subject} released ({reason})"))


@hold_app.command("list")
def list_command(
    all_: bool = typer.Option(False, "--all", help="Also released holds."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List the active legal holds (all of them with --all)."""
    with _open(workspace) as ws:
        holds = ws.retention.holds(active_only=not all_)
    if json:
        print_json([h.to_dict() for h in holds])
        return
    if not holds:
        out.print("no legal holds" if all_ else "no active legal holds")
        return
    table = Table(
        Column("id", no_wrap=True, min_width=32),
        Column("subject", overflow="fold"),
        "reason",
        "placed (UTC)",
        "by",
    )
    table.add_column("released")
    for h in holds:
        released = f"{_when(h.released)} by {h.released_by}" if h.released else "[bold]active[/]"
        table.add_row(h.id, escape(h.subject), escape(h.reason), _when(h.created), escape(h.actor), released)
    out.print(table)


@retention_app.command("plan")
def plan_command(
    policy: Path | None = PolicyOpt,
    now: str | None = NowOpt,
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List the records past their retention period and the holds that block their erasure."""
    with _open(workspace) as ws:
        plan = ws.retention.plan(now=now, policy=policy)
    if json:
        print_json(plan.to_dict())
        return
    out.print(f"retention policy {plan.policy} ({plan.source}) at {_when(plan.now)} UTC")
    if not plan.items:
        out.print("nothing is past its retention period")
        return
    table = Table(
        "record", Column("subject", overflow="fold"), "created (UTC)", "period ended", "action",
        Column("held by", overflow="fold"),
    )  # fmt: skip
    for i in plan.items:
        action = "[yellow]blocked[/]" if i.held_by and i.action == "erase" else i.action
        table.add_row(
            i.record, escape(i.subject), _when(i.created), i.ended[:10], action, ", ".join(i.held_by)
        )
    out.print(table)


@retention_app.command("apply")
def apply_command(
    policy: Path | None = PolicyOpt,
    now: str | None = NowOpt,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Erase the raw data past its retention period that no legal hold keeps (ledgered)."""
    confirm("erase every record past its retention period", yes)
    with _open(workspace) as ws:
        done = ws.retention.apply(now=now, policy=policy)
    if json:
        print_json(done.to_dict())
        return
    for e in done.erased:
        out.print(escape(f"erased {e.ref}: {len(e.digests)} artifact(s) (ledger seq {e.seq})"))
    for b in done.batches:
        out.print(f"erased prediction batch {b}")
    for subject, why in done.blocked:
        err.print(escape(f"kept {subject}: {why}"), highlight=False)
    if done.flagged:
        out.print(f"{len(done.flagged)} record(s) past their period are only flagged (evidence is kept)")
    if not (done.erased or done.batches or done.blocked or done.flagged):
        out.print("nothing is past its retention period")


def register(app: typer.Typer) -> None:
    app.add_typer(hold_app, name="hold")
    app.add_typer(retention_app, name="retention")
