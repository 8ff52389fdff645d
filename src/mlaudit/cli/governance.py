"""``mlaudit finding ...``, ``mlaudit risk tier|show``, ``mlaudit inventory``, ``mlaudit gate``,
``mlaudit oversight record|list``, ``mlaudit exception grant|revoke|list``."""

from __future__ import annotations

import sys
from pathlib import Path

import typer
from rich.markup import escape
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json

__all__ = ["register"]

finding_app = typer.Typer(help="Model findings: raise, track, comment, close.", no_args_is_help=True)
risk_app = typer.Typer(help="Model risk tiers (materiality, complexity, use).", no_args_is_help=True)
oversight_app = typer.Typer(help="Human oversight: decisions on model outputs.", no_args_is_help=True)
exception_app = typer.Typer(help="Policy exceptions: accepted, expiring gate failures.", no_args_is_help=True)
_MARKS = {
    "pass": "[green]pass[/]",
    "warn": "[yellow]warn[/]",
    "waived": "[cyan]WAIVED[/]",
    "fail": "[bold red]FAIL[/]",
}


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _show_finding(f) -> None:  # type: ignore[no-untyped-def]
    version = f" {f.version_id[:12]}" if f.version_id else ""
    out.print(escape(f"{f.id}  {f.model}{version}  [{f.severity}] {f.status}: {f.title}"))
    if f.source:
        out.print(escape(f"  evidence: {f.source}"))
    for e in f.events:
        text = f" {e.text}" if e.text and e.kind != "raised" else ""
        status = f" → {e.status}" if e.status and e.kind == "status" else ""
        out.print(f"  [dim]seq {e.seq} {e.created} {escape(e.actor)}[/] {e.kind}{escape(status + text)}")


