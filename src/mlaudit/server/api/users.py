"""``/api/v1/users``: people and their roles (admins only). Passwords are set with
``mlaudit user password``, never through the API."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from mlaudit.governance.permissions import ROLES
from mlaudit.server.api.common import Page, PageParams, idempotent, page_params
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["router"]

router = APIRouter(prefix="/users", tags=["users"])

_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._@\-]*$"
USER = PathParam(..., min_length=1, max_length=200, pattern=_PATTERN, description="User name")
Role = Literal["viewer", "contributor", "validator", "approver", "admin", "auditor"]
assert set(Role.__args__) == set(ROLES)  # type: ignore[attr-defined]
PROJECT = r"^(\*|[A-Za-z0-9][A-Za-z0-9._\-/]*)$"


class UserOut(BaseModel):
    name: str
    display_name: str | None
    email: str | None
    disabled: bool
    created: str
    actor: str
    seq: int
    groups: list[str]
    roles: list[str] = Field(description="role (every project) or role@project")


class NewUser(BaseModel):
    model_config = {"extra": "forbid"}
    name: str = Field(min_length=1, max_length=200, pattern=_PATTERN)
    display_name: str | None = Field(None, max_length=200)
    email: str | None = Field(None, max_length=320)
    admin: bool = Field(False, description="Also grant admin on every project")


class Grant(BaseModel):
    model_config = {"extra": "forbid"}
    role: Role
    project: str = Field("*", min_length=1, max_length=200, pattern=PROJECT,
                         description="A model name, or * for every project")  # fmt: skip


@router.get("", response_model=Page[UserOut])
def list_users(
    ctx: Ctx = Depends(allow("user.manage")), page: PageParams = Depends(page_params)
) -> Page[UserOut]:
    """Every user with their groups and role bindings, by name."""
    items, total = page.slice(ctx.ws.access.users())
    return Page(items=[UserOut(**u.to_dict()) for u in items], total=total, offset=page.offset,
                limit=page.limit)  # fmt: skip


@router.get("/{name}", response_model=UserOut)
def get_user(name: str = USER, ctx: Ctx = Depends(allow("user.manage"))) -> UserOut:
    return UserOut(**ctx.ws.access.user(name).to_dict())


@router.post("", response_model=UserOut, status_code=201)
def add_user(body: NewUser, idem: Idempotency = Depends(idempotent(allow("user.manage")))) -> Any:
    """Add a user (no roles yet unless ``admin``); set their password with ``mlaudit user password``."""
    replay = idem.replay()
    if replay is not None:
        return replay
    user = idem.ctx.ws.access.add_user(body.name, body.display_name, body.email, admin=body.admin)
    return idem.remember(201, user.to_dict())


@router.post("/{name}/roles", response_model=UserOut, status_code=201)
def grant(
    body: Grant, name: str = USER, idem: Idempotency = Depends(idempotent(allow("user.manage")))
) -> Any:
    """Grant ``role`` on ``project`` (a model name, or ``*``) to the user."""
    replay = idem.replay()
    if replay is not None:
        return replay
    idem.ctx.ws.access.grant(name, body.role, body.project)
    return idem.remember(201, idem.ctx.ws.access.user(name).to_dict())


@router.delete("/{name}/roles/{role}", response_model=UserOut)
def revoke(
    name: str = USER,
    role: Role = PathParam(...),
    project: str = Query("*", min_length=1, max_length=200, pattern=PROJECT),
    idem: Idempotency = Depends(idempotent(allow("user.manage"))),
) -> Any:
    """Revoke the user's ``role`` on ``project`` (404 when they do not hold it)."""
    replay = idem.replay()
    if replay is not None:
        return replay
    idem.ctx.ws.access.revoke(name, role, project)
    return idem.remember(200, idem.ctx.ws.access.user(name).to_dict())
