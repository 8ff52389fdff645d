"""Reading stored batches back: filter by time, keep the first copy of an id, join labels.

Rows carry a private ``_order`` column (arrival order: batch seq, then row) while they are
combined, so that "first prediction" and "latest label" do not depend on how Arrow's
multi-threaded group-by and join happen to order rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from mlaudit.monitor.records import TIME_TYPE
from mlaudit.store import Store

__all__ = ["join_labels", "latest_labels", "read_batches", "unmatched"]

_ORDER = "_order"
_KEY = "prediction_id"
_SPAN = 1 << 40  # room for row numbers inside one batch's slice of the order


def read_batches(
    store: Store,
    batches: Sequence[Any],
    numbers: dict[str, int],
    *,
    lo: datetime | None,
    hi: datetime | None,
    columns: list[str] | None,
) -> pa.Table:
    """The rows of ``batches`` (in order) with ``lo <= time < hi``; ``numbers`` maps version ids
    to version numbers for the ``model_version`` column (prediction batches only)."""

    def one(index_batch: tuple[int, Any]) -> pa.Table:
        index, batch = index_batch
        data = pa.BufferReader(store.artifacts.get(batch.artifact))  # re-hashed: tampering raises
        wanted = None
        if columns is not None:
            names = pq.read_schema(data).names
            wanted = [_KEY, "time", *(c for c in columns if c in names and c not in (_KEY, "time"))]
            data.seek(0)
        table = pq.read_table(data, columns=wanted)
        if lo is not None or hi is not None:
            table = table.filter(_in_range(table.column("time"), lo, hi))
        base = index * _SPAN
        order = pa.array(np.arange(base, base + table.num_rows, dtype=np.int64))
        if batch.version_id is not None:
            number = numbers.get(batch.version_id)
            table = table.add_column(2, "model_version", pa.array([number] * table.num_rows, pa.int64()))
        return table.append_column(_ORDER, order)

    if not batches:
        return _empty(with_version=bool(numbers))
    with ThreadPoolExecutor(max_workers=min(8, len(batches))) as pool:
        tables = list(pool.map(one, enumerate(batches)))
    try:
        return pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowInvalid, pa.ArrowTypeError):  # e.g. a column int in one batch, text in another
        return pa.concat_tables([_as_text(t) for t in tables], promote_options="permissive")


def latest_labels(labels: pa.Table) -> pa.Table:
    """One row per prediction id: the label logged last (``prediction_id``, ``label``,
    ``label_time``, ``_order``)."""
    if labels.num_rows == 0:
        return pa.table(
            {
                _KEY: pa.array([], pa.string()),
                "label": pa.array([], pa.string()),
                "label_time": pa.array([], TIME_TYPE),
                _ORDER: pa.array([], pa.int64()),
            }
        )
    labels = labels.select([_KEY, "label", "time", _ORDER]).rename_columns(
        [_KEY, "label", "label_time", _ORDER]
    )
    last = labels.group_by(_KEY).aggregate([(_ORDER, "max")]).column(f"{_ORDER}_max")
    return labels.filter(pc.is_in(labels.column(_ORDER), value_set=last))


def join_labels(predictions: pa.Table, labels: pa.Table) -> pa.Table:
    """Predictions (first copy of each id) left-joined with their latest label, arrival order."""
    predictions = _first_copies(predictions)
    right = labels.drop_columns([_ORDER])
    if predictions.num_rows == 0:
        out = predictions
        for name in ("label", "label_time"):
            out = out.append_column(name, pa.array([], right.schema.field(name).type))
    else:
        out = predictions.join(right, _KEY, join_type="left outer", use_threads=True)
        out = out.sort_by(_ORDER)
    return out.drop_columns([_ORDER])


def unmatched(labels: pa.Table, predictions: pa.Table) -> pa.Table:
    """Labels whose prediction id is not among ``predictions``' ids."""
    keep = pc.invert(pc.is_in(labels.column(_KEY), value_set=predictions.column(_KEY).combine_chunks()))
    return labels.filter(keep).sort_by(_ORDER).drop_columns([_ORDER])


def _first_copies(table: pa.Table) -> pa.Table:
    ids = table.column(_KEY)
    if table.num_rows == 0 or pc.count_distinct(ids).as_py() == table.num_rows:
        return table
    first = table.group_by(_KEY).aggregate([(_ORDER, "min")]).column(f"{_ORDER}_min")
    return table.filter(pc.is_in(table.column(_ORDER), value_set=first))


def _in_range(times: pa.ChunkedArray, lo: datetime | None, hi: datetime | None) -> pa.ChunkedArray:
    mask = None
    if lo is not None:
        mask = pc.greater_equal(times, pa.scalar(lo, TIME_TYPE))
    if hi is not None:
        upper = pc.less(times, pa.scalar(hi, TIME_TYPE))
        mask = upper if mask is None else pc.and_(mask, upper)
    assert mask is not None
    return mask


def _as_text(table: pa.Table) -> pa.Table:
    """Outputs or labels whose type changed between batches are compared as text."""
    for i, field in enumerate(table.schema):
        if field.name in ("label", "prediction", "segment") and not pa.types.is_string(field.type):
            table = table.set_column(i, field.name, table.column(i).cast(pa.string()))
    return table


def _empty(*, with_version: bool) -> pa.Table:
    columns: dict[str, pa.Array] = {_KEY: pa.array([], pa.string()), "time": pa.array([], TIME_TYPE)}
    if with_version:
        columns["model_version"] = pa.array([], pa.int64())
    columns[_ORDER] = pa.array([], pa.int64())
    return pa.table(columns)
