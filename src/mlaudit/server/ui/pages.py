"""Page routes of the web UI. Each page declares its permission like an API route does."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlaudit.errors import MLAuditError
from mlaudit.governance.findings import OPEN_STATUSES
from mlaudit.governance.identity import project_of
from mlaudit.server.deps import Ctx, allow, authenticated
from mlaudit.server.login import login, logout, set_cookie
from mlaudit.server.ui import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
BLOCKING = ("high", "critical")  # open findings of these severities are listed as alerts


def _safe_next(target: str | None) -> str:
    """Only same-site paths: never redirect a fresh login to another host."""
    if not target or not target.startswith("/") or urlsplit(target).netloc:
        return "/"
    if target[1:2] in ("/", "\\") or any(c in target for c in "\\\r\n\t"):
        return "/"  # "//host" and "/\\host" are other hosts to a browser
    return target


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str | None = None) -> Response:
    return render(request, "login.html", {"next": _safe_next(next), "error": None})


@router.post("/login", response_class=HTMLResponse)
def login_form(
    request: Request,
    user: str = Form(..., max_length=200),
    password: str = Form(..., max_length=1000),
    next: str = Form("/", max_length=500),
) -> Response:
    try:
        cookie, _ = login(request, user, password)
    except MLAuditError as exc:
        status = exc.http_status
        context = {"next": _safe_next(next), "error": exc.message, "user_name": user}
        return render(request, "login.html", context, status)
    response = RedirectResponse(_safe_next(next), status_code=303)
    set_cookie(request, response, cookie)
    return response


@router.post("/logout")
def logout_form(request: Request, ctx: Ctx = Depends(authenticated())) -> Response:
    response = RedirectResponse("/login", status_code=303)
    logout(request, response)
    return response


@router.get("/", response_class=HTMLResponse)
def overview(request: Request, ctx: Ctx = Depends(allow("inventory.read"))) -> Response:
    ws = ctx.ws
    entries = ws.risk.inventory()
    last: dict[str, Any] = {}
    for a in ws.audits.list(kind="audit_report", limit=500):  # newest first
        model = project_of(a.subject)
        if model is not None:
            last.setdefault(model, a)
    blocking = [f for f in ws.findings.list() if f.status in OPEN_STATUSES and f.severity in BLOCKING]
    alerts = {
        "overdue": [e for e in entries if e.overdue],
        "failed": [(m, a) for m, a in sorted(last.items()) if a.status in ("fail", "error")],
        "blocking": blocking,
        "monitoring": ws.alerts.list(state="firing"),  # alerts of monitors that still fire
    }
    return render(request, "overview.html", {"ctx": ctx, "nav": "overview", "entries": entries,
                                             "last": last, "alerts": alerts})  # fmt: skip
