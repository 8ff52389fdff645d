"""``mlaudit model register | list | show``."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json

__all__ = ["register"]

model_app = typer.Typer(help="Registered models and their versions.", no_args_is_help=True)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _split(values: list[str]) -> list[str]:
    return [v.strip() for item in values for v in item.split(",") if v.strip()]


@model_app.command("register")
def register_command(
    name: str = typer.Argument(..., help="Model name, e.g. credit-risk."),
    artifact: str = typer.Argument(
        ..., help="Model file (.onnx, .pt, .keras, H2O MOJO .zip, .joblib/.pkl) or http(s):// endpoint."
    ),
    framework: str | None = typer.Option(
        None, "--framework", help="sklearn, lightgbm, xgboost, onnx, torch, keras, h2o, http."
    ),
    trust_pickle: bool = typer.Option(
        False, "--trust-pickle", help="Allow unpickling this file (only for files you trust)."
    ),
    trained_on: list[str] = typer.Option(
        [], "--trained-on", help="Dataset version it was trained on (NAME@vN)."
    ),
    features: list[str] = typer.Option(
        [], "--features", help="Feature columns (comma-separated or repeated)."
    ),
    target: str | None = typer.Option(None, "--target", help="Target column."),
    sensitive: list[str] = typer.Option([], "--sensitive", help="Sensitive attribute columns."),
    owner: str | None = typer.Option(None, "--owner", help="Accountable owner."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Register ARTIFACT as a new version of model NAME (ledger + lineage)."""
    with _open(workspace) as ws:
        result = ws.models.register(
            name,
            Path(artifact) if "://" not in artifact else artifact,
            framework=framework,
            trust_pickle=trust_pickle,
            trained_on=trained_on,
            features=_split(features) or None,
            target=target,
            sensitive=_split(sensitive),
            owner=owner,
        )
    if json:
        print_json(result.to_dict())
        return
    v = result.version
    verb = "registered" if result.created else "unchanged: same artifact as"
    out.print(f"{verb} {v.ref} ({v.framework}, {v.task or 'task unknown'}) {v.fingerprint}")
    if v.trained_on:
        out.print(f"trained on: {', '.join(v.trained_on)}")


@model_app.command("list")
def list_command(workspace: str | None = WorkspaceOpt, json: bool = JsonOpt) -> None:
    """List every registered model version."""
    with _open(workspace) as ws:
        versions = ws.models.list()
    if json:
        print_json([v.to_dict() for v in versions])
        return
    table = Table("version", "framework", "task", "status", "owner", "features", "fingerprint")
    for v in versions:
        table.add_row(
            v.ref,
            v.framework,
            v.task or "",
            v.status,
            v.owner or "",
            str(len(v.features)),
            v.fingerprint[:19] + "…",
        )
    out.print(table)


@model_app.command("show")
def show_command(
    ref: str = typer.Argument(..., help="NAME (latest), NAME@vN or NAME@<id>."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Show one model version."""
    with _open(workspace) as ws:
        v = ws.models.get(ref)
    if json:
        print_json(v.to_dict())
        return
    for key, value in v.to_dict().items():
        out.print(f"{key:>12}: {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
