"""Data drift between a reference table and current tables, without crying wolf.

:class:`DriftDetector` is fitted once on the reference (``fit``) into a compact state — per
numeric column a sorted sample of the finite values (all of them up to ``sample_size``),
reference-quantile bins with their shares and the sd/IQR; per categorical column the
category counts — and then compares any number of current windows (``compare``) without
the raw reference table. :func:`drift` does both in one call.

The decision rule, per column: run the column's test (see :mod:`mlaudit.stats.drift_tests`
for the tests, their effect sizes and default thresholds), correct the p-values for the
number of columns tested (Benjamini–Hochberg by default), and call the column drifted only
when the corrected p-value is below ``alpha`` **and** the effect size exceeds the column's
threshold by more than ``details["noise"]`` — the effect two samples of identical data of
these sizes reach in 99 % of cases. Large samples make tiny changes significant (the
threshold says no); small samples make noise look big (the noise allowance says no), so
identical distributions come out clean at any size.

Nulls, NaN and ±inf are left out of the tests and their counts are reported in
``details``; unseen categories are pooled into one extra cell of the test; a column without
values on either side, or a text column, is reported with ``test="skipped"`` and a
``reason`` — never a crash, never NaN.

>>> ref = {"x": [float(i) for i in range(200)], "c": ["a", "b"] * 100}
>>> report = drift(ref, ref)
>>> (report.drifted_columns, report.dataset_drift)
((), False)
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from typing import Any, Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from scipy import stats

from mlaudit.errors import InputError
from mlaudit.frames import TableLike, is_spark_frame, to_table
from mlaudit.stats.drift_tests import (
    CATEGORICAL_TESTS,
    DEFAULT_THRESHOLDS,
    NUMERIC_TESTS,
    CategoricalPair,
    CategoricalReference,
    NumericPair,
    NumericReference,
    Outcome,
    categorical_reference,
    numeric_reference,
)
from mlaudit.stats.kinds import ColumnKind, infer_kinds, numeric_values, string_values
from mlaudit.stats.result import Result, Status

__all__ = ["ColumnDrift", "Correction", "DriftDetector", "DriftReport", "drift"]

Correction = Literal["bh", "bonferroni", "none"]
SCHEMA_VERSION = 1
_NUMERIC_KINDS = ("numeric", "datetime")
_CATEGORICAL_KINDS = ("categorical", "boolean")
_DEFAULT_TEST = {"numeric": "ks", "datetime": "ks", "categorical": "chi2", "boolean": "chi2"}
_PARALLEL_CELLS = 200_000
TEXT_SKIP = "text column: not tested for drift (set its kind to categorical to compare values)"


@dataclass(frozen=True)
class ColumnDrift:
    """The drift verdict for one column. ``statistic``/``p_value``/``effect`` are ``None``
    only when the column was skipped (``test == "skipped"``, reason in ``details``)."""

    name: str
    kind: str
    test: str
    statistic: float | None
    p_value: float | None
    p_adjusted: float | None
    effect: float | None
    effect_name: str | None
    threshold: float
    drifted: bool
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        return self.test == "skipped"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = _clean(
            {
                "name": self.name,
                "kind": self.kind,
                "test": self.test,
                "statistic": self.statistic,
                "p_value": self.p_value,
                "effect": self.effect,
                "threshold": self.threshold,
                "drifted": self.drifted,
                "p_adjusted": self.p_adjusted,
                "effect_name": self.effect_name,
                "details": self.details,
            }
        )
        return out


@dataclass(frozen=True)
class DriftReport:
    """All columns' verdicts plus the dataset-level one.

    ``dataset_drift`` is true when ``share_drifted >= dataset_threshold`` (default 0.5);
    the share counts every compared column, skipped ones as not drifted.
    """

    reference_rows: int
    current_rows: int
    columns: tuple[ColumnDrift, ...]
    multivariate: dict[str, Any] | None = None
    alpha: float = 0.05
    correction: Correction = "bh"
    dataset_threshold: float = 0.5

    @property
    def drifted_columns(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns if c.drifted)

    @property
    def share_drifted(self) -> float:
        return len(self.drifted_columns) / len(self.columns) if self.columns else 0.0

    @property
    def dataset_drift(self) -> bool:
        return bool(self.columns) and self.share_drifted >= self.dataset_threshold

    def column(self, name: str) -> ColumnDrift:
        """The verdict for column ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise InputError("no such column in this drift report", column=name)

    def to_dict(self) -> dict[str, Any]:
        """The ``mlaudit drift --json`` shape (see DESIGN.md), plus kind and schema version."""
        out: dict[str, Any] = {
            "kind": "drift_report",
            "schema_version": SCHEMA_VERSION,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "columns": [c.to_dict() for c in self.columns],
            "drifted_columns": list(self.drifted_columns),
            "share_drifted": self.share_drifted,
            "dataset_drift": self.dataset_drift,
            "alpha": self.alpha,
            "correction": self.correction,
            "dataset_threshold": self.dataset_threshold,
        }
        if self.multivariate is not None:
            out["multivariate"] = _clean(self.multivariate)
        return out

    def _repr_html_(self) -> str:
        """The drift report in a notebook (summary and tests; without distributions, which need
        the profiles: see :func:`mlaudit.report.render_drift`)."""
        summary = f"{len(self.drifted_columns)} of {len(self.columns)} drifted: {self.drifted_columns}"
        try:
            from mlaudit.report.drift_report import drift_html
            from mlaudit.report.html import HtmlReport
            from mlaudit.stats.profile import Profile

            empty = (Profile(self.reference_rows, {}), Profile(self.current_rows, {}))
            return HtmlReport(drift_html(self, *empty), title="Data drift")._repr_html_()
        except (ImportError, InputError) as exc:  # no plotly (the report extra): no page
            from html import escape

            return f"<pre>{escape(summary)}</pre><p>(no HTML report: {escape(str(exc))})</p>"

    def results(self) -> list[Result]:
        """One :class:`Result` per column (``check="drift:<column>"``): ``fail`` when
        drifted, ``warn`` when skipped, else ``pass``; value = effect size."""
        out = []
        for c in self.columns:
            status: Status = "fail" if c.drifted else ("warn" if c.skipped else "pass")
            details = c.to_dict()
            for key in ("name", "effect", "threshold"):
                details.pop(key)
            out.append(Result(f"drift:{c.name}", status, c.effect, c.threshold, details))
        return out


