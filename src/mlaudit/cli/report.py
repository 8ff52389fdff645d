"""``mlaudit report SUBJECT --kind KIND --html|--md|--pdf FILE`` and ``mlaudit report verify FILE``.

``report SUBJECT ...`` is short for ``report make SUBJECT ...``: the group runs ``make`` when its
first argument is not one of its commands (so a model called ``verify`` needs ``report make``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from typer.core import TyperGroup

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json

__all__ = ["register"]


class _DefaultMake(TyperGroup):
    """A group whose first argument, when it is not a command name, is the subject of ``make``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:  # Typer's vendored click Context
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["make", *args]
        return super().parse_args(ctx, args)


report_app = typer.Typer(
    cls=_DefaultMake,
    help="Compliance documents (model card, datasheet, validation report, EU AI Act Annex IV), "
    "signed into the ledger: `mlaudit report SUBJECT --kind card --html FILE`.",
    no_args_is_help=True,
)


def _open(workspace: str | None) -> Any:
    import mlaudit

    return mlaudit.open(workspace, create=False)


@report_app.command("make")
def make_command(
    subject: str = typer.Argument(
        ...,
        help="A model (credit-risk, credit-risk@v2) or, for --kind datasheet, a dataset version (NAME@vN).",
    ),
    kind: str = typer.Option(..., "--kind", "-k", help="card, datasheet, validation or annex-iv."),
    html: Path | None = typer.Option(None, "--html", help="Write a self-contained HTML page."),
    md: Path | None = typer.Option(None, "--md", help="Write Markdown."),
    pdf: Path | None = typer.Option(None, "--pdf", help="Write a PDF (printed by Debian's Chromium)."),
    validator: str | None = typer.Option(None, "--validator", help="Validation report: who validated."),
    opinion: str | None = typer.Option(None, "--opinion", help="Validation report: the validator's opinion."),
    standards: str | None = typer.Option(
        None, "--standards", help="Annex IV: harmonised standards or specifications applied."
    ),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Build document KIND about SUBJECT from the workspace's evidence, write it, and record its SHA-256."""
    from mlaudit.errors import InputError

    targets = [(f, p) for f, p in (("html", html), ("md", md), ("pdf", pdf)) if p is not None]
    if len(targets) != 1:
        raise InputError("give exactly one of --html FILE, --md FILE or --pdf FILE")
    fmt, path = targets[0]
    with _open(workspace) as ws:
        made = ws.reports.generate(
            subject, kind, path, format=fmt, validator=validator, opinion=opinion, standards=standards
        )
    summary = made.document.summary()
    if json:
        print_json(made.to_dict())
        return
    for gap in made.gaps:
        err.print(f"[yellow]gap:[/] {gap}", soft_wrap=True, markup=True, highlight=False)
    out.print(
        f"wrote {made.path} ({made.kind}, {made.format}) — {summary['complete']} of "
        f"{summary['required_sections']} required sections complete, {summary['gaps']} gap(s)"
    )
    out.print(f"recorded as ledger seq {made.seq}: {made.digest}")


@report_app.command("verify")
def verify_command(
    file: Path = typer.Argument(..., help="A document written by `mlaudit report`."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Check FILE byte for byte against the ledger (exit 3 if it was edited or is unknown)."""
    with _open(workspace) as ws:
        result = ws.reports.verify(file)
    if json:
        print_json(result.to_dict())
        return
    out.print(result.message())


def register(app: typer.Typer) -> None:
    app.add_typer(report_app, name="report")
