"""Plain Python functions as models: table, NumPy or pandas input, checked output length."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from mlaudit.errors import InputError
from mlaudit.models import CallableModel, load


def _rule(table: pa.Table) -> pa.Array:
    return pc.greater(table["age"], 40)


def test_function_on_a_table() -> None:
    model = load(_rule, feature_names=["age"], classes=[False, True])
    assert isinstance(model, CallableModel) and model.framework == "callable"
    assert model.predict({"age": [30, 50], "other": ["a", "b"]}).tolist() == [False, True]
    assert model.task == "binary" and not model.supports_proba
    assert model.predict_proba({"age": [1]}) is None


def test_numpy_input_and_binary_proba() -> None:
    def score(x: np.ndarray) -> np.ndarray:
        return 1 / (1 + np.exp(-x[:, 0]))

    model = CallableModel(
        lambda x: (score(x) > 0.5).astype(int), proba=score, input="numpy", feature_names=("z",)
    )
    proba = model.predict_proba({"z": [0.0, 100.0]})
    assert proba is not None
    np.testing.assert_allclose(proba, [[0.5, 0.5], [0.0, 1.0]])


def test_pandas_input() -> None:
    model = CallableModel(lambda df: df["a"] + df["b"], input="pandas")
    assert model.predict({"a": [1, 2], "b": [3, 4]}).tolist() == [4, 6]


def test_wrong_length_and_missing_columns() -> None:
    model = CallableModel(lambda t: [1], feature_names=("a",))
    with pytest.raises(InputError, match="the callable model returned 1 predictions for 3 rows"):
        model.predict({"a": [1, 2, 3]})
    with pytest.raises(InputError, match="lacks 1 of the model's 1 features: 'a'"):
        model.predict({"b": [1]})


def test_fingerprint_follows_the_source() -> None:
    first = CallableModel(_rule)
    assert first.fingerprint == CallableModel(_rule).fingerprint
    assert first.fingerprint != CallableModel(lambda t: t["age"]).fingerprint
    assert first.fingerprint.startswith("sha256:")


def test_bad_arguments() -> None:
    with pytest.raises(InputError, match="not callable"):
        CallableModel(3)  # type: ignore[arg-type]
    with pytest.raises(InputError, match="unknown input kind"):
        CallableModel(_rule, input="torch")  # type: ignore[arg-type]
