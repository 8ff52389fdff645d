"""``run_audit``: score a model on reference and current data and run a suite's checks.

The runner is pure (tables and a model in, an :class:`AuditReport` out); storing the report,
the ledger event and the lineage run are :mod:`mlaudit.audit.service`'s job.

Problems with the *inputs* — a feature missing from the data, a label column that is not
there, a model that cannot score the rows — raise :class:`~mlaudit.errors.InputError` before
any check runs (exit 2 on the command line). Problems inside one *check* — a metric that is
undefined, an estimator that refuses uncalibratable scores, a sensitive column with a single
group — become that check's ``error`` Result with the reason, and the other checks still run.
Checks that cannot apply (fairness without labels, calibration of a regressor) are listed as
skipped with the reason.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pyarrow as pa

from mlaudit.audit.result import AuditReport, Section
from mlaudit.audit.suite import Suite, load_suite
from mlaudit.errors import InputError, MLAuditError
from mlaudit.frames import TableLike, to_table
from mlaudit.models.base import Model
from mlaudit.stats.result import Result, Status
from mlaudit.store.ledger import utc_now

__all__ = ["run_audit"]

Progress = Callable[[str], None]


@dataclass
class _Scored:
    """One side of the audit (train, reference or current) with the model's outputs on it."""

    name: str
    table: pa.Table
    y: np.ndarray | None  # labels, when the label column is present
    pred: np.ndarray
    proba: np.ndarray | None  # (n, k) when the model has predict_proba

    @property
    def score(self) -> np.ndarray | None:
        """The positive-class probability of a binary model."""
        if self.proba is None or self.proba.ndim != 2 or self.proba.shape[1] != 2:
            return None
        return self.proba[:, 1]


class _Context:
    def __init__(
        self,
        model: Model,
        suite: Suite,
        ref: _Scored,
        cur: _Scored,
        train: _Scored | None,
        features: list[str],
        sensitive: list[str],
        label_column: str | None,
        task: str,
        classes: tuple[Any, ...],
        seed: int,
    ) -> None:
        self.model, self.suite, self.ref, self.cur, self.train = model, suite, ref, cur, train
        self.label_column = label_column
        self.features, self.sensitive, self.task, self.classes, self.seed = (
            features,
            sensitive,
            task,
            classes,
            seed,
        )

    @property
    def labelled(self) -> _Scored | None:
        """Current data when it has labels, else the reference when it has them."""
        if self.cur.y is not None:
            return self.cur
        return self.ref if self.ref.y is not None else None


def run_audit(
    model: Model,
    reference: TableLike,
    current: TableLike,
    *,
    suite: Suite | str = "quick",
    labels: str | None = None,
    sensitive: Sequence[str] = (),
    features: Sequence[str] | None = None,
    train: TableLike | None = None,
    model_info: dict[str, Any] | None = None,
    inputs: dict[str, Any] | None = None,
    progress: Progress | None = None,
    seed: int = 0,
) -> AuditReport:
    """Run ``suite`` (a :class:`Suite`, ``"quick"``, ``"full"`` or a YAML path) on ``model``.

    ``labels`` names the label column (needed in the reference for label-free estimation,
    optional in ``current``: without it performance is estimated); ``sensitive`` the columns
    for fairness; ``features`` the model's input columns (default: what the model reports, or
    every column but labels and sensitive ones); ``train`` the training data, for overfitting.
    """
    started, t0 = utc_now(), time.perf_counter()
    suite = suite if isinstance(suite, Suite) else load_suite(suite)
    ref_t, cur_t = to_table(reference), to_table(current)
    train_t = None if train is None else to_table(train)
    feats = _features(model, features, ref_t, labels, sensitive)
    _require(ref_t, feats, "reference", "feature")
    _require(cur_t, feats, "current", "feature")
    if labels is not None and labels not in ref_t.column_names and labels not in cur_t.column_names:
        raise InputError("label column not found in the reference or the current data", column=labels)
    _require(cur_t, list(sensitive), "current", "sensitive")
    if ref_t.num_rows == 0 or cur_t.num_rows == 0:
        raise InputError(f"the {'reference' if ref_t.num_rows == 0 else 'current'} data has no rows")
    say = progress or (lambda _: None)
    say("scoring")
    ref = _score(model, "reference", ref_t, feats, labels)
    cur = _score(model, "current", cur_t, feats, labels)
    tr = None
    if train_t is not None:
        _require(train_t, feats, "training", "feature")
        tr = _score(model, "train", train_t, feats, labels)
    task, classes = _task(model, ref, cur)
    ctx = _Context(model, suite, ref, cur, tr, feats, list(sensitive), labels, task, classes, seed)
    sections = []
    for name in suite.enabled():
        say(name)
        start = time.perf_counter()
        section = _run_check(name, ctx)
        sections.append(
            Section(
                section.name, section.results, section.document, section.skipped, time.perf_counter() - start
            )
        )
    notes = []
    if cur.y is None:
        notes.append(
            "current data has no labels: performance is estimated from the model's scores, "
            "and checks that need labels ran on the reference or were skipped"
        )
    info = dict(model_info or {}) or {"framework": model.framework, "fingerprint": model.fingerprint}
    sides = {"reference": ref, "current": cur} | ({"train": tr} if tr is not None else {})
    data_inputs = {
        side: {"rows": s.table.num_rows, "labelled": s.y is not None} | dict((inputs or {}).get(side, {}))
        for side, s in sides.items()
    }
    return AuditReport(
        model=info,
        suite={"name": suite.name, "source": suite.source, "checks": suite.enabled()},
        task=task,
        labels=labels,
        sensitive=tuple(sensitive),
        features=tuple(feats),
        inputs=data_inputs,
        sections=tuple(sections),
        started=started,
        seconds=time.perf_counter() - t0,
        notes=tuple(notes),
    )