@dataclass(frozen=True, eq=False)
class _Fitted:
    kind: ColumnKind
    test: str
    threshold: float
    counts: dict[str, int]
    state: NumericReference | CategoricalReference | None
    skip: str | None = None


class DriftDetector:
    """Fit a reference once, compare current tables against it (scikit-learn style).

    ``columns`` restricts the comparison (default: every reference column); ``kinds``
    overrides inferred column kinds; ``tests`` and ``thresholds`` set the test and the
    effect threshold per column; ``alpha`` and ``correction`` set the significance rule;
    ``sample_size`` caps the exact sorted reference sample per numeric column;
    ``multivariate`` adds a domain classifier and a PCA reconstruction check;
    ``keep_profile`` also builds the reference's full mergeable sketch profile (``profile_``,
    used by HTML reports) — the drift tests themselves need only the fitted per-column state
    (sorted reference sample, reference-quantile bins, category counts), which is much cheaper.

    >>> det = DriftDetector(tests={"x": "psi"}).fit({"x": [float(i) for i in range(100)]})
    >>> det.compare({"x": [float(i) + 50 for i in range(100)]}).column("x").drifted
    True
    """

    profile_: Any
    multivariate_: Any

    def __init__(
        self,
        *,
        columns: Sequence[str] | None = None,
        tests: Mapping[str, str] | None = None,
        thresholds: Mapping[str, float] | None = None,
        alpha: float = 0.05,
        correction: Correction = "bh",
        sample_size: int = 1_000_000,
        kinds: Mapping[str, ColumnKind] | None = None,
        multivariate: bool = False,
        dataset_threshold: float = 0.5,
        keep_profile: bool = False,
    ) -> None:
        self.columns = columns
        self.tests = tests
        self.thresholds = thresholds
        self.alpha = alpha
        self.correction = correction
        self.sample_size = sample_size
        self.kinds = kinds
        self.multivariate = multivariate
        self.dataset_threshold = dataset_threshold
        self.keep_profile = keep_profile

    # ------------------------------------------------------------------ fit

    def fit(self, reference: TableLike) -> DriftDetector:
        """Profile ``reference`` (anything :func:`mlaudit.frames.to_table` accepts) into
        the fitted state, or a Spark DataFrame — :func:`mlaudit.engines.spark.fit`); returns
        ``self``."""
        self._check_options()
        if is_spark_frame(reference):
            from mlaudit.engines import spark

            return spark.fit(reference, self)
        table = to_table(reference)
        names = list(self.columns) if self.columns is not None else table.column_names
        _require_columns(table, names, "reference")
        table = table.select(names)
        kinds = infer_kinds(table, self.kinds)
        plan = self._plan(names, kinds)

        def one(name: str) -> _Fitted:
            test, threshold = plan[name]
            return _fit_column(name, table.column(name), kinds[name], test, threshold, self.sample_size)

        fitted = _map(one, names, table.num_rows * len(names))
        self._fitted(kinds, names, fitted, table.num_rows)
        self.profile_ = _profile(table, kinds) if self.keep_profile else None
        if self.multivariate:
            from mlaudit.stats.multivariate import fit_multivariate

            self.multivariate_ = fit_multivariate(table, kinds, alpha=self.alpha)
        return self

    def current_accumulator(self, *, limit: int = 1_000_000, seed: int = 0) -> Any:
        """An empty bounded summary of current data for this fitted detector (its kinds and
        reference bins): see :mod:`mlaudit.stats.drift_stream`."""
        from mlaudit.stats.drift_stream import current_accumulator

        return current_accumulator(self, limit=limit, seed=seed)

    def _plan(self, names: Sequence[str], kinds: Mapping[str, ColumnKind]) -> dict[str, tuple[str, float]]:
        """Each compared column's (test, threshold), with the options checked against ``kinds``."""
        tests, thresholds = dict(self.tests or {}), dict(self.thresholds or {})
        for name in list(tests) + list(thresholds):
            if name not in names:
                raise InputError(
                    "a test or threshold names a column that is not compared",
                    column=name,
                    hint=f"compared columns are: {', '.join(names)}",
                )
        plan = {}
        for name in names:
            kind = kinds[name]
            test = tests.get(name, _DEFAULT_TEST.get(kind, "skipped"))
            _check_test(name, kind, test)
            plan[name] = (test, float(thresholds.get(name, DEFAULT_THRESHOLDS.get(test, math.inf))))
        return plan

    def _fitted(
        self, kinds: Mapping[str, ColumnKind], names: Sequence[str], fitted: Sequence[_Fitted], rows: int
    ) -> None:
        self.kinds_: dict[str, ColumnKind] = {name: kinds[name] for name in names}
        self.columns_: tuple[str, ...] = tuple(names)
        self.references_: dict[str, _Fitted] = dict(zip(names, fitted, strict=True))
        self.reference_rows_: int = rows
        self.profile_ = None
        self.multivariate_ = None

    def _report(
        self, raw: list[ColumnDrift], rows: int, multivariate: dict[str, Any] | None = None
    ) -> DriftReport:
        return DriftReport(
            reference_rows=self.reference_rows_,
            current_rows=rows,
            columns=tuple(_decide(raw, self.alpha, self.correction)),
            multivariate=multivariate,
            alpha=self.alpha,
            correction=self.correction,
            dataset_threshold=self.dataset_threshold,
        )

    def _check_options(self) -> None:
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha must be between 0 and 1, not {self.alpha}")
        if self.correction not in ("bh", "bonferroni", "none"):
            raise InputError(f"unknown correction {self.correction!r}", hint="use bh, bonferroni or none")
        if self.sample_size < 1:
            raise InputError(f"sample_size must be at least 1, not {self.sample_size}")
        for name, value in (self.thresholds or {}).items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value >= 0):
                raise InputError(f"threshold must be a number >= 0, not {value!r}", column=name)

    # ------------------------------------------------------------------ compare

    def compare(self, current: TableLike) -> DriftReport:
        """Compare ``current`` with the fitted reference and return a :class:`DriftReport`."""
        if not hasattr(self, "references_"):
            raise InputError(
                "this DriftDetector is not fitted yet",
                hint="call fit(reference) before compare(current)",
            )
        if is_spark_frame(current):
            from mlaudit.engines import spark

            return spark.compare(self, current)
        table = to_table(current)
        _require_columns(table, list(self.columns_), "current")

        def one(name: str) -> ColumnDrift:
            return _compare_column(name, self.references_[name], table.column(name))

        raw = _map(one, list(self.columns_), table.num_rows * len(self.columns_))
        multivariate = None
        if self.multivariate_ is not None:
            from mlaudit.stats.multivariate import compare_multivariate

            multivariate = compare_multivariate(self.multivariate_, table.select(list(self.columns_)))
        return self._report(raw, table.num_rows, multivariate)


