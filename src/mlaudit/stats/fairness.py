"""Group fairness of a binary classifier: per-group rates, disparities, and their verdicts.

:func:`assess_fairness` takes a table with a label column, a prediction column (0/1, or two
labels with ``positive=``), optionally a score column in [0, 1], and one or more sensitive
columns (several give intersectional groups). It returns a :class:`FairnessReport`:

- ``groups`` — one row per observed group: count, ``judged`` and the rates of
  :data:`~mlaudit.stats.fairness_metrics.RATES` (plus ``mean_score`` and ``calibration_gap``
  with scores). Undefined rates (e.g. ``tpr`` in a group without positives) are NaN,
  ``null`` in JSON, and left out of the disparities with a note.
- ``disparities`` — largest minus smallest (``*_difference``) and smallest over largest
  (``*_ratio``) over the judged groups: demographic parity (selection rate), equal opportunity
  (tpr), equalized odds (worst of tpr and fpr, as Fairlearn), error rate, and with scores
  calibration gap and mean score. Groups with fewer than ``min_group_size`` rows (default 30)
  are listed but not judged. A disparity needs two judged groups with the rate defined.
- ``intervals`` — seeded, stratified bootstrap percentile intervals (``n_bootstrap=200``).
- ``four_fifths`` — the selection-rate ratio of the lowest to the highest group, flagged
  below 0.8, with a two-proportion z-test and Fisher's exact test for those two groups.

:meth:`FairnessReport.results` gives one :class:`Result` per disparity that has a threshold
(:data:`DEFAULT_THRESHOLDS`: demographic parity difference ≤ 0.1, equalized odds difference
≤ 0.1, demographic parity ratio — the four-fifths rule — ≥ 0.8; ``*_difference`` thresholds
are upper bounds, ``*_ratio`` lower bounds; pass ``None`` to drop one). Status: ``fail``
beyond the threshold, ``warn`` within it but with the bootstrap interval crossing it,
``error`` when it cannot be judged (fewer than two judged groups, the rate undefined), else
``pass``. Bad input — a missing column, a missing label, labels that are not binary,
predictions outside the label set, scores outside [0, 1] — raises :class:`InputError`.

>>> table = {"y": [0, 1] * 40, "p": [0, 1] * 20 + [1, 1] * 20, "sex": ["F"] * 40 + ["M"] * 40}
>>> report = assess_fairness(table, y_true="y", y_pred="p", sensitive=["sex"], n_bootstrap=0)
>>> round(report.disparities["demographic_parity_difference"], 3), report.passed
(0.5, False)
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, to_table
from mlaudit.stats.fairness_metrics import (
    RATES,
    binary,
    confusion,
    encode_groups,
    score_rates,
    score_sums,
    scores,
    weights,
)
from mlaudit.stats.result import Result, Status

__all__ = ["DEFAULT_THRESHOLDS", "FairnessReport", "FourFifths", "GroupRates", "assess_fairness"]

SCHEMA_VERSION = 1
DEFAULT_THRESHOLDS: dict[str, float] = {
    "demographic_parity_difference": 0.1,
    "equalized_odds_difference": 0.1,
    "demographic_parity_ratio": 0.8,
}
# disparity family -> the per-group rates it compares (equalized odds takes the worst of two)
_FAMILIES: dict[str, tuple[str, ...]] = {
    "demographic_parity": ("selection_rate",),
    "equal_opportunity": ("tpr",),
    "equalized_odds": ("tpr", "fpr"),
    "error_rate": ("error_rate",),
}
_SCORE_FAMILIES: dict[str, tuple[str, ...]] = {
    "calibration_gap": ("calibration_gap",),
    "mean_score": ("mean_score",),
}
_WHY_UNDEFINED = {
    "tpr": "no positives",
    "fnr": "no positives",
    "fpr": "no negatives",
    "tnr": "no negatives",
    "precision": "no predicted positives",
}
_CHUNK_CELLS = 2_000_000  # bootstrap rows drawn per chunk: bounds memory, keeps it vectorised


def _none(x: float) -> float | None:
    return None if x is None or math.isnan(x) else float(x)


@dataclass(frozen=True)
class GroupRates:
    """One group: its key (``{"sex": "F"}``), row count, whether it is judged, and its rates."""

    group: dict[str, Any]
    count: int
    judged: bool
    rates: dict[str, float]

    def to_dict(self) -> dict[str, Any]:
        return {
            "group": self.group,
            "count": self.count,
            "judged": self.judged,
            **{k: _none(v) for k, v in self.rates.items()},
        }


@dataclass(frozen=True)
class FourFifths:
    """The four-fifths rule: lowest over highest selection rate among judged groups, flagged
    when below ``threshold``; ``p_value`` (two-proportion z-test) and ``fisher_p_value``
    compare those two groups' selection counts (unweighted)."""

    ratio: float | None
    threshold: float
    flagged: bool
    lowest: dict[str, Any] | None = None
    highest: dict[str, Any] | None = None
    p_value: float | None = None
    fisher_p_value: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "ratio": self.ratio,
            "threshold": self.threshold,
            "flagged": self.flagged,
            "lowest": self.lowest,
            "highest": self.highest,
            "p_value": self.p_value,
            "fisher_p_value": self.fisher_p_value,
        }


