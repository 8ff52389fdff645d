"""DriftDetector / drift(): API conventions, decisions, edge cases and the report shape."""

from __future__ import annotations

import math

import numpy as np
import orjson
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mlaudit.errors import InputError
from mlaudit.stats.drift import ColumnDrift, DriftDetector, DriftReport, drift


def _table(seed: int, n: int = 2000, shift: float = 0.0) -> pa.Table:
    rng = np.random.default_rng(seed)
    return pa.table(
        {
            "age": rng.normal(40 + shift, 10, size=n),
            "income": rng.lognormal(10, 1, size=n),
            "sex": rng.choice(np.array(["F", "M"]), size=n),
        }
    )


def test_sklearn_conventions() -> None:
    det = DriftDetector(alpha=0.01, tests={"age": "psi"})
    assert det.alpha == 0.01 and det.tests == {"age": "psi"}
    assert not hasattr(det, "references_")
    with pytest.raises(InputError, match="not fitted") as info:
        det.compare(_table(0))
    assert "fit(reference)" in str(info.value)
    assert det.fit(_table(0)) is det
    assert det.columns_ == ("age", "income", "sex")
    assert det.kinds_ == {"age": "numeric", "income": "numeric", "sex": "categorical"}
    assert det.reference_rows_ == 2000
    assert det.profile_ is None  # the full sketch profile only on request
    kept = DriftDetector(keep_profile=True).fit(_table(0))
    assert kept.profile_ is not None and kept.profile_.column("age").count == 2000
    with pytest.raises(TypeError):
        DriftDetector(0.05)  # type: ignore[misc]  # keyword-only


def test_one_fit_compares_many_windows_without_the_reference() -> None:
    det = DriftDetector().fit(_table(0, n=5000))
    state = det.references_["age"].state
    assert state is not None and state.sample.size == 5000  # the sorted sample, not the table
    clean = det.compare(_table(1, n=5000))
    shifted = det.compare(_table(2, n=5000, shift=5.0))
    assert clean.drifted_columns == ()
    assert shifted.drifted_columns == ("age",)
    age = shifted.column("age")
    assert age.test == "ks" and age.effect_name == "wasserstein_std"
    assert age.p_value is not None and age.p_adjusted is not None and age.p_adjusted < 0.05
    assert age.effect is not None and age.effect > age.threshold == 0.05


def test_per_column_tests_and_thresholds() -> None:
    report = drift(
        _table(0),
        _table(1),
        tests={"age": "psi", "income": "anderson", "sex": "hellinger"},
        thresholds={"income": 0.2},
    )
    assert [c.test for c in report.columns] == ["psi", "anderson", "hellinger"]
    assert [c.threshold for c in report.columns] == [0.1, 0.2, 0.05]
    assert [c.effect_name for c in report.columns] == ["psi", "wasserstein_std", "hellinger"]


def test_bad_options_are_input_errors() -> None:
    with pytest.raises(InputError, match="does not apply") as info:
        drift(_table(0), _table(1), tests={"sex": "ks"})
    assert info.value.column == "sex"
    with pytest.raises(InputError, match="not compared"):
        drift(_table(0), _table(1), tests={"nope": "ks"})
    with pytest.raises(InputError, match="alpha"):
        drift(_table(0), _table(1), alpha=1.5)
    with pytest.raises(InputError, match="correction"):
        drift(_table(0), _table(1), correction="holm")
    with pytest.raises(InputError, match="threshold"):
        drift(_table(0), _table(1), thresholds={"age": float("nan")})


def test_missing_column_is_named_unless_columns_restricts() -> None:
    cur = _table(1).drop_columns(["income"])
    with pytest.raises(InputError, match="no column 'income'") as info:
        drift(_table(0), cur)
    assert info.value.column == "income"
    assert "columns=" in str(info.value)
    report = drift(_table(0), cur, columns=["age", "sex"])
    assert [c.name for c in report.columns] == ["age", "sex"]
    with pytest.raises(InputError) as info:
        drift(cur, _table(0), columns=["income"])
    assert info.value.column == "income"


def test_unseen_categories_count_in_the_test_and_are_reported() -> None:
    ref = {"c": ["a", "b"] * 500}
    cur = {"c": ["a", "b"] * 400 + ["z"] * 200}
    col = drift(ref, cur).column("c")
    assert col.drifted
    assert col.details["unseen_categories"] == {"z": 200}
    assert col.details["unseen_count"] == 200


def test_all_null_and_empty_columns_are_skipped_with_a_reason() -> None:
    ref = pa.table(
        {
            "x": pa.array([None] * 100, pa.float64()),
            "c": pa.array([None] * 100, pa.string()),
            "y": np.arange(100.0),
        }
    )
    cur = pa.table({"x": np.arange(100.0), "c": pa.array(["a"] * 100), "y": np.arange(100.0)})
    report = drift(ref, cur)
    for name in ("x", "c"):
        col = report.column(name)
        assert col.test == "skipped" and not col.drifted
        assert "reference has no" in col.details["reason"]
        assert col.statistic is None and col.p_value is None and col.effect is None
    assert report.column("y").test == "ks"
    empty = drift(_table(0), _table(1).slice(0, 0))
    assert empty.current_rows == 0
    assert all(c.test == "skipped" and "current data has no" in c.details["reason"] for c in empty.columns)
    assert empty.drifted_columns == () and not empty.dataset_drift
    text = orjson.dumps(empty.to_dict()).decode()
    assert "NaN" not in text


