"""``mlaudit gateway MODEL[@vN]`` (serve a governed model over HTTP) and ``mlaudit gateway
compare CHAMPION CHALLENGER`` (how a shadow challenger compares on the same prediction ids)."""

from __future__ import annotations

from typing import Any

import typer
from typer.core import TyperGroup

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from mlaudit.errors import InputError

__all__ = ["register"]


class _ServeByDefault(TyperGroup):
    """``mlaudit gateway credit`` means ``mlaudit gateway serve credit``: anything that is not a
    sub-command (or help) goes to ``serve``."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["serve", *args]
        return super().parse_args(ctx, args)


gateway_app = typer.Typer(
    cls=_ServeByDefault,
    help="Serve a governed model version over HTTP (gated, logged, optional shadow challenger).",
    no_args_is_help=True,
)


@gateway_app.command("serve")
def serve_command(
    model: str = typer.Argument(..., help="NAME (its deployed version) or NAME@vN."),
    host: str = typer.Option("127.0.0.1", "--host", help="Address to listen on."),
    port: int = typer.Option(8766, "--port", help="Port."),
    shadow: str | None = typer.Option(None, "--shadow", help="Challenger NAME@vN scored on every request."),
    hash_column: list[str] = typer.Option(
        [], "--hash-column", help="Also hash this column in the log (repeatable); PII-tagged ones always are."
    ),
    recheck: float = typer.Option(60.0, "--recheck-seconds", min=1, help="How often the gate is re-checked."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Serve MODEL on POST /predict while its release gate passes (exit 1 when it does not)."""
    try:
        import uvicorn

        from mlaudit.server.gateway import create_gateway
    except ImportError as exc:
        raise InputError("the gateway needs the server extra", hint="pip install 'mlaudit[server]'") from exc
    app = create_gateway(workspace, model, shadow=shadow, hash_columns=hash_column, recheck_seconds=recheck)
    g: Any = app.state.gateway
    hashed = ", ".join(g.hasher.columns) or "none"
    extra = f", shadow {g.shadow.ref}" if g.shadow is not None else ""
    err.print(
        f"serving {g.champion.ref}{extra} on http://{host}:{port}/predict (gate passes; re-checked "
        f"every {recheck:g} s; hashed columns: {hashed}); Ctrl-C stops"
    )
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)


@gateway_app.command("compare")
def compare_command(
    champion: str = typer.Argument(..., help="Champion NAME@vN."),
    challenger: str = typer.Argument(..., help="Challenger NAME@vN."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Agreement, mean |score difference| and realised accuracy/AUC on the ids both logged."""
    import mlaudit
    from mlaudit.server.gateway_log import compare

    with mlaudit.open(workspace, create=False) as ws:
        result = compare(ws, champion, challenger)
    if json:
        print_json(result.to_dict())
        return

    def num(value: float | None) -> str:
        return "-" if value is None else f"{value:.4f}"

    out.print(f"{result.champion} vs {result.challenger}: {result.shared} shared prediction ids")
    out.print(f"  agreement            {num(result.agreement)}")
    out.print(f"  mean |score diff|    {num(result.mean_abs_score_diff)}")
    out.print(f"  labelled             {result.labelled}")
    both = ((result.champion, result.champion_metrics), (result.challenger, result.challenger_metrics))
    for name, m in both:
        out.print(f"  {name:<20} accuracy {num(m['accuracy'])}  roc_auc {num(m['roc_auc'])}")


def register(app: typer.Typer) -> None:
    app.add_typer(gateway_app, name="gateway")
