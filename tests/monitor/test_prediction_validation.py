"""Bad batches are InputErrors naming the column and row, and nothing is stored."""

from __future__ import annotations

import math
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pytest

import mlaudit
from mlaudit.errors import InputError, NotFound


def _rows(n: int = 3, **change: Any) -> list[dict[str, Any]]:
    rows = [{"prediction_id": f"p{i}", "a": 0.5, "b": 1, "proba_0": 0.4, "proba_1": 0.6} for i in range(n)]
    for key, (row, value) in change.items():
        rows[row][key] = value
    return rows


@pytest.mark.parametrize(
    ("records", "message", "column", "row"),
    [
        (_rows(proba_1=(2, math.nan)), "NaN is not a finite number", "proba_1", 2),
        (_rows(proba_1=(1, math.inf)), "inf is not a finite number", "proba_1", 1),
        (_rows(proba_1=(0, 1.5)), "outside \\[0, 1\\]", "proba_1", 0),
        (_rows(prediction_id=(2, "p0")), "'p0' appears more than once", "prediction_id", 2),
        (_rows(prediction_id=(1, None)), "missing value", "prediction_id", 1),
        (_rows(prediction_id=(1, "")), "empty prediction id", "prediction_id", 1),
        (_rows(proba_1=(1, None)), "missing value", "proba_1", 1),
        (
            [{k: v for k, v in r.items() if k != "b"} for r in _rows()],
            "missing feature column\\(s\\) b",
            "b",
            None,
        ),
        ([{"prediction_id": "x", "a": 1, "b": 2}], "no output column", None, None),
        ([{"prediction_id": "x", "a": 1, "b": 2, "proba_yes": 0.5}], "names no class", "proba_yes", None),
        ([{"prediction_id": "x", "a": 1, "b": 2, "score": "high"}], "must be numbers", "score", None),
        (
            [{"prediction_id": "x", "a": 1, "b": 2, "score": 1.0, "label": 1}],
            "filled in from label",
            "label",
            None,
        ),
        (
            [{"prediction_id": "x", "a": 1, "b": 2, "score": 1.0, "time": "yesterday"}],
            "cannot read",
            "time",
            None,
        ),
        ([{"prediction_id": 1.5, "a": 1, "b": 2, "score": 1.0}], "must be strings", "prediction_id", None),
    ],
)
def test_bad_batches(
    mon: SimpleNamespace,
    sqlite_ws: mlaudit.Workspace,
    records: Any,
    message: str,
    column: str | None,
    row: int | None,
) -> None:
    with pytest.raises(InputError, match=message) as info:
        sqlite_ws.predictions.log("credit@v1", records)
    assert (info.value.column, info.value.row) == (column, row)
    assert sqlite_ws.predictions.count("credit") == 0


def test_empty_batch_and_bad_keys(mon: SimpleNamespace, sqlite_ws: mlaudit.Workspace) -> None:
    with pytest.raises(InputError, match="empty"):
        sqlite_ws.predictions.log("credit@v1", mon.batch([]))
    with pytest.raises(InputError, match="batch key"):
        sqlite_ws.predictions.log("credit@v1", mon.batch(["x"]), batch_key="")
    with pytest.raises(NotFound):
        sqlite_ws.predictions.log("nope@v1", mon.batch(["x"]))
    with pytest.raises(NotFound):
        sqlite_ws.predictions.log_labels("nope", [{"prediction_id": "x", "label": 1}])
    with pytest.raises(InputError, match="label"):
        sqlite_ws.predictions.log_labels("credit", [{"prediction_id": "x"}])
    with pytest.raises(InputError, match="NaN") as info:
        sqlite_ws.predictions.log_labels(
            "credit", [{"prediction_id": "x", "label": 1.0}, {"prediction_id": "y", "label": math.nan}]
        )
    assert (info.value.column, info.value.row) == ("label", 1)


def test_times_ids_and_naive_timestamps_are_normalised(
    mon: SimpleNamespace, sqlite_ws: mlaudit.Workspace
) -> None:
    records = [
        {"prediction_id": 17, "a": 1, "b": 2, "prediction": "yes", "time": "2026-03-01T10:00:00"},
        {"prediction_id": 18, "a": 1, "b": 2, "prediction": "no", "time": "2026-03-01T11:00:00"},
    ]
    sqlite_ws.predictions.log("credit@v1", records)
    t = sqlite_ws.predictions.scan("credit")
    assert t.column("prediction_id").to_pylist() == ["17", "18"]
    assert t.schema.field("time").type == pa.timestamp("us", tz="UTC")
    assert sqlite_ws.predictions.batches("credit")[0].first_time == "2026-03-01T10:00:00.000000Z"


def test_records_with_different_keys_keep_every_column(
    mon: SimpleNamespace, sqlite_ws: mlaudit.Workspace
) -> None:
    rows: list[dict[str, Any]] = [{"prediction_id": "p0", "a": 1.0, "b": 2, "score": 0.1}]
    rows.append({"prediction_id": "p1", "a": 1.0, "b": 2, "score": 0.2, "channel": "web"})
    sqlite_ws.predictions.log("credit@v1", rows)
    assert sqlite_ws.predictions.scan("credit").column("channel").to_pylist() == [None, "web"]
    with pytest.raises(InputError) as info:
        sqlite_ws.predictions.log("credit@v1", [{**rows[0], "a": "x"}, {**rows[0], "prediction_id": "p9"}])
    assert info.value.column == "a"
