"""Invariants of the fairness metrics and report, over random small data (Hypothesis)."""

from __future__ import annotations

import json
import math
from typing import Any

import numpy as np
import pytest
import sklearn.metrics as skm
from hypothesis import given, settings
from hypothesis import strategies as st

from mlaudit.stats.fairness import assess_fairness
from mlaudit.stats.fairness_metrics import METRICS, FairnessFrame

FAST = settings(max_examples=30, deadline=None)


@st.composite
def samples(draw: st.DrawFn) -> dict[str, Any]:
    n = draw(st.integers(2, 60))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    return {
        "y": draw(bits),
        "p": draw(bits),
        "a": draw(st.lists(st.sampled_from(["x", "y", "z"]), min_size=n, max_size=n)),
        "b": draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)),
        "w": draw(st.lists(st.floats(0.1, 5.0), min_size=n, max_size=n)),
    }


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-9)


@FAST
@given(samples(), st.booleans())
def test_frame_of_plain_functions_equals_vectorised_report(data: dict[str, Any], weighted: bool) -> None:
    w = "w" if weighted else None
    report = assess_fairness(
        data, y_true="y", y_pred="p", sensitive=["a", "b"], sample_weight=w, min_group_size=3, n_bootstrap=0
    )
    rates = {k: fn for k, fn in METRICS.items() if k != "recall"}
    frame = FairnessFrame.compute(
        rates,
        data["y"],
        data["p"],
        sensitive={"a": data["a"], "b": data["b"]},
        sample_weight=data["w"] if weighted else None,
        min_group_size=3,
    )
    assert frame.groups == tuple(g.group for g in report.groups)
    assert frame.judged == tuple(g.judged for g in report.groups)
    for i, g in enumerate(report.groups):
        for name in rates:
            assert _same(frame.by_group[name][i], g.rates[name]), (g.group, name)
    assert _same(frame.difference()["selection_rate"], report.disparities["demographic_parity_difference"])
    assert _same(frame.ratio()["tpr"], report.disparities["equal_opportunity_ratio"])


@FAST
@given(samples(), st.randoms(use_true_random=False))
def test_row_order_and_group_names_do_not_matter(data: dict[str, Any], rnd: Any) -> None:
    kw: dict[str, Any] = {
        "y_true": "y",
        "y_pred": "p",
        "sensitive": ["a"],
        "min_group_size": 1,
        "n_bootstrap": 0,
    }
    base = assess_fairness(data, **kw)
    order = list(range(len(data["y"])))
    rnd.shuffle(order)
    shuffled = {k: [v[i] for i in order] for k, v in data.items()}
    assert assess_fairness(shuffled, **kw).to_dict() == base.to_dict()
    renamed = {**data, "a": [{"x": "q", "y": "r", "z": "s"}[v] for v in data["a"]]}
    again = assess_fairness(renamed, **kw)
    for name, value in base.disparities.items():
        assert _same(again.disparities[name], value), name


@FAST
@given(samples(), st.integers(0, 2**31))
def test_disparities_bounded_and_json_clean(data: dict[str, Any], seed: int) -> None:
    report = assess_fairness(
        data, y_true="y", y_pred="p", sensitive=["a", "b"], min_group_size=2, n_bootstrap=10, seed=seed
    )
    for name, value in report.disparities.items():
        assert math.isnan(value) or 0.0 <= value <= 1.0 + 1e-12, name
    for name, interval in report.intervals.items():
        if interval is not None:
            assert 0.0 <= interval[0] <= interval[1] <= 1.0 + 1e-12, name
    for result in report.results():
        assert result.status in ("pass", "warn", "fail", "error")
        assert (result.value is None) == (result.status == "error")
    text = json.dumps(report.to_dict(), allow_nan=False)  # plain types only, and no NaN anywhere
    assert json.loads(text)["passed"] == report.passed


@FAST
@given(samples())
def test_constant_predictions_have_no_parity_gap(data: dict[str, Any]) -> None:
    data = {**data, "p": [1] * len(data["y"])}
    report = assess_fairness(data, y_true="y", y_pred="p", sensitive=["a"], min_group_size=1, n_bootstrap=0)
    if len(report.groups) >= 2:
        assert report.disparities["demographic_parity_difference"] == 0.0
        assert report.disparities["demographic_parity_ratio"] == 1.0
        assert report.four_fifths.flagged is False


@FAST
@given(samples())
def test_plain_metrics_equal_scikit_learn(data: dict[str, Any]) -> None:
    y, p, w = np.array(data["y"]), np.array(data["p"]), np.array(data["w"])
    nan = float("nan")
    expected = {
        "tpr": skm.recall_score(y, p, sample_weight=w, zero_division=nan),
        "precision": skm.precision_score(y, p, sample_weight=w, zero_division=nan),
        "accuracy": skm.accuracy_score(y, p, sample_weight=w),
        "tnr": skm.recall_score(1 - y, 1 - p, sample_weight=w, zero_division=nan),
    }
    for name, value in expected.items():
        assert _same(METRICS[name](y, p, sample_weight=w), float(value)), name
    assert _same(METRICS["error_rate"](y, p, sample_weight=w), 1 - float(expected["accuracy"]))
