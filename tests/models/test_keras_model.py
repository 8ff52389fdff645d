"""Keras 3 adapter: tiny models trained here on the torch backend, saved as .keras, loaded safely."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import numpy as np
import orjson
import pyarrow as pa
import pytest

import mlaudit
from mlaudit.cli import main
from mlaudit.errors import InputError
from mlaudit.models import KerasModel, load

os.environ.setdefault("KERAS_BACKEND", "torch")
keras = pytest.importorskip(
    "keras", reason="Keras models need the keras extra (pip install 'mlaudit[keras]')"
)

FEATURES = ["age", "income", "score"]

# keras' torch backend converts tensors with np.array(x) without copy=: NumPy 2 warns, harmlessly
pytestmark = pytest.mark.filterwarnings(
    "ignore:__array__ implementation doesn't accept a copy:DeprecationWarning"
)


def _matrix(table: pa.Table, names: list[str]) -> np.ndarray:
    return np.column_stack([table.column(n).to_numpy() for n in names]).astype(np.float32)


def _fit(model: keras.Model, x: np.ndarray, y: np.ndarray, loss: str) -> keras.Model:
    keras.utils.set_random_seed(0)
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss=loss)
    model.fit(x, y, epochs=3, batch_size=16, verbose=0)  # keras costs ~0.1 s per epoch: few, small batches
    return model


@pytest.fixture(scope="module")
def binary_file(tmp_path_factory: pytest.TempPathFactory, binary_data: tuple[pa.Table, np.ndarray]) -> Path:
    table, y = binary_data
    keras.utils.set_random_seed(0)
    net = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(8, activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    _fit(net, _matrix(table, FEATURES), y.astype(np.float32), "binary_crossentropy")
    path = tmp_path_factory.mktemp("keras") / "binary.keras"
    net.save(path)
    return path


def test_binary_classifier_file(binary_file: Path, binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    model = load(binary_file, feature_names=FEATURES)
    assert isinstance(model, KerasModel) and model.framework == "keras"
    assert model.task == "binary" and model.classes == (0, 1) and model.supports_proba
    assert model.feature_names == tuple(FEATURES)
    assert model.fingerprint == "sha256:" + hashlib.sha256(binary_file.read_bytes()).hexdigest()
    reference = keras.saving.load_model(binary_file)
    p = reference.predict(_matrix(table, FEATURES), verbose=0).ravel()
    shuffled = table.select(["score", "age", "income"]).append_column("id", pa.array(range(300)))
    proba = model.predict_proba(shuffled)  # columns are picked by name, extra ones ignored
    assert proba is not None and proba.shape == (300, 2)
    np.testing.assert_allclose(proba[:, 1], p, atol=1e-6)
    np.testing.assert_allclose(proba[:, 0], 1.0 - p, atol=1e-6)
    pred = model.predict(table)
    np.testing.assert_array_equal(pred, (p > 0.5).astype(int))
    assert (pred == y).mean() > 0.9  # it did learn
    with pytest.raises(InputError, match="lacks 1 of the model's 3 features: 'score'"):
        model.predict(table.drop_columns(["score"]))
    with pytest.raises(InputError, match="2 feature names given but the Keras model takes 3"):
        load(binary_file, feature_names=["age", "income"])


def test_multiclass_and_regression(tmp_path: Path, multiclass_data: tuple[pa.Table, np.ndarray]) -> None:
    table, labels = multiclass_data
    classes = ("high", "low", "mid")
    x = _matrix(table, ["a", "b"])
    keras.utils.set_random_seed(1)
    inputs = keras.Input((2,))
    hidden = keras.layers.Dense(8, activation="relu")(inputs)
    net = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(hidden))  # functional API
    _fit(net, x, np.searchsorted(classes, labels), "sparse_categorical_crossentropy")
    path = tmp_path / "multi.keras"
    net.save(path)
    model = load(path, feature_names=["a", "b"], classes=classes)
    assert model.task == "multiclass" and model.classes == classes
    proba = model.predict_proba(table)
    assert proba is not None
    np.testing.assert_allclose(proba, net.predict(x, verbose=0), atol=1e-6)
    pred = model.predict(table)
    assert (pred == labels).mean() > 0.8
    assert load(path).classes == (0, 1, 2)  # no classes given: the output positions

    rng = np.random.default_rng(3)
    xr = rng.normal(size=(200, 2)).astype(np.float32)
    yr = 2 * xr[:, 0] - xr[:, 1]
    keras.utils.set_random_seed(2)
    reg = keras.Sequential(
        [keras.Input((2,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    _fit(reg, xr, yr, "mse")
    reg_path = tmp_path / "reg.keras"
    reg.save(reg_path)
    regressor = load(reg_path, feature_names=["a", "b"])
    assert regressor.task == "regression" and not regressor.supports_proba
    assert regressor.predict_proba({"a": [0.0], "b": [0.0]}) is None
    got = regressor.predict({"a": xr[:, 0], "b": xr[:, 1]})
    assert got.shape == (200,)
    np.testing.assert_allclose(got, reg.predict(xr, verbose=0).ravel(), atol=1e-6)
    assert np.corrcoef(got, yr)[0, 1] > 0.9
    forced = load(reg_path, task="binary")  # a linear output read as a logit
    assert forced.classes == (0, 1)
    p = forced.predict_proba(xr[:5])
    assert p is not None
    np.testing.assert_allclose(p[:, 1], 1 / (1 + np.exp(-reg.predict(xr[:5], verbose=0).ravel())), atol=1e-6)


def test_in_memory_model_and_fingerprint() -> None:
    keras.utils.set_random_seed(4)
    net = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model = load(net, feature_names=FEATURES)  # a keras.Model is a torch nn.Module too: keras wins
    assert isinstance(model, KerasModel) and model.task == "binary"
    assert model.fingerprint == KerasModel(net).fingerprint
    kernel, bias = net.layers[-1].get_weights()
    net.layers[-1].set_weights([kernel, bias + 1.0])
    assert model.fingerprint != KerasModel(net).fingerprint
    with pytest.raises(InputError, match="numbers only"):
        model.predict({"age": ["x"], "income": ["y"], "score": ["z"]})
    with pytest.raises(InputError, match="has 2 columns but the model takes 3"):
        KerasModel(net).predict(np.zeros((2, 2)))


def test_lambda_layer_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    net = keras.Sequential([keras.Input((2,)), keras.layers.Lambda(lambda t: t * 2.0), keras.layers.Dense(1)])
    path = tmp_path / "lambda.keras"
    net.save(path)
    with pytest.raises(InputError, match="safe mode") as info:
        load(path)
    assert info.value.exit_code == 2 and info.value.path == str(path)
    assert info.value.hint is not None and "Lambda" in info.value.hint
    broken = tmp_path / "broken.keras"
    broken.write_bytes(b"not a zip")
    with pytest.raises(InputError, match="not a Keras 3 model file"):
        load(broken)
    ws = mlaudit.open(tmp_path / "ws")
    where = ws.location
    ws.close()
    assert main(["model", "register", "lam", str(path), "-w", where]) == 2
    assert "safe mode" in capsys.readouterr().err


def test_register_through_cli(
    tmp_path: Path,
    binary_file: Path,
    binary_data: tuple[pa.Table, np.ndarray],
    capsys: pytest.CaptureFixture[str],
) -> None:
    table, _ = binary_data
    ws = mlaudit.open(tmp_path / "ws")
    where = ws.location
    ws.close()
    argv = ["model", "register", "churn", str(binary_file), "--features", "age,income,score", "-w", where]
    assert main([*argv, "--json"]) == 0
    doc = orjson.loads(capsys.readouterr().out)
    assert doc["created"] is True and doc["ref"] == "churn@v1"
    assert doc["framework"] == "keras" and doc["task"] == "binary" and doc["classes"] == [0, 1]
    assert doc["features"] == FEATURES
    assert doc["fingerprint"] == "sha256:" + hashlib.sha256(binary_file.read_bytes()).hexdigest()
    with mlaudit.open(where) as ws:
        again = ws.models.register("churn", binary_file)
        assert not again.created
        loaded = ws.models.load("churn@v1", feature_names=FEATURES)  # stored bytes, loaded as .keras
        direct = load(binary_file, feature_names=FEATURES)
        np.testing.assert_array_equal(loaded.predict_proba(table), direct.predict_proba(table))
