"""Classifier performance without labels: confidence-based estimation (CBPE).

:class:`PerformanceEstimator` is fitted on a labelled reference (``fit``): it checks that the
reference can support an estimate and calibrates the scores with isotonic regression when
they are not calibrated already. On an unlabelled window (``estimate``) each row's calibrated
probability ``p_i`` is the chance its label is positive, so with the model's decisions
``ŷ_i = [score_i >= threshold]`` the expected confusion matrix is

    TP = Σ p·ŷ    FP = Σ (1-p)·ŷ    FN = Σ p·(1-ŷ)    TN = Σ (1-p)·(1-ŷ)

and accuracy, precision, recall, specificity, balanced accuracy and F1 follow from it. The
estimated ROC AUC is the expected Mann–Whitney numerator over the expected number of
(positive, negative) pairs, pairs of distinct rows ordered by raw score (ties count half):

    AUC ≈ Σ_{i≠j} p_i (1-p_j) K(s_i, s_j) / (Σp · Σ(1-p) - Σ p(1-p)),   K = 1 if s_i > s_j, ½ if equal.

Sampling-error band: even a perfect estimate misses the realised metric, because the
window's labels are random. Given the scores, the labels are independent Bernoulli(p_i)
draws, so the band is the central ``ci`` interval of the metric over ``n_sim`` simulated label
vectors (a Poisson-binomial simulation, vectorised; AUC through mid-ranks). With isotonic
calibration the calibration's own error is in the band too: each draw takes its probabilities
from one of 50 isotonic fits on bootstrap resamples of the reference. The band narrows like
``1/sqrt(n)``; ``std`` is the simulated standard error.

The estimator refuses (``InputError``) when its assumptions fail: one class in the reference,
scores outside [0, 1] or constant, or scores that do not separate the classes on reference.
Like every CBPE it assumes ``P(y | score)`` is the same in reference and window (covariate
shift is fine, concept drift is not).

>>> rng = np.random.default_rng(0)
>>> p = rng.uniform(size=4000)
>>> est = PerformanceEstimator().fit(rng.uniform(size=4000) < p, p)
>>> round(est.estimate(p[:1000]).metric("accuracy").value, 2)
0.75
"""

from __future__ import annotations

import datetime as dt
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, Self

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats
from sklearn.isotonic import IsotonicRegression
from threadpoolctl import threadpool_limits

from mlaudit.errors import InputError
from mlaudit.stats.performance import group_rows
from mlaudit.stats.result import Result, Status

__all__ = ["ESTIMABLE", "EstimatedMetric", "EstimatedPerformance", "PerformanceEstimator"]

SCHEMA_VERSION = 1
Calibration = Literal["auto", "isotonic", "none"]
ESTIMABLE = ("roc_auc", "accuracy", "precision", "recall", "specificity", "balanced_accuracy", "f1")
_CELLS_PER_CHUNK = 4_000_000
_CALIBRATION_RESAMPLES = 50
_F = NDArray[np.float64]


@dataclass(frozen=True)
class EstimatedMetric:
    """An estimated metric with its sampling-error band (``None`` when undefined, with reason)."""

    name: str
    value: float | None
    lower: float | None
    upper: float | None
    std: float | None
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in ("name", "value", "lower", "upper", "std")}
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class EstimatedPerformance:
    """Estimated metrics of one window (``window`` is its label, ``None`` for a single call)."""

    n: int
    metrics: tuple[EstimatedMetric, ...]
    window: str | None = None
    ci: float = 0.95
    details: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> EstimatedMetric:
        for m in self.metrics:
            if m.name == name:
                return m
        raise InputError(f"metric {name!r} was not estimated", hint=f"have {[m.name for m in self.metrics]}")

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "estimated_performance",
            "schema_version": SCHEMA_VERSION,
            "window": self.window,
            "n": self.n,
            "ci": self.ci,
            "metrics": [m.to_dict() for m in self.metrics],
            "details": self.details,
        }

    def results(self, thresholds: Mapping[str, float]) -> list[Result]:
        """``fail`` when an estimated metric is below its threshold, ``warn`` when undefined
        (``check="estimated_performance:<name>"``, ``[window=<label>]`` appended for windows)."""
        suffix = "" if self.window is None else f"[window={self.window}]"
        out = []
        for name, threshold in thresholds.items():
            m = self.metric(name)
            status: Status = "warn" if m.value is None else ("pass" if m.value >= threshold else "fail")
            details = {k: v for k, v in m.to_dict().items() if k not in ("name", "value")}
            details["n"] = self.n
            out.append(Result(f"estimated_performance:{name}{suffix}", status, m.value, threshold, details))
        return out


