"""Quality rules batch by batch (checks.partial) give exactly what run_rules gives in memory."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from mlaudit.checks import Rule, run_rules
from mlaudit.checks.partial import UniqueKeys, check_batches, partial_rule
from mlaudit.errors import InputError

NOW = dt.datetime(2024, 6, 1, tzinfo=dt.UTC)


def _table() -> pa.Table:
    n = 23
    return pa.table(
        {
            "id": [i % 9 if i % 4 else i for i in range(n)],
            "x": [None if i % 5 == 0 else (math.nan if i % 7 == 0 else float(i - 3)) for i in range(n)],
            "s": [["a", "b", "ünï", "", None, "zz9"][i % 6] for i in range(n)],
            "ts": [dt.datetime(2024, 5, 1 + i % 28) if i % 3 else None for i in range(n)],
            "num_text": [["1", "2", "n/a", None][i % 4] for i in range(n)],
            "k2": [["p", "q", None][i % 3] for i in range(n)],
        }
    )


def _rules(tmp_path: Path) -> list[dict[str, Any]]:
    ref = tmp_path / "ref.parquet"
    pq.write_table(pa.table({"code": ["a", "b", "", "x"]}), ref)
    return [
        {"rule": "not_null", "column": "x"},
        {"rule": "not_null", "column": "x", "max_null_rate": 0.2},
        {"rule": "not_null", "column": "s", "max_null_rate": 0.5},
        {"rule": "not_null", "column": "x", "nan_is_null": False, "severity": "warn"},
        {"rule": "range", "column": "x", "min": 0, "max": 15},
        {"rule": "range", "column": "x", "min": 0, "allow_nan": True, "min_inclusive": False},
        {"rule": "range", "column": "ts", "min": "2024-05-03", "max": "2024-05-20"},
        {"rule": "range", "column": "s", "min": 0},  # wrong type: error
        {"rule": "allowed_values", "column": "s", "values": ["a", "b", ""]},
        {"rule": "regex", "column": "s", "pattern": r"[a-z]+\d?"},
        {"rule": "regex", "column": "s", "pattern": "Ü.*", "ignore_case": True},
        {"rule": "unique", "column": "id"},
        {"rule": "unique", "columns": ["id", "k2"], "name": "compound"},
        {"rule": "unique", "column": "s", "examples": 2},
        {"rule": "unique", "column": "x"},
        {"rule": "type", "column": "num_text", "kind": "integer"},
        {"rule": "type", "column": "x", "kind": "integer"},
        {"rule": "row_count", "min": 10, "max": 20},
        {"rule": "row_count", "min": 1},
        {"rule": "freshness", "column": "ts", "max_age": "7d", "now": NOW},
        {"rule": "freshness", "column": "ts", "max_age": "40d", "now": NOW},
        {"rule": "referential", "column": "s", "reference": str(ref), "reference_column": "code"},
        {"rule": "referential", "column": "s", "reference": str(ref), "reference_column": "nope"},
        {"rule": "expression", "expr": "x >= 0 AND s != 'a'"},
        {"rule": "not_null", "column": "missing"},
        {"rule": "unique", "column": "missing"},
    ]


@pytest.mark.parametrize("size", [1, 7, 1000])
def test_every_rule_equals_run_rules(tmp_path: Path, size: int) -> None:
    table = _table()
    rules = _rules(tmp_path)
    whole = run_rules(table, rules, examples=3)
    parts = check_batches(rules, lambda: table.to_batches(max_chunksize=size), examples=3)
    assert parts.rows == whole.rows
    for a, b in zip(parts.results, whole.results, strict=True):
        assert a.to_dict() == b.to_dict(), a.check


def test_empty_table_and_empty_batches(tmp_path: Path) -> None:
    table = _table().slice(0, 0)
    rules = _rules(tmp_path)
    whole = run_rules(table, rules)
    batches = [
        table.to_batches()[0] if table.to_batches() else pa.RecordBatch.from_pylist([], schema=table.schema)
    ]
    parts = check_batches(rules, lambda: batches)
    assert [r.to_dict() for r in parts.results] == [r.to_dict() for r in whole.results]


def test_freshness_uses_one_clock_and_the_newest_batch() -> None:
    t = pa.table({"ts": [dt.datetime(2024, 1, 1), None, dt.datetime(2024, 1, 3)]})
    rule = Rule.of("freshness", column="ts", max_age="1d")
    r = check_batches([rule], lambda: t.to_batches(1), now=NOW).results[0]
    assert r.details["newest"] == "2024-01-03T00:00:00+00:00"
    assert r.value == (NOW - dt.datetime(2024, 1, 3, tzinfo=dt.UTC)).total_seconds()


def test_unique_past_the_exact_limit_is_flagged_approximate() -> None:
    t = pa.table({"id": [*list(range(50)), 0, 1, 2, *list(range(1000, 1100))]})
    rule = Rule.of("unique", column="id")
    exact = run_rules(t, [rule]).results[0]
    approx = check_batches([rule], lambda: t.to_batches(10), exact_limit=20).results[0]
    assert "approximate" in approx.details
    # the duplicates of keys counted exactly are certain: lower bounds of the exact figures
    assert 0 < approx.details["offending"] <= exact.details["offending"]
    assert approx.status == "fail"
    note = approx.details["approximate"]
    assert note["rows_with_key"] == t.num_rows
    assert abs(note["distinct_estimate"] - 150) < 10


def test_unique_all_distinct_past_the_limit_passes() -> None:
    t = pa.table({"id": list(range(5000))})
    r = check_batches([Rule.of("unique", column="id")], lambda: t.to_batches(100), exact_limit=100).results[0]
    assert r.status == "pass" and r.details["approximate"]["distinct_upper"] >= 5000


def test_partial_states_merge_like_one_pass(tmp_path: Path) -> None:
    t = _table()
    for spec in _rules(tmp_path):
        rule = Rule(spec.pop("rule"), spec, spec.pop("name", None), spec.pop("severity", "fail"))
        if rule.kind == "unique":
            continue
        parts = [partial_rule(rule, examples=3, now=NOW) for _ in range(3)]
        for part, (lo, hi) in zip(parts, [(0, 4), (4, 4), (4, 23)], strict=True):
            part.update(t.slice(lo, hi - lo), 0)
        merged = parts[0].merge(parts[1].merge(parts[2]))  # any grouping
        whole = run_rules(t, [rule], examples=3).results[0]
        assert merged.result().to_dict() == whole.to_dict(), rule.label


def test_unique_key_counts_merge() -> None:
    t = _table()
    a, b = UniqueKeys(["id", "k2"], 1000), UniqueKeys(["id", "k2"], 1000)
    a.update(t.slice(0, 10))
    b.update(t.slice(10))
    repeated = a.merge(b).repeated()
    whole = run_rules(t, [Rule.of("unique", columns=["id", "k2"])]).results[0].details
    assert repeated.num_rows == whole["duplicate_keys"]
    assert sum(repeated.column("n").to_pylist()) == whole["offending"]


def test_bad_regex_is_an_input_error() -> None:
    with pytest.raises(InputError, match="bad regular expression"):
        check_batches([{"rule": "regex", "column": "s", "pattern": "(("}], lambda: _table().to_batches())


def test_glob_with_an_all_null_file(tmp_path: Path) -> None:
    from mlaudit.data.sources import read
    from mlaudit.engines.streaming import check_source

    pq.write_table(pa.table({"x": [1.0, -2.0, 3.0]}), tmp_path / "a.parquet")
    pq.write_table(pa.table({"x": pa.nulls(2)}), tmp_path / "b.parquet")
    rules = [{"rule": "range", "column": "x", "min": 0}, {"rule": "not_null", "column": "x"}]
    whole = run_rules(read(tmp_path / "*.parquet"), rules)
    streamed = check_source(rules, tmp_path / "*.parquet", batch_rows=2)
    assert [r.to_dict() for r in streamed.results] == [r.to_dict() for r in whole.results]
