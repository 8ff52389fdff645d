"""The release gate: each refusal has its own message; it passes when every rule holds."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest
import sqlalchemy as sa
from gov_helpers import approve, audit, set_status, workspace

import mlaudit
from mlaudit.cli import main
from mlaudit.governance.policy import load_policy
from mlaudit.store.tables import approvals


@pytest.fixture
def ready(tmp_path: Path) -> mlaudit.Workspace:
    """credit@v1 at tier 1 meeting every rule of the default policy."""
    ws = workspace(tmp_path)
    ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
    audit(ws, "credit@v1", suite="full", checks={"performance:roc_auc": "pass", "drift:x1": "warn"})
    approve(ws, "credit@v1", "validator", "vera")
    approve(ws, "credit@v1", "approver", "alex")
    set_status(ws, "credit@v1", "approved")
    return ws


def _failed(report: object) -> dict[str, str]:
    return {r.rule: r.message for r in report.failed()}  # type: ignore[attr-defined]


def test_passes_when_every_rule_holds(ready: mlaudit.Workspace) -> None:
    report = ready.risk.gate("credit@v1")
    assert report.passed, _failed(report)
    assert [r.rule for r in report.results] == [
        "tier", "suite:full", "findings", "approvals:validator", "approvals:approver",
        "validation_age", "status",
    ]  # fmt: skip
    assert report.tier == 1 and report.tier_assigned and report.policy == "default"


def test_refuses_a_failing_required_suite(ready: mlaudit.Workspace) -> None:
    audit(ready, "credit@v1", suite="full", checks={"fairness:sex": "fail", "calibration": "error"})
    failed = _failed(ready.risk.gate("credit@v1"))
    assert list(failed) == ["suite:full"]
    message = failed["suite:full"]
    assert (
        "newest 'full' audit of credit@v1" in message and "status fail: fairness:sex, calibration" in message
    )
    audit(ready, "credit@v1", suite="quick", checks={"fairness:sex": "pass"})  # another suite does not count
    assert "suite:full" in _failed(ready.risk.gate("credit@v1"))


def test_refuses_an_open_blocking_finding(ready: mlaudit.Workspace) -> None:
    f = ready.findings.raise_("credit", "bias against group F", "high", version="v1")
    ready.findings.raise_("credit", "typo in the model card", "low")  # low does not block tier 1
    failed = _failed(ready.risk.gate("credit@v1"))
    assert list(failed) == ["findings"]
    assert "1 open blocking finding(s)" in failed["findings"] and "bias against group F" in failed["findings"]
    ready.findings.update(f.id, "mitigated")
    assert "findings" in _failed(ready.risk.gate("credit@v1"))  # mitigated still blocks until closed
    ready.findings.update(f.id, "closed")
    assert ready.risk.gate("credit@v1").passed


def test_refuses_a_stale_validation(ready: mlaudit.Workspace, tmp_path: Path) -> None:
    later = "2099-01-01T00:00:00Z"  # the audit is > 180 days old then
    failed = _failed(ready.risk.gate("credit@v1", now=later))
    assert list(failed) == ["validation_age"]
    assert "days old; this tier allows at most 180" in failed["validation_age"]
    strict = tmp_path / "strict.yaml"
    strict.write_text(
        "name: strict\ntiers:\n  1:\n    required_suites: [full]\n    max_validation_age_days: 0\n"
    )
    failed = _failed(ready.risk.gate("credit@v1", strict))
    assert list(failed) == ["validation_age"] and "at most 0" in failed["validation_age"]


def test_refuses_missing_approvals(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
    audit(ws, "credit@v1")
    approve(ws, "credit@v1", "validator", "vera")
    approve(ws, "credit@v1", "approver", "alex")
    approve(ws, "credit@v1", "approver", "alex", decision="reject")  # his latest decision counts
    set_status(ws, "credit@v1", "approved", actor="vera")
    assert _failed(ws.risk.gate("credit@v1")) == {
        "approvals:approver": "credit@v1 has 0 of the 1 required approver approval(s)",
    }
    two = tmp_path / "two.yaml"
    two.write_text("name: two\ntiers:\n  1:\n    approvals: {validator: 2}\n")
    assert _failed(ws.risk.gate("credit@v1", two)) == {
        "approvals:validator": "credit@v1 has 1 of the 2 required validator approval(s) (so far: vera)",
    }
    ws.close()


def test_approvals_edited_in_the_database_fail_the_gate(ready: mlaudit.Workspace) -> None:
    with ready.store.write(ready.actor) as tx:  # forge a second approver without a ledger event
        tx.conn.execute(sa.update(approvals).where(approvals.c.role == "validator").values(actor="mallory"))
    failed = _failed(ready.risk.gate("credit@v1"))
    assert list(failed) == ["approvals:verified"]
    assert failed["approvals:verified"].startswith("approvals do not match the ledger: credit@v1")
    assert "'mallory' in the database but 'vera' in the ledger" in failed["approvals:verified"]


def test_untiered_model_uses_the_strictest_rules_and_says_so(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    audit(ws, "credit@v1", suite="quick")
    report = ws.risk.gate("credit")
    assert report.tier == 1 and not report.tier_assigned
    assert report.results[0].message == "credit has no risk tier: the strictest rules (tier 1) apply"
    assert report.results[0].status == "warn" and "tier" not in _failed(report)
    failed = _failed(report)
    assert failed["suite:full"] == "no stored audit of credit@v1 with suite 'full'"
    assert failed["status"] == "lifecycle status is draft; tier 1 requires approved or deployed"
    ws.close()


def test_policy_yaml_is_validated(tmp_path: Path) -> None:
    assert sorted(load_policy().tiers) == [1, 2, 3]
    bad = tmp_path / "p.yaml"
    bad.write_text("name: p\ntiers:\n  2:\n    required_suite: [quick]\n")
    with pytest.raises(mlaudit.InputError, match=r"tiers\.2\.required_suite"):
        load_policy(bad)
    bad.write_text("name: p\ntiers:\n  1:\n    approvals: {approvr: 1}\n")
    with pytest.raises(mlaudit.InputError, match="approvr"):
        load_policy(bad)


def test_cli_exit_codes_and_messages(ready: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]) -> None:
    w = ["-w", ready.location]
    capsys.readouterr()
    assert main(["gate", "credit@v1", *w]) == 0
    assert "passed" in capsys.readouterr().out
    ready.findings.raise_("credit", "bias against group F", "critical")
    assert main(["gate", "credit", *w]) == 1
    text = capsys.readouterr().out
    assert "FAIL findings: 1 open blocking finding(s)" in text and "refused: 1 rule(s) failed" in text
    assert main(["gate", "credit@v1", "--json", *w]) == 1
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["kind"] == "gate_report" and not doc["passed"]
    assert [r["rule"] for r in doc["results"] if r["status"] == "fail"] == ["findings"]
    assert main(["gate", "credit@v9", *w]) == 2


def test_a_missing_tier_warns_but_does_not_refuse(
    ready: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    from mlaudit.store.tables import model_risk

    with ready.store.write(ready.actor) as tx:  # untier credit: tier-1 rules still hold
        tx.conn.execute(sa.delete(model_risk))
    report = ready.risk.gate("credit@v1")
    assert report.passed and not report.tier_assigned and report.failed() == []
    assert [(r.rule, r.status) for r in report.results if r.status != "pass"] == [("tier", "warn")]
    capsys.readouterr()
    assert main(["gate", "credit@v1", "-w", ready.location]) == 0
    text = capsys.readouterr().out
    assert "warn tier: credit has no risk tier" in text and "passed" in text