@dataclass(frozen=True)
class FairnessReport:
    """Per-group rates, disparities with bootstrap intervals, and the thresholds they were judged by."""

    rows: int
    sensitive: tuple[str, ...]
    groups: tuple[GroupRates, ...]
    overall: dict[str, float]
    disparities: dict[str, float]
    intervals: dict[str, tuple[float, float] | None]
    four_fifths: FourFifths
    thresholds: dict[str, float]
    min_group_size: int
    n_bootstrap: int
    confidence: float
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def judged_groups(self) -> int:
        return sum(g.judged for g in self.groups)

    @property
    def passed(self) -> bool:
        """True when every thresholded disparity passed or only warned."""
        return all(r.passed for r in self.results())

    def results(self) -> list[Result]:
        """One :class:`Result` per thresholded disparity (``check="fairness:<name>"``)."""
        return [self._result(name, t) for name, t in self.thresholds.items()]

    def _result(self, name: str, threshold: float) -> Result:
        value = self.disparities.get(name, float("nan"))
        interval = self.intervals.get(name)
        details: dict[str, Any] = {
            "judged_groups": self.judged_groups,
            "interval": interval,
            "direction": "min" if name.endswith("_ratio") else "max",
        }
        if name == "demographic_parity_ratio":
            details["four_fifths"] = self.four_fifths.to_dict()
        if self.judged_groups < 2:
            reason = (
                f"{self.judged_groups} group(s) with at least {self.min_group_size} rows; "
                "two are needed to compare (lower min_group_size or add data)"
            )
            return Result(f"fairness:{name}", "error", None, threshold, {**details, "reason": reason})
        if math.isnan(value):
            reason = "undefined: fewer than two judged groups have the rate defined (see notes)"
            return Result(f"fairness:{name}", "error", None, threshold, {**details, "reason": reason})
        lower_is_better = not name.endswith("_ratio")
        bad = value > threshold if lower_is_better else value < threshold
        status: Status = "fail" if bad else "pass"
        if not bad and interval is not None:
            worst_end = interval[1] if lower_is_better else interval[0]
            if (worst_end > threshold) if lower_is_better else (worst_end < threshold):
                status = "warn"
        return Result(f"fairness:{name}", status, value, threshold, details)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": "fairness_report",
            "schema_version": SCHEMA_VERSION,
            "rows": self.rows,
            "sensitive": list(self.sensitive),
            "min_group_size": self.min_group_size,
            "groups": [g.to_dict() for g in self.groups],
            "overall": {k: _none(v) for k, v in self.overall.items()},
            "disparities": {k: _none(v) for k, v in self.disparities.items()},
            "intervals": {k: (list(v) if v else None) for k, v in self.intervals.items()},
            "bootstrap": {"n": self.n_bootstrap, "confidence": self.confidence},
            "four_fifths": self.four_fifths.to_dict(),
            "thresholds": dict(self.thresholds),
            "results": [r.to_dict() for r in self.results()],
            "notes": list(self.notes),
            "passed": self.passed,
        }

    def _repr_html_(self) -> str:
        """The fairness report in a notebook (an isolated iframe)."""
        summary = "\n".join(f"{r.status:5} {r.check} {r.value}" for r in self.results())
        try:
            from mlaudit.report.fairness_report import render_fairness

            return render_fairness(self.to_dict())._repr_html_()
        except (ImportError, InputError) as exc:  # no plotly (the report extra): no page
            from html import escape

            return f"<pre>{escape(summary)}</pre><p>(no HTML report: {escape(str(exc))})</p>"


