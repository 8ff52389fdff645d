"""Validation of prediction and label batches (pure: Arrow in, Arrow out).

A prediction batch has ``prediction_id`` (string, unique within the batch), ``time`` (UTC
timestamp; default: when it was logged), every feature of the model version, at least one
output column and optionally ``segment``; other columns are kept as they are. Outputs:

- ``prediction``: the model's answer (class label or regression value; not null, finite if numeric)
- ``proba_<class>``: a probability per class of the version (finite, in [0, 1])
- ``score``: any other real-valued output (finite)

A label batch has ``prediction_id``, ``label`` (not null, finite if numeric) and optionally
``time`` (when the outcome was known).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlaudit.errors import InputError

__all__ = [
    "OUTPUT_HINT",
    "RESERVED",
    "TIME_TYPE",
    "as_table",
    "prepare_labels",
    "prepare_predictions",
    "to_parquet",
]

TIME_TYPE = pa.timestamp("us", tz="UTC")
RESERVED = ("label", "label_time", "model_version")
OUTPUT_HINT = "give `prediction`, `score` or `proba_<class>` columns"


def as_table(records: Any) -> pa.Table:
    """``records`` as a table; a list of dicts with the same keys (a JSON request body) takes
    Arrow's own converter, anything else :func:`mlaudit.frames.to_table`."""
    from mlaudit.frames import to_table

    if isinstance(records, list) and records and isinstance(records[0], dict):
        keys = records[0].keys()
        if all(type(k) is str for k in keys) and all(
            isinstance(r, dict) and r.keys() == keys for r in records
        ):
            try:
                return pa.Table.from_pylist(records)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                pass  # to_table names the column
        if all(isinstance(r, dict) for r in records):  # keys differ: every key is a column
            names = dict.fromkeys(str(k) for r in records for k in r)
            return to_table({n: [r.get(n) for r in records] for n in names})
    return to_table(records)


def prepare_predictions(
    table: pa.Table, *, features: Sequence[str], classes: Sequence[Any], now: datetime
) -> tuple[pa.Table, str]:
    """The batch with ids, times and outputs checked and typed, and a digest of the input.

    The digest is taken before ``time`` is filled in, so re-sending the same records under the
    same batch key is recognised even when the server supplies the time.
    """
    _check_not_empty(table)
    ids = _prediction_ids(table)
    table = _set(table, "prediction_id", ids)
    names = table.column_names
    missing = [f for f in features if f not in names]
    if missing:
        raise InputError(
            f"missing feature column(s) {', '.join(missing)} of the model version",
            column=missing[0],
            hint=f"the version's features are: {', '.join(features)}",
        )
    reserved = [c for c in names if c in RESERVED]
    if reserved:
        raise InputError(
            f"{reserved[0]!r} is filled in from label batches and cannot be a prediction column",
            column=reserved[0],
            hint="send labels with log_labels / `mlaudit predictions labels`",
        )
    wanted = {f"proba_{c}" for c in classes}
    outputs = [c for c in names if c in ("prediction", "score") or c.startswith("proba_")]
    if not outputs:
        raise InputError("the batch has no output column", hint=OUTPUT_HINT)
    for name in outputs:
        if name.startswith("proba_") and wanted and name not in wanted:
            raise InputError(
                f"{name!r} names no class of the model version",
                column=name,
                hint=f"expected: {', '.join(sorted(wanted))}",
            )
        if name == "prediction":
            table = _set(table, name, _value(table, name))
        else:
            table = _set(table, name, _real(table, name, unit=name.startswith("proba_")))
    if "segment" in names:
        table = _set(table, "segment", _cast(table, "segment", pa.string()))
    return _with_time(table, now)


def prepare_labels(table: pa.Table, *, now: datetime) -> tuple[pa.Table, str]:
    """A label batch checked and typed (see the module docstring), and a digest of the input."""
    _check_not_empty(table)
    table = _set(table, "prediction_id", _prediction_ids(table))
    if "label" not in table.column_names:
        raise InputError("a label batch needs a `label` column", column="label")
    table = _set(table, "label", _value(table, "label"))
    return _with_time(table, now)


