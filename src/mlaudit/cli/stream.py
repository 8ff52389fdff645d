"""``mlaudit stream consume | dead-letters``: prediction records from a message broker."""

from __future__ import annotations

from typing import Any

import typer

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json

__all__ = ["register"]

stream_app = typer.Typer(
    help="Consume predictions and labels from Redis Streams, NATS JetStream, MQTT or Kafka.",
    no_args_is_help=True,
)

_SOURCE_HELP = (
    "redis://HOST:PORT/STREAM?group=G, nats://HOST:PORT/SUBJECT?stream=S&durable=D, "
    "mqtt://HOST:PORT/TOPIC?client_id=C or kafka://HOST:PORT/TOPIC?group=G"
)


def _open(workspace: str | None) -> Any:
    import mlaudit

    return mlaudit.open(workspace, create=False)


@stream_app.command("consume")
def consume_command(
    source: str = typer.Argument(..., help=_SOURCE_HELP),
    model: str = typer.Option(..., "--model", help="Model version the predictions came from: NAME@vN."),
    labels: bool = typer.Option(False, "--labels", help="The messages are labels (prediction_id, label)."),
    batch: int = typer.Option(500, "--batch", help="Store a batch after this many messages ..."),
    max_wait_ms: int = typer.Option(500, "--max-wait-ms", help="... or this long after its first message."),
    stop_after: int | None = typer.Option(None, "--stop-after", help="Stop after this many messages."),
    idle_stop_ms: int | None = typer.Option(
        None, "--idle-stop-ms", help="Stop when no message came for this long."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Store records from SOURCE in the prediction log (at least once; stored once); Ctrl-C stops."""
    from mlaudit.monitor.streams import consume, open_source

    with _open(workspace) as ws:
        src = open_source(source, batch=batch)
        if not json:
            err.print(f"consuming {src.name} into {model} (batch {batch}, {max_wait_ms} ms)")
        stats = consume(
            ws,
            src,
            model,
            labels=labels,
            batch=batch,
            max_wait_ms=max_wait_ms,
            stop_after=stop_after,
            idle_stop_ms=idle_stop_ms,
        )
    if json:
        print_json(stats.to_dict())
        return
    out.print(
        f"{stats.messages:,} messages in {stats.batches:,} batches: {stats.stored:,} records stored, "
        f"{stats.dead_letters:,} dead letters, {stats.already_stored:,} already stored, "
        f"{stats.duplicates:,} duplicate ids"
    )


@stream_app.command("dead-letters")
def dead_letters_command(
    source: str | None = typer.Option(None, "--source", help="Only this source (as printed by consume)."),
    limit: int = typer.Option(100, "--limit", help="At most this many, newest first."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Records and messages that failed validation, with the reason."""
    from mlaudit.monitor.streams import list_dead_letters

    with _open(workspace) as ws:
        letters = list_dead_letters(ws, source=source, limit=limit)
    if json:
        print_json([d.to_dict() for d in letters])
        return
    if not letters:
        out.print("no dead letters")
    for d in letters:
        out.print(f"{d.created}  {d.source}  {d.message_id}\n    {d.reason}")


def register(app: typer.Typer) -> None:
    app.add_typer(stream_app, name="stream")
