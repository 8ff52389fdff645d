"""The model lifecycle: transitions, maker-checker approvals (not bypassable by role, group or
database edits), deployment supersession and "which version was deployed at T" vs the ledger."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa
from sklearn.dummy import DummyClassifier

import mlaudit
from mlaudit.store.tables import approvals

Opener = dict[str, mlaudit.Workspace]


def _clf(c: int) -> DummyClassifier:
    return DummyClassifier(strategy="constant", constant=c).fit(np.zeros((4, 2)), [0, 1, 0, 1])


@pytest.fixture
def ws(tmp_path: Path) -> Opener:
    """Workspaces of root (admin), dev (contributor), val (validator), ops (approver), boss
    (admin + contributor) and risk-dev (in group ``risk``, which holds approver)."""
    where = tmp_path / "ws"
    root = mlaudit.open(where, actor="root")
    root.access.add_user("root", admin=True)
    for name, role in [("dev", "contributor"), ("val", "validator"), ("ops", "approver")]:
        root.access.add_user(name, display_name=name.title() + " Person")
        root.access.grant(name, role)
    root.access.add_user("boss", admin=True)
    root.access.grant("boss", "contributor")
    root.access.add_user("risk-dev")
    root.access.grant("risk-dev", "contributor")
    root.access.add_to_group("risk", "risk-dev")
    root.access.grant("group:risk", "approver", project="credit")
    return {n: mlaudit.open(where, actor=n) for n in ("root", "dev", "val", "ops", "boss", "risk-dev")}


def _register(w: mlaudit.Workspace, c: int = 1, audited: bool = True) -> str:
    v = w.models.register("credit", _clf(c), features=["a", "b"]).version
    if audited:
        w.audits.record("audit_report", v.node, {"kind": "audit_report", "c": c}, status="pass")
    return v.ref


def _to_approved(ws: Opener, ref: str) -> None:
    ws["dev"].lifecycle.transition(ref, "in_validation", "ready for validation")
    ws["val"].lifecycle.approve(ref, "approve", "AUC and fairness within limits")
    ws["val"].lifecycle.transition(ref, "approved", "validated")


def test_happy_path_records_everything(ws: Opener) -> None:
    ref = _register(ws["dev"])
    _to_approved(ws, ref)
    t = ws["ops"].lifecycle.transition(ref, "deployed", "release 1")
    assert (t.from_status, t.to_status, t.actor) == ("approved", "deployed", "ops")
    assert ws["ops"].models.get(ref).status == "deployed"
    steps = [(s.from_status, s.to_status, s.actor, s.reason) for s in ws["ops"].lifecycle.history(ref)]
    assert steps == [
        ("draft", "in_validation", "dev", "ready for validation"),
        ("in_validation", "approved", "val", "validated"),
        ("approved", "deployed", "ops", "release 1"),
    ]
    [a] = ws["ops"].lifecycle.approvals(ref)
    result = ws["ops"].audits.list(kind="audit_report")[0]
    event = next(e for e in ws["ops"].ledger.log(action="result.recorded") if e.data["id"] == result.id)
    assert (a.actor, a.role, a.decision, a.evidence) == (
        "val",
        "validator",
        "approve",
        event.data["document"],
    )
    moved = ws["ops"].ledger.log(action="model.transitioned")
    assert [(e.data["from"], e.data["to"], e.actor, e.data["reason"]) for e in moved] == steps
    assert ws["ops"].lifecycle.verify_approvals() == [] and ws["ops"].ledger.verify().ok


def test_transitions_are_checked(ws: Opener) -> None:
    ref = _register(ws["dev"])
    with pytest.raises(mlaudit.InputError, match="draft; it cannot go to deployed"):
        ws["ops"].lifecycle.transition(ref, "deployed")
    with pytest.raises(mlaudit.InputError, match="unknown lifecycle status"):
        ws["dev"].lifecycle.transition(ref, "production")
    with pytest.raises(mlaudit.PermissionDenied, match=r"lifecycle\.submit"):
        ws["val"].lifecycle.transition(ref, "in_validation")
    ws["dev"].lifecycle.transition(ref, "in_validation")
    with pytest.raises(mlaudit.PermissionDenied, match="no recorded 'approve' decision"):
        ws["val"].lifecycle.transition(ref, "approved")
    with pytest.raises(mlaudit.PermissionDenied, match=r"lifecycle\.approve"):
        ws["root"].lifecycle.transition(ref, "approved")  # admin: not an approving role
    ws["ops"].lifecycle.approve(ref, "reject", "calibration is off", role="approver")
    with pytest.raises(mlaudit.PermissionDenied, match="validator role"):
        ws["ops"].lifecycle.approve(ref, "approve", "fine", role="validator")  # a role not held
    ws["ops"].lifecycle.transition(ref, "rejected", "see decision")
    with pytest.raises(
        mlaudit.InputError, match="rejected; decisions are recorded on versions in validation"
    ):
        ws["val"].lifecycle.approve(ref, "approve", "x")


def test_no_audit_evidence_no_decision(ws: Opener) -> None:
    ref = _register(ws["dev"], audited=False)
    ws["dev"].lifecycle.transition(ref, "in_validation")
    with pytest.raises(mlaudit.InputError, match="no audit evidence to base the decision on"):
        ws["val"].lifecycle.approve(ref, "approve", "trust me")


def test_maker_checker_cannot_be_bypassed_by_role_or_group(ws: Opener) -> None:
    # boss is admin + contributor and registers; granting boss approver does not help
    ref = _register(ws["boss"])
    ws["root"].access.grant("boss", "approver")
    ws["dev"].lifecycle.transition(ref, "in_validation")
    with pytest.raises(mlaudit.PermissionDenied, match="maker-checker: boss registered it"):
        ws["boss"].lifecycle.approve(ref, "approve", "mine is fine", role="approver")
    # the submitter, even with the approver role through a group
    ws["root"].access.add_to_group("risk", "dev")
    with pytest.raises(mlaudit.PermissionDenied, match="maker-checker: dev submitted it for validation"):
        ws["dev"].lifecycle.approve(ref, "approve", "ok", role="approver")
    # someone named among the developers (by display name), via group approver role
    ws["root"].models.describe("credit", developers="Ops Person and the risk team")
    with pytest.raises(mlaudit.PermissionDenied, match="named in the model's developers"):
        ws["ops"].lifecycle.approve(ref, "approve", "ok", role="approver")
    # risk-dev decides via its group role: independent, so allowed
    ws["risk-dev"].lifecycle.approve(ref, "approve", "independent review", role="approver")
    with pytest.raises(mlaudit.PermissionDenied, match="maker-checker: boss"):
        ws["boss"].lifecycle.transition(ref, "approved")
    ws["risk-dev"].lifecycle.transition(ref, "approved")
    assert ws["root"].models.get(ref).status == "approved"


def test_maker_checker_holds_in_open_mode(tmp_path: Path) -> None:
    a = mlaudit.open(tmp_path / "ws", actor="alice")
    ref = _register(a)
    a.lifecycle.transition(ref, "in_validation")
    with pytest.raises(mlaudit.PermissionDenied, match="maker-checker: alice registered it"):
        a.lifecycle.approve(ref, "approve", "self-approval")
    mlaudit.open(tmp_path / "ws", actor="bob").lifecycle.approve(ref, "approve", "independent")


def test_database_edits_are_caught(ws: Opener) -> None:
    ref = _register(ws["dev"])
    ws["dev"].lifecycle.transition(ref, "in_validation")
    ws["val"].lifecycle.approve(ref, "reject", "fails the fairness check")
    assert ws["val"].lifecycle.verify_approvals(ref) == []
    store = ws["dev"].store
    with store.engine.begin() as conn:  # the developer edits the row: reject → approve, as someone else
        conn.execute(sa.update(approvals).values(decision="approve", actor="ops"))
    problems = ws["root"].lifecycle.verify_approvals(ref)
    assert any("decision is 'approve' in the database but 'reject' in the ledger" in p for p in problems)
    assert any("actor is 'ops' in the database but 'val' in the ledger" in p for p in problems)
    assert all(ref in p for p in problems)
    with store.engine.begin() as conn:  # a forged row pointing at another event
        conn.execute(sa.update(approvals).values(decision="reject", actor="val", seq=1))
    assert any("has no approval event" in p for p in ws["root"].lifecycle.verify_approvals())
    assert any("missing from the database" in p for p in ws["root"].lifecycle.verify_approvals())
    with store.engine.begin() as conn:  # editing the ledger event instead breaks the ledger
        conn.execute(sa.text("UPDATE ledger_events SET actor = 'ops' WHERE action = 'approval.recorded'"))
    assert not ws["root"].ledger.verify().ok


def test_a_self_approval_written_past_the_api_is_reported(ws: Opener) -> None:
    import uuid

    ref = _register(ws["dev"])
    ws["dev"].lifecycle.transition(ref, "in_validation")
    v = ws["dev"].models.get(ref)
    row = {
        "version_id": v.id,
        "role": "approver",
        "decision": "approve",
        "rationale": "mine",
        "evidence": None,
    }
    with ws["dev"].store.write("dev") as tx:  # row and event written directly, bypassing the checks
        event = tx.record("approval.recorded", v.node, row)
        tx.conn.execute(
            sa.insert(approvals).values(
                id=uuid.uuid4().hex, created=event.ts, actor="dev", seq=event.seq, **row
            )
        )
    [problem] = ws["root"].lifecycle.verify_approvals(ref)
    assert "dev registered it and may not decide on it (maker-checker)" in problem
    assert ws["root"].ledger.verify().ok  # the ledger is intact: the rule is what fails


def test_deploy_supersedes_and_deployed_at_matches_the_ledger(ws: Opener) -> None:
    times = [ws["root"].ledger.log()[-1].ts]  # before anything was deployed
    v1 = _register(ws["dev"], 1)
    _to_approved(ws, v1)
    ws["ops"].lifecycle.transition(v1, "deployed", "first release")
    times.append(ws["root"].ledger.log()[-1].ts)
    v2 = _register(ws["dev"], 0)
    _to_approved(ws, v2)
    times.append(ws["root"].ledger.log()[-1].ts)  # v2 approved, v1 still deployed
    ws["ops"].lifecycle.transition(v2, "deployed", "second release")
    assert ws["ops"].models.get(v1).status == "retired"
    last = ws["ops"].lifecycle.history(v1)[-1]
    assert (last.to_status, last.reason) == ("retired", "superseded by v2")
    times.append(ws["root"].ledger.log()[-1].ts)
    ws["ops"].lifecycle.transition(v2, "retired", "model withdrawn")
    times.append(ws["root"].ledger.log()[-1].ts)

    def replay(moment: str) -> str | None:  # the answer from the ledger alone
        current: str | None = None
        for e in ws["root"].ledger.log(action="model.transitioned"):
            if e.ts > moment:
                break
            if e.data["to"] == "deployed":
                current = e.data["ref"]
            elif e.data["from"] == "deployed" and e.data["ref"] == current:
                current = None
        return current

    answers = []
    for moment in times:
        found = ws["root"].lifecycle.deployed_at("credit", moment)
        answers.append(found.ref if found else None)
        assert answers[-1] == replay(moment)
    assert answers == [None, v1, v1, v2, None]
