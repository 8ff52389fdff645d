"""`mlaudit check` through the CLI entry point: output, JSON shape, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from mlaudit.cli import main

DATA = """order_id,customer_id,amount,status
1,10,5.5,closed
2,11,-3,open
2,,7,open
4,12,1200,wéird
"""
RULES = """
rules:
  - rule: not_null
    column: customer_id
  - rule: range
    column: amount
    min: 0
    max: 1000
    severity: warn
  - rule: unique
    column: order_id
  - rule: allowed_values
    column: status
    values: [open, closed]
"""
PASSING = """
rules:
  - rule: row_count
    min: 1
  - rule: range
    column: amount
    min: 0
    severity: warn
"""


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    paths = {"data": tmp_path / "orders.csv", "rules": tmp_path / "rules.yaml",
             "passing": tmp_path / "ok.yaml"}
    paths["data"].write_text(DATA, encoding="utf-8")
    paths["rules"].write_text(RULES, encoding="utf-8")
    paths["passing"].write_text(PASSING, encoding="utf-8")
    return {k: str(v) for k, v in paths.items()}


def test_json_report_and_exit_1(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", files["data"], "--rules", files["rules"], "--json"])
    assert rc == 1
    data = json.loads(capsys.readouterr().out)  # only JSON on stdout
    assert data["kind"] == "check_report" and data["passed"] is False and data["rows"] == 4
    summary = [(r["check"], r["status"], r["details"]["offending"]) for r in data["results"]]
    assert summary == [
        ("not_null(customer_id)", "fail", 1),
        ("range(amount)", "warn", 2),
        ("unique(order_id)", "fail", 2),
        ("allowed_values(status)", "fail", 1),
    ]
    assert data["results"][3]["details"]["examples"] == [{"row": 3, "values": {"status": "wéird"}}]


def test_warnings_only_exit_0(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", files["data"], "--rules", files["passing"], "--json", "--examples", "1"])
    data = json.loads(capsys.readouterr().out)
    assert rc == 0 and data["passed"] is True
    assert [r["status"] for r in data["results"]] == ["pass", "warn"]
    assert len(data["results"][1]["details"]["examples"]) == 1


def test_rich_table(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    rc = main(["check", files["data"], "--rules", files["rules"]])
    out = capsys.readouterr().out
    assert rc == 1
    for text in ("unique(order_id)", "order_id", "fail", "warn", "row 1", "4 rules"):
        assert text in out


def test_bad_rules_file_exit_2(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("rules:\n  - rule: not_null\n    column: nope\n", encoding="utf-8")
    rc = main(["check", files["data"], "--rules", str(bad), "--json"])
    captured = capsys.readouterr()
    assert rc == 2 and captured.out == ""
    assert "bad.yaml" in captured.err and "rule #1" in captured.err and "nope" in captured.err


@pytest.mark.parametrize(
    "args",
    [
        ["check", "{data}"],
        ["check", "{data}", "--rules", "{rules}", "--suggest"],
        ["check", "{data}", "--rules", "{rules}", "--out", "x.yaml"],
        ["check", "{missing}", "--rules", "{rules}"],
    ],
)
def test_bad_usage_exit_2(files: dict[str, str], tmp_path: Path, args: list[str]) -> None:
    filled = [a.format(missing=str(tmp_path / "absent.csv"), **files) for a in args]
    assert main(filled) == 2


def test_suggest_to_stdout_then_check(
    files: dict[str, str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", files["data"], "--suggest"]) == 0
    text = capsys.readouterr().out
    assert text.startswith("# Starter rules") and "rule: row_count" in text
    out = tmp_path / "suggested.yaml"
    assert main(["check", files["data"], "--suggest", "--out", str(out)]) == 0
    assert out.read_text(encoding="utf-8") == text
    assert main(["check", files["data"], "--rules", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_suggest_json(files: dict[str, str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", files["data"], "--suggest", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "suggested_rules"
    assert {"rule": "not_null", "column": "order_id"} in data["rules"]
