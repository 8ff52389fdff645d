"""``run_audit``: each check finds what was planted, numbers agree with independent libraries,
and bad input is refused before any check runs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pytest
from audit_data import make_table
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.metrics import accuracy_score, roc_auc_score
from sklearn.tree import DecisionTreeClassifier

from mlaudit.audit import load_suite, run_audit
from mlaudit.errors import InputError
from mlaudit.models import load

FEATURES = ["x1", "x2"]


def _checks(report: Any, status: str) -> set[str]:
    return {r.check for r in report.results() if r.status == status}


def test_sound_model_on_fresh_data_passes(tables: dict[str, pa.Table], fit: Callable[..., Any]) -> None:
    model = fit(tables["train"], FEATURES)
    report = run_audit(model, tables["reference"], tables["current"], labels="y", sensitive=["sex"])
    assert report.passed, report.findings()
    assert report.status == "pass" or _checks(report, "fail") == set()
    cur = tables["current"]
    y = cur.column("y").to_numpy()
    proba = model.predict_proba(cur)[:, 1]
    perf = report.section("performance").document["current"]  # type: ignore[index]
    metric = {m["name"]: m for m in perf["metrics"]}
    assert metric["roc_auc"]["value"] == pytest.approx(roc_auc_score(y, proba), abs=1e-12)
    assert metric["accuracy"]["value"] == pytest.approx(accuracy_score(y, model.predict(cur)), abs=1e-12)
    assert metric["roc_auc"]["lower"] < metric["roc_auc"]["value"] < metric["roc_auc"]["upper"]
    doc = orjson.loads(orjson.dumps(report.to_dict(), option=orjson.OPT_SERIALIZE_NUMPY))
    assert doc["kind"] == "audit_report" and doc["passed"] is True
    assert doc["suite"]["checks"] == ["drift", "performance", "fairness", "calibration", "score_stability"]


def test_drifted_feature_and_scores_are_reported(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    report = run_audit(model, tables["reference"], tables["drifted"], labels="y", sensitive=["sex"])
    drift = {r.check: r.status for r in report.section("drift").results}
    assert drift["drift:x1"] == "warn" and drift["drift:x2"] == "pass"  # severity warn in quick
    stability = report.section("score_stability").results[0]
    assert stability.status == "fail" and stability.value is not None and stability.value > 0.25
    assert not report.passed
    messages = " ".join(f["message"] for f in report.findings())
    assert "feature 'x1' drifted" in messages and "PSI" in messages


def test_label_bias_learned_through_sex_fails_fairness_and_matches_fairlearn(fit: Callable[..., Any]) -> None:
    fairlearn = pytest.importorskip("fairlearn.metrics")
    train = make_table(4000, seed=11, bias=0.4)
    current = make_table(4000, seed=12, bias=0.4)

    def with_f(t: pa.Table) -> pa.Table:
        return t.append_column(
            "is_f", pa.array((t.column("sex").to_numpy(zero_copy_only=False) == "F") * 1.0)
        )

    train, current = with_f(train), with_f(current)
    model = fit(train, ["x1", "x2", "is_f"])
    report = run_audit(model, current, current, labels="y", sensitive=["sex"], suite="quick")
    fair = {r.check: r for r in report.section("fairness").results}
    assert fair["fairness:demographic_parity_ratio"].status == "fail"
    pred = model.predict(current)
    y = current.column("y").to_numpy()
    sex = current.column("sex").to_numpy(zero_copy_only=False)
    doc = report.section("fairness").document
    assert doc is not None
    assert doc["disparities"]["demographic_parity_difference"] == pytest.approx(
        fairlearn.demographic_parity_difference(y, pred, sensitive_features=sex), abs=1e-9
    )
    assert doc["disparities"]["equalized_odds_difference"] == pytest.approx(
        fairlearn.equalized_odds_difference(y, pred, sensitive_features=sex), abs=1e-9
    )
    finding = next(f for f in report.findings() if f["check"] == "fairness:demographic_parity_ratio")
    assert "sex=M" in finding["message"] and "sex=F" in finding["message"]


def test_full_suite_finds_overfitting_of_an_unpruned_tree(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES, DecisionTreeClassifier(random_state=0))
    report = run_audit(
        model,
        tables["reference"],
        tables["current"],
        labels="y",
        sensitive=["sex"],
        suite="full",
        train=tables["train"],
    )
    over = report.section("overfitting").results[0]
    assert over.status == "fail"
    assert over.details["train"] == pytest.approx(1.0) and over.details["holdout"] < 0.9
    assert report.section("calibration").results[0].status == "fail"  # 0/1 "probabilities"
    assert {s.name for s in report.sections} == set(load_suite("full").enabled())
    assert all(s.skipped is None for s in report.sections)


def test_overfitting_is_skipped_without_training_data(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    report = run_audit(model, tables["reference"], tables["current"], labels="y", suite="full")
    over = report.section("overfitting")
    assert over.results == () and over.skipped is not None and "training data" in over.skipped
    assert report.section("fairness").skipped is not None  # no sensitive columns given
    assert report.counts()["skipped"] == 2


def test_leakage_and_weak_segment_are_found(fit: Callable[..., Any]) -> None:
    rng = np.random.default_rng(7)
    train = make_table(4000, seed=21)
    current = make_table(4000, seed=22)

    def with_leak(t: pa.Table, flip_north: bool) -> pa.Table:
        y = t.column("y").to_numpy().copy()
        if flip_north:  # labels of region N are noisier: the model is weak there
            north = t.column("region").to_numpy(zero_copy_only=False) == "N"
            flip = north & (rng.random(len(y)) < 0.35)
            y[flip] = 1 - y[flip]
            t = t.set_column(t.column_names.index("y"), "y", pa.array(y))
        leak = y + rng.normal(0, 0.01, len(y))
        return t.append_column("leak", pa.array(leak))

    train, current = with_leak(train, False), with_leak(current, True)
    model = fit(train, ["x1", "x2"])
    report = run_audit(model, train, current, labels="y", suite="full")
    weak = report.section("weak_segments").results[0]
    assert weak.status in ("warn", "fail")
    assert "region" in weak.details["segments"][0]["description"]
    assert "N" in weak.details["segments"][0]["description"]
    lk = run_audit(
        load(lambda t: (t["x1"].to_numpy() > 0).astype(int), feature_names=["x1", "x2", "leak"]),
        train,
        current,
        labels="y",
        suite=_suite_with("leakage: {}"),
    )
    leak = lk.section("leakage").results[0]
    assert leak.status == "warn" and leak.details["suspects"] == ["leak"]


def _suite_with(checks: str, tmp: Path | None = None) -> Any:
    import tempfile

    folder = Path(tmp or tempfile.mkdtemp())
    path = folder / "suite.yaml"
    path.write_text("name: custom\nchecks:\n  " + checks.replace("\n", "\n  ") + "\n")
    return load_suite(path)


def test_without_labels_performance_is_estimated_within_its_band(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    current = tables["drifted"]
    report = run_audit(model, tables["reference"], current.drop(["y"]), labels="y", sensitive=["sex"])
    perf = {r.check: r for r in report.section("performance").results}
    est = perf["estimated:roc_auc"]
    truth = roc_auc_score(current.column("y").to_numpy(), model.predict_proba(current)[:, 1])
    assert est.details["lower_band"] <= truth <= est.details["upper_band"]
    fairness = report.section("fairness")  # outcomes only: demographic parity from predictions
    assert [r.check for r in fairness.results] == ["fairness:demographic_parity_ratio"]
    assert fairness.document is not None and "tpr" not in fairness.document["groups"][0]
    assert report.notes and "no labels" in report.notes[0]


def test_regression_and_multiclass_models_get_the_checks_that_apply(tables: dict[str, pa.Table]) -> None:
    t = tables["train"]
    x = np.column_stack([t.column("x1").to_numpy(), t.column("x2").to_numpy()])
    target = 2 * x[:, 0] - x[:, 1] + np.random.default_rng(0).normal(0, 0.5, len(x))
    reg_table = t.append_column("target", pa.array(target))
    reg = load(LinearRegression().fit(x, target), feature_names=FEATURES)
    report = run_audit(reg, reg_table, reg_table, labels="target", suite="full", train=reg_table)
    assert report.task == "regression"
    perf = {m["name"]: m["value"] for m in report.section("performance").document["current"]["metrics"]}  # type: ignore[index]
    from sklearn.metrics import r2_score

    assert perf["r2"] == pytest.approx(r2_score(target, reg.predict(reg_table)), abs=1e-12)
    assert report.section("calibration").skipped and report.section("weak_segments").skipped
    classes = np.digitize(x[:, 0], [-0.5, 0.5])  # three classes
    multi_table = t.append_column("cls", pa.array(classes))
    multi = load(LogisticRegression(max_iter=500).fit(x, classes), feature_names=FEATURES)
    report = run_audit(multi, multi_table, multi_table, labels="cls", suite="full")
    assert report.task == "multiclass"
    assert report.section("calibration").skipped and report.section("leakage").skipped
    assert report.section("performance").status in ("pass", "warn")


# --- bad input ------------------------------------------------------------------------------


def test_missing_feature_is_refused_naming_the_column(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    with pytest.raises(InputError) as info:
        run_audit(model, tables["reference"], tables["current"].drop(["x2"]), labels="y")
    assert info.value.column == "x2" and "current" in info.value.message and info.value.exit_code == 2


def test_labels_with_classes_the_model_does_not_know(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    cur = tables["current"]
    y = cur.column("y").to_numpy().copy()
    y[:5] = 7
    bad = cur.set_column(cur.column_names.index("y"), "y", pa.array(y))
    with pytest.raises(InputError, match=r"does not know: \['7'\]"):
        run_audit(model, tables["reference"], bad, labels="y")


def test_missing_labels_name_the_row(tables: dict[str, pa.Table], fit: Callable[..., Any]) -> None:
    model = fit(tables["train"], FEATURES)
    cur = tables["current"]
    y = cur.column("y").to_pylist()
    y[42] = None
    bad = cur.set_column(cur.column_names.index("y"), "y", pa.array(y, pa.int64()))
    with pytest.raises(InputError) as info:
        run_audit(model, tables["reference"], bad, labels="y")
    assert info.value.row == 42 and info.value.column == "y"


def test_a_model_that_raises_is_named_not_a_traceback(tables: dict[str, pa.Table]) -> None:
    def broken(t: Any) -> Any:
        raise RuntimeError("weights file corrupt")

    with pytest.raises(InputError, match=r"scoring the reference data: .*RuntimeError: weights file corrupt"):
        run_audit(load(broken, feature_names=FEATURES), tables["reference"], tables["current"], labels="y")


def test_empty_current_and_unknown_label_column(tables: dict[str, pa.Table], fit: Callable[..., Any]) -> None:
    model = fit(tables["train"], FEATURES)
    with pytest.raises(InputError, match="current data has no rows"):
        run_audit(model, tables["reference"], tables["current"].slice(0, 0), labels="y")
    with pytest.raises(InputError) as info:
        run_audit(model, tables["reference"], tables["current"], labels="outcome")
    assert info.value.column == "outcome"


def test_a_sensitive_column_with_one_group_is_an_error_result(
    tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    model = fit(tables["train"], FEATURES)
    cur = tables["current"]
    one = cur.append_column("country", pa.array(["NO"] * cur.num_rows))
    report = run_audit(model, tables["reference"], one, labels="y", sensitive=["country"])
    fair = report.section("fairness").results
    assert fair and {r.status for r in fair} == {"error"}
    assert all("group" in r.details["reason"] for r in fair)
    assert not report.passed
    assert any(f["status"] == "error" and "could not be judged" in f["message"] for f in report.findings())


def test_a_suite_with_a_typo_names_the_key(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: mine\nchecks:\n  drift:\n    max_shar: 0.3\n")
    with pytest.raises(InputError) as info:
        load_suite(path)
    assert "checks.drift.max_shar" in info.value.message and info.value.path == str(path)
    path.write_text("checks:\n  performance:\n    min: {auc: 0.7}\n")
    with pytest.raises(InputError, match="unknown metric"):
        load_suite(path)
    with pytest.raises(InputError, match="no suite"):
        load_suite("quik")


def test_a_custom_suite_with_a_rules_file_next_to_it(
    tmp_path: Path, tables: dict[str, pa.Table], fit: Callable[..., Any]
) -> None:
    (tmp_path / "rules.yaml").write_text("rules:\n  - rule: range\n    column: x1\n    min: -1\n")
    suite = _suite_with("data_quality:\n  rules: rules.yaml\nperformance:\n  min: {accuracy: 0.99}", tmp_path)
    model = fit(tables["train"], FEATURES)
    report = run_audit(model, tables["reference"], tables["current"], labels="y", suite=suite)
    statuses = {r.check: r.status for r in report.results()}
    assert statuses["range(x1)"] == "fail"  # about 16% of x1 is below -1
    assert statuses["performance:accuracy"] == "fail"
    assert report.suite["name"] == "custom" and not report.passed
