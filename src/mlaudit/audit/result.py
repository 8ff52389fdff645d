"""``AuditReport``: every Result of one audit, grouped by check, with findings in plain words.

The JSON shape (``to_dict()``, ``mlaudit audit --json``) is versioned by ``schema_version``::

    {"kind": "audit_report", "schema_version": 1, "status": "pass|warn|fail|error",
     "passed": bool, "model": {...}, "suite": {...}, "task": "binary", "labels": "default",
     "sensitive": [...], "features": [...], "inputs": {"reference": {...}, "current": {...}},
     "counts": {"pass": n, "warn": n, "fail": n, "error": n, "skipped": n},
     "sections": [{"name": "drift", "title": ..., "status": ..., "results": [Result...],
                   "document": {...} | null, "skipped": null | "reason", "seconds": 0.1}],
     "findings": [{"check": ..., "status": "fail", "section": ..., "message": ...}],
     "started": ISO-8601, "seconds": float}

An audit *passes* when no Result failed or errored (warnings are reported, not blocking).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mlaudit.stats.result import Result, Status, worst

__all__ = ["SCHEMA_VERSION", "AuditReport", "Section", "describe"]

SCHEMA_VERSION = 1

TITLES = {
    "inputs": "Inputs and schema",
    "data_quality": "Data quality",
    "drift": "Feature drift",
    "performance": "Performance",
    "fairness": "Fairness",
    "calibration": "Calibration",
    "score_stability": "Score stability",
    "overfitting": "Overfitting",
    "underfitting": "Underfitting",
    "robustness": "Robustness",
    "permutation_importance": "Permutation importance",
    "leakage": "Target leakage",
    "weak_segments": "Weak segments",
}


@dataclass(frozen=True)
class Section:
    """One check of the suite: its Results, the full report it came from, or why it was skipped."""

    name: str
    results: tuple[Result, ...] = ()
    document: dict[str, Any] | None = None
    skipped: str | None = None
    seconds: float = 0.0

    @property
    def title(self) -> str:
        return TITLES.get(self.name, self.name.replace("_", " ").capitalize())

    @property
    def status(self) -> Status | None:
        """The worst status of the section's Results (``None`` when skipped)."""
        return (
            None if self.skipped is not None and not self.results else worst([r.status for r in self.results])
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "title": self.title,
            "status": self.status,
            "results": [r.to_dict() for r in self.results],
            "document": self.document,
            "skipped": self.skipped,
            "seconds": round(self.seconds, 3),
        }


@dataclass(frozen=True)
class AuditReport:
    """The outcome of :meth:`mlaudit.Workspace.audit` or :func:`mlaudit.audit.run_audit`."""

    model: dict[str, Any]
    suite: dict[str, Any]
    task: str
    labels: str | None
    sensitive: tuple[str, ...]
    features: tuple[str, ...]
    inputs: dict[str, Any]
    sections: tuple[Section, ...]
    started: str
    seconds: float
    notes: tuple[str, ...] = ()
    recorded: dict[str, Any] | None = field(default=None, compare=False)

    def results(self) -> list[Result]:
        return [r for s in self.sections for r in s.results]

    @property
    def status(self) -> Status:
        return worst([r.status for r in self.results()])

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "warn")

    def section(self, name: str) -> Section:
        for s in self.sections:
            if s.name == name:
                return s
        raise KeyError(name)

    def findings(self) -> list[dict[str, Any]]:
        """Every Result that did not pass, worst first, with a sentence saying what it means."""
        order = {"error": 0, "fail": 1, "warn": 2}
        found = [
            {"check": r.check, "status": r.status, "section": s.name, "message": describe(r)}
            for s in self.sections
            for r in s.results
            if r.status != "pass"
        ]
        return sorted(found, key=lambda f: order[f["status"]])

    def counts(self) -> dict[str, int]:
        out = {"pass": 0, "warn": 0, "fail": 0, "error": 0}
        for r in self.results():
            out[r.status] += 1
        out["skipped"] = sum(1 for s in self.sections if s.skipped is not None)
        return out

    def to_dict(self) -> dict[str, Any]:
        out = {
            "kind": "audit_report",
            "schema_version": SCHEMA_VERSION,
            "status": self.status,
            "passed": self.passed,
            "model": self.model,
            "suite": self.suite,
            "task": self.task,
            "labels": self.labels,
            "sensitive": list(self.sensitive),
            "features": list(self.features),
            "inputs": self.inputs,
            "counts": self.counts(),
            "sections": [s.to_dict() for s in self.sections],
            "findings": self.findings(),
            "notes": list(self.notes),
            "started": self.started,
            "seconds": round(self.seconds, 3),
        }
        if self.recorded is not None:
            out["recorded"] = self.recorded
        return out

    def _repr_html_(self) -> str:
        """The audit report in a notebook (an isolated iframe)."""
        from mlaudit.errors import InputError

        summary = "\n".join(f"{f['status']:5} {f['message']}" for f in self.findings()) or self.status
        try:
            from mlaudit.report.audit_report import render_audit

            return render_audit(self.to_dict())._repr_html_()
        except (ImportError, InputError) as exc:  # no plotly (the report extra): no page
            from html import escape

            return f"<pre>{escape(summary)}</pre><p>(no HTML report: {escape(str(exc))})</p>"


