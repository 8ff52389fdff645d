"""Confidence-based performance estimation: coverage on known truth, formulas, refusals."""

from __future__ import annotations

import json

import numpy as np
import pytest
from sklearn import metrics as skm

from mlaudit.errors import InputError
from mlaudit.stats.estimation import ESTIMABLE, PerformanceEstimator, _expected_auc
from mlaudit.stats.performance import METRICS as PERF

METRICS = ("roc_auc", "accuracy", "precision", "recall", "f1")


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def _world(rng: np.random.Generator, n: int, mean: float = 0.0, sd: float = 1.0, power: float = 1.0):
    """Covariate x, true P(y=1|x) (fixed under shift), labels drawn from it, model score."""
    x = rng.normal(mean, sd, n)
    p = _sigmoid(-0.5 + 1.5 * x)
    y = rng.uniform(size=n) < p
    return y, p**power  # power != 1: monotone but miscalibrated scores


def _realised(y: np.ndarray, s: np.ndarray, threshold: float = 0.5) -> dict[str, float]:
    """The realised metrics, in NumPy (scikit-learn's per-call validation is slow for 160 windows);
    ROC AUC from the table in ``stats.performance``, which is tested equal to scikit-learn's."""
    yhat = s >= threshold
    tp, fp, fn = np.sum(y & yhat), np.sum(~y & yhat), np.sum(y & ~yhat)
    return {
        "roc_auc": PERF["roc_auc"](y.astype(int), s),
        "accuracy": float(np.mean(y == yhat)),
        "precision": tp / (tp + fp),
        "recall": tp / (tp + fn),
        "f1": 2 * tp / (2 * tp + fp + fn),
    }


def test_realised_helper_equals_sklearn() -> None:
    y, s = _world(np.random.default_rng(1), 1_000)
    got = _realised(y, s)
    assert got["roc_auc"] == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)
    assert got["f1"] == pytest.approx(skm.f1_score(y, s >= 0.5), abs=1e-12)
    assert got["precision"] == pytest.approx(skm.precision_score(y, s >= 0.5), abs=1e-12)
    assert got["recall"] == pytest.approx(skm.recall_score(y, s >= 0.5), abs=1e-12)


@pytest.mark.parametrize(("power", "calibration"), [(1.0, "none"), (0.6, "isotonic")])
def test_band_covers_realised_metrics_under_covariate_shift(power: float, calibration: str) -> None:
    rng = np.random.default_rng(2026)
    est = PerformanceEstimator(metrics=METRICS).fit(*_world(rng, 20_000, power=power))
    assert est.calibration_ == calibration
    n_windows = 80
    hits = {m: 0 for m in METRICS}
    errors = {m: [] for m in METRICS}
    widths = []
    for w in range(n_windows):
        # the covariate drifts from -1 to +1 and its spread changes; P(y|x) does not
        y, s = _world(rng, 2_000, mean=-1 + 2 * w / (n_windows - 1), sd=0.7 + 0.15 * (w % 5), power=power)
        estimate = est.estimate(s, window=f"w{w}")
        for name, truth in _realised(y, s).items():
            m = estimate.metric(name)
            assert m.lower is not None and m.upper is not None and m.value is not None
            hits[name] += m.lower <= truth <= m.upper
            errors[name].append(m.value - truth)
        acc = estimate.metric("accuracy")
        widths.append(acc.upper - acc.lower)  # type: ignore[operator]
    for name in METRICS:
        assert hits[name] / n_windows >= 0.90, (name, hits)
        assert abs(np.mean(errors[name])) < 0.01, (name, np.mean(errors[name]))
    # honest, not absurdly wide: close to the binomial 95 % width 2·1.96·sqrt(0.25/2000) ≈ 0.044
    assert np.median(widths) < 0.045


def test_bands_shrink_like_one_over_sqrt_n() -> None:
    rng = np.random.default_rng(3)
    est = PerformanceEstimator(metrics=("roc_auc", "accuracy"), calibrate="none").fit(*_world(rng, 10_000))
    _, s = _world(rng, 8_000, mean=0.4)
    small, large = est.estimate(s[:500]), est.estimate(s)
    for name in ("roc_auc", "accuracy"):
        a, b = small.metric(name), large.metric(name)
        ratio = (a.upper - a.lower) / (b.upper - b.lower)  # type: ignore[operator]
        assert 3.0 < ratio < 5.5, (name, ratio)  # sqrt(8000 / 500) = 4
        assert a.std is not None and b.std is not None and b.std < a.std


def test_expected_auc_with_certain_labels_is_the_realised_auc() -> None:
    rng = np.random.default_rng(4)
    s = rng.uniform(size=300).round(2)
    y = (rng.uniform(size=300) < s).astype(float)
    assert _expected_auc(s, y) == pytest.approx(skm.roc_auc_score(y, s), abs=1e-12)


