"""Human-oversight records, policy exceptions (waivers in the gate), the guard on the last admin,
and the new inventory fields (inputs, upstream models, exceptions, overrides)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from gov_helpers import approve, audit, set_status, workspace

import mlaudit
from mlaudit.cli import main
from mlaudit.governance.inventory import CSV_FIELDS, to_csv
from mlaudit.governance.oversight import overrides

LATER = "2099-01-01T00:00:00Z"


def _as(ws: mlaudit.Workspace, actor: str) -> mlaudit.Workspace:
    return mlaudit.open(ws.location, create=False, actor=actor)


def _events(ws: mlaudit.Workspace, action: str) -> list[dict[str, object]]:
    return [e.data for e in ws.ledger.log() if e.action == action]


# --- human oversight ------------------------------------------------------------------------


def test_oversight_records_overrides_and_rates(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    ws.models.register("credit", _other_model(), features=["a", "b"])  # credit@v2
    r1 = ws.oversight.record(
        "credit@v1", "case-1", {"label": 1, "score": 0.91}, {"label": 0}, "income verified"
    )
    r2 = ws.oversight.record("credit@v1", "case-2", "approve", "approve", "agrees with the model")
    r3 = ws.oversight.record("credit@v1", "case-3", 0.2, 0.8, "manual review")
    r4 = ws.oversight.record("credit", "case-4", [1, 2], [1, 2], "same")  # bare name: latest (v2)
    r5 = ws.oversight.record("credit@v2", "case-5", {"label": 1, "score": 0.7}, {"label": 1}, "agrees")
    assert (r1.overridden, r2.overridden, r3.overridden, r4.overridden) == (True, False, True, False)
    assert not r5.overridden  # only the fields the decision names are compared
    assert overrides({"label": 1}, {"label": 1, "reason": "x"}) and overrides([1], {"label": 1})
    assert r4.ref == "credit@v2" and r1.model_output == {"label": 1, "score": 0.91}
    rates = {r.ref: (r.records, r.overrides, round(r.rate, 4)) for r in ws.oversight.rates("credit")}
    assert rates == {"credit@v1": (3, 2, 0.6667), "credit@v2": (2, 0, 0.0)}
    assert ws.oversight.override_rate("credit@v1").overrides == 2
    empty = ws.oversight.override_rate("credit@v2")
    assert (empty.records, empty.rate) == (2, 0.0)
    assert [r.case_id for r in ws.oversight.list("credit@v1")] == ["case-1", "case-2", "case-3"]
    assert [r.case_id for r in ws.oversight.list()] == ["case-1", "case-2", "case-3", "case-4", "case-5"]
    assert ws.oversight.list(since=LATER) == []
    assert len(ws.oversight.list("credit", since="2000-01-01")) == 5
    (event,) = [e for e in _events(ws, "oversight.recorded") if e["case_id"] == "case-1"]
    assert event["overridden"] is True and event["decision"] == {"label": 0} and event["ref"] == "credit@v1"
    assert event["rationale"] == "income verified"
    assert ws.ledger.verify().ok
    ws.close()


def _other_model() -> object:
    import numpy as np
    from sklearn.dummy import DummyClassifier

    return DummyClassifier(strategy="prior").fit(np.zeros((4, 2)), [0, 0, 0, 1])


def test_oversight_needs_a_rationale_json_and_a_permission(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    with pytest.raises(mlaudit.InputError, match="needs a rationale"):
        ws.oversight.record("credit@v1", "c1", 1, 0, "   ")
    with pytest.raises(mlaudit.InputError, match="needs a case id"):
        ws.oversight.record("credit@v1", " ", 1, 0, "why")
    with pytest.raises(mlaudit.InputError, match="model output is not a JSON value"):
        ws.oversight.record("credit@v1", "c1", object(), 0, "why")
    with pytest.raises(mlaudit.NotFound):
        ws.oversight.record("credit@v7", "c1", 1, 0, "why")
    ws.access.add_user("tester", admin=True)
    ws.access.add_user("vic")
    ws.access.grant("vic", "viewer")
    with (
        _as(ws, "vic") as viewer,
        pytest.raises(mlaudit.PermissionDenied, match=r"may not oversight\.record"),
    ):
        viewer.oversight.record("credit@v1", "c1", 1, 0, "why")
    assert ws.oversight.list() == [] and not _events(ws, "oversight.recorded")
    ws.close()


def test_oversight_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = workspace(tmp_path)
    w = ["-w", ws.location]
    capsys.readouterr()
    args = ["oversight", "record", "credit@v1", "--case", "A-17", "--output", '"deny"', "--decision"]
    assert main([*args, '"approve"', "--rationale", "collateral not seen by the model", *w]) == 0
    assert 'case A-17: override ("deny" → "approve")' in capsys.readouterr().out
    assert main([*args, "not json", "--rationale", "x", *w]) == 2
    assert main(["oversight", "list", "credit", "--json", *w]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert [r["decision"] for r in doc["records"]] == ["approve"]
    assert doc["rates"] == [
        {"model": "credit", "version_id": ws.models.get("credit@v1").id, "ref": "credit@v1",
         "records": 1, "overrides": 1, "rate": 1.0}
    ]  # fmt: skip
    assert main(["oversight", "list", *w]) == 0
    assert "credit@v1: 1 override(s) in 1 record(s) (100%)" in capsys.readouterr().out
    ws.close()


# --- policy exceptions ------------------------------------------------------------------------


@pytest.fixture
def blocked(tmp_path: Path) -> mlaudit.Workspace:
    """credit@v1 at tier 1 meeting every rule except one open high finding (registered by
    "tester", so tester is its maker)."""
    ws = workspace(tmp_path)
    ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
    audit(ws, "credit@v1", suite="full")
    approve(ws, "credit@v1", "validator", "vera")
    approve(ws, "credit@v1", "approver", "alex")
    set_status(ws, "credit@v1", "approved")
    ws.findings.raise_("credit", "bias against group F", "high", version="v1")
    assert [r.rule for r in ws.risk.gate("credit@v1").failed()] == ["findings"]
    return ws


def test_an_exception_waives_the_failing_rule_until_it_expires(blocked: mlaudit.Workspace) -> None:
    with _as(blocked, "alex") as alex:
        e = alex.exceptions.grant(
            "credit@v1", "findings", "fix ships in Q1; manual review meanwhile", "2030-06-30"
        )
    assert (e.ref, e.rule, e.expires, e.actor, e.revoked) == (
        "credit@v1", "findings", "2030-06-30T00:00:00Z", "alex", None,
    )  # fmt: skip
    report = blocked.risk.gate("credit@v1")
    assert report.passed and report.failed() == []
    (waived,) = report.waived()
    assert waived.rule == "findings" and waived.status == "waived"
    assert waived.message.startswith("1 open blocking finding(s) (medium, high, critical): ")
    assert f"waived by exception {e.id} (granted by alex on " in waived.message
    assert "expires 2030-06-30T00:00:00Z): fix ships in Q1" in waived.message
    assert waived.details["waived_by"]["id"] == e.id and waived.details["blocking"][0]["severity"] == "high"
    assert [x.id for x in blocked.exceptions.active("credit", blocked.models.get("credit@v1").id)] == [e.id]
    # after the expiry the rule fails again; before the grant it was not waived either
    assert [r.rule for r in blocked.risk.gate("credit@v1", now="2030-06-30T00:00:00Z").failed()] == [
        "findings",
        "validation_age",  # the audit is old by then too
    ]
    assert blocked.exceptions.active("credit", at="2030-07-01") == []
    assert blocked.exceptions.active("credit", at="2000-01-01") == []
    # another rule or another version is not waived by it
    blocked.models.register("credit", _other_model(), features=["a", "b"])
    assert blocked.exceptions.active("credit", blocked.models.get("credit@v2").id) == []
    (granted,) = _events(blocked, "exception.granted")
    assert granted["rule"] == "findings" and granted["ref"] == "credit@v1" and granted["id"] == e.id
    blocked.close()


def test_revoked_exceptions_do_not_waive(blocked: mlaudit.Workspace) -> None:
    with _as(blocked, "alex") as alex:
        e = alex.exceptions.grant("credit", "findings", "accepted", "2030-01-01T12:00:00+02:00")
        assert e.ref == "credit" and e.version_id is None and e.expires == "2030-01-01T10:00:00Z"
        assert blocked.risk.gate("credit@v1").passed  # a model-wide exception covers v1
        with pytest.raises(mlaudit.InputError, match="needs a reason"):
            alex.exceptions.revoke(e.id, "")
        revoked = alex.exceptions.revoke(e.id, "the fix slipped")
        assert revoked.revoked is not None and revoked.revoked_by == "alex"
        with pytest.raises(mlaudit.InputError, match="already revoked"):
            alex.exceptions.revoke(e.id, "again")
    report = blocked.risk.gate("credit@v1")
    assert not report.passed and [r.rule for r in report.failed()] == ["findings"]
    assert blocked.exceptions.active("credit") == []
    (event,) = _events(blocked, "exception.revoked")
    assert event == {"id": e.id, "model": "credit", "rule": "findings", "reason": "the fix slipped"}
    with pytest.raises(mlaudit.NotFound):
        blocked.exceptions.revoke("nope", "x")
    blocked.close()


def test_makers_may_not_grant_exceptions(blocked: mlaudit.Workspace) -> None:
    with pytest.raises(mlaudit.PermissionDenied, match=r"maker-checker: tester registered it \(credit@v1\)"):
        blocked.exceptions.grant("credit@v1", "findings", "mine", "2030-01-01")
    with _as(blocked, "checker") as checker:  # set_status ran as checker; tester submitted it
        checker.exceptions.grant("credit@v1", "findings", "independent", "2030-01-01")
    blocked.models.describe("credit", developers="Dana Smith (dana), Alex")
    with _as(blocked, "dana") as dana, pytest.raises(mlaudit.PermissionDenied, match="named in the model's"):
        dana.exceptions.grant("credit", "status", "model-wide", "2030-01-01")
    with _as(blocked, "alex") as alex, pytest.raises(mlaudit.PermissionDenied, match="developers"):
        alex.exceptions.grant("credit@v1", "findings", "now a developer", "2030-01-01")
    assert len(_events(blocked, "exception.granted")) == 1
    blocked.close()


def test_exception_input_is_checked(blocked: mlaudit.Workspace) -> None:
    with _as(blocked, "alex") as alex:
        with pytest.raises(mlaudit.InputError, match="cannot be waived"):
            alex.exceptions.grant("credit@v1", "approvals:verified", "x", "2030-01-01")
        with pytest.raises(mlaudit.InputError, match="not a gate rule: 'finding'"):
            alex.exceptions.grant("credit@v1", "finding", "x", "2030-01-01")
        with pytest.raises(mlaudit.InputError, match="not in the future"):
            alex.exceptions.grant("credit@v1", "findings", "x", "2020-01-01")
        with pytest.raises(mlaudit.InputError, match="not a date"):
            alex.exceptions.grant("credit@v1", "findings", "x", "soon")
        with pytest.raises(mlaudit.InputError, match="needs a rationale"):
            alex.exceptions.grant("credit@v1", "findings", " ", "2030-01-01")
        with pytest.raises(mlaudit.NotFound):
            alex.exceptions.grant("nomodel", "findings", "x", "2030-01-01")
        for rule in ("suite:full", "approvals:approver", "validation_age", "status", "tier"):
            alex.exceptions.grant("credit@v1", rule, "ok", "2030-01-01")
    assert [e.rule for e in blocked.exceptions.list("credit")] == [
        "suite:full", "approvals:approver", "validation_age", "status", "tier",
    ]  # fmt: skip
    # a passing rule stays "pass" even when an exception names it
    assert {r.rule: r.status for r in blocked.risk.gate("credit@v1").results}["status"] == "pass"
    blocked.close()


def test_exceptions_need_the_grant_permission(blocked: mlaudit.Workspace) -> None:
    blocked.access.add_user("tester", admin=True)
    for name, role in (("carl", "contributor"), ("alex", "approver")):
        blocked.access.add_user(name)
        blocked.access.grant(name, role)
    with (
        _as(blocked, "carl") as carl,
        pytest.raises(mlaudit.PermissionDenied, match=r"may not exception\.grant"),
    ):
        carl.exceptions.grant("credit@v1", "findings", "x", "2030-01-01")
    with _as(blocked, "alex") as alex:
        e = alex.exceptions.grant("credit@v1", "findings", "x", "2030-01-01")
    with (
        _as(blocked, "carl") as carl,
        pytest.raises(mlaudit.PermissionDenied, match=r"may not exception\.revoke"),
    ):
        carl.exceptions.revoke(e.id, "no")
    blocked.close()


def test_exception_cli_and_gate_exit_codes(
    blocked: mlaudit.Workspace, capsys: pytest.CaptureFixture[str]
) -> None:
    w = ["-w", blocked.location]
    assert main(["gate", "credit@v1", *w]) == 1
    capsys.readouterr()
    grant = ["exception", "grant", "credit@v1", "--rule", "findings", "--rationale", "accepted", "--expires"]
    assert main([*grant, "2030-01-01", *w]) == 4  # tester registered it: maker-checker (PermissionDenied)
    capsys.readouterr()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MLAUDIT_USER", "alex")
        assert main([*grant, "2030-01-01", "--json", *w]) == 0
    e = orjson.loads(capsys.readouterr().out)
    assert main(["gate", "credit@v1", *w]) == 0
    text = capsys.readouterr().out
    assert "WAIVED findings: 1 open blocking finding(s)" in text and f"waived by exception {e['id']}" in text
    assert "passed (1 rule(s) waived by policy exceptions)" in text
    assert main(["gate", "credit@v1", "--json", *w]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["passed"] and {r["rule"]: r["status"] for r in doc["results"]}["findings"] == "waived"
    assert main(["exception", "list", "--json", *w]) == 0
    listed = orjson.loads(capsys.readouterr().out)
    assert [(x["id"], x["active"]) for x in listed] == [(e["id"], True)]
    assert main(["exception", "revoke", e["id"], "--reason", "fixed differently", *w]) == 0
    capsys.readouterr()
    assert main(["exception", "list", "--json", *w]) == 0
    (revoked,) = orjson.loads(capsys.readouterr().out)
    assert revoked["revoked_by"] == "tester" and revoked["active"] is False
    assert main(["gate", "credit@v1", *w]) == 1
    blocked.close()


# --- the last admin ---------------------------------------------------------------------------


def test_the_last_admin_cannot_be_disabled_or_revoked(tmp_path: Path) -> None:
    ws = mlaudit.open(tmp_path / "ws", actor="root")
    ws.access.add_user("root", admin=True)
    ws.access.add_user("ann")
    with pytest.raises(mlaudit.InputError, match="would have no enabled admin left"):
        ws.access.disable_user("root")
    with pytest.raises(mlaudit.InputError, match="refusing to revoke admin from user:root"):
        ws.access.revoke("root", "admin")
    ws.access.disable_user("ann")  # not an admin: fine
    ws.access.add_user("bea")
    ws.access.grant("group:ops", "admin")
    ws.access.add_to_group("ops", "bea")
    ws.access.revoke("root", "admin")  # bea is an admin through group ops
    assert ws.access.roles("root") == set()
    with _as(ws, "bea") as bea:
        with pytest.raises(mlaudit.InputError, match="no enabled admin"):
            bea.access.disable_user("bea")
        with pytest.raises(mlaudit.InputError, match="refusing to revoke admin from group:ops"):
            bea.access.revoke("group:ops", "admin")
        bea.access.grant("root", "admin", "credit")  # a project-scoped admin does not count
        with pytest.raises(mlaudit.InputError):
            bea.access.revoke("group:ops", "admin")
        bea.access.grant("root", "admin")
        bea.access.revoke("root", "admin", "credit")
        bea.access.revoke("group:ops", "admin")
    assert [u.name for u in ws.access.users() if "admin" in u.roles and not u.disabled] == ["root"]
    assert ws.ledger.verify().ok
    ws.close()


# --- inventory --------------------------------------------------------------------------------


def test_inventory_inputs_upstream_models_exceptions_and_overrides(tmp_path: Path) -> None:
    import pyarrow as pa

    ws = workspace(tmp_path, "scorer", "credit")  # credit@v1: no training data recorded
    train = ws.datasets.log("train", pa.table({"a": [1, 2, 3], "b": [0, 1, 0]})).version
    scores = ws.datasets.log("scores", pa.table({"s": [0.1, 0.9, 0.4]})).version
    with ws.run("score") as run:
        run.consumes(ws.models.get("scorer@v1")).consumes(train).produces(scores)
    ws.models.register(
        "credit", _other_model(), features=["a", "b", "s"], trained_on=["train@v1", "scores@v1"]
    )
    ws.oversight.record("credit@v1", "c1", 1, 0, "override")
    ws.oversight.record("credit@v2", "c2", 1, 1, "confirmed")
    audit(ws, "credit@v2")
    approve(ws, "credit@v2", "approver", "alex")
    set_status(ws, "credit@v2", "approved")
    set_status(ws, "credit@v2", "deployed")
    set_status(ws, "credit@v2", "retired")
    with _as(ws, "alex") as alex:
        kept = alex.exceptions.grant("credit", "findings", "accepted", "2030-01-01")
        gone = alex.exceptions.grant("credit@v2", "status", "accepted", "2030-01-01")
        alex.exceptions.revoke(gone.id, "no longer needed")
    entries = {e.model: e for e in ws.risk.inventory()}
    credit, scorer = entries["credit"], entries["scorer"]
    assert credit.status == "retired"  # retired models stay listed
    assert credit.inputs == {"datasets": ["train@v1", "scores@v1"], "features": 3}
    assert credit.upstream_models == ["scorer@v1"]
    assert credit.exceptions == [kept.id] and credit.overrides == 2
    assert scorer.inputs == {"datasets": [], "features": 2} and scorer.upstream_models == []
    assert scorer.exceptions == [] and scorer.overrides == 0
    assert ws.risk.inventory(now=LATER)[0].exceptions == []  # expired by then
    rows = {r["model"]: r for r in csv.DictReader(io.StringIO(to_csv(list(entries.values()))))}
    assert list(rows["credit"]) == list(CSV_FIELDS)
    assert (rows["credit"]["inputs"], rows["credit"]["features"]) == ("train@v1 scores@v1", "3")
    assert rows["credit"]["upstream_models"] == "scorer@v1"
    assert (rows["credit"]["exceptions"], rows["credit"]["exception_ids"]) == ("1", kept.id)
    assert rows["credit"]["overrides"] == "2" and rows["scorer"]["exceptions"] == "0"
    ws.close()


def test_inventory_cli_shows_exceptions_and_oversight(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ws = workspace(tmp_path)
    ws.oversight.record("credit@v1", "c1", 1, 0, "override")
    monkeypatch.setenv("COLUMNS", "250")
    capsys.readouterr()
    assert main(["inventory", "--json", "-w", ws.location]) == 0
    (doc,) = orjson.loads(capsys.readouterr().out)
    assert doc["overrides"] == 1 and doc["exceptions"] == [] and doc["inputs"]["features"] == 2
    assert main(["inventory", "-w", ws.location]) == 0
    text = capsys.readouterr().out
    assert "exceptions" in text and "oversight" in text
    ws.close()
