"""``mlaudit lineage NODE``: what a model or dataset came from, or what depends on it."""

from __future__ import annotations

import sys
from enum import StrEnum

import typer

from mlaudit.cli._common import WorkspaceOpt, print_json

__all__ = ["register"]


class Format(StrEnum):
    text = "text"
    json = "json"
    dot = "dot"
    openlineage = "openlineage"


def lineage_command(
    node: str = typer.Argument(
        ...,
        help="A node id (dataset:NAME@VERSION, model:NAME@VERSION, ol:NS/NAME, run:UUID, job:NS/NAME), "
        "dataset:NAME[@vN] (latest version when omitted), or a bare model or dataset name.",
    ),
    upstream: bool = typer.Option(
        True,
        "--upstream/--downstream",
        help="Upstream: what NODE came from (default). Downstream: what was made from it (impact).",
    ),
    depth: int | None = typer.Option(
        None, "--depth", min=0, help="At most this many runs away from NODE (default: no limit)."
    ),
    as_of: str | None = typer.Option(
        None,
        "--as-of",
        help="Only edges recorded by then: an ISO date (whole day, UTC) or date-time, e.g. 2024-05-01.",
    ),
    fmt: Format = typer.Option(
        Format.text,
        "--format",
        "-f",
        help="text (a tree), json, dot (Graphviz) or openlineage (the runs as RunEvents, JSON).",
    ),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Show the lineage graph of a dataset or model version, a run or a job."""
    import mlaudit

    with mlaudit.open(workspace, create=False) as ws:
        graph = ws.lineage.graph(node, "upstream" if upstream else "downstream", depth=depth, as_of=as_of)
        if fmt is Format.openlineage:
            print_json(ws.lineage.export_openlineage(runs=sorted(graph.ids("run")), as_of=as_of))
            return
    if fmt is Format.json:
        print_json(graph.to_dict())
    elif fmt is Format.dot:
        sys.stdout.write(graph.to_dot() + "\n")
    else:
        sys.stdout.write(graph.to_text() + "\n")


def register(app: typer.Typer) -> None:
    """Add the top-level ``lineage`` command to ``app``."""
    app.command("lineage")(lineage_command)
