"""The model page (``/models/{name}``), its forms, and stored audits (``/audits/{id}``).

Forms post with the session's CSRF token to routes that call ``ws.lifecycle``, ``ws.findings``
and ``ws.reports``; a refusal from the service (maker-checker, a missing audit) is shown on the
page with the service's own message.
"""

from __future__ import annotations

import base64
import hashlib
import re
import tempfile
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mlaudit.errors import InputError, MLAuditError, NotFound, PermissionDenied
from mlaudit.governance.approvals import DECIDING_ROLES, is_maker
from mlaudit.governance.findings import OPEN_STATUSES, SEVERITIES
from mlaudit.governance.identity import project_of
from mlaudit.report.audit_report import audit_html
from mlaudit.server.deps import Ctx, allow
from mlaudit.server.ui import render
from mlaudit.server.ui.charts import audit_points, drift_figure, fairness_of, performance_figure
from mlaudit.server.ui.views import can_all, figure_json, message

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

# document kind → (label, file suffix); the kind is chosen from this table, never from free text
REPORT_KINDS = {"card": "Model card", "validation": "Validation report", "annex-iv": "EU AI Act Annex IV"}
_WRITES = (
    "approval.record",
    "finding.raise",
    "lifecycle.submit",
    "lifecycle.deploy",
    "lifecycle.approve",
    "lifecycle.reject",
    "report.generate",
)
_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def _version(ctx: Ctx, name: str, v: str | None) -> Any:
    """The version ``v`` (``"v2"``/``"2"``) of model ``name``, or its latest."""
    versions = [m for m in ctx.ws.models.list() if m.model == name]
    if not versions:
        raise NotFound(f"no model {name!r}", hint="see the overview for the registered models")
    if v:
        wanted = v.removeprefix("v")
        for m in versions:
            if str(m.number) == wanted:
                return m
        raise NotFound(f"model {name!r} has no version {v!r}")
    return max(versions, key=lambda m: m.number)


def model_context(ctx: Ctx, name: str, v: str | None) -> dict[str, Any]:
    """Everything the model page shows, asked of the workspace services."""
    ws = ctx.ws
    chosen = _version(ctx, name, v)
    versions = sorted((m for m in ws.models.list() if m.model == name), key=lambda m: -m.number)
    audits = [a for m in versions for a in ws.audits.list(kind="audit_report", subject=m.node)]
    audits.sort(key=lambda a: -a.seq)
    points = audit_points(audits)
    latest_fair = next((fairness_of(a.document) for a in audits if fairness_of(a.document)), None)
    with ws.store.read() as conn:
        maker = is_maker(conn, chosen, ctx.user)
    findings = ws.findings.list(model=name)
    findings.sort(key=lambda f: (f.status not in OPEN_STATUSES, -f.seq))
    return {
        "ctx": ctx,
        "nav": "overview",
        "name": name,
        "version": chosen,
        "versions": versions,
        "facts": {k: f.value for k, f in ws.models.facts(name).items()},
        "history": list(reversed(ws.lifecycle.history(name))),
        "audits": audits,
        "approvals": list(reversed(ws.lifecycle.approvals(chosen.ref))),
        "findings": findings,
        "maker": maker,
        "can": can_all(ctx, _WRITES, name),
        "roles": [r for r in DECIDING_ROLES if r in ws.access.roles(project=name)],
        "severities": SEVERITIES,
        "report_kinds": REPORT_KINDS,
        "figures": {
            "perf": figure_json(performance_figure(points)),
            "drift": figure_json(drift_figure(points)),
            "fair": figure_json(latest_fair),
        },
        "error": None,
        "done": None,
    }


def _page(
    request: Request,
    ctx: Ctx,
    name: str,
    v: str | None,
    *,
    done: str | None = None,
    error: MLAuditError | None = None,
) -> Response:
    context = model_context(ctx, name, v)
    context["done"] = message(done)
    status = 200
    if error is not None:
        context["error"] = error.message + (f" — {error.hint}" if error.hint else "")
        status = error.http_status if error.http_status in (400, 403, 404, 409, 422) else 400
    return render(request, "model.html", context, status)


def _back(name: str, version: Any, done: str) -> Response:
    return RedirectResponse(f"/models/{name}?v=v{version.number}&done={done}#actions", status_code=303)


@router.get("/models/{name}", response_class=HTMLResponse)
def model_page(
    request: Request,
    name: str,
    v: str | None = None,
    done: str | None = None,
    ctx: Ctx = Depends(allow("model.read", "name")),
) -> Response:
    return _page(request, ctx, name, v, done=done)


@router.post("/models/{name}/approvals", response_class=HTMLResponse)
def approve(
    request: Request,
    name: str,
    v: str = Form(..., max_length=20),
    decision: str = Form(..., max_length=20),
    role: str = Form(..., max_length=20),
    rationale: str = Form("", max_length=5000),
    ctx: Ctx = Depends(allow("approval.record", "name")),
) -> Response:
    version = _version(ctx, name, v)
    try:
        ctx.ws.lifecycle.approve(version.ref, decision=decision, rationale=rationale, role=role)
    except MLAuditError as exc:
        return _page(request, ctx, name, v, error=exc)
    return _back(name, version, "approval")


