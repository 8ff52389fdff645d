"""``mlaudit monitor create | list | run | show`` end to end on a small stream."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
from sklearn.linear_model import LogisticRegression

import mlaudit
from mlaudit.cli import main

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def test_monitor_cli(tmp_path: Path, capsys: object) -> None:
    where = str(tmp_path / "ws")
    rng = np.random.default_rng(0)
    x = rng.normal(size=(1000, 2))
    y = (x[:, 0] + rng.normal(size=1000) > 0).astype(int)
    with mlaudit.open(where) as ws:
        clf = LogisticRegression().fit(x, y)
        ws.models.register("credit", clf, features=["a", "b"], target="label")
        ws.datasets.log("holdout", {"a": x[:, 0], "b": x[:, 1], "label": y}, keep_data=True)
        n = 300
        xs = rng.normal(size=(n, 2))
        p = clf.predict_proba(xs)[:, 1]
        times = [T0 + timedelta(minutes=i) for i in range(n)]  # 5 hours, one a minute
        ws.predictions.log(
            "credit@v1",
            pa.table(
                {
                    "prediction_id": [f"p{i}" for i in range(n)],
                    "time": times,
                    "a": xs[:, 0],
                    "b": xs[:, 1],
                    "prediction": (p >= 0.5).astype(np.int64),
                    "proba_1": p,
                    "proba_0": 1 - p,
                }
            ),
        )
    w = ["--workspace", where]
    assert (
        main(
            [
                "monitor",
                "create",
                "hourly",
                "credit@v1",
                "--reference",
                "holdout@v1",
                "--window",
                "1h",
                "--rule",
                "drift.share>0.3",
                "--rule",
                "estimated.roc_auc<0.7 x2",
                *w,
            ]
        )
        == 0
    )
    assert (
        main(
            [
                "monitor",
                "create",
                "counts",
                "credit",
                "--reference",
                "holdout@v1",
                "--window",
                "100",
                "--slide",
                "50",
                *w,
            ]
        )
        == 0
    )
    assert (
        main(
            ["monitor", "create", "bad", "credit", "--reference", "holdout@v1", "--window", "1 fortnight", *w]
        )
        == 2
    )
    capsys.readouterr()  # type: ignore[attr-defined]
    assert main(["monitor", "list", "--json", *w]) == 0
    listed = orjson.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert [m["name"] for m in listed] == ["counts", "hourly"]
    assert main(["monitor", "run", "hourly", *w]) == 0
    text = capsys.readouterr().out  # type: ignore[attr-defined]
    assert text.count("hourly 2026-03-01T") == 5 and "rows 60" in text
    assert main(["monitor", "run", "counts", "--json", *w]) == 0
    doc = orjson.loads(capsys.readouterr().out)  # type: ignore[attr-defined]
    assert [s["rows"] for s in doc["stored"]] == [100] * 5
    html = tmp_path / "m.html"
    assert main(["monitor", "show", "hourly", "--html", str(html), *w]) == 0
    shown = capsys.readouterr().out  # type: ignore[attr-defined]
    assert "5 window(s)" in shown and html.read_text().count("monitor-series") >= 2
    assert main(["monitor", "run", "nope", *w]) == 2
