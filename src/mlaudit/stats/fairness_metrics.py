"""Fairness metrics as plain functions, and :class:`FairnessFrame`, which evaluates them per group.

A metric is a function ``f(y_true, y_pred, *, sample_weight=None) -> float`` on 0/1 arrays
(score metrics take scores in [0, 1] in place of ``y_pred``). :data:`METRICS` and
:data:`SCORE_METRICS` name them for YAML and the CLI; adding one means one function plus one
line in one table. Every built-in metric is computed from the weighted confusion counts of each
group (``np.bincount`` over group codes), so the same formula serves one group, all groups
and all bootstrap replicates at once.

**Undefined rates.** A rate whose denominator is zero in a group — ``tpr``/``fnr`` without
positives, ``fpr``/``tnr`` without negatives, ``precision`` without predicted positives — is
NaN here (``null`` in JSON) and is left out of :meth:`FairnessFrame.difference` and
:meth:`FairnessFrame.ratio`. Fairlearn reports 0 for such rates instead (``confusion_matrix``
with ``normalize="true"``); where Fairlearn's rate is defined our numbers equal its numbers.

>>> selection_rate([0, 1, 1, 0], [1, 1, 0, 0])
0.5
>>> frame = FairnessFrame.compute(
...     ["selection_rate"], [0, 1, 1, 0], [1, 1, 0, 0], sensitive={"sex": ["F", "F", "M", "M"]}
... )
>>> frame.groups, frame.by_group["selection_rate"], frame.difference()["selection_rate"]
(({'sex': 'F'}, {'sex': 'M'}), (1.0, 0.0), 1.0)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from mlaudit.errors import InputError

__all__ = [
    "CALIBRATION_BINS",
    "METRICS",
    "SCORE_METRICS",
    "FairnessFrame",
    "MetricFn",
    "accuracy",
    "calibration_gap",
    "encode_groups",
    "error_rate",
    "false_negative_rate",
    "false_positive_rate",
    "mean_score",
    "precision",
    "selection_rate",
    "true_negative_rate",
    "true_positive_rate",
]

MetricFn = Callable[..., float]
CALIBRATION_BINS = 10
# Confusion counts are laid out as [tn, fp, fn, tp] = index 2 * y_true + y_pred.
_TN, _FP, _FN, _TP = 0, 1, 2, 3


def _div(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """``num / den`` with NaN where ``den`` is 0 (an undefined rate), never a warning."""
    out = np.full(np.broadcast(num, den).shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


def _total(c: np.ndarray) -> np.ndarray:
    return np.asarray(c.sum(axis=-1))


# Rates from confusion counts ``c[..., 4]``; vectorised over any leading axes (groups, replicates).
RATES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "selection_rate": lambda c: _div(c[..., _FP] + c[..., _TP], _total(c)),
    "tpr": lambda c: _div(c[..., _TP], c[..., _TP] + c[..., _FN]),
    "fpr": lambda c: _div(c[..., _FP], c[..., _FP] + c[..., _TN]),
    "fnr": lambda c: _div(c[..., _FN], c[..., _TP] + c[..., _FN]),
    "tnr": lambda c: _div(c[..., _TN], c[..., _FP] + c[..., _TN]),
    "precision": lambda c: _div(c[..., _TP], c[..., _TP] + c[..., _FP]),
    "accuracy": lambda c: _div(c[..., _TP] + c[..., _TN], _total(c)),
    "error_rate": lambda c: _div(c[..., _FP] + c[..., _FN], _total(c)),
}


def binary(values: Any, name: str) -> np.ndarray:
    """``values`` as an int8 array of 0/1; InputError naming ``name`` for anything else."""
    arr = np.asarray(values)
    if arr.dtype == bool:
        return arr.astype(np.int8)
    if arr.dtype.kind not in "iuf":
        raise InputError(f"{name} must hold 0/1 values, found dtype {arr.dtype}", column=name)
    bad = ~((arr == 0) | (arr == 1))
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise InputError(f"{name} must hold 0/1 values, found {arr[row].item()!r}", column=name, row=row)
    return arr.astype(np.int8)


def scores(values: Any, name: str) -> np.ndarray:
    """``values`` as float64 scores in [0, 1]; InputError naming ``name`` otherwise."""
    arr = np.asarray(values)
    if arr.dtype.kind not in "iufb":
        raise InputError(f"{name} must hold numeric scores, found dtype {arr.dtype}", column=name)
    arr = arr.astype(np.float64)
    bad = ~((arr >= 0) & (arr <= 1))  # NaN is bad too
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        found = arr[row].item()
        raise InputError(f"{name} must hold scores in [0, 1], found {found!r}", column=name, row=row)
    return arr


def weights(sample_weight: Any, n: int) -> np.ndarray | None:
    if sample_weight is None:
        return None
    try:
        w = np.asarray(sample_weight, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise InputError(f"sample_weight must be numbers: {exc}") from exc
    if w.shape != (n,) or not np.all(np.isfinite(w)) or (w < 0).any():
        raise InputError(f"sample_weight must be {n} finite numbers >= 0")
    return w


def confusion(
    codes: np.ndarray, n_groups: int, y: np.ndarray, p: np.ndarray, w: np.ndarray | None
) -> np.ndarray:
    """Weighted confusion counts ``[tn, fp, fn, tp]`` per group code, shape ``(n_groups, 4)``."""
    cell = codes.astype(np.int64) * 4 + y.astype(np.int64) * 2 + p
    return np.bincount(cell, weights=w, minlength=4 * n_groups).reshape(n_groups, 4).astype(np.float64)


def score_sums(
    codes: np.ndarray, n_groups: int, y: np.ndarray, s: np.ndarray, w: np.ndarray | None
) -> np.ndarray:
    """Per group and score bin: weight, weighted score sum, weighted positives; ``(n_groups, bins, 3)``."""
    bins = np.minimum((s * CALIBRATION_BINS).astype(np.int64), CALIBRATION_BINS - 1)
    cell = codes.astype(np.int64) * CALIBRATION_BINS + bins
    size = n_groups * CALIBRATION_BINS
    if w is None:
        parts = [np.bincount(cell, weights=v, minlength=size) for v in (None, s, y)]
    else:
        parts = [np.bincount(cell, weights=v, minlength=size) for v in (w, w * s, w * y)]
    return np.stack(parts, axis=-1).reshape(n_groups, CALIBRATION_BINS, 3)


def score_rates(sums: np.ndarray) -> dict[str, np.ndarray]:
    """``mean_score`` and the ECE-style ``calibration_gap`` from :func:`score_sums` output."""
    weight = sums[..., 0].sum(axis=-1)
    return {
        "mean_score": _div(sums[..., 1].sum(axis=-1), weight),
        "calibration_gap": _div(np.abs(sums[..., 1] - sums[..., 2]).sum(axis=-1), weight),
    }


def _one(rate: str, y_true: Any, y_pred: Any, sample_weight: Any) -> float:
    y, p = binary(y_true, "y_true"), binary(y_pred, "y_pred")
    if len(y) != len(p):
        raise InputError(f"y_true has {len(y)} values but y_pred has {len(p)}")
    c = confusion(np.zeros(len(y), np.int64), 1, y, p, weights(sample_weight, len(y)))
    return float(RATES[rate](c)[0])


def selection_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of predicted positives. ``selection_rate([0, 0], [1, 0]) == 0.5``."""
    return _one("selection_rate", y_true, y_pred, sample_weight)