def test_expected_auc_is_the_ratio_of_expectations_over_label_draws() -> None:
    rng = np.random.default_rng(5)
    s = rng.uniform(size=40).round(1)  # ties
    draws = (rng.uniform(size=(50_000, 40)) < s).astype(float)
    ranks = np.argsort(np.argsort(s, kind="stable"), kind="stable") + 1.0
    mid = np.array([ranks[s == v].mean() for v in s])  # mid-ranks, so ties count half
    pos = draws.sum(axis=1)
    numerators = draws @ mid - pos * (pos + 1) / 2  # Mann–Whitney U of each draw
    assert _expected_auc(s, s) == pytest.approx(numerators.mean() / (pos * (40 - pos)).mean(), abs=0.003)


def test_expected_confusion_matrix_and_metrics() -> None:
    est = PerformanceEstimator(metrics=ESTIMABLE, calibrate="none")
    rng = np.random.default_rng(6)
    est.fit(*_world(rng, 5_000))
    p = np.array([0.9, 0.8, 0.6, 0.3, 0.2, 0.1])
    e = est.estimate(p)
    cells = e.details["expected_confusion"]
    assert cells == pytest.approx({"tp": 2.3, "fp": 0.7, "fn": 0.6, "tn": 2.4})
    assert e.metric("accuracy").value == pytest.approx(4.7 / 6)
    assert e.metric("precision").value == pytest.approx(2.3 / 3)
    assert e.metric("recall").value == pytest.approx(2.3 / 2.9)
    assert e.metric("specificity").value == pytest.approx(2.4 / 3.1)
    assert e.metric("f1").value == pytest.approx(4.6 / (4.6 + 1.3))
    assert e.metric("balanced_accuracy").value == pytest.approx((2.3 / 2.9 + 2.4 / 3.1) / 2)


def test_windows_convenience_and_json() -> None:
    rng = np.random.default_rng(7)
    est = PerformanceEstimator(n_sim=100).fit(*_world(rng, 5_000))
    _, s = _world(rng, 900)
    labels = np.array(["b", "a", "c"])[np.arange(900) % 3]
    out = est.estimate_windows(s, labels)
    assert [(e.window, e.n) for e in out] == [("a", 300), ("b", 300), ("c", 300)]
    assert out[0].metric("accuracy").value == pytest.approx(
        est.estimate(s[labels == "a"]).metric("accuracy").value
    )
    doc = json.loads(json.dumps(out[0].to_dict(), allow_nan=False))
    assert doc["kind"] == "estimated_performance" and doc["schema_version"] == 1 and doc["window"] == "a"
    results = out[1].results({"accuracy": 0.99, "roc_auc": 0.5})
    assert [(r.check, r.status) for r in results] == [
        ("estimated_performance:accuracy[window=b]", "fail"),
        ("estimated_performance:roc_auc[window=b]", "pass"),
    ]


def test_undefined_precision_when_nothing_is_predicted_positive() -> None:
    rng = np.random.default_rng(8)
    est = PerformanceEstimator(calibrate="none").fit(*_world(rng, 5_000))
    e = est.estimate(np.full(50, 0.2))
    assert e.metric("precision").value is None and e.metric("precision").reason
    assert e.metric("accuracy").value == pytest.approx(0.8)
    assert "NaN" not in json.dumps(e.to_dict())


def test_estimate_is_reproducible() -> None:
    rng = np.random.default_rng(9)
    est = PerformanceEstimator().fit(*_world(rng, 5_000))
    _, s = _world(rng, 500)
    assert est.estimate(s).to_dict() == est.estimate(s).to_dict()


@pytest.mark.parametrize(
    ("y", "s", "message"),
    [
        ([1] * 100, np.linspace(0, 1, 100), "single class"),
        ([0, 1] * 50, np.linspace(-1, 2, 100), "not probabilities in"),
        ([0, 1] * 50, np.full(100, 0.4), "constant"),
        ([0, 1, 2] * 30, np.linspace(0, 1, 90), "binary classifiers"),
        ([0, 1] * 50, [0.5] * 99 + [float("nan")], "missing"),
    ],
)
def test_fit_refuses_when_assumptions_fail(y: list[int], s: np.ndarray, message: str) -> None:
    with pytest.raises(InputError, match=message):
        PerformanceEstimator().fit(y, s)


def test_fit_refuses_scores_that_carry_no_signal() -> None:
    rng = np.random.default_rng(10)
    with pytest.raises(InputError, match="do not separate the classes"):
        PerformanceEstimator().fit(rng.uniform(size=3000) < 0.3, rng.uniform(size=3000))


def test_misuse_is_explained() -> None:
    with pytest.raises(InputError, match="not fitted"):
        PerformanceEstimator().estimate([0.5])
    with pytest.raises(InputError, match="cannot estimate"):
        PerformanceEstimator(metrics=("mae",)).fit([0, 1], [0.2, 0.8])
    rng = np.random.default_rng(11)
    est = PerformanceEstimator().fit(*_world(rng, 2_000))
    with pytest.raises(InputError, match="decision function"):
        est.estimate([3.0, -1.0])
