"""XGBoost through its scikit-learn API (xgboost-cpu wheel): same adapter, booster-based fingerprint."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from mlaudit.models import load

xgboost = pytest.importorskip("xgboost")


def _fit(table: pa.Table, y: np.ndarray, n_estimators: int = 5) -> object:
    est = xgboost.XGBClassifier(n_estimators=n_estimators, max_depth=2, n_jobs=1)
    return est.fit(table.to_pandas(), y)


def test_xgb_classifier(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    est = _fit(table, y)
    model = load(est)
    assert model.framework == "xgboost"
    assert model.task == "binary" and model.classes == (0, 1)
    assert model.feature_names == ("age", "income", "score")
    frame = table.to_pandas()
    np.testing.assert_array_equal(model.predict(table), est.predict(frame))  # type: ignore[attr-defined]
    proba = model.predict_proba(table)
    assert proba is not None
    np.testing.assert_allclose(proba, est.predict_proba(frame))  # type: ignore[attr-defined]


def test_xgb_fingerprint_follows_the_trees(binary_data: tuple[pa.Table, np.ndarray]) -> None:
    table, y = binary_data
    first, again, bigger = load(_fit(table, y)), load(_fit(table, y)), load(_fit(table, y, 10))
    assert first.fingerprint_basis == "state"  # type: ignore[attr-defined]
    assert first.fingerprint == again.fingerprint
    assert first.fingerprint != bigger.fingerprint
