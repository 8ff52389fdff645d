"""LightGBM through its scikit-learn API: same adapter, its own framework name and fingerprint."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlaudit.models import load

lightgbm = pytest.importorskip("lightgbm")


def _fit(table: pa.Table, y: np.ndarray, n_estimators: int = 10) -> object:
    est = lightgbm.LGBMClassifier(n_estimators=n_estimators, num_leaves=4, min_child_samples=5, verbose=-1)
    return est.fit(table.to_pandas(), y)


def test_lgbm_classifier(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    est = _fit(table, y)
    model = load(est)
    assert model.framework == "lightgbm"
    assert model.task == "binary" and model.classes == (0, 1)
    assert model.feature_names == ("age", "income", "score")
    frame = table.to_pandas()
    np.testing.assert_array_equal(model.predict(table), est.predict(frame))  # type: ignore[attr-defined]
    proba = model.predict_proba(table)
    assert proba is not None
    np.testing.assert_allclose(proba, est.predict_proba(frame))  # type: ignore[attr-defined]


def test_lgbm_fingerprint_follows_the_trees(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    first, again, bigger = load(_fit(table, y)), load(_fit(table, y)), load(_fit(table, y, 20))
    assert first.fingerprint_basis == "state"  # type: ignore[attr-defined]
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != bigger.fingerprint
