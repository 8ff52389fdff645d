"""Multivariate drift: a correlation flip that no single column shows."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from mlaudit.stats.drift import drift


def _pairs(seed: int, n: int, rho: float) -> pa.Table:
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 2))
    b = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    return pa.table({"a": z[:, 0], "b": b, "c": rng.choice(np.array(["x", "y"]), size=n)})


def test_correlation_flip_is_found_by_both_multivariate_checks_only() -> None:
    ref = _pairs(0, 20_000, 0.9)
    flipped = drift(ref, _pairs(1, 20_000, -0.9), multivariate=True)
    assert flipped.drifted_columns == ()  # the marginals did not move
    assert flipped.multivariate is not None
    assert flipped.multivariate["domain_classifier"]["drifted"]
    assert flipped.multivariate["domain_classifier"]["auc"] > 0.8
    assert flipped.multivariate["pca"]["drifted"]
    assert flipped.multivariate["pca"]["ratio"] > 5
    assert "multivariate" in flipped.to_dict()


def test_same_distribution_is_clean_for_multivariate_checks() -> None:
    report = drift(_pairs(0, 20_000, 0.9), _pairs(2, 20_000, 0.9), multivariate=True)
    assert report.multivariate is not None
    dc, pca = report.multivariate["domain_classifier"], report.multivariate["pca"]
    assert not dc["drifted"] and abs(dc["auc"] - 0.5) < 0.03
    assert not pca["drifted"] and 0.9 < pca["ratio"] < 1.1


def test_multivariate_without_numeric_columns_is_skipped_not_crashed() -> None:
    cats = {"c": ["a", "b"] * 50}
    report = drift(cats, cats, multivariate=True)
    assert report.multivariate is not None
    assert "skipped" in report.multivariate["pca"]
    assert report.multivariate["pca"]["drifted"] is False