def true_positive_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Recall; NaN without positives. ``true_positive_rate([1, 1], [1, 0]) == 0.5``."""
    return _one("tpr", y_true, y_pred, sample_weight)


def false_positive_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """NaN without negatives. ``false_positive_rate([0, 0], [1, 0]) == 0.5``."""
    return _one("fpr", y_true, y_pred, sample_weight)


def false_negative_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """NaN without positives. ``false_negative_rate([1, 1], [1, 0]) == 0.5``."""
    return _one("fnr", y_true, y_pred, sample_weight)


def true_negative_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Specificity; NaN without negatives. ``true_negative_rate([0, 0], [1, 0]) == 0.5``."""
    return _one("tnr", y_true, y_pred, sample_weight)


def precision(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """NaN without predicted positives. ``precision([1, 0], [1, 1]) == 0.5``."""
    return _one("precision", y_true, y_pred, sample_weight)


def accuracy(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """Share of correct predictions. ``accuracy([1, 0], [1, 1]) == 0.5``."""
    return _one("accuracy", y_true, y_pred, sample_weight)


def error_rate(y_true: Any, y_pred: Any, *, sample_weight: Any = None) -> float:
    """``1 - accuracy``. ``error_rate([1, 0], [1, 1]) == 0.5``."""
    return _one("error_rate", y_true, y_pred, sample_weight)


def _one_score(name: str, y_true: Any, y_score: Any, sample_weight: Any) -> float:
    y, s = binary(y_true, "y_true"), scores(y_score, "y_score")
    if len(y) != len(s):
        raise InputError(f"y_true has {len(y)} values but y_score has {len(s)}")
    sums = score_sums(np.zeros(len(y), np.int64), 1, y, s, weights(sample_weight, len(y)))
    return float(score_rates(sums)[name][0])


def mean_score(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Mean predicted score. ``mean_score([0, 1], [0.2, 0.6]) == 0.4``."""
    return _one_score("mean_score", y_true, y_score, sample_weight)


def calibration_gap(y_true: Any, y_score: Any, *, sample_weight: Any = None) -> float:
    """Expected calibration error over 10 equal-width score bins: ``Σ_b w_b |mean score_b − rate_b|``.

    >>> round(calibration_gap([0, 1, 1, 1], [0.9, 0.9, 0.9, 0.9]), 6)
    0.15
    """
    return _one_score("calibration_gap", y_true, y_score, sample_weight)


METRICS: dict[str, MetricFn] = {
    "selection_rate": selection_rate,
    "tpr": true_positive_rate,
    "recall": true_positive_rate,
    "fpr": false_positive_rate,
    "fnr": false_negative_rate,
    "tnr": true_negative_rate,
    "precision": precision,
    "accuracy": accuracy,
    "error_rate": error_rate,
}
SCORE_METRICS: dict[str, MetricFn] = {"mean_score": mean_score, "calibration_gap": calibration_gap}


def _as_array(values: Any) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    arr = values if isinstance(values, pa.Array) else pa.array(np.asarray(values).tolist())
    if pa.types.is_dictionary(arr.type):
        arr = arr.cast(arr.type.value_type)
    return arr


def encode_groups(sensitive: Mapping[str, Any]) -> tuple[np.ndarray, tuple[dict[str, Any], ...]]:
    """Group code per row and the group keys, sorted by value per column; several columns give
    their observed intersections. Nulls form their own group (key ``None``), sorted last.

    >>> codes, keys = encode_groups({"sex": ["M", "F", "M"], "age": [1, 1, 2]})
    >>> codes.tolist(), keys
    ([1, 0, 2], ({'sex': 'F', 'age': 1}, {'sex': 'M', 'age': 1}, {'sex': 'M', 'age': 2}))
    """
    if not sensitive:
        raise InputError("at least one sensitive column is needed")
    names = list(sensitive)
    codes: np.ndarray | None = None
    key_codes = np.zeros((1, 0), np.int64)
    values: list[list[Any]] = []
    for name in names:
        arr = _as_array(sensitive[name])
        if codes is not None and len(arr) != len(codes):
            raise InputError(f"sensitive column has {len(arr)} values, expected {len(codes)}", column=name)
        enc = arr.dictionary_encode(null_encoding="encode")
        order = np.asarray(pc.array_sort_indices(enc.dictionary, null_placement="at_end"), np.int64)
        rank = np.empty(len(order), np.int64)
        rank[order] = np.arange(len(order))
        col = rank[np.asarray(enc.indices, np.int64)]
        values.append(enc.dictionary.take(pa.array(order)).to_pylist())
        size = len(order)
        combined = col if codes is None else codes * size + col
        uniq, codes = np.unique(combined, return_inverse=True)
        parent = key_codes[uniq // size] if key_codes.shape[1] else np.zeros((len(uniq), 0), np.int64)
        key_codes = np.column_stack([parent, uniq % size])
    assert codes is not None
    keys = tuple(
        {n: values[j][k] for j, (n, k) in enumerate(zip(names, row, strict=True))} for row in key_codes
    )
    return codes.astype(np.int64), keys


def _spread(values: np.ndarray, use: np.ndarray) -> tuple[float, float]:
    """(max − min, min / max) of the defined values where ``use``; NaN with fewer than two."""
    v = values[use & ~np.isnan(values)]
    if len(v) < 2:
        return float("nan"), float("nan")
    hi, lo = float(v.max()), float(v.min())
    return hi - lo, (lo / hi if hi > 0 else float("nan"))


@dataclass(frozen=True)
class FairnessFrame:
    """Metrics overall and per group, like Fairlearn's ``MetricFrame`` but always the same types:
    ``groups`` is a tuple of keys, ``by_group[metric]`` a tuple of floats aligned with it,
    ``overall`` a dict, :meth:`difference`/:meth:`ratio` dicts of floats (NaN when undefined).

    Groups smaller than ``min_group_size`` are listed (``judged[i]`` is False) but left out of
    :meth:`difference` and :meth:`ratio`, as are NaN (undefined) values.
    """

    metrics: tuple[str, ...]
    sensitive: tuple[str, ...]
    groups: tuple[dict[str, Any], ...]
    counts: tuple[int, ...]
    judged: tuple[bool, ...]
    by_group: dict[str, tuple[float, ...]] = field(default_factory=dict)
    overall: dict[str, float] = field(default_factory=dict)

    @classmethod
    def compute(
        cls,
        metrics: Mapping[str, MetricFn] | Sequence[str],
        y_true: Any,
        y_pred: Any,
        *,
        sensitive: Mapping[str, Any],
        sample_weight: Any = None,
        min_group_size: int = 0,
    ) -> FairnessFrame:
        """Evaluate each metric on every group (one call per group, never per row) and overall.

        ``metrics`` is a mapping of names to functions, or names from :data:`METRICS` and
        :data:`SCORE_METRICS`. The functions see NumPy slices of ``y_true``/``y_pred``.
        """
        table = _resolve(metrics)
        yt, yp = np.asarray(y_true), np.asarray(y_pred)
        if len(yt) != len(yp):
            raise InputError(f"y_true has {len(yt)} values but y_pred has {len(yp)}")
        w = weights(sample_weight, len(yt))
        codes, keys = encode_groups(sensitive)
        if len(codes) != len(yt):
            raise InputError(f"sensitive columns have {len(codes)} values but y_true has {len(yt)}")
        counts = np.bincount(codes, minlength=len(keys))
        order = np.argsort(codes, kind="stable")
        slices = np.split(order, np.cumsum(counts)[:-1])

        def call(fn: MetricFn, idx: np.ndarray | None) -> float:
            if idx is None:
                return float(fn(yt, yp, sample_weight=w))
            return float(fn(yt[idx], yp[idx], sample_weight=None if w is None else w[idx]))

        by_group = {name: tuple(call(fn, idx) for idx in slices) for name, fn in table.items()}
        overall = {name: call(fn, None) for name, fn in table.items()}
        return cls(
            metrics=tuple(table),
            sensitive=tuple(sensitive),
            groups=keys,
            counts=tuple(int(c) for c in counts),
            judged=tuple(bool(c >= min_group_size) for c in counts),
            by_group=by_group,
            overall=overall,
        )

    def difference(self) -> dict[str, float]:
        """Per metric, the largest minus the smallest value over judged groups."""
        use = np.array(self.judged, bool)
        return {m: _spread(np.array(v, np.float64), use)[0] for m, v in self.by_group.items()}

    def ratio(self) -> dict[str, float]:
        """Per metric, the smallest over the largest value over judged groups (NaN if the largest is 0)."""
        use = np.array(self.judged, bool)
        return {m: _spread(np.array(v, np.float64), use)[1] for m, v in self.by_group.items()}


def _resolve(metrics: Mapping[str, MetricFn] | Sequence[str]) -> dict[str, MetricFn]:
    if isinstance(metrics, Mapping):
        return dict(metrics)
    known = {**METRICS, **SCORE_METRICS}
    unknown = [m for m in metrics if m not in known]
    if unknown:
        raise InputError(f"unknown metric {unknown[0]!r}; choose from {', '.join(sorted(known))}")
    return {m: known[m] for m in metrics}
