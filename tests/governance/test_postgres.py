"""The core governance flow on a PostgreSQL workspace: users, groups and roles (deny by
default), maker-checker, lifecycle, findings, a policy exception, an oversight record, the
gate, the inventory and the ledger's verification. Skipped without PostgreSQL on a laptop;
fails with CI=true (the ``pg_database`` fixture)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from gov_helpers import audit
from sklearn.dummy import DummyClassifier

import mlaudit

pytestmark = pytest.mark.postgres


def test_governance_flow_on_postgres(pg_database: str, tmp_path: Path) -> None:
    key, artifacts = str(tmp_path / "keys" / "ledger.pem"), str(tmp_path / "artifacts")

    def as_(actor: str) -> mlaudit.Workspace:
        return mlaudit.open(pg_database, actor=actor, signing_key=key, artifacts=artifacts)

    with as_("root") as root:
        assert root.location.startswith("postgresql")
        root.access.add_user("root", admin=True)
        for name, role in (("dev", "contributor"), ("vera", "validator"), ("alex", "approver")):
            root.access.add_user(name)
            root.access.grant(name, role)
        root.access.add_user("vic")
        root.access.grant("group:readers", "viewer")
        root.access.add_to_group("readers", "vic")
        root.access.grant("dev", "validator", "credit")  # so maker-checker, not the role, refuses
        with pytest.raises(mlaudit.InputError, match="no enabled admin left"):
            root.access.disable_user("root")
        with pytest.raises(mlaudit.InputError, match="no enabled admin left"):
            root.access.revoke("root", "admin")
    with as_("mallory") as mallory, pytest.raises(mlaudit.PermissionDenied, match="not a user"):
        mallory.risk.inventory()

    with as_("dev") as dev:
        clf = DummyClassifier(strategy="constant", constant=1).fit(np.zeros((4, 2)), [0, 1, 0, 1])
        dev.models.register("credit", clf, features=["a", "b"])
        audit(dev, "credit@v1", suite="full")
        dev.lifecycle.transition("credit@v1", "in_validation", "ready")
        with pytest.raises(mlaudit.PermissionDenied, match=r"maker-checker: dev registered it \(credit@v1\)"):
            dev.lifecycle.approve("credit@v1", "approve", "my own model", role="validator")
        with pytest.raises(mlaudit.PermissionDenied, match="may not exception"):
            dev.exceptions.grant("credit@v1", "findings", "mine", "2030-01-01")
        record = dev.oversight.record("credit@v1", "A-1", {"label": 1}, {"label": 0}, "documents contradict")
        assert record.overridden
    with as_("vic") as vic:
        assert [e.model for e in vic.risk.inventory()] == ["credit"]  # viewer via the group
        with pytest.raises(mlaudit.PermissionDenied, match="may not finding"):
            vic.findings.raise_("credit", "x", "low")

    with as_("vera") as vera:
        vera.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
        vera.lifecycle.approve("credit@v1", "approve", "validated on holdout", role="validator")
    with as_("alex") as alex:
        alex.lifecycle.approve("credit@v1", "approve", "accepted", role="approver")
        alex.lifecycle.transition("credit@v1", "approved", "two approvals")
        alex.lifecycle.transition("credit@v1", "deployed", "go live")
    with as_("vera") as vera:
        finding = vera.findings.raise_("credit", "drift in income", "high", version="v1")
        report = vera.risk.gate("credit@v1")
        assert [r.rule for r in report.failed()] == ["findings"]
    with as_("alex") as alex:
        exc = alex.exceptions.grant("credit@v1", "findings", "monitoring weekly", "2030-01-01")
        report = alex.risk.gate("credit@v1")
        assert report.passed and [r.rule for r in report.waived()] == ["findings"]
        assert exc.id in report.waived()[0].message
    with as_("vera") as vera:
        vera.findings.update(finding.id, "mitigated", "retrained features")
        vera.findings.update(finding.id, "closed", "verified")
        report = vera.risk.gate("credit@v1")
        assert report.passed and report.waived() == [] and report.tier == 1 and report.tier_assigned
        (entry,) = vera.risk.inventory()
        assert (entry.status, entry.tier, entry.open_findings) == ("deployed", 1, 0)
        assert (entry.exceptions, entry.overrides) == ([exc.id], 1)
        assert vera.oversight.override_rate("credit@v1").rate == 1.0
        verification = vera.ledger.verify()
        assert verification.ok, verification
        actions = {e.action for e in vera.ledger.log()}
        assert {"exception.granted", "oversight.recorded", "approval.recorded", "finding.updated"} <= actions
