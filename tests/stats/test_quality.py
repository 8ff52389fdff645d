"""Each quality rule's offending count against pandas or a hand-worked example."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlaudit.errors import InputError
from mlaudit.stats import quality as q


def rows_of(result):
    return [e["row"] for e in result.details["examples"]]


@pytest.fixture
def frame() -> pd.DataFrame:
    rng = np.random.default_rng(7)
    n = 500
    age = rng.integers(0, 130, n).astype(float)
    age[rng.choice(n, 40, replace=False)] = np.nan
    status = rng.choice(["open", "closed", "cancelled", "bogus", None], n)
    ids = rng.integers(0, 400, n)
    return pd.DataFrame({"age": age, "status": status, "id": ids})


# --- not_null --------------------------------------------------------------------------------


def test_not_null_matches_pandas(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    for column in ("age", "status"):
        r = q.not_null(table, column=column)
        expected = frame[column].isna()
        assert r.details["offending"] == int(expected.sum())
        assert r.status == "fail"
        assert rows_of(r) == list(np.flatnonzero(expected)[:5])


def test_not_null_rate_and_nan_option() -> None:
    table = pa.table({"x": [1.0, None, float("nan"), 4.0]})
    assert q.not_null(table, column="x").details["offending"] == 2
    assert q.not_null(table, column="x", nan_is_null=False).details["offending"] == 1
    tolerant = q.not_null(table, column="x", max_null_rate=0.5)
    assert (tolerant.status, tolerant.value, tolerant.threshold) == ("pass", 0.5, 0.5)
    strict = q.not_null(table, column="x", max_null_rate=0.25, severity="warn")
    assert strict.status == "warn"
    with pytest.raises(InputError):
        q.not_null(table, column="x", max_null_rate=2)


# --- range -----------------------------------------------------------------------------------


def test_range_matches_pandas(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    r = q.range_(table, column="age", min=18, max=120, allow_nan=True)
    a = frame["age"]
    expected = (a < 18) | (a > 120)  # NaN compares False: allowed here
    assert r.details["offending"] == int(expected.sum())
    assert rows_of(r) == list(np.flatnonzero(expected)[:5])
    # from_pandas turns NaN into null, which range skips (NaN itself: see the next test).
    strict = q.range_(table, column="age", min=18, max=120, min_inclusive=False)
    expected_strict = (a <= 18) | (a > 120)
    assert strict.details["offending"] == int(expected_strict.sum())


def test_range_nan_and_inf_are_explicit() -> None:
    table = pa.table({"x": [0.0, float("nan"), float("inf"), float("-inf"), None, 5.0]})
    # NaN offends by default; +inf only offends against a max; -inf against a min; null never.
    assert rows_of(q.range_(table, column="x", min=0)) == [1, 3]
    assert rows_of(q.range_(table, column="x", max=10)) == [1, 2]
    assert rows_of(q.range_(table, column="x", min=0, max=10, allow_nan=True)) == [2, 3]
    ex = q.range_(table, column="x", max=1).details["examples"]
    assert ex[0]["values"] == {"x": "nan"}  # JSON-safe


def test_range_dates_with_iso_bounds() -> None:
    table = pa.table({"d": pa.array([dt.date(2023, 12, 31), dt.date(2024, 6, 1)])})
    r = q.range_(table, column="d", min="2024-01-01", max="2024-12-31")
    assert r.details["offending"] == 1
    assert r.details["examples"][0]["values"] == {"d": "2023-12-31"}


def test_range_errors() -> None:
    table = pa.table({"s": ["a"]})
    assert q.range_(table, column="s", min=0).status == "error"
    missing = q.range_(table, column="nope", min=0)
    assert missing.status == "error"
    assert "no column 'nope'" in missing.details["reason"]
    with pytest.raises(InputError):
        q.range_(table, column="s")


# --- allowed values, regex, referential ------------------------------------------------------


def test_allowed_values_matches_pandas(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    allowed = ["open", "closed", "cancelled"]
    r = q.allowed_values(table, column="status", values=allowed)
    s = frame["status"]
    expected = s.notna() & ~s.isin(allowed)
    assert r.details["offending"] == int(expected.sum())
    assert rows_of(r) == list(np.flatnonzero(expected)[:5])


def test_allowed_values_unicode_and_dictionary() -> None:
    values = pa.array(["café", "naïve", "日本", "cafe"]).dictionary_encode()
    r = q.allowed_values(pa.table({"w": values}), column="w", values=["café", "日本"])
    assert rows_of(r) == [1, 3]
    assert r.details["examples"][0]["values"] == {"w": "naïve"}


def test_allowed_values_type_mismatch_is_error() -> None:
    r = q.allowed_values(pa.table({"n": [1, 2]}), column="n", values=["a"])
    assert r.status == "error"


def test_regex_full_match_and_unicode() -> None:
    table = pa.table({"z": ["12345", "1234", "123456", "a12345", None, "ñ1234"]})
    r = q.regex(table, column="z", pattern=r"\d{5}")
    assert rows_of(r) == [1, 2, 3, 5]  # anchored at both ends; null skipped
    letters = q.regex(table, column="z", pattern=r"\pL\d{4}")
    assert 5 not in rows_of(letters)
    assert q.regex(pa.table({"n": [1]}), column="n", pattern="1").status == "error"
    with pytest.raises(InputError, match="bad regular expression"):
        q.regex(table, column="z", pattern="(")


def test_referential() -> None:
    ref = pa.table({"id": pa.array([1, 2, 3], pa.int32())})
    table = pa.table({"cid": [1, 4, None, 3, 5]})
    r = q.referential(table, column="cid", reference=ref, reference_column="id")
    assert rows_of(r) == [1, 4]
    assert r.details["reference_keys"] == 3
    bad = q.referential(table, column="cid", reference=ref, reference_column="nope")
    assert bad.status == "error"


# --- unique ----------------------------------------------------------------------------------


def test_unique_matches_pandas(frame: pd.DataFrame) -> None:
    table = pa.Table.from_pandas(frame, preserve_index=False)
    r = q.unique(table, column="id")
    expected = frame["id"].duplicated(keep=False)
    assert r.details["offending"] == int(expected.sum())
    assert rows_of(r) == list(np.flatnonzero(expected)[:5])
    assert r.details["duplicate_keys"] == int((frame["id"].value_counts() > 1).sum())


def test_unique_compound_skips_null_keys() -> None:
    table = pa.table({"a": [1, 1, 1, None, None], "b": ["x", "x", "y", "z", "z"]})
    r = q.unique(table, columns=["a", "b"])
    assert rows_of(r) == [0, 1]
    assert r.check == "unique(a,b)"
    with pytest.raises(InputError):
        q.unique(table, column="a", columns=["b"])


# --- type ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "kind", "offending"),
    [
        ([1, 2, 3], "integer", []),
        ([1.0, 2.5, float("nan"), None], "integer", [1, 2]),
        (["1", " 2 ", "x", "3.5", None], "integer", [2, 3]),
        (["1e3", "-.5", "nan", "abc"], "numeric", [3]),
        (["true", "No", "maybe"], "boolean", [2]),
        ([0, 1, 2], "boolean", [2]),
        (["2024-01-01", "2024-01-01T10:00:00Z", "01/02/2024"], "datetime", [2]),
        ([1, 2], "string", [0, 1]),
        (["a", "é"], "string", []),
    ],
)
def test_type(values: list, kind: str, offending: list[int]) -> None:
    r = q.type_(pa.table({"c": values}), column="c", kind=kind)  # type: ignore[arg-type]
    assert rows_of(r) == offending
    assert r.details["actual_type"]


# --- row count, freshness --------------------------------------------------------------------


def test_row_count() -> None:
    table = pa.table({"a": [1, 2, 3]})
    assert q.row_count(table, min=3, max=3).status == "pass"
    low = q.row_count(table, min=4)
    assert (low.status, low.value, low.threshold) == ("fail", 3.0, 4.0)
    high = q.row_count(table, max=2, severity="warn")
    assert (high.status, high.threshold) == ("warn", 2.0)


def test_freshness() -> None:
    now = dt.datetime(2024, 3, 10, 12, 0, tzinfo=dt.UTC)
    table = pa.table({"ts": [dt.datetime(2024, 3, 9, 13, 0), dt.datetime(2024, 3, 1)]})
    fresh = q.freshness(table, column="ts", max_age="1d", now=now)
    assert (fresh.status, fresh.value, fresh.threshold) == ("pass", 23 * 3600.0, 86400.0)
    stale = q.freshness(table, column="ts", max_age="12h", now=now)
    assert stale.status == "fail"
    assert stale.details["newest"] == "2024-03-09T13:00:00+00:00"
    text = pa.table({"ts": ["2024-03-10T00:00:00"]})
    assert q.freshness(text, column="ts", max_age="1d", now=now).status == "pass"
    assert q.freshness(pa.table({"ts": [1]}), column="ts", max_age="1d", now=now).status == "error"
    empty = pa.table({"ts": pa.array([], pa.timestamp("us"))})
    assert q.freshness(empty, column="ts", max_age="1d", now=now).status == "fail"


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("24h", 86400), ("7d", 604800), ("1d12h", 129600), ("90m", 5400), ("30", 30), (45, 45)],
)
def test_parse_duration(text: str | int, seconds: float) -> None:
    assert q.parse_duration(text).total_seconds() == seconds


def test_parse_duration_rejects_garbage() -> None:
    for bad in ("", "1x", "h", "1d 2y"):
        with pytest.raises(InputError):
            q.parse_duration(bad)


# --- expression, empty tables, shared behaviour ----------------------------------------------


def test_expression_null_is_offending() -> None:
    table = pa.table({"amount": [1, -2, None]})
    r = q.expression(table, predicate=pc.field("amount") >= 0, columns=["amount"])
    assert rows_of(r) == [1, 2]
    bad = q.expression(table, predicate=pc.field("amount") == pa.scalar("x"), columns=["amount"])
    assert bad.status == "error"


@pytest.mark.parametrize(
    "call",
    [
        lambda t: q.not_null(t, column="x"),
        lambda t: q.range_(t, column="x", min=0),
        lambda t: q.allowed_values(t, column="x", values=[1.0]),
        lambda t: q.unique(t, column="x"),
        lambda t: q.type_(t, column="x", kind="numeric"),
        lambda t: q.expression(t, predicate=pc.field("x") > 0, columns=["x"]),
    ],
)
def test_empty_table_passes(call) -> None:
    r = call(pa.table({"x": pa.array([], pa.float64())}))
    assert (r.status, r.details["offending"], r.details["rows"]) == ("pass", 0, 0)


def test_examples_limit_and_severity() -> None:
    table = pa.table({"x": list(range(20))})
    r = q.range_(table, column="x", max=4, examples=3, severity="warn")
    assert (r.status, r.details["offending"], rows_of(r)) == ("warn", 15, [5, 6, 7])
    assert q.range_(table, column="x", max=4, examples=0).details["examples"] == []
    assert math.isclose(r.value or 0, 15)
    with pytest.raises(InputError):
        q.range_(table, column="x", max=4, severity="fatal")  # type: ignore[arg-type]
