"""``Result``: the outcome of one check, the same shape wherever it appears.

``{"check": str, "status": "pass|warn|fail|error", "value": number|null,
"threshold": number|null, "details": {...}}``
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Result", "Status", "worst"]

Status = Literal["pass", "warn", "fail", "error"]
_ORDER: dict[str, int] = {"pass": 0, "warn": 1, "fail": 2, "error": 3}


@dataclass(frozen=True)
class Result:
    """One check's outcome. ``value`` and ``threshold`` are plain floats or ``None`` (never NaN)."""

    check: str
    status: Status
    value: float | None = None
    threshold: float | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.status not in _ORDER:
            raise ValueError(f"status must be one of {sorted(_ORDER)}, not {self.status!r}")
        for name in ("value", "threshold"):
            v = getattr(self, name)
            if v is not None:
                v = float(v)
                object.__setattr__(self, name, None if math.isnan(v) else v)

    @property
    def passed(self) -> bool:
        return self.status in ("pass", "warn")

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status,
            "value": self.value,
            "threshold": self.threshold,
            "details": self.details,
        }


def worst(statuses: list[Status] | tuple[Status, ...]) -> Status:
    """The most severe status of ``statuses`` (``pass`` for none)."""
    if not statuses:
        return "pass"
    return max(statuses, key=lambda s: _ORDER[s])
