"""Column kinds: what a column *is* for profiling and drift, inferred from its Arrow type.

=============  ==========================================================================
kind           inferred from
=============  ==========================================================================
numeric        integers, floats, decimals, durations (seconds)
boolean        ``bool``
datetime       timestamps and dates (profiled as seconds since 1970-01-01 UTC)
categorical    strings with short values or few distinct values; dictionary columns;
               all-null columns
text           strings whose values are long (mean > 40 characters) or mostly distinct
               (more than half distinct among at least 100 values)
=============  ==========================================================================

The string rule looks at the first 100,000 rows only, so inference is cheap and does
not depend on table size. Profiles of parts that are to be merged should share kinds:
infer them once (on the reference or the first part) and pass them on.

>>> import pyarrow as pa
>>> infer_kinds(pa.table({"age": [31, 45], "sex": ["F", "M"], "ok": [True, False]}))
{'age': 'numeric', 'sex': 'categorical', 'ok': 'boolean'}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal, TypeAlias, get_args

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError

__all__ = [
    "KINDS",
    "ColumnKind",
    "check_bins",
    "infer_kind",
    "infer_kinds",
    "numeric_values",
    "string_values",
]

ColumnKind = Literal["numeric", "categorical", "boolean", "datetime", "text"]
KINDS: tuple[ColumnKind, ...] = get_args(ColumnKind)

TEXT_MEAN_LENGTH = 40
TEXT_DISTINCT_SHARE = 0.5
TEXT_MIN_VALUES = 100
INFERENCE_ROWS = 100_000

_Column: TypeAlias = pa.ChunkedArray | pa.Array


def infer_kinds(
    table: pa.Table, overrides: Mapping[str, ColumnKind] | None = None
) -> dict[str, ColumnKind]:
    """The kind of every column of ``table`` (in column order), with ``overrides`` applied.

    Overrides must name existing columns and valid kinds; whether the column can be read
    as that kind is checked when it is profiled. Unsupported types (lists, structs,
    binary) are an :class:`InputError` unless overridden to ``categorical``/``text``.

    >>> import pyarrow as pa
    >>> infer_kinds(pa.table({"zip": [1010, 2020]}), {"zip": "categorical"})
    {'zip': 'categorical'}
    """
    overrides = dict(overrides or {})
    for name, kind in overrides.items():
        if name not in table.column_names:
            raise InputError(
                "cannot set the kind of a column that does not exist",
                column=name,
                hint=f"columns are: {', '.join(table.column_names) or '(none)'}",
            )
        if kind not in KINDS:
            raise InputError(
                f"unknown column kind {kind!r}", column=name, hint=f"use one of {', '.join(KINDS)}"
            )
    return {
        name: overrides[name] if name in overrides else infer_kind(table.column(name), name)
        for name in table.column_names
    }


def infer_kind(column: _Column, name: str = "") -> ColumnKind:
    """The kind of one column (see the module docstring for the rules).

    >>> import pyarrow as pa
    >>> infer_kind(pa.array(["a long sentence of free text " * 3] * 3))
    'text'
    """
    t = column.type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_duration(t):
        return "numeric"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    if pa.types.is_dictionary(t) or pa.types.is_null(t):
        return "categorical"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _string_kind(column.slice(0, INFERENCE_ROWS))
    raise InputError(
        f"cannot profile a column of type {t}",
        column=name or None,
        hint="drop the column, or set its kind to categorical or text",
    )


def _string_kind(column: _Column) -> ColumnKind:
    values = pc.drop_null(column)
    n = len(values)
    if n == 0:
        return "categorical"
    mean_length = pc.sum(pc.utf8_length(values)).as_py() / n
    if mean_length > TEXT_MEAN_LENGTH:
        return "text"
    if n >= TEXT_MIN_VALUES and pc.count_distinct(values).as_py() > TEXT_DISTINCT_SHARE * n:
        return "text"
    return "categorical"


def numeric_values(column: _Column, kind: ColumnKind, name: str) -> np.ndarray:
    """The non-null values of ``column`` as float64 for a numeric, boolean or datetime kind.

    Datetimes become seconds since 1970-01-01 UTC (naive timestamps are read as UTC;
    precision below a microsecond is lost for recent dates); dates become midnight UTC;
    booleans become 0/1; durations become seconds. NaN and ±inf are kept.

    >>> import pyarrow as pa
    >>> numeric_values(pa.array([True, None, False]), "boolean", "ok").tolist()
    [1.0, 0.0]
    """
    values = pc.drop_null(column)
    t = values.type
    try:
        if kind == "datetime":
            values = _epoch_seconds(values, name)
        elif pa.types.is_duration(t):
            ns = values.cast(pa.duration("ns")).cast(pa.int64())
            values = pc.divide(pc.cast(ns, pa.float64(), safe=False), 1e9)
        elif kind == "boolean" and not pa.types.is_boolean(t):
            values = _as_boolean(values, name).cast(pa.float64())
        elif pa.types.is_dictionary(t):
            values = pc.cast(values.cast(t.value_type), pa.float64(), safe=False)
        else:
            values = pc.cast(values, pa.float64(), safe=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InputError(
            f"cannot read a column of type {t} as {kind}: {_first_line(exc)}",
            column=name,
            hint="set a different kind for this column",
        ) from exc
    if isinstance(values, pa.ChunkedArray):
        if values.num_chunks == 0:
            return np.empty(0, dtype=np.float64)
        values = values.combine_chunks()
    return np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float64)


def string_values(column: _Column, name: str) -> pa.Array:
    """The non-null values of ``column`` as one Arrow string array (for categorical and text).

    Booleans become ``"true"``/``"false"``; numbers their shortest decimal form.

    >>> import pyarrow as pa
    >>> string_values(pa.array([1, None, 2]), "x").to_pylist()
    ['1', '2']
    """
    values = pc.drop_null(column)
    t = values.type
    try:
        if pa.types.is_dictionary(t):
            values = values.cast(t.value_type)
        if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
            values = values.cast(pa.string())
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError) as exc:
        raise InputError(
            f"cannot read a column of type {t} as strings: {_first_line(exc)}", column=name
        ) from exc
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks() if values.num_chunks else pa.array([], pa.string())
    return values


def check_bins(
    bins: Mapping[str, np.ndarray], kinds: Mapping[str, ColumnKind]
) -> dict[str, np.ndarray]:
    """Validated histogram edges per column: only numeric/datetime columns, finite, increasing.

    >>> check_bins({"x": [0, 1, 2]}, {"x": "numeric"})["x"].tolist()
    [0.0, 1.0, 2.0]
    """
    out = {}
    for name, raw in bins.items():
        if name not in kinds:
            raise InputError("bins given for a column that does not exist", column=name)
        if kinds[name] not in ("numeric", "datetime"):
            raise InputError(
                f"bins apply to numeric and datetime columns, not {kinds[name]}", column=name
            )
        edges = np.asarray(raw, dtype=np.float64)
        if edges.ndim != 1 or len(edges) < 2 or not np.isfinite(edges).all():
            raise InputError(
                "bin edges must be a 1-D array of at least 2 finite numbers", column=name
            )
        if not (np.diff(edges) > 0).all():
            raise InputError("bin edges must be strictly increasing", column=name)
        out[name] = edges
    return out


def _epoch_seconds(values: _Column, name: str) -> _Column:
    t = values.type
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        try:
            values = values.cast(pa.timestamp("us"))
        except pa.ArrowInvalid as exc:
            raise InputError(
                f"cannot read text as datetimes: {_first_line(exc)}",
                column=name,
                hint="use ISO 8601 values such as 2024-05-01 or 2024-05-01T13:45:00",
            ) from exc
        t = values.type
    if pa.types.is_date(t):
        values = values.cast(pa.timestamp("s"))
        t = values.type
    if not pa.types.is_timestamp(t):
        raise pa.ArrowInvalid(f"type {t} is not a date or timestamp")
    per_second = {"s": 1, "ms": 1_000, "us": 1_000_000, "ns": 1_000_000_000}[t.unit]
    ints = values.cast(pa.timestamp(t.unit)).cast(pa.int64())
    return pc.divide(pc.cast(ints, pa.float64(), safe=False), float(per_second))


def _as_boolean(values: _Column, name: str) -> _Column:
    t = values.type
    if pa.types.is_integer(t) or pa.types.is_floating(t):
        bad = pc.sum(pc.invert(pc.is_in(values, pa.array([0, 1], t)))).as_py() or 0
        if bad:
            raise InputError("numbers read as boolean must be 0 or 1", column=name)
        return values.cast(pa.bool_())
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        lowered = pc.utf8_lower(values)
        truthy = pc.is_in(lowered, pa.array(["true", "1", "yes", "t", "y"]))
        falsy = pc.is_in(lowered, pa.array(["false", "0", "no", "f", "n"]))
        bad = pc.sum(pc.invert(pc.or_(truthy, falsy))).as_py() or 0
        if bad:
            raise InputError(
                "text read as boolean must be true/false, yes/no, t/f, y/n or 1/0", column=name
            )
        return truthy
    return values.cast(pa.bool_())


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
