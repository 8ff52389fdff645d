"""Performance metrics against scikit-learn, bootstrap intervals, segments, windows, results."""

from __future__ import annotations

import datetime as dt
import json
import math
from functools import partial

import numpy as np
import pytest
from sklearn import metrics as skm

from mlaudit.errors import InputError
from mlaudit.stats.performance import METRICS, evaluate

TOL = 1e-9


def _binary(n: int = 600, seed: int = 1):
    rng = np.random.default_rng(seed)
    score = rng.uniform(size=n).round(2)  # rounded: plenty of ties
    y = (rng.uniform(size=n) < score).astype(int)
    pred = (score >= 0.45).astype(int)
    w = rng.uniform(0.2, 3.0, size=n)
    return y, pred, score, w


def _multiclass(n: int = 700, k: int = 4, seed: int = 2):
    rng = np.random.default_rng(seed)
    logits = rng.normal(size=(n, k))
    proba = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    y = np.array([rng.choice(k, p=p) for p in proba])
    pred = proba.argmax(axis=1)
    w = rng.uniform(0.2, 3.0, size=n)
    return y, pred, proba, w


def _averaged(f, average, y, x, w):
    return f(y, x, average=average, sample_weight=w)


BINARY = {
    "accuracy": lambda y, x, w: skm.accuracy_score(y, x, sample_weight=w),
    "balanced_accuracy": lambda y, x, w: skm.balanced_accuracy_score(y, x, sample_weight=w),
    "precision": lambda y, x, w: skm.precision_score(y, x, sample_weight=w),
    "recall": lambda y, x, w: skm.recall_score(y, x, sample_weight=w),
    "specificity": lambda y, x, w: skm.recall_score(y, x, pos_label=0, sample_weight=w),
    "f1": lambda y, x, w: skm.f1_score(y, x, sample_weight=w),
    "mcc": lambda y, x, w: skm.matthews_corrcoef(y, x, sample_weight=w),
    "roc_auc": lambda y, s, w: skm.roc_auc_score(y, s, sample_weight=w),
    "pr_auc": lambda y, s, w: skm.average_precision_score(y, s, sample_weight=w),
    "log_loss": lambda y, s, w: skm.log_loss(y, s, sample_weight=w),
    "brier": lambda y, s, w: skm.brier_score_loss(y, s, sample_weight=w),
}
MULTICLASS = {
    "accuracy": lambda y, x, w: skm.accuracy_score(y, x, sample_weight=w),
    "balanced_accuracy": lambda y, x, w: skm.balanced_accuracy_score(y, x, sample_weight=w),
    "mcc": lambda y, x, w: skm.matthews_corrcoef(y, x, sample_weight=w),
    **{
        f"{name}_{avg}": partial(_averaged, f, avg)
        for name, f in (
            ("precision", skm.precision_score),
            ("recall", skm.recall_score),
            ("f1", skm.f1_score),
        )
        for avg in ("macro", "micro", "weighted")
    },
    "roc_auc_ovr": lambda y, s, w: skm.roc_auc_score(y, s, multi_class="ovr", sample_weight=w),
    "roc_auc_ovr_weighted": lambda y, s, w: skm.roc_auc_score(
        y, s, multi_class="ovr", average="weighted", sample_weight=w
    ),
    "log_loss": lambda y, s, w: skm.log_loss(y, s, sample_weight=w),
    "brier": lambda y, s, w: skm.brier_score_loss(y, s, sample_weight=w),
}
REGRESSION = {
    "mae": lambda y, f, w: skm.mean_absolute_error(y, f, sample_weight=w),
    "mse": lambda y, f, w: skm.mean_squared_error(y, f, sample_weight=w),
    "rmse": lambda y, f, w: skm.root_mean_squared_error(y, f, sample_weight=w),
    "mape": lambda y, f, w: skm.mean_absolute_percentage_error(y, f, sample_weight=w),
    "r2": lambda y, f, w: skm.r2_score(y, f, sample_weight=w),
    "explained_variance": lambda y, f, w: skm.explained_variance_score(y, f, sample_weight=w),
}


def test_every_metric_has_a_sklearn_check() -> None:
    checked = set(BINARY) | set(MULTICLASS) | set(REGRESSION)
    assert checked == set(METRICS)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_metric_equals_sklearn(name: str, weighted: bool) -> None:
    y, pred, score, w = _binary()
    w = w if weighted else None
    x = score if METRICS[name].needs == "score" else pred
    assert METRICS[name](y, x, sample_weight=w) == pytest.approx(BINARY[name](y, x, w), abs=TOL)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", sorted(MULTICLASS))
