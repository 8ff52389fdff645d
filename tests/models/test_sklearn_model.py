"""scikit-learn adapter: real estimators and pipelines trained here, pickles only when trusted."""

from __future__ import annotations

import pickle
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.linear_model import LinearRegression, LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler
from sklearn.svm import SVC
from sklearn.tree import DecisionTreeClassifier

from mlaudit.errors import InputError
from mlaudit.models import Model, SklearnModel, load


def test_logistic_regression_on_a_dataframe(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    est = LogisticRegression().fit(table.to_pandas(), y)
    model = load(est)
    assert isinstance(model, Model)
    assert model.framework == "sklearn"
    assert model.feature_names == ("age", "income", "score")
    assert model.classes == (0, 1)
    assert model.task == "binary"
    assert model.supports_proba
    # extra and reordered columns are fine: features are picked by name
    shuffled = table.select(["score", "age", "income"]).append_column("id", pa.array(range(300)))
    np.testing.assert_array_equal(model.predict(shuffled), est.predict(table.to_pandas()))
    proba = model.predict_proba(shuffled)
    assert proba is not None
    np.testing.assert_allclose(proba, est.predict_proba(table.to_pandas()))


def test_missing_features_are_named(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    model = load(LogisticRegression().fit(table.to_pandas(), y))
    with pytest.raises(InputError, match=r"lacks 2 of the model's 3 features: 'income', 'score'") as info:
        model.predict(table.select(["age"]))
    assert info.value.column == "income"


def test_estimator_fitted_on_numpy_checks_width(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    x = np.column_stack([c.to_numpy() for c in table.columns])
    est = DecisionTreeClassifier(max_depth=3, random_state=0).fit(x, y)
    model = load(est)
    assert model.feature_names is None
    np.testing.assert_array_equal(model.predict(x), est.predict(x))
    np.testing.assert_array_equal(model.predict(table), est.predict(x))
    with pytest.raises(InputError, match="the data has 2 columns but the model takes 3 features"):
        model.predict(x[:, :2])


def test_pipeline_with_strings_and_multiclass(multiclass_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = multiclass_data
    frame = table.to_pandas()
    frame["city"] = np.where(frame["b"] > 0, "Paris", "Lyon")
    pipe = make_pipeline(
        ColumnTransformer([("num", StandardScaler(), ["a", "b"]), ("cat", OneHotEncoder(), ["city"])]),
        LogisticRegression(max_iter=500),
    ).fit(frame, y)
    model = load(pipe)
    assert model.task == "multiclass"
    assert model.classes == ("high", "low", "mid")
    assert model.feature_names == ("a", "b", "city")
    data = pa.Table.from_pandas(frame, preserve_index=False)
    np.testing.assert_array_equal(model.predict(data), pipe.predict(frame))
    proba = model.predict_proba(data)
    assert proba is not None and proba.shape == (300, 3)


def test_regression_and_no_proba(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    reg = load(LinearRegression().fit(table.to_pandas(), y.astype(float)))
    assert reg.task == "regression" and reg.classes is None
    assert not reg.supports_proba and reg.predict_proba(table) is None
    svc = load(SVC().fit(table.to_pandas(), y))  # SVC without probability=True has no predict_proba
    assert svc.task == "binary" and svc.predict_proba(table) is None


def test_wrong_types_give_input_error(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    model = load(LogisticRegression().fit(table.to_pandas(), y))
    bad = table.set_column(0, "age", pa.array(["old"] * 300))
    with pytest.raises(InputError, match="could not predict this data"):
        model.predict(bad)


def test_in_memory_fingerprint_is_stable_and_content_based(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    a = SklearnModel(LogisticRegression().fit(table.to_pandas(), y))
    b = SklearnModel(LogisticRegression().fit(table.to_pandas(), y))
    c = SklearnModel(LogisticRegression(C=0.01).fit(table.to_pandas(), y))
    d = SklearnModel(pickle.loads(pickle.dumps(a.estimator)))
    assert a.fingerprint_basis == "state"
    assert a.fingerprint.startswith("sha256:") and len(a.fingerprint) == 71
    assert a.fingerprint == b.fingerprint == d.fingerprint
    assert a.fingerprint != c.fingerprint


def test_pickle_fallback_fingerprint(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    est = LogisticRegression().fit(table.to_pandas(), y)
    est.extra_ = pd.Series([1, 2])  # something the state walk does not know
    model = SklearnModel(est)
    assert model.fingerprint_basis == "pickle"
    assert model.fingerprint.startswith("sha256:")


@pytest.mark.parametrize("suffix", [".pkl", ".joblib", ".bin"])
def test_pickle_files_need_trust(
    tmp_path: Path, suffix: str, binary_data: tuple[pa.Table, np.ndarray]
) -> None:
    table, y = binary_data
    est = LogisticRegression().fit(table.to_pandas(), y)
    path = tmp_path / f"model{suffix}"
    if suffix == ".joblib":
        joblib.dump(est, path)
    else:
        path.write_bytes(pickle.dumps(est))
    with pytest.raises(InputError, match="--trust-pickle") as info:
        load(path)
    assert "ONNX" in str(info.value) and info.value.path == str(path)
    model = load(path, trust_pickle=True)
    assert model.fingerprint_basis == "file"  # type: ignore[attr-defined]
    import hashlib

    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    np.testing.assert_array_equal(model.predict(table), est.predict(table.to_pandas()))


def test_pickle_refused_before_reading(tmp_path: Path) -> None:
    path = tmp_path / "evil.pkl"
    path.write_bytes(b"\x80\x04not really a pickle")
    with pytest.raises(InputError, match="trust_pickle=True"):
        load(path)
    with pytest.raises(InputError, match="cannot unpickle the model"):
        load(path, trust_pickle=True)


def test_object_without_predict_is_refused() -> None:
    with pytest.raises(InputError, match="has no predict method"):
        load(object())
