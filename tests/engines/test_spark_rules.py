"""Quality rules on Spark give the Results run_rules gives on the same rows."""

from __future__ import annotations

import copy
import datetime as dt
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from mlaudit.checks import run_rules
from mlaudit.engines import spark as spark_engine
from mlaudit.stats.result import Result

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)

RULES: list[dict[str, Any]] = [
    {"rule": "not_null", "column": "x"},
    {"rule": "not_null", "column": "x", "nan_is_null": False},
    {"rule": "not_null", "column": "i", "max_null_rate": 0.05},
    {"rule": "not_null", "column": "i", "max_null_rate": 0.5},  # passes, with examples
    {"rule": "not_null", "column": "empty", "max_null_rate": 0.5, "severity": "warn"},
    {"rule": "range", "column": "x", "min": -2, "max": 2},
    {"rule": "range", "column": "x", "min": -2, "allow_nan": True, "min_inclusive": False},
    {"rule": "range", "column": "i", "max": 90, "max_inclusive": False},
    {"rule": "range", "column": "ts", "min": "2024-01-02", "max": "2024-04-01T00:00:00"},
    {"rule": "range", "column": "tz", "max": "2024-03-01T00:00:00Z"},
    {"rule": "range", "column": "d", "min": "2024-01-15"},
    {"rule": "range", "column": "c", "min": 1},  # a string column: error, as in memory
    {"rule": "allowed_values", "column": "c", "values": ["a", "é", "日本", ""]},
    {"rule": "allowed_values", "column": "i", "values": [1, 2, 3]},
    {"rule": "allowed_values", "column": "b", "values": [True]},
    {"rule": "regex", "column": "c", "pattern": r"[a-z]"},
    {"rule": "regex", "column": "big", "pattern": r"k\d{1,3}|k1\d+"},
    {"rule": "regex", "column": "c", "pattern": "ü.*", "ignore_case": True},
    {"rule": "regex", "column": "x", "pattern": "a"},  # not text: error
    {"rule": "unique", "column": "big"},
    {"rule": "unique", "column": "text"},
    {"rule": "unique", "columns": ["c", "b"]},
    {"rule": "type", "column": "c", "kind": "integer"},
    {"rule": "type", "column": "x", "kind": "integer"},
    {"rule": "type", "column": "i", "kind": "boolean"},
    {"rule": "type", "column": "i", "kind": "numeric"},
    {"rule": "type", "column": "b", "kind": "datetime"},
    {"rule": "row_count", "min": 10, "max": 100},
    {"rule": "row_count", "min": 10},
    {"rule": "freshness", "column": "ts", "max_age": "30d", "now": NOW},
    {"rule": "freshness", "column": "d", "max_age": "400d", "now": NOW},
    {"rule": "freshness", "column": "empty", "max_age": "1d", "now": NOW},
    {"rule": "expression", "expr": "i * 2 > 50 AND c != 'é'"},
    {"rule": "expression", "expr": "x / i < 1 OR i IS NULL"},
    {"rule": "expression", "expr": "c IN ('a', 'b') OR NOT (i BETWEEN 0 AND 10)"},
    {"rule": "expression", "expr": "big LIKE 'k1%' AND d >= DATE '2024-02-01'"},
    {"rule": "expression", "expr": "ts < TIMESTAMP '2024-03-01T00:00:00' OR b = TRUE"},
    {"rule": "expression", "expr": "c = 1"},  # comparing text with a number: error
    {"rule": "expression", "expr": "missing > 0"},
    {"rule": "not_null", "column": "nope", "name": "named"},
]


def _same(got: Result, want: Result, *, examples_exact: bool) -> None:
    a, b = copy.deepcopy(got.to_dict()), copy.deepcopy(want.to_dict())
    ea, eb = a["details"].pop("examples"), b["details"].pop("examples")
    if a["status"] == "error":  # reasons name the failure in each engine's words
        a["details"].pop("reason", None)
        b["details"].pop("reason", None)
    assert a == b, (a, b)
    assert len(ea) == len(eb)
    if examples_exact:
        assert ea == eb, want.check


def test_every_rule_equals_run_rules(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    want = run_rules(table, RULES, examples=3)
    got = spark_engine.check(spark_engine.read(spark, path), RULES, examples=3)
    assert got.rows == want.rows
    assert [r.status for r in got.results] == [r.status for r in want.results]
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=True)  # one file read without a shuffle: same row numbers


def test_partitions_give_the_same_counts(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    rules = [r for r in RULES if r["rule"] in ("not_null", "range", "unique", "expression")]
    want = run_rules(table, rules)
    df = spark_engine.read(spark, path).repartition(3)
    got = run_rules(df, rules)  # the Python API dispatches Spark frames to the engine
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=False)
        rows = {e["row"] for e in a.details["examples"]}
        assert all(0 <= r < table.num_rows for r in rows) and len(rows) == len(a.details["examples"])


def test_common_regex_patterns_agree_with_re2(spark: Any) -> None:
    values = ["abc", "ABC", "a1", "12345", "1234x", "x.y@z.org", "é", "", " a ", "line\nbreak", None]
    table = pa.table({"s": values})
    df = spark.createDataFrame([(v,) for v in values], "s string")
    patterns = [
        r"\d{5}",
        r"[a-z]+",
        r"[A-Za-z0-9]+",
        r"a|b|abc",
        r"(a|b)c?\d?",
        r"[^@]+@[^@]+\.\w+",
        r".*",
        r"\w+",
        r"\s*a\s*",
        r"line.break",
        r"\S+",
    ]
    rules = [{"rule": "regex", "column": "s", "pattern": p} for p in patterns]
    rules.append({"rule": "regex", "column": "s", "pattern": "abc", "ignore_case": True})
    rules.append({"rule": "regex", "column": "s", "pattern": "É", "ignore_case": True})
    want = run_rules(table, rules)
    got = spark_engine.check(df, rules)
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=True)


def test_referential_against_a_file_and_a_table(spark: Any, nasty_parquet: Any, tmp_path: Any) -> None:
    path, table = nasty_parquet
    ref_path = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"key": ["a", "é", "zz", None]}), ref_path)
    rules = [
        {"rule": "referential", "column": "c", "reference": str(ref_path), "reference_column": "key"},
        {"rule": "referential", "column": "i", "reference": pa.table({"i": list(range(0, 100, 2))})},
        {"rule": "referential", "column": "c", "reference": pa.table({"k": ["a"]}), "reference_column": "no"},
    ]
    want = run_rules(table, rules)
    got = spark_engine.check(spark_engine.read(spark, path), rules)
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=True)


def test_empty_dataframe(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    rules = [r for r in RULES if r["rule"] != "row_count"] + [{"rule": "row_count", "min": 1}]
    want = run_rules(table.slice(0, 0), rules)
    got = spark_engine.check(spark_engine.read(spark, path).limit(0), rules)
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=True)


def test_a_rule_the_data_defeats_is_an_error_and_the_others_run(spark: Any, nasty_parquet: Any) -> None:
    path, table = nasty_parquet
    rules = [
        {"rule": "expression", "expr": "i * 9223372036854775807 > 0"},  # overflows: error
        {"rule": "not_null", "column": "i"},
    ]
    want = run_rules(table, rules)
    got = spark_engine.check(spark_engine.read(spark, path), rules)
    assert [r.status for r in got.results] == [r.status for r in want.results] == ["error", "fail"]
    for a, b in zip(got.results, want.results, strict=True):
        _same(a, b, examples_exact=True)
