from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.stats.segments import Condition, _bh, weak_segments


def _data(
    n: int, seed: int, slice_error: float, base_error: float
) -> tuple[pa.Table, np.ndarray, np.ndarray]:
    """Features, labels, and predictions wrong with ``slice_error`` when age < 25 and region == N."""
    rng = np.random.default_rng(seed)
    age = rng.integers(18, 80, n)
    region = rng.choice(["N", "S", "E", "W"], n)
    table = pa.table(
        {
            "age": age,
            "region": region.tolist(),
            "income": rng.lognormal(10, 1, n),
            "channel": rng.choice(["web", "shop"], n).tolist(),
        }
    )
    planted = (age < 25) & (region == "N")
    y = rng.integers(0, 2, n)
    wrong = rng.random(n) < np.where(planted, slice_error, base_error)
    return table, y, np.where(wrong, 1 - y, y)


def _jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / (a | b).sum())


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_recovers_a_planted_weak_slice(seed: int) -> None:
    table, y, pred = _data(8000, seed, slice_error=0.4, base_error=0.05)
    report = weak_segments(table, y, pred, metric="accuracy", max_depth=2, min_size=50)
    assert report.segments, "the planted slice should be found"
    top = report.segments[0]
    planted = (table["age"].to_numpy() < 25) & (np.asarray(table["region"].to_pylist()) == "N")
    assert _jaccard(top.mask(table), planted) >= 0.8
    assert "region = N" in top.description and "age <=" in top.description
    assert top.metric_inside == pytest.approx(0.6, abs=0.08)
    assert top.metric_outside == pytest.approx(0.95, abs=0.02)
    assert top.q_value <= 0.05 and top.size == int(top.mask(table).sum())
    res = report.result(threshold=0.1)
    assert res.status == "fail" and res.value == pytest.approx(top.gap)


@pytest.mark.parametrize("seed", [3, 4, 5])
def test_clean_data_has_no_significant_segment(seed: int) -> None:
    table, y, pred = _data(8000, seed, slice_error=0.1, base_error=0.1)
    report = weak_segments(table, y, pred)
    assert report.segments == ()
    assert report.leaves  # the tree was grown and tested
    assert report.result().status == "pass"


def test_recall_segment_looks_only_at_positives() -> None:
    rng = np.random.default_rng(7)
    n = 8000
    table, y, _ = _data(n, 7, 0.0, 0.0)
    young = table["age"].to_numpy() < 30
    miss = (y == 1) & (rng.random(n) < np.where(young, 0.4, 0.1))
    pred = np.where(miss, 0, y)
    report = weak_segments(table, y, pred, metric="recall", features=["age", "income"], max_depth=1)
    top = report.segments[0]
    assert top.description == "age <= 29.5"
    assert report.rows == int((y == 1).sum())
    assert top.metric_inside == pytest.approx(0.6, abs=0.05)
    assert report.overall == pytest.approx(1 - miss.sum() / (y == 1).sum())


def test_conditions_read_and_mask() -> None:
    t = pa.table({"age": [20, 30, None], "region": ["N", "S", None]})
    assert str(Condition("age", "<=", 24.5)) == "age <= 24.5"
    assert Condition("age", "<=", 24.5).mask(t).tolist() == [True, False, False]
    assert Condition("region", "!=", "N").mask(t).tolist() == [False, True, True]
    assert Condition("age", "is null").mask(t).tolist() == [False, False, True]


def test_benjamini_hochberg_matches_scipy() -> None:
    p = np.array([0.001, 0.04, 0.03, 0.5, 0.2])
    np.testing.assert_allclose(_bh(p), stats.false_discovery_control(p))


def test_to_dict_and_errors() -> None:
    table, y, pred = _data(3000, 8, 0.5, 0.05)
    d = weak_segments(table, y, pred).to_dict()
    assert d["kind"] == "weak_segments" and d["schema_version"] == 1
    assert d["segments"] and {"description", "gap", "q_value"} <= set(d["segments"][0])
    with pytest.raises(InputError):
        weak_segments(table, y[:10], pred)
    with pytest.raises(InputError, match="unknown metric"):
        weak_segments(table, y, pred, metric="f1")  # type: ignore[arg-type]
