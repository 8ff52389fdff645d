"""Tiny data sets the model tests train on (fast: a few hundred rows)."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest


@pytest.fixture(scope="session")
def binary_data() -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(7)
    x = rng.normal(size=(300, 3))
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64)
    table = pa.table({"age": x[:, 0], "income": x[:, 1], "score": x[:, 2]})
    return table, y


@pytest.fixture(scope="session")
def multiclass_data() -> tuple[pa.Table, np.ndarray]:
    rng = np.random.default_rng(11)
    x = rng.normal(size=(300, 2))
    y = np.where(x[:, 0] > 0.5, "high", np.where(x[:, 0] < -0.5, "low", "mid"))
    return pa.table({"a": x[:, 0], "b": x[:, 1]}), y
