"""``/api/v1/models/{name}/…/predictions`` and ``…/labels``: the prediction log.

A batch is a JSON body ``{"records": [...]}`` (see :mod:`mlaudit.monitor.records` for the
columns). The ``Idempotency-Key`` header is also the batch key: resending a batch under the same
key stores nothing twice (the first response is replayed).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from mlaudit.server.api.common import idempotent
from mlaudit.server.api.models import NAME, NUMBER, versions_of
from mlaudit.server.deps import Ctx, Idempotency, allow

__all__ = ["router"]

router = APIRouter(prefix="/models/{name}", tags=["predictions"])

MAX_RECORDS = 100_000


class Batch(BaseModel):
    model_config = {"extra": "forbid"}
    records: list[dict[str, Any]] = Field(
        min_length=1, max_length=MAX_RECORDS,
        description="Predictions: prediction_id, time (optional), the version's features, and "
        "prediction / score / proba_<class>. Labels: prediction_id, label, time (optional).",
    )  # fmt: skip


class BatchOut(BaseModel):
    created: bool = Field(description="False when the batch key was already used for these records")
    id: str
    model: str
    version_id: str | None
    kind: str
    rows: int
    artifact: str
    first_time: str | None
    last_time: str | None
    batch_key: str | None
    created_at: str = Field(description="When the batch was stored")
    actor: str
    seq: int


class SummaryOut(BaseModel):
    model: str
    batches: int
    stored_predictions: int
    predictions: int = Field(description="Distinct prediction ids")
    stored_labels: int
    labelled: int
    unmatched_labels: int
    first_time: str | None
    last_time: str | None
    labelled_fraction: float | None


def _out(result: Any) -> dict[str, Any]:
    batch = result.batch.to_dict()
    batch["created_at"] = batch.pop("created")
    return {"created": result.created, **batch}


@router.post("/versions/{number}/predictions", response_model=BatchOut, status_code=201)
def log_predictions(
    body: Batch,
    name: str = NAME,
    number: int = NUMBER,
    idem: Idempotency = Depends(idempotent(allow("prediction.log", "name"))),
) -> Any:
    """Store a batch of predictions made by the version."""
    replay = idem.replay()
    if replay is not None:
        return replay
    result = idem.ctx.ws.predictions.log(f"{name}@v{number}", body.records, batch_key=idem.key)
    return idem.remember(201 if result.created else 200, _out(result))


@router.post("/labels", response_model=BatchOut, status_code=201)
def log_labels(
    body: Batch, name: str = NAME, idem: Idempotency = Depends(idempotent(allow("prediction.log", "name")))
) -> Any:
    """Store outcomes (labels) of earlier predictions of the model, by ``prediction_id``."""
    replay = idem.replay()
    if replay is not None:
        return replay
    result = idem.ctx.ws.predictions.log_labels(name, body.records, batch_key=idem.key)
    return idem.remember(201 if result.created else 200, _out(result))


@router.get("/predictions/summary", response_model=SummaryOut)
def summary(
    name: str = NAME,
    ctx: Ctx = Depends(allow("model.read", "name")),
    since: datetime | None = Query(None, description="Only predictions from this moment (ISO 8601)"),
) -> SummaryOut:
    """Counts, labelled share and time range of the model's logged predictions."""
    versions_of(ctx, name)
    return SummaryOut(**ctx.ws.predictions.summary(name, since=since).to_dict())
