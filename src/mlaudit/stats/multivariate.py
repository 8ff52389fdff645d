"""Multivariate drift: changes that no single column shows.

Two checks, both fitted on a capped random sample of the reference (:data:`SAMPLE_ROWS`):

- **Domain classifier.** Reference rows are labelled 0 and current rows 1 (equal capped
  samples) and a ``HistGradientBoostingClassifier`` tries to tell them apart; its
  5-fold cross-validated ROC AUC is 0.5 when it cannot. Drift when AUC > :data:`AUC_THRESHOLD`
  (0.55: with 5,000 rows a side, the cross-validated AUC of identical data stays within about
  ±0.02 of 0.5, while 0.55 means the model ranks a current row above a reference row 55 % of
  the time — a change worth a look). Numeric columns go in as they are (NaN allowed),
  categorical ones as reference category codes (unseen = one extra code).
- **PCA reconstruction error.** Numeric columns are standardised with reference means/sds
  (NaN → reference median), a PCA keeping 90 % of the variance is fitted on half of the
  reference sample and scored on the other half. Drift when the current mean squared
  reconstruction error exceeds the reference one by more than :data:`PCA_RATIO_THRESHOLD`
  (10 %) and a Welch test says the increase is significant at ``alpha``.

>>> import numpy as np, pyarrow as pa
>>> rng = np.random.default_rng(0)
>>> t = pa.table({"a": rng.normal(size=2000), "b": rng.normal(size=2000)})
>>> state = fit_multivariate(t, {"a": "numeric", "b": "numeric"})
>>> compare_multivariate(state, t)["domain_classifier"]["drifted"]
False
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa
from scipy import stats

from mlaudit.stats.kinds import ColumnKind, numeric_values

__all__ = [
    "AUC_THRESHOLD",
    "PCA_RATIO_THRESHOLD",
    "SAMPLE_ROWS",
    "MultivariateReference",
    "compare_multivariate",
    "fit_multivariate",
]

SAMPLE_ROWS = 5_000
AUC_THRESHOLD = 0.55
PCA_RATIO_THRESHOLD = 1.1
PCA_VARIANCE = 0.9
FOLDS = 5
MAX_CATEGORIES = 250
_SEED = 0


@dataclass(frozen=True, eq=False)
class MultivariateReference:
    """Fitted multivariate state: encoded reference sample and the PCA model."""

    numeric: tuple[str, ...]
    kinds: dict[str, ColumnKind]
    categorical: tuple[str, ...]
    categories: dict[str, dict[str, int]]
    sample: np.ndarray  # rows × (numeric + categorical codes), NaN for missing
    mean: np.ndarray
    std: np.ndarray
    median: np.ndarray
    pca: Any  # sklearn PCA or None
    reference_errors: np.ndarray
    alpha: float


def fit_multivariate(
    table: pa.Table, kinds: Mapping[str, ColumnKind], *, alpha: float = 0.05
) -> MultivariateReference:
    """Fit the domain-classifier sample and the PCA model on a capped reference sample."""
    numeric = tuple(n for n in table.column_names if kinds[n] in ("numeric", "datetime", "boolean"))
    categorical = tuple(n for n in table.column_names if kinds[n] == "categorical")
    rows = _sample_rows(table.num_rows)
    part = table.take(pa.array(rows, pa.int64())) if rows.size < table.num_rows else table
    categories: dict[str, dict[str, int]] = {}
    for name in categorical:
        values = part.column(name).to_pylist()
        categories[name] = {v: i for i, v in enumerate(sorted({str(v) for v in values if v is not None}))}
    sample = _encode(part, numeric, kinds, categorical, categories)
    x = sample[:, : len(numeric)]
    with np.errstate(all="ignore"):
        mean = np.nanmean(x, axis=0) if x.size else np.zeros(0)
        std = np.nanstd(x, axis=0) if x.size else np.zeros(0)
        median = np.nanmedian(x, axis=0) if x.size else np.zeros(0)
    mean, median = np.nan_to_num(mean), np.nan_to_num(median)
    std = np.where(np.isfinite(std) & (std > 0), std, 1.0)
    pca, errors = None, np.zeros(0)
    if len(numeric) >= 2 and x.shape[0] >= 20:
        from sklearn.decomposition import PCA

        z = _standardise(x, mean, std, median)
        half = z.shape[0] // 2
        pca = PCA(n_components=PCA_VARIANCE, svd_solver="full", random_state=_SEED).fit(z[:half])
        errors = _reconstruction_errors(pca, z[half:])
    return MultivariateReference(
        numeric,
        {n: kinds[n] for n in numeric},
        categorical,
        categories,
        sample,
        mean,
        std,
        median,
        pca,
        errors,
        alpha,
    )


def compare_multivariate(ref: MultivariateReference, table: pa.Table) -> dict[str, Any]:
    """Run the domain classifier and the PCA check on ``table`` (same columns as fitted)."""
    rows = _sample_rows(table.num_rows)
    part = table.take(pa.array(rows, pa.int64())) if rows.size < table.num_rows else table
    cur = _encode(part, ref.numeric, ref.kinds, ref.categorical, ref.categories)
    return {"domain_classifier": _domain_classifier(ref, cur), "pca": _pca(ref, cur)}


def _domain_classifier(ref: MultivariateReference, cur: np.ndarray) -> dict[str, Any]:
    if ref.sample.shape[1] == 0 or min(ref.sample.shape[0], cur.shape[0]) < 2 * FOLDS:
        return {"skipped": "too few rows or columns for a domain classifier", "drifted": False}
    from sklearn.ensemble import HistGradientBoostingClassifier
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from threadpoolctl import threadpool_limits

    n = min(ref.sample.shape[0], cur.shape[0])
    x = np.vstack((ref.sample[:n], cur[:n]))
    y = np.concatenate((np.zeros(n), np.ones(n)))
    # HistGradientBoosting takes at most 255 categories; wider columns go in as codes
    wide = [len(ref.categories[c]) >= MAX_CATEGORIES for c in ref.categorical]
    mask = np.array([False] * len(ref.numeric) + [not w for w in wide], dtype=bool)
    model = HistGradientBoostingClassifier(
        max_iter=50, categorical_features=mask if mask.any() else None, random_state=_SEED
    )
    cv = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=_SEED)
    with threadpool_limits(1):  # OpenMP threads thrash on a busy machine; one is steadier
        scores = cross_val_score(model, x, y, cv=cv, scoring="roc_auc")
    auc = float(scores.mean())
    return {
        "auc": auc,
        "auc_std": float(scores.std()),
        "threshold": AUC_THRESHOLD,
        "drifted": auc > AUC_THRESHOLD,
        "model": "HistGradientBoostingClassifier",
        "folds": FOLDS,
        "rows_per_side": n,
    }


def _pca(ref: MultivariateReference, cur: np.ndarray) -> dict[str, Any]:
    if ref.pca is None or cur.shape[0] < 2:
        return {"skipped": "needs at least two numeric columns and 20 rows", "drifted": False}
    z = _standardise(cur[:, : len(ref.numeric)], ref.mean, ref.std, ref.median)
    errors = _reconstruction_errors(ref.pca, z)
    r_mean, c_mean = float(ref.reference_errors.mean()), float(errors.mean())
    ratio = c_mean / r_mean if r_mean > 0 else (math.inf if c_mean > 0 else 1.0)
    p = float(stats.ttest_ind(errors, ref.reference_errors, equal_var=False, alternative="greater").pvalue)
    p = 1.0 if not math.isfinite(p) else p
    return {
        "components": int(ref.pca.n_components_),
        "explained_variance": float(ref.pca.explained_variance_ratio_.sum()),
        "reference_error": r_mean,
        "current_error": c_mean,
        "ratio": ratio if math.isfinite(ratio) else None,
        "threshold": PCA_RATIO_THRESHOLD,
        "p_value": p,
        "drifted": bool(ratio > PCA_RATIO_THRESHOLD and p < ref.alpha),
    }


def _sample_rows(n: int) -> np.ndarray:
    if n <= SAMPLE_ROWS:
        return np.arange(n)
    rng = np.random.default_rng(_SEED)
    return np.sort(rng.choice(n, size=SAMPLE_ROWS, replace=False))


def _encode(
    table: pa.Table,
    numeric: tuple[str, ...],
    kinds: Mapping[str, ColumnKind],
    categorical: tuple[str, ...],
    categories: Mapping[str, Mapping[str, int]],
) -> np.ndarray:
    cols = []
    for name in numeric:
        column = table.column(name)
        kind = kinds[name]
        filled = column.fill_null(float("nan")) if pa.types.is_floating(column.type) else column
        if filled.null_count:  # ints/booleans/datetimes with nulls: place NaN by mask
            valid = np.asarray(column.is_valid().to_numpy(zero_copy_only=False))
            out = np.full(len(column), np.nan)
            out[valid] = numeric_values(column, kind, name)
        else:
            out = numeric_values(filled, kind, name)
        cols.append(np.where(np.isfinite(out), out, np.nan))
    for name in categorical:
        codes = categories[name]
        unseen = len(codes)
        values = table.column(name).to_pylist()
        cols.append(
            np.array([np.nan if v is None else codes.get(str(v), unseen) for v in values], dtype=np.float64)
        )
    if not cols:
        return np.zeros((table.num_rows, 0))
    return np.column_stack(cols)


def _standardise(x: np.ndarray, mean: np.ndarray, std: np.ndarray, median: np.ndarray) -> np.ndarray:
    x = np.where(np.isnan(x), median, x)
    out: np.ndarray = (x - mean) / std
    return out


def _reconstruction_errors(pca: Any, z: np.ndarray) -> np.ndarray:
    back = pca.inverse_transform(pca.transform(z))
    return np.asarray(((z - back) ** 2).mean(axis=1), dtype=np.float64)
