"""Windows of a monitor: where they fall, what is computed over each, and the rules over their series.

Time windows are aligned to the epoch on the *slide* (the size when tumbling): window ``k`` is
``[k·slide, k·slide + size)``, so an hourly window always starts on the hour and a day is the
union of its 24 hourly windows. A time window is complete when its end is at or before
``until``. Count windows cut the rows ordered by ``time`` (then ``prediction_id``) into runs of
``size`` rows, starting every ``slide`` rows; only full runs are complete.

:class:`Baseline` is fitted once on the reference (drift detectors for the features and for the
model's output, the label-free performance estimator, profile kinds and bins); :func:`evaluate`
turns one window of the prediction log into flat ``metrics`` (what rules read), a ``document``
(everything, per-column p-values included) and a mergeable profile. :func:`evaluate_rules`
reads a series of window metrics. Pure functions: no store, no model.

>>> [w.start.hour for w in time_windows(parse_size("1h"), None, _t(0), _t(3))]
[0, 1, 2]
"""

from __future__ import annotations

import math
import operator
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from mlaudit.errors import InputError, MLAuditError

if TYPE_CHECKING:  # numpy and pyarrow are imported when a monitor runs, not with mlaudit
    import numpy as np
    import pyarrow as pa

__all__ = [
    "Baseline",
    "RuleOutcome",
    "Window",
    "count_windows",
    "evaluate",
    "evaluate_rules",
    "fit_baseline",
    "iso",
    "parse_size",
    "realised",
    "time_windows",
]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_SIZE = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True)
class Window:
    """One window: ``[start, end)`` in time; count windows also carry their row offsets."""

    start: datetime
    end: datetime
    first_row: int | None = None
    last_row: int | None = None  # exclusive

    @property
    def key(self) -> tuple[str, str]:
        return iso(self.start), iso(self.end)


def parse_size(text: str | int | float) -> timedelta:
    """``"5m"``, ``"1h"``, ``"1d"`` (also ``s``, ``w``) → a timedelta; anything else is an InputError."""
    if isinstance(text, str):
        m = _SIZE.match(text)
        if m and int(m.group(1)) > 0:
            return timedelta(seconds=int(m.group(1)) * _UNITS[m.group(2)])
    raise InputError(
        f"window size {text!r} is not a duration",
        hint='write a number and a unit: "30s", "5m", "1h", "1d", "1w"',
    )


