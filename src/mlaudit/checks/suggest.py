"""Infer a starter rules file from data: :func:`suggest_rules` and :func:`rules_to_yaml`.

What is suggested, per column: ``type`` (the stored kind), ``not_null`` when it has no nulls,
``range`` from the observed min/max widened by ``margin`` of the spread (never below 0 for
non-negative data; ``allow_nan`` if NaN was seen), ``allowed_values`` for text with at most
``max_categories`` distinct values that repeat, ``unique`` for id-like columns (``id``,
``*_id``, ``*_key``, ``uuid``) without duplicates; plus ``row_count`` of at least half the rows.
The suggestions pass on the data they came from; edit them before relying on them.

>>> import pyarrow as pa
>>> rules = suggest_rules(pa.table({"user_id": [1, 2, 3], "age": [20, 30, 40]}))
>>> [r.kind for r in rules]
['row_count', 'type', 'not_null', 'range', 'unique', 'type', 'not_null', 'range']
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import yaml

from mlaudit.checks.rules import Rule
from mlaudit.frames import TableLike, to_table

__all__ = ["rules_to_yaml", "suggest_rules"]

_ID_LIKE = re.compile(r"(^|_)(id|uuid|guid|key)$", re.IGNORECASE)


def suggest_rules(data: TableLike, *, max_categories: int = 20, margin: float = 0.1) -> list[Rule]:
    """Starter rules that hold on ``data`` (see the module docstring for what is inferred)."""
    table = to_table(data)
    rows = table.num_rows
    rules: list[Rule] = []
    if rows > 0:
        rules.append(Rule.of("row_count", min=max(1, rows // 2)))
    for name in table.column_names:
        rules.extend(_column_rules(table, name, max_categories, margin))
    return rules


def _kind(t: pa.DataType) -> str | None:
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_integer(t):
        return "integer"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "numeric"
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "string"
    if pa.types.is_timestamp(t) or pa.types.is_date(t):
        return "datetime"
    return None


def _column_rules(table: pa.Table, name: str, max_categories: int, margin: float) -> list[Rule]:
    values = table.column(name)
    if pa.types.is_dictionary(values.type):
        values = values.cast(values.type.value_type)
    kind = _kind(values.type)
    rules: list[Rule] = []
    if kind is not None:
        rules.append(Rule.of("type", column=name, kind=kind))
    is_float = pa.types.is_floating(values.type)
    nulls = pc.sum(pc.is_null(values, nan_is_null=is_float).cast(pa.int64())).as_py() or 0
    filled = table.num_rows - nulls
    if table.num_rows > 0 and nulls == 0:
        rules.append(Rule.of("not_null", column=name))
    if filled == 0:
        return rules
    if kind == "integer" or (kind == "numeric" and is_float):
        rules.extend(_range(values, name, margin, integer=kind == "integer"))
    distinct = pc.count_distinct(values).as_py()
    if kind == "string" and distinct <= max_categories and distinct * 2 <= filled:
        allowed = sorted(pc.unique(pc.drop_null(values)).to_pylist())
        rules.append(Rule.of("allowed_values", column=name, values=allowed))
    if kind in ("integer", "string") and _ID_LIKE.search(name) and distinct == filled:
        rules.append(Rule.of("unique", column=name))
    return rules


def _range(values: pa.ChunkedArray, name: str, margin: float, *, integer: bool) -> list[Rule]:
    bounds = pc.min_max(values)  # skips nulls and NaN
    low, high = bounds["min"].as_py(), bounds["max"].as_py()
    if low is None or high is None:
        return []
    pad = margin * (high - low) if high > low else margin * max(abs(high), 1.0)
    lo, hi = _widen(low, high, pad, integer=integer)
    params: dict[str, Any] = {}
    if math.isfinite(low):
        params["min"] = max(lo, 0) if low >= 0 else lo
    if math.isfinite(high):
        params["max"] = hi
    if not params:
        return []
    if not integer and pc.any(pc.is_nan(values)).as_py():
        params["allow_nan"] = True
    return [Rule.of("range", column=name, **params)]


def _widen(low: float, high: float, pad: float, *, integer: bool) -> tuple[Any, Any]:
    """``[low - pad, high + pad]`` rounded outward to a readable step."""
    if not (math.isfinite(pad) and pad > 0):
        return low, high
    if integer:
        return math.floor(low - pad), math.ceil(high + pad)
    exponent = math.floor(math.log10(pad))
    step = 10.0**exponent
    digits = max(0, -exponent)
    lo = round(math.floor((low - pad) / step) * step, digits) if math.isfinite(low) else low
    hi = round(math.ceil((high + pad) / step) * step, digits) if math.isfinite(high) else high
    # Rounding to `digits` can only move a bound by far less than `pad`, so they still hold.
    return float(lo), float(hi)


def rules_to_yaml(rules: Sequence[Rule], *, comment: str | None = None) -> str:
    """The rules as a YAML rules file (``comment`` lines go on top, prefixed with ``#``).

    >>> print(rules_to_yaml([Rule.of("not_null", column="id")]), end="")
    rules:
    - rule: not_null
      column: id
    """
    head = "".join(f"# {line}".rstrip() + "\n" for line in comment.splitlines()) if comment else ""
    body = yaml.dump(
        {"rules": [r.to_dict() for r in rules]},
        Dumper=_Dumper,
        sort_keys=False,
        allow_unicode=True,
        default_flow_style=False,
        width=100,
    )
    return head + body


class _Dumper(yaml.SafeDumper):
    """Safe YAML, with the lists of values inside a rule on one line: ``values: [a, b]``."""

    def represent_list(self, data: Any) -> yaml.SequenceNode:
        flow = all(not isinstance(v, (list, dict)) for v in data)
        return self.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=flow)


_Dumper.add_representer(list, _Dumper.represent_list)
