"""``mlaudit predictions log | labels | show``: the prediction log from the command line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json

__all__ = ["register"]

predictions_app = typer.Typer(
    help="The prediction log: model predictions and the labels that arrive later.", no_args_is_help=True
)

_FILE_HELP = "CSV, Parquet or JSON Lines file."
_KEY_HELP = "Idempotency key: sending the same batch again under it stores nothing new."


def _open(workspace: str | None) -> Any:
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _logged(result: Any, what: str, ref: str, json: bool) -> None:
    if json:
        print_json(result.to_dict())
        return
    b = result.batch
    if result.created:
        out.print(f"logged {b.rows} {what} for {ref} (batch {b.id[:12]}, seq {b.seq}, {b.artifact[:19]}…)")
    else:
        out.print(f"unchanged: batch key {b.batch_key!r} already holds these {b.rows} {what} (seq {b.seq})")


@predictions_app.command("log")
def log_command(
    model: str = typer.Argument(..., help="Model version the predictions came from: NAME@vN."),
    file: Path = typer.Argument(..., help=_FILE_HELP),
    batch_key: str | None = typer.Option(None, "--batch-key", help=_KEY_HELP),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Log the predictions in FILE (prediction_id, time, features, prediction/proba_<class>/score)."""
    with _open(workspace) as ws:
        result = ws.predictions.log(model, file, batch_key=batch_key)
    _logged(result, "predictions", model, json)


@predictions_app.command("labels")
def labels_command(
    model: str = typer.Argument(..., help="Model name."),
    file: Path = typer.Argument(..., help=_FILE_HELP),
    batch_key: str | None = typer.Option(None, "--batch-key", help=_KEY_HELP),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Log the labels in FILE (prediction_id, label, optional time), joined later by prediction id."""
    with _open(workspace) as ws:
        result = ws.predictions.log_labels(model, file, batch_key=batch_key)
    _logged(result, "labels", model, json)


@predictions_app.command("show")
def show_command(
    model: str = typer.Argument(..., help="NAME (every version) or NAME@vN."),
    since: str | None = typer.Option(None, "--since", help="Only predictions from this ISO 8601 time."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Counts, labelled fraction and time range of MODEL's logged predictions."""
    with _open(workspace) as ws:
        summary = ws.predictions.summary(model, since=since)
    if json:
        print_json(summary.to_dict())
        return
    fraction = summary.labelled_fraction
    rows = [
        ("model", summary.model),
        ("batches", f"{summary.batches:,}"),
        ("predictions", f"{summary.predictions:,} distinct ids ({summary.stored_predictions:,} rows stored)"),
        ("labels", f"{summary.stored_labels:,} rows stored, {summary.unmatched_labels:,} unmatched"),
        ("labelled", f"{summary.labelled:,}" + (f" ({fraction:.1%})" if fraction is not None else "")),
        ("time range", f"{summary.first_time or '-'} … {summary.last_time or '-'}"),
    ]
    for key, value in rows:
        out.print(f"{key:>12}: {value}")


def register(app: typer.Typer) -> None:
    app.add_typer(predictions_app, name="predictions")