def test_multiclass_metric_equals_sklearn(name: str, weighted: bool) -> None:
    y, pred, proba, w = _multiclass()
    w = w if weighted else None
    x = proba if METRICS[name].needs == "score" else pred
    assert METRICS[name](y, x, sample_weight=w) == pytest.approx(MULTICLASS[name](y, x, w), abs=TOL)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("name", sorted(REGRESSION))
def test_regression_metric_equals_sklearn(name: str, weighted: bool) -> None:
    rng = np.random.default_rng(3)
    y = rng.normal(100.0, 15.0, 500)
    f = y + rng.normal(0.0, 5.0, 500)
    w = rng.uniform(0.2, 3.0, 500) if weighted else None
    assert METRICS[name](y, f, sample_weight=w) == pytest.approx(REGRESSION[name](y, f, w), abs=TOL)


def test_evaluate_binary_with_string_labels_matches_sklearn_and_brackets_value() -> None:
    y, pred, score, _ = _binary()
    names = np.array(["no", "yes"])
    report = evaluate(names[y], y_pred=names[pred], y_score=score, n_boot=300, seed=4)
    assert report.task == "binary"
    assert report.labels == ("no", "yes")
    auc = report.metric("roc_auc")
    assert auc.value == pytest.approx(skm.roc_auc_score(y, score), abs=TOL)
    assert auc.lower is not None and auc.upper is not None
    assert auc.lower < auc.value < auc.upper
    assert auc.n == len(y) and auc.n_boot == 300
    assert report.metric("f1").value == pytest.approx(skm.f1_score(y, pred), abs=TOL)


def test_bootstrap_interval_matches_a_loop_over_resamples() -> None:
    y, pred, score, _ = _binary(n=300)
    report = evaluate(y, y_pred=pred, y_score=score, metrics=["roc_auc", "f1"], n_boot=100, seed=9)
    # the same resamples, drawn the same way, computed one by one with scikit-learn
    rng = np.random.default_rng([9, 0])
    idx = rng.integers(0, len(y), size=(100, len(y)))
    aucs = [skm.roc_auc_score(y[i], score[i]) for i in idx]
    lo, hi = np.quantile(aucs, [0.025, 0.975])
    assert report.metric("roc_auc").lower == pytest.approx(lo, abs=TOL)
    assert report.metric("roc_auc").upper == pytest.approx(hi, abs=TOL)


def test_interval_narrows_with_more_rows() -> None:
    small, large = _binary(n=200, seed=5), _binary(n=5000, seed=5)
    widths = []
    for y, _, score, _ in (small, large):
        m = evaluate(y, y_score=score, metrics=["roc_auc"], n_boot=200).metric("roc_auc")
        assert m.lower is not None and m.upper is not None
        widths.append(m.upper - m.lower)
    assert widths[1] < widths[0] / 2


def test_task_inference() -> None:
    assert evaluate([0, 1, 1], y_pred=[0, 1, 0], n_boot=0).task == "binary"
    assert evaluate([0, 1, 2], y_pred=[0, 1, 1], n_boot=0).task == "multiclass"
    assert evaluate([0.5, 1.2, 2.0], y_pred=[0.4, 1.0, 2.2], n_boot=0).task == "regression"
    y, _, proba, _ = _multiclass(n=50)
    report = evaluate(y, y_score=proba, n_boot=0)
    assert report.task == "multiclass"
    assert report.details["y_pred_from_score"] is True
    assert report.metric("accuracy").value == pytest.approx(skm.accuracy_score(y, proba.argmax(axis=1)))


def test_undefined_metric_is_none_with_reason_and_json_has_no_nan() -> None:
    report = evaluate([1, 1, 1, 1], y_pred=[1, 0, 1, 1], y_score=[0.9, 0.2, 0.7, 0.8], n_boot=20)
    auc = report.metric("roc_auc")
    assert auc.value is None and auc.lower is None and auc.reason == "needs both classes in y_true"
    assert report.metric("recall").value == pytest.approx(0.75)
    text = json.dumps(report.to_dict(), allow_nan=False)
    assert '"kind": "performance_report"' in text and '"schema_version": 1' in text