def drift(reference: TableLike, current: TableLike, **kwargs: Any) -> DriftReport:
    """Fit a :class:`DriftDetector` (``kwargs`` are its options) on ``reference`` and
    compare ``current``.

    >>> drift({"x": [1.0, 2.0, 3.0]}, {"x": [1.0, 2.0, 3.0]}).column("x").drifted
    False
    """
    return DriftDetector(**kwargs).fit(reference).compare(current)


# ---------------------------------------------------------------------- per column


def _fit_column(
    name: str,
    column: pa.ChunkedArray,
    kind: ColumnKind,
    test: str,
    threshold: float,
    sample_size: int,
) -> _Fitted:
    if kind == "text":
        return _Fitted(kind, "skipped", threshold, {"rows": len(column)}, None, TEXT_SKIP)
    if kind in _NUMERIC_KINDS:
        values, counts = _numeric(column, kind, name)
        return _Fitted(kind, test, threshold, counts, numeric_reference(values, sample_size=sample_size))
    categories, cat_counts, counts = _categorical(column, name)
    return _Fitted(kind, test, threshold, counts, categorical_reference(categories, np.asarray(cat_counts)))


def _compare_column(name: str, ref: _Fitted, column: pa.ChunkedArray) -> ColumnDrift:
    if ref.skip is not None or ref.state is None:
        return skipped_column(name, ref, {"rows": len(column)})
    if isinstance(ref.state, NumericReference):
        values, counts = _numeric(column, ref.kind, name)
        return compare_numeric(name, ref, np.sort(values), counts)
    categories, cat_counts, counts = _categorical(column, name)
    return compare_categories(name, ref, categories, cat_counts, counts)


