"""Dataset pages: the list (``/datasets``) and one dataset's versions (``/datasets/{name}``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, Response

from mlaudit.datasets import _schema_change
from mlaudit.errors import MLAuditError
from mlaudit.server.deps import Ctx, allow
from mlaudit.server.ui import render

__all__ = ["router"]

router = APIRouter(include_in_schema=False)
_QUANTILES = ("0.01", "0.25", "0.5", "0.75", "0.99")


@router.get("/datasets", response_class=HTMLResponse)
def datasets_page(request: Request, ctx: Ctx = Depends(allow("dataset.read"))) -> Response:
    rows = []
    for name in ctx.ws.datasets.names():
        versions = ctx.ws.datasets.versions(name)
        latest = versions[-1]
        rows.append(
            {
                "name": name,
                "versions": len(versions),
                "latest": latest,
                "pii": sorted({p["column"] for p in latest.pii or []}),
            }
        )
    return render(request, "datasets.html", {"ctx": ctx, "nav": "datasets", "rows": rows})


@router.get("/datasets/{name}", response_class=HTMLResponse)
def dataset_page(request: Request, name: str, ctx: Ctx = Depends(allow("dataset.read"))) -> Response:
    ws = ctx.ws
    versions = ws.datasets.versions(name)
    shown: list[dict[str, Any]] = []
    previous = None
    for v in versions:
        change: dict[str, Any] | None = (
            _schema_change(previous.schema, v.schema) if previous is not None else None
        )
        shown.append({"v": v, "change": change})
        previous = v
    latest = versions[-1]
    profile, problem = None, None
    try:
        profile = _profile_rows(ws.datasets.profile(latest).to_dict())
    except MLAuditError as exc:
        problem = exc.message
    checks = ws.audits.list(kind="check_report", subject=f"dataset:{name}", limit=1)
    quality = checks[0] if checks else None
    return render(
        request,
        "dataset.html",
        {
            "ctx": ctx,
            "nav": "datasets",
            "name": name,
            "versions": list(reversed(shown)),
            "latest": latest,
            "profile": profile,
            "profile_problem": problem,
            "quality": quality,
            "quantiles": _QUANTILES,
        },
    )


def _profile_rows(doc: dict[str, Any]) -> list[dict[str, Any]]:
    """Per column: kind, missing share, distinct estimate, quantiles (numbers only), top value."""
    rows = []
    for c in doc.get("columns") or []:
        count = c.get("count") or 0
        missing = (c.get("nulls") or 0) + (c.get("nan") or 0)
        top = c.get("top") or []
        rows.append(
            {
                "name": c.get("name"),
                "kind": c.get("kind"),
                "missing": missing / count if count else None,
                "distinct": c.get("distinct"),
                "quantiles": c.get("quantiles") or {},
                "top": top[0] if top else None,
            }
        )
    return rows
