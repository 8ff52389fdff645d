"""``/api/v1/inventory`` and ``/api/v1/gate``: the model inventory and the release gate (the
built-in policy only: a policy file is never read from a request)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mlaudit.server.api.common import Page, PageParams, page_params
from mlaudit.server.api.models import NAME
from mlaudit.server.deps import Ctx, allow

__all__ = ["router"]

router = APIRouter(tags=["inventory"])


class InventoryEntryOut(BaseModel):
    model: str
    owner: str | None
    developers: str | None
    validator: str | None
    risk_owner: str | None
    purpose: str | None
    intended_use: str | None
    restrictions: str | None
    latest_version: str | None
    status: str | None
    versions: list[dict[str, Any]]
    tier: int | None
    validation_days: int
    last_validation: str | None
    next_validation_due: str | None
    overdue: bool
    open_findings: int
    open_by_severity: dict[str, int]
    inputs: dict[str, Any]
    upstream_models: list[str]
    exceptions: list[str]
    overrides: int


class GateResultOut(BaseModel):
    rule: str
    status: Literal["pass", "warn", "fail", "waived"]
    message: str
    details: dict[str, Any]


class GateReportOut(BaseModel):
    kind: str
    schema_version: int
    ref: str
    model: str
    version_id: str
    tier: int = Field(description="The tier whose rules were applied")
    tier_assigned: bool = Field(description="False: the model has no tier, the strictest rules applied")
    policy: str
    policy_source: str
    checked_at: str
    passed: bool
    results: list[GateResultOut]


@router.get("/inventory", response_model=Page[InventoryEntryOut])
def inventory(
    ctx: Ctx = Depends(allow("inventory.read")),
    page: PageParams = Depends(page_params),
    overdue: bool | None = Query(None, description="Only models whose validation is (not) overdue"),
) -> Page[InventoryEntryOut]:
    """Every model the caller may read: owner, tier, validation dates, open findings, inputs."""
    entries = ctx.ws.risk.inventory()
    if overdue is not None:
        entries = [e for e in entries if e.overdue == overdue]
    items, total = page.slice(entries)
    return Page(items=[InventoryEntryOut(**e.to_dict()) for e in items], total=total, offset=page.offset,
                limit=page.limit)  # fmt: skip


@router.get("/gate/{name}", response_model=GateReportOut)
def gate(
    name: str = NAME,
    ctx: Ctx = Depends(allow("gate.run", "name")),
    version: int | None = Query(None, ge=1, le=10**9, description="Version number (default: the latest)"),
) -> GateReportOut:
    """Judge a model version against the built-in release policy (a failed rule fails the gate;
    the response is 200 either way: read ``passed``)."""
    ref = name if version is None else f"{name}@v{version}"
    return GateReportOut(**ctx.ws.risk.gate(ref).to_dict())