class PerformanceEstimator:
    """Estimate a binary classifier's metrics on unlabelled windows (scikit-learn style).

    ``y_score`` is the positive-class probability; ``threshold`` turns it into the model's
    decision. ``calibrate="auto"`` keeps the scores when a Hosmer–Lemeshow test on the
    reference (10 score-quantile bins, no fitted parameters) does not reject calibration at
    1 %, and fits isotonic regression otherwise. ``n_sim`` label draws give the ``ci`` band.
    After ``fit``: ``calibration_`` (``"isotonic"``/``"none"``), ``calibration_p_value_``,
    ``reference_`` (the estimate on the reference scores), ``score_range_``.

    >>> est = PerformanceEstimator(metrics=("accuracy",), calibrate="none")
    >>> est.fit([0, 1, 1, 0, 1, 0] * 50, [0.1, 0.9, 0.8, 0.2, 0.7, 0.3] * 50).calibration_
    'none'
    """

    def __init__(
        self,
        *,
        metrics: Sequence[str] = ("roc_auc", "accuracy", "precision", "recall", "f1"),
        threshold: float = 0.5,
        calibrate: Calibration = "auto",
        n_sim: int = 500,
        ci: float = 0.95,
        seed: int = 0,
    ) -> None:
        self.metrics = tuple(metrics)
        self.threshold = threshold
        self.calibrate = calibrate
        self.n_sim = n_sim
        self.ci = ci
        self.seed = seed

    def fit(self, y_true_ref: ArrayLike, y_score_ref: ArrayLike) -> Self:
        """Check the reference and calibrate its scores; refuses with an ``InputError`` saying why."""
        unknown = [m for m in self.metrics if m not in ESTIMABLE]
        if unknown:
            raise InputError(f"cannot estimate {unknown}", hint=f"choose from {list(ESTIMABLE)}")
        if self.calibrate not in ("auto", "isotonic", "none"):
            raise InputError(f"calibrate must be 'auto', 'isotonic' or 'none', not {self.calibrate!r}")
        s = _probabilities(y_score_ref, "reference scores")
        y = _binary_labels(y_true_ref, len(s))
        if np.ptp(s) == 0:
            raise InputError("the reference scores are constant: there is nothing to calibrate or rank")
        n_pos, n_neg = int(y.sum()), int(len(y) - y.sum())
        auc = _expected_auc(s, y.astype(float))
        chance_se = float(np.sqrt((n_pos + n_neg + 1) / (12.0 * n_pos * n_neg)))
        if auc - 0.5 < 3 * chance_se:
            raise InputError(
                f"the scores do not separate the classes on the reference (ROC AUC {auc:.3f}, "
                f"chance ± {3 * chance_se:.3f}); calibrated probabilities would be meaningless"
            )
        p_value = _hosmer_lemeshow(y, s)
        use = self.calibrate if self.calibrate != "auto" else ("isotonic" if p_value < 0.01 else "none")
        self.calibrator_: IsotonicRegression | None = None
        self.calibration_curves_: list[tuple[_F, _F]] = []
        if use == "isotonic":
            self.calibrator_ = _isotonic(s, y)
            if len(np.unique(self.calibrator_.predict(s))) < 2:
                raise InputError("isotonic calibration is flat on the reference: the scores carry no signal")
            rng = np.random.default_rng([self.seed, len(s)])
            for _ in range(_CALIBRATION_RESAMPLES):
                idx = rng.integers(0, len(s), len(s))
                iso = _isotonic(s[idx], y[idx])
                self.calibration_curves_.append((iso.X_thresholds_, iso.y_thresholds_))
        self.calibration_: str = use
        self.calibration_p_value_ = p_value
        self.score_range_ = (float(s.min()), float(s.max()))
        self.reference_ = self.estimate(s)
        return self

    def estimate(self, y_score: ArrayLike, *, window: str | None = None) -> EstimatedPerformance:
        """Estimated metrics and sampling-error bands for one window of scores."""
        if not hasattr(self, "calibration_"):
            raise InputError(
                "this PerformanceEstimator is not fitted yet", hint="call fit(y_true_ref, y_score_ref) first"
            )
        s = _probabilities(y_score, "window scores")
        p = s if self.calibrator_ is None else np.clip(self.calibrator_.predict(s), 0.0, 1.0)
        yhat = (s >= self.threshold).astype(float)
        lo_ref, hi_ref = self.score_range_
        details: dict[str, Any] = {
            "calibration": self.calibration_,
            "threshold": self.threshold,
            "n_sim": self.n_sim,
            "share_outside_reference_range": float(np.mean((s < lo_ref) | (s > hi_ref))) if len(s) else 0.0,
            "expected_confusion": {k: float(v[0]) for k, v in _expected_cells(p, yhat).items()},
        }
        if len(s) == 0:
            none = tuple(EstimatedMetric(m, None, None, None, None, "no rows") for m in self.metrics)
            return EstimatedPerformance(0, none, window, self.ci, details)
        point = _cell_metrics(_expected_cells(p, yhat))
        if "roc_auc" in self.metrics:
            point["roc_auc"] = np.array([_expected_auc(s, p)])
        curves = self.calibration_curves_
        p_sim = np.stack([np.interp(s, x, f) for x, f in curves]) if curves else p[None, :]
        # The draws are many small matrix products: BLAS threads only contend over them
        # (measured in bench/estimation.py), so they run on one thread.
        with threadpool_limits(limits=1, user_api="blas"):
            sims = self._simulate(s, p_sim, yhat, window)
        q = ((1 - self.ci) / 2, (1 + self.ci) / 2)
        out = []
        for name in self.metrics:
            value = float(point[name][0])
            draws = sims[name][np.isfinite(sims[name])]
            if not np.isfinite(value):
                out.append(EstimatedMetric(name, None, None, None, None, _REASONS[name]))
                continue
            lo, hi = (float(v) for v in np.quantile(draws, q)) if draws.size else (None, None)
            std = float(draws.std(ddof=1)) if draws.size > 1 else None
            out.append(EstimatedMetric(name, value, lo, hi, std))
        return EstimatedPerformance(len(s), tuple(out), window, self.ci, details)

    def estimate_windows(
        self,
        y_score: ArrayLike,
        windows: ArrayLike,
        *,
        window_size: float | str | dt.timedelta | np.timedelta64 | None = None,
    ) -> tuple[EstimatedPerformance, ...]:
        """:meth:`estimate` per window: ``windows`` is a column of window labels, or a time or
        numeric column cut by ``window_size`` (as in :func:`mlaudit.stats.performance.evaluate`)."""
        s = _probabilities(y_score, "window scores")
        return tuple(
            self.estimate(s[rows], window=label)
            for label, rows in group_rows(windows, len(s), "windows", window_size)
        )

    def _simulate(self, s: _F, p: _F, yhat: _F, window: str | None) -> dict[str, _F]:
        """Each metric over ``n_sim`` label vectors; draw ``b`` is independent Bernoulli(p[b % len(p)])."""
        n = len(s)
        rng = np.random.default_rng([self.seed, n, zlib.crc32(str(window).encode())])
        ranks = stats.rankdata(s) if "roc_auc" in self.metrics else None
        parts: dict[str, list[_F]] = {m: [] for m in self.metrics}
        chunk = max(1, _CELLS_PER_CHUNK // n)
        done = 0
        while done < self.n_sim:
            b = min(chunk, self.n_sim - done)
            Y = (rng.random((b, n)) < p[np.arange(done, done + b) % len(p)]).astype(float)
            pos = Y.sum(axis=1)
            tp = Y @ yhat
            pred_pos = yhat.sum()
            cells = {"tp": tp, "fp": pred_pos - tp, "fn": pos - tp, "tn": n - pred_pos - (pos - tp)}
            values = _cell_metrics(cells)
            if ranks is not None:
                neg = n - pos
                values["roc_auc"] = _safe_div(Y @ ranks - pos * (pos + 1) / 2, pos * neg)
            for m in self.metrics:
                parts[m].append(values[m])
            done += b
        return {m: np.concatenate(v) if v else np.empty(0) for m, v in parts.items()}


_REASONS = {
    "roc_auc": "the window's calibrated probabilities leave no (positive, negative) pair",
    "accuracy": "no rows",
    "precision": "no positive predictions in the window",
    "recall": "no expected positives in the window",
    "specificity": "no expected negatives in the window",
    "balanced_accuracy": "no expected positives or negatives in the window",
    "f1": "no expected or predicted positives in the window",
}


def _isotonic(s: _F, y: NDArray[np.bool_]) -> IsotonicRegression:
    iso = IsotonicRegression(y_min=0.0, y_max=1.0, increasing=True, out_of_bounds="clip")
    return iso.fit(s, y.astype(float))


def _safe_div(num: _F, den: _F) -> _F:
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _expected_cells(p: _F, yhat: _F) -> dict[str, _F]:
    return {
        "tp": np.array([p @ yhat]),
        "fp": np.array([(1 - p) @ yhat]),
        "fn": np.array([p @ (1 - yhat)]),
        "tn": np.array([(1 - p) @ (1 - yhat)]),
    }


def _cell_metrics(c: Mapping[str, _F]) -> dict[str, _F]:
    tp, fp, fn, tn = c["tp"], c["fp"], c["fn"], c["tn"]
    recall, specificity = _safe_div(tp, tp + fn), _safe_div(tn, tn + fp)
    return {
        "accuracy": _safe_div(tp + tn, tp + fp + fn + tn),
        "precision": _safe_div(tp, tp + fp),
        "recall": recall,
        "specificity": specificity,
        "balanced_accuracy": (recall + specificity) / 2,
        "f1": _safe_div(2 * tp, 2 * tp + fp + fn),
    }


def _expected_auc(s: _F, p: _F) -> float:
    """Σ_{i≠j} p_i(1-p_j)K(s_i,s_j) / (Σp·Σ(1-p) - Σp(1-p)); with 0/1 ``p`` this is the realised AUC."""
    order = np.argsort(s, kind="stable")
    ss, ps = s[order], p[order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    pos = np.add.reduceat(ps, starts)
    neg = np.add.reduceat(1 - ps, starts)
    both = np.add.reduceat(ps * (1 - ps), starts)
    below = np.cumsum(neg) - neg
    num = float((pos * below + 0.5 * (pos * neg - both)).sum())
    den = float(pos.sum() * neg.sum() - both.sum())
    return num / den if den > 0 else float("nan")


def _hosmer_lemeshow(y: NDArray[np.bool_], s: _F, bins: int = 10) -> float:
    """p-value of "the scores are calibrated": Σ (observed - expected)² / Σ p(1-p) per
    score-quantile bin, chi-squared with one degree of freedom per bin (nothing was fitted)."""
    edges = np.unique(np.quantile(s, np.linspace(0, 1, bins + 1)))
    idx = np.clip(np.searchsorted(edges, s, side="right") - 1, 0, len(edges) - 2)
    g = len(edges) - 1
    observed = np.bincount(idx, weights=y.astype(float), minlength=g)
    expected = np.bincount(idx, weights=s, minlength=g)
    var = np.bincount(idx, weights=s * (1 - s), minlength=g)
    ok = var > 0
    if not ok.any():
        return 0.0 if np.any(observed != expected) else 1.0
    stat = float((((observed - expected) ** 2)[ok] / var[ok]).sum())
    if np.any((observed != expected) & ~ok):
        return 0.0
    return float(stats.chi2.sf(stat, int(ok.sum())))


def _probabilities(x: ArrayLike, what: str) -> _F:
    try:
        s = np.asarray(x, dtype=float)
    except (TypeError, ValueError):
        raise InputError(f"{what} must be numbers (probabilities in [0, 1])") from None
    if s.ndim == 2 and s.shape[1] == 2:
        sums = s.sum(axis=1)
        if s.size and np.isfinite(sums).all() and not np.allclose(sums, 1.0, atol=1e-3):
            row = int(np.flatnonzero(~np.isclose(sums, 1.0, atol=1e-3))[0])
            raise InputError(f"{what}: the two class probabilities of a row must sum to 1", row=row)
        s = s[:, 1]
    if s.ndim != 1:
        raise InputError(f"{what} must be one positive-class probability per row, got shape {s.shape}")
    if not np.isfinite(s).all():
        row = int(np.flatnonzero(~np.isfinite(s))[0])
        raise InputError(f"{what} have missing or infinite values", row=row, hint="drop those rows first")
    if s.size and (s.min() < 0 or s.max() > 1):
        raise InputError(
            f"{what} are not probabilities in [0, 1] (range {s.min():.3g}..{s.max():.3g})",
            hint="pass predict_proba(X)[:, 1], not a decision function",
        )
    return s


def _binary_labels(x: ArrayLike, n: int) -> NDArray[np.bool_]:
    y = np.asarray(x)
    if y.ndim != 1 or len(y) != n:
        raise InputError(f"the reference labels must be one per score ({n}), got shape {y.shape}")
    if len(y) == 0:
        raise InputError("the reference has no rows")
    missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y.tolist()])
    if missing.any():
        raise InputError("the reference labels have a missing value", row=int(np.flatnonzero(missing)[0]))
    classes = np.unique(y)
    if len(classes) < 2:
        raise InputError(
            f"the reference has a single class ({classes.tolist()}): performance cannot be calibrated "
            "or estimated without both classes"
        )
    if len(classes) > 2:
        raise InputError(f"performance estimation is for binary classifiers; got {len(classes)} classes")
    return np.asarray(y == classes[1])