# --- inputs -------------------------------------------------------------------------------------


def _features(
    model: Model, given: Sequence[str] | None, ref: pa.Table, labels: str | None, sensitive: Sequence[str]
) -> list[str]:
    if given:
        return list(given)
    if model.feature_names:
        return list(model.feature_names)
    skip = {labels, *sensitive}
    return [c for c in ref.column_names if c not in skip]


def _require(table: pa.Table, names: Sequence[str], side: str, role: str) -> None:
    missing = [n for n in names if n not in table.column_names]
    if missing:
        raise InputError(
            f"the {side} data lacks {role} column(s) {missing}",
            column=missing[0],
            hint=f"it has {table.column_names[:20]}",
        )


def _score(model: Model, name: str, table: pa.Table, feats: list[str], labels: str | None) -> _Scored:
    x = table.select(feats)
    try:
        pred = np.asarray(model.predict(x))
        proba = model.predict_proba(x) if model.supports_proba else None
    except MLAuditError as exc:
        raise type(exc)(
            f"scoring the {name} data: {exc.message}",
            path=exc.path,
            column=exc.column,
            row=exc.row,
            hint=exc.hint,
        ) from exc
    except Exception as exc:  # the model's own code failed on these rows: say which model and why
        raise InputError(
            f"the model ({model.framework}) failed to score the {name} data: {type(exc).__name__}: {exc}"
        ) from exc
    if len(pred) != table.num_rows:
        raise InputError(f"the model returned {len(pred)} predictions for {table.num_rows} {name} rows")
    y = None
    if labels is not None and labels in table.column_names:
        column = table.column(labels)
        if column.null_count:
            first = int(np.flatnonzero(column.is_null().to_numpy(zero_copy_only=False))[0])
            raise InputError(
                f"the {name} data has {column.null_count} missing label(s)", column=labels, row=first
            )
        y = column.to_numpy(zero_copy_only=False)
    return _Scored(name, table, y, pred, None if proba is None else np.asarray(proba, dtype=float))


def _task(model: Model, ref: _Scored, cur: _Scored) -> tuple[str, tuple[Any, ...]]:
    classes = tuple(model.classes or ())
    task = model.task
    if task is None:
        if ref.proba is not None:
            task = "binary" if ref.proba.shape[1] == 2 else "multiclass"
        elif ref.pred.dtype.kind == "f" and not np.all(np.mod(ref.pred, 1) == 0):
            task = "regression"
        else:
            task = "binary" if len(np.unique(ref.pred)) <= 2 else "multiclass"
    if task != "regression" and not classes:
        seen = [s.y for s in (ref, cur) if s.y is not None] + [ref.pred]
        classes = tuple(np.unique(np.concatenate([np.asarray(v, dtype=object) for v in seen]).astype(str)))
    if task != "regression":
        for side in (ref, cur):
            if side.y is None:
                continue
            known = {str(c) for c in classes}
            unseen = sorted({str(v) for v in np.unique(side.y.astype(str))} - known)
            if unseen:
                raise InputError(
                    f"the {side.name} labels hold class(es) the model does not know: {unseen[:5]}",
                    hint=f"the model's classes are {list(classes)[:10]}",
                )
    return str(task), classes


