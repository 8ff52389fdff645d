"""What every API route shares: the error responses it documents, pages, the idempotency hook."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from fastapi import Depends, Query, Request
from pydantic import BaseModel, ConfigDict

from mlaudit.server.deps import Ctx, Idempotency

__all__ = ["ERRORS", "ErrorResponse", "Page", "PageParams", "idempotent", "page_params"]

T = TypeVar("T")


class _Error(BaseModel):
    status: int
    code: str
    message: str
    hint: str | None = None
    details: Any = None
    request_id: str | None = None


class ErrorResponse(BaseModel):
    """The one error shape: ``{"error": {"status", "code", "message", "hint", ...}}``."""

    error: _Error


_E = {"model": ErrorResponse}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {**_E, "description": "Bad request (unknown Host header, malformed body)"},
    401: {**_E, "description": "Not logged in, or the API token is unknown, expired or revoked"},
    403: {**_E, "description": "Permission denied (role, token scope or CSRF token)"},
    404: {**_E, "description": "No such object"},
    409: {**_E, "description": "Conflict (integrity, policy)"},
    413: {**_E, "description": "Request body too large"},
    422: {**_E, "description": "Invalid input"},
    429: {**_E, "description": "Too many failed logins"},
}


class Page(BaseModel, Generic[T]):
    """One page of a list: ``items`` from ``offset``; ``total`` of all that match."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    items: list[T]
    total: int
    offset: int
    limit: int


class PageParams(BaseModel):
    offset: int
    limit: int

    def slice(self, items: list[Any]) -> tuple[list[Any], int]:
        return items[self.offset : self.offset + self.limit], len(items)


def page_params(
    request: Request,
    offset: int = Query(0, ge=0, le=10**9, description="Items to skip"),
    limit: int = Query(50, ge=1, le=500, description="Items per page (at most the page_max setting)"),
) -> PageParams:
    cap = request.app.state.settings.page_max
    return PageParams(offset=offset, limit=min(limit, cap))


def idempotent(
    gate: Callable[[Request], Coroutine[Any, Any, Ctx]],
) -> Callable[..., Coroutine[Any, Any, Idempotency]]:
    """A write route's dependency: ``gate`` (from :func:`~mlaudit.server.deps.allow`) plus the
    ``Idempotency-Key`` handling (``idem.replay()`` / ``idem.remember(status, body)``)."""

    async def dependency(request: Request, ctx: Ctx = Depends(gate)) -> Idempotency:
        return Idempotency(ctx, await request.body())

    return dependency
