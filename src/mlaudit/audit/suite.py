"""Audit suites: which checks an audit runs and the thresholds they are judged by.

A suite is a YAML file with a ``checks:`` mapping; a check that is absent is not run. Two ship
with mlaudit (``quick`` and ``full``, in ``audit/suites/``); ``load_suite("path/to/mine.yaml")``
reads your own. Every key is validated: a typo names the key and the file rather than being
ignored. The built-in files are the documentation of every option.

>>> suite = load_suite("quick")
>>> suite.name, sorted(suite.enabled())[:3]
('quick', ['calibration', 'drift', 'fairness'])
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from mlaudit.errors import InputError

__all__ = ["BUILTIN_SUITES", "Suite", "load_suite"]

BUILTIN_SUITES = ("quick", "full")


class _Check(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DataQualityCheck(_Check):
    rules: str = "suggest"  # "suggest" or a rules file (relative to the suite file)


class DriftCheck(_Check):
    severity: Literal["warn", "fail"] = "warn"
    max_share: float = Field(0.5, ge=0, le=1)
    alpha: float = Field(0.05, gt=0, lt=1)
    threshold: float | None = Field(None, ge=0)  # effect threshold for every feature


class PerformanceCheck(_Check):
    min: dict[str, float] = Field(default_factory=dict)
    max_drop: dict[str, float] = Field(default_factory=dict)
    n_boot: int = Field(200, ge=0, le=10_000)

    @field_validator("min", "max_drop")
    @classmethod
    def _known(cls, value: dict[str, float]) -> dict[str, float]:
        from mlaudit.stats.performance import METRICS

        unknown = sorted(set(value) - set(METRICS))
        if unknown:
            raise ValueError(f"unknown metric(s) {unknown}; choose from {sorted(METRICS)}")
        return value


class FairnessCheck(_Check):
    thresholds: dict[str, float] = Field(default_factory=dict)
    min_group_size: int = Field(30, ge=1)
    n_bootstrap: int = Field(200, ge=0, le=10_000)


class CalibrationCheck(_Check):
    max_ece: float = Field(0.05, ge=0, le=1)
    n_bins: int = Field(10, ge=2, le=100)


class ScoreStabilityCheck(_Check):
    warn_psi: float = Field(0.1, ge=0)
    max_psi: float = Field(0.25, ge=0)


class OverfittingCheck(_Check):
    max_gap: float = Field(0.05, ge=0)
    metric: str | None = None  # default: roc_auc for classifiers, r2 for regression


class UnderfittingCheck(_Check):
    min_gain: float = 0.0
    metric: str | None = None  # default: accuracy for classifiers, r2 for regression


class RobustnessCheck(_Check):
    max_change: float = Field(0.05, ge=0)
    numeric_noise: float = Field(0.01, ge=0)
    categorical_flip: float = Field(0.05, ge=0, le=1)
    n_repeats: int = Field(3, ge=1, le=50)
    max_rows: int = Field(5_000, ge=100)  # sampled rows: each repeat re-scores them


class PermutationImportanceCheck(_Check):
    n_repeats: int = Field(3, ge=1, le=50)
    metric: str | None = None
    max_rows: int = Field(5_000, ge=100)  # sampled rows: each repeat re-scores them


class LeakageCheck(_Check):
    threshold: float = Field(0.98, gt=0, le=1)


class WeakSegmentsCheck(_Check):
    severity: Literal["warn", "fail"] = "warn"  # a significantly weak slice is a finding to review
    max_gap: float = Field(0.1, ge=0)
    max_depth: int = Field(2, ge=1, le=5)
    min_size: float = Field(50, gt=0)
    alpha: float = Field(0.05, gt=0, lt=1)


class Checks(_Check):
    data_quality: DataQualityCheck | None = None
    drift: DriftCheck | None = None
    performance: PerformanceCheck | None = None
    fairness: FairnessCheck | None = None
    calibration: CalibrationCheck | None = None
    score_stability: ScoreStabilityCheck | None = None
    overfitting: OverfittingCheck | None = None
    underfitting: UnderfittingCheck | None = None
    robustness: RobustnessCheck | None = None
    permutation_importance: PermutationImportanceCheck | None = None
    leakage: LeakageCheck | None = None
    weak_segments: WeakSegmentsCheck | None = None


class Suite(_Check):
    """A parsed suite. ``source`` is where it came from (``builtin:quick`` or a path)."""

    name: str
    description: str = ""
    checks: Checks
    source: str = ""

    def enabled(self) -> list[str]:
        """Names of the checks this suite runs, in the order an audit runs them."""
        return [name for name in Checks.model_fields if getattr(self.checks, name) is not None]

    def to_dict(self) -> dict[str, Any]:
        return self.model_dump(exclude_none=True)


def load_suite(name_or_path: str | Path) -> Suite:
    """A built-in suite by name (``quick``, ``full``) or a suite YAML file."""
    text_name = str(name_or_path)
    if text_name in BUILTIN_SUITES:
        text = resources.files("mlaudit.audit").joinpath(f"suites/{text_name}.yaml").read_text("utf-8")
        return _parse(text, f"builtin:{text_name}", None)
    path = Path(name_or_path)
    if not path.exists():
        raise InputError(
            f"no suite {text_name!r}",
            path=str(path),
            hint=f"use one of {', '.join(BUILTIN_SUITES)} or a YAML file",
        )
    try:
        text = path.read_text("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the suite: {exc}", path=str(path)) from None
    return _parse(text, str(path), path.parent)


def _parse(text: str, source: str, base: Path | None) -> Suite:
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise InputError(f"not valid YAML: {exc}", path=source) from None
    if not isinstance(data, dict):
        raise InputError("a suite must be a mapping with 'name' and 'checks'", path=source)
    data.setdefault("name", Path(source).stem)
    for key, value in list((data.get("checks") or {}).items()):
        if value is None:  # `drift:` with no options means "run it with the defaults"
            data["checks"][key] = {}
    try:
        suite = Suite.model_validate({**data, "source": source})
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"invalid suite: {where}: {first['msg']}", path=source) from None
    dq = suite.checks.data_quality
    if dq is not None and dq.rules != "suggest" and base is not None and not Path(dq.rules).is_absolute():
        checks = suite.checks.model_copy(
            update={"data_quality": DataQualityCheck(rules=str(base / dq.rules))}
        )
        suite = suite.model_copy(update={"checks": checks})
    return suite