def test_scores_outside_unit_interval_skip_probability_metrics() -> None:
    report = evaluate([0, 1, 0, 1], y_pred=[0, 1, 1, 1], y_score=[-2.0, 3.0, 0.5, 1.5], n_boot=10)
    assert report.metric("log_loss").value is None
    assert report.metric("roc_auc").value == pytest.approx(1.0)


def test_segments_and_windows_equal_sklearn_on_each_group() -> None:
    y, pred, score, _ = _binary(n=900)
    seg = np.array(["a", "b", "c"])[np.arange(900) % 3]
    start = np.datetime64("2026-01-01T00:00")
    times = start + (np.arange(900) * 8).astype("timedelta64[m]")  # 900 rows over 5 days
    report = evaluate(y, y_pred=pred, y_score=score, n_boot=20, segments=seg, windows=times, window_size="1D")
    assert [g.label for g in report.segments] == ["a", "b", "c"]
    for g in report.segments:
        mask = seg == g.label
        assert g.n == mask.sum()
        assert g.metric("roc_auc").value == pytest.approx(skm.roc_auc_score(y[mask], score[mask]), abs=TOL)
    assert len(report.windows) == 5
    assert report.windows[0].label.startswith("2026-01-01T00:00")
    day = times.astype("datetime64[D]")
    for g, d in zip(report.windows, np.unique(day), strict=True):
        mask = day == d
        assert g.metric("accuracy").value == pytest.approx(skm.accuracy_score(y[mask], pred[mask]), abs=TOL)
    same = evaluate(y, y_pred=pred, n_boot=0, windows=times, window_size=dt.timedelta(days=1))
    assert [g.n for g in same.windows] == [g.n for g in report.windows]


def test_numeric_windows_and_label_windows() -> None:
    y = np.array([0, 1] * 50)
    pred = y.copy()
    r = evaluate(y, y_pred=pred, n_boot=0, windows=np.arange(100.0), window_size=25)
    assert [g.label for g in r.windows] == ["0.0", "25.0", "50.0", "75.0"]
    r = evaluate(y, y_pred=pred, n_boot=0, windows=np.array(["w1", "w2"] * 50))
    assert [(g.label, g.n) for g in r.windows] == [("w1", 50), ("w2", 50)]


def test_results_fail_by_direction() -> None:
    y, pred, score, _ = _binary(n=400)
    report = evaluate(y, y_pred=pred, y_score=score, n_boot=0, segments=np.arange(400) % 2)
    results = report.results({"roc_auc": 0.99, "brier": 0.5})
    by = {r.check: r for r in results}
    assert by["performance:roc_auc"].status == "fail"
    assert by["performance:brier"].status == "pass"
    assert by["performance:roc_auc[segment=0]"].threshold == 0.99
    assert len(results) == 2 * 3
    undefined = evaluate([1, 1], y_pred=[1, 0], y_score=[0.8, 0.3], n_boot=0).results({"roc_auc": 0.7})
    assert undefined[0].status == "warn" and undefined[0].value is None


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"y_pred": [0, 1, 0], "metrics": ["nope"]}, "unknown metric"),
        ({"y_pred": [0, 1, 0], "metrics": ["roc_auc"]}, "needs y_score"),
        ({"y_pred": [0, 1, 0], "metrics": ["mae"]}, "not a binary metric"),
        ({"y_pred": [0, 1]}, "has 2 rows"),
        ({}, "give y_pred"),
        ({"y_pred": [0, 1, 0], "labels": [0, 2]}, "not a class label"),
        ({"y_score": [0.1, float("nan"), 0.3]}, "missing or infinite"),
        ({"y_pred": [0.0, float("nan"), 1.0]}, "y_pred has missing"),
        ({"y_pred": [0, 1, 0], "task": "ranking"}, "task must be"),
    ],
)
def test_bad_input_raises_input_error(kwargs: dict, message: str) -> None:
    with pytest.raises(InputError, match=message):
        evaluate([0, 1, 1], **kwargs)


def test_single_class_of_unknown_coding_needs_labels() -> None:
    with pytest.raises(InputError, match="single class"):
        evaluate(["yes", "yes"], y_pred=["yes", "yes"])
    r = evaluate(["yes", "yes"], y_pred=["yes", "yes"], labels=["no", "yes"], n_boot=0)
    assert r.metric("recall").value == 1.0 and r.metric("specificity").value is None
    assert not math.isnan(r.metric("accuracy").value or 0.0)