# --- checks -------------------------------------------------------------------------------------


def _run_check(name: str, ctx: _Context) -> Section:
    try:
        return _CHECKS[name](ctx)
    except MLAuditError as exc:
        return Section(name, (Result(f"{name}", "error", details={"reason": exc.message}),))
    except (ValueError, ArithmeticError, TypeError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
        return Section(name, (Result(f"{name}", "error", details={"reason": reason}),))


def _skip(name: str, reason: str) -> Section:
    return Section(name, skipped=reason)


def _data_quality(ctx: _Context) -> Section:
    from mlaudit.checks import load_rules, run_rules, suggest_rules

    cfg = ctx.suite.checks.data_quality
    assert cfg is not None
    if cfg.rules == "suggest":
        rules = _suggested(ctx, suggest_rules(ctx.ref.table.select(_audited_columns(ctx))))
        source = "suggested from the reference (ranges warn: values outside what the model saw)"
    else:
        rules, source = load_rules(cfg.rules), cfg.rules
    report = run_rules(ctx.cur.table, rules)
    doc = report.to_dict() | {"rules_from": source}
    return Section("data_quality", tuple(report.results), doc)


def _audited_columns(ctx: _Context) -> list[str]:
    """The model's features, then the label and sensitive columns the reference has."""
    extra = [c for c in (ctx.label_column, *ctx.sensitive) if c and c in ctx.ref.table.column_names]
    return list(dict.fromkeys([*ctx.features, *extra]))


def _suggested(ctx: _Context, rules: list[Any]) -> list[Any]:
    """Rules inferred from the reference, for the audit: a value outside the reference's range is
    something the model never saw (a warning; drift judges the shift), a null where the
    reference had none or an unknown category fails."""
    from dataclasses import replace

    kept = [r for r in rules if r.kind != "row_count"]  # a current window may rightly be smaller
    return [replace(r, severity="warn") if r.kind == "range" else r for r in kept]


def _drift(ctx: _Context) -> Section:
    from mlaudit.stats.drift import DriftDetector

    cfg = ctx.suite.checks.drift
    assert cfg is not None
    thresholds = {f: cfg.threshold for f in ctx.features} if cfg.threshold is not None else None
    detector = DriftDetector(columns=ctx.features, alpha=cfg.alpha, thresholds=thresholds)
    report = detector.fit(ctx.ref.table).compare(ctx.cur.table)
    results = []
    for r in report.results():
        status: Status = cfg.severity if r.status == "fail" else r.status
        results.append(Result(r.check, status, r.value, r.threshold, r.details))
    share = report.share_drifted
    results.append(
        Result(
            "drift:share",
            "fail" if share > cfg.max_share else "pass",
            share,
            cfg.max_share,
            {"drifted": len(report.drifted_columns), "compared": len(report.columns)},
        )
    )
    return Section("drift", tuple(results), report.to_dict())


def _performance(ctx: _Context) -> Section:
    cfg = ctx.suite.checks.performance
    assert cfg is not None
    if ctx.cur.y is None:
        return _estimated(ctx)
    from mlaudit.stats.performance import METRICS, evaluate

    def run(side: _Scored) -> Any:
        assert side.y is not None
        return evaluate(
            side.y,
            y_pred=side.pred if ctx.task != "regression" else side.pred.astype(float),
            y_score=_scores(side, ctx.task),
            task=ctx.task,  # type: ignore[arg-type]
            labels=list(ctx.classes) if ctx.task != "regression" else None,
            n_boot=cfg.n_boot,
            seed=ctx.seed,
        )

    cur = run(ctx.cur)
    wanted = {m: t for m, t in cfg.min.items() if _has(cur, m)}
    results = cur.results(wanted)
    doc: dict[str, Any] = {"current": cur.to_dict()}
    if ctx.ref.y is not None:
        ref = run(ctx.ref)
        doc["reference"] = ref.to_dict()
        for metric, allowed in cfg.max_drop.items():
            if _has(cur, metric) and _has(ref, metric):
                results.append(_drop(f"performance:{metric}_drop", metric, ref, cur, allowed, METRICS))
    return Section("performance", tuple(results), doc)


def _has(report: Any, metric: str) -> bool:
    return any(m.name == metric for m in report.metrics)


def _drop(check: str, metric: str, ref: Any, cur: Any, allowed: float, metrics: Any) -> Result:
    """The fall of ``metric`` from reference to current: ``fail`` when it exceeds ``allowed`` and
    the current interval lies wholly below the reference value minus ``allowed``; ``warn`` when
    only the point estimate does."""
    r, c = ref.metric(metric), cur.metric(metric)
    if r.value is None or c.value is None:
        reason = f"{metric} is undefined on the {'reference' if r.value is None else 'current'} data"
        return Result(check, "error", None, allowed, {"metric": metric, "reason": reason})
    sign = 1.0 if metrics[metric].higher_is_better else -1.0
    drop = sign * (r.value - c.value)
    far_end = c.upper if sign > 0 else c.lower
    sure = far_end is not None and sign * (r.value - far_end) > allowed
    status: Status = "pass" if drop <= allowed else ("fail" if sure else "warn")
    details = {"metric": metric, "reference": r.value, "current": c.value, "lower": c.lower, "upper": c.upper}
    return Result(check, status, drop, allowed, details)


def _scores(side: _Scored, task: str) -> np.ndarray | None:
    if task == "binary":
        return side.score
    if task == "multiclass":
        return side.proba
    return None


def _estimated(ctx: _Context) -> Section:
    from mlaudit.stats.estimation import ESTIMABLE, PerformanceEstimator

    cfg = ctx.suite.checks.performance
    assert cfg is not None
    if ctx.task != "binary" or ctx.ref.score is None:
        return _skip(
            "performance",
            "no labels in the current data, and label-free estimation needs a binary "
            "classifier with probabilities",
        )
    if ctx.ref.y is None:
        return _skip("performance", "no labels in the current or the reference data")
    metrics = [m for m in dict.fromkeys([*cfg.min, *cfg.max_drop]) if m in ESTIMABLE] or [
        "roc_auc",
        "accuracy",
    ]
    positive = ctx.classes[-1]
    y_ref = np.asarray([str(v) == str(positive) for v in ctx.ref.y], dtype=int)
    est = PerformanceEstimator(metrics=metrics, seed=ctx.seed).fit(y_ref, ctx.ref.score)
    cur_score = ctx.cur.score
    assert cur_score is not None
    window = est.estimate(cur_score, window="current")
    ref_est = {m.name: m for m in est.reference_.metrics}
    results = []
    for m in window.metrics:
        details = {"lower_band": m.lower, "upper_band": m.upper, "calibration": est.calibration_}
        if m.name in cfg.min:
            threshold = cfg.min[m.name]
            if m.value is None:
                results.append(
                    Result(f"estimated:{m.name}", "error", None, threshold, details | {"reason": m.reason})
                )
            else:
                status: Status = (
                    "fail"
                    if m.value < threshold
                    else ("warn" if m.lower is not None and m.lower < threshold else "pass")
                )
                results.append(Result(f"estimated:{m.name}", status, m.value, threshold, details))
        if m.name in cfg.max_drop and m.value is not None and ref_est[m.name].value is not None:
            allowed = cfg.max_drop[m.name]
            drop = float(ref_est[m.name].value or 0.0) - m.value
            status = (
                "pass"
                if drop <= allowed
                else (
                    "fail"
                    if m.upper is not None and (ref_est[m.name].value or 0.0) - m.upper > allowed
                    else "warn"
                )
            )
            details = {"metric": m.name, "reference": ref_est[m.name].value, "current": m.value} | details
            results.append(Result(f"estimated:{m.name}_drop", status, drop, allowed, details))
    doc = {
        "estimated": window.to_dict(),
        "reference_estimate": est.reference_.to_dict(),
        "calibration": est.calibration_,
        "method": "confidence-based estimation (calibrated on the reference)",
    }
    return Section("performance", tuple(results), doc)


def _fairness(ctx: _Context) -> Section:
    from mlaudit.stats.fairness import DEFAULT_THRESHOLDS, assess_fairness

    cfg = ctx.suite.checks.fairness
    assert cfg is not None
    if not ctx.sensitive:
        return _skip("fairness", "no sensitive columns given (--sensitive, or registered with the model)")
    if ctx.task != "binary":
        return _skip("fairness", f"group fairness here is for binary classifiers; this model is {ctx.task}")
    side = ctx.cur
    labelled = side.y is not None
    thresholds = dict(cfg.thresholds) if cfg.thresholds else dict(DEFAULT_THRESHOLDS)
    if not labelled:
        # Before labels arrive only outcome rates can be compared: selection-rate disparities
        # depend on the predictions alone, so the predictions stand in for the labels and every
        # label-based rate is dropped from the report.
        thresholds = {k: v for k, v in thresholds.items() if k.startswith("demographic_parity")}
        if not thresholds:
            return _skip(
                "fairness",
                "the current data has no labels and the suite judges only error-rate "
                "disparities, which need them",
            )
    y_true = side.y if side.y is not None else side.pred
    cols = {s: side.table.column(s) for s in ctx.sensitive}
    cols |= {"__y_true": pa.array(y_true.astype(str)), "__y_pred": pa.array(side.pred.astype(str))}
    if side.score is not None and labelled:
        cols["__y_score"] = pa.array(side.score)
    report = assess_fairness(
        pa.table(cols),
        y_true="__y_true",
        y_pred="__y_pred",
        y_score="__y_score" if "__y_score" in cols else None,
        sensitive=ctx.sensitive,
        positive=str(ctx.classes[-1]),
        min_group_size=cfg.min_group_size,
        thresholds={k: thresholds.get(k) for k in {*DEFAULT_THRESHOLDS, *thresholds}},
        n_bootstrap=cfg.n_bootstrap,
        seed=ctx.seed,
    )
    results = [_with_extremes(r, report) for r in report.results()]
    doc = report.to_dict()
    if not labelled:
        doc = _outcomes_only(doc)
    return Section("fairness", tuple(results), doc)


def _outcomes_only(doc: dict[str, Any]) -> dict[str, Any]:
    """A fairness document without the label-based rates (computed against the predictions)."""
    keep = ("group", "count", "judged", "selection_rate")
    groups = [{k: v for k, v in g.items() if k in keep} for g in doc["groups"]]
    parity = {k: v for k, v in doc["disparities"].items() if k.startswith("demographic_parity")}
    intervals = {k: v for k, v in doc["intervals"].items() if k.startswith("demographic_parity")}
    overall = {k: v for k, v in doc["overall"].items() if k == "selection_rate"}
    note = "no labels in the current data: only selection-rate (demographic parity) disparities are shown"
    return doc | {
        "groups": groups,
        "disparities": parity,
        "intervals": intervals,
        "overall": overall,
        "notes": [*doc.get("notes", []), note],
        "labels": False,
    }


def _with_extremes(r: Result, report: Any) -> Result:
    """Name the groups with the lowest and highest rate in the Result's details (for findings)."""
    rate = {"demographic_parity": "selection_rate", "equal_opportunity": "tpr", "error_rate": "error_rate"}
    family = r.check.split(":", 1)[1].rsplit("_", 1)[0]
    key = rate.get(family, "tpr" if family == "equalized_odds" else None)
    judged = [g for g in report.groups if g.judged and key and not math.isnan(g.rates.get(key, math.nan))]
    if len(judged) < 2 or key is None:
        return r
    lo = min(judged, key=lambda g: g.rates[key])
    hi = max(judged, key=lambda g: g.rates[key])
    text = (
        f" ({key} {lo.rates[key]:.3g} for {_group(lo.group)} vs {hi.rates[key]:.3g} for {_group(hi.group)})"
    )
    return Result(r.check, r.status, r.value, r.threshold, r.details | {"extremes": text})


def _group(group: Any) -> str:
    if isinstance(group, dict):
        return ", ".join(f"{k}={v}" for k, v in group.items())
    return str(group)


def _calibration(ctx: _Context) -> Section:
    from mlaudit.stats.validation import calibration

    cfg = ctx.suite.checks.calibration
    assert cfg is not None
    side = ctx.labelled
    if ctx.task != "binary" or side is None or side.score is None:
        return _skip("calibration", "needs a binary classifier with probabilities and labels")
    assert side.y is not None
    y = np.asarray([str(v) == str(ctx.classes[-1]) for v in side.y], dtype=int)
    cal = calibration(y, side.score, n_bins=cfg.n_bins)
    r = cal.result(cfg.max_ece)
    return Section("calibration", (_on(r, side.name),), cal.to_dict() | {"data": side.name})


def _on(r: Result, side: str) -> Result:
    return Result(r.check, r.status, r.value, r.threshold, r.details | {"data": side})


def _score_stability(ctx: _Context) -> Section:
    from mlaudit.stats.validation import score_stability

    cfg = ctx.suite.checks.score_stability
    assert cfg is not None
    if ctx.task == "binary" and ctx.ref.score is not None and ctx.cur.score is not None:
        ref, cur, what = ctx.ref.score, ctx.cur.score, "positive-class probability"
    elif ctx.task == "regression":
        ref, cur, what = ctx.ref.pred.astype(float), ctx.cur.pred.astype(float), "prediction"
    elif ctx.ref.proba is not None and ctx.cur.proba is not None:
        ref, cur, what = ctx.ref.proba.max(axis=1), ctx.cur.proba.max(axis=1), "top-class probability"
    else:
        return _skip("score_stability", "the model gives no scores")
    s = score_stability(ref, cur)
    r = s.result(cfg.max_psi, cfg.warn_psi)
    return Section("score_stability", (r,), s.to_dict() | {"score": what})


def _metric_for(ctx: _Context, given: str | None, classification: str) -> str:
    return given or ("r2" if ctx.task == "regression" else classification)


def _fit_inputs(ctx: _Context, side: _Scored, metric: str) -> tuple[np.ndarray, np.ndarray]:
    from mlaudit.stats.performance import METRICS

    assert side.y is not None
    if ctx.task == "regression":
        return side.y.astype(float), side.pred.astype(float)
    y = side.y.astype(str)
    if METRICS[metric].needs == "score":
        if ctx.task != "binary" or side.score is None:
            raise InputError(f"{metric} needs binary probabilities")
        return (y == str(ctx.classes[-1])).astype(int), side.score
    return y, side.pred.astype(str)


def _overfitting(ctx: _Context) -> Section:
    from mlaudit.stats.validation import overfitting

    cfg = ctx.suite.checks.overfitting
    assert cfg is not None
    if ctx.train is None or ctx.train.y is None or ctx.ref.y is None:
        return _skip(
            "overfitting",
            "needs labelled training data (--train, or a training dataset kept "
            "in the workspace) and a labelled reference as the holdout",
        )
    default = "roc_auc" if ctx.task == "binary" and ctx.ref.score is not None else "accuracy"
    metric = _metric_for(ctx, cfg.metric, default)
    y_tr, x_tr = _fit_inputs(ctx, ctx.train, metric)
    y_ho, x_ho = _fit_inputs(ctx, ctx.ref, metric)
    gap = overfitting(y_tr, x_tr, y_ho, x_ho, metric=metric, seed=ctx.seed)
    return Section("overfitting", (gap.result(cfg.max_gap),), gap.to_dict())


def _underfitting(ctx: _Context) -> Section:
    from mlaudit.stats.validation import underfitting

    cfg = ctx.suite.checks.underfitting
    assert cfg is not None
    side = ctx.labelled
    if side is None:
        return _skip("underfitting", "needs labels in the current or the reference data")
    metric = _metric_for(ctx, cfg.metric, "accuracy")
    y, x = _fit_inputs(ctx, side, metric)
    gap = underfitting(y, x, metric=metric, seed=ctx.seed)
    return Section("underfitting", (_on(gap.result(cfg.min_gain), side.name),), gap.to_dict())


def _sample(table: pa.Table, rows: int, seed: int) -> pa.Table:
    if table.num_rows <= rows:
        return table
    idx = np.sort(np.random.default_rng(seed).choice(table.num_rows, rows, replace=False))
    return table.take(pa.array(idx))


def _robustness(ctx: _Context) -> Section:
    from mlaudit.stats.validation import robustness

    cfg = ctx.suite.checks.robustness
    assert cfg is not None
    table = _sample(ctx.cur.table.select(ctx.features), cfg.max_rows, ctx.seed)
    rob = robustness(
        ctx.model.predict,
        table,
        features=ctx.features,
        numeric_noise=cfg.numeric_noise,
        categorical_flip=cfg.categorical_flip,
        n_repeats=cfg.n_repeats,
        task="regression" if ctx.task == "regression" else "classification",
        seed=ctx.seed,
    )
    return Section("robustness", (rob.result(cfg.max_change),), rob.to_dict() | {"rows": table.num_rows})


def _permutation_importance(ctx: _Context) -> Section:
    from mlaudit.stats.validation import permutation_importance

    cfg = ctx.suite.checks.permutation_importance
    assert cfg is not None
    side = ctx.labelled
    if side is None:
        return _skip("permutation_importance", "needs labels in the current or the reference data")
    assert side.y is not None
    metric = _metric_for(ctx, cfg.metric, "accuracy")
    n = min(side.table.num_rows, cfg.max_rows)
    idx = np.sort(np.random.default_rng(ctx.seed).choice(side.table.num_rows, n, replace=False))
    table = side.table.select(ctx.features).take(pa.array(idx))
    y = side.y[idx]

    def predict(t: pa.Table) -> np.ndarray:
        if ctx.task == "regression":
            return np.asarray(ctx.model.predict(t), dtype=float)
        return np.asarray(ctx.model.predict(t)).astype(str)

    y_m = y.astype(float) if ctx.task == "regression" else y.astype(str)
    imp = permutation_importance(predict, table, y_m, metric=metric, n_repeats=cfg.n_repeats, seed=ctx.seed)
    return Section("permutation_importance", (_on(imp.result(), side.name),), imp.to_dict())


def _leakage(ctx: _Context) -> Section:
    from mlaudit.stats.validation import leakage

    cfg = ctx.suite.checks.leakage
    assert cfg is not None
    side = ctx.train if ctx.train is not None and ctx.train.y is not None else ctx.labelled
    if side is None or side.y is None:
        return _skip("leakage", "needs labels")
    if ctx.task == "multiclass":
        return _skip("leakage", "single-feature leakage screening covers binary and regression targets")
    y = (
        side.y.astype(float)
        if ctx.task == "regression"
        else (side.y.astype(str) == str(ctx.classes[-1])).astype(int)
    )
    leak = leakage(
        side.table.select(ctx.features),
        y,
        threshold=cfg.threshold,
        task="regression" if ctx.task == "regression" else "binary",
        seed=ctx.seed,
    )
    return Section("leakage", (_on(leak.result(), side.name),), leak.to_dict())


def _weak_segments(ctx: _Context) -> Section:
    from mlaudit.stats.segments import weak_segments

    cfg = ctx.suite.checks.weak_segments
    assert cfg is not None
    side = ctx.labelled
    if side is None or side.y is None:
        return _skip("weak_segments", "needs labels in the current or the reference data")
    if ctx.task == "regression":
        return _skip("weak_segments", "the error tree here judges classification accuracy")
    # every column but the label: slices by metadata the model does not use (region, channel)
    # are often where it fails
    columns = [c for c in side.table.column_names if c != ctx.label_column]
    seg = weak_segments(
        side.table.select(columns),
        side.y.astype(str),
        side.pred.astype(str),
        metric="accuracy",
        max_depth=cfg.max_depth,
        min_size=cfg.min_size,
        alpha=cfg.alpha,
        seed=ctx.seed,
    )
    r = seg.result(cfg.max_gap)
    status: Status = cfg.severity if r.status == "fail" else r.status
    r = Result(r.check, status, r.value, r.threshold, r.details | {"data": side.name})
    return Section("weak_segments", (r,), seg.to_dict())


_CHECKS: dict[str, Callable[[_Context], Section]] = {
    "data_quality": _data_quality,
    "drift": _drift,
    "performance": _performance,
    "fairness": _fairness,
    "calibration": _calibration,
    "score_stability": _score_stability,
    "overfitting": _overfitting,
    "underfitting": _underfitting,
    "robustness": _robustness,
    "permutation_importance": _permutation_importance,
    "leakage": _leakage,
    "weak_segments": _weak_segments,
}
