"""``/api/v1/models/{name}/versions/{number}/transitions|approvals``: the model lifecycle and
maker-checker decisions.

A transition's permission depends on the version's current status and the target
(``lifecycle.submit``, ``lifecycle.approve``, ``lifecycle.deploy``, ...; see
:data:`mlaudit.governance.lifecycle.TRANSITIONS`), so the route's own gate is ``model.read`` on
the model and :meth:`~mlaudit.governance.lifecycle.Lifecycle.transition` checks the role for the
transition asked for; the token scope is checked here for that same action.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field

from mlaudit.errors import PermissionDenied
from mlaudit.governance.credentials import token_allows
from mlaudit.governance.lifecycle import STATUSES, TRANSITIONS
from mlaudit.server.api.common import idempotent
from mlaudit.server.api.models import NAME, NUMBER, TransitionOut
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["router"]

router = APIRouter(prefix="/models/{name}/versions/{number}", tags=["lifecycle"])

Status = Literal["draft", "in_validation", "approved", "deployed", "retired", "rejected"]
assert set(Status.__args__) == set(STATUSES)  # type: ignore[attr-defined]


class TransitionRequest(BaseModel):
    model_config = {"extra": "forbid"}
    to: Status = Field(description="in_validation (submit), draft (withdraw), approved, rejected, "
                       "deployed, retired")  # fmt: skip
    reason: str | None = Field(None, max_length=5000)


class ApprovalRequest(BaseModel):
    model_config = {"extra": "forbid"}
    role: Literal["validator", "approver"] = "validator"
    decision: Literal["approve", "reject"] = "approve"
    rationale: str = Field(min_length=1, max_length=20000)


class ApprovalOut(BaseModel):
    id: str
    version_id: str
    role: str
    decision: str
    rationale: str
    evidence: str | None = Field(description="Digest of the audit report the decision rests on")
    created: str
    actor: str
    seq: int


@router.post("/transitions", response_model=TransitionOut, status_code=201)
def transition(
    body: TransitionRequest,
    name: str = NAME,
    number: int = NUMBER,
    idem: Idempotency = Depends(idempotent(allow("model.read", "name"))),
) -> Any:
    """Move the version to status ``to``: submit for validation, withdraw, approve or reject
    (after a recorded decision by someone independent), deploy, retire."""
    replay = idem.replay()
    if replay is not None:
        return replay
    ws, principal = idem.ctx.ws, idem.ctx.principal
    ref = f"{name}@v{number}"
    action = TRANSITIONS.get((ws.models.get(ref).status, body.to))
    if action is not None and principal.via == "token" and not token_allows(list(principal.scopes), action):
        raise PermissionDenied(f"this token (scopes: {', '.join(principal.scopes)}) may not {action}",
                               hint="create a token with the write scope")  # fmt: skip
    done = ws.lifecycle.transition(ref, body.to, body.reason)
    return idem.remember(201, done.to_dict())


@router.post("/approvals", response_model=ApprovalOut, status_code=201)
def approve(
    body: ApprovalRequest,
    name: str = NAME,
    number: int = NUMBER,
    idem: Idempotency = Depends(idempotent(allow("approval.record", "name"))),
) -> Any:
    """Record a decision on a version in validation. Maker-checker: whoever registered,
    submitted or developed it is refused (403)."""
    replay = idem.replay()
    if replay is not None:
        return replay
    found = idem.ctx.ws.lifecycle.approve(
        f"{name}@v{number}", decision=body.decision, rationale=body.rationale, role=body.role
    )
    return idem.remember(201, found.to_dict())


@router.get("/approvals", response_model=list[ApprovalOut])
def approvals(
    name: str = NAME, number: int = NUMBER, ctx: Ctx = Depends(allow("model.read", "name"))
) -> list[ApprovalOut]:
    """Decisions recorded on the version, oldest first."""
    return [ApprovalOut(**a.to_dict()) for a in ctx.ws.lifecycle.approvals(f"{name}@v{number}")]
