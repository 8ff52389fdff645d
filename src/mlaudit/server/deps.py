"""Who is calling and may they: the dependencies every route goes through.

A request is authenticated by a session cookie (the web UI) or an ``Authorization: Bearer``
API token. :func:`allow` builds the one dependency a route declares: it authenticates, checks the
token's scope and the user's roles for the action (on the project named by a path parameter),
checks the CSRF token of cookie-authenticated writes, logs denials, and hands the route a
:class:`Ctx` with a :class:`~mlaudit.Workspace` acting as the caller. The route walk test finds
the action on every route through :data:`ACTION_ATTR`.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

import orjson
import sqlalchemy as sa
from fastapi import Request
from starlette.responses import JSONResponse

from mlaudit.config import Settings
from mlaudit.errors import MLAuditError, PermissionDenied
from mlaudit.governance.credentials import Credentials, Session, token_allows
from mlaudit.store import Store
from mlaudit.store.ledger import utc_now
from mlaudit.store.tables import idempotency_keys
from mlaudit.workspace import Workspace

__all__ = ["ACTION_ATTR", "SESSION_COOKIE", "ApiError", "Ctx", "Principal", "allow", "client_of"]

SESSION_COOKIE = "mlaudit_session"
ACTION_ATTR = "mlaudit_action"
_UNSAFE = frozenset({"POST", "PUT", "PATCH", "DELETE"})


class ApiError(MLAuditError):
    """An HTTP error with the one JSON error shape (401, 429, CSRF failures, ...)."""

    def __init__(self, status: int, code: str, message: str, *, hint: str | None = None,
                 headers: dict[str, str] | None = None) -> None:  # fmt: skip
        super().__init__(message, hint=hint)
        self.http_status = status
        self.code = code
        self.headers = headers or {}


@dataclass(frozen=True)
class Principal:
    name: str
    via: str  # "session" | "token"
    scopes: tuple[str, ...] = ()
    session: Session | None = None


@dataclass
class Ctx:
    """What a route gets: the caller and a workspace acting as them."""

    principal: Principal
    ws: Workspace
    request: Request

    @property
    def user(self) -> str:
        return self.principal.name


def store_of(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def client_of(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def authenticate(request: Request) -> Principal:
    """The caller, from a bearer token or the session cookie; 401 when neither is valid."""
    creds = Credentials(store_of(request), "server")
    header = request.headers.get("authorization", "")
    if header:
        kind, _, secret = header.partition(" ")
        found = creds.authenticate_token(secret.strip()) if kind.lower() == "bearer" else None
        if found is None:
            creds.log_event("token_rejected", None, client_of(request), request.url.path)
            raise ApiError(401, "unauthenticated", "the API token is unknown, expired or revoked",
                           headers={"WWW-Authenticate": 'Bearer error="invalid_token"'})  # fmt: skip
        return Principal(found[0], "token", tuple(found[1]))
    cookie = request.cookies.get(SESSION_COOKIE)
    session = creds.session(cookie) if cookie else None
    if session is None:
        raise ApiError(401, "unauthenticated", "log in or send an API token",
                       hint="POST /api/v1/auth/login, or Authorization: Bearer mla_…",
                       headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
    return Principal(session.user, "session", ("admin",), session)


async def check_csrf(request: Request, principal: Principal) -> None:
    """Cookie-authenticated writes must echo the session's CSRF token (header or form field)."""
    if principal.session is None or request.method not in _UNSAFE:
        return
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(
        ("application/x-www-form-urlencoded", "multipart/form-data")
    ):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not sent or not hmac.compare_digest(sent, principal.session.csrf):
        raise ApiError(403, "csrf_failed", "missing or wrong CSRF token",
                       hint="send the X-CSRF-Token header with the token from login or the page")  # fmt: skip


def allow(action: str, project: str | None = None) -> Callable[[Request], Coroutine[Any, Any, Ctx]]:
    """The dependency of a route that performs ``action``; ``project`` names the path parameter
    holding the model (project) name, e.g. ``"name"`` for ``/models/{name}``."""

    async def dependency(request: Request) -> Ctx:
        principal = authenticate(request)
        await check_csrf(request, principal)
        store = store_of(request)
        scope = None if project is None else str(request.path_params.get(project, "")).split("@")[0]
        ws = Workspace(store, principal.name)
        try:
            if principal.via == "token" and not token_allows(list(principal.scopes), action):
                raise PermissionDenied(
                    f"this token (scopes: {', '.join(principal.scopes)}) may not {action}",
                    hint="create a token with a wider scope",
                )
            ws.access.require(action, scope or None)
        except PermissionDenied as exc:
            ws.credentials.log_event("denied", principal.name, client_of(request),
                                     f"{request.method} {request.url.path}: {action}")  # fmt: skip
            raise exc
        return Ctx(principal, ws, request)

    setattr(dependency, ACTION_ATTR, action)
    return dependency


def authenticated() -> Callable[[Request], Coroutine[Any, Any, Ctx]]:
    """For routes about the caller themself (their tokens, logging out): any logged-in user."""

    async def dependency(request: Request) -> Ctx:
        principal = authenticate(request)
        await check_csrf(request, principal)
        return Ctx(principal, Workspace(store_of(request), principal.name), request)

    setattr(dependency, ACTION_ATTR, "self")
    return dependency


class Idempotency:
    """``Idempotency-Key`` on writes: the first response is stored and replayed for the same key
    and body; the same key with another body is refused (422)."""

    def __init__(self, ctx: Ctx, body: bytes) -> None:
        self.ctx = ctx
        self.key = ctx.request.headers.get("idempotency-key")
        self.request_hash = hashlib.sha256(
            ctx.request.method.encode() + b" " + ctx.request.url.path.encode() + b"\n" + body
        ).hexdigest()

    def replay(self) -> JSONResponse | None:
        if not self.key:
            return None
        with store_of(self.ctx.request).read() as conn:
            row = conn.execute(
                sa.select(idempotency_keys).where(
                    idempotency_keys.c.key == self.key, idempotency_keys.c.principal == self.ctx.user
                )
            ).one_or_none()
        if row is None:
            return None
        status, body = row.status, row.body
        if row.request_hash != self.request_hash:
            raise ApiError(422, "idempotency_key_reused",
                           f"Idempotency-Key {self.key!r} was used for a different request")  # fmt: skip
        return JSONResponse(orjson.loads(body), status_code=status, headers={"Idempotent-Replay": "true"})

    def remember(self, status: int, body: Any) -> JSONResponse:
        response = JSONResponse(body, status_code=status)
        if self.key:
            values = dict(key=self.key[:200], principal=self.ctx.user, request_hash=self.request_hash,
                          status=status, body=bytes(response.body).decode(), created=utc_now())  # fmt: skip
            try:
                with store_of(self.ctx.request).engine.begin() as conn:
                    conn.execute(sa.insert(idempotency_keys).values(**values))
            except sa.exc.IntegrityError:  # a concurrent request with the same key won the race
                pass
        return response
