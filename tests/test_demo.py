"""`mlaudit demo` tells the whole story and leaves a workspace that verifies."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

import mlaudit
from mlaudit.cli import main
from mlaudit.demo import run_demo


def test_demo_story(tmp_path: Path) -> None:
    summary = run_demo(tmp_path / "demo", quiet=True)
    assert summary["verified"] is True
    assert set(summary["drifted_columns"]) == set(summary["planted_drift"])
    assert set(summary["quality_failed"]) == {"unique(customer_id)", "range(age)"}
    assert summary["tampered_first_bad_seq"] is not None
    assert summary["schema_change"] == {"added": ["channel"], "removed": [], "retyped": []}
    assert summary["bureau_pii"] == ["email", "phone"]
    # the model story: the planted label bias is caught, and so is the data the model never saw
    assert summary["model"] == "credit-risk@v1" and summary["audit"] == "fail"
    assert "fairness:demographic_parity_ratio" in summary["audit_failed"]
    assert "not_null(age)" in summary["audit_failed"]
    assert summary["estimated_roc_auc"] is not None and 0.6 < summary["estimated_roc_auc"] < 0.95
    # the governance story: validation finds the bias, v2 without sex passes, the gate agrees
    g = summary["governance"]
    assert g["v1_validation"] == "fail" and g["v2_validation"] in ("pass", "warn")
    assert g["parity_v1"] < 0.8 <= g["parity_v2"]
    assert g["maker_checker_refused"].startswith("maker-checker: demo-data-scientist registered it")
    assert g["gate_v2"] is True and g["gate_v1"] is False and "status" in g["gate_v1_failed"]
    with mlaudit.open(summary["workspace"], create=False, actor="olga") as ws:
        assert ws.access.roles() == {"auditor"}
        assert ws.lifecycle.deployed_at("credit-risk", "2999-01-01").ref == g["v2"]
        (finding,) = ws.findings.list("credit-risk")
        assert finding.status == "closed" and finding.check == "fairness:demographic_parity_ratio"
        with pytest.raises(mlaudit.NotFound, match=r"erased on .* by ana: data-subject erasure request"):
            ws.datasets.profile(ws.datasets.get("bureau-scores@v1"))
        assert [o.case_id for o in ws.oversight.list("credit-risk")] == ["application-10492"]
    with mlaudit.open(summary["workspace"], create=False) as ws:
        assert ws.ledger.verify([summary["checkpoint"]]).ok
        kinds = sorted(r.kind for r in ws.audits.list())
        assert kinds == ["audit_report"] * 4 + ["check_report", "drift_report", "profile"]
        audit = ws.audits.get(summary["audit_result"])
        assert audit.subject == ws.models.get(summary["model"]).node
        features = ws.datasets.get("training-features")
        upstream = {n.id for n in ws.lineage.upstream(features.node).nodes if n.kind == "dataset"}
        assert upstream == {
            features.node,
            ws.datasets.get("credit-applications@v1").node,
            ws.datasets.get("bureau-scores").node,
        }
    with mlaudit.open(tmp_path / "demo" / "tampered-copy", create=False) as copy:
        assert not copy.ledger.verify().ok


def test_demo_cli_json_and_rerun(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "d"
    assert main(["demo", "--out", str(out), "--json", "--rows", "3000"]) == 0
    first = orjson.loads(capsys.readouterr().out)
    assert main(["demo", "--out", str(out), "--json", "--rows", "3000"]) == 0  # an earlier demo is replaced
    second = orjson.loads(capsys.readouterr().out)
    assert first["events"] == second["events"] and second["verified"]


def test_demo_refuses_a_foreign_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "precious.txt").write_text("do not delete")
    assert main(["demo", "--out", str(tmp_path)]) == 2
    assert (tmp_path / "precious.txt").exists()
    assert "refusing to overwrite" in capsys.readouterr().err
