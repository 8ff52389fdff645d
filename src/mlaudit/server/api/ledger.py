"""``/api/v1/ledger``: events, verification, inclusion proofs, signed checkpoints."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel

from mlaudit.server.api.common import idempotent
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["router"]

router = APIRouter(prefix="/ledger", tags=["ledger"])


class EventOut(BaseModel):
    seq: int
    ts: str
    actor: str
    action: str
    subject: str
    payload: Any
    prev_hash: str
    hash: str


class Events(BaseModel):
    """A page of events. Pass ``next`` as ``after`` (oldest first) or ``before`` (newest first)."""

    items: list[EventOut]
    size: int
    next: int | None


class Verification(BaseModel):
    ok: bool
    events: int
    first_bad_seq: int | None
    reason: str | None
    checkpoints_checked: int
    root: str | None
    notes: list[str]


class CheckpointOut(BaseModel):
    kind: str
    schema_version: int
    workspace_id: str
    tree_size: int
    root: str
    ts: str
    key_id: str
    signature: str
    public_key: str


class ProofOut(BaseModel):
    kind: str
    schema_version: int
    seq: int
    tree_size: int
    event_hash: str
    leaf_hash: str
    path: list[str]
    root: str
    verified: bool


@router.get("/events", response_model=Events)
def events(
    ctx: Ctx = Depends(allow("ledger.read")),
    action: str | None = Query(None, max_length=200, description="Exact action, or a prefix ending in *"),
    subject: str | None = Query(None, max_length=500),
    actor: str | None = Query(None, max_length=200),
    after: int | None = Query(None, ge=-1, le=2**62, description="Oldest first: events with seq > after"),
    before: int | None = Query(None, ge=0, le=2**62, description="Newest first: events with seq < before"),
    limit: int = Query(50, ge=1, le=500),
) -> Events:
    """Ledger events, oldest first (``after``) or newest first (``before``, the default with neither)."""
    size = ctx.ws.ledger.size()
    if after is not None:
        found = ctx.ws.ledger.log(action=action, subject=subject, actor=actor, start=after + 1, limit=limit)
    else:
        found = ctx.ws.ledger.log(
            action=action, subject=subject, actor=actor, stop=before, limit=limit, newest_first=True
        )
    nxt = found[-1].seq if len(found) == limit else None
    return Events(items=[EventOut(**e.to_dict()) for e in found], size=size, next=nxt)


@router.post("/verify", response_model=Verification)
def verify(ctx: Ctx = Depends(allow("ledger.verify"))) -> Verification:
    """Recompute the hash chain, the Merkle tree and every checkpoint signature."""
    return Verification(**ctx.ws.ledger.verify().to_dict())


@router.get("/proofs/{seq}", response_model=ProofOut)
def prove(
    seq: int,
    ctx: Ctx = Depends(allow("ledger.read")),
    tree_size: int | None = Query(None, ge=1, le=2**62),
) -> ProofOut:
    """Inclusion proof of event ``seq`` in the tree of ``tree_size`` events (default: all)."""
    proof = ctx.ws.ledger.prove(seq, tree_size)
    return ProofOut(**proof.to_dict(), verified=proof.verify())


@router.get("/checkpoints", response_model=list[CheckpointOut])
def checkpoints(ctx: Ctx = Depends(allow("ledger.read"))) -> list[CheckpointOut]:
    return [CheckpointOut(**c.to_dict()) for c in ctx.ws.ledger.checkpoints()]


@router.post("/checkpoints", response_model=CheckpointOut, status_code=201)
def checkpoint(idem: Idempotency = Depends(idempotent(allow("ledger.checkpoint")))) -> Any:
    """Sign a checkpoint of the ledger now (export it to keep a copy out of the database's reach)."""
    replay = idem.replay()
    if replay is not None:
        return replay
    return idem.remember(201, idem.ctx.ws.ledger.checkpoint().to_dict())