def to_parquet(table: pa.Table) -> bytes:
    """One Parquet file (zstd, statistics on) holding the batch."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


# --- the pieces ---------------------------------------------------------------------------------


def _check_not_empty(table: pa.Table) -> None:
    if table.num_rows == 0:
        raise InputError("the batch is empty", hint="send at least one record")


def _set(table: pa.Table, name: str, values: pa.ChunkedArray | pa.Array) -> pa.Table:
    return table.set_column(table.column_names.index(name), name, values)


def _cast(table: pa.Table, name: str, to: pa.DataType) -> pa.ChunkedArray:
    try:
        return table.column(name).cast(to)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise InputError(f"cannot read the values as {to}: {exc}", column=name) from exc


def _first(mask: pa.ChunkedArray | pa.Array) -> int:
    return int(pc.index(mask, pa.scalar(True)).as_py())


def _no_nulls(table: pa.Table, name: str, values: pa.ChunkedArray) -> None:
    if values.null_count:
        raise InputError("missing value", column=name, row=_first(pc.is_null(values)))


def _prediction_ids(table: pa.Table) -> pa.ChunkedArray:
    name = "prediction_id"
    if name not in table.column_names:
        raise InputError("the batch needs a `prediction_id` column", column=name)
    column = table.column(name)
    textual = pa.types.is_string(column.type) or pa.types.is_large_string(column.type)
    if not (textual or pa.types.is_integer(column.type)):
        raise InputError(f"prediction ids must be strings, not {column.type}", column=name)
    ids = _cast(table, name, pa.string())
    _no_nulls(table, name, ids)
    empty = pc.equal(pc.utf8_length(ids), 0)
    if pc.any(empty).as_py():
        raise InputError("empty prediction id", column=name, row=_first(empty))
    if pc.count_distinct(ids).as_py() != len(ids):
        counts = pa.table({name: ids}).group_by(name).aggregate([(name, "count")])
        dup = counts.filter(pc.greater(counts[f"{name}_count"], 1))[name][0]
        rows = pc.indices_nonzero(pc.equal(ids, dup)).to_pylist()
        raise InputError(
            f"prediction id {dup.as_py()!r} appears more than once in the batch (rows {rows[0]}, {rows[1]})",
            column=name,
            row=rows[1],
            hint="prediction ids must be unique within a batch",
        )
    return ids


def _value(table: pa.Table, name: str) -> pa.ChunkedArray:
    """A prediction or label: a scalar, not null; finite when it is a floating point number."""
    values = table.column(name)
    kind = values.type
    if not (
        pa.types.is_integer(kind)
        or pa.types.is_floating(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_null(kind)
    ):
        raise InputError(f"values must be numbers, booleans or strings, not {kind}", column=name)
    _no_nulls(table, name, values)
    if pa.types.is_floating(kind):
        _check_finite(name, values)
    if pa.types.is_large_string(kind):
        return values.cast(pa.string())
    return values


def _real(table: pa.Table, name: str, *, unit: bool) -> pa.ChunkedArray:
    column = table.column(name)
    if not (pa.types.is_floating(column.type) or pa.types.is_integer(column.type)):
        raise InputError(f"values must be numbers, not {column.type}", column=name)
    values = column.cast(pa.float64())
    _no_nulls(table, name, values)
    _check_finite(name, values)
    if unit:
        outside = pc.or_(pc.less(values, 0.0), pc.greater(values, 1.0))
        if pc.any(outside).as_py():
            row = _first(outside)
            raise InputError(f"probability {values[row].as_py()} is outside [0, 1]", column=name, row=row)
    return values


def _check_finite(name: str, values: pa.ChunkedArray) -> None:
    bad = pc.invert(pc.is_finite(values))
    if pc.any(bad).as_py():
        row = _first(bad)
        value = values[row].as_py()
        shown = "NaN" if isinstance(value, float) and math.isnan(value) else str(value)
        raise InputError(f"{shown} is not a finite number", column=name, row=row)


def _with_time(table: pa.Table, now: datetime) -> tuple[pa.Table, str]:
    """Times typed as UTC microseconds (naive ones are taken as UTC), then the input digest;
    ``time`` is filled with ``now`` after the digest when it was not given."""
    if "time" in table.column_names:
        column = table.column("time")
        naive = pa.types.is_timestamp(column.type) and column.type.tz is None
        if naive or pa.types.is_date(column.type):
            column = column.cast(pa.timestamp("us"))
        if pa.types.is_timestamp(column.type):
            times = column.cast(TIME_TYPE)
        else:
            try:  # ISO 8601 text with an offset or ``Z``
                times = column.cast(TIME_TYPE)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError):  # without one: UTC
                times = _cast(table, "time", pa.timestamp("us")).cast(TIME_TYPE)
        _no_nulls(table, "time", times)
        table = _set(table, "time", times)
        digest = _digest(table)
    else:
        digest = _digest(table)
        table = table.append_column("time", pa.array([now] * table.num_rows, TIME_TYPE))
    order = ["prediction_id", "time"]
    return table.select(order + [c for c in table.column_names if c not in order]), digest


def _digest(table: pa.Table) -> str:
    """SHA-256 of the batch's values in Arrow IPC form (chunking and metadata do not matter)."""
    table = table.replace_schema_metadata(None).combine_chunks()
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return "sha256:" + hashlib.sha256(sink.getvalue()).hexdigest()
