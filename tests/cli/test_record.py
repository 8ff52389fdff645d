"""`--record SUBJECT` keeps drift and check reports as ledgered evidence in a workspace."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.csv as pacsv
import pytest

import mlaudit
from mlaudit.cli import main


def test_drift_and_check_recorded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ref, cur = tmp_path / "ref.csv", tmp_path / "cur.csv"
    pacsv.write_csv(pa.table({"x": list(range(500)), "c": ["a", "b"] * 250}), ref)
    pacsv.write_csv(pa.table({"x": list(range(400, 900)), "c": ["a", "b"] * 250}), cur)
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - rule: range\n    column: x\n    max: 600\n")
    ws_dir = str(tmp_path / "ws")
    assert main(["init", ws_dir]) == 0
    assert main(["drift", str(ref), str(cur), "--record", "dataset:t", "-w", ws_dir, "--json"]) == 0
    assert main(["check", str(cur), "--rules", str(rules), "--record", "dataset:t", "-w", ws_dir]) == 1
    capsys.readouterr()
    with mlaudit.open(ws_dir, create=False) as ws:
        stored = {r.kind: r for r in ws.audits.list(subject="dataset:t")}
        assert stored["drift_report"].status == "fail"
        assert stored["drift_report"].document["drifted_columns"] == ["x"]
        assert stored["check_report"].status == "fail"
        event = ws.ledger.log(action="result.recorded")[0]
        assert event.data["inputs"]["reference"] == "sha256:" + hashlib.sha256(ref.read_bytes()).hexdigest()
        assert ws.ledger.verify().ok


def test_record_needs_an_existing_workspace(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "a.csv"
    pacsv.write_csv(pa.table({"x": [1, 2, 3]}), f)
    assert main(["drift", str(f), str(f), "--record", "dataset:t", "-w", str(tmp_path / "none")]) == 2
    assert "mlaudit init" in capsys.readouterr().err
