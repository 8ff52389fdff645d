"""Fairness rates and disparities, checked against Fairlearn, SciPy and hand-worked examples."""

from __future__ import annotations

import doctest
import math
from functools import partial
from typing import Any

import numpy as np
import orjson
import pandas as pd
import pytest
import sklearn.metrics as skm
from fairlearn import metrics as flm
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.stats import fairness, fairness_metrics
from mlaudit.stats.fairness import DEFAULT_THRESHOLDS, assess_fairness
from mlaudit.stats.fairness_metrics import METRICS, FairnessFrame, calibration_gap

TOL = 1e-9


def _data(n: int = 3000, seed: int = 0, weights: bool = False) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    sex = rng.choice(["F", "M"], n, p=[0.4, 0.6])
    race = rng.choice(["a", "b", "c"], n)
    y = rng.integers(0, 2, n)
    # predictions depend on the group, so disparities are not ~0
    bias = np.where(sex == "F", 0.15, 0.0) + np.where(race == "c", 0.1, 0.0)
    p = (rng.random(n) < 0.35 + 0.3 * y - bias).astype(int)
    df = pd.DataFrame({"y": y, "p": p, "sex": sex, "race": race, "s": rng.random(n)})
    if weights:
        df["w"] = rng.uniform(0.2, 3.0, n)
    return df


def _key(group: dict[str, Any], names: list[str]) -> Any:
    return group[names[0]] if len(names) == 1 else tuple(group[n] for n in names)


@pytest.mark.parametrize("names", [["sex"], ["race"], ["sex", "race"]])
@pytest.mark.parametrize("weighted", [False, True])
def test_disparities_equal_fairlearn(names: list[str], weighted: bool) -> None:
    df = _data(weights=weighted)
    sf, w = df[names], (df["w"] if weighted else None)
    report = assess_fairness(
        df,
        y_true="y",
        y_pred="p",
        sensitive=names,
        sample_weight="w" if weighted else None,
        min_group_size=0,
        n_bootstrap=0,
    )
    kw: dict[str, Any] = {"sensitive_features": sf, "sample_weight": w}
    expected = {
        "demographic_parity_difference": flm.demographic_parity_difference(df.y, df.p, **kw),
        "demographic_parity_ratio": flm.demographic_parity_ratio(df.y, df.p, **kw),
        "equalized_odds_difference": flm.equalized_odds_difference(df.y, df.p, **kw),
        "equalized_odds_ratio": flm.equalized_odds_ratio(df.y, df.p, **kw),
    }
    for name, value in expected.items():
        assert report.disparities[name] == pytest.approx(value, abs=TOL), name
    assert report.disparities["demographic_parity_difference"] > 0.05


@pytest.mark.parametrize("names", [["sex"], ["sex", "race"]])
def test_by_group_equals_metric_frame(names: list[str]) -> None:
    df = _data(weights=True)
    fl = {
        "selection_rate": flm.selection_rate,
        "tpr": flm.true_positive_rate,
        "fpr": flm.false_positive_rate,
        "fnr": flm.false_negative_rate,
        "tnr": flm.true_negative_rate,
        "accuracy": skm.accuracy_score,
        "precision": skm.precision_score,
    }
    mf = flm.MetricFrame(
        metrics=fl,
        y_true=df.y,
        y_pred=df.p,
        sensitive_features=df[names],
        sample_params={m: {"sample_weight": df.w} for m in fl},
    )
    report = assess_fairness(df, y_true="y", y_pred="p", sensitive=names, sample_weight="w", n_bootstrap=0)
    assert len(report.groups) == len(mf.by_group)
    for g in report.groups:
        row = mf.by_group.loc[_key(g.group, names)]
        for metric in fl:
            assert g.rates[metric] == pytest.approx(row[metric], abs=TOL), (g.group, metric)
        assert g.rates["error_rate"] == pytest.approx(1 - row["accuracy"], abs=TOL)
    for metric in fl:
        assert report.overall[metric] == pytest.approx(mf.overall[metric], abs=TOL)


def _nan_fpr(y_true: Any, y_pred: Any) -> float:
    neg = np.asarray(y_true) == 0
    return float(np.mean(np.asarray(y_pred)[neg])) if neg.any() else float("nan")