@finding_app.command("raise")
def raise_command(
    model: str = typer.Argument(..., help="Model name."),
    title: str = typer.Option(..., "--title", help="What is wrong."),
    severity: str = typer.Option(..., "--severity", help="low, medium, high or critical."),
    owner: str | None = typer.Option(None, "--owner", help="Who must deal with it."),
    due: str | None = typer.Option(None, "--due", help="Due date, YYYY-MM-DD."),
    version: str | None = typer.Option(None, "--version", help="Model version it concerns (vN)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Raise a finding on MODEL (ledgered)."""
    with _open(workspace) as ws:
        f = ws.findings.raise_(model, title, severity, owner=owner, due=due, version=version)
    if json:
        print_json(f.to_dict())
        return
    _show_finding(f)


@finding_app.command("from-audit")
def from_audit_command(
    result_id: str = typer.Argument(..., help="Id of a stored audit result (`mlaudit audit ... --json`)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Open a finding for every failed (high) or errored (medium) check of a stored audit."""
    with _open(workspace) as ws:
        opened = ws.findings.from_audit(result_id)
    if json:
        print_json([f.to_dict() for f in opened])
        return
    if not opened:
        out.print("no new findings (nothing failed, or each failed check already has a finding)")
    for f in opened:
        out.print(escape(f"{f.id}  [{f.severity}] {f.title}"))


@finding_app.command("list")
def list_command(
    model: str | None = typer.Argument(None, help="Only this model."),
    status: str | None = typer.Option(None, "--status", help="open, mitigated, accepted or closed."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List findings, oldest first."""
    with _open(workspace) as ws:
        found = ws.findings.list(model, status)
    if json:
        print_json([f.to_dict() for f in found])
        return
    table = Table("id", "model", "severity", "status", "owner", "due", "title")
    for f in found:
        cells = (f.id[:12], f.model, f.severity, f.status, f.owner or "", f.due or "", f.title)
        table.add_row(*(escape(c) for c in cells))
    out.print(table)


@finding_app.command("show")
def show_command(
    finding_id: str = typer.Argument(..., help="Finding id."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Show one finding with its history."""
    with _open(workspace) as ws:
        f = ws.findings.get(finding_id)
    if json:
        print_json(f.to_dict())
        return
    _show_finding(f)


@finding_app.command("update")
def update_command(
    finding_id: str = typer.Argument(..., help="Finding id."),
    status: str = typer.Option(..., "--status", help="mitigated, accepted, closed, or open (reopen)."),
    comment: str | None = typer.Option(None, "--comment", help="Why."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Move a finding along open → mitigated | accepted → closed (ledgered)."""
    with _open(workspace) as ws:
        f = ws.findings.update(finding_id, status, comment)
    if json:
        print_json(f.to_dict())
        return
    _show_finding(f)


@finding_app.command("comment")
def comment_command(
    finding_id: str = typer.Argument(..., help="Finding id."),
    text: str = typer.Argument(..., help="The comment."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Comment on a finding (ledgered)."""
    with _open(workspace) as ws:
        f = ws.findings.comment(finding_id, text)
    if json:
        print_json(f.to_dict())
        return
    _show_finding(f)


@risk_app.command("tier")
def tier_command(
    model: str = typer.Argument(..., help="Model name."),
    materiality: str = typer.Option(..., "--materiality", help="low, medium or high."),
    complexity: str = typer.Option(..., "--complexity", help="low, medium or high."),
    use: str = typer.Option(..., "--use", help="informational, decision-support or automated-decision."),
    method: Path | None = typer.Option(None, "--method", help="Tiering method YAML (default: built in)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Assign MODEL its risk tier from the tiering method (ledgered)."""
    with _open(workspace) as ws:
        t = ws.risk.set_tier(model, materiality=materiality, complexity=complexity, use=use, method=method)
    if json:
        print_json(t.to_dict())
        return
    out.print(
        f"{model}: tier {t.tier} (score {t.score}, method {t.inputs['method']}); "
        f"validate every {t.validation_days} days  [dim](seq {t.seq})[/]"
    )


@risk_app.command("method")
def method_command(
    method: Path | None = typer.Option(None, "--method", help="Tiering method YAML (default: built in)."),
    json: bool = JsonOpt,
) -> None:
    """Show the tiering method: points per input and the tiers."""
    from mlaudit.governance.tiering import load_method

    m = load_method(method)
    if json:
        print_json(m.model_dump())
        return
    out.print(f"{m.name} ({m.source}): {m.description}")
    for name in ("materiality", "complexity", "use"):
        points = getattr(m.points, name)
        out.print(f"  {name}: " + ", ".join(f"{k}={v}" for k, v in points.items()))
    for t in m.tiers:
        out.print(f"  tier {t.tier}: score >= {t.min_score}, validate every {t.validation_days} days")


def inventory_command(
    json: bool = JsonOpt,
    as_csv: bool = typer.Option(False, "--csv", help="Print CSV on stdout."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Every model (retired ones too): owner, tier, status, validation dates, open findings,
    active policy exceptions, oversight records (--json/--csv add inputs and upstream models)."""
    from mlaudit.governance.inventory import to_csv

    with _open(workspace) as ws:
        entries = ws.risk.inventory()
    if json:
        print_json([e.to_dict() for e in entries])
        return
    if as_csv:
        sys.stdout.write(to_csv(entries))
        return
    table = Table(
        "model",
        "owner",
        "validator",
        "tier",
        "latest",
        "status",
        "last validation",
        "next due",
        "overdue",
        "open findings",
        "exceptions",
        "oversight",
    )
    for e in entries:
        table.add_row(
            escape(e.model),
            escape(e.owner or ""),
            escape(e.validator or ""),
            str(e.tier) if e.tier else "none",
            (e.latest_version or "").removeprefix(f"{e.model}@"),
            e.status or "",
            (e.last_validation or "never")[:10],
            (e.next_validation_due or "")[:10],
            "[red]yes[/]" if e.overdue else "no",
            str(e.open_findings),
            str(len(e.exceptions)),
            str(e.overrides),
        )
    out.print(table)


def gate_command(
    ref: str = typer.Argument(..., help="MODEL (latest version) or MODEL@vN."),
    policy: Path | None = typer.Option(None, "--policy", help="Policy YAML (default: built in)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Judge a model version against the release policy; exit 0 when no rule fails (warn and
    waived do not), else 1."""
    with _open(workspace) as ws:
        report = ws.risk.gate(ref, policy)
    if json:
        print_json(report.to_dict())
    else:
        note = "" if report.tier_assigned else " (no tier assigned: strictest rules)"
        out.print(f"gate {report.ref}: policy {report.policy}, tier {report.tier}{note}")
        for r in report.results:
            out.print(f"  {_MARKS[r.status]} {escape(r.rule)}: {escape(r.message)}")
        waived = f" ({len(report.waived())} rule(s) waived by policy exceptions)" if report.waived() else ""
        out.print(
            f"[green]passed[/]{waived}"
            if report.passed
            else f"[bold red]refused[/]: {len(report.failed())} rule(s) failed"
        )
    if not report.passed:
        raise typer.Exit(1)


def _text(value: object) -> str:
    import orjson

    return orjson.dumps(value).decode()


def _json_arg(text: str, option: str) -> object:
    import orjson

    from mlaudit.errors import InputError

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        raise InputError(f"{option} is not JSON: {text!r}", hint=f"e.g. {option} '\"approve\"'") from None


@oversight_app.command("record")
def oversight_record_command(
    ref: str = typer.Argument(..., help="MODEL@vN whose output was reviewed."),
    case: str = typer.Option(..., "--case", help="Case id (application, claim, ...)."),
    output: str = typer.Option(..., "--output", help="The model output, as JSON."),
    decision: str = typer.Option(..., "--decision", help="The human decision, as JSON."),
    rationale: str = typer.Option(..., "--rationale", help="Why (required)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Record a person's decision on a model output (ledgered; an override when they differ)."""
    with _open(workspace) as ws:
        r = ws.oversight.record(
            ref, case, _json_arg(output, "--output"), _json_arg(decision, "--decision"), rationale
        )
    if json:
        print_json(r.to_dict())
        return
    what = "override" if r.overridden else "confirmed"
    out.print(
        escape(f"{r.id}  {r.ref} case {r.case_id}: {what} ({_text(r.model_output)} → {_text(r.decision)})")
    )


@oversight_app.command("list")
def oversight_list_command(
    model: str | None = typer.Argument(None, help="Only this model (or MODEL@vN)."),
    since: str | None = typer.Option(None, "--since", help="Only records from this date or time on."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List oversight records, then the override rate of each model version."""
    with _open(workspace) as ws:
        records = ws.oversight.list(model, since)
        rates = ws.oversight.rates(model, since)
    if json:
        print_json({"records": [r.to_dict() for r in records], "rates": [r.to_dict() for r in rates]})
        return
    table = Table("id", "version", "case", "output", "decision", "override", "by", "when", "rationale")
    for r in records:
        cells = (r.id[:12], r.ref, r.case_id, _text(r.model_output), _text(r.decision),
                 "yes" if r.overridden else "no", r.actor, r.created[:19], r.rationale)  # fmt: skip
        table.add_row(*(escape(c) for c in cells))
    out.print(table)
    for rate in rates:
        out.print(
            f"{escape(rate.ref)}: {rate.overrides} override(s) in {rate.records} record(s) ({rate.rate:.0%})"
        )


@exception_app.command("grant")
def exception_grant_command(
    target: str = typer.Argument(..., help="MODEL (every version) or MODEL@vN."),
    rule: str = typer.Option(..., "--rule", help="Gate rule as `mlaudit gate` names it, e.g. findings."),
    rationale: str = typer.Option(..., "--rationale", help="Why the risk is accepted."),
    expires: str = typer.Option(..., "--expires", help="Expiry date or time (ISO 8601)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Accept a failing gate rule until a date (ledgered; not by the version's makers)."""
    with _open(workspace) as ws:
        e = ws.exceptions.grant(target, rule, rationale, expires)
    if json:
        print_json(e.to_dict())
        return
    out.print(
        escape(f"exception {e.id}: {e.ref} rule {e.rule} waived until {e.expires} (granted by {e.actor})")
    )


@exception_app.command("revoke")
def exception_revoke_command(
    exception_id: str = typer.Argument(..., help="Exception id."),
    reason: str = typer.Option(..., "--reason", help="Why it ends now."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Revoke a policy exception (ledgered); the gate stops waiving its rule."""
    with _open(workspace) as ws:
        e = ws.exceptions.revoke(exception_id, reason)
    out.print(escape(f"revoked exception {e.id} ({e.ref}, rule {e.rule})"))


@exception_app.command("list")
def exception_list_command(
    model: str | None = typer.Argument(None, help="Only this model."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List policy exceptions (active, expired and revoked), oldest first."""
    from mlaudit.governance.inventory import parse_ts
    from mlaudit.store.ledger import utc_now

    with _open(workspace) as ws:
        found = ws.exceptions.list(model)
    now = parse_ts(utc_now())
    if json:
        print_json([e.to_dict() | {"active": e.active_at(now)} for e in found])
        return
    table = Table("id", "applies to", "rule", "expires", "state", "granted by", "rationale")
    for e in found:
        state = "active" if e.active_at(now) else f"revoked by {e.revoked_by}" if e.revoked else "expired"
        cells = (e.id, e.ref, e.rule, e.expires, state, e.actor, e.rationale)
        table.add_row(*(escape(c) for c in cells))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(finding_app, name="finding")
    app.add_typer(risk_app, name="risk")
    app.command("inventory")(inventory_command)
    app.command("gate")(gate_command)
    app.add_typer(oversight_app, name="oversight")
    app.add_typer(exception_app, name="exception")
