"""The FastAPI application: middleware, the one JSON error shape, routers.

``create_app(target)`` opens the workspace once per process (SQLite for one person, PostgreSQL for
a team; several processes may serve one database) and mounts the API (``/api/v1``), the web UI
and its local static assets. Every route but those in :data:`PUBLIC_ROUTES` declares a permission
through :func:`mlaudit.server.deps.allow`; ``tests/server/test_route_walk.py`` enforces it.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from mlaudit import __version__
from mlaudit.config import Settings, get_settings
from mlaudit.errors import MLAuditError
from mlaudit.server.deps import ApiError
from mlaudit.store import Store, resolve

__all__ = ["PUBLIC_ROUTES", "create_app", "error_body"]

log = logging.getLogger("mlaudit.server")

# (method, path) pairs reachable without logging in: the login itself, health and static assets
PUBLIC_ROUTES = frozenset({
    ("GET", "/login"), ("POST", "/login"), ("POST", "/api/v1/auth/login"), ("GET", "/healthz"),
    ("GET", "/static/{path:path}"), ("GET", "/openapi.json"),
    ("GET", "/login/oidc"), ("GET", "/login/oidc/callback"),
})  # fmt: skip

_CODES = {400: "bad_request", 401: "unauthenticated", 403: "forbidden", 404: "not_found",
          405: "method_not_allowed", 409: "conflict", 413: "too_large", 422: "invalid_input",
          429: "rate_limited", 500: "internal_error"}  # fmt: skip

_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'"
)


def error_body(status: int, message: str, *, code: str | None = None, hint: str | None = None,
               details: Any = None, request_id: str | None = None) -> dict[str, Any]:  # fmt: skip
    """The one error shape of the API: ``{"error": {"status", "code", "message", "hint", ...}}``."""
    return {
        "error": {
            "status": status,
            "code": code or _CODES.get(status, "error"),
            "message": message,
            "hint": hint,
            "details": details,
            "request_id": request_id,
        }
    }


def create_app(
    target: str | Path | None = None,
    *,
    settings: Settings | None = None,
    store: Store | None = None,
) -> FastAPI:
    """The server application for the workspace at ``target`` (or an open ``store``)."""
    settings = settings or get_settings()
    opened = store or Store.open(resolve(target or settings.workspace), create=False, actor="server")

    @asynccontextmanager
    async def lifespan(app: FastAPI):  # type: ignore[no-untyped-def]
        _warm_up()
        yield
        if store is None:
            opened.close()

    app = FastAPI(
        title="mlaudit",
        version=__version__,
        description="Audit platform for machine-learning models: datasets, models, audits, "
        "lineage, findings, approvals and a tamper-evident ledger. Authenticate with a session "
        "(POST /api/v1/auth/login) or `Authorization: Bearer mla_…` API tokens.",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = opened
    app.state.settings = settings
    _middleware(app, settings)
    _handlers(app)

    from mlaudit.server.api import router as api_router
    from mlaudit.server.oidc import router as oidc_router
    from mlaudit.server.ui import mount as mount_ui

    app.include_router(api_router)
    app.include_router(oidc_router)
    mount_ui(app)

    @app.get("/healthz", include_in_schema=False)
    def healthz() -> dict[str, str]:
        return {"status": "ok"}

    return app


def _warm_up() -> None:
    """Import what the hot paths need before the first request, not during it (each server
    process would otherwise answer its first upload half a second late)."""
    import pyarrow.compute
    import pyarrow.parquet  # noqa: F401

    from mlaudit.governance.credentials import _hasher
    from mlaudit.monitor import predictions  # noqa: F401

    _hasher()


def _middleware(app: FastAPI, settings: Settings) -> None:
    limit = int(settings.upload_max_mb * 1024 * 1024)

    @app.middleware("http")
    async def hygiene(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        request.state.request_id = uuid.uuid4().hex[:16]
        length = request.headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > limit):
            return JSONResponse(
                error_body(
                    413,
                    f"request body over the {settings.upload_max_mb:g} MB limit",
                    hint="split the upload into batches",
                ),
                status_code=413,
            )
        response = await call_next(request)
        headers = response.headers
        headers.setdefault("Content-Security-Policy", _CSP)
        headers["X-Content-Type-Options"] = "nosniff"
        headers["X-Frame-Options"] = "DENY"
        headers["Referrer-Policy"] = "no-referrer"
        headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=()"
        headers["Cross-Origin-Opener-Policy"] = "same-origin"
        headers["X-Request-Id"] = request.state.request_id
        if request.url.scheme == "https":
            headers["Strict-Transport-Security"] = "max-age=31536000"
        if not request.url.path.startswith("/static/"):
            headers.setdefault("Cache-Control", "no-store")
        return response

    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST", "PATCH", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "Idempotency-Key", "X-CSRF-Token"],
        )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts)


def _wants_html(request: Request) -> bool:
    return (
        getattr(request.app.state, "html_pages", True)
        and not request.url.path.startswith("/api/")
        and "text/html" in request.headers.get("accept", "")
    )


def _handlers(app: FastAPI, *, html: bool = True) -> None:
    """The one error shape; with ``html`` (the team server), browsers get pages and the login
    redirect instead (the prediction gateway has no pages: ``html=False``)."""
    app.state.html_pages = html

    def rid(request: Request) -> str | None:
        return getattr(request.state, "request_id", None)

    @app.exception_handler(MLAuditError)
    async def domain_error(request: Request, exc: MLAuditError) -> Response:
        status = exc.http_status
        if status == 401 and _wants_html(request):
            return RedirectResponse(f"/login?next={request.url.path}", status_code=303)
        if _wants_html(request) and status in (403, 404):
            from mlaudit.server.ui import error_page

            return error_page(request, status, exc.message, exc.hint)
        code = exc.code if isinstance(exc, ApiError) else None
        headers = exc.headers if isinstance(exc, ApiError) else None
        body = error_body(status, exc.message, code=code, hint=exc.hint, request_id=rid(request))
        return JSONResponse(body, status_code=status, headers=headers)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> Response:
        details = [
            {"where": ".".join(str(p) for p in e.get("loc", ())), "message": e.get("msg", "")}
            for e in exc.errors()
        ]
        first = details[0] if details else {"where": "request", "message": "invalid"}
        message = f"{first['where']}: {first['message']}"
        return JSONResponse(
            error_body(422, message, details=details, request_id=rid(request)), status_code=422
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404 and _wants_html(request):
            from mlaudit.server.ui import error_page

            return error_page(request, 404, "No such page.", None)
        body = error_body(exc.status_code, str(exc.detail), request_id=rid(request))
        return JSONResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def crash(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = error_body(500, "internal error; the server log has the details", request_id=rid(request))
        return JSONResponse(body, status_code=500)


def app_from_env() -> FastAPI:
    """The app for ``uvicorn --factory mlaudit.server.app:app_from_env`` (``mlaudit serve
    --workers N``): the workspace comes from ``MLAUDIT_WORKSPACE``."""
    return create_app()
