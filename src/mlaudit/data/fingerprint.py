"""Content fingerprints: one ``sha256:<hex>`` for one logical table, whatever its source.

A fingerprint hashes the column names and the *normalized* column types and values, so the
same data read from CSV, Parquet, JSON Lines, a database or object storage gets the same
fingerprint even though each source hands back slightly different Arrow types.

:func:`normalize` maps types onto a small canonical set:

=====================================  ===========================================
source type                            normalized
=====================================  ===========================================
int8 … int64, uint8 … uint64           int64 (uint64 above 2**63-1: InputError)
float16, float32, float64              float64
decimal128 / decimal256                float64 (exact digits beyond ~15 are lost)
string, large_string, string_view      string
dictionary<…>                          its value type, normalized
binary, large_binary, fixed binary     binary
bool                                   bool
date32, date64                         date32
timestamp[any unit, any tz]            timestamp[us, UTC]; naive timestamps are read as UTC;
                                       sub-microsecond digits are truncated
time32 / time64, duration              time64[us], duration[us]
null                                   null (see below)
=====================================  ===========================================

Values: nulls only count through the validity of each row, never through a placeholder value,
so a column holding only nulls fingerprints the same whatever its declared type (its type is
hashed as ``null``): an all-null column of a CSV file (type ``null``) equals the same column
typed ``int64`` in Parquet. ``NaN`` is a value, distinct from null; every NaN payload is the
same NaN. ``-0.0`` and ``0.0`` are the same value (databases and text formats do not keep the
sign of zero). Column order matters; row order matters unless ``unordered=True``.

Hashing is vectorised and independent of how the rows are chunked: per column, separate
SHA-256 streams take the validity (one byte a row), the non-null fixed-width values
(little-endian) or, for strings and binaries, the lengths (int64) and the concatenated bytes.

>>> import pyarrow as pa
>>> a = fingerprint(pa.table({"x": pa.array([1, 2], pa.int32())}))
>>> a == fingerprint(pa.table({"x": [1, 2]})) and a.startswith("sha256:")
True
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table

__all__ = ["Fingerprinter", "fingerprint", "normalize", "normalized_type"]

_MAGIC = b"mlaudit-fingerprint-v1\n"
_TS = pa.timestamp("us", tz="UTC")


def normalized_type(t: pa.DataType, *, column: str | None = None) -> pa.DataType:
    """The canonical type ``t`` is hashed as (see the module table).

    >>> normalized_type(pa.int8()), normalized_type(pa.large_string())
    (DataType(int64), DataType(string))
    """
    if pa.types.is_dictionary(t):
        return normalized_type(t.value_type, column=column)
    if pa.types.is_integer(t):
        return pa.int64()
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return pa.float64()
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return pa.string()
    if (
        pa.types.is_binary(t)
        or pa.types.is_large_binary(t)
        or pa.types.is_fixed_size_binary(t)
        or pa.types.is_binary_view(t)
    ):
        return pa.binary()
    if pa.types.is_boolean(t) or pa.types.is_null(t):
        return t
    if pa.types.is_date(t):
        return pa.date32()
    if pa.types.is_timestamp(t):
        return _TS
    if pa.types.is_time(t):
        return pa.time64("us")
    if pa.types.is_duration(t):
        return pa.duration("us")
    raise InputError(
        f"cannot fingerprint a column of type {t}",
        column=column,
        hint="convert nested columns to strings (e.g. JSON text) first",
    )


def _normalize_column(values: pa.ChunkedArray, name: str) -> pa.ChunkedArray:
    t = values.type
    if pa.types.is_dictionary(t):
        values = values.cast(t.value_type)
        t = values.type
    target = normalized_type(t, column=name)
    if t == target:
        return values
    if pa.types.is_timestamp(t) and t.tz is None:
        values = values.cast(pa.timestamp(t.unit, tz="UTC"))  # naive: the same numbers, read as UTC
    if pa.types.is_unsigned_integer(t):
        try:
            return values.cast(target)
        except pa.ArrowInvalid as exc:
            raise InputError("an unsigned value does not fit in int64", column=name) from exc
    if pa.types.is_decimal(t):  # decimal -> float64 is an inexact cast by nature
        return values.cast(target, safe=False)
    # timestamps and times: truncating sub-microsecond digits is intended
    return values.cast(target, safe=not (pa.types.is_timestamp(t) or pa.types.is_time(t)))


def normalize(data: TableLike) -> pa.Table:
    """``data`` as a table with every column in its canonical type (see the module table).

    >>> normalize(pa.table({"t": pa.array(["a"]).dictionary_encode()})).schema.types
    [DataType(string)]
    """
    table = to_table(data)
    columns = [_normalize_column(c, n) for n, c in zip(table.column_names, table.columns, strict=True)]
    return pa.Table.from_arrays(columns, names=table.column_names)


def _le(values: np.ndarray[Any, Any], dtype: str) -> bytes:
    return np.ascontiguousarray(values, dtype=dtype).tobytes()


def _var_width_parts(arr: pa.Array) -> tuple[bytes, Any]:
    """(int64 lengths, concatenated bytes as a zero-copy buffer) of a string/binary array."""
    offsets_buf, data_buf = arr.buffers()[1], arr.buffers()[2]
    offsets = np.frombuffer(offsets_buf, dtype="<i4", count=arr.offset + len(arr) + 1)[arr.offset :]
    lengths = np.diff(offsets).astype("<i8")
    data = b"" if data_buf is None else data_buf[int(offsets[0]) : int(offsets[-1])]
    return lengths.tobytes(), data


@dataclass
class _ColumnHash:
    name: str
    type: pa.DataType | None = None  # None while only nulls have been seen
    validity: Any = field(default_factory=hashlib.sha256)
    values: Any = field(default_factory=hashlib.sha256)
    lengths: Any = field(default_factory=hashlib.sha256)

    def update(self, arr: pa.Array) -> None:
        if len(arr) == 0:
            return
        if arr.null_count:
            self.validity.update(_le(pc.is_valid(arr).to_numpy(zero_copy_only=False), "u1"))
            arr = pc.drop_null(arr)
        else:
            self.validity.update(b"\x01" * len(arr))
        if len(arr) == 0 or pa.types.is_null(arr.type):
            return
        if self.type is None:
            self.type = arr.type
        elif self.type != arr.type:
            raise InputError(
                f"the column changed type between batches ({self.type} then {arr.type})", column=self.name
            )
        t = arr.type
        if pa.types.is_string(t) or pa.types.is_binary(t):
            lengths, data = _var_width_parts(arr)
            self.lengths.update(lengths)
            self.values.update(data)
        elif pa.types.is_boolean(t):
            self.values.update(_le(arr.to_numpy(zero_copy_only=False), "u1"))
        elif pa.types.is_floating(t):
            v = arr.to_numpy(zero_copy_only=False) + 0.0  # -0.0 + 0.0 == +0.0
            v[np.isnan(v)] = np.nan  # one NaN bit pattern
            self.values.update(_le(v, "<f8"))
        elif pa.types.is_date32(t):
            self.values.update(_le(arr.view(pa.int32()).to_numpy(), "<i4"))
        else:  # int64, timestamp[us], time64[us], duration[us]: 64-bit integers
            self.values.update(_le(arr.view(pa.int64()).to_numpy(), "<i8"))

    def digest(self) -> bytes:
        name = self.name.encode("utf-8")
        kind = str(self.type if self.type is not None else pa.null()).encode()
        parts = [len(name).to_bytes(8, "little"), name, len(kind).to_bytes(8, "little"), kind]
        parts += [self.validity.digest(), self.values.digest(), self.lengths.digest()]
        return b"".join(parts)


class Fingerprinter:
    """Fingerprint a table fed as record batches, in bounded memory.

    ``update`` each batch (or table) in row order, then ``hexdigest()``: the result equals
    ``fingerprint(whole_table)``. Row order always counts here; for ``unordered=True`` the
    whole table must be sorted first, so use :func:`fingerprint`.

    >>> fp = Fingerprinter()
    >>> fp.update(pa.record_batch({"x": [1]})); fp.update(pa.record_batch({"x": [2]}))
    >>> fp.hexdigest() == fingerprint(pa.table({"x": [1, 2]}))
    True
    """

    def __init__(self) -> None:
        self._columns: list[_ColumnHash] | None = None
        self._rows = 0
        self._unordered = False  # set only by fingerprint(), after it sorted the rows

    @property
    def rows(self) -> int:
        """Rows seen so far."""
        return self._rows

    def update(self, batch: pa.RecordBatch | pa.Table) -> None:
        """Add the rows of ``batch``; its column names must match the first batch's."""
        names = list(batch.schema.names)
        if self._columns is None:
            self._columns = [_ColumnHash(name) for name in names]
        elif names != [c.name for c in self._columns]:
            raise InputError(
                f"batch columns {names} differ from the first batch's {[c.name for c in self._columns]}"
            )
        table = normalize(pa.Table.from_batches([batch]) if isinstance(batch, pa.RecordBatch) else batch)
        for state, column in zip(self._columns, table.columns, strict=True):
            for chunk in column.chunks:
                state.update(chunk)
        self._rows += table.num_rows

    def update_all(self, batches: Iterable[pa.RecordBatch | pa.Table]) -> Fingerprinter:
        """``update`` every batch of ``batches``; returns ``self``."""
        for batch in batches:
            self.update(batch)
        return self

    def hexdigest(self) -> str:
        """``"sha256:<hex>"`` of everything seen so far (more batches may follow)."""
        h = hashlib.sha256(_MAGIC)
        h.update(f"rows={self._rows};unordered={int(self._unordered)}\n".encode())
        for state in self._columns or []:
            h.update(state.digest())
        return "sha256:" + h.hexdigest()


def _sorted_rows(table: pa.Table) -> pa.Table:
    keyed = table.rename_columns([f"c{i}" for i in range(table.num_columns)])  # names may repeat
    keys = [(f"c{i}", "ascending") for i, t in enumerate(table.schema.types) if not pa.types.is_null(t)]
    if not keys or table.num_rows < 2:
        return table
    order = pc.sort_indices(keyed, sort_keys=keys)  # nulls go last by default
    return table.take(order)


def fingerprint(data: TableLike, *, unordered: bool = False) -> str:
    """``"sha256:<hex>"`` of ``data``'s column names, normalized types and values.

    ``unordered=True`` sorts the rows by every column first, so any row order of the same rows
    gives the same fingerprint (different from the ordered one). Accepts anything
    :func:`mlaudit.frames.to_table` does (Arrow, pandas, polars, dicts, file paths).

    >>> fingerprint({"x": [2, 1]}, unordered=True) == fingerprint({"x": [1, 2]}, unordered=True)
    True
    """
    table = normalize(data)
    if unordered:
        table = _sorted_rows(table)
    fp = Fingerprinter()
    fp._unordered = unordered
    fp.update(table)
    return fp.hexdigest()
