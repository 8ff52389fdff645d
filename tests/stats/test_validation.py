from __future__ import annotations

import math

import numpy as np
import pyarrow as pa
import pytest
from sklearn.calibration import calibration_curve
from sklearn.inspection import permutation_importance as sk_permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.neighbors import KNeighborsClassifier

from mlaudit.errors import InputError
from mlaudit.stats.result import Result
from mlaudit.stats.validation import (
    calibration,
    cv_stability,
    leakage,
    overfitting,
    permutation_importance,
    robustness,
    score_stability,
    underfitting,
)


def _linear(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = (X[:, 0] + 0.5 * rng.normal(size=n) > 0).astype(int)
    return X, y


# --- overfitting / underfitting -----------------------------------------------------------------


def test_overfitting_flags_a_memorising_model_and_passes_a_linear_one() -> None:
    X, y = _linear(1200, 0)
    Xt, yt, Xh, yh = X[:600], y[:600], X[600:], y[600:]
    knn = KNeighborsClassifier(n_neighbors=1).fit(Xt, yt)
    gap = overfitting(yt, knn.predict_proba(Xt), yh, knn.predict_proba(Xh), metric="roc_auc", n_boot=100)
    expected = roc_auc_score(yt, knn.predict_proba(Xt)[:, 1]) - roc_auc_score(yh, knn.predict_proba(Xh)[:, 1])
    assert gap.value == pytest.approx(expected)
    assert gap.interval is not None and gap.interval[0] <= gap.value <= gap.interval[1]
    assert gap.result().status == "fail"

    lr = LogisticRegression().fit(Xt, yt)
    ok = overfitting(yt, lr.predict_proba(Xt)[:, 1], yh, lr.predict_proba(Xh)[:, 1], n_boot=100)
    assert abs(ok.value) < 0.03
    assert ok.result(threshold=0.05).status == "pass"
    assert ok.to_dict()["kind"] == "overfitting" and ok.to_dict()["schema_version"] == 1


def test_overfitting_gap_is_oriented_for_loss_metrics() -> None:
    y = np.array([1.0, 2.0, 3.0, 4.0])
    gap = overfitting(y, y, y, y + 1.0, metric="rmse", n_boot=0)
    assert gap.value == pytest.approx(1.0)  # holdout is worse by one unit of rmse
    assert gap.interval is None


def test_underfitting_compares_with_the_majority_class() -> None:
    X, y = _linear(800, 1)
    lr = LogisticRegression().fit(X, y)
    good = underfitting(y, lr.predict(X), metric="accuracy", n_boot=100)
    assert good.second == pytest.approx(max(y.mean(), 1 - y.mean()))
    assert good.value == pytest.approx(accuracy_score(y, lr.predict(X)) - good.second)
    assert good.result().status == "pass"

    coin = np.random.default_rng(2).integers(0, 2, len(y))
    bad = underfitting(y, coin, metric="accuracy", n_boot=100)
    assert bad.result().status == "fail"
    assert bad.to_dict()["baseline"] == pytest.approx(good.second)


def test_underfitting_scores_and_regression() -> None:
    X, y = _linear(500, 3)
    auc = underfitting(y, X[:, 0], metric="roc_auc", n_boot=50)
    assert auc.second == pytest.approx(0.5)  # a constant score ranks nothing
    assert auc.result().status == "pass"
    target = X[:, 0] * 3
    mean_model = underfitting(target, np.full(len(target), target.mean()), metric="rmse", n_boot=50)
    assert mean_model.value == pytest.approx(0.0, abs=1e-12)
    assert mean_model.result().status == "fail"


def test_unknown_metric_is_an_input_error() -> None:
    with pytest.raises(InputError, match="unknown metric"):
        underfitting([0, 1], [0, 1], metric="nope")


# --- cross-validation stability -------------------------------------------------------------------


def test_cv_stability_summary_and_warning() -> None:
    s = [0.80, 0.82, 0.78, 0.81]
    r = cv_stability(s)
    assert r.mean == pytest.approx(np.mean(s))
    assert r.std == pytest.approx(np.std(s, ddof=1))
    assert r.cv == pytest.approx(np.std(s, ddof=1) / np.mean(s))
    assert r.result().status == "pass"
    assert cv_stability([0.5, 0.9, 0.6]).result(threshold=0.1).status == "warn"
    with pytest.raises(InputError):
        cv_stability([0.5])


# --- calibration ----------------------------------------------------------------------------------


def test_calibration_ece_hand_worked() -> None:
    # bins of width 0.5: [0.1, 0.3] -> mean 0.2, observed 1/2 (gap 0.3);
    # [0.7, 0.9, 0.8] -> mean 0.8, observed 1 (gap 0.2); ECE = (2 * 0.3 + 3 * 0.2) / 5 = 0.24
    r = calibration([0, 1, 1, 1, 1], [0.1, 0.3, 0.7, 0.9, 0.8], n_bins=2)
    assert r.ece == pytest.approx(0.24)
    assert r.mce == pytest.approx(0.3)
    assert r.counts == (2, 3)
    assert r.result(threshold=0.1).status == "fail"
    d = r.to_dict()
    assert d["kind"] == "calibration" and len(d["curve"]) == 2


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_calibration_curve_matches_sklearn(strategy: str) -> None:
    rng = np.random.default_rng(4)
    p = rng.beta(2, 3, 3000)
    y = (rng.random(3000) < p**1.3).astype(int)
    mine = calibration(y, p, n_bins=8, strategy=strategy)  # type: ignore[arg-type]
    prob_true, prob_pred = calibration_curve(y, p, n_bins=8, strategy=strategy)
    np.testing.assert_allclose(mine.observed_rate, prob_true)
    np.testing.assert_allclose(mine.mean_predicted, prob_pred)
    assert sum(mine.counts) == 3000


def test_calibration_of_perfect_probabilities_is_small() -> None:
    rng = np.random.default_rng(5)
    p = rng.random(20000)
    y = (rng.random(20000) < p).astype(int)
    assert calibration(y, p).ece < 0.02
    with pytest.raises(InputError):
        calibration([0, 1], [0.5, 1.5])


# --- robustness -----------------------------------------------------------------------------------


def test_robustness_flip_rate_per_feature() -> None:
    rng = np.random.default_rng(6)
    n = 4000
    table = pa.table(
        {
            "x": rng.normal(size=n),
            "region": rng.choice(["A", "B"], n).tolist(),
            "unused": rng.normal(size=n),
        }
    )

    def predict(t: pa.Table) -> np.ndarray:
        region = np.asarray(t["region"].to_pylist()) == "A"
        return (region & (t["x"].to_numpy() > -10)).astype(int)

    r = robustness(predict, table, categorical_flip=0.1, n_repeats=2)
    assert r.task == "classification"
    assert r.per_feature["unused"] == 0.0
    assert r.per_feature["x"] == 0.0  # nothing within noise of -10
    # with two levels every flip changes the region, so about 10% of predictions flip
    assert r.per_feature["region"] == pytest.approx(0.1, abs=0.02)
    assert r.result(threshold=0.05).status == "fail"
    assert r.to_dict()["kind"] == "robustness"


def test_robustness_regression_mean_absolute_change() -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0, 2, 20000)
    r = robustness(lambda t: 3 * t["x"].to_numpy(), {"x": x}, numeric_noise=0.1, n_repeats=2)
    assert r.task == "regression"
    # |3 * N(0, 0.1 * 2)| has mean 3 * 0.2 * sqrt(2 / pi)
    assert r.overall == pytest.approx(3 * 0.2 * math.sqrt(2 / math.pi), rel=0.05)


