"""``ws.access``: users, groups, role bindings and the one permission check (``require``).

Bootstrap rule. A workspace with **no users** is in single-user *open* mode: every actor may
do everything (so ``mlaudit demo`` and existing scripts keep working). The first user must be
an admin (``mlaudit user add NAME --admin``); from then on enforcement is on and deny by
default: the acting user (``MLAUDIT_USER`` or the operating-system user, see
:func:`mlaudit.config.current_actor`) needs a role that :data:`~.permissions.PERMISSIONS`
allows for the action, granted to them directly or to one of their groups, for the project
(the model name) or for every project (``"*"``). An unknown or disabled user may do nothing.
An action missing from the table is refused even in open mode.

Every change is a ledger event in the same transaction as its row: ``user.added``,
``user.disabled``, ``group.member_added``, ``role.granted``, ``role.revoked``. Nobody can lock
the workspace out of its own administration: disabling the last enabled admin, or revoking
the last grant that makes an enabled user an admin, is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from mlaudit.errors import InputError, NotFound, PermissionDenied
from mlaudit.governance.permissions import PERMISSIONS, ROLES, allowed, roles_for
from mlaudit.store import Store
from mlaudit.store.tables import group_members, role_bindings, users

__all__ = ["Access", "User", "admins", "project_of", "require"]

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@\-]{0,199}$")


@dataclass(frozen=True)
class User:
    name: str
    display_name: str | None
    email: str | None
    disabled: bool
    created: str
    actor: str
    seq: int
    groups: list[str] = field(default_factory=list)
    roles: list[str] = field(default_factory=list)  # "role" or "role@project"

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _principal(text: str) -> str:
    """``"alice"`` / ``"user:alice"`` → ``"user:alice"``; ``"group:risk"`` stays."""
    kind, _, name = text.partition(":") if ":" in text else ("user", "", text)
    if kind not in ("user", "group") or not _NAME.match(name):
        raise InputError(f"not a principal: {text!r}", hint="a user name or group:NAME")
    return f"{kind}:{name}"


def project_of(subject: str | None) -> str | None:
    """The project (model name) of a subject: ``"credit@v2"``/``"model:credit@…"`` → ``"credit"``;
    None for subjects of another kind (``"dataset:…"``)."""
    if not subject:
        return None
    kind, sep, rest = subject.partition(":")
    if sep and kind != "model":
        return None
    return (rest if sep else subject).split("@", 1)[0] or None


def enforced(conn: Connection) -> bool:
    """Whether the workspace has users (and so enforces permissions)."""
    return conn.execute(sa.select(users.c.name).limit(1)).first() is not None


def roles_of(conn: Connection, user: str, project: str | None = None) -> set[str]:
    """Roles of ``user`` for ``project`` (``None``: only grants for every project), direct and
    via groups."""
    groups = conn.execute(
        sa.select(group_members.c.group_name).where(group_members.c.user_name == user)
    ).scalars()
    principals = [f"user:{user}", *(f"group:{g}" for g in groups)]
    projects = ["*"] if project in (None, "*") else ["*", project]
    rows = conn.execute(
        sa.select(role_bindings.c.role).where(
            role_bindings.c.principal.in_(principals), role_bindings.c.project.in_(projects)
        )
    ).scalars()
    return set(rows)


def admins(
    conn: Connection, *, without_user: str | None = None, without_binding: str | None = None
) -> set[str]:
    """Enabled users holding ``admin`` on every project (directly or via a group), leaving out
    user ``without_user`` and the admin grant to principal ``without_binding``."""
    held = set(
        conn.execute(
            sa.select(role_bindings.c.principal).where(
                role_bindings.c.role == "admin", role_bindings.c.project == "*"
            )
        ).scalars()
    ) - {without_binding}
    enabled = set(conn.execute(sa.select(users.c.name).where(sa.not_(users.c.disabled))).scalars())
    enabled.discard(without_user)
    found = {u for u in enabled if f"user:{u}" in held}
    for m in conn.execute(sa.select(group_members)):
        if m.user_name in enabled and f"group:{m.group_name}" in held:
            found.add(m.user_name)
    return found


def _keep_an_admin(conn: Connection, what: str, **without: str) -> None:
    if admins(conn) and not admins(conn, **without):
        raise InputError(
            f"refusing to {what}: the workspace would have no enabled admin left",
            hint="grant admin to another user first (`mlaudit user grant NAME admin`)",
        )


def require(store: Store, actor: str, action: str, project: str | None = None) -> None:
    """Raise :class:`PermissionDenied` unless ``actor`` may do ``action`` (see module doc)."""
    if action not in PERMISSIONS:
        raise PermissionDenied(
            f"{action!r} is not in the permission table, so nobody may do it (deny by default)"
        )
    with store.read() as conn:
        if not enforced(conn):
            return
        row = conn.execute(sa.select(users).where(users.c.name == actor)).one_or_none()
        have = roles_of(conn, actor, project) if row is not None and not row.disabled else set()
    where = f" on project {project!r}" if project not in (None, "*") else ""
    need = ", ".join(roles_for(action))
    if row is None:
        raise PermissionDenied(
            f"{actor!r} is not a user of this workspace and may not {action}{where}",
            hint=f"an admin can run `mlaudit user add {actor}` and grant one of: {need}",
        )
    if row.disabled:
        raise PermissionDenied(f"user {actor!r} is disabled and may not {action}{where}")
    if not allowed(action, have):
        held = ", ".join(sorted(have)) or "none"
        raise PermissionDenied(
            f"user {actor!r} (roles: {held}) may not {action}{where}",
            hint=f"roles that may: {need}",
        )


class Access:
    """Identity and permissions of one workspace (``ws.access``)."""

    def __init__(self, store: Store, actor: str) -> None:
        self._store = store
        self._actor = actor

    @property
    def actor(self) -> str:
        return self._actor

    def enforced(self) -> bool:
        """False while the workspace has no users (open mode)."""
        with self._store.read() as conn:
            return enforced(conn)

    def require(self, action: str, project: str | None = None) -> None:
        """Raise :class:`PermissionDenied` unless the acting user may do ``action``."""
        require(self._store, self._actor, action, project)

    def can(self, action: str, project: str | None = None) -> bool:
        try:
            self.require(action, project)
        except PermissionDenied:
            return False
        return True

    def roles(self, user: str | None = None, project: str | None = None) -> set[str]:
        """Roles of ``user`` (default: the acting user) for ``project`` (direct + via groups)."""
        with self._store.read() as conn:
            return roles_of(conn, user or self._actor, project)

    def add_user(
        self,
        name: str,
        display_name: str | None = None,
        email: str | None = None,
        *,
        admin: bool = False,
    ) -> User:
        """Add a user; ``admin=True`` also grants ``admin`` on every project. The first user
        of a workspace must be an admin (that switches enforcement on)."""
        if not _NAME.match(name):
            raise InputError(f"not a usable user name: {name!r}")
        if self.enforced():
            self.require("user.manage")
        elif not admin:
            raise InputError(
                "the first user of a workspace must be an admin",
                hint=f"`mlaudit user add {name} --admin`; adding it turns permission checks on",
            )
        with self._store.write(self._actor) as tx:
            if tx.conn.execute(sa.select(users.c.name).where(users.c.name == name)).first():
                raise InputError(f"user {name!r} already exists")
            event = tx.record(
                "user.added",
                f"user:{name}",
                {"name": name, "display_name": display_name, "email": email, "admin": admin},
            )
            tx.conn.execute(
                sa.insert(users).values(
                    name=name,
                    display_name=display_name,
                    email=email,
                    disabled=False,
                    created=event.ts,
                    actor=self._actor,
                    seq=event.seq,
                )
            )
            if admin:
                self._bind(tx, f"user:{name}", "admin", "*")
        return self.user(name)

    def disable_user(self, name: str) -> User:
        self.require("user.manage")
        with self._store.write(self._actor) as tx:
            self._user_row(tx.conn, name)
            _keep_an_admin(tx.conn, f"disable {name!r}", without_user=name)
            tx.record("user.disabled", f"user:{name}", {"name": name})
            tx.conn.execute(sa.update(users).where(users.c.name == name).values(disabled=True))
        return self.user(name)

    def add_to_group(self, group: str, user: str) -> None:
        if not _NAME.match(group):
            raise InputError(f"not a usable group name: {group!r}")
        self.require("user.manage")
        with self._store.write(self._actor) as tx:
            self._user_row(tx.conn, user)
            where = (group_members.c.group_name == group) & (group_members.c.user_name == user)
            if tx.conn.execute(sa.select(group_members).where(where)).first():
                return
            event = tx.record("group.member_added", f"group:{group}", {"group": group, "user": user})
            tx.conn.execute(
                sa.insert(group_members).values(
                    group_name=group, user_name=user, created=event.ts, actor=self._actor, seq=event.seq
                )
            )

    def grant(self, principal: str, role: str, project: str = "*") -> None:
        """Grant ``role`` to ``principal`` (``"alice"`` or ``"group:risk"``) on ``project``."""
        who = _principal(principal)
        self.require("user.manage")
        with self._store.write(self._actor) as tx:
            if who.startswith("user:"):
                self._user_row(tx.conn, who[5:])
            self._bind(tx, who, role, project)

    def revoke(self, principal: str, role: str, project: str = "*") -> None:
        who = _principal(principal)
        self.require("user.manage")
        with self._store.write(self._actor) as tx:
            where = (
                (role_bindings.c.principal == who)
                & (role_bindings.c.role == role)
                & (role_bindings.c.project == project)
            )
            if tx.conn.execute(sa.select(role_bindings).where(where)).first() is None:
                raise NotFound(f"{who} does not hold {role} on {project!r}")
            if role == "admin" and project == "*":
                _keep_an_admin(tx.conn, f"revoke admin from {who}", without_binding=who)
            tx.record("role.revoked", who, {"principal": who, "role": role, "project": project})
            tx.conn.execute(sa.delete(role_bindings).where(where))

    def user(self, name: str) -> User:
        found = [u for u in self.users() if u.name == name]
        if not found:
            raise NotFound(f"no user {name!r}", hint="see `mlaudit user list`")
        return found[0]

    def users(self) -> list[User]:
        """Every user with their groups and role bindings."""
        with self._store.read() as conn:
            rows = conn.execute(sa.select(users).order_by(users.c.name)).all()
            members = conn.execute(sa.select(group_members)).all()
            binds = conn.execute(sa.select(role_bindings)).all()
        out = []
        for r in rows:
            groups = sorted(m.group_name for m in members if m.user_name == r.name)
            mine = {f"user:{r.name}", *(f"group:{g}" for g in groups)}
            roles = sorted(
                b.role if b.project == "*" else f"{b.role}@{b.project}" for b in binds if b.principal in mine
            )
            out.append(
                User(r.name, r.display_name, r.email, bool(r.disabled), r.created, r.actor, int(r.seq),
                     groups, sorted(set(roles)))
            )  # fmt: skip
        return out

    def _bind(self, tx: Any, principal: str, role: str, project: str) -> None:
        if role not in ROLES:
            raise InputError(f"unknown role {role!r}", hint=f"roles: {', '.join(ROLES)}")
        if not project or (project != "*" and "@" in project):
            raise InputError(f"not a project (model name or '*'): {project!r}")
        where = (
            (role_bindings.c.principal == principal)
            & (role_bindings.c.role == role)
            & (role_bindings.c.project == project)
        )
        if tx.conn.execute(sa.select(role_bindings).where(where)).first() is not None:
            return
        event = tx.record(
            "role.granted", principal, {"principal": principal, "role": role, "project": project}
        )
        tx.conn.execute(
            sa.insert(role_bindings).values(
                principal=principal,
                role=role,
                project=project,
                created=event.ts,
                actor=self._actor,
                seq=event.seq,
            )
        )

    @staticmethod
    def _user_row(conn: Connection, name: str) -> Any:
        row = conn.execute(sa.select(users).where(users.c.name == name)).one_or_none()
        if row is None:
            raise NotFound(f"no user {name!r}", hint=f"add it with `mlaudit user add {name}`")
        return row
