"""``/api/v1/datasets``: dataset versions (fingerprint, schema, PII), uploads, schema diffs.

An upload is a CSV, Parquet or JSON Lines body (multipart field ``file``, or the raw body with
its Content-Type), parsed in memory with pyarrow: nothing is written to a path taken from the
request and nothing is unpickled.
"""

from __future__ import annotations

from typing import Any, Literal

import pyarrow as pa
from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from starlette.datastructures import UploadFile

from mlaudit.datasets import DatasetVersion
from mlaudit.errors import InputError
from mlaudit.server.api.common import Page, PageParams, idempotent, page_params
from mlaudit.server.deps import ApiError, Ctx, Idempotency, allow, settings_of

__all__ = ["router"]

router = APIRouter(prefix="/datasets", tags=["datasets"])

Format = Literal["csv", "parquet", "jsonl"]
NAME = Path(..., min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._\-]*$")
NUMBER = Path(..., ge=1, le=10**9)
_TYPES: dict[str, Format] = {
    "text/csv": "csv",
    "application/csv": "csv",
    "text/plain": "csv",
    "application/vnd.apache.parquet": "parquet",
    "application/x-parquet": "parquet",
    "application/parquet": "parquet",
    "application/x-ndjson": "jsonl",
    "application/jsonl": "jsonl",
    "application/json-lines": "jsonl",
    "application/jsonlines": "jsonl",
}
_SUFFIXES: dict[str, Format] = {"csv": "csv", "parquet": "parquet", "pq": "parquet", "jsonl": "jsonl",
                                "ndjson": "jsonl"}  # fmt: skip


class DatasetVersionOut(BaseModel):
    id: str
    dataset: str
    number: int
    ref: str
    node: str
    fingerprint: str
    unordered: bool
    rows: int
    columns: int
    schema_: list[dict[str, str]] = Field(alias="schema", description="Columns: name and Arrow type")
    pii: list[dict[str, Any]]
    profile: str | None
    data_kept: bool
    source: str | None
    query: str | None
    created: str
    actor: str
    seq: int
    erased: str | None = Field(description="When its raw data was erased (retention)")

    model_config = ConfigDict(populate_by_name=True)


class DatasetSummary(BaseModel):
    name: str
    versions: int
    latest: DatasetVersionOut


class LoggedVersion(BaseModel):
    created: bool
    version: DatasetVersionOut
    schema_change: dict[str, Any] | None


class SchemaChange(BaseModel):
    dataset: str
    from_version: int
    to_version: int
    changed: bool
    added: list[str]
    removed: list[str]
    retyped: list[dict[str, str]]


def version_out(v: DatasetVersion) -> DatasetVersionOut:
    d = v.to_dict()
    d["data_kept"] = d.pop("data") is not None and v.erased is None
    d["unordered"] = bool(d["unordered"])
    return DatasetVersionOut(**d)


def _dump(v: DatasetVersion) -> dict[str, Any]:
    return version_out(v).model_dump(by_alias=True)


@router.get("", response_model=Page[DatasetSummary])
def list_datasets(
    ctx: Ctx = Depends(allow("dataset.read")), page: PageParams = Depends(page_params)
) -> Page[DatasetSummary]:
    """Dataset names with their latest version, by name."""
    names, total = page.slice(ctx.ws.datasets.names())
    items = []
    for name in names:
        versions = ctx.ws.datasets.versions(name)
        items.append(DatasetSummary(name=name, versions=len(versions), latest=version_out(versions[-1])))
    return Page(items=items, total=total, offset=page.offset, limit=page.limit)


@router.get("/{name}/versions", response_model=Page[DatasetVersionOut])
def list_versions(
    name: str = NAME, ctx: Ctx = Depends(allow("dataset.read")), page: PageParams = Depends(page_params)
) -> Page[DatasetVersionOut]:
    """The versions of dataset ``name``, oldest first."""
    found, total = page.slice(ctx.ws.datasets.versions(name))
    return Page(items=[version_out(v) for v in found], total=total, offset=page.offset, limit=page.limit)


@router.get("/{name}/versions/{number}", response_model=DatasetVersionOut)
def get_version(
    name: str = NAME, number: int = NUMBER, ctx: Ctx = Depends(allow("dataset.read"))
) -> DatasetVersionOut:
    """One version: fingerprint, schema, rows, PII findings (masked examples only)."""
    return version_out(ctx.ws.datasets.get(name, number))


