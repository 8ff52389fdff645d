"""``mlaudit model register | list | show | describe``."""

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


_FACT_HELP = "Free text; an empty string clears it."


@model_app.command("describe")
def describe_command(
    name: str = typer.Argument(..., help="Model name, e.g. credit-risk."),
    purpose: str | None = typer.Option(None, "--purpose", help="What the model is for. " + _FACT_HELP),
    intended_use: str | None = typer.Option(None, "--intended-use", help="Intended use. " + _FACT_HELP),
    out_of_scope_use: str | None = typer.Option(
        None, "--out-of-scope-use", help="Uses it must not be put to. " + _FACT_HELP
    ),
    users: str | None = typer.Option(None, "--users", help="Who uses its outputs. " + _FACT_HELP),
    limitations: str | None = typer.Option(None, "--limitations", help="Known limitations. " + _FACT_HELP),
    ethical_considerations: str | None = typer.Option(
        None, "--ethical-considerations", help="Ethical considerations. " + _FACT_HELP
    ),
    training_procedure: str | None = typer.Option(
        None, "--training-procedure", help="How it was trained. " + _FACT_HELP
    ),
    developers: str | None = typer.Option(None, "--developers", help="Who built it. " + _FACT_HELP),
    validator: str | None = typer.Option(None, "--validator", help="Independent validator. " + _FACT_HELP),
    risk_owner: str | None = typer.Option(None, "--risk-owner", help="Accountable risk owner. " + _FACT_HELP),
    from_file: Path | None = typer.Option(
        None, "--from-file", help="YAML mapping of facts (purpose: ..., intended_use: ...)."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Record documentation facts of model NAME (used by `mlaudit report`; ledgered)."""
    facts: dict[str, str | None] = {}
    if from_file is not None:
        facts.update(_facts_file(from_file))
    given = {
        "purpose": purpose,
        "intended_use": intended_use,
        "out_of_scope_use": out_of_scope_use,
        "users": users,
        "limitations": limitations,
        "ethical_considerations": ethical_considerations,
        "training_procedure": training_procedure,
        "developers": developers,
        "validator": validator,
        "risk_owner": risk_owner,
    }
    facts.update({k: v for k, v in given.items() if v is not None})
    if not facts:
        from mlaudit.errors import InputError

        raise InputError("give at least one fact (e.g. --purpose TEXT) or --from-file FILE")
    with _open(workspace) as ws:
        stored = ws.models.describe(name, **facts)
    if json:
        print_json({"model": name, "facts": {k: f.to_dict() for k, f in stored.items()}})
        return
    for key, fact in stored.items():
        out.print(f"{key.replace('_', '-'):>22}: {fact.value}  [dim](seq {fact.seq})[/]")


def _facts_file(path: Path) -> dict[str, str | None]:
    import yaml

    from mlaudit.errors import InputError

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"cannot read the facts file: {exc}", path=str(path)) from exc
    if not isinstance(data, dict):
        raise InputError("the facts file must be a YAML mapping (purpose: ...)", path=str(path))
    return {str(k).replace("-", "_"): (None if v is None else str(v).strip()) for k, v in data.items()}


@model_app.command("transition")
def transition_command(
    ref: str = typer.Argument(..., help="NAME@vN (or NAME for the latest version)."),
    to: str = typer.Argument(
        ..., help="in_validation, approved, rejected, deployed, retired or draft (withdraw)."
    ),
    reason: str | None = typer.Option(None, "--reason", "-m", help="Why (kept in the ledger)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Move a model version to another lifecycle status (checked and ledgered)."""
    with _open(workspace) as ws:
        t = ws.lifecycle.transition(ref, to, reason)
    if json:
        print_json(t.to_dict())
        return
    out.print(f"{t.ref}: {t.from_status} → {t.to_status} by {t.actor} (seq {t.seq})")


@model_app.command("approve")
def approve_command(
    ref: str = typer.Argument(..., help="NAME@vN in validation."),
    rationale: str = typer.Option(..., "--rationale", "-m", help="Why (required)."),
    decision: str = typer.Option("approve", "--decision", help="approve or reject."),
    role: str = typer.Option("validator", "--role", help="Deciding as validator or approver."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Record a maker-checker decision on a version (never by its developers or submitter)."""
    with _open(workspace) as ws:
        a = ws.lifecycle.approve(ref, decision, rationale, role)
        v = ws.models.get(ref)
    if json:
        print_json(a.to_dict() | {"ref": v.ref})
        return
    out.print(f"{a.decision} of {v.ref} by {a.actor} as {a.role} (seq {a.seq}), evidence {a.evidence}")


@model_app.command("history")
def history_command(
    ref: str = typer.Argument(..., help="NAME (every version) or NAME@vN."),
    at: str | None = typer.Option(
        None, "--at", help="Instead: which version was deployed at this time (ISO 8601)."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Lifecycle transitions of a model or version, or the version deployed at --at."""
    with _open(workspace) as ws:
        if at is not None:
            v = ws.lifecycle.deployed_at(ref.split("@", 1)[0], at)
            if json:
                print_json({"model": ref, "at": at, "deployed": v.ref if v else None})
            else:
                out.print(f"deployed at {at}: {v.ref if v else 'none'}")
            return
        steps = ws.lifecycle.history(ref)
    if json:
        print_json([t.to_dict() for t in steps])
        return
    table = Table("when", "version", "from", "to", "by", "reason", "seq")
    for t in steps:
        table.add_row(t.created, t.ref, t.from_status, t.to_status, t.actor, t.reason or "", str(t.seq))
    out.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(model_app, name="model")
