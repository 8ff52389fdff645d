"""``/api/v1/lineage``: what a dataset or model version came from, and what was made from it."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, Field

from mlaudit.server.deps import Ctx, allow

__all__ = ["router"]

router = APIRouter(prefix="/lineage", tags=["lineage"])

MAX_DEPTH = 50


class NodeOut(BaseModel):
    id: str
    kind: str
    depth: int
    info: dict[str, Any]


class EdgeOut(BaseModel):
    src: str
    dst: str
    kind: str
    run: str
    columns: Any = Field(description="Column mappings of the run, when it recorded them")
    created: str


class GraphOut(BaseModel):
    kind: str
    schema_version: int
    root: str
    direction: Literal["upstream", "downstream"]
    depth: int | None
    depth_reached: int
    partial: bool = Field(description="True when the depth limit cut off nodes one hop further")
    as_of: str | None
    nodes: list[NodeOut]
    edges: list[EdgeOut]


def _node(ctx: Ctx, text: str) -> str:
    """``model:credit@v2`` → the version's node id (``model:credit@<id>``); others unchanged."""
    m = re.fullmatch(r"model:([^@]+)@v(\d{1,9})", text)
    return ctx.ws.models.get(f"{m[1]}@v{m[2]}").node if m else text


@router.get("/{node:path}", response_model=GraphOut)
def lineage(
    node: str = Path(
        ...,
        min_length=1,
        max_length=1000,
        description="dataset:train@v1, model:credit@v2, a run or job id, or a bare name",
    ),
    ctx: Ctx = Depends(allow("workspace.read")),
    direction: Literal["upstream", "downstream"] = Query("upstream"),
    depth: int | None = Query(None, ge=0, le=MAX_DEPTH, description=f"Runs deep (at most {MAX_DEPTH})"),
    as_of: datetime | None = Query(None, description="Only runs up to this moment (ISO 8601)"),
) -> GraphOut:
    """The upstream (provenance) or downstream (impact) graph of ``node``."""
    graph = ctx.ws.lineage.graph(
        _node(ctx, node), direction, depth=MAX_DEPTH if depth is None else depth, as_of=as_of
    )
    return GraphOut(**graph.to_dict())
