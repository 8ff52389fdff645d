"""The errors mlaudit raises, and what each front door does with them.

::

    MLAuditError                      base of everything mlaudit raises      exit 2
    ├── InputError (+ ValueError)     bad file / column / row / option       exit 2, HTTP 422
    ├── NotFound (+ LookupError)      no such dataset, model, event, ...     exit 2, HTTP 404
    ├── IntegrityError                the ledger or a document does not verify  exit 3, HTTP 409
    ├── PermissionDenied              the actor may not do this              exit 4, HTTP 403
    └── PolicyViolation               a gate said no                         exit 1, HTTP 409

Errors carry the fields a person needs to find the problem (``path``, ``column``, ``row``,
``seq``) and their messages end with what to do next. The CLI maps them to exit codes in one
place (:func:`exit_code`); the server maps them to HTTP statuses in one handler.
Foreign errors (OSError, SQLAlchemy's, PyArrow's) are translated at the boundary with
``raise InputError(...) from exc`` so that callers only need to catch ``MLAuditError``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "InputError",
    "IntegrityError",
    "MLAuditError",
    "NotFound",
    "PermissionDenied",
    "PolicyViolation",
    "exit_code",
]


class MLAuditError(Exception):
    """Base class of every error mlaudit raises on purpose."""

    exit_code: int = 2
    http_status: int = 400

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        column: str | None = None,
        row: int | None = None,
        seq: int | None = None,
        hint: str | None = None,
    ) -> None:
        self.message = message
        self.path = path
        self.column = column
        self.row = row
        self.seq = seq
        self.hint = hint
        super().__init__(self._render())

    def _render(self) -> str:
        where = []
        if self.path is not None:
            where.append(f"file {self.path!r}")
        if self.column is not None:
            where.append(f"column {self.column!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.seq is not None:
            where.append(f"seq {self.seq}")
        text = self.message
        if where:
            text = f"{', '.join(where)}: {text}"
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def to_dict(self) -> dict[str, Any]:
        """The one JSON error shape used by ``--json`` output and the server."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self._render()}
        for key in ("path", "column", "row", "seq", "hint"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


class InputError(MLAuditError, ValueError):
    """Bad input: a file, column, row, URL or option that cannot be used as given."""

    exit_code = 2
    http_status = 422


class NotFound(MLAuditError, LookupError):
    """A named thing (dataset, model, event, artifact) does not exist."""

    exit_code = 2
    http_status = 404


class IntegrityError(MLAuditError):
    """Stored evidence does not verify: the ledger, a checkpoint or a signed document."""

    exit_code = 3
    http_status = 409


class PermissionDenied(MLAuditError, PermissionError):
    """The acting user may not perform this action."""

    exit_code = 4
    http_status = 403


class PolicyViolation(MLAuditError):
    """Checks ran and a gate refused: the CI/CD answer is 'no'."""

    exit_code = 1
    http_status = 409


def exit_code(error: BaseException) -> int:
    """The CLI exit code for ``error`` (2 for anything that is not an MLAuditError)."""
    if isinstance(error, MLAuditError):
        return error.exit_code
    return 2
