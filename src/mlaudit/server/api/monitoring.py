"""``/api/v1/monitors`` and ``/api/v1/alerts``: what continuous monitoring found (read-only;
monitors are created and run from the CLI, a scheduler or ``ws.monitors``)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel

from mlaudit.server.api.common import Page, PageParams, page_params
from mlaudit.server.deps import Ctx, allow

__all__ = ["router"]

router = APIRouter(tags=["monitoring"])
NAME = Path(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")


class MonitorOut(BaseModel):
    name: str
    model: str
    version_id: str | None
    spec: dict[str, Any]
    disabled: str | None
    updated: str
    created: str
    actor: str
    seq: int


class WindowOut(BaseModel):
    id: str
    monitor: str
    start: str
    end: str
    rows: int
    labelled: int
    status: str
    result_id: str | None
    profile: str | None
    metrics: dict[str, Any]
    created: str
    actor: str
    seq: int


class AlertOut(BaseModel):
    id: str
    monitor: str
    rule: str
    state: str
    opened: str
    resolved: str | None
    window_id: str | None
    value: float | None
    message: str
    created: str
    actor: str
    seq: int


@router.get("/monitors", response_model=list[MonitorOut])
def list_monitors(ctx: Ctx = Depends(allow("inventory.read"))) -> list[MonitorOut]:
    """Every monitor with its spec (model, reference, window, rules, channels)."""
    return [MonitorOut(**m.to_dict()) for m in ctx.ws.monitors.list()]


@router.get("/monitors/{name}", response_model=MonitorOut)
def get_monitor(name: str = NAME, ctx: Ctx = Depends(allow("inventory.read"))) -> MonitorOut:
    return MonitorOut(**ctx.ws.monitors.get(name).to_dict())


@router.get("/monitors/{name}/windows", response_model=Page[WindowOut])
def monitor_windows(
    name: str = NAME,
    ctx: Ctx = Depends(allow("inventory.read")),
    page: PageParams = Depends(page_params),
    newest_first: bool = Query(True, description="Newest window first"),
) -> Page[WindowOut]:
    """Stored windows: rows, labelled rows, and the metrics the rules read (drift share,
    realised or estimated performance)."""
    ctx.ws.monitors.get(name)  # 404 for an unknown monitor
    windows = ctx.ws.monitors.windows(name)
    if newest_first:
        windows = windows[::-1]
    items, total = page.slice(windows)
    return Page[WindowOut](
        items=[WindowOut(**w.to_dict()) for w in items], total=total, offset=page.offset, limit=page.limit
    )


@router.get("/alerts", response_model=Page[AlertOut])
def list_alerts(
    ctx: Ctx = Depends(allow("inventory.read")),
    page: PageParams = Depends(page_params),
    monitor: str | None = Query(None, max_length=200),
    state: Literal["firing", "resolved"] | None = Query(None),
) -> Page[AlertOut]:
    """Alerts raised by monitors, newest first; filter by monitor and state."""
    alerts = sorted(ctx.ws.alerts.list(monitor=monitor, state=state), key=lambda a: a.seq, reverse=True)
    items, total = page.slice(alerts)
    return Page[AlertOut](
        items=[AlertOut(**a.to_dict()) for a in items], total=total, offset=page.offset, limit=page.limit
    )
