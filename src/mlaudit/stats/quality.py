"""Data quality rules: one function per rule, an Arrow table in, a :class:`Result` out.

Every rule has the same shape ``f(table, *, <rule params>, severity="fail", examples=5,
name=None) -> Result`` and is vectorised with :mod:`pyarrow.compute`. ``Result.details``
always holds ``rule``, ``rows`` (rows checked), ``offending`` (count) and ``examples`` (up to
``examples`` offending rows as ``{"row": <0-based index>, "values": {column: value}}``, with
the rule's columns only), plus the rule's parameters.

Status: ``pass`` when nothing offends, else the rule's ``severity`` (``fail`` or ``warn``).
A rule that cannot run on this table (a missing column, a column of the wrong type) gives
``error`` with ``details["reason"]``. Bad parameters (``range`` with neither bound, a broken
regex) are the caller's mistake and raise :class:`InputError`.

Nulls are not offending except in ``not_null`` (and ``expression``, where a row passes only
when its predicate is TRUE): write one ``not_null`` rule per column that must be filled.

>>> import pyarrow as pa
>>> r = range_(pa.table({"age": [17, 30, 130]}), column="age", min=18, max=120)
>>> r.status, r.details["offending"], [e["row"] for e in r.details["examples"]]
('fail', 2, [0, 2])
"""

from __future__ import annotations

import datetime as dt
import decimal
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal, cast

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError
from mlaudit.stats.result import Result, Status

__all__ = [
    "Kind",
    "Severity",
    "allowed_values",
    "expression",
    "freshness",
    "not_null",
    "parse_duration",
    "range_",
    "referential",
    "regex",
    "row_count",
    "type_",
    "unique",
]

Severity = Literal["fail", "warn"]
Kind = Literal["numeric", "integer", "string", "boolean", "datetime"]
KINDS: tuple[str, ...] = ("numeric", "integer", "string", "boolean", "datetime")
DEFAULT_EXAMPLES = 5

# What a string value must look like to count as each kind (the `type` rule on text columns).
_TEXT_PATTERNS: dict[str, str] = {
    "integer": r"\s*[+-]?\d+\s*",
    "numeric": r"\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*|\s*(?i:[+-]?(inf|infinity|nan))\s*",
    "boolean": r"(?i:true|false|t|f|yes|no|y|n|1|0)",
    "datetime": r"\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?)?",
}
_DURATION = re.compile(r"\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*", re.IGNORECASE)
_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


# --- shared plumbing -------------------------------------------------------------------------