def test_nan_and_inf_are_left_out_and_counted() -> None:
    base = np.random.default_rng(0).normal(size=1000)
    cur = base.copy()
    cur[:10] = np.inf
    cur[10:15] = -np.inf
    cur[15:20] = np.nan
    col = drift({"x": base}, {"x": cur}).column("x")
    assert col.details["current"] == {"rows": 1000, "nulls": 0, "nan": 5, "inf": 15}
    assert col.details["reference"]["inf"] == 0
    assert col.details["missing_share"] == {"reference": 0.0, "current": 0.02}
    assert col.statistic is not None and math.isfinite(col.statistic)
    assert not col.drifted
    all_inf = drift({"x": base}, {"x": np.full(10, np.inf)}).column("x")
    assert all_inf.test == "skipped"


def test_text_columns_are_skipped_unless_made_categorical() -> None:
    words = [f"free text number {i} that goes on and on for a while" for i in range(200)]
    report = drift({"t": words}, {"t": words})
    assert report.column("t").test == "skipped"
    assert "categorical" in report.column("t").details["reason"]
    as_cat = drift({"t": words}, {"t": words}, kinds={"t": "categorical"})
    assert as_cat.column("t").test == "chi2"


def test_booleans_and_datetimes() -> None:
    rng = np.random.default_rng(0)
    ref = pa.table(
        {"ok": rng.random(5000) < 0.5, "ts": pa.array(rng.integers(0, 10**6, 5000).astype("datetime64[s]"))}
    )
    cur = pa.table(
        {"ok": rng.random(5000) < 0.7, "ts": pa.array(rng.integers(0, 10**6, 5000).astype("datetime64[s]"))}
    )
    report = drift(ref, cur)
    assert report.column("ok").kind == "boolean" and report.column("ok").drifted
    assert report.column("ts").kind == "datetime" and not report.column("ts").drifted


def test_corrections_adjust_p_values_for_the_columns_tested() -> None:
    ref, cur = _table(0, n=500), _table(1, n=500, shift=1.0)
    raw = drift(ref, cur, correction="none")
    bonf = drift(ref, cur, correction="bonferroni")
    bh = drift(ref, cur)
    p = np.array([c.p_value for c in raw.columns])
    assert [c.p_adjusted for c in raw.columns] == pytest.approx(p.tolist())
    assert [c.p_adjusted for c in bonf.columns] == pytest.approx(np.minimum(p * 3, 1).tolist())
    order = np.argsort(p)
    bh_expected = np.minimum.accumulate((p[order] * 3 / np.arange(1, 4))[::-1])[::-1]
    assert np.array([c.p_adjusted for c in bh.columns])[order].tolist() == pytest.approx(bh_expected.tolist())


def test_significant_but_tiny_change_is_not_drift() -> None:
    rng = np.random.default_rng(5)
    ref, cur = rng.normal(size=200_000), rng.normal(0.02, 1, size=200_000)
    col = drift({"x": ref}, {"x": cur}).column("x")
    assert col.p_adjusted is not None and col.p_adjusted < 1e-6  # significant ...
    assert col.effect is not None and col.effect < col.threshold  # ... but too small to matter
    assert not col.drifted


def test_report_shape_and_results() -> None:
    report = drift(_table(0), _table(1, shift=8.0))
    d = report.to_dict()
    assert d["kind"] == "drift_report" and d["schema_version"] == 1
    for key in (
        "reference_rows",
        "current_rows",
        "columns",
        "drifted_columns",
        "share_drifted",
        "dataset_drift",
    ):
        assert key in d
    col = d["columns"][0]
    assert list(col)[:8] == ["name", "kind", "test", "statistic", "p_value", "effect", "threshold", "drifted"]
    assert d["drifted_columns"] == ["age"]
    assert d["share_drifted"] == pytest.approx(1 / 3)
    assert d["dataset_drift"] is False
    orjson.dumps(d)  # JSON-safe: plain floats, no NumPy scalars
    results = report.results()
    assert [r.check for r in results] == ["drift:age", "drift:income", "drift:sex"]
    assert [r.status for r in results] == ["fail", "pass", "pass"]
    assert results[0].value == report.column("age").effect
    assert results[0].details["test"] == "ks"
    assert isinstance(report, DriftReport) and isinstance(report.columns[0], ColumnDrift)
    assert DriftReport(1, 1, report.columns, dataset_threshold=0.3).dataset_drift


@settings(max_examples=30, deadline=None)
@given(
    st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=300),
    st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=300),
)
def test_identical_inputs_never_drift(xs: list[float], cs: list[str]) -> None:
    numeric = ("ks", "wasserstein", "anderson", "psi", "js", "hellinger")
    categorical = ("chi2", "psi", "js", "hellinger")
    data = {f"x_{t}": xs for t in numeric}
    tests = {f"x_{t}": t for t in numeric}
    data.update({f"c_{t}": pa.array(cs, pa.string()) for t in categorical})
    tests.update({f"c_{t}": t for t in categorical})
    for part in ([k for k in data if k.startswith("x_")], [k for k in data if k.startswith("c_")]):
        one = {k: data[k] for k in part}
        report = drift(one, one, tests={k: tests[k] for k in part})
        assert report.drifted_columns == ()
        for col in report.columns:
            assert col.effect == 0.0
            assert col.p_value is not None and col.p_value > 0.2