# --- permutation importance -----------------------------------------------------------------------


def test_permutation_importance_agrees_with_sklearn() -> None:
    X, y = _linear(2000, 8)
    model = LogisticRegression().fit(X, y)
    names = ["signal", "noise1", "noise2"]
    table = pa.table({k: X[:, i] for i, k in enumerate(names)})

    def predict(t: pa.Table) -> np.ndarray:
        return np.asarray(model.predict(np.column_stack([t[k].to_numpy() for k in names])))

    mine = permutation_importance(predict, table, y, metric="accuracy", n_repeats=10)
    theirs = sk_permutation_importance(model, X, y, scoring="accuracy", n_repeats=10, random_state=0)
    assert mine.ranking()[0] == "signal"
    np.testing.assert_allclose([mine.mean[k] for k in names], theirs.importances_mean, atol=0.02)
    assert mine.baseline == pytest.approx(accuracy_score(y, model.predict(X)))
    assert mine.to_dict()["importances"][0]["feature"] == "signal"


def test_permutation_importance_with_probabilities_and_a_loss() -> None:
    X, y = _linear(1000, 9)
    model = LogisticRegression().fit(X, y)
    table = pa.table({f"f{i}": X[:, i] for i in range(3)})

    def proba(t: pa.Table) -> np.ndarray:
        return np.asarray(model.predict_proba(np.column_stack([t[f"f{i}"].to_numpy() for i in range(3)])))

    auc = permutation_importance(proba, table, y, metric="roc_auc", n_repeats=3)
    loss = permutation_importance(proba, table, y, metric="log_loss", n_repeats=3)
    assert auc.ranking()[0] == "f0" and loss.ranking()[0] == "f0"
    assert loss.mean["f0"] > 0  # a loss going up counts as a positive importance