def test_single_class_groups_are_nan_and_left_out() -> None:
    df = _data(seed=3)
    df.loc[(df.sex == "F") & (df.race == "a"), "y"] = 0  # no positives: tpr undefined there
    df.loc[(df.sex == "M") & (df.race == "b"), "y"] = 1  # no negatives: fpr undefined there
    names = ["sex", "race"]
    report = assess_fairness(df, y_true="y", y_pred="p", sensitive=names, min_group_size=0, n_bootstrap=0)
    mf = flm.MetricFrame(
        metrics={"tpr": flm.true_positive_rate, "fpr": flm.false_positive_rate},
        y_true=df.y,
        y_pred=df.p,
        sensitive_features=df[names],
    )
    by = {_key(g.group, names): g for g in report.groups}
    assert math.isnan(by[("F", "a")].rates["tpr"]) and mf.by_group.loc[("F", "a"), "tpr"] == 0.0
    assert math.isnan(by[("M", "b")].rates["fpr"]) and mf.by_group.loc[("M", "b"), "fpr"] == 0.0
    for key, g in by.items():  # wherever Fairlearn's rate is defined, the numbers are equal
        for m in ("tpr", "fpr"):
            if not math.isnan(g.rates[m]):
                assert g.rates[m] == pytest.approx(mf.by_group.loc[key, m], abs=TOL)
    # Always defined, so exactly Fairlearn's number:
    expected_dp = flm.demographic_parity_difference(df.y, df.p, sensitive_features=df[names])
    assert report.disparities["demographic_parity_difference"] == pytest.approx(expected_dp, abs=TOL)
    # Equalized odds over the defined rates = Fairlearn's MetricFrame with undefined rates as NaN.
    nan_mf = flm.MetricFrame(
        metrics={"tpr": partial(skm.recall_score, zero_division=np.nan), "fpr": _nan_fpr},
        y_true=df.y,
        y_pred=df.p,
        sensitive_features=df[names],
    )
    assert nan_mf.by_group.isna().sum().sum() == 2
    assert report.disparities["equalized_odds_difference"] == pytest.approx(
        nan_mf.difference().max(), abs=TOL
    )
    assert report.disparities["equalized_odds_ratio"] == pytest.approx(nan_mf.ratio().min(), abs=TOL)
    assert any("tpr undefined (no positives)" in n for n in report.notes)
    doc = report.to_dict()
    assert next(g for g in doc["groups"] if g["group"] == {"sex": "F", "race": "a"})["tpr"] is None


def test_fairness_frame_with_any_metric_matches_metric_frame() -> None:
    df = _data()
    metrics = {"f1": skm.f1_score, "selection_rate": METRICS["selection_rate"]}
    frame = FairnessFrame.compute(metrics, df.y, df.p, sensitive={"sex": df.sex, "race": df.race})
    mf = flm.MetricFrame(
        metrics={"f1": skm.f1_score, "selection_rate": flm.selection_rate},
        y_true=df.y,
        y_pred=df.p,
        sensitive_features=df[["sex", "race"]],
    )
    for i, g in enumerate(frame.groups):
        for m in metrics:
            assert frame.by_group[m][i] == pytest.approx(mf.by_group.loc[(g["sex"], g["race"]), m], abs=TOL)
    for m in metrics:
        assert frame.overall[m] == pytest.approx(mf.overall[m], abs=TOL)
        assert frame.difference()[m] == pytest.approx(mf.difference()[m], abs=TOL)
        assert frame.ratio()[m] == pytest.approx(mf.ratio()[m], abs=TOL)
    assert isinstance(frame.by_group["f1"], tuple) and isinstance(frame.difference(), dict)


def test_small_groups_are_listed_but_not_judged() -> None:
    df = _data(n=600, seed=5)
    tiny = pd.DataFrame({"y": [1] * 10, "p": [0] * 10, "sex": ["X"] * 10, "race": ["a"] * 10, "s": 0.5})
    both = pd.concat([df, tiny], ignore_index=True)
    report = assess_fairness(both, y_true="y", y_pred="p", sensitive=["sex"], n_bootstrap=0)
    x = next(g for g in report.groups if g.group == {"sex": "X"})
    assert (x.count, x.judged, x.rates["selection_rate"]) == (10, False, 0.0)
    expected = flm.demographic_parity_difference(df.y, df.p, sensitive_features=df.sex)
    assert report.disparities["demographic_parity_difference"] == pytest.approx(expected, abs=TOL)
    assert any("below min_group_size=30" in n for n in report.notes)
    assert report.to_dict()["groups"][-1]["judged"] is False