def _plain(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """Dictionary-encoded columns compare like their values."""
    if pa.types.is_dictionary(values.type):
        return values.cast(values.type.value_type)
    return values


def _is_text(kind: pa.DataType) -> bool:
    return bool(pa.types.is_string(kind) or pa.types.is_large_string(kind))


def _json_value(value: Any) -> Any:
    """A JSON-friendly version of one cell (non-finite floats become 'nan'/'inf' strings)."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, (list, tuple)):
        return [_json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _json_value(v) for k, v in value.items()}
    return value


def _row_index(table: pa.Table) -> str:
    """A column name not used by ``table``, for carrying row numbers through a filter."""
    index = "__mlaudit_row__"
    while index in table.column_names:
        index += "_"
    return index


@dataclass(frozen=True)
class _Run:
    """One rule applied to one table: builds its Result the same way for every rule."""

    rule: str
    check: str
    table: pa.Table
    params: dict[str, Any]
    severity: Severity = "fail"
    examples: int = DEFAULT_EXAMPLES

    @classmethod
    def of(
        cls,
        rule: str,
        table: pa.Table,
        name: str | None,
        columns: Sequence[str],
        severity: str,
        examples: int,
        /,
        **params: Any,
    ) -> _Run:
        if severity not in ("fail", "warn"):
            raise InputError(f"severity must be 'fail' or 'warn', not {severity!r}")
        check = name or (f"{rule}({','.join(columns)})" if columns else rule)
        return cls(rule, check, table, params, cast(Severity, severity), examples)

    def missing(self, columns: Sequence[str]) -> Result | None:
        """An error Result when one of ``columns`` is not in the table."""
        absent = [c for c in columns if c not in self.table.column_names]
        if not absent:
            return None
        names = ", ".join(self.table.column_names)
        return self.error(f"no column {absent[0]!r} in the data (columns: {names})")

    def _details(self, offending: int | None, examples: list[dict[str, Any]]) -> dict[str, Any]:
        details: dict[str, Any] = {
            "rule": self.rule,
            "rows": self.table.num_rows,
            "offending": offending,
            "examples": examples,
            "severity": self.severity,
        }
        details.update({k: _json_value(v) for k, v in self.params.items()})
        return details

    def error(self, reason: str) -> Result:
        return Result(
            self.check, "error", None, None, {**self._details(None, []), "reason": reason}
        )

    def rows(
        self,
        offending: pa.ChunkedArray | pa.Array,
        columns: Sequence[str],
        *,
        value: float | None = None,
        threshold: float | None = 0.0,
        violated: bool | None = None,
    ) -> Result:
        """The Result of a row-wise rule: ``offending`` is TRUE on bad rows (null = ok)."""
        indices = pc.indices_nonzero(pc.fill_null(offending, False))
        if isinstance(indices, pa.ChunkedArray):
            indices = indices.combine_chunks()
        count = len(indices)
        bad = count > 0 if violated is None else violated
        details = self._details(count, self._examples(indices, columns))
        value = float(count) if value is None else value
        return Result(self.check, self.severity if bad else "pass", value, threshold, details)

    def whole(self, bad: bool, value: float | None, threshold: float | None) -> Result:
        """The Result of a table-level rule (offending is 0 or 1, no examples)."""
        status: Status = self.severity if bad else "pass"
        return Result(self.check, status, value, threshold, self._details(int(bad), []))

    def _examples(self, indices: pa.Array, columns: Sequence[str]) -> list[dict[str, Any]]:
        if self.examples <= 0 or len(indices) == 0:
            return []
        first = indices.slice(0, self.examples)
        picked = self.table.select(list(columns)).take(first).to_pylist() if columns else None
        rows = picked if picked is not None else [{}] * len(first)
        return [
            {"row": int(i), "values": {k: _json_value(v) for k, v in row.items()}}
            for i, row in zip(first.to_pylist(), rows, strict=True)
        ]


# --- the rules -------------------------------------------------------------------------------


def not_null(
    table: pa.Table,
    *,
    column: str,
    max_null_rate: float | None = None,
    nan_is_null: bool = True,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Nulls (and NaN, unless ``nan_is_null=False``) in ``column``; tolerate ``max_null_rate``.

    Without ``max_null_rate`` any null offends (value = null count, threshold 0); with it the
    value is the null rate and the rule is violated when the rate exceeds it.

    >>> not_null(pa.table({"id": [1, None, 3]}), column="id").details["offending"]
    1
    """
    extra = {} if max_null_rate is None else {"max_null_rate": max_null_rate}
    run = _Run.of("not_null", table, name, [column], severity, examples, column=column, **extra)
    if max_null_rate is not None and not 0 <= max_null_rate <= 1:
        raise InputError(f"max_null_rate must be between 0 and 1, not {max_null_rate}")
    if failed := run.missing([column]):
        return failed
    values = table.column(column)
    mask = pc.is_null(values, nan_is_null=nan_is_null and pa.types.is_floating(values.type))
    if max_null_rate is None:
        return run.rows(mask, [column])
    nulls = pc.sum(mask.cast(pa.int64())).as_py() or 0
    rate = nulls / table.num_rows if table.num_rows else 0.0
    return run.rows(
        mask, [column], value=rate, threshold=max_null_rate, violated=rate > max_null_rate
    )


def range_(
    table: pa.Table,
    *,
    column: str,
    min: Any = None,
    max: Any = None,
    min_inclusive: bool = True,
    max_inclusive: bool = True,
    allow_nan: bool = False,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Values of a numeric or temporal ``column`` outside ``[min, max]``.

    Nulls are skipped. NaN offends unless ``allow_nan``; ±inf is compared like any number
    (so ``inf`` offends only when ``max`` is set). Bounds of temporal columns may be ISO text.

    >>> range_(pa.table({"x": [0.5, float("nan")]}), column="x", min=0).details["offending"]
    1
    """
    if min is None and max is None:
        raise InputError("the range rule needs 'min', 'max' or both", column=column)
    # Only non-default flags go into the details, to keep reports short.
    flags: dict[str, bool] = {}
    if not min_inclusive:
        flags["min_inclusive"] = False
    if not max_inclusive:
        flags["max_inclusive"] = False
    if allow_nan:
        flags["allow_nan"] = True
    run = _Run.of(
        "range", table, name, [column], severity, examples, column=column, min=min, max=max, **flags
    )
    if failed := run.missing([column]):
        return failed
    values = _plain(table.column(column))
    kind = values.type
    t = pa.types
    if not (t.is_integer(kind) or t.is_floating(kind) or t.is_decimal(kind) or t.is_temporal(kind)):
        return run.error(f"column {column!r} is {kind}, not numeric or temporal")
    parts = []
    try:
        if min is not None:
            low = _bound(min, kind)
            parts.append(pc.less(values, low) if min_inclusive else pc.less_equal(values, low))
        if max is not None:
            high = _bound(max, kind)
            parts.append(
                pc.greater(values, high) if max_inclusive else pc.greater_equal(values, high)
            )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError) as exc:
        return run.error(f"cannot compare {kind} with the bounds: {exc}")
    bad = parts[0] if len(parts) == 1 else pc.or_(parts[0], parts[1])
    if t.is_floating(kind) and not allow_nan:
        bad = pc.or_(bad, pc.is_nan(values))
    return run.rows(bad, [column])


def _bound(value: Any, kind: pa.DataType) -> pa.Scalar:
    if not pa.types.is_temporal(kind):
        if isinstance(value, bool) or not isinstance(value, (int, float, decimal.Decimal)):
            raise ValueError(f"bound {value!r} is not a number")
        return pa.scalar(value)
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    if pa.types.is_timestamp(kind):
        if not isinstance(value, dt.datetime) and isinstance(value, dt.date):
            value = dt.datetime(value.year, value.month, value.day)
        if isinstance(value, dt.datetime) and kind.tz is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        elif isinstance(value, dt.datetime) and kind.tz is None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return pa.scalar(value).cast(kind)


def allowed_values(
    table: pa.Table,
    *,
    column: str,
    values: Sequence[Any],
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Non-null values of ``column`` that are not among ``values``.

    >>> allowed_values(pa.table({"s": ["a", "b", "c"]}), column="s", values=["a", "b"]).value
    1.0
    """
    if isinstance(values, (str, bytes)) or not isinstance(values, Sequence):
        raise InputError("allowed_values needs 'values' as a list", column=column)
    run = _Run.of(
        "allowed_values",
        table,
        name,
        [column],
        severity,
        examples,
        column=column,
        values=list(values),
    )
    return _not_in(run, column, pa.array(list(values)))


def _not_in(run: _Run, column: str, value_set: pa.Array | pa.ChunkedArray) -> Result:
    if failed := run.missing([column]):
        return failed
    values = _plain(run.table.column(column))
    value_set = _plain(value_set)
    try:
        if value_set.type != values.type:
            value_set = value_set.cast(values.type)
        inside = pc.is_in(values, value_set=value_set)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        return run.error(
            f"cannot compare column {column!r} ({values.type}) with the values "
            f"({value_set.type}): {exc}"
        )
    return run.rows(pc.and_(pc.is_valid(values), pc.invert(inside)), [column])


def regex(
    table: pa.Table,
    *,
    column: str,
    pattern: str,
    ignore_case: bool = False,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Non-null strings of ``column`` that do not fully match ``pattern`` (RE2 syntax, anchored).

    >>> regex(pa.table({"z": ["12345", "1234x"]}), column="z", pattern=r"\\d{5}").value
    1.0
    """
    extra = {"ignore_case": True} if ignore_case else {}
    run = _Run.of(
        "regex", table, name, [column], severity, examples, column=column, pattern=pattern, **extra
    )
    anchored = validate_regex(pattern)
    if failed := run.missing([column]):
        return failed
    values = _plain(table.column(column))
    if not _is_text(values.type):
        return run.error(f"column {column!r} is {values.type}, not text")
    matched = pc.match_substring_regex(values, anchored, ignore_case=ignore_case)
    return run.rows(pc.invert(matched), [column])


def validate_regex(pattern: str) -> str:
    """The anchored (full-match) form of ``pattern``; :class:`InputError` if RE2 rejects it.

    >>> validate_regex("a|b")
    '\\\\A(?:a|b)\\\\z'
    """
    if not isinstance(pattern, str):
        raise InputError(f"a regex pattern must be text, not {pattern!r}")
    anchored = rf"\A(?:{pattern})\z"
    try:
        pc.match_substring_regex(pa.array([""]), anchored)
    except pa.ArrowInvalid as exc:
        raise InputError(f"bad regular expression {pattern!r}: {exc}") from exc
    return anchored


def unique(
    table: pa.Table,
    *,
    column: str | None = None,
    columns: Sequence[str] | None = None,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Rows whose key (``column``, or the compound ``columns``) occurs more than once.

    Every row of a duplicated key offends (pandas ``duplicated(keep=False)``); rows with a null
    in the key are skipped, as SQL ``UNIQUE`` does. ``details["duplicate_keys"]`` counts keys.

    >>> unique(pa.table({"id": [1, 2, 2, 2]}), column="id").details["offending"]
    3
    """
    if (column is None) == (columns is None) or isinstance(columns, str):
        raise InputError("the unique rule needs either 'column' or 'columns' (a list)")
    keys = [column] if column is not None else list(columns or [])
    if not keys:
        raise InputError("'columns' must be a non-empty list of column names")
    key_param = {"column": column} if column is not None else {"columns": keys}
    run = _Run.of("unique", table, name, keys, severity, examples, **key_param)
    if failed := run.missing(keys):
        return failed
    try:
        mask, duplicate_keys = _duplicates(table, keys)
    except (pa.ArrowNotImplementedError, pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        return run.error(f"cannot group by {keys}: {exc}")
    run.params["duplicate_keys"] = duplicate_keys
    return run.rows(mask, keys)


def _duplicates(table: pa.Table, keys: list[str]) -> tuple[pa.Array, int]:
    """(mask of rows whose non-null key repeats, number of repeated keys)."""
    if len(keys) == 1:
        values = _plain(table.column(keys[0]))
        counts = pc.value_counts(values)
        repeated = counts.field("values").filter(pc.greater(counts.field("counts"), 1))
        repeated = pc.drop_null(repeated)
        mask = pc.and_(pc.is_valid(values), pc.is_in(values, value_set=repeated))
        return mask, len(repeated)
    index = _row_index(table)
    part = table.select(keys).append_column(index, pa.array(range(table.num_rows), pa.int64()))
    valid = pc.is_valid(part.column(keys[0]))
    for key in keys[1:]:
        valid = pc.and_(valid, pc.is_valid(part.column(key)))
    part = part.filter(valid)
    groups = part.group_by(keys).aggregate([([], "count_all")])
    repeated_keys = groups.filter(pc.greater(groups.column("count_all"), 1)).select(keys)
    rows = part.join(repeated_keys, keys, join_type="left semi").column(index)
    return _mark(table.num_rows, rows), repeated_keys.num_rows


def _mark(n: int, indices: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A boolean mask of length ``n`` that is TRUE at ``indices``."""
    mask = np.zeros(n, dtype=bool)
    if len(indices):
        flat = indices.combine_chunks() if isinstance(indices, pa.ChunkedArray) else indices
        mask[flat.to_numpy(zero_copy_only=False)] = True
    return pa.array(mask)


def type_(
    table: pa.Table,
    *,
    column: str,
    kind: Kind,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Values of ``column`` that are not of ``kind`` (numeric, integer, string, boolean, datetime).

    A column stored as that kind passes. A text column is checked value by value (``"12"`` is
    an integer, ``"n/a"`` is not, datetimes are ISO 8601); ``integer`` on a float column flags
    non-whole values, ``boolean`` on an integer column values other than 0/1. Any other stored
    type offends on every non-null value (``details["actual_type"]`` says what it is).

    >>> type_(pa.table({"n": ["1", "2", "n/a"]}), column="n", kind="integer").value
    1.0
    """
    if kind not in KINDS:
        raise InputError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}", column=column)
    run = _Run.of("type", table, name, [column], severity, examples, column=column, kind=kind)
    if failed := run.missing([column]):
        return failed
    values = _plain(table.column(column))
    actual = values.type
    run.params["actual_type"] = str(actual)
    if _stored_as(actual, kind):
        bad = pc.and_(pc.is_null(values), pc.is_valid(values))  # all False
    elif _is_text(actual):
        ok = pc.match_substring_regex(values, rf"\A(?:{_TEXT_PATTERNS[kind]})\z")
        bad = pc.invert(ok) if kind != "string" else pc.is_null(values)
    elif kind == "integer" and pa.types.is_floating(actual):
        bad = pc.or_(pc.invert(pc.is_finite(values)), pc.not_equal(values, pc.trunc(values)))
    elif kind == "boolean" and pa.types.is_integer(actual):
        bad = pc.invert(pc.is_in(values, value_set=pa.array([0, 1], actual)))
    else:
        bad = pc.is_valid(values)
    return run.rows(bad, [column])


def _stored_as(actual: pa.DataType, kind: str) -> bool:
    t = pa.types
    if kind == "numeric":
        return bool(t.is_integer(actual) or t.is_floating(actual) or t.is_decimal(actual))
    if kind == "integer":
        return bool(t.is_integer(actual))
    if kind == "string":
        return _is_text(actual)
    if kind == "boolean":
        return bool(t.is_boolean(actual))
    return bool(t.is_timestamp(actual) or t.is_date(actual))


def row_count(
    table: pa.Table,
    *,
    min: int | None = None,
    max: int | None = None,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """The table has between ``min`` and ``max`` rows (value = rows; offending is 0 or 1).

    >>> row_count(pa.table({"a": [1]}), min=2).status
    'fail'
    """
    if min is None and max is None:
        raise InputError("the row_count rule needs 'min', 'max' or both")
    run = _Run.of("row_count", table, name, [], severity, examples, min=min, max=max)
    rows = table.num_rows
    too_many = max is not None and rows > max
    bad = too_many or (min is not None and rows < min)
    threshold = max if (too_many or min is None) else min
    return run.whole(bad, float(rows), None if threshold is None else float(threshold))


def parse_duration(value: str | float | dt.timedelta) -> dt.timedelta:
    """``"24h"``, ``"7d"``, ``"1d12h"``, ``"90m"``, ``"30s"``, ``"2w"`` or seconds → a timedelta.

    >>> parse_duration("1d12h")
    datetime.timedelta(days=1, seconds=43200)
    """
    if isinstance(value, dt.timedelta):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return dt.timedelta(seconds=float(value))
    text = str(value)
    if re.fullmatch(r"\s*\d+(\.\d+)?\s*", text):
        return dt.timedelta(seconds=float(text))
    pos, seconds = 0, 0.0
    for match in _DURATION.finditer(text):
        if match.start() != pos:
            break
        seconds += float(match.group(1)) * _SECONDS[match.group(2).lower()]
        pos = match.end()
    if pos != len(text) or pos == 0:
        raise InputError(
            f"cannot read the duration {text!r}", hint="write it like 30m, 24h, 7d or 1d12h"
        )
    return dt.timedelta(seconds=seconds)


def freshness(
    table: pa.Table,
    *,
    column: str,
    max_age: str | float | dt.timedelta,
    now: dt.datetime | None = None,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """The newest value of a timestamp/date ``column`` is at most ``max_age`` older than ``now``.

    Value = age of the newest value in seconds, threshold = ``max_age`` in seconds. Naive
    timestamps are read as UTC; ``now`` defaults to the current UTC time. A column with no
    values at all is stale.

    >>> now = dt.datetime(2024, 1, 2, tzinfo=dt.UTC)
    >>> t = pa.table({"ts": [dt.datetime(2024, 1, 1)]})
    >>> freshness(t, column="ts", max_age="12h", now=now).status
    'fail'
    """
    limit = parse_duration(max_age).total_seconds()
    now = now or dt.datetime.now(dt.UTC)
    now = now if now.tzinfo is not None else now.replace(tzinfo=dt.UTC)
    run = _Run.of(
        "freshness",
        table,
        name,
        [column],
        severity,
        examples,
        column=column,
        max_age=str(max_age),
        now=now,
    )
    if failed := run.missing([column]):
        return failed
    values = _plain(table.column(column))
    if _is_text(values.type):
        try:
            values = values.cast(pa.timestamp("us"))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            return run.error(f"column {column!r} holds text that is not ISO timestamps: {exc}")
    if not (pa.types.is_timestamp(values.type) or pa.types.is_date(values.type)):
        return run.error(f"column {column!r} is {values.type}, not a timestamp or date")
    newest = pc.max(values).as_py()
    if newest is None:
        run.params["newest"] = None
        return run.whole(True, None, limit)
    if not isinstance(newest, dt.datetime):
        newest = dt.datetime(newest.year, newest.month, newest.day)
    newest = newest if newest.tzinfo is not None else newest.replace(tzinfo=dt.UTC)
    run.params["newest"] = newest
    age = (now - newest).total_seconds()
    return run.whole(age > limit, age, limit)


def referential(
    table: pa.Table,
    *,
    column: str,
    reference: pa.Table | pa.Array | pa.ChunkedArray,
    reference_column: str | None = None,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Non-null values of ``column`` missing from ``reference[reference_column]`` (a foreign key).

    >>> ref = pa.table({"id": [1, 2]})
    >>> t = pa.table({"cid": [1, 3]})
    >>> referential(t, column="cid", reference=ref, reference_column="id").value
    1.0
    """
    ref_col = reference_column or column
    run = _Run.of(
        "referential",
        table,
        name,
        [column],
        severity,
        examples,
        column=column,
        reference_column=ref_col,
    )
    if isinstance(reference, pa.Table):
        if ref_col not in reference.column_names:
            names = ", ".join(reference.column_names)
            return run.error(f"no column {ref_col!r} in the reference table (columns: {names})")
        reference = reference.column(ref_col)
    keys = pc.unique(pc.drop_null(_plain(reference)))
    run.params["reference_keys"] = len(keys)
    return _not_in(run, column, keys)


def expression(
    table: pa.Table,
    *,
    predicate: pc.Expression,
    columns: Sequence[str] = (),
    expr: str | None = None,
    severity: Severity = "fail",
    examples: int = DEFAULT_EXAMPLES,
    name: str | None = None,
) -> Result:
    """Rows where the boolean ``predicate`` is not TRUE (FALSE or NULL both offend).

    ``columns`` are the columns the predicate reads (shown in the examples); ``expr`` is its
    text, for the report. :func:`mlaudit.checks.parse_expression` builds both from SQL-like text.

    >>> p = pc.field("amount") >= 0
    >>> expression(pa.table({"amount": [1, -2]}), predicate=p, columns=["amount"]).value
    1.0
    """
    label = expr if expr is not None else str(predicate)
    run = _Run.of(
        "expression", table, name or f"expression({label})", [], severity, examples, expr=label
    )
    if failed := run.missing(columns):
        return failed
    index = _row_index(table)
    indexed = table.append_column(index, pa.array(range(table.num_rows), pa.int64()))
    try:
        failing = indexed.filter(pc.invert(pc.coalesce(predicate, pa.scalar(False))))
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return run.error(f"cannot evaluate {label!r}: {first}")
    return run.rows(_mark(table.num_rows, failing.column(index)), list(columns))
