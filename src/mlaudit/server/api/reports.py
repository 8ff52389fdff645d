"""``/api/v1/models/{name}/versions/{number}/documents``: compliance documents (model card,
validation report, EU AI Act Annex IV), generated, ledgered and returned as HTML.

The document is written to a private temporary folder under a fixed file name (nothing from the
request names a path), read back and returned; the ``report.generated`` event carries the
SHA-256 of exactly those bytes, sent as ``X-Document-Digest`` (``mlaudit report verify FILE``
checks a saved copy).
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import Literal

from fastapi import APIRouter, Depends, Response
from pydantic import BaseModel, Field

from mlaudit.server.api.models import NAME, NUMBER
from mlaudit.server.deps import Ctx, allow

__all__ = ["router"]

router = APIRouter(tags=["reports"])


class DocumentRequest(BaseModel):
    model_config = {"extra": "forbid"}
    kind: Literal["card", "validation", "annex-iv"] = Field(
        description="card (model card), validation (model validation report), annex-iv (EU AI Act)"
    )
    validator: str | None = Field(None, max_length=200, description="Validation report: who validated")
    opinion: str | None = Field(None, max_length=20000, description="Validation report: the opinion")
    standards: str | None = Field(None, max_length=5000, description="Annex IV: standards applied")


_HEADERS = {
    "Content-Disposition": {"schema": {"type": "string"}, "description": "attachment; filename=…"},
    "X-Document-Digest": {"schema": {"type": "string"}, "description": "sha256:… of the body, ledgered"},
    "X-Ledger-Seq": {"schema": {"type": "string"}, "description": "The report.generated event"},
}


@router.post(
    "/models/{name}/versions/{number}/documents",
    status_code=201,
    response_class=Response,
    responses={201: {"content": {"text/html": {"schema": {"type": "string"}}}, "headers": _HEADERS,
                     "description": "The document (self-contained HTML)"}},
)  # fmt: skip
def generate(body: DocumentRequest, name: str = NAME, number: int = NUMBER,
             ctx: Ctx = Depends(allow("report.generate", "name"))) -> Response:  # fmt: skip
    """Generate a compliance document about the version, record its hash in the ledger and
    return it. Sections without evidence say what is missing rather than fail."""
    with tempfile.TemporaryDirectory(prefix="mlaudit-doc-") as folder:
        made = ctx.ws.reports.generate(
            f"{name}@v{number}", body.kind, Path(folder) / "document.html", format="html",
            validator=body.validator, opinion=body.opinion, standards=body.standards,
        )  # fmt: skip
        data = made.path.read_bytes()
    filename = f"{name}-v{number}-{body.kind}.html"
    csp = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:; "
           "font-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")  # fmt: skip
    headers = {
        "Content-Disposition": f'attachment; filename="{filename}"',
        "X-Document-Digest": made.digest,
        "X-Ledger-Seq": str(made.seq),
        "Content-Security-Policy": csp,
    }
    return Response(data, status_code=201, media_type="text/html; charset=utf-8", headers=headers)
