"""PyTorch adapter: tiny modules trained here, TorchScript files without pickle, pickles only if trusted."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from mlaudit.errors import InputError
from mlaudit.models import TorchModel, load

torch = pytest.importorskip("torch")


def _train(x: np.ndarray, y: np.ndarray, outputs: int) -> torch.nn.Module:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(x.shape[1], 8), torch.nn.ReLU(), torch.nn.Linear(8, outputs))
    opt = torch.optim.Adam(net.parameters(), lr=0.05)
    xt = torch.from_numpy(x.astype(np.float32))
    if outputs == 1:
        yt, loss_fn = torch.from_numpy(y.astype(np.float32)).reshape(-1, 1), torch.nn.BCEWithLogitsLoss()
    else:
        yt, loss_fn = torch.from_numpy(y.astype(np.int64)), torch.nn.CrossEntropyLoss()
    for _ in range(60):
        opt.zero_grad()
        loss_fn(net(xt), yt).backward()
        opt.step()
    return net.eval()


def _matrix(table: pa.Table) -> np.ndarray:
    return np.column_stack([c.to_numpy() for c in table.columns])


def test_binary_module_in_memory(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    x = _matrix(table)
    net = _train(x, y, 1)
    model = load(net, task="binary", feature_names=["age", "income", "score"])
    assert isinstance(model, TorchModel) and model.framework == "torch"
    assert model.classes == (0, 1) and model.supports_proba
    with torch.no_grad():
        p = torch.sigmoid(net(torch.from_numpy(x.astype(np.float32)))).numpy().ravel()
    proba = model.predict_proba(table.append_column("id", pa.array(range(300))))
    assert proba is not None
    np.testing.assert_allclose(proba[:, 1], p, rtol=1e-6)
    pred = model.predict(table)
    np.testing.assert_array_equal(pred, (p > 0.5).astype(int))
    assert (pred == y).mean() > 0.9  # it did learn
    with pytest.raises(InputError, match="lacks 1 of the model's 3 features: 'score'"):
        model.predict(table.drop_columns(["score"]))


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:DeprecationWarning")
def test_multiclass_torchscript_file(tmp_path: Path, multiclass_data: tuple[pa.Table, np.ndarray]) -> None:
    table, labels = multiclass_data
    classes = ("high", "low", "mid")
    y = np.searchsorted(classes, labels)
    net = _train(_matrix(table), y, 3)
    path = tmp_path / "net.pt"
    torch.jit.script(net).save(str(path))
    model = load(path, classes=classes, feature_names=("a", "b"))  # no trust_pickle needed
    assert model.fingerprint == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    assert model.task == "multiclass"
    proba = model.predict_proba(table)
    assert proba is not None and proba.shape == (300, 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-6)
    pred = model.predict(table)
    assert set(pred.tolist()) <= set(classes)
    assert (pred == labels).mean() > 0.8


def test_regression_and_fingerprint(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, _ = binary_data
    torch.manual_seed(1)
    net = torch.nn.Linear(3, 1)
    model = TorchModel(net, task="regression", batch_size=64)
    assert not model.supports_proba and model.predict_proba(table) is None
    with torch.no_grad():
        expected = net(torch.from_numpy(_matrix(table).astype(np.float32))).numpy().ravel()
    np.testing.assert_allclose(model.predict(table), expected, rtol=1e-6)  # 5 batches joined in order
    assert model.fingerprint == TorchModel(net).fingerprint
    with torch.no_grad():
        net.bias += 1.0
    assert model.fingerprint != TorchModel(net).fingerprint


def test_pickled_module_needs_trust(tmp_path: Path) -> None:
    path = tmp_path / "whole.pth"
    torch.save(torch.nn.Linear(2, 1), path)
    with pytest.raises(InputError, match="trust_pickle=True") as info:
        load(path)
    assert info.value.path == str(path)
    model = load(path, trust_pickle=True, task="regression")
    assert model.predict({"x": [1.0, 2.0], "z": [0.0, 1.0]}).shape == (2,)
    weights = tmp_path / "weights.pt"
    torch.save(torch.nn.Linear(2, 1).state_dict(), weights)
    with pytest.raises(InputError, match="state_dict has no architecture"):
        load(weights, trust_pickle=True)


def test_wrong_width_is_an_input_error() -> None:
    model = TorchModel(torch.nn.Linear(3, 1), task="regression")
    with pytest.raises(InputError, match="could not run on this data"):
        model.predict({"a": [1.0], "b": [2.0]})
    with pytest.raises(InputError, match="numbers only"):
        model.predict({"a": ["x"], "b": ["y"], "c": ["z"]})