def test_four_fifths_with_significance() -> None:
    n = 200
    df = pd.DataFrame(
        {"y": [0, 1] * n, "p": [1] * 60 + [0] * 140 + [1] * 100 + [0] * 100, "g": ["a"] * n + ["b"] * n}
    )
    report = assess_fairness(df, y_true="y", y_pred="p", sensitive=["g"], n_bootstrap=0)
    ff = report.four_fifths
    assert ff.ratio == pytest.approx(0.6) and ff.flagged
    assert (ff.lowest, ff.highest) == ({"g": "a"}, {"g": "b"})
    table = [[60, 140], [100, 100]]
    chi2 = stats.chi2_contingency(table, correction=False)  # equals the pooled two-sided z-test
    assert ff.p_value == pytest.approx(chi2.pvalue, rel=1e-9)
    assert ff.fisher_p_value == pytest.approx(stats.fisher_exact(table).pvalue, rel=1e-9)
    result = next(r for r in report.results() if r.check == "fairness:demographic_parity_ratio")
    assert (result.status, result.value, result.threshold) == ("fail", pytest.approx(0.6), 0.8)
    assert result.details["four_fifths"]["flagged"] is True


def test_results_statuses_and_thresholds() -> None:
    df = _data(n=4000, seed=1)
    report = assess_fairness(df, y_true="y", y_pred="p", sensitive=["sex"], n_bootstrap=100)
    assert report.thresholds == DEFAULT_THRESHOLDS
    statuses = {r.check: r.status for r in report.results()}
    assert statuses["fairness:demographic_parity_difference"] == "fail"  # ~0.15 > 0.1
    assert not report.passed
    loose = assess_fairness(
        df,
        y_true="y",
        y_pred="p",
        sensitive=["sex"],
        n_bootstrap=100,
        thresholds={
            "demographic_parity_difference": 0.5,
            "equalized_odds_difference": 0.5,
            "demographic_parity_ratio": None,
            "error_rate_difference": 0.2,
        },
    )
    assert {r.check: r.status for r in loose.results()} == {
        "fairness:demographic_parity_difference": "pass",
        "fairness:equalized_odds_difference": "pass",
        "fairness:error_rate_difference": "pass",
    }
    assert loose.passed
    # the point estimate passes, but its interval crosses the threshold: warn
    dpd = report.disparities["demographic_parity_difference"]
    lo, hi = report.intervals["demographic_parity_difference"] or (0.0, 0.0)
    warn = assess_fairness(
        df,
        y_true="y",
        y_pred="p",
        sensitive=["sex"],
        n_bootstrap=100,
        thresholds={"demographic_parity_difference": (dpd + hi) / 2},
    )
    assert lo < dpd < hi
    assert warn.results()[0].status == "warn" and warn.results()[0].passed


def test_one_group_gives_error_results() -> None:
    df = pd.DataFrame({"y": [0, 1] * 50, "p": [1, 1] * 50, "g": ["a"] * 100})
    report = assess_fairness(df, y_true="y", y_pred="p", sensitive=["g"])
    assert {r.status for r in report.results()} == {"error"}
    assert "two are needed" in report.results()[0].details["reason"]
    assert not report.passed and report.notes[0].startswith("only 1 group")
    assert report.results()[0].value is None and report.intervals["demographic_parity_difference"] is None


def test_bootstrap_is_seeded_and_vectorised_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    df = _data(n=800, seed=2)
    kw: dict[str, Any] = {"y_true": "y", "y_pred": "p", "y_score": "s", "sensitive": ["sex", "race"]}
    a = assess_fairness(df, n_bootstrap=50, seed=7, **kw)
    b = assess_fairness(df, n_bootstrap=50, seed=7, **kw)
    c = assess_fairness(df, n_bootstrap=50, seed=8, **kw)
    assert a.intervals == b.intervals and a.intervals != c.intervals
    monkeypatch.setattr(fairness, "_CHUNK_CELLS", 1000)  # several chunks: same draws, same answer
    assert assess_fairness(df, n_bootstrap=50, seed=7, **kw).intervals == a.intervals
    for name, interval in a.intervals.items():
        assert interval is not None and interval[0] <= interval[1], name
    assert set(assess_fairness(df, n_bootstrap=0, **kw).intervals.values()) == {None}


def test_bootstrap_shortcut_agrees_with_resampling_rows() -> None:
    df = _data(n=3000, seed=6).assign(one=1.0)
    kw: dict[str, Any] = {"y_true": "y", "y_pred": "p", "sensitive": ["sex", "race"], "n_bootstrap": 400}
    counts = assess_fairness(df, **kw)  # multinomial draws of each group's confusion counts
    rows = assess_fairness(df, sample_weight="one", **kw)  # unit weights: rows are resampled
    assert counts.disparities == rows.disparities
    for name, interval in counts.intervals.items():
        other = rows.intervals[name]
        assert interval is not None and other is not None
        assert interval == pytest.approx(other, abs=0.02), name


