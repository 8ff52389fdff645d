"""``/api/v1/models``: registered models, their versions, documentation facts, tier, history."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from mlaudit.errors import NotFound
from mlaudit.registry import FACT_FIELDS, ModelVersion
from mlaudit.server.api.common import Page, PageParams, idempotent, page_params
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["NAME", "NUMBER", "ModelVersionOut", "router", "version_out"]

router = APIRouter(prefix="/models", tags=["models"])

NAME = Path(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$",
            description="Model name")  # fmt: skip
NUMBER = Path(..., ge=1, le=10**9, description="Version number (1 for v1)")


class ModelVersionOut(BaseModel):
    id: str
    model: str
    number: int
    ref: str
    node: str
    framework: str
    fingerprint: str
    artifact: str | None
    uri: str | None
    task: str | None
    classes: list[Any]
    features: list[str]
    target: str | None
    sensitive: list[str]
    trained_on: list[str]
    owner: str | None
    status: str
    created: str
    actor: str
    seq: int


class FactOut(BaseModel):
    field: str
    value: str
    updated: str
    actor: str
    seq: int


class TierOut(BaseModel):
    model: str
    tier: int
    score: int
    validation_days: int
    inputs: dict[str, Any]
    updated: str
    actor: str
    seq: int


class ModelSummary(BaseModel):
    name: str
    versions: int
    latest: ModelVersionOut
    tier: int | None


class ModelDetail(BaseModel):
    name: str
    status: str = Field(description="Lifecycle status of the latest version")
    latest: str
    versions: list[ModelVersionOut]
    facts: dict[str, FactOut]
    tier: TierOut | None


class DescribeRequest(BaseModel):
    """Documentation facts to set; ``null`` or ``""`` clears one, a field left out is unchanged."""

    model_config = {"extra": "forbid"}
    purpose: str | None = Field(None, max_length=20000)
    intended_use: str | None = Field(None, max_length=20000)
    out_of_scope_use: str | None = Field(None, max_length=20000)
    users: str | None = Field(None, max_length=20000)
    limitations: str | None = Field(None, max_length=20000)
    ethical_considerations: str | None = Field(None, max_length=20000)
    training_procedure: str | None = Field(None, max_length=20000)
    developers: str | None = Field(None, max_length=20000)
    validator: str | None = Field(None, max_length=20000)
    risk_owner: str | None = Field(None, max_length=20000)


class TransitionOut(BaseModel):
    id: str
    version_id: str
    ref: str
    from_status: str
    to_status: str
    reason: str | None
    created: str
    actor: str
    seq: int


class History(BaseModel):
    model: str
    transitions: list[TransitionOut]
    at: str | None = Field(description="The moment asked about (the `at` query), if any")
    deployed_at: str | None = Field(description="The version deployed at `at` (ref), if any")


assert set(DescribeRequest.model_fields) == set(FACT_FIELDS)


def version_out(v: ModelVersion) -> ModelVersionOut:
    return ModelVersionOut(**v.to_dict())


def versions_of(ctx: Ctx, name: str) -> list[ModelVersion]:
    found = [v for v in ctx.ws.models.list() if v.model == name]
    if not found:
        raise NotFound(f"no model {name!r}", hint="GET /api/v1/models lists them")
    return found


@router.get("", response_model=Page[ModelSummary])
def list_models(
    ctx: Ctx = Depends(allow("model.read")), page: PageParams = Depends(page_params)
) -> Page[ModelSummary]:
    """Models by name, each with its latest version and risk tier."""
    by_name: dict[str, list[ModelVersion]] = {}
    for v in ctx.ws.models.list():
        by_name.setdefault(v.model, []).append(v)
    tiers = ctx.ws.risk.tiers()
    names, total = page.slice(sorted(by_name))
    items = [
        ModelSummary(name=n, versions=len(by_name[n]), latest=version_out(by_name[n][-1]),
                     tier=tiers[n].tier if n in tiers else None)
        for n in names
    ]  # fmt: skip
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.get("/{name}", response_model=ModelDetail)
def get_model(name: str = NAME, ctx: Ctx = Depends(allow("model.read", "name"))) -> ModelDetail:
    """A model: its versions, documentation facts, risk tier and the latest version's status."""
    versions = versions_of(ctx, name)
    tier = ctx.ws.risk.tier(name)
    return ModelDetail(
        name=name,
        status=versions[-1].status,
        latest=versions[-1].ref,
        versions=[version_out(v) for v in versions],
        facts={k: FactOut(**f.to_dict()) for k, f in ctx.ws.models.facts(name).items()},
        tier=None if tier is None else TierOut(**tier.to_dict()),
    )


@router.get("/{name}/versions/{number}", response_model=ModelVersionOut)
def get_version(
    name: str = NAME, number: int = NUMBER, ctx: Ctx = Depends(allow("model.read", "name"))
) -> ModelVersionOut:
    return version_out(ctx.ws.models.get(f"{name}@v{number}"))


@router.post("/{name}/describe", response_model=dict[str, FactOut])
def describe(
    body: DescribeRequest,
    name: str = NAME,
    idem: Idempotency = Depends(idempotent(allow("model.describe", "name"))),
) -> Any:
    """Set documentation facts (purpose, intended use, ...); returns every fact the model has."""
    replay = idem.replay()
    if replay is not None:
        return replay
    facts = idem.ctx.ws.models.describe(name, **body.model_dump(exclude_unset=True))
    return idem.remember(200, {k: f.to_dict() for k, f in facts.items()})


@router.get("/{name}/history", response_model=History)
def history(
    name: str = NAME,
    ctx: Ctx = Depends(allow("model.read", "name")),
    at: datetime | None = Query(None, description="A moment (ISO 8601): which version was deployed then"),
) -> History:
    """Lifecycle transitions of every version of the model, oldest first."""
    versions_of(ctx, name)
    transitions = [TransitionOut(**t.to_dict()) for t in ctx.ws.lifecycle.history(name)]
    deployed = None
    if at is not None:
        found = ctx.ws.lifecycle.deployed_at(name, at)
        deployed = None if found is None else found.ref
    return History(model=name, transitions=transitions, at=None if at is None else at.isoformat(),
                   deployed_at=deployed)  # fmt: skip
