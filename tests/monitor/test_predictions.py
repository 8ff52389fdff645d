"""Logging predictions and labels: storage, idempotency, de-duplication, the label join
(checked against a pandas merge) and time filtering, on SQLite and PostgreSQL."""

from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import mlaudit
from mlaudit.errors import InputError, PermissionDenied


def test_a_batch_is_one_parquet_artifact_one_row_and_one_event(
    mon: SimpleNamespace, ws: mlaudit.Workspace
) -> None:
    data = mon.batch([f"p{i}" for i in range(100)], extra=True)
    result = ws.predictions.log("credit@v1", data, batch_key="b-1")
    b = result.batch
    assert result.created and b.rows == 100 and b.kind == "predictions" and b.batch_key == "b-1"
    assert b.first_time == "2026-01-01T00:00:00.000000Z" and b.last_time == "2026-01-01T01:39:00.000000Z"
    stored = pq.read_table(io.BytesIO(ws.artifacts.get(b.artifact)))
    assert stored.column_names[:2] == ["prediction_id", "time"] and "channel" in stored.column_names
    assert stored.num_rows == 100
    assert (
        pq.ParquetFile(io.BytesIO(ws.artifacts.get(b.artifact))).metadata.row_group(0).column(0).compression
        == "ZSTD"
    )
    event = ws.ledger.log(action="predictions.logged")[-1]
    assert event.seq == b.seq
    payload = event.data
    assert payload["rows"] == 100 and payload["artifact"] == b.artifact and payload["batch_key"] == "b-1"
    assert "p0" not in event.payload  # never the values
    assert ws.predictions.count("credit") == ws.predictions.count("credit@v1") == 100
    assert [x.id for x in ws.predictions.batches("credit")] == [b.id]
    assert ws.ledger.verify().ok


def test_same_batch_key_returns_the_first_batch_and_stores_nothing(
    mon: SimpleNamespace, ws: mlaudit.Workspace
) -> None:
    rows = [{"prediction_id": f"p{i}", "a": 1.0, "b": 2, "score": 0.5} for i in range(10)]  # no time
    first = ws.predictions.log("credit@v1", rows, batch_key="k")
    events = len(ws.ledger.log())
    again = ws.predictions.log("credit@v1", pd.DataFrame(rows), batch_key="k")  # time filled again
    assert not again.created and again.batch == first.batch
    assert len(ws.ledger.log()) == events and ws.predictions.count("credit") == 10
    with pytest.raises(InputError, match="already used for different records"):
        ws.predictions.log("credit@v1", rows[:9], batch_key="k")
    with pytest.raises(InputError, match="already used"):
        ws.predictions.log_labels("credit", [{"prediction_id": "p1", "label": 1}], batch_key="k")
    assert ws.predictions.count("credit") == 10 and ws.ledger.verify().ok


def test_scan_matches_a_pandas_merge(mon: SimpleNamespace, ws: mlaudit.Workspace) -> None:
    rng = np.random.default_rng(7)
    preds = []
    for i in range(4):  # batch 3 re-sends ids of batch 0 under another key (a client retry)
        ids = [f"p{j}" for j in range(i * 50, i * 50 + 50)] if i < 3 else [f"p{j}" for j in range(25, 60)]
        t = mon.batch(ids, start=i * 50, seed=i)
        preds.append(t)
        ws.predictions.log("credit@v1", t, batch_key=f"pred-{i}")
    labels = []
    for i in range(3):  # several labels per id (corrections): the latest one wins
        ids = rng.choice([f"p{j}" for j in range(150)] + ["ghost-1", "ghost-2"], size=60, replace=False)
        lab = pa.table({"prediction_id": ids, "label": rng.integers(0, 2, size=60)})
        labels.append(lab)
        ws.predictions.log_labels("credit", lab, batch_key=f"lab-{i}")

    got = ws.predictions.scan("credit").to_pandas()
    p = pd.concat([t.to_pandas() for t in preds], ignore_index=True).drop_duplicates("prediction_id")
    lab = pd.concat([t.to_pandas() for t in labels], ignore_index=True)
    latest = lab.drop_duplicates("prediction_id", keep="last")[["prediction_id", "label"]]
    want = p.merge(latest, on="prediction_id", how="left", validate="one_to_one")
    assert len(got) == 150 and list(got["prediction_id"]) == list(want["prediction_id"])
    for column in ("a", "b", "proba_1", "prediction", "segment"):
        assert got[column].tolist() == want[column].tolist(), column
    assert got["label"].astype("Float64").tolist() == want["label"].astype("Float64").tolist()
    assert set(got["model_version"]) == {1}
    assert got["label_time"].notna().sum() == want["label"].notna().sum()

    ghosts = ws.predictions.unmatched_labels("credit").to_pandas()
    assert set(ghosts["prediction_id"]) == set(latest["prediction_id"]) - set(p["prediction_id"])
    assert ws.predictions.count("credit") == 185  # count in = count stored (duplicates too)
    assert ws.predictions.count("credit", kind="labels") == 180
    summary = ws.predictions.summary("credit")
    assert summary.predictions == 150 and summary.labelled == int(want["label"].notna().sum())
    assert ws.ledger.verify().ok


