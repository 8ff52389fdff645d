"""Model validation checks: one function per check, each returning a small frozen result.

=====================  =====================================================================
function               what it measures
=====================  =====================================================================
:func:`overfitting`    train minus holdout metric (the gap), with a bootstrap interval
:func:`underfitting`   model metric minus a trivial baseline's, paired bootstrap interval
:func:`cv_stability`   mean, std and coefficient of variation of per-fold scores
:func:`calibration`    ECE, MCE and the reliability curve of binary probabilities
:func:`robustness`     prediction flip rate (or mean absolute change) under small noise
:func:`permutation_importance`  metric drop when one feature is shuffled
:func:`leakage`        features that alone predict the target almost perfectly
:func:`score_stability`  PSI of the score distribution on reference-quantile bins
=====================  =====================================================================

The weak-segment finder lives in :mod:`mlaudit.stats.segments`. Functions take arrays,
tables and *predict functions* (``predict(table) -> np.ndarray``), never model objects, so
they work with any adapter. Metrics are :data:`mlaudit.stats.performance.METRICS` with its
encodings (binary labels 0/1, positive-class scores; multiclass class indices). Every result
has ``to_dict()`` (with ``kind`` and ``schema_version``) and ``result(...) -> Result``.

>>> cv_stability([0.81, 0.80, 0.82]).result().status
'pass'
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table
from mlaudit.stats.performance import METRICS, MetricSpec
from mlaudit.stats.result import Result, Status

__all__ = [
    "CVStability",
    "Calibration",
    "Gap",
    "Leakage",
    "PermutationImportance",
    "Robustness",
    "ScoreStability",
    "calibration",
    "cv_stability",
    "leakage",
    "overfitting",
    "permutation_importance",
    "robustness",
    "score_stability",
    "underfitting",
]

SCHEMA_VERSION = 1
PSI_EPSILON = 1e-4
_CELLS_PER_CHUNK = 2_000_000
_F = NDArray[np.float64]
PredictFn = Callable[[pa.Table], ArrayLike]


def _none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


def _plain(kind: str, obj: Any, **extra: Any) -> dict[str, Any]:
    """``kind``, ``schema_version`` and the dataclass fields (tuples as lists, NaN as None)."""
    out: dict[str, Any] = {"kind": kind, "schema_version": SCHEMA_VERSION}
    for key, value in {**asdict(obj), **extra}.items():
        out[key] = (
            list(value) if isinstance(value, tuple) else _none(value) if isinstance(value, float) else value
        )
    return out


def _spec(metric: str) -> MetricSpec:
    if metric not in METRICS:
        raise InputError(f"unknown metric {metric!r}", hint=f"use one of {sorted(METRICS)}")
    return METRICS[metric]


def _finite(x: ArrayLike, name: str) -> _F:
    """``x`` as float64 without NaN or infinities; InputError naming ``name`` and the row."""
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"{name} must be numbers: {exc}") from exc
    bad = ~np.isfinite(np.atleast_1d(a))
    if bad.ndim > 1:
        bad = bad.any(axis=tuple(range(1, bad.ndim)))
    if bad.any():
        raise InputError(f"{name} has a missing or infinite value", row=int(np.flatnonzero(bad)[0]))
    return a


def _prepare(spec: MetricSpec, y: ArrayLike, x: ArrayLike) -> tuple[NDArray[Any], NDArray[Any]]:
    yt = np.asarray(y)
    if yt.dtype.kind == "f":
        _finite(yt, "y")
    xs = _finite(x, "the predictions") if spec.needs == "score" else np.asarray(x)
    if spec.needs == "label" and xs.dtype.kind == "f":
        _finite(xs, "the predictions")
    if spec.needs == "score" and "binary" in spec.tasks and xs.ndim == 2 and xs.shape[1] == 2:
        xs = xs[:, 1]  # predict_proba of a binary model: keep the positive-class column
    if len(yt) == 0 or len(yt) != len(xs):
        raise InputError(f"y has {len(yt)} rows and the predictions {len(xs)}; they must match and be > 0")
    return yt, xs


def _weights(n: int, n_boot: int, rng: np.random.Generator) -> Iterator[_F]:
    """Bootstrap weight stacks (how often each row was drawn), in memory-bounded chunks."""
    step = max(1, _CELLS_PER_CHUNK // max(n, 1))
    for start in range(0, n_boot, step):
        draws = rng.integers(0, n, size=(min(step, n_boot - start), n))
        yield np.stack([np.bincount(row, minlength=n) for row in draws]).astype(float)


def _boot(spec: MetricSpec, y: NDArray[Any], x: NDArray[Any], n_boot: int, rng: np.random.Generator) -> _F:
    """``spec`` under ``n_boot`` resamples."""
    out = [spec.batch(y, x, W) for W in _weights(len(y), n_boot, rng)]
    return np.concatenate(out) if out else np.empty(0)


def _interval(values: _F, confidence: float) -> tuple[float, float] | None:
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return None
    a = (1 - confidence) / 2
    return float(np.quantile(values, a)), float(np.quantile(values, 1 - a))


# --- overfitting and underfitting --------------------------------------------------------------


@dataclass(frozen=True)
class Gap:
    """A metric difference oriented so that positive is bad (overfitting) or good (underfitting).

    ``kind`` is ``"overfitting"`` (``value`` = how much worse holdout is than train) or
    ``"underfitting"`` (``value`` = how much better the model is than the baseline).
    """

    kind: Literal["overfitting", "underfitting"]
    metric: str
    value: float
    interval: tuple[float, float] | None
    first: float  # train metric, or model metric
    second: float  # holdout metric, or baseline metric
    n_boot: int
    confidence: float

    def result(self, threshold: float | None = None) -> Result:
        """Overfitting fails when the interval's lower bound exceeds ``threshold`` (default 0.05);
        underfitting fails when the lower bound is not above ``threshold`` (default 0)."""
        over = self.kind == "overfitting"
        t = (0.05 if over else 0.0) if threshold is None else threshold
        details = self.to_dict()
        if math.isnan(self.value):
            return Result(
                f"validation:{self.kind}", "error", None, t, {**details, "reason": "metric undefined"}
            )
        low = self.value if self.interval is None else self.interval[0]
        high = self.value if self.interval is None else self.interval[1]
        status: Status
        if over:
            status = "fail" if low > t else ("warn" if high > t else "pass")
        else:
            status = "fail" if low <= t else "pass"
        return Result(f"validation:{self.kind}", status, self.value, t, details)

    def to_dict(self) -> dict[str, Any]:
        names = ("train", "holdout") if self.kind == "overfitting" else ("model", "baseline")
        return {
            "kind": self.kind,
            "schema_version": SCHEMA_VERSION,
            "metric": self.metric,
            "value": _none(self.value),
            "interval": self.interval,
            names[0]: _none(self.first),
            names[1]: _none(self.second),
            "n_boot": self.n_boot,
            "confidence": self.confidence,
        }


def overfitting(
    y_train: ArrayLike,
    score_train: ArrayLike,
    y_holdout: ArrayLike,
    score_holdout: ArrayLike,
    *,
    metric: str = "roc_auc",
    n_boot: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> Gap:
    """Train-vs-holdout gap of ``metric`` (positive = holdout worse), each side bootstrapped apart.

    >>> g = overfitting([0, 1, 0, 1], [0.1, 0.9, 0.2, 0.8], [0, 1, 0, 1], [0.6, 0.4, 0.2, 0.8])
    >>> g.value
    0.25
    """
    spec = _spec(metric)
    yt, xt = _prepare(spec, y_train, score_train)
    yh, xh = _prepare(spec, y_holdout, score_holdout)
    train, hold = spec(yt, xt), spec(yh, xh)
    sign = 1.0 if spec.higher_is_better else -1.0
    rng = np.random.default_rng(seed)
    interval = None
    if n_boot > 0:
        diffs = sign * (_boot(spec, yt, xt, n_boot, rng) - _boot(spec, yh, xh, n_boot, rng))
        interval = _interval(diffs, confidence)
    return Gap("overfitting", metric, sign * (train - hold), interval, train, hold, n_boot, confidence)


def _baseline(spec: MetricSpec, y: NDArray[Any], x: NDArray[Any]) -> NDArray[Any]:
    """The trivial predictor: the mean (regression), the majority class, or the class prior."""
    if "regression" in spec.tasks:
        return np.full(len(y), float(np.mean(y.astype(float))))
    codes, counts = np.unique(y, return_counts=True)
    if spec.needs == "label":
        return np.full(len(y), codes[np.argmax(counts)], dtype=y.dtype)
    if x.ndim == 2:  # multiclass probabilities: the prior of each class index
        prior = np.bincount(y.astype(int), minlength=x.shape[1]) / len(y)
        return np.tile(prior, (len(y), 1))
    return np.full(len(y), float(np.mean(y.astype(float))))


def underfitting(
    y: ArrayLike,
    score_or_pred: ArrayLike,
    *,
    metric: str = "accuracy",
    n_boot: int = 200,
    seed: int = 0,
    confidence: float = 0.95,
) -> Gap:
    """Model ``metric`` minus a trivial baseline's on the same rows (positive = model better).

    The baseline predicts the majority class (label metrics), the class prior (score metrics)
    or the mean (regression), all from ``y`` itself. The interval is a paired bootstrap.

    >>> underfitting([0, 0, 0, 1], [0, 0, 0, 0], n_boot=0).value
    0.0
    """
    spec = _spec(metric)
    yt, x = _prepare(spec, y, score_or_pred)
    base = _baseline(spec, yt, x)
    sign = 1.0 if spec.higher_is_better else -1.0
    model_v, base_v = spec(yt, x), spec(yt, base)
    interval = None
    if n_boot > 0:
        rng = np.random.default_rng(seed)
        diffs = [
            sign * (spec.batch(yt, x, W) - spec.batch(yt, base, W)) for W in _weights(len(yt), n_boot, rng)
        ]
        interval = _interval(np.concatenate(diffs), confidence)
    return Gap(
        "underfitting", metric, sign * (model_v - base_v), interval, model_v, base_v, n_boot, confidence
    )


# --- cross-validation stability ----------------------------------------------------------------


@dataclass(frozen=True)
class CVStability:
    """Per-fold scores summarised: mean, sample std and coefficient of variation (std / |mean|)."""

    scores: tuple[float, ...]
    mean: float
    std: float
    cv: float

    def result(self, threshold: float = 0.1) -> Result:
        """``warn`` when the coefficient of variation exceeds ``threshold``."""
        if math.isnan(self.cv):
            return Result("validation:cv_stability", "error", None, threshold, self.to_dict())
        status: Status = "warn" if self.cv > threshold else "pass"
        return Result("validation:cv_stability", status, self.cv, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return _plain("cv_stability", self)


def cv_stability(scores_per_fold: Sequence[float]) -> CVStability:
    """Summarise cross-validation fold scores (at least two).

    >>> round(cv_stability([0.8, 0.9]).cv, 4)
    0.0832
    """
    s = _finite(scores_per_fold, "scores_per_fold")
    if len(s) < 2 or np.isnan(s).any():
        raise InputError("cv_stability needs at least two fold scores, none missing")
    mean, std = float(s.mean()), float(s.std(ddof=1))
    cv = std / abs(mean) if mean != 0 else (0.0 if std == 0 else math.inf)
    return CVStability(tuple(float(v) for v in s), mean, std, cv)


# --- calibration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Calibration:
    """ECE (count-weighted mean gap), MCE (largest gap) and the non-empty bins of the curve."""

    ece: float
    mce: float
    mean_predicted: tuple[float, ...]
    observed_rate: tuple[float, ...]
    counts: tuple[int, ...]
    n_bins: int
    strategy: str

    def result(self, threshold: float = 0.05) -> Result:
        """``fail`` when the ECE exceeds ``threshold``."""
        status: Status = "fail" if self.ece > threshold else "pass"
        return Result("validation:calibration", status, self.ece, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "calibration",
            "schema_version": SCHEMA_VERSION,
            "ece": self.ece,
            "mce": self.mce,
            "n_bins": self.n_bins,
            "strategy": self.strategy,
            "curve": [
                {"mean_predicted": p, "observed_rate": o, "count": c}
                for p, o, c in zip(self.mean_predicted, self.observed_rate, self.counts, strict=True)
            ],
        }


def calibration(
    y_true: ArrayLike,
    y_prob: ArrayLike,
    *,
    n_bins: int = 10,
    strategy: Literal["uniform", "quantile"] = "uniform",
) -> Calibration:
    """Reliability of binary probabilities; bins as :func:`sklearn.calibration.calibration_curve`
    (``edge[i-1] < p <= edge[i]``, the first bin closed).

    >>> round(calibration([0, 1, 1, 1], [0.2, 0.2, 0.8, 0.8], n_bins=2).ece, 4)
    0.25
    """
    y = _finite(y_true, "y_true")
    p = _finite(y_prob, "y_prob")
    if len(y) == 0 or len(y) != len(p):
        raise InputError("y_true and y_prob must have the same, non-zero length")
    if not np.isin(y, (0.0, 1.0)).all():
        raise InputError("y_true must be 0/1")
    if np.isnan(p).any() or p.min() < 0 or p.max() > 1:
        raise InputError("y_prob must be probabilities in [0, 1]")
    if strategy == "quantile":
        edges = np.percentile(p, np.linspace(0, 100, n_bins + 1))
    elif strategy == "uniform":
        edges = np.linspace(0.0, 1.0, n_bins + 1)
    else:
        raise InputError(f"unknown strategy {strategy!r}; use 'uniform' or 'quantile'")
    ids = np.searchsorted(edges[1:-1], p)
    counts = np.bincount(ids, minlength=n_bins)
    sum_p = np.bincount(ids, weights=p, minlength=n_bins)
    sum_y = np.bincount(ids, weights=y, minlength=n_bins)
    keep = counts > 0
    mean_p, rate = sum_p[keep] / counts[keep], sum_y[keep] / counts[keep]
    gaps = np.abs(mean_p - rate)
    ece = float(np.sum(counts[keep] * gaps) / len(y))
    return Calibration(
        ece,
        float(gaps.max()),
        tuple(float(v) for v in mean_p),
        tuple(float(v) for v in rate),
        tuple(int(c) for c in counts[keep]),
        n_bins,
        strategy,
    )


# --- robustness --------------------------------------------------------------------------------


def _is_numeric(column: pa.ChunkedArray) -> bool:
    t = column.type
    return bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t))


def _numeric(column: pa.ChunkedArray) -> _F:
    """Numbers as float64, nulls as NaN."""
    return np.asarray(column.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)


def _labels(column: pa.ChunkedArray) -> NDArray[np.object_]:
    """Any column as Python objects (``None`` for null), for categorical handling."""
    return np.asarray(column.to_pylist(), dtype=object)


def _features(t: pa.Table, features: Sequence[str] | None) -> list[str]:
    cols = list(features) if features is not None else list(t.column_names)
    for c in cols:
        if c not in t.column_names:
            raise InputError("no such feature column", column=c, hint=f"the table has {t.column_names}")
    return cols


def _perturb(column: pa.ChunkedArray, noise: float, flip: float, rng: np.random.Generator) -> pa.Array:
    if _is_numeric(column):
        x = _numeric(column)
        sd = float(np.nanstd(x)) if np.isfinite(x).any() else 0.0
        return pa.array(x + rng.normal(0.0, noise * sd, len(x)), mask=np.isnan(x))
    values = _labels(column)
    present = np.array([v is not None for v in values])
    levels = list(dict.fromkeys(v for v in values if v is not None))
    if len(levels) < 2:
        return column.combine_chunks()
    out = values.copy()
    hit = np.flatnonzero(present & (rng.random(len(values)) < flip))
    index = {v: i for i, v in enumerate(levels)}
    # shift each chosen value by 1..k-1 places: always a different observed level
    shifts = rng.integers(1, len(levels), len(hit))
    for i, s in zip(hit, shifts, strict=True):
        out[i] = levels[(index[values[i]] + s) % len(levels)]
    return pa.array(out.tolist(), type=column.type)


@dataclass(frozen=True)
class Robustness:
    """Mean prediction change under noise: flip rate (labels) or mean |change| (regression)."""

    task: Literal["classification", "regression"]
    overall: float
    per_feature: dict[str, float]
    numeric_noise: float
    categorical_flip: float
    n_repeats: int

    def result(self, threshold: float = 0.05) -> Result:
        """``fail`` when the all-features change exceeds ``threshold``."""
        status: Status = "fail" if self.overall > threshold else "pass"
        return Result("validation:robustness", status, self.overall, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return _plain("robustness", self)


def robustness(
    predict: PredictFn,
    table: TableLike,
    *,
    features: Sequence[str] | None = None,
    numeric_noise: float = 0.01,
    categorical_flip: float = 0.05,
    n_repeats: int = 3,
    task: Literal["auto", "classification", "regression"] = "auto",
    seed: int = 0,
) -> Robustness:
    """How much ``predict`` changes when features get small noise.

    Numeric columns get Gaussian noise of ``numeric_noise`` times their std (integers become
    float64); other columns have a ``categorical_flip`` share of their values replaced by a
    different observed value. ``per_feature`` perturbs one column at a time, ``overall`` all
    of ``features`` (default: every column) at once. ``task="auto"`` means regression when
    the predictions are floats that are not all whole numbers.

    >>> r = robustness(lambda t: (t["x"].to_numpy() > 0).astype(int), {"x": [-5.0, 5.0]})
    >>> r.overall
    0.0
    """
    t = to_table(table)
    cols = _features(t, features)
    base = np.asarray(predict(t))
    if task == "auto":
        floats = base.dtype.kind == "f" and not np.all(np.equal(np.mod(base, 1), 0))
        task = "regression" if floats else "classification"
    rng = np.random.default_rng(seed)

    def change(names: Sequence[str]) -> float:
        values = []
        for _ in range(n_repeats):
            perturbed = t
            for name in names:
                i = perturbed.column_names.index(name)
                new = _perturb(perturbed.column(name), numeric_noise, categorical_flip, rng)
                perturbed = perturbed.set_column(i, name, new)
            pred = np.asarray(predict(perturbed))
            if task == "regression":
                values.append(float(np.mean(np.abs(pred.astype(float) - base.astype(float)))))
            else:
                diff = pred != base
                values.append(float(np.mean(diff.any(axis=1) if diff.ndim == 2 else diff)))
        return float(np.mean(values))

    per_feature = {name: change([name]) for name in cols}
    return Robustness(task, change(cols), per_feature, numeric_noise, categorical_flip, n_repeats)


# --- permutation importance --------------------------------------------------------------------


@dataclass(frozen=True)
class PermutationImportance:
    """Per feature, mean and std over repeats of the metric drop when that column is shuffled
    (positive = the model relies on it), and the unshuffled ``baseline`` metric."""

    metric: str
    baseline: float
    mean: dict[str, float]
    std: dict[str, float]
    n_repeats: int

    def ranking(self) -> list[str]:
        """Feature names, most important first."""
        return sorted(self.mean, key=lambda k: -self.mean[k])

    def result(self, threshold: float | None = None) -> Result:
        """``pass`` with the top importance as value: informational (``threshold`` is unused)."""
        top = max(self.mean.values()) if self.mean else None
        return Result("validation:permutation_importance", "pass", top, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "permutation_importance",
            "schema_version": SCHEMA_VERSION,
            "metric": self.metric,
            "baseline": _none(self.baseline),
            "importances": [{"feature": k, "mean": self.mean[k], "std": self.std[k]} for k in self.ranking()],
            "n_repeats": self.n_repeats,
        }


def permutation_importance(
    predict: PredictFn,
    table: TableLike,
    y: ArrayLike,
    *,
    metric: str = "accuracy",
    features: Sequence[str] | None = None,
    n_repeats: int = 5,
    seed: int = 0,
) -> PermutationImportance:
    """Drop of ``metric`` when each feature is shuffled, ``n_repeats`` times.

    ``predict`` returns labels for label metrics and scores for score metrics (a binary
    ``predict_proba`` with two columns is fine: the second is used).

    >>> t = {"x": [0, 1, 0, 1], "noise": [1, 1, 0, 0]}
    >>> imp = permutation_importance(lambda t: t["x"].to_numpy(), t, [0, 1, 0, 1], n_repeats=3)
    >>> imp.ranking()[0], imp.mean["noise"]
    ('x', 0.0)
    """
    spec = _spec(metric)
    t = to_table(table)
    cols = _features(t, features)
    yt, x = _prepare(spec, y, predict(t))
    base = spec(yt, x)
    sign = 1.0 if spec.higher_is_better else -1.0
    rng = np.random.default_rng(seed)
    means: dict[str, float] = {}
    stds: dict[str, float] = {}
    for name in cols:
        i = t.column_names.index(name)
        drops = []
        for _ in range(n_repeats):
            shuffled = t.set_column(i, name, t.column(i).take(pa.array(rng.permutation(t.num_rows))))
            drops.append(sign * (base - spec(yt, _prepare(spec, yt, predict(shuffled))[1])))
        means[name], stds[name] = float(np.mean(drops)), float(np.std(drops))
    return PermutationImportance(metric, base, means, stds, n_repeats)


# --- leakage -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Leakage:
    """Single-feature predictive power (``scores``) and the features at or above ``threshold``.

    ``measure`` is ``"roc_auc"`` (binary target; max of AUC and 1 - AUC) or ``"r2"``
    (regression target).
    """

    measure: Literal["roc_auc", "r2"]
    scores: dict[str, float]
    threshold: float

    @property
    def suspects(self) -> list[str]:
        return [k for k, v in sorted(self.scores.items(), key=lambda kv: -kv[1]) if v >= self.threshold]

    def result(self, threshold: float | None = None) -> Result:
        """``warn`` naming the suspect features when any reaches the threshold."""
        t = self.threshold if threshold is None else threshold
        top = max(self.scores.values()) if self.scores else None
        suspects = [k for k, v in self.scores.items() if v >= t]
        status: Status = "warn" if suspects else "pass"
        return Result("validation:leakage", status, top, t, {**self.to_dict(), "suspects": suspects})

    def to_dict(self) -> dict[str, Any]:
        return _plain("leakage", self, suspects=self.suspects)


def _auc(y: NDArray[np.bool_], s: _F) -> float:
    """Mann–Whitney AUC with half credit for ties."""
    ranks = stats.rankdata(s)
    n1 = int(y.sum())
    n0 = len(y) - n1
    if n1 == 0 or n0 == 0:
        return math.nan
    return float((ranks[y].sum() - n1 * (n1 + 1) / 2) / (n1 * n0))


def _target_encode(values: NDArray[np.object_], y: _F, train: NDArray[np.bool_]) -> _F:
    """Each value's mean target on the ``train`` rows (the overall mean when unseen there)."""
    keys = np.array([repr(v) for v in values], dtype=object)
    codes, inv = np.unique(keys, return_inverse=True)
    sums = np.bincount(inv[train], weights=y[train], minlength=len(codes))
    counts = np.bincount(inv[train], minlength=len(codes))
    prior = float(y[train].mean())
    means = np.where(counts > 0, sums / np.maximum(counts, 1), prior)
    return np.asarray(means[inv], dtype=float)