@router.get("/{name}/schema-diff", response_model=SchemaChange)
def schema_diff(
    name: str = NAME,
    ctx: Ctx = Depends(allow("dataset.read")),
    from_version: int = Query(..., alias="from", ge=1, le=10**9),
    to_version: int = Query(..., alias="to", ge=1, le=10**9),
) -> SchemaChange:
    """Columns added, removed and retyped from version ``from`` to version ``to``."""
    change = ctx.ws.datasets.schema_change(f"{name}@v{from_version}", f"{name}@v{to_version}") or {}
    return SchemaChange(
        dataset=name,
        from_version=from_version,
        to_version=to_version,
        changed=bool(change),
        added=change.get("added", []),
        removed=change.get("removed", []),
        retyped=change.get("retyped", []),
    )


async def upload(request: Request) -> tuple[bytes, Format | None]:
    """The uploaded bytes and the format their Content-Type (or file name) says."""
    limit = int(settings_of(request).upload_max_mb * 1024 * 1024)
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if kind == "multipart/form-data":
        form = await request.form(max_files=1, max_fields=10)
        item = form.get("file")
        if not isinstance(item, UploadFile):
            raise InputError("the multipart body has no `file` field", hint="curl -F file=@data.csv ...")
        data = await item.read(limit + 1)
        suffix = (item.filename or "").rsplit(".", 1)[-1].lower() if "." in (item.filename or "") else ""
        item_type = (item.content_type or "").split(";")[0].strip().lower()
        fmt = _TYPES.get(item_type) or _SUFFIXES.get(suffix)
    else:
        data = await request.body()
        fmt = _TYPES.get(kind)
    if len(data) > limit:
        raise ApiError(413, "too_large", f"upload over the {limit // (1024 * 1024)} MB limit")
    if not data:
        raise InputError("the upload is empty")
    return data, fmt


def parse_table(data: bytes, fmt: Format) -> pa.Table:
    """``data`` as an Arrow table, read in memory."""
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    try:
        if fmt == "csv":
            table = pcsv.read_csv(pa.BufferReader(data))
        elif fmt == "parquet":
            table = pq.read_table(pa.BufferReader(data))
        else:
            table = pjson.read_json(pa.BufferReader(data))
        table.column_names  # noqa: B018 - column names that are not UTF-8 raise here, not later
        return table
    except (pa.ArrowException, ValueError, OSError) as exc:  # UnicodeDecodeError is a ValueError
        raise InputError(f"cannot read the upload as {fmt}: {str(exc).splitlines()[0][:300]}") from exc


@router.post(
    "/{name}/versions",
    response_model=LoggedVersion,
    status_code=201,
    responses={200: {"model": LoggedVersion, "description": "The same content was already a version"}},
    openapi_extra={
        "requestBody": {
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.apache.parquet": {"schema": {"type": "string", "format": "binary"}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
            "required": True,
        }
    },
)
def log_version(
    name: str = NAME,
    idem: Idempotency = Depends(idempotent(allow("dataset.log"))),
    body: tuple[bytes, Format | None] = Depends(upload),
    format: Format | None = Query(None, description="csv, parquet or jsonl (default: from Content-Type)"),
    keep_data: bool = Query(False, description="Also keep a Parquet snapshot (audits can then use it)"),
    unordered: bool = Query(False, description="A fingerprint independent of row order"),
    pii: bool = Query(True, description="Scan a sample for personal data"),
) -> Any:
    """Log a version of dataset ``name`` from the uploaded table (201; 200 when the same content
    is already a version)."""
    replay = idem.replay()
    if replay is not None:
        return replay
    data, sniffed = body
    fmt = format or sniffed
    if fmt is None:
        raise InputError("cannot tell the upload's format",
                         hint="send Content-Type text/csv, application/vnd.apache.parquet or "
                         "application/x-ndjson, or ?format=csv|parquet|jsonl")  # fmt: skip
    table = parse_table(data, fmt)
    result = idem.ctx.ws.datasets.log(name, table, keep_data=keep_data, unordered=unordered, pii=pii)
    out = {"created": result.created, "version": _dump(result.version), "schema_change": result.schema_change}
    return idem.remember(201 if result.created else 200, out)
