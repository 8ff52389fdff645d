"""Turn whatever the caller has into a ``pyarrow.Table``, mlaudit's one internal table format.

Accepted: ``pyarrow.Table`` / ``RecordBatch``, pandas and polars DataFrames, NumPy arrays
(2-D, or structured), a ``dict`` of equal-length sequences, a list of records (dicts), and
paths of CSV, Parquet and JSON Lines files. Anything else, or a file that cannot be read, is
an :class:`InputError` that names the file (and the row or column where it can; for CSV files
``row`` is the line number, the header being line 1).

>>> to_table({"age": [31, 45], "sex": ["F", "M"]}).num_rows
2
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pyarrow as pa

from mlaudit.errors import InputError

__all__ = ["FileFormat", "TableLike", "file_format", "is_spark_frame", "read_file", "to_table"]

FileFormat = Literal["csv", "parquet", "jsonl"]
TableLike = Any  # pa.Table | pandas.DataFrame | polars.DataFrame | np.ndarray | Mapping | str | Path

_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "jsonl",
}


def file_format(path: str | os.PathLike[str], explicit: str | None = None) -> FileFormat:
    """The format of ``path`` from its suffix (``.csv.gz`` counts as csv), or ``explicit``."""
    if explicit is not None:
        if explicit not in ("csv", "parquet", "jsonl"):
            raise InputError(f"unknown format {explicit!r}; use csv, parquet or jsonl")
        return explicit  # type: ignore[return-value]
    name = str(path).lower()
    for comp in (".gz", ".bz2", ".zst", ".lz4"):
        if name.endswith(comp):
            name = name[: -len(comp)]
    suffix = os.path.splitext(name)[1]
    if suffix not in _SUFFIXES:
        raise InputError(
            "cannot tell the file format from its name",
            path=str(path),
            hint="name it .csv, .parquet or .jsonl, or pass the format explicitly",
        )
    return _SUFFIXES[suffix]


def read_file(path: str | os.PathLike[str], *, format: str | None = None) -> pa.Table:
    """Read one local CSV, Parquet or JSON Lines file into a table, with clear errors."""
    p = Path(path)
    fmt = file_format(p, format)
    if not p.exists():
        raise InputError("no such file", path=str(p))
    if p.is_dir():
        raise InputError("is a folder, not a file", path=str(p))
    if p.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", path=str(p))
    try:
        if fmt == "parquet":
            import pyarrow.parquet as pq

            return pq.read_table(p)
        if fmt == "jsonl":
            import pyarrow.json as pj

            return pj.read_json(p)
        return _read_csv(p)
    except InputError:
        raise
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError, UnicodeDecodeError) as exc:
        raise InputError(_arrow_message(exc), path=str(p)) from exc


def _read_csv(p: Path) -> pa.Table:
    import pyarrow.csv as pc

    bad: list[tuple[int | None, str]] = []

    def on_invalid(row: Any) -> str:
        bad.append((row.number, f"expected {row.expected_columns} columns, got {row.actual_columns}"))
        return "error"

    delimiter = "\t" if p.name.lower().endswith((".tsv", ".tsv.gz")) else ","

    def read(threads: bool) -> pa.Table:
        return pc.read_csv(
            p,
            read_options=pc.ReadOptions(use_threads=threads),
            parse_options=pc.ParseOptions(delimiter=delimiter, invalid_row_handler=on_invalid),
        )

    try:
        table = read(True)
    except pa.ArrowInvalid as exc:
        if bad:
            if bad[0][0] is None or bad[0][0] < 0:  # row numbers are known only single-threaded
                bad.clear()
                with contextlib.suppress(pa.ArrowInvalid):
                    read(False)
            number, what = bad[0]
            raise InputError(
                f"ragged row: {what}", path=str(p), row=number if number and number > 0 else None
            ) from exc
        if "Empty CSV file" in str(exc):
            raise InputError("the file has no header and no rows", path=str(p)) from exc
        raise
    for name, column in zip(table.column_names, table.columns, strict=True):
        if pa.types.is_binary(column.type) or pa.types.is_large_binary(column.type):
            raise InputError(
                "the file is not valid UTF-8 text; re-encode it as UTF-8",
                path=str(p),
                column=name,
                row=_first_non_utf8(column),
            )
    return table


def _first_non_utf8(column: pa.ChunkedArray) -> int | None:
    for i, value in enumerate(column.to_pylist()):  # error path only
        if value is not None:
            try:
                value.decode("utf-8")
            except UnicodeDecodeError:
                return i + 2  # line number: the header is line 1
    return None


def _arrow_message(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    if isinstance(exc, UnicodeDecodeError) or "invalid UTF8" in text or "UTF-8" in text:
        return f"the file is not valid UTF-8 text ({text}); re-encode it as UTF-8"
    return f"cannot read the file: {text}"


def to_table(data: TableLike, *, format: str | None = None) -> pa.Table:
    """Convert ``data`` to a ``pyarrow.Table`` (see the module docstring for what is accepted)."""
    if isinstance(data, pa.Table):
        return data
    if isinstance(data, pa.RecordBatch):
        return pa.Table.from_batches([data])
    if isinstance(data, (str, os.PathLike)):
        return read_file(data, format=format)
    module = type(data).__module__.split(".")[0]
    if module == "pandas":
        return _from_pandas(data)
    if module == "polars":
        if hasattr(data, "collect"):  # LazyFrame
            data = data.collect()
        return data.to_arrow()
    if is_spark_frame(data):
        raise InputError(
            "a Spark DataFrame is not loaded into memory: profile(), run_rules() and "
            "DriftDetector accept it directly",
            hint="or use mlaudit.engines.spark (profile, check, fit, compare)",
        )
    if isinstance(data, np.ndarray):
        return _from_numpy(data)
    if isinstance(data, Mapping):
        return _from_mapping(data)
    if isinstance(data, (list, tuple)) and data and all(isinstance(r, Mapping) for r in data):
        return _from_records(data)
    raise InputError(
        f"cannot use a {type(data).__name__} as a table",
        hint="pass a pyarrow Table, pandas or polars DataFrame, NumPy array, dict of lists or a file path",
    )


def is_spark_frame(obj: Any) -> bool:
    """Whether ``obj`` is a Spark DataFrame (checked without importing pyspark).

    >>> is_spark_frame({"a": [1]})
    False
    """
    return type(obj).__module__.startswith("pyspark.sql") and hasattr(obj, "mapInArrow")


def _from_pandas(df: Any) -> pa.Table:
    try:
        return pa.Table.from_pandas(df, preserve_index=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        column = _column_in_message(str(exc), [str(c) for c in df.columns])
        raise InputError(f"mixed or unsupported values: {exc}", column=column) from exc


def _from_numpy(arr: np.ndarray) -> pa.Table:
    if arr.dtype.names:  # structured array: one column per field
        return pa.table({name: arr[name] for name in arr.dtype.names})
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2:
        raise InputError(f"a NumPy array must be 1-D or 2-D, not {arr.ndim}-D")
    return pa.table({f"x{i}": arr[:, i] for i in range(arr.shape[1])})


def _from_mapping(data: Mapping[Any, Any]) -> pa.Table:
    lengths = {str(k): len(v) for k, v in data.items() if isinstance(v, (Sequence, np.ndarray, pa.Array))}
    if len(lengths) != len(data):
        missing = [str(k) for k in data if str(k) not in lengths]
        raise InputError("each value of the dict must be a sequence", column=missing[0])
    if len(set(lengths.values())) > 1:
        first = next(iter(lengths.values()))
        odd = next(k for k, n in lengths.items() if n != first)
        raise InputError(
            f"columns have different lengths ({lengths[odd]} here, {first} in the first column)",
            column=odd,
        )
    columns = {}
    for key, values in data.items():
        try:
            columns[str(key)] = pa.array(values)
        except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
            raise InputError(f"mixed or unsupported values: {exc}", column=str(key)) from exc
    return pa.table(columns)


def _from_records(records: Sequence[Mapping[str, Any]]) -> pa.Table:
    """A batch of records (e.g. pushed over HTTP): keys are columns, missing keys are nulls."""
    names: dict[str, None] = {}
    for record in records:
        for key in record:
            names.setdefault(str(key), None)
    try:
        # column by column over the union of keys: from_pylist would take the keys of the first
        # record only and silently drop the others
        rows = [{str(k): v for k, v in r.items()} for r in records]
        return pa.table({name: pa.array([r.get(name) for r in rows]) for name in names})
    except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
        for name in names:
            try:
                pa.array([r.get(name) for r in records])
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                raise InputError(f"mixed or unsupported values: {exc}", column=name) from exc
        raise InputError(f"cannot use the records as a table: {exc}") from exc


def _column_in_message(message: str, columns: list[str]) -> str | None:
    for name in columns:
        if f"'{name}'" in message or f"column {name}" in message:
            return name
    return None