def leakage(
    table: TableLike,
    y: ArrayLike,
    *,
    threshold: float = 0.98,
    task: Literal["auto", "binary", "regression"] = "auto",
    seed: int = 0,
) -> Leakage:
    """Features that on their own predict ``y`` almost perfectly.

    Numeric columns are scored by rank (AUC; squared Spearman correlation for regression),
    nulls ranked lowest. Other columns are target-rate encoded on a random half of the rows
    and scored on the other half (AUC, or R² of the encoding). ``task="auto"``: binary when
    ``y`` has two distinct values, else regression.

    >>> leakage({"id": [3, 1, 4, 2], "leak": [0, 0, 1, 1]}, [0, 0, 1, 1]).suspects
    ['leak']
    """
    t = to_table(table)
    yv = np.asarray(y)
    if yv.dtype.kind == "f":
        _finite(yv, "y")
    if len(yv) != t.num_rows or len(yv) == 0:
        raise InputError(f"y has {len(yv)} rows and the table {t.num_rows}; they must match and be > 0")
    distinct = np.unique(yv)
    if task == "auto":
        task = "binary" if len(distinct) == 2 else "regression"
    if task == "binary":
        if len(distinct) != 2:
            raise InputError("a binary target needs exactly two distinct values")
        target = (yv == distinct[1]).astype(float)
    elif yv.dtype.kind not in "biuf":
        raise InputError(
            f"y has {len(distinct)} non-numeric values: not binary and not a regression target",
            hint="for a multiclass target, pass one class against the rest as 0/1",
        )
    else:
        target = yv.astype(float)
    held = np.random.default_rng(seed).random(len(target)) < 0.5
    scores: dict[str, float] = {}
    for name in t.column_names:
        col = t.column(name)
        if _is_numeric(col):
            x = _numeric(col)
            x = np.where(np.isnan(x), -np.inf, x)
            if task == "binary":
                auc = _auc(target.astype(bool), x)
                score = max(auc, 1 - auc)
            else:
                rho = stats.spearmanr(x, target).statistic
                score = float(rho) ** 2
        else:
            enc = _target_encode(_labels(col), target, ~held)
            ye, xe = target[held], enc[held]
            if task == "binary":
                auc = _auc(ye.astype(bool), xe)
                score = max(auc, 1 - auc)
            else:
                sst = float(np.sum((ye - ye.mean()) ** 2))
                score = 1 - float(np.sum((ye - xe) ** 2)) / sst if sst > 0 else math.nan
        scores[name] = 0.0 if math.isnan(score) else float(score)
    return Leakage("roc_auc" if task == "binary" else "r2", scores, threshold)


