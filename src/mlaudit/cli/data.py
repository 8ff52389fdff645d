"""``mlaudit data log | versions | show | erase``: dataset versions in a workspace.

These commands join the ``data`` group made in :mod:`mlaudit.cli.stats`.
"""

from __future__ import annotations

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json
from mlaudit.cli.stats import data_app

__all__ = ["register"]


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def log_command(
    name: str = typer.Argument(..., help="Dataset name, e.g. credit-applications."),
    source: str = typer.Argument(
        ..., help="A file or glob (csv, parquet, jsonl), s3:// gs:// az:// URL, or SQLAlchemy URL."
    ),
    query: str | None = typer.Option(None, "--query", help="SQL query to run (SQLAlchemy URL sources)."),
    table: str | None = typer.Option(None, "--table", help="Table to read whole (SQLAlchemy URL sources)."),
    unordered: bool = typer.Option(False, "--unordered", help="Fingerprint ignores row order."),
    keep_data: bool = typer.Option(False, "--keep-data", help="Also keep a Parquet snapshot as an artifact."),
    no_pii: bool = typer.Option(False, "--no-pii", help="Skip PII discovery."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Log a version of dataset NAME from SOURCE: fingerprint, schema, profile, PII; in the ledger."""
    with _open(workspace) as ws:
        result = ws.datasets.log(
            name,
            source=source,
            query=query,
            table=table,
            unordered=unordered,
            keep_data=keep_data,
            pii=not no_pii,
        )
    if json:
        print_json(result.to_dict())
        return
    v = result.version
    verb = "logged new version" if result.created else "unchanged: same content as"
    out.print(f"{verb} {v.ref} ({v.rows:,} rows × {v.columns} columns) {v.fingerprint}")
    if result.schema_change:
        ch = result.schema_change
        parts = [f"+{c}" for c in ch["added"]] + [f"-{c}" for c in ch["removed"]]
        parts += [f"{r['column']}: {r['old']} → {r['new']}" for r in ch["retyped"]]
        out.print(f"[yellow]schema changed since the previous version:[/] {', '.join(parts)}")
    for f in v.pii:
        examples = ", ".join(f.get("examples", [])[:2])
        out.print(
            f"[magenta]PII[/] {f['column']}: {f['pii_type']} (confidence {f['confidence']:.2f}) {examples}"
        )


def versions_command(
    name: str = typer.Argument(..., help="Dataset name."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List the versions of dataset NAME."""
    with _open(workspace) as ws:
        versions = ws.datasets.versions(name)
    if json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("version", "created (UTC)", "by", "rows", "cols", "fingerprint", "source", "PII", "erased")
    for v in versions:
        table.add_row(
            f"v{v.number}",
            v.created[:19].replace("T", " "),
            v.actor,
            f"{v.rows:,}",
            str(v.columns),
            v.fingerprint[:19] + "…",
            v.source or "(python)",
            ", ".join(sorted({f["pii_type"] for f in v.pii})),
            f"erased on {v.erased[:10]}" if v.erased else "",
        )
    out.print(table)


def show_command(
    ref: str = typer.Argument(..., help="NAME (latest), NAME@vN or NAME@<version id>."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Show one dataset version: schema, fingerprint, source, PII tags."""
    with _open(workspace) as ws:
        v = ws.datasets.get(ref)
    if json:
        print_json(v.to_dict())
        return
    out.print(f"[bold]{v.ref}[/] id {v.id}  {v.fingerprint}")
    out.print(f"{v.rows:,} rows × {v.columns} columns, logged {v.created} by {v.actor}, ledger seq {v.seq}")
    out.print(f"source: {v.source or '(python)'}" + (f"  query: {v.query}" if v.query else ""))
    if v.erased:
        out.print(f"[yellow]raw data erased on {v.erased}[/] (see `mlaudit data erase {v.ref}`)")
    table = Table("column", "type", "PII")
    pii = {f["column"]: f"{f['pii_type']} ({f['confidence']:.2f})" for f in v.pii}
    for field in v.schema:
        table.add_row(field["name"], field["type"], pii.get(field["name"], ""))
    out.print(table)


def erase_command(
    ref: str = typer.Argument(..., help="NAME@vN: the dataset version whose raw data to erase."),
    reason: str = typer.Option(
        ..., "--reason", help="Why (e.g. the erasure request); recorded in the ledger."
    ),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Erase the kept data snapshot and stored profile of REF (right to erasure; ledgered).

    The fingerprint, schema and row count stay, and the ledger still verifies. Refused while a
    legal hold covers the version (`mlaudit hold list`).
    """
    from mlaudit.cli.retention import confirm

    confirm(f"erase the raw data of {ref}", yes)
    with _open(workspace) as ws:
        e = ws.retention.erase(ref, reason)
    if json:
        print_json(e.to_dict())
        return
    if e.already:
        out.print(f"{e.ref} was already erased on {e.created} by {e.actor}: {e.reason}")
        return
    out.print(f"erased the raw data of {e.ref}: {len(e.digests)} artifact(s) removed (ledger seq {e.seq})")
    for d in e.digests:
        out.print(f"  {d}")


def register(app: typer.Typer) -> None:
    """Add log/versions/show/erase to the ``data`` group (mounted by :mod:`mlaudit.cli.stats`)."""
    data_app.command("log")(log_command)
    data_app.command("versions")(versions_command)
    data_app.command("show")(show_command)
    data_app.command("erase")(erase_command)
