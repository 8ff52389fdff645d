"""JSON Schemas (draft 2020-12) of every report's ``--json`` document, one file per kind.

>>> schema("drift_report")["properties"]["kind"]
{'const': 'drift_report'}
>>> sorted(KINDS)[:2]
['audit_report', 'check_report']
"""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

from mlaudit.errors import InputError

__all__ = ["KINDS", "schema"]

KINDS = (
    "profile", "drift_report", "check_report", "fairness_report", "audit_report", "performance_report",
    "gate_report",
)  # fmt: skip
_ALIASES = {"mlaudit.profile": "profile"}


def schema(kind: str) -> dict[str, Any]:
    """The JSON Schema of report ``kind`` (a document's ``kind`` field, or a name in :data:`KINDS`)."""
    name = _ALIASES.get(kind, kind)
    if name not in KINDS:
        raise InputError(f"no schema for report kind {kind!r}", hint=f"kinds: {', '.join(KINDS)}")
    text = (resources.files(__name__) / f"{name}.schema.json").read_text(encoding="utf-8")
    loaded: dict[str, Any] = json.loads(text)
    return loaded
