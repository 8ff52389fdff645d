"""Real gate reports (pass, warn, fail, waived) validate against ``gate_report.schema.json``."""

from __future__ import annotations

import copy
import json
from importlib import resources
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from gov_helpers import approve, audit, set_status, workspace

import mlaudit
from mlaudit.cli import main


def _schema() -> dict[str, Any]:
    text = (resources.files("mlaudit.schemas") / "gate_report.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded


def _validate(doc: dict[str, Any]) -> None:
    jsonschema.Draft202012Validator(_schema()).validate(json.loads(json.dumps(doc)))


def test_the_schema_is_valid_draft_2020_12() -> None:
    s = _schema()
    jsonschema.Draft202012Validator.check_schema(s)
    assert s["$id"] == "urn:mlaudit:schema:gate_report:v1"
    assert s["properties"]["schema_version"]["const"] == 1


def test_real_gate_reports_validate(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    ws = workspace(tmp_path)
    untiered = ws.risk.gate("credit").to_dict()  # warn (no tier) + fail
    assert {r["status"] for r in untiered["results"]} >= {"warn", "fail"}
    _validate(untiered)
    ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
    audit(ws, "credit@v1", suite="full")
    approve(ws, "credit@v1", "validator", "vera")
    approve(ws, "credit@v1", "approver", "alex")
    set_status(ws, "credit@v1", "approved")
    w = ["-w", ws.location]
    capsys.readouterr()
    assert main(["gate", "credit@v1", "--json", *w]) == 0
    passed = json.loads(capsys.readouterr().out)
    assert passed["passed"] and {r["status"] for r in passed["results"]} == {"pass"}
    _validate(passed)
    ws.findings.raise_("credit", "bias against group F", "critical")
    assert main(["gate", "credit@v1", "--json", *w]) == 1
    failed = json.loads(capsys.readouterr().out)
    assert not failed["passed"] and [r["rule"] for r in failed["results"] if r["status"] == "fail"] == [
        "findings"
    ]
    _validate(failed)
    with mlaudit.open(ws.location, create=False, actor="alex") as alex:
        alex.exceptions.grant("credit@v1", "findings", "accepted until the fix", "2030-01-01")
    assert main(["gate", "credit@v1", "--json", *w]) == 0
    waived = json.loads(capsys.readouterr().out)
    assert waived["passed"] and [r["status"] for r in waived["results"] if r["rule"] == "findings"] == [
        "waived"
    ]
    _validate(waived)
    for breaks in (
        lambda d: d.update(schema_version=2),
        lambda d: d["results"][0].update(status="ok"),
        lambda d: d.pop("passed"),
        lambda d: next(r for r in d["results"] if r["status"] == "waived")["details"].pop("waived_by"),
    ):
        broken = copy.deepcopy(waived)
        breaks(broken)
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken)
    ws.close()
