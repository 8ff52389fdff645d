"""``/api/v1/audits``: stored audit reports (each checked against its ledger event when read)
and their HTML or Markdown rendering."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query, Response
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from mlaudit.audits import StoredResult
from mlaudit.errors import NotFound
from mlaudit.governance.identity import project_of
from mlaudit.server.api.common import Page, PageParams, page_params
from mlaudit.server.api.models import NAME, versions_of
from mlaudit.server.deps import Ctx, allow

__all__ = ["router"]

router = APIRouter(tags=["audits"])

AUDIT_ID = PathParam(..., min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$", description="Result id")
KIND = "audit_report"


class AuditSummary(BaseModel):
    id: str
    model: str
    ref: str | None = Field(description="The model version audited (credit@v2)")
    subject: str
    status: str
    suite: str | None
    counts: dict[str, Any]
    created: str
    actor: str
    seq: int


class AuditOut(AuditSummary):
    document: dict[str, Any] = Field(description="The stored audit report (schema: audit_report)")


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def summary(r: StoredResult) -> dict[str, Any]:
    doc = r.document
    model, suite, counts = (_mapping(doc.get(k)) for k in ("model", "suite", "counts"))
    return {
        "id": r.id,
        "model": project_of(r.subject) or str(model.get("name", "")),
        "ref": model.get("ref"),
        "subject": r.subject,
        "status": r.status,
        "suite": suite.get("name"),
        "counts": counts,
        "created": r.created,
        "actor": r.actor,
        "seq": r.seq,
    }


def stored(ctx: Ctx, audit_id: str) -> StoredResult:
    """The stored audit ``audit_id``, if the caller may read the model it is about."""
    found = ctx.ws.audits.get(audit_id)
    if found.kind != KIND:
        raise NotFound(f"no audit {audit_id!r} (it is a {found.kind} result)")
    ctx.ws.access.require("audit.read", project_of(found.subject))
    return found


@router.get("/models/{name}/audits", response_model=Page[AuditSummary])
def list_audits(
    name: str = NAME,
    ctx: Ctx = Depends(allow("audit.read", "name")),
    page: PageParams = Depends(page_params),
    status: Literal["pass", "warn", "fail", "error"] | None = Query(None),
) -> Page[AuditSummary]:
    """Stored audits of every version of the model, newest first."""
    found: list[StoredResult] = []
    for v in versions_of(ctx, name):
        found += ctx.ws.audits.list(kind=KIND, subject=v.node, limit=100_000)
    found.sort(key=lambda r: r.seq, reverse=True)
    if status is not None:
        found = [r for r in found if r.status == status]
    items, total = page.slice(found)
    return Page(items=[AuditSummary(**summary(r)) for r in items], total=total, offset=page.offset,
                limit=page.limit)  # fmt: skip


@router.get("/audits/{audit_id}", response_model=AuditOut)
def get_audit(audit_id: str = AUDIT_ID, ctx: Ctx = Depends(allow("audit.read"))) -> AuditOut:
    """One stored audit report, verified against the digest in its ledger event."""
    r = stored(ctx, audit_id)
    return AuditOut(**summary(r), document=r.document)


@router.get(
    "/audits/{audit_id}/report",
    response_class=Response,
    responses={200: {"content": {"text/html": {"schema": {"type": "string"}},
                                 "text/markdown": {"schema": {"type": "string"}}},
                     "description": "The rendered report"}},
)  # fmt: skip
def audit_report(
    audit_id: str = AUDIT_ID,
    ctx: Ctx = Depends(allow("audit.read")),
    format: Literal["html", "md"] = Query("html"),
) -> Response:
    """The stored audit rendered as a self-contained HTML page (as ``mlaudit audit --html``) or
    GitHub Markdown."""
    doc = stored(ctx, audit_id).document
    if format == "md":
        from mlaudit.report.markdown import to_markdown

        return Response(to_markdown(doc), media_type="text/markdown; charset=utf-8")
    from mlaudit.report import audit_html

    html = audit_html(doc)
    # the page inlines its own scripts (Plotly) and styles; it still reaches nothing on the network
    csp = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
           "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")  # fmt: skip
    return Response(html, media_type="text/html; charset=utf-8", headers={"Content-Security-Policy": csp})
