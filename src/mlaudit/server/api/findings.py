"""``/api/v1/findings``: model risk findings (raise, move ``open → mitigated|accepted → closed``,
comment). Owner and due date are set when a finding is raised."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi import Path as PathParam
from pydantic import BaseModel, Field

from mlaudit.server.api.common import Page, PageParams, idempotent, page_params
from mlaudit.server.api.models import NAME
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["router"]

router = APIRouter(tags=["findings"])

FINDING_ID = PathParam(..., min_length=32, max_length=32, pattern=r"^[0-9a-f]{32}$")
Severity = Literal["low", "medium", "high", "critical"]
Status = Literal["open", "mitigated", "accepted", "closed"]


class FindingEventOut(BaseModel):
    kind: str = Field(description="raised, status or comment")
    text: str | None
    status: str | None
    created: str
    actor: str
    seq: int


class FindingOut(BaseModel):
    id: str
    model: str
    version_id: str | None
    title: str
    severity: str
    status: str
    owner: str | None
    due: str | None
    source: str | None
    check: str | None = Field(description="The audit check it came from, if raised from an audit")
    result: str | None = Field(description="The audit result id it came from")
    updated: str
    created: str
    actor: str
    seq: int
    events: list[FindingEventOut]


class RaiseRequest(BaseModel):
    model_config = {"extra": "forbid"}
    title: str = Field(min_length=1, max_length=1000)
    severity: Severity
    owner: str | None = Field(None, max_length=200)
    due: date | None = None
    version: int | None = Field(None, ge=1, le=10**9, description="Version number, when about one version")


class UpdateRequest(BaseModel):
    model_config = {"extra": "forbid"}
    status: Status
    comment: str | None = Field(None, max_length=20000)


class CommentRequest(BaseModel):
    model_config = {"extra": "forbid"}
    text: str = Field(min_length=1, max_length=20000)


@router.get("/findings", response_model=Page[FindingOut])
def list_findings(
    ctx: Ctx = Depends(allow("inventory.read")),
    page: PageParams = Depends(page_params),
    model: str | None = Query(None, min_length=1, max_length=200),
    status: Status | None = Query(None),
    severity: Severity | None = Query(None),
) -> Page[FindingOut]:
    """Findings (of the models the caller may read), oldest first."""
    found = ctx.ws.findings.list(model=model, status=status)
    if severity is not None:
        found = [f for f in found if f.severity == severity]
    items, total = page.slice(found)
    return Page(items=[FindingOut(**f.to_dict()) for f in items], total=total, offset=page.offset,
                limit=page.limit)  # fmt: skip


@router.get("/findings/{finding_id}", response_model=FindingOut)
def get_finding(finding_id: str = FINDING_ID, ctx: Ctx = Depends(allow("inventory.read"))) -> FindingOut:
    """One finding with its history (raised, status changes, comments)."""
    return FindingOut(**ctx.ws.findings.get(finding_id).to_dict())


@router.post("/models/{name}/findings", response_model=FindingOut, status_code=201)
def raise_finding(
    body: RaiseRequest,
    name: str = NAME,
    idem: Idempotency = Depends(idempotent(allow("finding.raise", "name"))),
) -> Any:
    """Open a finding on the model (or on one of its versions)."""
    replay = idem.replay()
    if replay is not None:
        return replay
    due = None if body.due is None else body.due.isoformat()
    version = None if body.version is None else f"v{body.version}"
    found = idem.ctx.ws.findings.raise_(
        name, body.title, body.severity, owner=body.owner, due=due, version=version
    )
    return idem.remember(201, found.to_dict())


@router.patch("/findings/{finding_id}", response_model=FindingOut)
def update_finding(
    body: UpdateRequest,
    finding_id: str = FINDING_ID,
    idem: Idempotency = Depends(idempotent(allow("finding.update"))),
) -> Any:
    """Move the finding to ``status`` (open → mitigated | accepted; mitigated → closed | open;
    accepted → closed), with an optional comment."""
    replay = idem.replay()
    if replay is not None:
        return replay
    found = idem.ctx.ws.findings.update(finding_id, body.status, body.comment)
    return idem.remember(200, found.to_dict())


@router.post("/findings/{finding_id}/comments", response_model=FindingOut, status_code=201)
def comment(
    body: CommentRequest,
    finding_id: str = FINDING_ID,
    idem: Idempotency = Depends(idempotent(allow("finding.comment"))),
) -> Any:
    """Add a comment (ledgered) to the finding."""
    replay = idem.replay()
    if replay is not None:
        return replay
    return idem.remember(201, idem.ctx.ws.findings.comment(finding_id, body.text).to_dict())
