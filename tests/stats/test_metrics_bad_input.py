"""Bad input to the metrics: an InputError (exit 2) naming the column and row, or a Result with
status ``error`` and the reason — never a raw NumPy/TypeError or a silently wrong number.

Covers issue 5's "Must show — bad input" for :mod:`mlaudit.stats` (performance, fairness,
fairness metrics, validation, weak segments).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from mlaudit.errors import InputError, exit_code
from mlaudit.stats.fairness import assess_fairness
from mlaudit.stats.fairness_metrics import FairnessFrame, selection_rate
from mlaudit.stats.performance import evaluate
from mlaudit.stats.segments import weak_segments
from mlaudit.stats.validation import (
    calibration,
    cv_stability,
    leakage,
    overfitting,
    permutation_importance,
    score_stability,
    underfitting,
)

NAN, INF = float("nan"), float("inf")


def _raises(call: Callable[[], Any], message: str) -> InputError:
    with pytest.raises(InputError) as info:
        call()
    assert exit_code(info.value) == 2
    assert message in str(info.value), str(info.value)
    assert "np.int64" not in str(info.value) and "np.str_" not in str(info.value)
    return info.value


# --- evaluate ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message", "row"),
    [
        ({"y_true": [0, NAN, 1], "y_pred": [0, 1, 1]}, "y_true has missing or infinite values", 1),
        ({"y_true": [0, 1, 1], "y_pred": [0, 1, INF]}, "y_pred has missing or infinite values", 2),
        ({"y_true": [0, 1, 1], "y_score": [0.1, NAN, 0.3]}, "y_score has missing or infinite values", 1),
        ({"y_true": [0, 1, 2], "y_score": [[1, 0, 0], [0, 1, 0], [0, INF, 0]]}, "y_score has missing", 2),
        ({"y_true": [1.5, 2.0], "y_pred": [1.0, -INF]}, "y_pred has missing or infinite values", 1),
        ({"y_true": [0, 1], "y_pred": [0, 1], "sample_weight": [1.0, NAN]}, "sample_weight has missing", 1),
    ],
)
def test_nan_and_inf_name_the_row(kwargs: dict[str, Any], message: str, row: int) -> None:
    error = _raises(lambda: evaluate(n_boot=0, **kwargs), message)
    assert error.row == row


def test_empty_inputs() -> None:
    _raises(lambda: evaluate([], y_pred=[]), "y_true has no rows")
    _raises(lambda: evaluate([], y_score=[], labels=[0, 1]), "y_true has no rows")


def test_length_mismatch() -> None:
    _raises(lambda: evaluate([0, 1, 1], y_pred=[0, 1]), "y_pred has 2 rows but y_true has 3")
    _raises(lambda: evaluate([0, 1, 1], y_score=[0.2, 0.4]), "y_score must have 3 rows")
    _raises(lambda: evaluate([0, 1], y_pred=[0, 1], sample_weight=[1.0]), "sample_weight has 1 rows")


def test_text_labels_against_number_labels() -> None:
    _raises(lambda: evaluate([0, 1, 1], y_pred=["0", "1", "1"]), "y_true and y_pred hold different")
    _raises(lambda: evaluate(["no", "yes"], y_pred=[0, 1]), "different label types: 'no' vs 0")
    _raises(lambda: evaluate([0, 1], y_pred=[0, 1], labels=["no", "yes"]), "y_true and labels hold different")
    # booleans and 0/1 are both numbers, and so are numbers in an object column: fine
    assert evaluate([True, False], y_pred=[1, 0], n_boot=0).metric("accuracy").value == 1.0
    as_objects = np.array([0, 1], dtype=object)
    assert evaluate(as_objects, y_pred=[0, 1], n_boot=0).metric("accuracy").value == 1.0
    text = np.array(["no", "yes"], dtype=object)
    assert evaluate(text, y_pred=["no", "yes"], n_boot=0).metric("accuracy").value == 1.0


@pytest.mark.parametrize(
    ("y_true", "row", "shown"),
    [
        (np.array([0, 1, "yes", 1], dtype=object), 2, "'yes'"),  # a pandas object column, say
        (np.array(["no", "yes", None, "no"], dtype=object), 2, "None"),
        (np.array(["no", "yes", NAN, "no"], dtype=object), 2, "nan"),
    ],
)
def test_mixed_or_missing_object_labels(y_true: Any, row: int, shown: str) -> None:
    error = _raises(lambda: evaluate(y_true, y_pred=y_true), "y_true has a missing value or mixes text")
    assert error.row == row and shown in str(error)


def test_unseen_classes_name_the_value_and_row() -> None:
    error = _raises(lambda: evaluate([0, 1, 2, 1], y_pred=[0, 1, 1, 1], labels=[0, 1]), "label: 2")
    assert error.row == 2 and "labels are [0, 1]" in str(error)
    error = _raises(
        lambda: evaluate(["a", "b", "a"], y_pred=["a", "c", "a"], labels=["a", "b"]), "y_pred holds a value"
    )
    assert error.row == 1 and "'c'" in str(error)
    # more classes in y_true than y_score has columns
    _raises(
        lambda: evaluate([0, 1, 2, 3], y_score=[[0.5, 0.3, 0.2]] * 4),
        "multiclass y_score must have one column per class (4), got (4, 3)",
    )


def test_non_numeric_scores_and_weights() -> None:
    _raises(lambda: evaluate([0, 1], y_score=["low", "high"]), "y_score must be numeric")
    error = _raises(
        lambda: evaluate([0, 1], y_pred=[0, 1], sample_weight=[1, "b"]), "must be numeric, not 'b'"
    )
    assert error.row == 1
    error = _raises(lambda: evaluate(["1.5", "x"], y_pred=["1", "2"], task="regression"), "y_true must be")
    assert error.row == 1 and "numeric, not 'x'" in str(error)


def test_scores_outside_0_1_are_an_error_result_with_the_reason() -> None:
    report = evaluate([0, 1, 1, 0], y_score=[-2.0, 3.0, 1.5, -0.5], n_boot=0)
    assert report.metric("roc_auc").value == 1.0  # ranking scores are fine for AUC
    log_loss = report.metric("log_loss")
    assert log_loss.value is None and log_loss.reason == "y_score is not a probability in [0, 1] (row 0)"
    results = {r.check: r for r in report.results({"log_loss": 0.5, "roc_auc": 0.7})}
    assert results["performance:log_loss"].status == "error"
    assert "not a probability" in results["performance:log_loss"].details["reason"]
    assert results["performance:roc_auc"].status == "pass"


@pytest.mark.parametrize(
    ("y_true", "y_score", "row"),
    [
        ([0, 1, 2], [[0.2, 0.3, 0.5], [0.1, 0.8, 0.1], [0.5, 0.5, 0.5]], 2),  # multiclass
        ([0, 1, 1], [[0.8, 0.2], [0.4, 0.9], [0.3, 0.7]], 1),  # binary (n, 2)
    ],
)
def test_score_rows_not_summing_to_one(y_true: Any, y_score: Any, row: int) -> None:
    report = evaluate(y_true, y_score=y_score, n_boot=0)
    for name in ("log_loss", "brier"):
        m = report.metric(name)
        assert m.value is None and m.reason == f"y_score rows do not sum to 1 (row {row})"
    assert report.results({"brier": 0.1})[0].status == "error"


def test_probabilities_within_rounding_are_accepted() -> None:
    p = np.asarray([[0.2, 0.3, 0.5], [0.1, 0.8, 0.1]], dtype=np.float32) + np.float32(1e-7)
    assert evaluate([2, 1], y_score=p, labels=[0, 1, 2], n_boot=0).metric("log_loss").value is not None


# --- assess_fairness and the fairness metrics ---------------------------------------------------


def _table(n: int = 80, **columns: Any) -> dict[str, Any]:
    base = {"y": [0, 1] * (n // 2), "p": [0, 1, 1, 0] * (n // 4), "s": ["F", "M"] * (n // 2)}
    return {**base, **columns}


def _assess(table: dict[str, Any], **kwargs: Any) -> Any:
    options = {"y_true": "y", "y_pred": "p", "sensitive": ["s"], "n_bootstrap": 0, **kwargs}
    return assess_fairness(table, **options)


@pytest.mark.parametrize(
    ("columns", "kwargs", "message", "column", "row"),
    [
        ({"p": [0, 1, 2, 0] * 20}, {}, "p must hold 0/1 values, found 2", "p", 2),  # unseen class
        (
            {"y": ["no", "yes"] * 40, "p": ["no", "yes", "maybe", "no"] * 20},
            {"positive": "yes"},
            "prediction 'maybe' is not one of the labels",
            "p",
            2,
        ),
        ({"y": ["no", "yes", "unsure", "no"] * 20}, {"positive": "yes"}, "labels must be binary", "y", None),
        ({"y": [0, 1, "yes", 1] * 20}, {}, "mixed or unsupported values", "y", None),  # ints and text
        ({"y": [0.0, NAN] * 40}, {}, "y_true has a missing value", "y", 1),
        ({"y": [0.0, INF] * 40}, {}, "y must hold 0/1 values, found inf", "y", 1),
        ({"sc": [0.2, 1.2] * 40}, {"y_score": "sc"}, "sc must hold scores in [0, 1], found 1.2", "sc", 1),
        ({"sc": [0.2, -INF] * 40}, {"y_score": "sc"}, "found -inf", "sc", 1),
        ({"sc": [0.2, NAN] * 40}, {"y_score": "sc"}, "y_score has a missing value", "sc", 1),
        ({"sc": ["hi", "lo"] * 40}, {"y_score": "sc"}, "sc must hold numeric scores", "sc", None),
        ({}, {"sensitive": ["race"]}, "no sensitive column 'race'", "race", None),
    ],
)
def test_fairness_bad_columns_name_column_and_row(
    columns: dict[str, Any], kwargs: dict[str, Any], message: str, column: str, row: int | None
) -> None:
    error = _raises(lambda: _assess(_table(**columns), **kwargs), message)
    assert (error.column, error.row) == (column, row)


def test_fairness_empty_table() -> None:
    _raises(lambda: _assess({"y": [], "p": [], "s": []}), "the table has no rows")


def test_fairness_one_group_is_an_error_result_with_the_reason() -> None:
    report = _assess(_table(s=["all"] * 80))
    assert len(report.groups) == 1 and not report.passed
    results = report.results()
    assert results and {r.status for r in results} == {"error"}
    assert all("two are needed to compare" in r.details["reason"] for r in results)
    assert "only 1 group in the sensitive column(s): nothing to compare" in report.notes


def test_fairness_metric_functions() -> None:
    _raises(lambda: selection_rate([0, 1, 1], [0, 1]), "y_true has 3 values but y_pred has 2")
    _raises(lambda: selection_rate([0, 1], [0, 2]), "y_pred must hold 0/1 values, found 2")
    _raises(lambda: selection_rate([0, NAN], [0, 1]), "y_true must hold 0/1 values, found nan")
    _raises(lambda: selection_rate([0, 1], [0, 1], sample_weight=["a", "b"]), "sample_weight must be numbers")
    _raises(
        lambda: FairnessFrame.compute(["selection_rate"], [0, 1], [0, 1], sensitive={"s": ["a"]}),
        "sensitive columns have 1 values but y_true has 2",
    )


# --- validation and weak segments ----------------------------------------------------------------


def test_validation_scores_with_nan_or_text() -> None:
    y, ok = [0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8]
    error = _raises(lambda: overfitting(y, [0.1, NAN, 0.2, 0.3], y, ok), "predictions has a missing")
    assert error.row == 1
    _raises(lambda: overfitting(y, ok, y, ["a", "b", "c", "d"]), "the predictions must be numbers")
    _raises(lambda: underfitting([0, 1, NAN], [0, 1, 1]), "y has a missing or infinite value")
    _raises(lambda: underfitting([], []), "must match and be > 0")
    _raises(lambda: underfitting([0, 1, 1], [0, 1]), "y has 3 rows and the predictions 2")


def test_calibration_stability_and_cv_inputs() -> None:
    _raises(lambda: calibration(["no", "yes"], [0.1, 0.9]), "y_true must be numbers")
    _raises(lambda: calibration([0, 1], [0.1, 1.7]), "y_prob must be probabilities in [0, 1]")
    assert _raises(lambda: calibration([0, 1], [0.1, NAN]), "y_prob has a missing").row == 1
    assert _raises(lambda: score_stability([0.1, 0.2], [0.3, INF]), "current_scores has a missing").row == 1
    _raises(lambda: score_stability(["a"], [0.2]), "reference_scores must be numbers")
    _raises(lambda: score_stability([], [0.2]), "non-empty scores")
    _raises(lambda: cv_stability(["0.8", "high"]), "scores_per_fold must be numbers")


def test_leakage_and_permutation_importance_inputs() -> None:
    assert _raises(lambda: leakage({"a": [1, 2, 3, 4]}, [0, NAN, 1, 1]), "y has a missing").row == 1
    _raises(lambda: leakage({"a": [1, 2]}, [0, 1, 1]), "y has 3 rows and the table 2")
    table = {"x": [0, 1, 0, 1]}
    _raises(lambda: permutation_importance(lambda t: [0, 1], table, [0, 1, 0, 1]), "the predictions 2")
    _raises(
        lambda: permutation_importance(lambda t: [0, 1, 0, 1], table, [0, 1, 0, 1], features=["z"]),
        "no such feature column",
    )


def test_weak_segments_inputs() -> None:
    table = {"age": list(range(8))}
    y_pred = [0, 1, NAN, 1, 0, 1, 0, 1]
    error = _raises(lambda: weak_segments(table, [0, 1] * 4, y_pred), "y_pred has a missing")
    assert error.row == 2
    _raises(lambda: weak_segments(table, [0, 1] * 4, [0, 1]), "must have the table's 8 rows")
    _raises(lambda: weak_segments(table, [0, 1] * 4, [0, 1] * 4, features=["zip"]), "no such feature column")


# --- label-free estimation ----------------------------------------------------------------------


def test_estimator_names_the_bad_row_and_refuses_unusable_input() -> None:
    from mlaudit.stats.estimation import PerformanceEstimator

    y = [0, 1] * 100
    s = [0.2, 0.8] * 100
    with pytest.raises(InputError, match="must be numbers"):
        PerformanceEstimator().fit(y, ["a", "b"] * 100)
    with pytest.raises(InputError) as info:
        PerformanceEstimator().fit(y, [*s[:-1], float("nan")])
    assert info.value.row == 199
    with pytest.raises(InputError, match="no rows"):
        PerformanceEstimator().fit([], [])
    with pytest.raises(InputError) as info:
        PerformanceEstimator().fit([0, None, *y[2:]], s)
    assert info.value.row == 1
    with pytest.raises(InputError, match="sum to 1") as info:
        PerformanceEstimator().fit(y, [[0.8, 0.2]] * 199 + [[0.5, 0.9]])
    assert info.value.row == 199
    est = PerformanceEstimator(metrics=("accuracy",), calibrate="none").fit(y, s)
    with pytest.raises(InputError, match="must be numbers"):
        est.estimate_windows(["x"] * 10, [0] * 10)
