"""``mlaudit user add | disable | grant | revoke | list`` and ``mlaudit group add``.

The acting user is ``MLAUDIT_USER`` (or the operating-system user). A workspace without
users is open; the first ``user add`` must be ``--admin`` and switches permission checks on.
"""

from __future__ import annotations

import typer
from rich.table import Table

from mlaudit.cli._common import JsonOpt, WorkspaceOpt, out, print_json

__all__ = ["register"]

user_app = typer.Typer(help="Users and their roles (permission checks).", no_args_is_help=True)
group_app = typer.Typer(help="Groups of users (roles can be granted to a group).", no_args_is_help=True)

ProjectOpt = typer.Option("*", "--project", "-p", help="Model name the role applies to ('*' = every model).")


def _open(workspace: str | None):  # type: ignore[no-untyped-def]
    import mlaudit

    return mlaudit.open(workspace, create=False)


@user_app.command("add")
def add_command(
    name: str = typer.Argument(..., help="User name (what MLAUDIT_USER will say)."),
    admin: bool = typer.Option(False, "--admin", help="Also grant the admin role on every model."),
    display_name: str | None = typer.Option(None, "--display-name", help="Full name."),
    email: str | None = typer.Option(None, "--email", help="E-mail address."),
    workspace: str | None = WorkspaceOpt,
    json: bool = JsonOpt,
) -> None:
    """Add a user. The first user must be --admin; from then on permissions are enforced."""
    with _open(workspace) as ws:
        first = not ws.access.enforced()
        user = ws.access.add_user(name, display_name, email, admin=admin)
    if json:
        print_json(user.to_dict())
        return
    out.print(f"added user {user.name}" + (" (admin)" if admin else ""))
    if first:
        out.print("permission checks are now on: every actor must be a user with a role")


@user_app.command("disable")
def disable_command(
    name: str = typer.Argument(..., help="User name."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Disable a user (kept for the record; may do nothing from now on)."""
    with _open(workspace) as ws:
        ws.access.disable_user(name)
    out.print(f"disabled user {name}")


@user_app.command("grant")
def grant_command(
    principal: str = typer.Argument(..., help="User name or group:NAME."),
    role: str = typer.Argument(..., help="viewer, contributor, validator, approver, admin or auditor."),
    project: str = ProjectOpt,
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Grant ROLE to PRINCIPAL on a model (or every model)."""
    with _open(workspace) as ws:
        ws.access.grant(principal, role, project)
    out.print(f"granted {role} to {principal} on {project}")


@user_app.command("revoke")
def revoke_command(
    principal: str = typer.Argument(..., help="User name or group:NAME."),
    role: str = typer.Argument(..., help="The role to take away."),
    project: str = ProjectOpt,
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Revoke ROLE from PRINCIPAL on a model (or every model)."""
    with _open(workspace) as ws:
        ws.access.revoke(principal, role, project)
    out.print(f"revoked {role} from {principal} on {project}")


@user_app.command("list")
def list_command(workspace: str | None = WorkspaceOpt, json: bool = JsonOpt) -> None:
    """List users with their groups and roles (role@model for a model-scoped grant)."""
    with _open(workspace) as ws:
        users = ws.access.users()
        open_mode = not ws.access.enforced()
    if json:
        print_json([u.to_dict() for u in users])
        return
    if open_mode:
        out.print("no users: the workspace is open (`mlaudit user add NAME --admin` to start checks)")
        return
    table = Table("user", "name", "e-mail", "groups", "roles", "status")
    for u in users:
        table.add_row(
            u.name,
            u.display_name or "",
            u.email or "",
            ", ".join(u.groups),
            ", ".join(u.roles),
            "disabled" if u.disabled else "active",
        )
    out.print(table)


@group_app.command("add")
def group_add_command(
    group: str = typer.Argument(..., help="Group name."),
    user: str = typer.Argument(..., help="User to add to it."),
    workspace: str | None = WorkspaceOpt,
) -> None:
    """Add USER to GROUP (grant roles to the group with `mlaudit user grant group:GROUP ROLE`)."""
    with _open(workspace) as ws:
        ws.access.add_to_group(group, user)
    out.print(f"added {user} to group {group}")


def register(app: typer.Typer) -> None:
    app.add_typer(user_app, name="user")
    app.add_typer(group_app, name="group")