# --- score stability ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ScoreStability:
    """PSI of current vs reference scores on the reference's quantile bins."""

    psi: float
    edges: tuple[float, ...]
    reference_share: tuple[float, ...]
    current_share: tuple[float, ...]

    def result(self, threshold: float = 0.25, warn_threshold: float = 0.1) -> Result:
        """``fail`` above ``threshold``, ``warn`` above ``warn_threshold`` (the usual 0.25 / 0.1)."""
        status: Status = "fail" if self.psi > threshold else ("warn" if self.psi > warn_threshold else "pass")
        return Result("validation:score_stability", status, self.psi, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return _plain("score_stability", self)


def score_stability(
    reference_scores: ArrayLike, current_scores: ArrayLike, *, bins: int = 10
) -> ScoreStability:
    """PSI = Σ (c - r)·ln(c / r) over ``bins`` reference-quantile bins (``edge[i-1] < x <= edge[i]``,
    the outer bins open-ended; duplicate edges merged; shares floored at 1e-4).

    >>> round(score_stability([1, 2, 3, 4], [1, 1, 1, 4], bins=2).psi, 4)
    0.2747
    """
    ref = _finite(reference_scores, "reference_scores")
    cur = _finite(current_scores, "current_scores")
    if len(ref) == 0 or len(cur) == 0:
        raise InputError("score_stability needs non-empty scores without missing values")
    inner = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
    k = len(inner) + 1
    r = np.bincount(np.searchsorted(inner, ref), minlength=k) / len(ref)
    c = np.bincount(np.searchsorted(inner, cur), minlength=k) / len(cur)
    rf, cf = np.maximum(r, PSI_EPSILON), np.maximum(c, PSI_EPSILON)
    psi = float(np.sum((cf - rf) * np.log(cf / rf)))
    return ScoreStability(psi, tuple(float(e) for e in inner), tuple(map(float, r)), tuple(map(float, c)))
