"""Suggested rules hold on the data they came from and catch an injected violation."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
import yaml

from mlaudit.checks import parse_rules, rules_to_yaml, run_rules, suggest_rules


@pytest.fixture
def table() -> pa.Table:
    rng = np.random.default_rng(3)
    n = 300
    score = rng.normal(0.5, 0.2, n)
    score[[5, 9]] = np.nan
    return pa.table(
        {
            "customer_id": np.arange(1000, 1000 + n),
            "age": rng.integers(18, 90, n),
            "score": pa.array(score, from_pandas=False),
            "segment": rng.choice(["retail", "sme", "corporate", "ünïcode"], n),
            "comment": [f"free text {i}" for i in range(n)],
            "active": rng.random(n) > 0.5,
            "note": [None if i % 3 else "x" for i in range(n)],
        }
    )


def kinds(rules, column):
    return {r.kind for r in rules if r.params.get("column") == column}


def test_suggestions_pass_on_their_data(table: pa.Table) -> None:
    rules = suggest_rules(table)
    report = run_rules(table, rules)
    assert report.passed, [r.to_dict() for r in report.results if not r.passed]
    assert all(r.status == "pass" for r in report.results)
    assert kinds(rules, "customer_id") == {"type", "not_null", "range", "unique"}
    assert kinds(rules, "segment") == {"type", "not_null", "allowed_values"}
    assert kinds(rules, "comment") == {"type", "not_null"}  # many values: no allowed list
    assert kinds(rules, "note") == {"type", "allowed_values"}  # has nulls
    assert "not_null" not in kinds(rules, "score")  # NaN counts as missing
    score_range = next(r for r in rules if r.kind == "range" and r.params["column"] == "score")
    assert score_range.params["allow_nan"] is True
    age_range = next(r for r in rules if r.kind == "range" and r.params["column"] == "age")
    assert age_range.params["min"] >= 0  # non-negative data gets no negative lower bound
    assert any(r.kind == "row_count" for r in rules)


@pytest.mark.parametrize(
    ("column", "value", "rule"),
    [
        ("age", 1000, "range"),
        ("segment", "wholesale", "allowed_values"),
        ("customer_id", 1000, "unique"),
        ("comment", None, "not_null"),
    ],
)
def test_suggestions_catch_an_injected_violation(
    table: pa.Table, column: str, value: object, rule: str
) -> None:
    rules = suggest_rules(table)
    values = table.column(column).to_pylist()
    values[7] = value
    broken = table.set_column(
        table.column_names.index(column), column, pa.array(values, table.schema.field(column).type)
    )
    report = run_rules(broken, rules)
    failed = {(r.details["rule"], r.details.get("column")) for r in report.results if not r.passed}
    assert (rule, column) in failed
    offending = next(
        r for r in report.results if (r.details["rule"], r.details.get("column")) == (rule, column)
    )
    assert 7 in [e["row"] for e in offending.details["examples"]]


def test_yaml_round_trip(table: pa.Table) -> None:
    rules = suggest_rules(table)
    text = rules_to_yaml(rules, comment="starter\nsecond line")
    assert text.startswith("# starter\n# second line\nrules:\n")
    assert "ünïcode" in text
    assert parse_rules(yaml.safe_load(text)) == rules


def test_empty_table_suggests_only_types() -> None:
    rules = suggest_rules(pa.table({"a": pa.array([], pa.int64())}))
    assert [r.kind for r in rules] == ["type"]
    assert run_rules(pa.table({"a": pa.array([], pa.int64())}), rules).passed