def test_time_range_and_columns(mon: SimpleNamespace, ws: mlaudit.Workspace) -> None:
    ws.predictions.log("credit@v1", mon.batch([f"a{i}" for i in range(60)], start=0))
    ws.predictions.log("credit@v1", mon.batch([f"b{i}" for i in range(60)], start=1000))
    window = ws.predictions.scan(
        "credit", start=mon.T0 + timedelta(minutes=30), end=mon.T0 + timedelta(minutes=1030)
    )
    assert window.num_rows == 60  # a30..a59 and b0..b29, end exclusive
    assert window.column("prediction_id").to_pylist() == [f"a{i}" for i in range(30, 60)] + [
        f"b{i}" for i in range(30)
    ]
    text = ws.predictions.scan("credit", start="2026-01-01T16:40:00Z")  # minute 1000
    assert text.num_rows == 60
    assert ws.predictions.scan("credit", end=mon.T0).num_rows == 0
    narrow = ws.predictions.scan("credit", columns=["proba_1", "nope"])
    assert narrow.column_names == ["prediction_id", "time", "model_version", "proba_1", "label", "label_time"]


def test_versions_and_models_are_kept_apart(mon: SimpleNamespace, ws: mlaudit.Workspace) -> None:
    v2 = mon.register(ws, strategy="most_frequent")
    mon.register(ws, "other")
    ws.predictions.log("credit@v1", mon.batch(["x1", "x2"]))
    ws.predictions.log(v2, mon.batch(["y1"]))
    ws.predictions.log("other@v1", mon.batch(["z1"]))
    assert ws.predictions.scan("credit").column("model_version").to_pylist() == [1, 1, 2]
    assert ws.predictions.scan("credit@v2").column("prediction_id").to_pylist() == ["y1"]
    assert ws.predictions.count("credit@v1") == 2 and ws.predictions.count("other") == 1
    with pytest.raises(InputError, match="credit@v1"):
        ws.predictions.log("credit", mon.batch(["q"]))


def test_empty_log_scans_to_an_empty_table(mon: SimpleNamespace, ws: mlaudit.Workspace) -> None:
    t = ws.predictions.scan("credit")
    assert t.num_rows == 0 and t.column_names == [
        "prediction_id",
        "time",
        "model_version",
        "label",
        "label_time",
    ]
    assert ws.predictions.summary("credit").labelled_fraction is None


def test_logging_needs_the_prediction_log_permission(mon: SimpleNamespace, tmp_path: object) -> None:
    where = f"{tmp_path}/ws"
    root = mlaudit.open(where, actor="root")
    root.access.add_user("root", admin=True)
    mon.register(root)
    root.access.add_user("viewer")
    root.access.grant("viewer", "viewer")
    with mlaudit.open(where, actor="viewer") as w, pytest.raises(PermissionDenied):
        w.predictions.log("credit@v1", mon.batch(["p"]))
    root.access.add_user("dev")
    root.access.grant("dev", "contributor", project="credit")
    with mlaudit.open(where, actor="dev") as w:
        assert w.predictions.log("credit@v1", mon.batch(["p"])).created
    root.close()