def skipped_column(name: str, ref: _Fitted, counts: dict[str, int], reason: str = "") -> ColumnDrift:
    """The verdict for a column that could not be tested (``reason``, else the fitted one)."""
    details = {"reason": reason or ref.skip or "nothing fitted", "reference": ref.counts, "current": counts}
    return ColumnDrift(name, ref.kind, "skipped", None, None, None, None, None, ref.threshold, False, details)


def compare_numeric(
    name: str,
    ref: _Fitted,
    values: np.ndarray,
    counts: dict[str, int],
    *,
    bin_counts: np.ndarray | None = None,
    details: dict[str, Any] | None = None,
) -> ColumnDrift:
    """One numeric column's test on its sorted finite current ``values`` (before correction).

    ``bin_counts`` are exact current counts on the reference's bins when ``values`` is only a
    sample of them (engines that stream); ``details`` are added to the column's details.
    """
    assert isinstance(ref.state, NumericReference)
    if ref.state.count == 0:
        return skipped_column(name, ref, counts, "the reference has no finite values in this column")
    if values.size == 0:
        return skipped_column(name, ref, counts, "the current data has no finite values in this column")
    pair = NumericPair(ref.state, values)
    if bin_counts is not None:
        pair.__dict__["bin_counts"] = (ref.state.bin_counts, bin_counts)  # exact, not from the sample
    outcome = NUMERIC_TESTS[ref.test](pair)
    extra: dict[str, Any] = {
        "reference_sample": ref.state.sample.size,
        "reference_sampled": ref.state.sampled,
        **(details or {}),
    }
    return _verdict(name, ref, outcome, extra, counts)


def compare_categories(
    name: str, ref: _Fitted, categories: list[str], cat_counts: list[int], counts: dict[str, int]
) -> ColumnDrift:
    """One categorical column's test on its current category counts (before correction)."""
    assert isinstance(ref.state, CategoricalReference)
    if ref.state.count == 0:
        return skipped_column(name, ref, counts, "the reference has no values in this column (all null)")
    if sum(cat_counts) == 0:
        return skipped_column(name, ref, counts, "the current data has no values in this column")
    outcome = CATEGORICAL_TESTS[ref.test](CategoricalPair(ref.state, categories, np.asarray(cat_counts)))
    return _verdict(name, ref, outcome, {}, counts)