def _transition(request: Request, ctx: Ctx, name: str, v: str, to: str, reason: str, done: str) -> Response:
    version = _version(ctx, name, v)
    try:
        ctx.ws.lifecycle.transition(version.ref, to, reason.strip() or None)
    except MLAuditError as exc:
        return _page(request, ctx, name, v, error=exc)
    return _back(name, version, done)


@router.post("/models/{name}/submit", response_class=HTMLResponse)
def submit(
    request: Request,
    name: str,
    v: str = Form(..., max_length=20),
    reason: str = Form("", max_length=2000),
    ctx: Ctx = Depends(allow("lifecycle.submit", "name")),
) -> Response:
    return _transition(request, ctx, name, v, "in_validation", reason, "submitted")


@router.post("/models/{name}/deploy", response_class=HTMLResponse)
def deploy(
    request: Request,
    name: str,
    v: str = Form(..., max_length=20),
    reason: str = Form("", max_length=2000),
    ctx: Ctx = Depends(allow("lifecycle.deploy", "name")),
) -> Response:
    return _transition(request, ctx, name, v, "deployed", reason, "deployed")


@router.post("/models/{name}/conclude", response_class=HTMLResponse)
def conclude(
    request: Request,
    name: str,
    v: str = Form(..., max_length=20),
    to: str = Form(..., max_length=20),
    reason: str = Form("", max_length=2000),
    ctx: Ctx = Depends(allow("approval.record", "name")),
) -> Response:
    """Move a version in validation to approved or rejected (the service checks the decision)."""
    if to not in ("approved", "rejected"):
        return _page(request, ctx, name, v, error=InputError("a validation ends approved or rejected"))
    return _transition(request, ctx, name, v, to, reason, to)


@router.post("/models/{name}/findings", response_class=HTMLResponse)
def raise_finding(
    request: Request,
    name: str,
    title: str = Form(..., max_length=500),
    severity: str = Form(..., max_length=20),
    v: str = Form("", max_length=20),
    due: str = Form("", max_length=40),
    ctx: Ctx = Depends(allow("finding.raise", "name")),
) -> Response:
    try:
        version = _version(ctx, name, v or None)
        ctx.ws.findings.raise_(name, title, severity, version=f"v{version.number}", due=due or None)
    except MLAuditError as exc:
        return _page(request, ctx, name, v or None, error=exc)
    return RedirectResponse(f"/models/{name}?v=v{version.number}&done=finding#findings", status_code=303)


@router.post("/models/{name}/reports")
def report(
    request: Request,
    name: str,
    v: str = Form(..., max_length=20),
    kind: str = Form(..., max_length=20),
    ctx: Ctx = Depends(allow("report.generate", "name")),
) -> Response:
    """Generate a compliance document into a temporary folder and send it as a download."""
    version = _version(ctx, name, v)
    if kind not in REPORT_KINDS:
        return _page(request, ctx, name, v, error=InputError(f"unknown document kind {kind!r}"))
    with tempfile.TemporaryDirectory(prefix="mlaudit-ui-") as tmp:
        target = Path(tmp) / "document.html"  # a fixed name: nothing from the request in the path
        try:
            ctx.ws.reports.generate(version.ref, kind, target, format="html")
        except MLAuditError as exc:
            return _page(request, ctx, name, v, error=exc)
        data = target.read_bytes()
    filename = _SAFE.sub("-", f"{kind}-{name}-v{version.number}.html")
    return Response(
        data,
        media_type="text/html; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )


@router.get("/audits/{result_id}", response_class=HTMLResponse)
def audit_page(result_id: str, ctx: Ctx = Depends(allow("audit.read"))) -> Response:
    """A stored audit as the standalone report page (its inline scripts allowed by hash)."""
    stored = ctx.ws.audits.get(result_id)
    if stored.kind != "audit_report":
        raise NotFound(f"result {result_id} is a {stored.kind}, not a model audit")
    project = project_of(stored.subject)
    if project is not None and not ctx.ws.access.can("audit.read", project):
        raise PermissionDenied(f"{ctx.user} may not read audits of {project!r}")
    html = audit_html(stored.document).replace("<head>", '<head>\n<link rel="icon" href="data:,">', 1)
    return HTMLResponse(html, headers={"Content-Security-Policy": _report_csp(html)})


_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def _report_csp(html: str) -> str:
    """The report's own policy, with its inline scripts named by hash instead of 'unsafe-inline'."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'"
        for s in _SCRIPT.findall(html)
    )
    allowed = hashes or "'none'"
    return (
        f"default-src 'none'; script-src {allowed}; style-src 'unsafe-inline'; "
        "img-src data: blob:; font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    )
