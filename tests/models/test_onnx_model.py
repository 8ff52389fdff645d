"""ONNX adapter: tiny sklearn models converted with skl2onnx, run on onnxruntime, no pickle."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest
from sklearn.linear_model import LinearRegression, LogisticRegression

from mlaudit.errors import InputError
from mlaudit.models import OnnxModel, load

pytest.importorskip("onnxruntime")
skl2onnx = pytest.importorskip("skl2onnx")
from skl2onnx.common.data_types import FloatTensorType  # noqa: E402


def _matrix(table: pa.Table) -> np.ndarray:
    return np.column_stack([c.to_numpy() for c in table.columns])


def _to_onnx(est: object, n: int, **kwargs: object) -> bytes:
    onx = skl2onnx.convert_sklearn(est, initial_types=[("input", FloatTensorType([None, n]))], **kwargs)
    return bytes(onx.SerializeToString())


@pytest.mark.parametrize("zipmap", [True, False])
def test_classifier_file(tmp_path: Path, binary_data: tuple[pa.Table, np.ndarray], zipmap: bool) -> None:
    table, y = binary_data
    x = _matrix(table)
    est = LogisticRegression().fit(x, y)
    options = None if zipmap else {id(est): {"zipmap": False}}
    path = tmp_path / "model.onnx"
    path.write_bytes(_to_onnx(est, 3, options=options))
    model = load(path, feature_names=["age", "income", "score"])
    assert model.framework == "onnx"
    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.classes == (0, 1) and model.task == "binary"
    assert model.feature_names == ("age", "income", "score")
    data = table.select(["score", "income", "age"])  # reordered by name
    np.testing.assert_array_equal(model.predict(data), est.predict(x))
    proba = model.predict_proba(data)
    assert proba is not None
    np.testing.assert_allclose(proba, est.predict_proba(x), atol=1e-5)  # float32 inside ONNX


def test_string_classes_and_positional_features(multiclass_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = multiclass_data
    x = _matrix(table)
    est = LogisticRegression(max_iter=500).fit(x, y)
    model = load(_to_onnx(est, 2))  # bytes, no feature names: columns are taken in order
    assert model.feature_names is None
    assert model.classes == ("high", "low", "mid") and model.task == "multiclass"
    np.testing.assert_array_equal(model.predict(x), est.predict(x))
    np.testing.assert_array_equal(model.predict(table), est.predict(x))
    with pytest.raises(InputError, match="the data has 3 columns but the model takes 2 features"):
        model.predict(np.ones((4, 3)))


def test_regressor(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    x = _matrix(table)
    est = LinearRegression().fit(x, y.astype(float))
    model = OnnxModel(_to_onnx(est, 3), feature_names=("age", "income", "score"))
    assert model.task == "regression" and not model.supports_proba
    assert model.predict_proba(table) is None
    pred = model.predict(table)
    assert pred.shape == (300,)
    np.testing.assert_allclose(pred, est.predict(x), atol=1e-4)
    with pytest.raises(InputError, match="lacks 1 of the model's 3 features: 'score'"):
        model.predict(table.drop_columns(["score"]))


def test_one_input_per_feature(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    x = _matrix(table)
    from sklearn.compose import ColumnTransformer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    frame = table.to_pandas()
    pipe = make_pipeline(
        ColumnTransformer([("s", StandardScaler(), ["age", "income", "score"])]), LogisticRegression()
    ).fit(frame, y)
    types = [(name, FloatTensorType([None, 1])) for name in ("age", "income", "score")]
    onx = skl2onnx.convert_sklearn(pipe, initial_types=types, options={id(pipe): {"zipmap": False}})
    model = load(bytes(onx.SerializeToString()))
    assert model.feature_names == ("age", "income", "score")
    np.testing.assert_array_equal(model.predict(table), est_predict := pipe.predict(frame))
    assert est_predict.shape == (300,) and x.shape == (300, 3)


def test_bad_files(tmp_path: Path) -> None:
    junk = tmp_path / "junk.onnx"
    junk.write_bytes(b"this is not a protobuf")
    with pytest.raises(InputError, match="not a valid ONNX model") as info:
        load(junk)
    assert info.value.path == str(junk)
    with pytest.raises(InputError, match="no such model file"):
        load(tmp_path / "missing.onnx")
