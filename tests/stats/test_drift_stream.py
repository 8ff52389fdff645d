"""Bounded, mergeable drift summaries equal the in-memory detector (below the limit) and stay
honest beyond it (uniform sample, exact binned counts, flagged as approximate)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.stats.drift import DriftDetector
from mlaudit.stats.drift_stream import DriftAccumulator, compare_accumulated, fit_accumulated
from mlaudit.stats.kinds import infer_kinds


def _tables(n: int = 3000, shift: float = 0.0, seed: int = 0) -> pa.Table:
    rng = np.random.default_rng(seed)
    x = rng.normal(shift, 1.0, n)
    x[::97] = np.nan
    x[::211] = np.inf
    x_arr = pa.array(x, mask=np.arange(n) % 53 == 0)
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    return pa.table(
        {
            "x": x_arr,
            "n": rng.integers(0, 5, n).astype(np.float64) + shift,
            "when": pa.array([start + dt.timedelta(hours=int(h)) for h in rng.integers(0, 500, n)]),
            "city": pa.array(rng.choice(["Zürich", "東京", "Lyon", ""], n, p=[0.4, 0.3, 0.2, 0.1])),
            "ok": pa.array(rng.random(n) < 0.3 + shift / 10),
            "note": pa.array([f"free text number {i} " * 4 for i in range(n)]),
            "empty": pa.array([None] * n, pa.float64()),
        }
    )


def _summary(det_or_kinds: object, table: pa.Table, rows: int, **kwargs: object) -> DriftAccumulator:
    """Split ``table`` in batches of ``rows``, summarise each in its own accumulator, merge."""
    parts = []
    for i, batch in enumerate(table.to_batches(max_chunksize=rows)):
        if isinstance(det_or_kinds, DriftDetector):
            acc = det_or_kinds.current_accumulator(seed=i, **kwargs)
        else:
            acc = DriftAccumulator(det_or_kinds, seed=i, **kwargs)  # type: ignore[arg-type]
        acc.update(batch)
        parts.append(acc)
    out = parts[0]
    for part in parts[1:]:
        out = out.merge(part)
    return out


TESTS = [
    {},
    {"x": "psi", "n": "js", "when": "anderson", "city": "hellinger"},
    {"x": "wasserstein", "n": "hellinger", "when": "psi", "ok": "psi", "city": "js"},
]


@pytest.mark.parametrize("tests", TESTS)
@pytest.mark.parametrize("rows", [1, 777, 10_000])
def test_equals_in_memory_below_the_limit(tests: dict[str, str], rows: int) -> None:
    ref, cur = _tables(), _tables(shift=0.4, seed=1)
    if rows == 1:
        ref, cur = ref.slice(0, 300), cur.slice(0, 200)
    whole = DriftDetector(tests=tests).fit(ref).compare(cur)
    det = DriftDetector(tests=tests)
    fit_accumulated(det, _summary(infer_kinds(ref), ref, rows))
    report = compare_accumulated(det, _summary(det, cur, rows))
    assert report.to_dict() == whole.to_dict()
    assert report.column("empty").skipped
    if rows > 1:  # 3,000 rows a side: the 0.4 sd shift is found either way
        assert report.column("x").drifted


def test_bytes_round_trip_and_corruption() -> None:
    ref = _tables()
    acc = _summary(infer_kinds(ref), ref, 500)
    back = DriftAccumulator.from_bytes(acc.to_bytes())
    assert back.to_bytes() == acc.to_bytes()
    with pytest.raises(InputError, match="bad magic"):
        DriftAccumulator.from_bytes(b"not a summary")
    with pytest.raises(InputError, match=r"corrupt|truncated"):
        DriftAccumulator.from_bytes(acc.to_bytes()[:-40])


def test_sample_is_uniform_and_merge_order_free() -> None:
    values = pa.table({"v": np.arange(200_000, dtype=np.float64)})
    a = _summary({"v": "numeric"}, values.slice(0, 150_000), 10_000, limit=5_000)
    b = _summary({"v": "numeric"}, values.slice(150_000), 10_000, limit=5_000)
    ab, ba = a.merge(b), b.merge(a)
    assert sorted(ab.columns["v"].values) == sorted(ba.columns["v"].values)
    sample = ab.columns["v"].values
    assert sample.size == 5_000 and np.unique(sample).size == 5_000
    # a uniform sample of 0..199,999: the KS test against the uniform law does not reject it
    assert stats.kstest(sample / 200_000, "uniform").pvalue > 0.001
    col = ab.columns["v"]
    assert (col.count, col.rows) == (200_000, 200_000)
    assert col.mean == pytest.approx(np.arange(200_000).mean(), rel=1e-12)
    assert col.m2 == pytest.approx(np.arange(200_000).var() * 200_000, rel=1e-12)


def test_beyond_the_limit_decisions_match_and_say_approximate() -> None:
    rng = np.random.default_rng(7)
    n = 60_000
    ref = pa.table(
        {"same": rng.normal(0, 1, n), "moved": rng.normal(0, 1, n), "c": rng.choice(list("abc"), n)}
    )
    cur = pa.table(
        {"same": rng.normal(0, 1, n), "moved": rng.normal(0.5, 1, n), "c": rng.choice(list("abc"), n)}
    )
    tests = {"same": "ks", "moved": "psi"}
    whole = DriftDetector(tests=tests).fit(ref).compare(cur)
    det = DriftDetector(tests=tests)
    fit_accumulated(det, _summary(infer_kinds(ref), ref, 7_000, limit=2_000))
    report = compare_accumulated(det, _summary(det, cur, 7_000, limit=2_000))
    assert report.drifted_columns == whole.drifted_columns == ("moved",)
    approx = report.column("same").details["approximate"]
    assert approx["sample"] == 2_000 and approx["values"] == n
    assert report.column("same").details["reference_sampled"] is True
    assert "binned counts are exact" in report.column("moved").details["approximate"]["note"]
    # categorical counts stay exact: the chi-square statistic equals the in-memory one
    assert report.column("c").statistic == pytest.approx(whole.column("c").statistic, rel=1e-12)
    assert "approximate" not in report.column("c").details


def test_exact_bins_past_the_limit_give_the_in_memory_psi() -> None:
    rng = np.random.default_rng(3)
    ref = pa.table({"x": rng.normal(0, 1, 1_500)})
    cur = pa.table({"x": rng.normal(0.3, 1.2, 50_000)})
    whole = DriftDetector(tests={"x": "psi"}).fit(ref).compare(cur)
    det = DriftDetector(tests={"x": "psi"})
    fit_accumulated(det, _summary({"x": "numeric"}, ref, 1_000, limit=2_000))  # reference not sampled
    report = compare_accumulated(det, _summary(det, cur, 9_000, limit=2_000))
    assert report.column("x").statistic == whole.column("x").statistic
    assert report.column("x").details["approximate"]["sample"] == 2_000


def test_bad_input() -> None:
    with pytest.raises(InputError, match="multivariate"):
        fit_accumulated(DriftDetector(multivariate=True), DriftAccumulator({"x": "numeric"}))
    acc = DriftAccumulator({"x": "numeric"})
    with pytest.raises(InputError) as err:
        acc.update(pa.table({"y": [1.0]}))
    assert err.value.column == "x"
    with pytest.raises(InputError, match="different"):
        acc.merge(DriftAccumulator({"x": "categorical"}))
    with pytest.raises(InputError, match="not fitted"):
        compare_accumulated(DriftDetector(), acc)
    with pytest.raises(InputError, match="at least 1"):
        DriftAccumulator({"x": "numeric"}, limit=0)


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=60),
    st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=60),
    st.integers(1, 9),
)
def test_property_identical_to_in_memory(ref: list[float], cur: list[float], rows: int) -> None:
    r, c = pa.table({"x": pa.array(ref, pa.float64())}), pa.table({"x": pa.array(cur, pa.float64())})
    whole = DriftDetector().fit(r).compare(c)
    det = DriftDetector()
    fit_accumulated(det, _summary({"x": "numeric"}, r, rows))
    assert compare_accumulated(det, _summary(det, c, rows)).to_dict() == whole.to_dict()


def test_split_and_join_round_trip() -> None:
    ref = _tables()
    acc = _summary(infer_kinds(ref), ref, 700)
    parts = [DriftAccumulator.from_bytes(p.to_bytes()) for _, p in acc.split()]
    assert [list(p.kinds) for p in parts] == [[n] for n in acc.kinds]
    assert DriftAccumulator.joined(parts).to_bytes() == acc.to_bytes()
    with pytest.raises(InputError, match="no column"):
        DriftAccumulator.joined([])