def assess_fairness(
    data: TableLike,
    *,
    y_true: str,
    y_pred: str,
    sensitive: Sequence[str],
    y_score: str | None = None,
    positive: Any = None,
    sample_weight: str | None = None,
    min_group_size: int = 30,
    thresholds: Mapping[str, float | None] | None = None,
    n_bootstrap: int = 200,
    confidence: float = 0.95,
    seed: int = 0,
) -> FairnessReport:
    """Rates per (intersectional) group of ``sensitive`` and the disparities between groups.

    ``positive`` names the positive label when labels are not 0/1 (a string also matches
    numbers and booleans by their text, as typed on a command line).
    """
    if isinstance(sensitive, str):
        sensitive = [sensitive]
    if not sensitive:
        raise InputError("at least one sensitive column is needed")
    if not 0 < confidence < 1:
        raise InputError(f"confidence must be between 0 and 1, not {confidence}")
    if n_bootstrap < 0 or min_group_size < 0:
        raise InputError("n_bootstrap and min_group_size must be >= 0")
    table = to_table(data)
    if table.num_rows == 0:
        raise InputError("the table has no rows")
    yt_col, yp_col = _column(table, y_true, "y_true"), _column(table, y_pred, "y_pred")
    y, p = _binarize(yt_col, yp_col, positive, y_true, y_pred)
    s = scores(_numpy(_column(table, y_score, "y_score")), y_score) if y_score else None
    w = None
    if sample_weight:
        w = weights(_numpy(_column(table, sample_weight, "sample_weight")), table.num_rows)
    codes, keys = encode_groups({name: _column(table, name, "sensitive", nulls=True) for name in sensitive})
    n_groups = len(keys)
    counts = np.bincount(codes, minlength=n_groups)
    use = counts >= min_group_size

    conf = confusion(codes, n_groups, y, p, w)
    rates = {k: f(conf) for k, f in RATES.items()}
    overall = {k: float(f(conf.sum(axis=0))) for k, f in RATES.items()}
    sums = score_sums(codes, n_groups, y, s, w) if s is not None else None
    if sums is not None:
        rates.update(score_rates(sums))
        overall.update({k: float(v) for k, v in score_rates(sums.sum(axis=0)).items()})
    disparities = {k: float(v) for k, v in _disparities(rates, use).items()}

    intervals: dict[str, tuple[float, float] | None] = dict.fromkeys(disparities)
    if n_bootstrap > 0 and use.sum() >= 2:
        boot = _bootstrap(codes, counts, use, y, p, s, w, n_bootstrap, seed)
        q = [100 * (1 - confidence) / 2, 100 * (1 + confidence) / 2]
        for name, values in boot.items():
            ok = values[~np.isnan(values)]
            if len(ok):
                intervals[name] = (float(np.percentile(ok, q[0])), float(np.percentile(ok, q[1])))

    merged: dict[str, float | None] = {**DEFAULT_THRESHOLDS, **(thresholds or {})}
    unknown = sorted(set(merged) - set(disparities))
    if unknown:
        raise InputError(
            f"no disparity {unknown[0]!r} to judge",
            hint=f"choose from {', '.join(disparities)}" + ("" if y_score else " (score ones need y_score)"),
        )
    used = {k: float(v) for k, v in merged.items() if v is not None}
    selected = np.bincount(codes, weights=p.astype(np.float64), minlength=n_groups)
    four = _four_fifths(
        rates["selection_rate"], use, counts, selected, keys, used.get("demographic_parity_ratio", 0.8)
    )
    groups = tuple(
        GroupRates(keys[g], int(counts[g]), bool(use[g]), {k: float(v[g]) for k, v in rates.items()})
        for g in range(n_groups)
    )
    return FairnessReport(
        rows=table.num_rows,
        sensitive=tuple(sensitive),
        groups=groups,
        overall=overall,
        disparities=disparities,
        intervals=intervals,
        four_fifths=four,
        thresholds=used,
        min_group_size=min_group_size,
        n_bootstrap=n_bootstrap,
        confidence=confidence,
        notes=_notes(groups, min_group_size),
    )


