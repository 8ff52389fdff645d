"""Registering model versions: ledger, lineage, pickle refusal, idempotence, CLI."""

from __future__ import annotations

from pathlib import Path

import joblib
import numpy as np
import orjson
import pyarrow as pa
import pytest
from sklearn.linear_model import LogisticRegression

import mlaudit
from mlaudit.cli import main


@pytest.fixture
def trained(tmp_path: Path) -> tuple[mlaudit.Workspace, pa.Table, Path]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 2))
    y = (x[:, 0] + rng.normal(0, 0.5, 300) > 0).astype(int)
    table = pa.table({"a": x[:, 0], "b": x[:, 1], "y": y})
    import pandas as pd

    clf = LogisticRegression().fit(pd.DataFrame({"a": x[:, 0], "b": x[:, 1]}), y)
    path = tmp_path / "clf.joblib"
    joblib.dump(clf, path)
    ws = mlaudit.open(tmp_path / "ws")
    ws.datasets.log("train", table)
    return ws, table, path


def test_register_records_ledger_and_lineage(trained: tuple[mlaudit.Workspace, pa.Table, Path]) -> None:
    ws, table, path = trained
    result = ws.models.register(
        "credit",
        path,
        trust_pickle=True,
        trained_on=["train@v1"],
        target="y",
        sensitive=["b"],
        owner="risk-team",
    )
    v = result.version
    assert result.created and v.ref == "credit@v1" and v.framework == "sklearn" and v.task == "binary"
    assert v.features == ["a", "b"] and v.trained_on == [ws.datasets.get("train").node]
    again = ws.models.register("credit", path, trust_pickle=True)
    assert not again.created and again.version.id == v.id
    up = {n.id for n in ws.lineage.upstream(v.node).nodes if n.kind == "dataset"}
    assert up == {ws.datasets.get("train").node}
    assert ws.ledger.log(action="model.version_registered")[0].data["fingerprint"] == v.fingerprint
    loaded = ws.models.load("credit@v1", trust_pickle=True)
    assert loaded.predict(table).shape == (300,)
    assert ws.ledger.verify().ok


def test_pickle_refused_without_trust(trained: tuple[mlaudit.Workspace, pa.Table, Path]) -> None:
    ws, _, path = trained
    with pytest.raises(mlaudit.InputError, match="trust"):
        ws.models.register("credit", path)
    assert ws.models.list() == []


def test_cli(trained: tuple[mlaudit.Workspace, pa.Table, Path], capsys: pytest.CaptureFixture[str]) -> None:
    ws, _, path = trained
    where = ws.location
    ws.close()
    assert main(["model", "register", "credit", str(path), "-w", where]) == 2
    assert "--trust-pickle" in capsys.readouterr().err
    argv = [
        "model",
        "register",
        "credit",
        str(path),
        "--trust-pickle",
        "--trained-on",
        "train@v1",
        "-w",
        where,
    ]
    assert main([*argv, "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["created"] is True and doc["ref"] == "credit@v1"
    assert main(["model", "list", "-w", where, "--json"]) == 0
    assert [v["ref"] for v in orjson.loads(capsys.readouterr().out)] == ["credit@v1"]
    assert main(["model", "show", "credit@v9", "-w", where]) == 2