def test_score_metrics_by_hand() -> None:
    rng = np.random.default_rng(4)
    y, s = rng.integers(0, 2, 500), rng.random(500)
    bins = np.minimum((s * 10).astype(int), 9)
    ece = sum(abs(s[bins == b].sum() - y[bins == b].sum()) for b in range(10)) / len(s)
    assert calibration_gap(y, s) == pytest.approx(ece, abs=TOL)
    assert fairness_metrics.mean_score(y, s) == pytest.approx(s.mean(), abs=TOL)
    g = np.where(np.arange(500) < 200, "a", "b")
    report = assess_fairness(
        {"y": y, "p": (s > 0.5).astype(int), "s": s, "g": g},
        y_true="y",
        y_pred="p",
        y_score="s",
        sensitive=["g"],
        n_bootstrap=0,
    )
    gaps = [calibration_gap(y[g == k], s[g == k]) for k in ("a", "b")]
    assert [grp.rates["calibration_gap"] for grp in report.groups] == pytest.approx(gaps, abs=TOL)
    assert report.disparities["calibration_gap_difference"] == pytest.approx(abs(gaps[0] - gaps[1]), abs=TOL)


def test_positive_label_and_json_shape() -> None:
    df = _data(n=400)
    labelled = df.assign(y=np.where(df.y == 1, "yes", "no"), p=np.where(df.p == 1, "yes", "no"))
    a = assess_fairness(df, y_true="y", y_pred="p", sensitive=["sex"], n_bootstrap=20)
    b = assess_fairness(labelled, y_true="y", y_pred="p", sensitive=["sex"], positive="yes", n_bootstrap=20)
    assert a.to_dict() == b.to_dict()
    doc = orjson.loads(orjson.dumps(a.to_dict()))  # plain JSON: no NaN, no numpy
    assert (doc["kind"], doc["schema_version"], doc["passed"]) == ("fairness_report", 1, a.passed)
    assert doc["groups"][0]["group"] == {"sex": "F"} and "tpr" in doc["groups"][0]
    assert set(doc["thresholds"]) == set(DEFAULT_THRESHOLDS)
    assert {r["check"] for r in doc["results"]} == {f"fairness:{k}" for k in DEFAULT_THRESHOLDS}


@pytest.mark.parametrize(
    ("change", "kwargs", "message", "column", "row"),
    [
        ({}, {"y_true": "nope"}, "no y_true column", "nope", None),
        ({}, {"sensitive": ["sex", "zip"]}, "no sensitive column", "zip", None),
        ({"y": [0.0, float("nan"), 1.0, 0.0]}, {}, "missing value", "y", 1),
        ({"y": [0, 1, 2, 0]}, {}, "0/1", "y", 2),
        ({"p": ["a", "b", "a", "b"]}, {}, "0/1", "p", None),
        ({"y": ["a", "b", "c", "a"]}, {"positive": "a"}, "binary", "y", None),
        ({"y": ["a", "b", "a", "a"], "p": ["a", "c", "a", "b"]}, {"positive": "a"}, "not one of", "p", 1),
        ({"s": [0.1, 1.5, 0.2, 0.3]}, {"y_score": "s"}, "[0, 1]", "s", 1),
        ({"y": ["a", "b", "a", "a"], "p": ["a", "b", "a", "a"]}, {"positive": "c"}, "not a label", "y", None),
        ({}, {"thresholds": {"calibration_gap_difference": 0.1}}, "no disparity", None, None),
    ],
)
def test_bad_input(
    change: dict[str, Any], kwargs: dict[str, Any], message: str, column: str | None, row: int | None
) -> None:
    table: dict[str, Any] = {
        "y": [0, 1, 1, 0],
        "p": [1, 1, 0, 0],
        "sex": ["F", "F", "M", "M"],
        "s": [0.1, 0.2, 0.3, 0.4],
        **change,
    }
    args: dict[str, Any] = {"y_true": "y", "y_pred": "p", "sensitive": ["sex"], **kwargs}
    with pytest.raises(InputError, match=message.replace("[", r"\[").replace("]", r"\]")) as info:
        assess_fairness(table, **args)
    assert info.value.column == column
    if row is not None:
        assert info.value.row == row


def test_docstring_examples() -> None:
    for module in (fairness, fairness_metrics):
        assert doctest.testmod(module).failed == 0
