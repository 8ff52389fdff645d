"""Weak segments: readable slices of the data where the model does significantly worse.

:func:`weak_segments` fits a shallow :class:`sklearn.tree.DecisionTreeClassifier` on the
features to predict the per-row error indicator, then reads each leaf as a conjunction of
conditions (``age <= 24.5 and region = N``). The metric is a proportion of correct rows
among the rows it is defined on:

============  ================================  =========================
metric        rows it looks at                  a row is an error when
============  ================================  =========================
accuracy      all                               ``y_pred != y_true``
recall        ``y_true == positive``            ``y_pred != positive``
specificity   ``y_true != positive``            ``y_pred == positive``
precision     ``y_pred == positive``            ``y_true != positive``
============  ================================  =========================

Encoding: numeric columns are used as numbers (nulls imputed with the median plus a
``<col> is null`` indicator column when there are nulls); every other column is one-hot
encoded over its ``max_categories`` most frequent values (nulls are their own value), so
conditions read ``region = N`` / ``region != N``. The tree puts null numbers at the median,
so a segment's ``size`` and metrics (from the tree) can include null rows that its readable
conditions, and :meth:`Segment.mask`, leave out.

The test is *honest*: the tree is grown on a random half of the rows and each leaf's error
rate inside vs outside is compared on the other half with a one-sided Fisher exact test,
Benjamini–Hochberg adjusted across leaves. Segments with ``q_value <= alpha`` and at least
``min_size`` rows overall are returned, worst gap first; the reported metrics and counts are
over all rows.

>>> import numpy as np
>>> rng = np.random.default_rng(0)
>>> age = rng.integers(18, 70, 4000)
>>> wrong = rng.random(4000) < np.where(age < 25, 0.5, 0.05)
>>> y = rng.integers(0, 2, 4000)
>>> report = weak_segments({"age": age}, y, np.where(wrong, 1 - y, y), max_depth=1)
>>> report.segments[0].description
'age <= 24.5'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table
from mlaudit.stats.result import Result, Status

__all__ = ["Condition", "Segment", "WeakSegments", "weak_segments"]

SCHEMA_VERSION = 1
SegmentMetric = Literal["accuracy", "recall", "precision", "specificity"]
_Op = Literal["<=", ">", "=", "!=", "is null", "is not null"]


@dataclass(frozen=True)
class Condition:
    """One test on one column: ``age <= 24.5``, ``region = N``, ``income is null``."""

    column: str
    op: _Op
    value: Any = None

    def __str__(self) -> str:
        if self.op in ("is null", "is not null"):
            return f"{self.column} {self.op}"
        value = f"{self.value:g}" if isinstance(self.value, float) else str(self.value)
        return f"{self.column} {self.op} {value}"

    def mask(self, table: pa.Table) -> NDArray[np.bool_]:
        """Rows of ``table`` that meet the condition (nulls never meet a comparison)."""
        col = table.column(self.column)
        if self.op in ("is null", "is not null"):
            nulls = np.asarray(col.is_null().to_numpy(zero_copy_only=False), dtype=bool)
            return nulls if self.op == "is null" else ~nulls
        if self.op in ("<=", ">"):
            x = np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
            with np.errstate(invalid="ignore"):
                return np.asarray(x <= self.value if self.op == "<=" else x > self.value, dtype=bool)
        hit = np.array([v == self.value for v in col.to_pylist()], dtype=bool)
        return hit if self.op == "=" else ~hit

    def to_dict(self) -> dict[str, Any]:
        return {"column": self.column, "op": self.op, "value": self.value}


@dataclass(frozen=True)
class Segment:
    """A leaf of the error tree: its conditions, size, and the metric inside vs outside it."""

    conditions: tuple[Condition, ...]
    size: int  # rows the metric is defined on, inside the segment
    errors: int
    metric_inside: float
    metric_outside: float
    p_value: float
    q_value: float

    @property
    def description(self) -> str:
        return " and ".join(str(c) for c in self.conditions) or "all rows"

    @property
    def gap(self) -> float:
        """How much worse the metric is inside than outside."""
        return self.metric_outside - self.metric_inside

    def mask(self, table: TableLike) -> NDArray[np.bool_]:
        """Rows of ``table`` in the segment."""
        t = to_table(table)
        out = np.ones(t.num_rows, dtype=bool)
        for c in self.conditions:
            out &= c.mask(t)
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "description": self.description,
            "conditions": [c.to_dict() for c in self.conditions],
            "size": self.size,
            "errors": self.errors,
            "metric_inside": self.metric_inside,
            "metric_outside": self.metric_outside,
            "gap": self.gap,
            "p_value": self.p_value,
            "q_value": self.q_value,
        }


@dataclass(frozen=True)
class WeakSegments:
    """Significantly worse segments (``segments``, worst first) among all tree ``leaves``."""

    metric: str
    overall: float
    rows: int
    alpha: float
    segments: tuple[Segment, ...]
    leaves: tuple[Segment, ...]

    def result(self, threshold: float = 0.1) -> Result:
        """``fail`` when a significant segment's gap exceeds ``threshold``, ``warn`` when there are
        significant segments with smaller gaps, else ``pass``; ``value`` is the largest gap."""
        top = max((s.gap for s in self.segments), default=0.0)
        status: Status = "pass" if not self.segments else ("fail" if top > threshold else "warn")
        return Result("validation:weak_segments", status, top, threshold, self.to_dict())

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "weak_segments",
            "schema_version": SCHEMA_VERSION,
            "metric": self.metric,
            "overall": self.overall,
            "rows": self.rows,
            "alpha": self.alpha,
            "segments": [s.to_dict() for s in self.segments],
            "leaves": [s.to_dict() for s in self.leaves],
        }


def _bh(p: NDArray[np.float64]) -> NDArray[np.float64]:
    """Benjamini–Hochberg adjusted p-values."""
    m = len(p)
    if m == 0:
        return p
    order = np.argsort(p)
    scaled = p[order] * m / np.arange(1, m + 1)
    q = np.minimum.accumulate(scaled[::-1])[::-1]
    out = np.empty(m)
    out[order] = np.minimum(q, 1.0)
    return out


def _encode(
    table: pa.Table, features: Sequence[str], max_categories: int
) -> tuple[NDArray[np.float64], list[tuple[str, str, Any]]]:
    """Design matrix and, per column, ``(feature, "num"|"null"|"cat", value)``."""
    columns: list[NDArray[np.float64]] = []
    meta: list[tuple[str, str, Any]] = []
    for name in features:
        col = table.column(name)
        t = col.type
        if pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t):
            x = np.asarray(col.cast(pa.float64()).to_numpy(zero_copy_only=False), dtype=float)
            nulls = np.isnan(x)
            fill = float(np.nanmedian(x)) if (~nulls).any() else 0.0
            columns.append(np.where(nulls, fill, x))
            meta.append((name, "num", None))
            if nulls.any():
                columns.append(nulls.astype(float))
                meta.append((name, "null", None))
            continue
        values = col.to_pylist()
        counts: dict[Any, int] = {}
        for v in values:
            counts[v] = counts.get(v, 0) + 1
        top = sorted(counts, key=lambda v: -counts[v])[:max_categories]
        for level in top:
            columns.append(np.array([v == level for v in values], dtype=float))
            meta.append((name, "cat", level))
    return np.column_stack(columns), meta


def _path_conditions(
    path: list[tuple[int, bool, float]], meta: list[tuple[str, str, Any]]
) -> list[Condition]:
    """Turn ``(feature index, went left, threshold)`` steps into simplified conditions."""
    lows: dict[str, float] = {}
    highs: dict[str, float] = {}
    out: list[Condition] = []
    equals: set[str] = set()
    for j, left, thr in path:
        name, kind, level = meta[j]
        if kind == "num":
            if left:
                highs[name] = min(highs.get(name, math.inf), thr)
            else:
                lows[name] = max(lows.get(name, -math.inf), thr)
        elif kind == "null":
            out.append(Condition(name, "is not null" if left else "is null"))
        elif left:
            out.append(Condition(name, "!=", level))
        else:
            out.append(Condition(name, "=", level))
            equals.add(name)
    # a "region = N" makes every "region != M" redundant
    out = [c for c in out if not (c.op == "!=" and c.column in equals)]
    for name in dict.fromkeys([*lows, *highs]):
        if name in lows:
            out.append(Condition(name, ">", round(lows[name], 6)))
        if name in highs:
            out.append(Condition(name, "<=", round(highs[name], 6)))
    return out


def _leaf_paths(tree: Any) -> dict[int, list[tuple[int, bool, float]]]:
    paths: dict[int, list[tuple[int, bool, float]]] = {}
    stack: list[tuple[int, list[tuple[int, bool, float]]]] = [(0, [])]
    while stack:
        node, path = stack.pop()
        left, right = tree.children_left[node], tree.children_right[node]
        if left == right:  # a leaf
            paths[node] = path
            continue
        j, thr = int(tree.feature[node]), float(tree.threshold[node])
        stack.append((left, [*path, (j, True, thr)]))
        stack.append((right, [*path, (j, False, thr)]))
    return paths


def _relevant(
    metric: str, y_true: NDArray[Any], y_pred: NDArray[Any], positive: Any
) -> tuple[NDArray[np.bool_], NDArray[np.bool_]]:
    """Rows the metric is defined on, and the per-row error indicator."""
    if metric == "accuracy":
        return np.ones(len(y_true), dtype=bool), y_pred != y_true
    if metric == "recall":
        return y_true == positive, y_pred != positive
    if metric == "specificity":
        return y_true != positive, y_pred == positive
    if metric == "precision":
        return y_pred == positive, y_true != positive
    raise InputError(f"unknown metric {metric!r}; use accuracy, recall, precision or specificity")


def weak_segments(
    table: TableLike,
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    metric: SegmentMetric = "accuracy",
    features: Sequence[str] | None = None,
    positive: Any = 1,
    max_depth: int = 2,
    min_size: float = 50,
    alpha: float = 0.05,
    max_categories: int = 20,
    seed: int = 0,
) -> WeakSegments:
    """Slices where ``metric`` is significantly worse than in the rest of the data.

    ``min_size`` is a row count, or a share of the rows the metric is defined on when below 1.
    See the module docstring for the encoding and the test.
    """
    t = to_table(table)
    yt, yp = np.asarray(y_true), np.asarray(y_pred)
    if len(yt) != t.num_rows or len(yp) != t.num_rows:
        raise InputError(f"y_true ({len(yt)}) and y_pred ({len(yp)}) must have the table's {t.num_rows} rows")
    for name, a in (("y_true", yt), ("y_pred", yp)):
        bad = [i for i, v in enumerate(a.tolist()) if v is None or v != v] if a.dtype.kind in "fO" else []
        if bad:
            raise InputError(f"{name} has a missing value", row=bad[0], hint="drop those rows first")
    cols = list(features) if features is not None else list(t.column_names)
    for c in cols:
        if c not in t.column_names:
            raise InputError("no such feature column", column=c)
    if not cols:
        raise InputError("weak_segments needs at least one feature column")
    rows, error = _relevant(metric, yt, yp, positive)
    idx = np.flatnonzero(rows)
    n = len(idx)
    overall = 1 - float(error[idx].mean()) if n else math.nan
    smallest = math.ceil(min_size * n) if min_size < 1 else int(min_size)
    if n < 4 or not 0 < error[idx].mean() < 1:
        return WeakSegments(metric, overall, n, alpha, (), ())
    X, meta = _encode(t.take(pa.array(idx)), cols, max_categories)
    e = error[idx]
    fit = np.random.default_rng(seed).random(n) < 0.5
    test = ~fit
    from sklearn.tree import DecisionTreeClassifier

    tree = DecisionTreeClassifier(
        max_depth=max_depth, min_samples_leaf=max(1, smallest // 2), random_state=seed
    ).fit(X[fit], e[fit])
    leaf_of = tree.apply(X)
    paths = _leaf_paths(tree.tree_)
    found: list[tuple[list[Condition], NDArray[np.bool_], float]] = []
    for leaf, path in paths.items():
        inside = leaf_of == leaf
        a_in, a_out = inside & test, ~inside & test
        table2 = [
            [int(e[a_in].sum()), int((~e[a_in]).sum())],
            [int(e[a_out].sum()), int((~e[a_out]).sum())],
        ]
        if a_in.sum() == 0 or a_out.sum() == 0:
            p = 1.0
        else:
            p = float(stats.fisher_exact(table2, alternative="greater").pvalue)
        found.append((_path_conditions(path, meta), inside, p))
    q = _bh(np.array([p for _, _, p in found]))
    leaves: list[Segment] = []
    for (conds, inside, p), qv in zip(found, q, strict=True):
        out_rate = 1 - float(e[~inside].mean()) if (~inside).any() else math.nan
        leaves.append(
            Segment(
                tuple(conds),
                int(inside.sum()),
                int(e[inside].sum()),
                1 - float(e[inside].mean()),
                out_rate,
                p,
                float(qv),
            )
        )
    leaves.sort(key=lambda s: (-(s.gap if not math.isnan(s.gap) else -math.inf), s.p_value))
    weak = tuple(s for s in leaves if s.q_value <= alpha and s.size >= smallest and s.gap > 0)
    return WeakSegments(metric, overall, n, alpha, weak, tuple(leaves))
