"""``/api/v1/auth`` and ``/api/v1/tokens``: log in, who am I, API tokens."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from mlaudit.governance.permissions import ROLES
from mlaudit.server.deps import Ctx, authenticated
from mlaudit.server.login import login, logout, set_cookie

__all__ = ["router"]

router = APIRouter(tags=["auth"])


class LoginRequest(BaseModel):
    user: str = Field(min_length=1, max_length=200)
    password: str = Field(min_length=1, max_length=1000)


class LoginResponse(BaseModel):
    user: str
    csrf_token: str = Field(description="Send as X-CSRF-Token on every write made with this session")
    expires: str


class Me(BaseModel):
    user: str
    via: Literal["session", "token"]
    roles: list[str]
    scopes: list[str]


class TokenRequest(BaseModel):
    name: str = Field(min_length=1, max_length=200, description="What the token is for")
    scopes: list[Literal["read", "write", "admin"]] = Field(default=["read"])
    days: int = Field(90, ge=1, le=365)


class TokenOut(BaseModel):
    id: str
    user: str
    name: str
    scopes: list[str]
    expires: str
    revoked: str | None
    last_used: str | None
    created: str


class NewToken(TokenOut):
    token: str = Field(description="The secret: shown once, never stored")


@router.post("/auth/login", response_model=LoginResponse)
def api_login(body: LoginRequest, request: Request, response: Response) -> LoginResponse:
    """Log in with a password; sets the session cookie and returns the CSRF token."""
    cookie, session = login(request, body.user, body.password)
    set_cookie(request, response, cookie)
    return LoginResponse(user=session.user, csrf_token=session.csrf, expires=session.expires)


@router.post("/auth/logout", status_code=204, response_class=Response)
def api_logout(request: Request, ctx: Ctx = Depends(authenticated())) -> Response:
    response = Response(status_code=204)
    logout(request, response)
    return response


@router.get("/auth/me", response_model=Me)
def me(ctx: Ctx = Depends(authenticated())) -> Me:
    """The caller: user name, how they authenticated, their roles (``role`` or ``role@project``)."""
    user = ctx.ws.access.user(ctx.user)
    roles = [r for r in user.roles if r.split("@")[0] in ROLES]
    return Me(user=ctx.user, via=ctx.principal.via, roles=roles, scopes=list(ctx.principal.scopes))


@router.get("/tokens", response_model=list[TokenOut])
def list_tokens(ctx: Ctx = Depends(authenticated())) -> list[TokenOut]:
    """The caller's API tokens (never their secrets)."""
    return [TokenOut(**t.to_dict()) for t in ctx.ws.credentials.tokens()]


@router.post("/tokens", response_model=NewToken, status_code=201)
def create_token(body: TokenRequest, ctx: Ctx = Depends(authenticated())) -> NewToken:
    """A new API token for the caller; its scopes cap what the caller's roles allow."""
    if ctx.principal.via == "token" and "admin" not in ctx.principal.scopes:
        from mlaudit.errors import PermissionDenied

        raise PermissionDenied("only a session or an admin-scoped token may create tokens")
    secret, token = ctx.ws.credentials.create_token(body.name, scopes=list(body.scopes), days=body.days)
    return NewToken(token=secret, **token.to_dict())


@router.delete("/tokens/{token_id}", response_model=TokenOut)
def revoke_token(token_id: str, ctx: Ctx = Depends(authenticated())) -> TokenOut:
    """Revoke one of the caller's tokens (an admin may revoke anyone's)."""
    return TokenOut(**ctx.ws.credentials.revoke_token(token_id).to_dict())
