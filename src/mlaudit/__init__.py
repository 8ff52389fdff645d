"""mlaudit: audit machine-learning models, with evidence that cannot be quietly rewritten."""

from __future__ import annotations

from mlaudit.errors import (
    InputError,
    IntegrityError,
    MLAuditError,
    NotFound,
    PermissionDenied,
    PolicyViolation,
)
from mlaudit.workspace import Workspace
from mlaudit.workspace import open_workspace as open

__version__ = "0.1.0"

__all__ = [
    "InputError",
    "IntegrityError",
    "MLAuditError",
    "NotFound",
    "PermissionDenied",
    "PolicyViolation",
    "Workspace",
    "__version__",
    "open",
]
