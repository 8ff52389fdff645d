"""``mlaudit serve``, ``mlaudit user password`` and ``mlaudit token create | list | revoke``."""

from __future__ import annotations

import os

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, err, out, print_json
from mlaudit.cli.access import user_app
from mlaudit.errors import InputError

__all__ = ["register"]

token_app = typer.Typer(help="API tokens for scripts and CI (Authorization: Bearer).", no_args_is_help=True)


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


def serve_command(
    host: str | None = typer.Option(None, "--host", help="Address to listen on [default: 127.0.0.1]."),
    port: int | None = typer.Option(None, "--port", help="Port [default: 8765]."),
    workers: int = typer.Option(1, "--workers", min=1, max=64, help="Server processes."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Serve the REST API (/api/v1, schema at /openapi.json) and the web UI."""
    try:
        import uvicorn

        from mlaudit.server import create_app
    except ImportError as exc:
        raise InputError("the server needs its extra", hint="pip install 'mlaudit[server]'") from exc
    from mlaudit.config import get_settings

    settings = get_settings()
    with _open(workspace) as ws:
        people = [u for u in ws.access.users() if not u.disabled]
        location = ws.location
    if not people:
        raise InputError(
            "this workspace has no users, so nobody could log in",
            hint="create an admin first: `mlaudit user add NAME --admin` then `mlaudit user password NAME`",
        )
    bind_host = host or settings.server_host
    bind_port = port or settings.server_port
    err.print(f"serving {location} on http://{bind_host}:{bind_port} (API docs: /openapi.json); Ctrl-C stops")
    if workers == 1:
        uvicorn.run(create_app(workspace), host=bind_host, port=bind_port, log_level="info",
                    proxy_headers=False, server_header=False)  # fmt: skip
        return
    if workspace:
        os.environ["MLAUDIT_WORKSPACE"] = workspace
    uvicorn.run("mlaudit.server.app:app_from_env", factory=True, host=bind_host, port=bind_port,
                workers=workers, log_level="info", proxy_headers=False, server_header=False)  # fmt: skip


@user_app.command("password")
def password_command(
    name: str = typer.Argument(..., help="User name (yourself, or anyone if you are an admin)."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Set a user's password for the web UI and API login (asked twice, never echoed; from
    MLAUDIT_NEW_PASSWORD when not on a terminal). Ends the user's open sessions."""
    import sys

    secret = os.environ.get("MLAUDIT_NEW_PASSWORD")
    if secret is None:
        if not sys.stdin.isatty():
            raise InputError("no terminal to ask for the password", hint="set MLAUDIT_NEW_PASSWORD")
        secret = typer.prompt("new password", hide_input=True, confirmation_prompt=True)
    with _open(workspace) as ws:
        ws.credentials.set_password(name, secret)
    out.print(f"password set for {name}")


@token_app.command("create")
def token_create(
    name: str = typer.Argument(..., help="What the token is for, e.g. 'ci-gate'."),
    scope: list[str] = typer.Option(["read"], "--scope", help="read, write or admin (repeatable)."),
    days: int = typer.Option(90, "--days", help="Days until it expires (at most 365)."),
    user: str | None = typer.Option(None, "--user", help="Owner (admins only; default: you)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Create an API token. The secret is printed once and never stored."""
    with _open(workspace) as ws:
        secret, token = ws.credentials.create_token(name, scopes=scope, days=days, user=user)
    if json:
        print_json({**token.to_dict(), "token": secret})
        return
    out.print(secret)
    err.print(f"token {token.id} for {token.user}, scopes {', '.join(token.scopes)}, expires {token.expires}")
    err.print("the secret above is shown once: store it now (e.g. as a CI secret)")


@token_app.command("list")
def token_list(
    user: str | None = typer.Option(None, "--user", help="Whose tokens (admins only; default: yours)."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """List API tokens (never their secrets)."""
    with _open(workspace) as ws:
        tokens = ws.credentials.tokens(user)
    if json:
        print_json([t.to_dict() for t in tokens])
        return
    table = Table("id", "name", "scopes", "expires", "revoked", "last used")
    for t in tokens:
        table.add_row(t.id, t.name, ",".join(t.scopes), t.expires[:19], (t.revoked or "")[:19],
                      (t.last_used or "")[:19])  # fmt: skip
    out.print(table)


@token_app.command("revoke")
def token_revoke(
    token_id: str = typer.Argument(..., help="Token id (from `mlaudit token list`)."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Revoke an API token at once."""
    with _open(workspace) as ws:
        token = ws.credentials.revoke_token(token_id)
    out.print(f"revoked token {token.id} ({token.name}) of {token.user}")


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
    app.add_typer(token_app, name="token")
