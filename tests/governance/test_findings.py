"""Findings: the status workflow, comments, ledger events, and findings opened from an audit."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
from gov_helpers import audit, workspace

import mlaudit
from mlaudit.cli import main


def test_workflow_is_ledgered_and_kept_in_finding_events(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    f = ws.findings.raise_("credit", "AUC below target", "high", owner="ana", due="2026-12-31", version="v1")
    assert f.status == "open" and f.version_id == ws.models.get("credit@v1").id and f.due == "2026-12-31"
    ws.findings.comment(f.id, "retraining with more data")
    ws.findings.update(f.id, "mitigated", "retrained")
    ws.findings.update(f.id, "open", "mitigation did not hold")  # reopen from mitigated
    ws.findings.update(f.id, "accepted", "risk accepted by the committee")
    done = ws.findings.update(f.id, "closed")
    assert done.status == "closed"
    assert [(e.kind, e.status) for e in done.events] == [
        ("raised", "open"),
        ("comment", None),
        ("status", "mitigated"),
        ("status", "open"),
        ("status", "accepted"),
        ("status", "closed"),
    ]
    events = [e for e in ws.ledger.log() if e.subject == f"finding:{f.id}"]
    assert [e.action for e in events] == ["finding.raised", "finding.commented"] + ["finding.updated"] * 4
    assert events[2].data["from"] == "open" and events[2].data["to"] == "mitigated"
    assert events[2].data["comment"] == "retrained"
    assert [e.seq for e in events] == [e.seq for e in done.events]  # each row points at its event
    assert ws.ledger.verify().ok
    ws.close()


def test_refused_transitions_and_bad_input(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    f = ws.findings.raise_("credit", "stale docs", "low")
    with pytest.raises(mlaudit.InputError, match="open; it cannot become closed"):
        ws.findings.update(f.id, "closed")
    ws.findings.update(f.id, "accepted")
    with pytest.raises(mlaudit.InputError, match="cannot become open"):
        ws.findings.update(f.id, "open")  # reopening is from mitigated only
    with pytest.raises(mlaudit.InputError, match="severity"):
        ws.findings.raise_("credit", "x", "urgent")
    with pytest.raises(mlaudit.InputError, match="date"):
        ws.findings.raise_("credit", "x", "low", due="next week")
    with pytest.raises(mlaudit.NotFound):
        ws.findings.raise_("nope", "x", "low")
    with pytest.raises(mlaudit.NotFound):
        ws.findings.update("missing", "closed")
    ws.close()


def test_from_audit_opens_failed_and_errored_checks_once(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    checks = {
        "performance:roc_auc": "fail",
        "fairness:sex": "error",
        "drift:x1": "warn",
        "calibration": "pass",
    }
    rid = audit(ws, "credit@v1", checks=checks)
    opened = ws.findings.from_audit(rid)
    got = {f.check: (f.severity, f.result_id, f.status) for f in opened}
    assert got == {"performance:roc_auc": ("high", rid, "open"), "fairness:sex": ("medium", rid, "open")}
    assert all(f.version_id == ws.models.get("credit@v1").id for f in opened)
    assert "performance:roc_auc is fail" in {f.title for f in opened}  # the message names its check
    # the same audit again, or a newer one failing the same checks: nothing new
    assert ws.findings.from_audit(rid) == []
    rid2 = audit(ws, "credit@v1", checks={"performance:roc_auc": "fail", "leakage": "fail"})
    assert [f.check for f in ws.findings.from_audit(rid2)] == ["leakage"]
    # once closed, a new failure of that check opens a new finding
    perf = next(f for f in opened if f.check == "performance:roc_auc")
    ws.findings.update(perf.id, "mitigated")
    ws.findings.update(perf.id, "closed")
    assert [f.check for f in ws.findings.from_audit(rid2)] == ["performance:roc_auc"]
    assert len(ws.findings.list("credit")) == 4
    assert len(ws.findings.list("credit", status="open")) == 3
    assert ws.findings.list(status="closed")[0].id == perf.id
    with pytest.raises(mlaudit.InputError, match="not an audit_report"):
        ws.findings.from_audit(ws.audits.record("check_report", "dataset:x", {}, status="pass").id)
    ws.close()


def test_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    ws = workspace(tmp_path)
    rid = audit(ws, "credit@v1", checks={"fairness:sex": "fail"})
    ws.close()
    w = ["-w", str(tmp_path / "ws")]
    assert main(["finding", "raise", "credit", "--title", "no monitoring", "--severity", "medium",
                 "--owner", "ana", "--due", "2027-01-31", "--version", "v1", "--json", *w]) == 0  # fmt: skip
    raised = orjson.loads(capsys.readouterr().out)
    assert raised["severity"] == "medium" and raised["owner"] == "ana"
    assert main(["finding", "from-audit", rid, "--json", *w]) == 0
    opened = orjson.loads(capsys.readouterr().out)
    assert [f["check"] for f in opened] == ["fairness:sex"] and opened[0]["severity"] == "high"
    assert main(["finding", "comment", raised["id"], "dashboards next sprint", *w]) == 0
    assert main(["finding", "update", raised["id"], "--status", "mitigated", "--comment", "done", *w]) == 0
    text = capsys.readouterr().out
    assert "mitigated" in text and "done" in text
    assert main(["finding", "update", raised["id"], "--status", "accepted", *w]) == 2  # not from mitigated
    assert main(["finding", "list", "credit", "--status", "open", "--json", *w]) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [f["id"] for f in listed] == [opened[0]["id"]]
    assert main(["finding", "list", *w]) == 0
    assert "no monitoring" in capsys.readouterr().out
    assert main(["finding", "raise", "credit", "--title", "t", "--severity", "huge", *w]) == 2


def test_permissions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    workspace(tmp_path, "credit", "churn").close()
    path = tmp_path / "ws"
    with mlaudit.open(path, actor="boss") as ws:
        ws.access.add_user("boss", admin=True)  # permission checks are on from here
        for user, role, project in (("vic", "viewer", "credit"), ("carl", "contributor", "credit"),
                                    ("val", "validator", "*")):  # fmt: skip
            ws.access.add_user(user)
            ws.access.grant(user, role, project)
    with mlaudit.open(path, actor="carl") as ws:
        f = ws.findings.raise_("credit", "no monitoring", "medium")
        with pytest.raises(mlaudit.PermissionDenied):
            ws.findings.raise_("churn", "x", "low")  # not his project
        with pytest.raises(mlaudit.PermissionDenied):
            ws.risk.set_tier("credit", materiality="low", complexity="low", use="informational")
    with mlaudit.open(path, actor="vic") as ws:
        assert [e.model for e in ws.risk.inventory()] == ["credit"]  # only what vic may read
        assert [x.id for x in ws.findings.list()] == [f.id]
        assert ws.risk.gate("credit").results
        for denied in (
            lambda: ws.findings.raise_("credit", "x", "low"),
            lambda: ws.findings.comment(f.id, "x"),
            lambda: ws.findings.update(f.id, "accepted"),
        ):
            with pytest.raises(mlaudit.PermissionDenied):
                denied()
    with mlaudit.open(path, actor="val") as ws:
        assert ws.risk.set_tier("churn", materiality="low", complexity="low", use="informational").tier == 3
        ws.findings.update(f.id, "accepted", "within appetite")
    with mlaudit.open(path, actor="stranger") as ws, pytest.raises(mlaudit.PermissionDenied):
        ws.risk.inventory()
    monkeypatch.setenv("MLAUDIT_USER", "vic")
    assert main(["finding", "raise", "credit", "--title", "t", "--severity", "low", "-w", str(path)]) == 4
