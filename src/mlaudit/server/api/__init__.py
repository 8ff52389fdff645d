"""The REST API, ``/api/v1``: one router per concept, each route guarded by one permission."""

from __future__ import annotations

from fastapi import APIRouter

from mlaudit.server.api import (
    audits,
    auth,
    datasets,
    findings,
    inventory,
    ledger,
    lifecycle,
    lineage,
    models,
    monitoring,
    predictions,
    reports,
    users,
)
from mlaudit.server.api.common import ERRORS

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", responses=ERRORS)
_MODULES = (auth, ledger, datasets, models, lifecycle, audits, lineage, findings, inventory, reports, users,
            predictions, monitoring)  # fmt: skip
for _module in _MODULES:
    router.include_router(_module.router)