def _column(table: pa.Table, name: str, role: str, *, nulls: bool = False) -> pa.ChunkedArray:
    if name not in table.column_names:
        raise InputError(
            f"no {role} column {name!r}", column=name, hint=f"columns are: {', '.join(table.column_names)}"
        )
    col = table.column(name)
    if nulls:
        return col
    missing = col.is_null(nan_is_null=True) if pa.types.is_floating(col.type) else col.is_null()
    if col.null_count or pc.any(missing).as_py():
        row = int(np.flatnonzero(np.asarray(missing.combine_chunks()))[0])
        raise InputError(
            f"{role} has a missing value",
            column=name,
            row=row,
            hint="drop or fill the rows without labels first",
        )
    return col


def _numpy(col: pa.ChunkedArray) -> np.ndarray:
    return np.asarray(col.combine_chunks().to_numpy(zero_copy_only=False))


def _binarize(
    yt: pa.ChunkedArray, yp: pa.ChunkedArray, positive: Any, yt_name: str, yp_name: str
) -> tuple[np.ndarray, np.ndarray]:
    if positive is None:
        hint = "pass the positive label (--positive) when labels are not 0/1"
        try:
            return binary(_numpy(yt), yt_name), binary(_numpy(yp), yp_name)
        except InputError as exc:
            raise InputError(exc.message, column=exc.column, row=exc.row, hint=hint) from None
    if pa.types.is_string(yt.type) and not isinstance(positive, str):
        positive = str(positive)
    if isinstance(positive, str):
        yt, yp = (c if pa.types.is_string(c.type) else c.cast(pa.string()) for c in (yt, yp))
    found = pc.unique(yt).to_pylist()
    labels = {positive, *found}
    if len(labels) > 2:
        what = "labels must be binary" if len(found) > 2 else f"positive label {positive!r} is not a label"
        raise InputError(f"{what}, found {sorted(map(str, found))}", column=yt_name)
    bad = pc.invert(pc.is_in(yp, value_set=pa.array(sorted(labels, key=str), type=yp.type)))
    if len(labels) == 2 and pc.any(bad).as_py():
        row = int(np.flatnonzero(np.asarray(bad.combine_chunks()))[0])
        raise InputError(
            f"prediction {yp[row].as_py()!r} is not one of the labels {sorted(map(str, labels))}",
            column=yp_name,
            row=row,
        )
    if len({positive, *pc.unique(yp).to_pylist()}) > 2:
        raise InputError("predictions must be binary", column=yp_name)
    return (_numpy(pc.equal(yt, positive)).astype(np.int8), _numpy(pc.equal(yp, positive)).astype(np.int8))


