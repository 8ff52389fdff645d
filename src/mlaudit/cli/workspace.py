"""``mlaudit init`` and ``mlaudit demo``."""

from __future__ import annotations

from pathlib import Path

import typer

from mlaudit.cli._common import JsonOpt, out, print_json

__all__ = ["register"]


def init_command(
    path: str = typer.Argument(
        "./.mlaudit", envvar="MLAUDIT_WORKSPACE", help="Folder (SQLite) or database URL."
    ),
    key: Path | None = typer.Option(
        None, "--key", help="Signing key file (created if missing). Needed for database URLs."
    ),
    artifacts: str | None = typer.Option(None, "--artifacts", help="Artifact store folder or URL."),
    json: bool = JsonOpt,
) -> None:
    """Create a workspace: database, signing key and the ledger's genesis event."""
    import mlaudit

    with mlaudit.open(path, create=True, signing_key=key, artifacts=artifacts) as ws:
        info = {
            "workspace": ws.location,
            "workspace_id": ws.id,
            "key_id": ws.store.meta.key_id,
            "key_file": str(ws.store.location.key_path) if ws.store.location.key_path else None,
            "events": ws.ledger.size(),
        }
    if json:
        print_json(info)
        return
    out.print(f"workspace {info['workspace']} (id {info['workspace_id']})")
    out.print(
        f"signing key {info['key_file']} (id {str(info['key_id'])[:16]}…): back it up, keep it private"
    )


def demo_command(
    out_dir: Path = typer.Option(Path("./mlaudit-demo"), "--out", help="Where to build the demo."),
    json: bool = JsonOpt,
    rows: int = typer.Option(
        20_000, "--rows", min=2_000, help="Rows per month of synthetic data.", hidden=True
    ),
) -> None:
    """Run the whole audit story on bundled synthetic data, in a fresh workspace."""
    from mlaudit.demo import run_demo

    summary = run_demo(out_dir, quiet=json, rows=rows)
    if json:
        print_json(summary)


def register(app: typer.Typer) -> None:
    app.command("init")(init_command)
    app.command("demo")(demo_command)
