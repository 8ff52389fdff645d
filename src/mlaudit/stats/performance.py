"""Model performance with bootstrap confidence intervals, overall, per segment and per window.

Every metric is one entry of :data:`METRICS`: a :class:`MetricSpec` saying its task
(``binary``, ``multiclass``, ``regression``), whether it reads predicted labels or scores, and
whether higher is better. A spec is called like a plain function,
``METRICS["f1"](y_true, y_pred, sample_weight=None) -> float`` (``nan`` when undefined), and
equals scikit-learn's metric of the same name. Inside, each metric is computed for a whole
stack of weight vectors at once (shape ``(B, n)``), so a bootstrap is one call: a resample is
the vector of how often each row was drawn. ROC AUC uses the rank (Mann–Whitney) form with
half credit for ties, which equals the trapezoidal area under the weighted ROC curve.

Encodings for the plain calls: binary ``y_true``/``y_pred`` are 0/1, a binary score is the
positive-class score; multiclass labels are class indices ``0..k-1`` and scores an ``(n, k)``
array. :func:`evaluate` does that encoding for you from any labels.

>>> report = evaluate([0, 1, 1, 0], y_score=[0.1, 0.8, 0.6, 0.3], n_boot=50)
>>> report.metric("roc_auc").value, report.metric("accuracy").value
(1.0, 1.0)
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from mlaudit.errors import InputError
from mlaudit.stats.result import Result, Status

__all__ = [
    "METRICS",
    "GroupPerformance",
    "MetricSpec",
    "MetricValue",
    "PerformanceReport",
    "Task",
    "evaluate",
]

Task = Literal["binary", "multiclass", "regression"]
Batch = Callable[[NDArray[Any], NDArray[Any], NDArray[np.float64]], NDArray[np.float64]]
SCHEMA_VERSION = 1
_CELLS_PER_CHUNK = 4_000_000
_EPS = float(np.finfo(np.float64).eps)
_F = NDArray[np.float64]


@dataclass(frozen=True)
class MetricSpec:
    """One metric: ``batch(y_true, x, W)`` returns the metric under each weight row of ``W``.

    ``needs`` is ``"label"`` (``x`` = predicted labels/values) or ``"score"``; ``reason`` says
    when the metric is undefined. Call the spec as a plain metric function:

    >>> METRICS["accuracy"]([0, 1, 1], [0, 1, 0])
    0.6666666666666666
    """

    name: str
    tasks: tuple[Task, ...]
    needs: Literal["label", "score"]
    higher_is_better: bool
    batch: Batch
    reason: str

    def __call__(
        self, y_true: ArrayLike, y_pred_or_score: ArrayLike, *, sample_weight: ArrayLike | None = None
    ) -> float:
        yt = np.asarray(y_true)
        x = np.asarray(y_pred_or_score, dtype=float if self.needs == "score" else None)
        w = np.ones(len(yt)) if sample_weight is None else np.asarray(sample_weight, dtype=float)
        return float(self.batch(yt, x, w[None, :])[0])


# --- weighted building blocks, all over a weight stack W of shape (B, n) ---------------------------


def _div(num: _F, den: _F) -> _F:
    """num / den, nan where den == 0."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den != 0)
    return out


def _group_sums(W: _F, codes: NDArray[np.int64], m: int) -> _F:
    """``out[b, g] = sum of W[b, i] over rows i with codes[i] == g``."""
    out = np.zeros((W.shape[0], m))
    if codes.size == 0:
        return out
    order = np.argsort(codes, kind="stable")
    sc = codes[order]
    starts = np.flatnonzero(np.r_[True, sc[1:] != sc[:-1]])
    out[:, sc[starts]] = np.add.reduceat(W[:, order], starts, axis=1)
    return out