def _n(x: float | None, digits: int = 3) -> str:
    if x is None:
        return "n/a"
    return f"{x:.{digits}g}" if abs(x) >= 1e-3 or x == 0 else f"{x:.2e}"


def _ci(interval: Any) -> str:
    if isinstance(interval, (list, tuple)) and len(interval) == 2 and None not in interval:
        return f" (interval {_n(interval[0])}–{_n(interval[1])})"
    return ""


def describe(r: Result) -> str:
    """One sentence for a Result: what was measured, against what, and why it matters."""
    d = r.details
    name, _, rest = r.check.partition(":")
    if r.status == "error":
        return f"{r.check} could not be judged: {d.get('reason') or d.get('error') or 'see details'}"
    if name == "drift" and rest == "share":
        return (
            f"{d.get('drifted', 0)} of {d.get('compared', 0)} features drifted "
            f"({_n(r.value)} of them; limit {_n(r.threshold)})"
        )
    if name == "drift":
        effect = d.get("effect_name") or "effect"
        return (
            f"feature {rest!r} drifted: {d.get('test', 'test')} p={_n(d.get('p_adjusted'))}, "
            f"{effect} {_n(r.value)} > {_n(r.threshold)}"
        )
    if name in ("performance", "estimated"):
        lower = d.get("lower") if d.get("lower") is not None else d.get("lower_band")
        upper = d.get("upper") if d.get("upper") is not None else d.get("upper_band")
        what = "estimated " if name == "estimated" else ""
        if "reference" in d:
            return (
                f"{what}{d.get('metric', rest)} fell from {_n(d['reference'])} on the reference to "
                f"{_n(d.get('current'))}{_ci([lower, upper])}: a drop of {_n(r.value)} "
                f"(allowed {_n(r.threshold)})"
            )
        lower_is_better = d.get("higher_is_better") is False
        side = "above" if lower_is_better else "below"
        if r.status == "warn" and r.value is not None and r.threshold is not None:
            return (
                f"{what}{rest} is {_n(r.value)} and meets the limit {_n(r.threshold)}, but its interval"
                f"{_ci([lower, upper])[len(' (interval'):-1]} reaches {side} it"
            )
        return f"{what}{rest} is {_n(r.value)}{_ci([lower, upper])}, {side} the limit {_n(r.threshold)}"
    if name == "fairness":
        groups = d.get("extremes") or ""
        return f"{rest} is {_n(r.value)}{_ci(d.get('interval'))} against the limit {_n(r.threshold)}{groups}"
    if r.check == "validation:calibration":
        return (
            f"expected calibration error {_n(r.value)} exceeds {_n(r.threshold)}: "
            "the scores cannot be read as probabilities"
        )
    if r.check == "validation:score_stability":
        return (
            f"the score distribution moved: PSI {_n(r.value)} (warn above 0.1, fail above {_n(r.threshold)})"
        )
    if r.check == "validation:overfitting":
        return (
            f"{d.get('metric')} is {_n(d.get('train'))} on training data and {_n(d.get('holdout'))} on the "
            f"reference: a gap of {_n(r.value)}{_ci(d.get('interval'))} (limit {_n(r.threshold)})"
        )
    if r.check == "validation:underfitting":
        return (
            f"{d.get('metric')} {_n(d.get('model'))} is not better than a trivial baseline's "
            f"{_n(d.get('baseline'))}{_ci(d.get('interval'))}"
        )
    if r.check == "validation:robustness":
        return f"{_n(r.value)} of predictions change under small noise (limit {_n(r.threshold)})"
    if r.check == "validation:leakage":
        return (
            f"feature(s) {', '.join(d.get('suspects', []))} predict the label almost perfectly on their own"
        )
    if r.check == "validation:weak_segments":
        segs = d.get("segments") or []
        if segs:
            s = segs[0]
            return (
                f"weak segment {s['description']}: {d.get('metric')} {_n(s['metric_inside'])} vs "
                f"{_n(s['metric_outside'])} elsewhere ({s['size']} rows; {len(segs)} segment(s) in all)"
            )
    if name == "quality" or "offending" in d:
        return f"{r.check}: {d.get('offending', '?')} offending row(s) of {d.get('rows', '?')}"
    return f"{r.check}: value {_n(r.value)}, threshold {_n(r.threshold)}"
