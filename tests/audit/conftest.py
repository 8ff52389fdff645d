"""Generated data and tiny real models for audit tests."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pytest
from audit_data import make_table
from sklearn.linear_model import LogisticRegression

from mlaudit.models import load


@pytest.fixture(scope="session")
def tables() -> dict[str, pa.Table]:
    return {
        "train": make_table(3000, seed=1),
        "reference": make_table(3000, seed=2),
        "current": make_table(3000, seed=3),
        "drifted": make_table(3000, seed=4, shift=1.0),
    }


@pytest.fixture(scope="session")
def fit() -> Callable[..., object]:
    def _fit(table: pa.Table, features: list[str], estimator: object | None = None) -> object:
        est = estimator if estimator is not None else LogisticRegression()
        x = np.column_stack([table.column(f).to_numpy() for f in features])
        est.fit(x, table.column("y").to_numpy())  # type: ignore[attr-defined]
        return load(est, feature_names=features)

    return _fit