# --- leakage --------------------------------------------------------------------------------------


def test_leakage_names_the_leaking_features() -> None:
    rng = np.random.default_rng(10)
    n = 3000
    y = rng.integers(0, 2, n)
    table = pa.table(
        {
            "honest": rng.normal(size=n) + 0.5 * y,
            "leak_num": -(y + rng.normal(0, 0.05, n)),
            "leak_cat": np.where(y == 1, "approved", "rejected").tolist(),
            "noise_cat": rng.choice(["a", "b", "c"], n).tolist(),
        }
    )
    r = leakage(table, y)
    assert set(r.suspects) == {"leak_num", "leak_cat"}
    assert r.scores["honest"] < 0.8
    res = r.result()
    assert res.status == "warn" and set(res.details["suspects"]) == {"leak_num", "leak_cat"}
    assert leakage(table.drop(["leak_num", "leak_cat"]), y).result().status == "pass"


def test_leakage_regression_target() -> None:
    rng = np.random.default_rng(11)
    y = rng.normal(size=2000)
    r = leakage({"copy": np.exp(y), "noise": rng.normal(size=2000)}, y)
    assert r.measure == "r2"
    assert r.suspects == ["copy"]  # monotone, so its rank correlation is exactly 1


# --- score stability ------------------------------------------------------------------------------


def test_score_stability_worked_example() -> None:
    ref = np.arange(1, 11, dtype=float)  # quartile edges 3.25, 5.5, 7.75 -> shares .3 .2 .2 .3
    cur = np.array([1, 1, 1, 1, 1, 6, 6, 9, 9, 10], dtype=float)  # shares .5 0 .2 .3
    r = score_stability(ref, cur, bins=4)
    assert r.edges == pytest.approx((3.25, 5.5, 7.75))
    assert r.reference_share == pytest.approx((0.3, 0.2, 0.2, 0.3))
    assert r.current_share == pytest.approx((0.5, 0.0, 0.2, 0.3))
    # the empty bin is floored at 1e-4; the last two bins match and add nothing
    expected = 0.2 * math.log(0.5 / 0.3) + (1e-4 - 0.2) * math.log(1e-4 / 0.2)
    assert r.psi == pytest.approx(expected)
    assert r.result().status == "fail"


def test_score_stability_same_and_shifted() -> None:
    rng = np.random.default_rng(12)
    ref = rng.random(5000)
    assert score_stability(ref, ref).psi == 0.0
    assert score_stability(ref, rng.random(5000)).result().status == "pass"
    assert score_stability(ref, rng.random(5000) ** 3).result().status == "fail"


def test_every_check_gives_a_result_with_kind_and_version() -> None:
    y = np.array([0, 1] * 50)
    p = np.linspace(0.01, 0.99, 100)
    objs = [
        overfitting(y, p, y, p, n_boot=10),
        underfitting(y, (p > 0.5).astype(int), n_boot=10),
        cv_stability([0.7, 0.8]),
        calibration(y, p),
        robustness(lambda t: (t["p"].to_numpy() > 0.5).astype(int), {"p": p}),
        permutation_importance(lambda t: (t["p"].to_numpy() > 0.5).astype(int), {"p": p}, y, n_repeats=2),
        leakage({"p": p}, y),
        score_stability(p, p),
    ]
    for obj in objs:
        d = obj.to_dict()  # type: ignore[attr-defined]
        assert d["schema_version"] == 1 and isinstance(d["kind"], str)
        res = obj.result()  # type: ignore[attr-defined]
        assert isinstance(res, Result) and res.check.startswith("validation:")


def test_leakage_rejects_a_multiclass_label_target() -> None:
    with pytest.raises(InputError, match="multiclass"):
        leakage({"x": [1, 2, 3]}, ["a", "b", "c"])
