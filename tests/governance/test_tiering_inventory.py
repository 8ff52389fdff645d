"""Risk tiers from the documented method (hand-computed points), and the model inventory."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import orjson
import pytest
from gov_helpers import audit, set_status, workspace

import mlaudit
from mlaudit.cli import main
from mlaudit.governance.tiering import load_method

# points (governance/policies/tiering.yaml): materiality low 1 / medium 3 / high 5,
# complexity low 1 / medium 2 / high 3, use informational 1 / decision-support 2 /
# automated-decision 3; tier 1 from 8 points, tier 2 from 5, else tier 3
CASES = [
    (("high", "medium", "automated-decision"), 5 + 2 + 3, 1, 180),
    (("high", "low", "informational"), 5 + 1 + 1, 2, 365),
    (("medium", "medium", "decision-support"), 3 + 2 + 2, 2, 365),
    (("medium", "high", "decision-support"), 3 + 3 + 2, 1, 180),
    (("low", "low", "informational"), 1 + 1 + 1, 3, 730),
    (("low", "high", "informational"), 1 + 3 + 1, 2, 365),
    (("low", "medium", "informational"), 1 + 2 + 1, 3, 730),
]


@pytest.mark.parametrize(("inputs", "score", "tier", "days"), CASES)
def test_method_matches_hand_computed_points(
    inputs: tuple[str, str, str], score: int, tier: int, days: int
) -> None:
    m, c, u = inputs
    assert load_method().assess(materiality=m, complexity=c, use=u) == (score, tier, days)


def test_set_tier_is_ledgered_and_stored(tmp_path: Path) -> None:
    ws = workspace(tmp_path)
    t = ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")
    assert (t.tier, t.score, t.validation_days) == (1, 10, 180)
    assert t.inputs["method"] == "default-2026" and t.inputs["score"] == 10
    again = ws.risk.set_tier("credit", materiality="low", complexity="low", use="informational")
    assert ws.risk.tier("credit") == again and again.tier == 3
    events = ws.ledger.log(action="model.tiered")
    assert [e.data["tier"] for e in events] == ["1", "3"]  # oldest first
    assert events[1].data["previous"] == "1" and events[1].seq == again.seq
    with pytest.raises(mlaudit.InputError, match="unknown use"):
        ws.risk.set_tier("credit", materiality="low", complexity="low", use="fun")
    with pytest.raises(mlaudit.NotFound):
        ws.risk.set_tier("nope", materiality="low", complexity="low", use="informational")
    assert ws.ledger.verify().ok
    ws.close()


def test_custom_method_and_validation_names_the_key(tmp_path: Path) -> None:
    good = tmp_path / "m.yaml"
    good.write_text(
        "name: two-tier\npoints:\n  materiality: {low: 0, medium: 0, high: 10}\n"
        "  complexity: {low: 0, medium: 0, high: 0}\n"
        "  use: {informational: 0, decision-support: 0, automated-decision: 0}\n"
        "tiers:\n  - {tier: 1, min_score: 10, validation_days: 90}\n"
        "  - {tier: 2, min_score: 0, validation_days: 400}\n"
    )
    m = load_method(good)
    assert m.assess(materiality="high", complexity="low", use="informational") == (10, 1, 90)
    assert m.assess(materiality="medium", complexity="high", use="automated-decision") == (0, 2, 400)
    bad = tmp_path / "bad.yaml"
    bad.write_text(good.read_text().replace("validation_days: 90", "validation_dayz: 90"))
    with pytest.raises(mlaudit.InputError, match=r"tiers\.0\.validation_dayz"):
        load_method(bad)
    bad.write_text(good.read_text().replace("high: 10", "hihg: 10"))
    with pytest.raises(mlaudit.InputError, match="materiality"):
        load_method(bad)


def test_inventory_fields_and_overdue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    ws = workspace(tmp_path, "credit", "churn", "legacy")
    facts = {"purpose": "credit decisions", "intended_use": "retail loans", "out_of_scope_use": "mortgages"}
    ws.models.describe("credit", developers="dev team", validator="val team", risk_owner="cro", **facts)
    ws.risk.set_tier("credit", materiality="high", complexity="medium", use="automated-decision")  # 180 d
    ws.risk.set_tier("churn", materiality="low", complexity="low", use="informational")  # 730 d
    audit(ws, "credit@v1", created="2026-01-10T00:00:00.000000Z")
    audit(ws, "churn@v1", created="2026-01-10T00:00:00.000000Z")
    set_status(ws, "legacy@v1", "retired")
    ws.findings.raise_("credit", "a", "high")
    f = ws.findings.raise_("credit", "b", "low")
    ws.findings.update(f.id, "accepted")  # accepted: no longer open
    now = "2026-08-01T00:00:00Z"  # 203 days after the audits
    inv = {e.model: e for e in ws.risk.inventory(now=now)}
    assert list(inv) == ["churn", "credit", "legacy"]  # retired models stay listed
    c = inv["credit"]
    assert (c.developers, c.validator, c.purpose, c.intended_use, c.restrictions, c.risk_owner) == (
        "dev team", "val team", "credit decisions", "retail loans", "mortgages", "cro"
    )  # fmt: skip
    assert c.owner == "cro"  # no registered owner: the risk owner
    assert (c.latest_version, c.status, c.tier) == ("credit@v1", "draft", 1)
    assert c.last_validation == "2026-01-10T00:00:00.000000Z"
    assert c.next_validation_due == "2026-07-09T00:00:00Z" and c.overdue  # 180 days
    assert (c.open_findings, c.open_by_severity) == (1, {"high": 1})
    ch = inv["churn"]
    assert ch.next_validation_due == "2028-01-10T00:00:00Z" and not ch.overdue  # 730 days
    lg = inv["legacy"]
    assert lg.tier is None and lg.validation_days == 180 and lg.overdue and lg.last_validation is None
    assert lg.status == "retired" and lg.versions[0]["status"] == "retired"
    ws.close()
    w = ["-w", str(tmp_path / "ws")]
    assert main(["inventory", "--json", *w]) == 0
    assert {e["model"]: e["tier"] for e in orjson.loads(capsys.readouterr().out)} == {
        "churn": 3, "credit": 1, "legacy": None
    }  # fmt: skip
    assert main(["inventory", "--csv", *w]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert rows[2]["versions"] == "legacy@v1:retired" and rows[1]["validator"] == "val team"
    assert main(["inventory", *w]) == 0
    assert "legacy" in capsys.readouterr().out


def test_risk_cli(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    workspace(tmp_path).close()
    w = ["-w", str(tmp_path / "ws")]
    args = ["risk", "tier", "credit", "--materiality", "medium", "--complexity", "medium", "--use"]
    assert main([*args, "decision-support", "--json", *w]) == 0
    assert orjson.loads(capsys.readouterr().out)["tier"] == 2
    assert main([*args, "automated", *w]) == 2
    assert "unknown use" in capsys.readouterr().err
    assert main(["risk", "method"]) == 0
    assert "tier 1: score >= 8" in capsys.readouterr().out
