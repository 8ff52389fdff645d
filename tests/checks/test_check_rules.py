"""Declaring rules (Python and YAML), validating them, and running them as a suite."""

from __future__ import annotations

import datetime as dt
import types
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
import yaml

import mlaudit.checks as checks
from mlaudit.checks import RULES, CheckReport, Rule, load_rules, parse_rules, run_rules
from mlaudit.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
TABLE = pa.table(
    {
        "customer_id": [1, 2, None, 4],
        "age": [25, 17, 40, 130],
        "amount": [10.0, -1.0, 3.0, 0.0],
        "status": ["open", "closed", "open", "lost"],
    }
)


def write(tmp_path: Path, text: str, name: str = "rules.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_exported_names() -> None:
    public = {
        name
        for name, value in vars(checks).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
        and name != "annotations"
    }
    assert set(checks.__all__) == public
    assert set(checks.__all__) >= {"Rule", "run_rules", "load_rules", "suggest_rules"}


def test_registry_is_a_plain_dict_of_functions() -> None:
    assert type(RULES) is dict
    assert set(RULES) == {
        "not_null", "range", "allowed_values", "regex", "unique", "type", "row_count",
        "freshness", "referential", "expression",
    }


def test_run_rules_report_shape() -> None:
    rules = [
        Rule.of("not_null", column="customer_id"),
        Rule.of("range", column="age", min=18, max=120, severity="warn"),
        {"rule": "expression", "name": "non_negative", "expr": "amount >= 0"},
    ]
    report = run_rules(TABLE, rules)
    assert isinstance(report, CheckReport)
    statuses = [(r.check, r.status, r.details["offending"]) for r in report.results]
    assert statuses == [
        ("not_null(customer_id)", "fail", 1),
        ("range(age)", "warn", 2),
        ("non_negative", "fail", 1),
    ]
    assert not report.passed
    data = report.to_dict()
    assert (data["kind"], data["schema_version"], data["rows"], data["passed"]) == (
        "check_report", 1, 4, False,
    )
    assert data["results"][2]["details"]["examples"] == [{"row": 1, "values": {"amount": -1.0}}]
    assert set(data["results"][0]) == {"check", "status", "value", "threshold", "details"}


def test_warn_only_passes_and_examples_option() -> None:
    report = run_rules(TABLE, [Rule.of("range", column="age", min=18, severity="warn")], examples=0)
    assert report.passed and report.status == "warn"
    assert report.results[0].details["examples"] == []
    own = Rule.of("range", column="age", min=100, examples=1)
    assert len(run_rules(TABLE, [own], examples=5).results[0].details["examples"]) == 1


def test_missing_column_is_an_error_result_not_a_crash() -> None:
    report = run_rules(TABLE, [Rule.of("not_null", column="nope"), Rule.of("row_count", min=1)])
    assert [r.status for r in report.results] == ["error", "pass"]
    assert "nope" in report.results[0].details["reason"]
    assert not report.passed


def test_python_rules_take_tables_and_expressions() -> None:
    ref = pa.table({"id": [1, 2]})
    rules = [
        Rule.of("referential", column="customer_id", reference=ref, reference_column="id"),
        Rule.of("expression", expr=pc.field("amount") < 5),
        Rule.of("freshness", column="ts", max_age="1h", now=dt.datetime(2024, 1, 1, tzinfo=dt.UTC)),
    ]
    table = TABLE.append_column("ts", pa.array([dt.datetime(2023, 12, 31, 23, 30)] * 4))
    results = run_rules(table, rules).results
    assert [r.details["offending"] for r in results] == [1, 1, 0]


@pytest.mark.parametrize(
    ("kind", "params", "message"),
    [
        ("nope", {}, "unknown rule 'nope'"),
        ("range", {"column": "age"}, "needs 'min', 'max' or both"),
        ("range", {"min": 1}, "missing required parameter 'column'"),
        ("range", {"column": "age", "minimum": 1}, "unknown parameter 'minimum'"),
        ("regex", {"column": "a", "pattern": "("}, "bad regular expression"),
        ("expression", {"expr": "amount >"}, "at position 8"),
        ("type", {"column": "a", "kind": "float"}, "unknown kind 'float'"),
        ("unique", {"columns": "a"}, "as a list"),
        ("freshness", {"column": "t", "max_age": "soon"}, "duration"),
        ("allowed_values", {"column": "a", "values": "abc"}, "as a list"),
        ("not_null", {"column": "a", "max_null_rate": 5}, "max_null_rate"),
    ],
)
def test_bad_rules_are_input_errors(kind: str, params: dict, message: str) -> None:
    with pytest.raises(InputError, match=message.replace("(", r"\(")):
        Rule(kind, params)


def test_to_dict_round_trips() -> None:
    rule = Rule.of("range", name="adult", column="age", min=18, severity="warn")
    assert parse_rules([rule.to_dict()]) == [rule]


def test_load_rules_from_yaml(tmp_path: Path) -> None:
    write(tmp_path, "id\n10\n11\n", "customers.csv")
    path = write(
        tmp_path,
        """
rules:
  - rule: not_null
    column: customer_id
  - rule: range
    column: age
    min: 18
    max: 120
    severity: warn
  - rule: expression
    name: non_negative_amounts
    expr: "amount >= 0"
  - rule: allowed_values
    column: status
    values: [open, closed]
  - rule: referential
    column: customer_id
    reference: customers.csv
    reference_column: id
""",
    )
    rules = load_rules(path, schema=TABLE.schema)
    assert [r.kind for r in rules] == ["not_null", "range", "expression", "allowed_values",
                                      "referential"]
    assert rules[1].severity == "warn"
    report = run_rules(TABLE, rules)
    assert [r.details["offending"] for r in report.results] == [1, 2, 1, 1, 3]
    assert report.results[4].details["reference"].endswith("customers.csv")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("rules: [\n  - rule: not_null\n    column: [a\n", "not valid YAML at line"),
        ("rules:\n  - rule: no_such_rule\n    column: a\n", "rule #1 (no_such_rule): unknown rule"),
        (
            "rules:\n  - rule: not_null\n    column: age\n  - rule: range\n    name: adult\n"
            "    column: age\n",
            "rule #2 (range 'adult'): the range rule needs",
        ),
        ("rules:\n  - rule: regex\n    column: status\n", "missing required parameter 'pattern'"),
        ("rules:\n  - column: status\n", "rule #1: missing the 'rule:' key"),
        ("rules:\n  - not_null\n", "rule #1: expected a mapping"),
        ("rules: 3\n", "'rules' must be a list"),
        ("checks: []\n", "unknown top-level key 'checks'"),
        ("", "no rules found"),
        ("rules:\n  - rule: not_null\n    column: agee\n", "rule #1 (not_null): no column 'agee'"),
        (
            "rules:\n  - rule: expression\n    expr: \"amount > 0 AND colour = 'red'\"\n",
            "no column 'colour'",
        ),
        (
            "rules:\n  - rule: referential\n    column: customer_id\n    reference: gone.csv\n",
            "gone.csv' does not exist",
        ),
    ],
)
def test_malformed_rules_files_name_the_file_and_rule(
    tmp_path: Path, text: str, message: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as info:
        load_rules(path, schema=TABLE.schema)
    assert info.value.path == str(path)
    assert str(path) in str(info.value)


def test_missing_rules_file(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such rules file"):
        load_rules(tmp_path / "absent.yaml")


def test_documented_example_file_parses() -> None:
    data = yaml.safe_load((ROOT / "examples" / "rules.yaml").read_text(encoding="utf-8"))
    rules = parse_rules(data)  # no base_dir: the referenced customers.csv need not exist
    assert {r.kind for r in rules} == set(RULES)


def test_module_docstring_example_parses() -> None:
    doc = checks.__doc__ or ""
    block = doc.split("::\n\n", 1)[1].split("\n\n", 1)[0]
    rules = parse_rules(yaml.safe_load(block))
    assert {r.kind for r in rules} == set(RULES)


@pytest.mark.parametrize(
    "module",
    ["mlaudit.checks", "mlaudit.checks.rules", "mlaudit.checks.suite", "mlaudit.checks.suggest",
     "mlaudit.checks.expression", "mlaudit.stats.quality"],
)
def test_docstring_examples_run(module: str) -> None:
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0
