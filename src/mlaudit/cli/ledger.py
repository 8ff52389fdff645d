"""``mlaudit ledger verify | log | checkpoint | prove | consistency``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json, show_progress

__all__ = ["register"]

ledger_app = typer.Typer(help="The signed, tamper-evident audit ledger.", no_args_is_help=True)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


@ledger_app.command("verify")
def verify_command(
    checkpoint: list[Path] = typer.Option(
        [], "--checkpoint", "-c", help="An exported checkpoint file to check against (repeatable)."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Recompute the hash chain, the Merkle tree and every signature. Exit 3 if anything is off."""
    with _open(workspace) as ws:
        if show_progress(json):
            from rich.console import Console
            from rich.progress import Progress

            total = ws.ledger.size()
            with Progress(console=Console(stderr=True), transient=True) as bar:
                task = bar.add_task("verifying", total=total)
                result = ws.ledger.verify(
                    checkpoint, progress=lambda n: bar.update(task, completed=n)
                )
        else:
            result = ws.ledger.verify(checkpoint)
    if json:
        print_json(result.to_dict())
    elif result.ok:
        out.print(
            f"[green]ledger verifies[/]: {result.events} events, "
            f"{result.checkpoints_checked} checkpoint(s) checked, root {result.root}"
        )
        for note in result.notes:
            out.print(f"  note: {note}")
    else:
        out.print(f"[bold red]ledger does NOT verify[/]: first bad seq {result.first_bad_seq}")
        out.print(f"  reason: {result.reason}")
        out.print(
            f"  events checked: {result.events}, checkpoints checked: {result.checkpoints_checked}"
        )
    if not result.ok:
        raise typer.Exit(3)


@ledger_app.command("log")
def log_command(
    action: str | None = typer.Option(None, help="Only this action (end with * for a prefix)."),
    subject: str | None = typer.Option(None, help="Only events about this subject."),
    limit: int = typer.Option(50, min=1, help="How many events."),
    oldest: bool = typer.Option(False, "--oldest", help="Oldest first (default: newest first)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List ledger events."""
    with _open(workspace) as ws:
        events = ws.ledger.log(action=action, subject=subject, limit=limit, newest_first=not oldest)
    if json:
        print_json([e.to_dict() for e in events])
        return
    table = Table("seq", "time (UTC)", "actor", "action", "subject", "hash")
    for e in events:
        table.add_row(
            str(e.seq), e.ts[:19].replace("T", " "), e.actor, e.action, e.subject, e.hash[:12] + "…"
        )
    out.print(table)


@ledger_app.command("checkpoint")
def checkpoint_command(
    export: Path | None = typer.Option(
        None, "--export", help="Also write the checkpoint to this file."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Sign the ledger's current Merkle root; export it to keep a copy out of the admin's reach."""
    with _open(workspace) as ws:
        cp = ws.ledger.checkpoint(export)
    if json:
        print_json(cp.to_dict() | {"exported_to": str(export) if export else None})
        return
    out.print(
        f"checkpoint at {cp.tree_size} events, root {cp.root}, signed by key {cp.key_id[:16]}…"
    )
    if export:
        out.print(f"exported to {export}: keep it where the database admin cannot change it")


@ledger_app.command("prove")
def prove_command(
    seq: int = typer.Argument(..., help="The event's sequence number."),
    tree_size: int | None = typer.Option(
        None, "--size", help="Prove against this tree size (default: all)."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Inclusion proof that event SEQ is in the ledger's Merkle tree."""
    with _open(workspace) as ws:
        proof = ws.ledger.prove(seq, tree_size)
    ok = proof.verify()
    if json:
        print_json(proof.to_dict() | {"verified": ok})
    else:
        out.print(f"event {proof.seq} in tree of {proof.tree_size}: root {proof.root}")
        out.print(f"leaf {proof.leaf_hash}")
        for i, h in enumerate(proof.path):
            out.print(f"  path[{i}] {h}")
        out.print("[green]proof verifies[/]" if ok else "[red]proof does NOT verify[/]")
    if not ok:
        raise typer.Exit(3)


@ledger_app.command("consistency")
def consistency_command(
    old: str = typer.Argument(..., help="Old tree size, or an exported checkpoint file."),
    new: int | None = typer.Option(
        None, "--new", help="New tree size (default: the whole ledger)."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Consistency proof that the ledger at OLD is a prefix of the ledger now (nothing rewritten)."""
    from mlaudit.ledger import Checkpoint

    expected_root = None
    if old.isdigit():
        old_size = int(old)
    else:
        cp = Checkpoint.load(old)
        old_size, expected_root = cp.tree_size, cp.root
    with _open(workspace) as ws:
        proof = ws.ledger.prove_consistency(old_size, new)
    ok = proof.verify() and (expected_root is None or expected_root == proof.old_root)
    if json:
        print_json(proof.to_dict() | {"verified": ok})
    else:
        out.print(
            f"tree {proof.old_size} ({proof.old_root[:16]}…) → {proof.new_size} ({proof.new_root[:16]}…)"
        )
        out.print("[green]consistent[/]" if ok else "[red]NOT consistent[/]")
    if not ok:
        raise typer.Exit(3)


def register(app: typer.Typer) -> None:
    app.add_typer(ledger_app, name="ledger")
