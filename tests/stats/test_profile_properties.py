"""Invariants of profiles (Hypothesis): merge is associative and commutative, the merge of
the parts' profiles equals the whole table's profile, and bytes round-trip."""

from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from mlaudit.stats.profile import ColumnProfile, Profile, profile

KINDS = {"x": "numeric", "c": "categorical", "b": "boolean", "t": "datetime", "s": "text"}
BINS = {"x": np.array([-1e6, -10.0, 0.0, 0.5, 10.0, 1e6]), "t": np.array([0.0, 1e6, 1e9])}
SCHEMA = pa.schema([
    ("x", pa.float64()), ("c", pa.string()), ("b", pa.bool_()),
    ("t", pa.timestamp("s")), ("s", pa.string()),
])  # fmt: skip

_numbers = st.one_of(
    st.none(),
    st.floats(-1e7, 1e7, allow_nan=False, allow_infinity=False),
    st.sampled_from([math.nan, math.inf, -math.inf, 0.0, -0.0, 0.5, 1e6]),
)
_words = st.one_of(
    st.none(), st.sampled_from(["a", "b", "", "Zürich", "東京", "🙂"]), st.text(max_size=4)
)
_row = st.tuples(
    _numbers,
    _words,
    st.one_of(st.none(), st.booleans()),
    st.one_of(st.none(), st.integers(-(10**10), 10**10)),
    _words,
)
_rows = st.lists(_row, max_size=40)

SETTINGS = settings(
    max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)  # fmt: skip


def _table(rows: list[tuple[object, ...]]) -> pa.Table:
    columns = list(zip(*rows, strict=True)) if rows else [[] for _ in SCHEMA]
    return pa.table(
        [pa.array(list(c), f.type) for c, f in zip(columns, SCHEMA, strict=True)], schema=SCHEMA
    )


def _profile(rows: list[tuple[object, ...]]) -> Profile:
    return profile(_table(rows), kinds=KINDS, bins=BINS)  # type: ignore[arg-type]


def assert_same_column(a: ColumnProfile, b: ColumnProfile) -> None:
    """Exact fields exactly; mean/m2 up to rounding; small sketches hold all their items."""
    exact = ("name", "kind", "count", "nulls", "nan", "inf", "valid", "min", "max", "histogram")
    assert {f: getattr(a, f) for f in exact} == {f: getattr(b, f) for f in exact}
    assert a.value_counts == b.value_counts
    if a.mean is None or b.mean is None:
        assert a.mean is b.mean is None
    else:
        scale = max(abs(a.min or 0.0), abs(a.max or 0.0), 1.0)
        assert a.mean == pytest.approx(b.mean, rel=1e-9, abs=1e-12 * scale)
        assert a.m2 == pytest.approx(b.m2, rel=1e-7, abs=1e-9 * scale * scale * max(a.valid, 1))
    qs = [0.0, 0.1, 0.5, 0.9, 1.0]
    assert a.quantiles(qs) == b.quantiles(qs)  # < k=200 items: KLL keeps them all, exact
    assert a.distinct_estimate() == pytest.approx(b.distinct_estimate(), rel=1e-9)
    assert a.distinct_sketch.get_estimate() == pytest.approx(
        b.distinct_sketch.get_estimate(), rel=1e-9
    )
    assert a.top(None) == b.top(None)


def assert_same(a: Profile, b: Profile) -> None:
    assert a.rows == b.rows and list(a.columns) == list(b.columns)
    for name in a.columns:
        assert_same_column(a.column(name), b.column(name))


@SETTINGS
@given(_rows, _rows, _rows)
def test_merge_is_associative(a: list, b: list, c: list) -> None:
    pa_, pb, pc_ = _profile(a), _profile(b), _profile(c)
    assert_same(pa_.merge(pb).merge(pc_), pa_.merge(pb.merge(pc_)))


@SETTINGS
@given(_rows, _rows)
def test_merge_is_commutative(a: list, b: list) -> None:
    pa_, pb = _profile(a), _profile(b)
    ab, ba = pa_.merge(pb), pb.merge(pa_)
    assert_same(ab, ba)
    for name in ab.columns:  # moments are symmetric to the last bit
        assert (ab.column(name).mean, ab.column(name).m2) == (
            ba.column(name).mean,
            ba.column(name).m2,
        )


@SETTINGS
@given(_rows, _rows)
def test_profile_of_concat_is_merge_of_profiles(a: list, b: list) -> None:
    assert_same(_profile(a + b), _profile(a).merge(_profile(b)))


@SETTINGS
@given(_rows)
def test_empty_profile_is_the_identity(a: list) -> None:
    p, empty = _profile(a), _profile([])
    assert_same(p.merge(empty), p)
    assert_same(empty.merge(p), p)


@SETTINGS
@given(_rows, _rows)
def test_bytes_round_trip(a: list, b: list) -> None:
    p = _profile(a).merge(_profile(b))
    back = Profile.from_bytes(p.to_bytes())
    assert back == p
    assert_same(back, p)
    assert back.to_dict() == p.to_dict()
