"""The web UI: server-rendered pages (Jinja2) with a little local JavaScript; no CDN.

Pages call the same :class:`~mlaudit.Workspace` services as the API, through the same
:func:`~mlaudit.server.deps.allow` permission dependency. Forms post with the session's CSRF
token. Charts are Plotly figures whose JSON sits in ``<script type="application/json">`` blocks
drawn by ``static/app.js`` (the Content-Security-Policy allows no inline script).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

__all__ = ["error_page", "mount", "render", "templates"]

HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))


def render(request: Request, name: str, context: dict[str, Any], status: int = 200) -> HTMLResponse:
    """Render template ``name`` with the caller (if any) and their CSRF token in the context."""
    ctx = context.get("ctx")
    session = ctx.principal.session if ctx is not None else None
    base = {
        "request": request,
        "user": ctx.user if ctx is not None else None,
        "csrf_token": session.csrf if session is not None else "",
        "sso": _sso(request),
    }
    return templates.TemplateResponse(request, name, {**base, **context}, status_code=status)


def _sso(request: Request) -> bool:
    from mlaudit.server.oidc import enabled

    return enabled(request.app.state.settings)


def error_page(request: Request, status: int, message: str, hint: str | None) -> Response:
    """The error page, with the navigation and user name when the caller is logged in."""
    from mlaudit.errors import MLAuditError
    from mlaudit.server.deps import authenticate

    context: dict[str, Any] = {"status": status, "message": message, "hint": hint}
    try:
        principal = authenticate(request)
    except MLAuditError:
        principal = None
    if principal is not None:
        context["user"] = principal.name
        context["csrf_token"] = principal.session.csrf if principal.session is not None else ""
    return render(request, "error.html", context, status)


def mount(app: FastAPI) -> None:
    from mlaudit.server.ui import datasets, ledger, models, pages

    app.mount("/static", _Static(directory=str(HERE / "static")), name="static")
    for module in (pages, models, datasets, ledger):
        app.include_router(module.router)


class _Static(StaticFiles):
    """Local assets; ``plotly.min.js`` comes from the installed plotly package."""

    async def get_response(self, path: str, scope: Any) -> Response:
        if path == "plotly.min.js":
            from fastapi.responses import FileResponse

            return FileResponse(_plotly_js(), media_type="text/javascript",
                                headers={"Cache-Control": "public, max-age=86400"})  # fmt: skip
        return await super().get_response(path, scope)


def _plotly_js() -> Path:
    import plotly

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