def iso(value: datetime) -> str:
    """A timestamp as the store writes them (fixed width, so text order is time order)."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def time_windows(size: timedelta, slide: timedelta | None, first: datetime, until: datetime) -> list[Window]:
    """Complete windows (end ≤ ``until``) that can hold a row at or after ``first``."""
    step = slide or size
    if step > size:
        raise InputError(f"the slide ({step}) is longer than the window ({size}): rows would be skipped")
    step_s, size_s = step.total_seconds(), size.total_seconds()
    t0 = (first - _EPOCH).total_seconds()
    # the earliest window whose end is after `first`
    k = math.floor((t0 - size_s) / step_s) + 1
    out: list[Window] = []
    while True:
        start = _EPOCH + timedelta(seconds=k * step_s)
        end = start + size
        if end > until:
            return out
        out.append(Window(start, end))
        k += 1


def count_windows(times: np.ndarray, size: int, slide: int | None) -> list[Window]:
    """Full runs of ``size`` rows of ``times`` (sorted, datetime64[us]), one every ``slide`` rows.

    A count window's ``end`` is one microsecond after its last row, so ``[start, end)`` holds it.
    """
    step = slide or size
    if size < 1 or step < 1 or step > size:
        raise InputError(f"count windows need 1 <= slide <= size, not size={size}, slide={step}")
    out = []
    for lo in range(0, len(times) - size + 1, step):
        hi = lo + size
        start = _to_dt(times[lo])
        end = _to_dt(times[hi - 1]) + timedelta(microseconds=1)
        out.append(Window(start, end, lo, hi))
    return out


# --- what a window computes --------------------------------------------------------------------


@dataclass
class Baseline:
    """The reference, fitted once per run: detectors, estimator, profile kinds and bins."""

    features: list[str]
    task: str
    classes: list[Any]
    score_column: str | None  # the prediction-log column holding the positive-class score
    drift: Any  # DriftDetector over the features
    output: Any | None  # DriftDetector over the model's score
    estimator: Any | None  # PerformanceEstimator (binary classifiers with probabilities)
    reference_estimate: dict[str, float | None]
    kinds: dict[str, Any]
    bins: dict[str, np.ndarray]
    metrics: tuple[str, ...]
    min_labels: int
    reference_rows: int
    notes: list[str] = field(default_factory=list)


def fit_baseline(
    reference: pa.Table,
    *,
    features: Sequence[str],
    task: str,
    classes: Sequence[Any],
    scores: np.ndarray | None,
    labels: np.ndarray | None,
    metrics: Sequence[str],
    min_labels: int,
    seed: int = 0,
) -> Baseline:
    """Fit on the reference rows, the model's positive-class ``scores`` on them and their ``labels``."""
    import numpy as np
    import pyarrow as pa

    from mlaudit.stats.drift import DriftDetector
    from mlaudit.stats.estimation import ESTIMABLE, PerformanceEstimator
    from mlaudit.stats.profile import profile

    feats = list(features)
    missing = [f for f in feats if f not in reference.column_names]
    if missing:
        raise InputError(f"the reference lacks the model's features {missing}")
    binary = task == "binary" and len(classes) == 2
    score_column = f"proba_{classes[-1]}" if binary else ("score" if task == "regression" else None)
    cols: dict[str, Any] = {f: reference.column(f) for f in feats}
    if scores is not None:
        cols["score"] = pa.array(np.asarray(scores, dtype=float))
    frame = pa.table(cols)
    ref_profile = profile(frame)
    output = None if scores is None else DriftDetector(columns=["score"]).fit(frame)
    estimator, ref_est, notes = None, {}, []
    wanted = [m for m in metrics if m in ESTIMABLE] or ["roc_auc", "accuracy"]
    if binary and scores is not None and labels is not None:
        y = np.asarray([str(v) == str(classes[-1]) for v in labels], dtype=int)
        try:
            estimator = PerformanceEstimator(metrics=wanted, n_sim=200, seed=seed).fit(y, scores)
            ref_est = {m.name: m.value for m in estimator.reference_.metrics}
        except InputError as exc:  # the estimator says why it cannot estimate: keep going without
            notes.append(f"no label-free estimate: {exc}")
    return Baseline(
        feats,
        task,
        list(classes),
        score_column,
        DriftDetector(columns=feats).fit(frame),
        output,
        estimator,
        ref_est,
        ref_profile.kinds(),
        ref_profile.bins(),
        tuple(metrics),
        min_labels,
        reference.num_rows,
        notes,
    )


def window_frame(base: Baseline, table: pa.Table) -> pa.Table:
    """The columns a window is profiled on: the features and, when known, ``score``."""
    import pyarrow as pa

    cols: dict[str, Any] = {f: table.column(f) for f in base.features}
    if "score" in base.kinds:
        cols["score"] = _scores(base, table) if table.num_rows else pa.array([], pa.float64())
    return pa.table(cols)


def _scores(base: Baseline, table: pa.Table) -> pa.Array:
    import pyarrow as pa
    import pyarrow.compute as pc

    name = base.score_column
    if name is None or name not in table.column_names:
        raise InputError(f"the prediction log has no {name or 'score'} column for this model's output")
    return pc.cast(table.column(name), pa.float64()).combine_chunks()


def evaluate(base: Baseline, table: pa.Table) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """``(metrics, document, profile)`` of one window's rows of the prediction log."""
    from mlaudit.stats.profile import profile

    frame = window_frame(base, table)
    report = base.drift.compare(frame)
    labelled = table.num_rows - table.column("label").null_count
    metrics: dict[str, Any] = {
        "rows": table.num_rows,
        "labelled": labelled,
        "drift.share": report.share_drifted,
        "drift.columns": len(report.drifted_columns),
    }
    doc: dict[str, Any] = {
        "drift": {
            "share_drifted": report.share_drifted,
            "drifted_columns": list(report.drifted_columns),
            "p_values": {c.name: c.p_adjusted for c in report.columns},
            "report": report.to_dict(),
        },
        "notes": list(base.notes),
    }
    if base.output is not None:
        out = base.output.compare(frame.select(["score"])).column("score")
        metrics |= {
            "output.drift": float(out.drifted),
            "output.effect": out.effect,
            "output.p_value": out.p_value,
        }
        doc["output"] = out.to_dict()
    if base.estimator is not None and table.num_rows:
        est = base.estimator.estimate(frame.column("score").to_numpy(), window="window")
        for m in est.metrics:
            ref = base.reference_estimate.get(m.name)
            metrics[f"estimated.{m.name}"] = m.value
            metrics[f"estimated.{m.name}.lower"] = m.lower
            metrics[f"estimated.{m.name}.upper"] = m.upper
            drop = None if m.value is None or ref is None else ref - m.value
            metrics[f"estimated.{m.name}.drop"] = drop
        doc["estimated"] = est.to_dict() | {"reference": base.reference_estimate}
    perf, perf_doc = realised(base, table)
    metrics |= perf
    doc["performance"] = perf_doc
    return metrics, doc, profile(frame, kinds=base.kinds, bins=base.bins)