def _verdict(
    name: str, ref: _Fitted, outcome: Outcome, details: dict[str, Any], counts: dict[str, int]
) -> ColumnDrift:
    details.update(outcome.details)
    details["noise"] = outcome.noise
    details["reference"], details["current"] = ref.counts, counts
    _missing_shares(details, ref.counts, counts)
    return ColumnDrift(
        name,
        ref.kind,
        ref.test,
        float(outcome.statistic),
        None if outcome.p_value is None else float(outcome.p_value),
        None,
        float(outcome.effect),
        outcome.effect_name,
        ref.threshold,
        False,
        details,
    )


def _decide(raw: list[ColumnDrift], alpha: float, correction: Correction) -> list[ColumnDrift]:
    tested = [i for i, c in enumerate(raw) if c.p_value is not None]
    p = np.array([raw[i].p_value for i in tested], dtype=np.float64)
    adjusted = _adjust(p, correction) if p.size else p
    out = list(raw)
    for i, q in zip(tested, adjusted.tolist(), strict=True):
        c = raw[i]
        effect = c.effect if c.effect is not None else 0.0
        drifted = q < alpha and effect - c.details.get("noise", 0.0) > c.threshold
        out[i] = replace(c, p_adjusted=float(q), drifted=bool(drifted))
    return out


def _adjust(p: np.ndarray, correction: Correction) -> np.ndarray:
    """p-values corrected for the number of columns tested."""
    if correction == "none":
        return p
    if correction == "bonferroni":
        return np.asarray(np.minimum(p * p.size, 1.0), dtype=np.float64)
    return np.asarray(stats.false_discovery_control(p, method="bh"), dtype=np.float64)


# ---------------------------------------------------------------------- helpers


def _numeric(column: pa.ChunkedArray, kind: ColumnKind, name: str) -> tuple[np.ndarray, dict[str, int]]:
    values = numeric_values(column, kind, name)
    finite = np.isfinite(values)
    n_finite = int(np.count_nonzero(finite))
    counts = {"rows": len(column), "nulls": column.null_count}
    if n_finite < values.size:
        counts["nan"] = int(np.count_nonzero(np.isnan(values)))
        counts["inf"] = values.size - n_finite - counts["nan"]
        values = values[finite]
    else:
        counts["nan"] = counts["inf"] = 0
    return values, counts


def _categorical(column: pa.ChunkedArray, name: str) -> tuple[list[str], list[int], dict[str, int]]:
    values = string_values(column, name)
    counts = {"rows": len(column), "nulls": column.null_count}
    if len(values) == 0:
        return [], [], counts
    vc = pc.value_counts(values)
    return vc.field("values").to_pylist(), vc.field("counts").to_pylist(), counts


def _missing_shares(details: dict[str, Any], ref: Mapping[str, int], cur: Mapping[str, int]) -> None:
    """Report how the share of missing (null, NaN, ±inf) values changed."""

    def share(c: Mapping[str, int]) -> float:
        bad = c.get("nulls", 0) + c.get("nan", 0) + c.get("inf", 0)
        return bad / c["rows"] if c.get("rows") else 0.0

    r, c = share(ref), share(cur)
    if r or c:
        details["missing_share"] = {"reference": r, "current": c}


def _require_columns(table: pa.Table, names: Sequence[str], side: str) -> None:
    present = set(table.column_names)
    for name in names:
        if name not in present:
            raise InputError(
                f"the {side} data has no column {name!r}",
                column=name,
                hint="pass columns=[...] to compare only the columns both tables have",
            )


def _check_test(name: str, kind: ColumnKind, test: str) -> None:
    if kind in _NUMERIC_KINDS:
        allowed = list(NUMERIC_TESTS)
    elif kind in _CATEGORICAL_KINDS:
        allowed = list(CATEGORICAL_TESTS)
    else:
        return
    if test not in allowed:
        raise InputError(
            f"test {test!r} does not apply to a {kind} column",
            column=name,
            hint=f"use one of {', '.join(allowed)}",
        )


def _map(fn: Any, names: list[str], cells: int) -> list[Any]:
    workers = min(len(names), os.cpu_count() or 1)
    if workers > 1 and cells >= _PARALLEL_CELLS:
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(fn, names))
    return [fn(name) for name in names]


def _profile(table: pa.Table, kinds: Mapping[str, ColumnKind]) -> Any:
    from mlaudit.stats.profile import profile

    return profile(table, kinds=kinds)


def _clean(obj: Any) -> Any:
    """JSON-safe copy: NumPy scalars to Python, NaN/inf to None, tuples to lists."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.generic):
        obj = obj.item()
    if isinstance(obj, float) and not math.isfinite(obj):
        return None
    return obj
