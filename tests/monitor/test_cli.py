"""``mlaudit predictions log | labels | show``."""

from __future__ import annotations

import json
from pathlib import Path
from types import SimpleNamespace

import pyarrow.csv as pacsv
import pytest

import mlaudit
from mlaudit.cli import main


def test_log_labels_show(mon: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    where = str(tmp_path / "ws")
    with mlaudit.open(where) as ws:
        mon.register(ws)
    preds = tmp_path / "preds.csv"
    pacsv.write_csv(mon.batch([f"p{i}" for i in range(40)]), preds)
    labels = tmp_path / "labels.jsonl"
    labels.write_text(
        "".join(json.dumps({"prediction_id": f"p{i}", "label": i % 2}) + "\n" for i in range(10))
    )

    assert main(["predictions", "log", "credit@v1", str(preds), "--batch-key", "k1", "-w", where]) == 0
    assert "logged 40 predictions for credit@v1" in capsys.readouterr().out
    assert main(["predictions", "log", "credit@v1", str(preds), "--batch-key", "k1", "-w", where]) == 0
    assert "unchanged" in capsys.readouterr().out
    assert main(["predictions", "labels", "credit", str(labels), "-w", where]) == 0
    assert "logged 10 labels" in capsys.readouterr().out

    assert main(["predictions", "show", "credit", "-w", where, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["predictions"] == 40 and shown["labelled"] == 10 and shown["labelled_fraction"] == 0.25
    assert main(["predictions", "show", "credit", "-w", where, "--since", "2026-01-01T00:30:00Z"]) == 0
    text = capsys.readouterr().out
    assert "10 distinct ids" in text and "2026-01-01T00:30:00.000000Z" in text


def test_bad_input_exits_2_without_traceback(
    mon: SimpleNamespace, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    where = str(tmp_path / "ws")
    with mlaudit.open(where) as ws:
        mon.register(ws)
    bad = tmp_path / "bad.csv"
    bad.write_text("prediction_id,a,score\nx,1,0.5\n")
    assert main(["predictions", "log", "credit@v1", str(bad), "-w", where]) == 2
    err = capsys.readouterr().err
    assert "missing feature column(s) b" in err and "Traceback" not in err
    assert main(["predictions", "log", "credit@v1", str(tmp_path / "none.csv"), "-w", where]) == 2
    assert main(["predictions", "show", "credit", "--since", "soon", "-w", where]) == 2