def realised(base: Baseline, table: pa.Table) -> tuple[dict[str, Any], dict[str, Any]]:
    """Realised metrics on the labelled rows (``performance.<name>``), when there are enough."""
    import numpy as np
    import pyarrow.compute as pc

    from mlaudit.stats.performance import evaluate as measure

    rows = table.filter(pc.is_valid(table.column("label")))
    if rows.num_rows < base.min_labels:
        return {}, {"labelled": rows.num_rows, "reason": f"fewer than {base.min_labels} labelled rows"}
    score = None
    if base.score_column is not None and base.score_column in rows.column_names and base.task != "regression":
        score = _scores(base, rows).to_numpy()
    pred = (
        rows.column("prediction").to_numpy(zero_copy_only=False)
        if "prediction" in rows.column_names
        else None
    )
    y = rows.column("label").to_numpy(zero_copy_only=False)
    if base.task != "regression":
        y = np.asarray([str(v) for v in y])
        pred = None if pred is None else np.asarray([str(v) for v in pred])
    names = [m for m in base.metrics] or None
    try:
        report = measure(
            y,
            y_pred=pred,
            y_score=score,
            task=base.task if base.task in ("binary", "multiclass", "regression") else None,  # type: ignore[arg-type]
            labels=[str(c) for c in base.classes] if base.task == "binary" else None,
            metrics=names,
            n_boot=100,
        )
    except MLAuditError as exc:
        return {}, {"labelled": rows.num_rows, "reason": str(exc)}
    values = {f"performance.{m.name}": m.value for m in report.metrics}
    return values, report.to_dict()


# --- alert rules ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleOutcome:
    """One rule on the latest window: firing or not, the value compared, a sentence."""

    rule: str
    firing: bool
    value: float | None
    message: str


_OPS = {"<": operator.lt, ">": operator.gt, "<=": operator.le, ">=": operator.ge}


def rule_value(rule: Any, windows: Sequence[Mapping[str, Any]], at: int) -> float | None:
    """The value ``rule`` compares in window ``at``: the metric, or its change from the window before."""
    value = windows[at].get(rule.metric) if at >= 0 else None
    if value is None or not isinstance(value, int | float) or not math.isfinite(value):
        return None
    if rule.change is None:
        return float(value)
    before = windows[at - 1].get(rule.metric) if at >= 1 else None
    if before is None or not isinstance(before, int | float):
        return None
    if rule.change == "delta":
        return float(value - before)
    return None if before == 0 else float((value - before) / abs(before))


def evaluate_rules(spec: Any, windows: Sequence[Mapping[str, Any]]) -> list[RuleOutcome]:
    """Each rule of ``spec`` on the last of ``windows`` (metrics dicts, oldest first).

    A rule fires when its condition held in each of the last ``consecutive`` windows; a window
    where the metric was not computed (too few labels, say) does not satisfy it.
    """
    out = []
    last = len(windows) - 1
    for rule in spec.rules:
        held = 0
        for at in range(last, max(last - rule.consecutive, -1), -1):
            v = rule_value(rule, windows, at)
            if v is None or not bool(_OPS[rule.op](v, rule.threshold)):
                break
            held += 1
        value = rule_value(rule, windows, last)
        firing = held >= rule.consecutive
        what = f"{rule.metric}" + ("" if rule.change is None else f" ({rule.change} change)")
        shown = "not computed" if value is None else f"{value:.4g}"
        if firing:
            times = "" if rule.consecutive == 1 else f" for {rule.consecutive} windows"
            message = f"{rule.name}: {what} = {shown} {rule.op} {rule.threshold:g}{times}"
        else:
            message = f"{rule.name}: {what} = {shown}, ok ({rule.op} {rule.threshold:g} needed to fire)"
        out.append(RuleOutcome(rule.name, firing, value, message))
    return out


def _to_dt(value: np.datetime64) -> datetime:
    import numpy as np

    micros = int(value.astype("datetime64[us]").astype(np.int64))
    return _EPOCH + timedelta(microseconds=micros)


def _t(hour: int) -> datetime:
    return datetime(2026, 1, 1, hour, tzinfo=UTC)