def _spread(v: np.ndarray, use: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(max − min, min / max) over the last axis, of the defined values where ``use``; NaN
    with fewer than two such values, ratio NaN when the max is 0."""
    ok = ~np.isnan(v) & use
    enough = ok.sum(axis=-1) >= 2
    hi = np.where(ok, v, -np.inf).max(axis=-1)
    lo = np.where(ok, v, np.inf).min(axis=-1)
    diff = np.where(enough, hi - lo, np.nan)
    ratio = np.where(enough & (hi > 0), lo / np.where(hi > 0, hi, 1.0), np.nan)
    return diff, ratio


def _disparities(rates: Mapping[str, np.ndarray], use: np.ndarray) -> dict[str, np.ndarray]:
    families = {**_FAMILIES, **(_SCORE_FAMILIES if "mean_score" in rates else {})}
    out: dict[str, np.ndarray] = {}
    for family, names in families.items():
        spreads = [_spread(rates[n], use) for n in names]
        out[f"{family}_difference"] = np.fmax.reduce([d for d, _ in spreads])
        out[f"{family}_ratio"] = np.fmin.reduce([r for _, r in spreads])
    return out


def _bootstrap(
    codes: np.ndarray,
    counts: np.ndarray,
    use: np.ndarray,
    y: np.ndarray,
    p: np.ndarray,
    s: np.ndarray | None,
    w: np.ndarray | None,
    n_boot: int,
    seed: int,
) -> dict[str, np.ndarray]:
    """Disparities on ``n_boot`` resamples, rows drawn with replacement within each judged group.

    Without weights and scores the confusion counts decide every rate, so each group's
    resampled counts are drawn directly — multinomial, the same distribution as resampling
    its rows — in ``n_boot × groups`` draws instead of ``n_boot × rows``.
    """
    rng = np.random.default_rng(seed)
    n_groups = len(counts)
    judged = np.where(use, counts, 0)
    if w is None and s is None:
        conf = confusion(codes, n_groups, y, p, None)
        pvals = np.where(judged[:, None] > 0, conf / np.maximum(judged, 1)[:, None], 0.25)
        drawn = rng.multinomial(judged, pvals, size=(n_boot, n_groups)).astype(np.float64)
        return _disparities({k: f(drawn) for k, f in RATES.items()}, use)
    rows = np.flatnonzero(use[codes])
    order = rows[np.argsort(codes[rows], kind="stable")]
    group_of = codes[order]
    y_o, p_o = y[order], p[order]
    s_o, w_o = (None if s is None else s[order]), (None if w is None else w[order])
    starts = np.concatenate([[0], np.cumsum(judged)[:-1]])[group_of]
    size = counts[group_of]
    chunk = max(1, _CHUNK_CELLS // len(order))
    parts: list[dict[str, np.ndarray]] = []
    for first in range(0, n_boot, chunk):
        r = min(chunk, n_boot - first)
        pos = (starts + (rng.random((r, len(order))) * size).astype(np.int64)).ravel()
        rep = (np.arange(r)[:, None] * n_groups + group_of[None, :]).ravel()
        ww = None if w_o is None else w_o[pos]
        conf = confusion(rep, r * n_groups, y_o[pos], p_o[pos], ww).reshape(r, n_groups, 4)
        rates = {k: f(conf) for k, f in RATES.items()}
        if s_o is not None:
            sums = score_sums(rep, r * n_groups, y_o[pos], s_o[pos], ww)
            rates.update(score_rates(sums.reshape(r, n_groups, *sums.shape[1:])))
        parts.append(_disparities(rates, use))
    return {k: np.concatenate([part[k] for part in parts]) for k in parts[0]}


def _four_fifths(
    rate: np.ndarray,
    use: np.ndarray,
    counts: np.ndarray,
    selected: np.ndarray,
    keys: Sequence[dict[str, Any]],
    threshold: float,
) -> FourFifths:
    candidates = np.flatnonzero(use & ~np.isnan(rate))
    if len(candidates) < 2:
        return FourFifths(None, threshold, False)
    lo = int(candidates[np.argmin(rate[candidates])])
    hi = int(candidates[np.argmax(rate[candidates])])
    ratio = _spread(rate, use)[1].item()
    n1, n2 = int(counts[lo]), int(counts[hi])
    x1, x2 = round(float(selected[lo])), round(float(selected[hi]))
    pooled = (x1 + x2) / (n1 + n2)
    se = math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    z_p = 1.0 if se == 0 else float(2 * stats.norm.sf(abs(x1 / n1 - x2 / n2) / se))
    fisher = float(stats.fisher_exact([[x1, n1 - x1], [x2, n2 - x2]]).pvalue)
    return FourFifths(
        ratio=_none(ratio),
        threshold=threshold,
        flagged=bool(not math.isnan(ratio) and ratio < threshold),
        lowest=keys[lo],
        highest=keys[hi],
        p_value=z_p,
        fisher_p_value=fisher,
    )


def _notes(groups: Sequence[GroupRates], min_group_size: int) -> tuple[str, ...]:
    notes = []
    if len(groups) < 2:
        notes.append(f"only {len(groups)} group in the sensitive column(s): nothing to compare")
    small = [g for g in groups if not g.judged]
    if small:
        notes.append(f"{len(small)} group(s) below min_group_size={min_group_size} are listed but not judged")
    for rate, why in _WHY_UNDEFINED.items():
        missing = [g.group for g in groups if g.judged and math.isnan(g.rates[rate])]
        if missing:
            notes.append(
                f"{rate} undefined ({why}) in {len(missing)} judged group(s), left out of its "
                f"disparities: {', '.join(map(str, missing[:5]))}"
            )
    return tuple(notes)
