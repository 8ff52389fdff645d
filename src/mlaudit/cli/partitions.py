"""``mlaudit data partition log | list | profile | drift``: profiles stored per time partition.

The ``partition`` group is mounted on the ``data`` group made in :mod:`mlaudit.cli.stats`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from mlaudit.errors import InputError

if TYPE_CHECKING:
    from mlaudit.partitions import Partition

__all__ = ["partition_app", "register"]

partition_app = typer.Typer(
    help="Partitioned datasets: a profile per hour/day/week/month, merged for any time range.",
    no_args_is_help=True,
)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def _range(text: str, option: str) -> tuple[str, str]:
    """``"2026-01-01..2026-02-01"`` → the two ends (checked when parsed as times)."""
    lo, sep, hi = text.partition("..")
    if not sep or not lo.strip() or not hi.strip():
        raise InputError(f"{option} expects FROM..TO, not {text!r}", hint="e.g. 2026-01-01..2026-02-01")
    return lo.strip(), hi.strip()


@partition_app.command("log")
def log_command(
    name: str = typer.Argument(..., help="Partitioned dataset name, e.g. events."),
    source: str = typer.Argument(
        ..., help="A file or glob (csv, parquet, jsonl), s3:// gs:// az:// URL, or SQLAlchemy URL."
    ),
    time_column: str = typer.Option(..., "--time-column", help="The column holding each row's time."),
    every: str = typer.Option("day", "--every", help="Partition size: hour, day, week or month (UTC)."),
    reference: str | None = typer.Option(
        None,
        "--reference",
        help="NAME@vN: take kinds and histogram bins from this dataset version (first log).",
    ),
    kind: list[str] = typer.Option(
        [],
        "--kind",
        help="COL=KIND override on the first log (numeric, categorical, boolean, datetime, text).",
    ),
    replace: bool = typer.Option(
        False, "--replace", help="Store a new revision of partitions whose rows changed."
    ),
    query: str | None = typer.Option(None, "--query", help="SQL query to run (SQLAlchemy URL sources)."),
    table: str | None = typer.Option(None, "--table", help="Table to read whole (SQLAlchemy URL sources)."),
    batch_rows: int = typer.Option(65_536, "--batch-rows", help="Rows read at a time (bounds memory)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Profile SOURCE per partition of --time-column and store each partition's profile once.

    Example: mlaudit data partition log events events.parquet --time-column ts --every day
    """
    from mlaudit.cli.stats import parse_kinds

    with _open(workspace) as ws:
        result = ws.partitions.log(
            name, source, time_column=time_column, every=every, kinds=parse_kinds(kind) or None,
            reference=reference, replace=replace, batch_rows=batch_rows, query=query, table=table,
        )  # fmt: skip
    if json:
        print_json(result.to_dict())
        return
    d = result.dataset
    out.print(
        f"{d.name}: {result.rows:,} rows in {len(result.partitions)} partition(s) by {d.time_column} every "
        f"{d.every} — {result.count('created')} created, {result.count('unchanged')} unchanged, "
        f"{result.count('replaced')} replaced"
    )
    _print_partitions(result.partitions, status=True)


@partition_app.command("list")
def list_command(
    name: str = typer.Argument(..., help="Partitioned dataset name."),
    revisions: bool = typer.Option(False, "--revisions", help="Show every revision, not only the latest."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List the stored partitions of NAME, oldest first."""
    with _open(workspace) as ws:
        ds = ws.partitions.get(name)
        parts = ws.partitions.list(name, revisions=revisions)
    if json:
        print_json({"dataset": ds.to_dict(), "partitions": [p.to_dict() for p in parts]})
        return
    out.print(f"{ds.name}: by {ds.time_column} every {ds.every}, layout {ds.layout[:19]}…")
    _print_partitions(parts, status=False)


@partition_app.command("profile")
def profile_command(
    name: str = typer.Argument(..., help="Partitioned dataset name."),
    start: str = typer.Option(..., "--from", help="Range start (ISO 8601, UTC unless an offset is given)."),
    end: str = typer.Option(..., "--to", help="Range end (exclusive)."),
    html: Path | None = typer.Option(None, "--html", help="Also write a self-contained HTML report here."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """The profile of the partitions inside [--from, --to), merged from stored profiles.

    Example: mlaudit data partition profile events --from 2026-01-01 --to 2026-02-01 --html jan.html
    """
    from mlaudit.cli.stats import render

    with _open(workspace) as ws:
        parts = ws.partitions.covering(name, start, end)
        merged = ws.partitions.profile(name, start, end)
    title = f"{name} [{start}, {end}) — {len(parts)} partition(s)"
    if html is not None:
        from mlaudit.report import profile_html, write_html

        write_html(profile_html(merged, source=title), html)
    if json:
        print_json(merged.to_dict())
        return
    out.print(render(merged, title=title))
    if html is not None:
        err.print(f"wrote {html}")


@partition_app.command("drift")
def drift_command(
    name: str = typer.Argument(..., help="Partitioned dataset name."),
    reference: str = typer.Option(..., "--reference", help="Reference range FROM..TO (ISO 8601)."),
    current: str = typer.Option(..., "--current", help="Current range FROM..TO (ISO 8601)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level after correction."),
    fail_on_drift: bool = typer.Option(False, "--fail-on-drift", help="Exit 1 when any column drifted."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Compare two time ranges of NAME on their merged profiles (histogram bins, category counts).

    Example: mlaudit data partition drift events --reference 2026-01-01..2026-02-01
    --current 2026-02-01..2026-02-08
    """
    from mlaudit.cli.drift import _print_table

    with _open(workspace) as ws:
        report = ws.partitions.drift(
            name,
            reference=_range(reference, "--reference"),
            current=_range(current, "--current"),
            alpha=alpha,
        )
    if json:
        print_json(report.to_dict())
    else:
        _print_table(report)
    if fail_on_drift and report.drifted_columns:
        raise typer.Exit(1)


def _print_partitions(parts: Sequence[Partition], *, status: bool) -> None:
    table = Table(
        "start (UTC)", "end", "rev", "rows", "fingerprint", "profile", *(("status",) if status else ())
    )
    for p in parts:
        cells = [
            p.start[:16].replace("T", " "),
            p.end[:16].replace("T", " "),
            str(p.revision),
            f"{p.rows:,}",
            p.fingerprint[:17] + "…",
            p.profile[:17] + "…",
        ]
        table.add_row(*cells, *((p.status or "",) if status else ()))
    out.print(table)


def register(app: typer.Typer) -> None:
    """Mount ``partition`` on the ``data`` group (``mlaudit data partition ...``)."""
    from mlaudit.cli.stats import data_app

    data_app.add_typer(partition_app, name="partition")