def _confusion(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
    """Weighted confusion matrices ``(B, k, k)``, true class on axis 1."""
    t, p = yt.astype(np.int64), yp.astype(np.int64)
    k = int(max(t.max(initial=1), p.max(initial=1))) + 1
    return _group_sums(W, t * k + p, k * k).reshape(W.shape[0], k, k)


def _auc(y: NDArray[Any], s: _F, W: _F) -> _F:
    """Weighted Mann–Whitney AUC per weight row (ties count half); nan without both classes."""
    order = np.argsort(s, kind="stable")
    ss, ys, Ws = s[order], y[order].astype(float), W[:, order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    pos = np.add.reduceat(Ws * ys, starts, axis=1)
    neg = np.add.reduceat(Ws * (1.0 - ys), starts, axis=1)
    below = np.cumsum(neg, axis=1) - neg
    num = (pos * (below + 0.5 * neg)).sum(axis=1)
    return _div(num, pos.sum(axis=1) * neg.sum(axis=1))


def _average_precision(y: NDArray[Any], s: _F, W: _F) -> _F:
    """Weighted average precision (scikit-learn's step-wise PR AUC); nan without positives."""
    order = np.argsort(-s, kind="stable")
    ss, ys, Ws = s[order], y[order].astype(float), W[:, order]
    starts = np.flatnonzero(np.r_[True, ss[1:] != ss[:-1]])
    tp = np.add.reduceat(Ws * ys, starts, axis=1)
    fp = np.add.reduceat(Ws * (1.0 - ys), starts, axis=1)
    tps, fps = np.cumsum(tp, axis=1), np.cumsum(fp, axis=1)
    precision = np.nan_to_num(_div(tps, tps + fps))
    return _div((tp * precision).sum(axis=1), tps[:, -1])


def _wmean(values: _F, W: _F) -> _F:
    return _div(W @ values, W.sum(axis=1))


# --- classification metrics -------------------------------------------------------------------------


def _accuracy(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
    return _wmean((yt == yp).astype(float), W)


def _binary_cells(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> tuple[_F, _F, _F, _F]:
    c = _group_sums(W, yt.astype(np.int64) * 2 + yp.astype(np.int64), 4)
    return c[:, 3], c[:, 2], c[:, 1], c[:, 0]  # tp, fn, fp, tn


def _cell_ratio(num: Callable[[_F, _F, _F, _F], _F], den: Callable[[_F, _F, _F, _F], _F]) -> Batch:
    """A binary metric ``num / den`` of the weighted cells (tp, fn, fp, tn); nan when den == 0."""

    def batch(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
        cells = _binary_cells(yt, yp, W)
        return _div(num(*cells), den(*cells))

    return batch


_precision = _cell_ratio(lambda tp, fn, fp, tn: tp, lambda tp, fn, fp, tn: tp + fp)
_recall = _cell_ratio(lambda tp, fn, fp, tn: tp, lambda tp, fn, fp, tn: tp + fn)
_specificity = _cell_ratio(lambda tp, fn, fp, tn: tn, lambda tp, fn, fp, tn: tn + fp)
_f1 = _cell_ratio(lambda tp, fn, fp, tn: 2 * tp, lambda tp, fn, fp, tn: 2 * tp + fp + fn)


def _balanced_accuracy(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
    c = _confusion(yt, yp, W)
    true = c.sum(axis=2)
    recall = _div(np.diagonal(c, axis1=1, axis2=2), true)
    present = true > 0
    return _div(np.where(present, recall, 0.0).sum(axis=1), present.sum(axis=1).astype(float))


def _mcc(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
    c = _confusion(yt, yp, W)
    t, p = c.sum(axis=2), c.sum(axis=1)
    s, correct = c.sum(axis=(1, 2)), np.trace(c, axis1=1, axis2=2)
    num = correct * s - (t * p).sum(axis=1)
    den = np.sqrt((s**2 - (p * p).sum(axis=1)) * (s**2 - (t * t).sum(axis=1)))
    return _div(num, den)


def _averaged(kind: str, average: str) -> Batch:
    """Multiclass precision/recall/F1 averaged like scikit-learn (a class with no predictions
    or no true rows scores 0 inside the average; classes absent from both are left out)."""

    def batch(yt: NDArray[Any], yp: NDArray[Any], W: _F) -> _F:
        c = _confusion(yt, yp, W)
        tp, true, pred = np.diagonal(c, axis1=1, axis2=2), c.sum(axis=2), c.sum(axis=1)
        if average == "micro":
            den = {"precision": pred, "recall": true, "f1": (pred + true) / 2}[kind].sum(axis=1)
            return _div(tp.sum(axis=1), den)
        den = {"precision": pred, "recall": true, "f1": (pred + true) / 2}[kind]
        per_class = np.nan_to_num(_div(tp, den))
        if average == "weighted":
            return _div((per_class * true).sum(axis=1), true.sum(axis=1))
        present = (true + pred) > 0
        return _div(np.where(present, per_class, 0.0).sum(axis=1), present.sum(axis=1).astype(float))

    return batch


def _roc_auc(yt: NDArray[Any], s: _F, W: _F) -> _F:
    return _auc(yt.astype(np.int64) == 1, s, W)


def _pr_auc(yt: NDArray[Any], s: _F, W: _F) -> _F:
    return _average_precision(yt.astype(np.int64) == 1, s, W)


def _ovr_auc(weighted: bool) -> Batch:
    def batch(yt: NDArray[Any], s: _F, W: _F) -> _F:
        k = s.shape[1]
        aucs = np.stack([_auc(yt == c, s[:, c], W) for c in range(k)], axis=1)
        if not weighted:
            return _nanmean_rows(aucs)
        prevalence = _group_sums(W, yt.astype(np.int64), k)
        ok = ~np.isnan(aucs)
        return _div(
            np.where(ok, aucs * prevalence, 0.0).sum(axis=1), np.where(ok, prevalence, 0.0).sum(axis=1)
        )

    return batch


def _nanmean_rows(a: _F) -> _F:
    ok = ~np.isnan(a)
    return _div(np.where(ok, a, 0.0).sum(axis=1), ok.sum(axis=1).astype(float))


def _onehot_probs(yt: NDArray[Any], s: _F) -> tuple[_F, _F]:
    p = s[:, None] if s.ndim == 1 else s
    if p.shape[1] == 1:
        p = np.hstack([1.0 - p, p])
    onehot = np.zeros_like(p)
    onehot[np.arange(len(yt)), yt.astype(np.int64)] = 1.0
    return onehot, p


def _log_loss(yt: NDArray[Any], s: _F, W: _F) -> _F:
    onehot, p = _onehot_probs(yt, s)
    loss = -(onehot * np.log(np.clip(p, _EPS, 1 - _EPS))).sum(axis=1)
    return _wmean(loss, W)


def _brier(yt: NDArray[Any], s: _F, W: _F) -> _F:
    onehot, p = _onehot_probs(yt, s)
    half = 0.5 if p.shape[1] < 3 else 1.0
    return half * _wmean(((onehot - p) ** 2).sum(axis=1), W)


# --- regression metrics ----------------------------------------------------------------------------


def _mae(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    return _wmean(np.abs(y.astype(float) - f.astype(float)), W)


def _mse(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    return _wmean((y.astype(float) - f.astype(float)) ** 2, W)


def _rmse(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    return np.sqrt(_mse(y, f, W))


def _mape(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    yf = y.astype(float)
    return _wmean(np.abs(yf - f.astype(float)) / np.maximum(np.abs(yf), _EPS), W)


def _wvar(v: _F, W: _F) -> _F:
    c = v - v.mean() if v.size else v
    m = _wmean(c, W)
    return _wmean(c**2, W) - m**2


def _r2(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    yf = y.astype(float)
    return 1.0 - _div(_wmean((yf - f.astype(float)) ** 2, W), _wvar(yf, W))


def _explained_variance(y: NDArray[Any], f: NDArray[Any], W: _F) -> _F:
    yf = y.astype(float)
    return 1.0 - _div(_wvar(yf - f.astype(float), W), _wvar(yf, W))


def _spec(
    name: str,
    tasks: tuple[Task, ...],
    needs: Literal["label", "score"],
    higher: bool,
    batch: Batch,
    reason: str,
) -> tuple[str, MetricSpec]:
    return name, MetricSpec(name, tasks, needs, higher, batch, reason)


_BOTH: tuple[Task, ...] = ("binary", "multiclass")
_NEEDS_BOTH = "needs both classes in y_true"
METRICS: dict[str, MetricSpec] = dict(
    [
        _spec("accuracy", _BOTH, "label", True, _accuracy, "no rows"),
        _spec("balanced_accuracy", _BOTH, "label", True, _balanced_accuracy, "no rows"),
        _spec("precision", ("binary",), "label", True, _precision, "no positive predictions"),
        _spec("recall", ("binary",), "label", True, _recall, "no positive rows in y_true"),
        _spec("specificity", ("binary",), "label", True, _specificity, "no negative rows in y_true"),
        _spec("f1", ("binary",), "label", True, _f1, "no positives in y_true or y_pred"),
        _spec("mcc", _BOTH, "label", True, _mcc, "y_true or y_pred has a single class"),
        *[
            _spec(f"{kind}_{avg}", ("multiclass",), "label", True, _averaged(kind, avg), "no rows")
            for kind in ("precision", "recall", "f1")
            for avg in ("macro", "micro", "weighted")
        ],
        _spec("roc_auc", ("binary",), "score", True, _roc_auc, _NEEDS_BOTH),
        _spec("pr_auc", ("binary",), "score", True, _pr_auc, "no positive rows in y_true"),
        _spec("roc_auc_ovr", ("multiclass",), "score", True, _ovr_auc(False), "needs two classes in y_true"),
        _spec(
            "roc_auc_ovr_weighted",
            ("multiclass",),
            "score",
            True,
            _ovr_auc(True),
            "needs two classes in y_true",
        ),
        _spec("log_loss", _BOTH, "score", False, _log_loss, "no rows"),
        _spec("brier", _BOTH, "score", False, _brier, "no rows"),
        _spec("mae", ("regression",), "label", False, _mae, "no rows"),
        _spec("mse", ("regression",), "label", False, _mse, "no rows"),
        _spec("rmse", ("regression",), "label", False, _rmse, "no rows"),
        _spec("mape", ("regression",), "label", False, _mape, "no rows"),
        _spec("r2", ("regression",), "label", True, _r2, "y_true is constant"),
        _spec(
            "explained_variance", ("regression",), "label", True, _explained_variance, "y_true is constant"
        ),
    ]
)
_PROBABILITY_METRICS = ("log_loss", "brier")


# --- report -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MetricValue:
    """One metric on one group of rows: value with its percentile bootstrap interval.

    ``value``/``lower``/``upper`` are ``None`` (never NaN) when undefined, with ``reason``.
    ``n_boot`` counts the resamples where the metric was defined.
    """

    name: str
    value: float | None
    lower: float | None
    upper: float | None
    n: int
    higher_is_better: bool
    n_boot: int = 0
    reason: str | None = None

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: getattr(self, k)
            for k in ("name", "value", "lower", "upper", "n", "higher_is_better", "n_boot")
        }
        if self.reason is not None:
            out["reason"] = self.reason
        return out


@dataclass(frozen=True)
class GroupPerformance:
    """The metrics of one segment or one window (``label`` is its group label as text)."""

    label: str
    n: int
    metrics: tuple[MetricValue, ...]

    def metric(self, name: str) -> MetricValue:
        return _find(self.metrics, name)

    def to_dict(self) -> dict[str, Any]:
        return {"label": self.label, "n": self.n, "metrics": [m.to_dict() for m in self.metrics]}


def _find(metrics: tuple[MetricValue, ...], name: str) -> MetricValue:
    for m in metrics:
        if m.name == name:
            return m
    raise InputError(f"metric {name!r} is not in this report", hint=f"have {[m.name for m in metrics]}")


@dataclass(frozen=True)
class PerformanceReport:
    """Overall metrics plus per-segment and per-window ones (empty tuples when not asked)."""

    task: Task
    n: int
    metrics: tuple[MetricValue, ...]
    segments: tuple[GroupPerformance, ...] = ()
    windows: tuple[GroupPerformance, ...] = ()
    labels: tuple[str, ...] = ()
    n_boot: int = 200
    ci: float = 0.95
    details: dict[str, Any] = field(default_factory=dict)

    def metric(self, name: str) -> MetricValue:
        """The overall value of metric ``name``."""
        return _find(self.metrics, name)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: kind, schema version, overall metrics, segments, windows (no NaN)."""
        return {
            "kind": "performance_report",
            "schema_version": SCHEMA_VERSION,
            "task": self.task,
            "n": self.n,
            "labels": list(self.labels),
            "n_boot": self.n_boot,
            "ci": self.ci,
            "metrics": [m.to_dict() for m in self.metrics],
            "segments": [g.to_dict() for g in self.segments],
            "windows": [g.to_dict() for g in self.windows],
            "details": self.details,
        }

    def results(self, thresholds: Mapping[str, float]) -> list[Result]:
        """One :class:`Result` per thresholded metric overall (``check="performance:<name>"``) and
        per segment/window (``performance:<name>[segment=<label>]``): ``fail`` when the value is
        below the threshold (above, for lower-is-better metrics), ``warn`` when undefined,
        ``error`` when ``y_score`` is not probabilities for a probability metric (see the reason)."""
        out: list[Result] = []
        groups = [("", self.n, self.metrics)]
        groups += [(f"[segment={g.label}]", g.n, g.metrics) for g in self.segments]
        groups += [(f"[window={g.label}]", g.n, g.metrics) for g in self.windows]
        for name, threshold in thresholds.items():
            if name not in METRICS:
                raise InputError(f"unknown metric {name!r}", hint=f"choose from {sorted(METRICS)}")
            for suffix, n, metrics in groups:
                m = _find(metrics, name)
                status: Status
                if m.value is None:
                    status = "error" if name in self.details.get("not_probabilities", ()) else "warn"
                elif m.higher_is_better:
                    status = "pass" if m.value >= threshold else "fail"
                else:
                    status = "pass" if m.value <= threshold else "fail"
                details = {k: v for k, v in m.to_dict().items() if k not in ("name", "value")}
                details["n"] = n
                out.append(Result(f"performance:{name}{suffix}", status, m.value, threshold, details))
        return out


# --- evaluate ---------------------------------------------------------------------------------------


def evaluate(
    y_true: ArrayLike,
    *,
    y_pred: ArrayLike | None = None,
    y_score: ArrayLike | None = None,
    task: Task | None = None,
    metrics: Sequence[str] | None = None,
    labels: Sequence[Any] | None = None,
    sample_weight: ArrayLike | None = None,
    n_boot: int = 200,
    ci: float = 0.95,
    seed: int = 0,
    segments: ArrayLike | None = None,
    windows: ArrayLike | None = None,
    window_size: float | str | dt.timedelta | np.timedelta64 | None = None,
) -> PerformanceReport:
    """Metrics of predictions against the truth, with percentile bootstrap intervals.

    ``task`` is inferred when ``None``: a 2-D ``y_score`` with 3+ columns is multiclass; a
    float ``y_true`` (or ``y_pred``, without ``y_score``) holding non-integers is regression;
    otherwise binary (≤ 2 classes) or multiclass. For binary, ``y_score`` is the positive-class
    score and ``labels`` is ``(negative, positive)`` (default: sorted classes, the last one
    positive); for multiclass, ``y_score`` is ``(n, k)`` with columns in ``labels`` order
    (default: sorted classes). Without ``y_pred``, labels come from ``y_score`` (≥ 0.5 /
    argmax). ``metrics`` defaults to every metric of the task whose input is given.
    ``segments`` is a column of group labels; ``windows`` a column of window labels, or, with
    ``window_size`` (a number, a timedelta or text like ``"7D"``/``"1h"``), a time or numeric
    column cut into windows of that size. Resamples are shared by all metrics of a group.

    >>> r = evaluate([1.0, 2.0, 3.5], y_pred=[1.5, 2.0, 3.0], n_boot=0)
    >>> r.task, r.metric("mae").value
    ('regression', 0.3333333333333333)
    """
    yt = _labels(_column(y_true, "y_true"), "y_true")
    n = len(yt)
    if n == 0:
        raise InputError("y_true has no rows", hint="evaluate needs at least one labelled row")
    yp = None if y_pred is None else _labels(_column(y_pred, "y_pred", n), "y_pred", yt)
    ys = None if y_score is None else _scores(y_score, n)
    if yp is None and ys is None:
        raise InputError("give y_pred, y_score or both")
    if not 0 < ci < 1:
        raise InputError(f"ci must be between 0 and 1, not {ci}")
    w = np.ones(n)
    if sample_weight is not None:
        w = _floats(_column(sample_weight, "sample_weight", n), "sample_weight")
    not_prob = _not_probabilities(ys)
    task = task or _infer_task(yt, yp, ys)
    if task not in ("binary", "multiclass", "regression"):
        raise InputError(f"task must be 'binary', 'multiclass' or 'regression', not {task!r}")
    details: dict[str, Any] = {}
    classes: tuple[str, ...] = ()
    if task == "regression":
        if yp is None:
            raise InputError("regression needs y_pred")
        ys = None
        yt, yp = _floats(yt, "y_true"), _floats(yp, "y_pred")
    else:
        yt, yp, ys, classes = _encode(task, yt, yp, ys, labels, details)
    specs = _select(task, metrics, yp is not None, ys is not None)
    if ys is not None and not_prob:
        details["not_probabilities"] = [s.name for s in specs if s.name in _PROBABILITY_METRICS]
        details["not_probabilities_reason"] = not_prob

    def run(rows: NDArray[np.int64] | None, group: int) -> tuple[int, tuple[MetricValue, ...]]:
        t, x_l, x_s, ww = (_take(a, rows) for a in (yt, yp, ys, w))
        rng = np.random.default_rng([seed, group])
        assert t is not None and ww is not None
        return len(t), _measure(specs, t, x_l, x_s, ww, n_boot, ci, rng, details)

    _, overall = run(None, 0)
    seg_groups = group_rows(segments, n, "segments", None)
    win_groups = group_rows(windows, n, "windows", window_size)
    segs = tuple(GroupPerformance(lab, *run(rows, 1 + i)) for i, (lab, rows) in enumerate(seg_groups))
    off = 1 + len(seg_groups)
    wins = tuple(GroupPerformance(lab, *run(rows, off + i)) for i, (lab, rows) in enumerate(win_groups))
    return PerformanceReport(task, n, overall, segs, wins, classes, n_boot, ci, details)


def _measure(
    specs: list[MetricSpec],
    yt: NDArray[Any],
    yp: NDArray[Any] | None,
    ys: _F | None,
    w: _F,
    n_boot: int,
    ci: float,
    rng: np.random.Generator,
    details: dict[str, Any],
) -> tuple[MetricValue, ...]:
    n = len(yt)
    inputs = [(s, yp if s.needs == "label" else ys) for s in specs]
    if n == 0:
        return tuple(
            MetricValue(s.name, None, None, None, 0, s.higher_is_better, 0, "no rows") for s in specs
        )
    point = {s.name: float(s.batch(yt, x, w[None, :])[0]) for s, x in inputs}  # type: ignore[arg-type]
    boots: dict[str, list[_F]] = {s.name: [] for s in specs}
    chunk = max(1, _CELLS_PER_CHUNK // n)
    done = 0
    while done < n_boot:
        b = min(chunk, n_boot - done)
        idx = rng.integers(0, n, size=(b, n)) + (np.arange(b) * n)[:, None]
        W = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n) * w
        for s, x in inputs:
            boots[s.name].append(s.batch(yt, x, W))  # type: ignore[arg-type]
        done += b
    not_prob = details.get("not_probabilities", [])
    out = []
    for s in specs:
        value = point[s.name]
        if s.name in not_prob:
            out.append(
                MetricValue(
                    s.name,
                    None,
                    None,
                    None,
                    n,
                    s.higher_is_better,
                    0,
                    details.get("not_probabilities_reason", "y_score is not a probability"),
                )
            )
            continue
        b_all = np.concatenate(boots[s.name]) if boots[s.name] else np.empty(0)
        b_ok = b_all[np.isfinite(b_all)]
        lo = hi = None
        if b_ok.size:
            q = np.quantile(b_ok, [(1 - ci) / 2, (1 + ci) / 2])
            lo, hi = float(q[0]), float(q[1])
        if not math.isfinite(value):
            out.append(MetricValue(s.name, None, None, None, n, s.higher_is_better, int(b_ok.size), s.reason))
        else:
            out.append(MetricValue(s.name, value, lo, hi, n, s.higher_is_better, int(b_ok.size)))
    return tuple(out)


def _column(x: ArrayLike, name: str, n: int | None = None) -> NDArray[Any]:
    a = np.asarray(x)
    if a.ndim != 1:
        raise InputError(f"{name} must be one-dimensional, got shape {a.shape}")
    if n is not None and len(a) != n:
        raise InputError(f"{name} has {len(a)} rows but y_true has {n}")
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        row = int(np.flatnonzero(~np.isfinite(a))[0])
        raise InputError(f"{name} has missing or infinite values", row=row, hint="drop those rows first")
    return a


def _labels(a: NDArray[Any], name: str, like: NDArray[Any] | None = None) -> NDArray[Any]:
    """``a`` checked as labels: no None/NaN, no text mixed with numbers, the same kind as ``like``."""
    values = a.tolist() if a.dtype.kind == "O" else []
    for row, v in enumerate(values):
        if v is None or v != v or isinstance(v, str) != isinstance(values[0], str):
            raise InputError(f"{name} has a missing value or mixes text and numbers: {v!r}", row=row)
    if like is not None and len(a) and _text(a) != _text(like):
        raise InputError(
            f"y_true and {name} hold different label types: "
            f"{like[:1].tolist()[0]!r} vs {a[:1].tolist()[0]!r}",
            hint="give both the same label type, e.g. both 0/1 or both text",
        )
    return a


def _text(a: NDArray[Any]) -> bool:
    return a.dtype.kind in "US" or (a.dtype.kind == "O" and len(a) > 0 and isinstance(a[0], str))


def _not_probabilities(ys: _F | None) -> str | None:
    """Why ``ys`` is not probabilities (a value outside [0, 1], a row not summing to 1), or None."""
    if ys is None or not ys.size:
        return None
    outside = ((ys < 0) | (ys > 1)).reshape(len(ys), -1).any(axis=1)
    if outside.any():
        return f"y_score is not a probability in [0, 1] (row {int(np.flatnonzero(outside)[0])})"
    off = ys.ndim == 2 and np.abs(ys.sum(axis=1) - 1) > 1e-3
    if np.any(off):
        return f"y_score rows do not sum to 1 (row {int(np.flatnonzero(off)[0])})"
    return None


def _floats(a: NDArray[Any], name: str) -> _F:
    try:
        f = a.astype(float)
    except (TypeError, ValueError) as exc:
        values = a.tolist()
        row = next((i for i, v in enumerate(values) if not _is_number(v)), 0)
        raise InputError(f"{name} must be numeric, not {values[row]!r}", row=row) from exc
    if not np.isfinite(f).all():
        row = int(np.flatnonzero(~np.isfinite(f))[0])
        raise InputError(f"{name} has missing or infinite values", row=row, hint="drop those rows first")
    return f


def _is_number(value: Any) -> bool:
    try:
        float(value)
    except (TypeError, ValueError):
        return False
    return True


def _scores(x: ArrayLike, n: int) -> _F:
    try:
        a = np.asarray(x, dtype=float)
    except (TypeError, ValueError) as exc:
        raise InputError(f"y_score must be numeric: {exc}") from exc
    if a.ndim not in (1, 2) or len(a) != n:
        raise InputError(f"y_score must have {n} rows (1-D for binary, (n, k) for multiclass), got {a.shape}")
    if not np.isfinite(a).all():
        row = int(np.flatnonzero(~np.isfinite(a).reshape(n, -1).all(axis=1))[0])
        raise InputError("y_score has missing or infinite values", row=row, hint="drop those rows first")
    return a


def _infer_task(yt: NDArray[Any], yp: NDArray[Any] | None, ys: _F | None) -> Task:
    if ys is not None and ys.ndim == 2 and ys.shape[1] > 2:
        return "multiclass"

    def fractional(a: NDArray[Any] | None) -> bool:
        return a is not None and a.dtype.kind == "f" and bool(np.any(a != np.round(a)))

    if fractional(yt) or (ys is None and fractional(yp)):
        return "regression"
    both = yt if yp is None else np.concatenate([yt, yp])
    return "binary" if len(np.unique(both)) <= 2 else "multiclass"


def _encode(
    task: Task,
    yt: NDArray[Any],
    yp: NDArray[Any] | None,
    ys: _F | None,
    labels: Sequence[Any] | None,
    details: dict[str, Any],
) -> tuple[NDArray[np.int64], NDArray[np.int64] | None, _F | None, tuple[str, ...]]:
    if labels is not None:
        classes = _labels(np.asarray(labels), "labels", yt)
    else:
        both = yt if yp is None else np.concatenate([yt, yp])
        classes = np.unique(both)
        if task == "binary" and len(classes) < 2:
            if classes.size and (classes.dtype.kind == "b" or set(classes.tolist()) <= {0, 1}):
                classes = np.asarray([False, True] if classes.dtype.kind == "b" else [0, 1])
            else:
                raise InputError("y_true has a single class", hint="pass labels=(negative, positive)")
    k = len(classes)
    if (task == "binary" and k != 2) or (task == "multiclass" and k < 2):
        raise InputError(f"{task} needs {'2' if task == 'binary' else 'at least 2'} classes, got {k}")
    if ys is not None:
        if task == "binary" and ys.ndim == 2:
            if ys.shape[1] != 2:
                raise InputError(f"binary y_score must be 1-D or have 2 columns, got {ys.shape}")
            ys = ys[:, 1]
        if task == "multiclass" and (ys.ndim != 2 or ys.shape[1] != k):
            raise InputError(f"multiclass y_score must have one column per class ({k}), got {ys.shape}")
    t = _codes(yt, classes, "y_true")
    p = None if yp is None else _codes(yp, classes, "y_pred")
    if p is None and ys is not None and (task == "multiclass" or (ys.min() >= 0 and ys.max() <= 1)):
        p = np.argmax(ys, axis=1) if task == "multiclass" else (ys >= 0.5).astype(np.int64)
        details["y_pred_from_score"] = True
    return t, p, ys, tuple(str(c) for c in classes.tolist())


def _codes(a: NDArray[Any], classes: NDArray[Any], name: str) -> NDArray[np.int64]:
    order = np.argsort(classes, kind="stable")
    srt = classes[order]
    pos = np.clip(np.searchsorted(srt, a), 0, len(srt) - 1)
    bad = srt[pos] != a
    if np.any(bad):
        row = int(np.argmax(bad))
        raise InputError(
            f"{name} holds a value that is not a class label: {a[row].tolist()!r}",
            row=row,
            hint=f"labels are {classes.tolist()}",
        )
    return order[pos].astype(np.int64)


def _select(task: Task, names: Sequence[str] | None, has_label: bool, has_score: bool) -> list[MetricSpec]:
    def available(s: MetricSpec) -> bool:
        return has_label if s.needs == "label" else has_score

    if names is None:
        return [s for s in METRICS.values() if task in s.tasks and available(s)]
    out = []
    for name in names:
        spec = METRICS.get(name)
        if spec is None:
            raise InputError(f"unknown metric {name!r}", hint=f"choose from {sorted(METRICS)}")
        if task not in spec.tasks:
            raise InputError(f"metric {name!r} is not a {task} metric", hint=f"it is for {list(spec.tasks)}")
        if not available(spec):
            raise InputError(f"metric {name!r} needs {'y_pred' if spec.needs == 'label' else 'y_score'}")
        out.append(spec)
    return out


_UNIT_SECONDS = {"s": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 604800}


def _take(a: NDArray[Any] | None, rows: NDArray[np.int64] | None) -> NDArray[Any] | None:
    return a if a is None or rows is None else a[rows]


def group_rows(
    x: ArrayLike | None, n: int, name: str, size: float | str | dt.timedelta | np.timedelta64 | None
) -> list[tuple[str, NDArray[np.int64]]]:
    """(label, row indices) per distinct value of ``x`` (binned by ``size``), in sorted order."""
    if x is None:
        return []
    a = _column(x, name, n)
    if size is not None:
        a = _bin(a, size, name)
    if a.dtype == object:
        a = a.astype(str)
    uniq, inv = np.unique(a, return_inverse=True)
    order = np.argsort(inv, kind="stable")
    bounds = np.searchsorted(inv[order], np.arange(len(uniq) + 1))
    text = np.datetime_as_string(uniq) if uniq.dtype.kind == "M" else uniq.astype(str)
    return [(str(text[i]), order[bounds[i] : bounds[i + 1]]) for i in range(len(uniq))]


def _bin(a: NDArray[Any], size: float | str | dt.timedelta | np.timedelta64, name: str) -> NDArray[Any]:
    if a.dtype.kind == "M":
        if isinstance(size, str):
            m = re.fullmatch(r"\s*(\d+)\s*([a-zA-Z]+)\s*", size)
            unit = _UNIT_SECONDS.get(m.group(2).lower()) if m else None
            if m is None or unit is None:
                raise InputError(f"window_size {size!r} is not like '7D', '1h', '30min' or '10s'")
            step = np.timedelta64(int(m.group(1)) * unit * 10**9, "ns")
        elif isinstance(size, (dt.timedelta, np.timedelta64)):
            step = np.timedelta64(size).astype("timedelta64[ns]")
        else:
            raise InputError(f"window_size for a time column must be a duration, not {size!r}")
        ns = a.astype("datetime64[ns]").astype(np.int64)
        width = int(step.astype(np.int64))
        if width <= 0:
            raise InputError("window_size must be positive")
        return ((ns // width) * width).astype("datetime64[ns]")
    if a.dtype.kind in "iuf" and isinstance(size, (int, float)) and size > 0:
        return np.floor(a.astype(float) / size) * size
    raise InputError(
        f"cannot cut {name} into windows of {size!r}",
        hint="use a time column with a duration, or a numeric column with a positive number",
    )
